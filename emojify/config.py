"""Kiosk settings from command-line flags and an optional TOML file.

Precedence, lowest first: the built-in defaults of :class:`Settings`, then ``--config FILE``,
then flags given explicitly on the command line (every ``run`` flag defaults to None, so an
absent flag never hides a value from the file). Every value is checked here, once; a bad one
raises :class:`ConfigError` with one line naming where it came from, the key and the fix, e.g.::

    kiosk.toml: 'region' must be a number between 0.1 and 1 (got "big")

A config file uses the flag names as keys (``emoji_dir`` or ``emoji-dir``)::

    source = 0                      # camera index, /dev/videoN, video, image or folder
    region = 0.6
    save_dir = "/home/pi/snapshots" # relative paths are relative to this file
    kiosk = true
    exit_keys = "Control-Shift-q"
    camera_size = "640x480"
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from emojify import smoothing

REGION_RANGE = (0.1, 1.0)
SNAPSHOT_RANGE = (1.0, 60.0)
ATTRACT_RANGE = (0.0, 3600.0)
ROTATIONS = (0, 90, 180, 270)
CAMERA_SIZE_RANGE = (16, 8192)
TK_MODIFIERS = frozenset({"Control", "Shift", "Alt", "Meta", "Lock",
                          "Mod1", "Mod2", "Mod3", "Mod4", "Mod5"})
"""Modifier words allowed in ``exit_keys`` (Tk's event modifiers for keys)."""
TK_KEY_NAMES = frozenset({"Escape", "Return", "space", "Tab", "BackSpace", "Delete", "Insert", "Home",
                          "End", "Prior", "Next", "Pause", "Print", "Scroll_Lock", "Up", "Down", "Left",
                          "Right", "minus", "equal", "plus", "comma", "period", "slash", "backslash",
                          "semicolon", "apostrophe", "grave", "bracketleft", "bracketright"})
"""Named keysyms allowed as the key of ``exit_keys``, besides letters, digits and F1..F35."""
_FUNCTION_KEY = re.compile(r"F([1-9]|[12][0-9]|3[0-5])")
_CAMERA_SIZE = re.compile(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*")

FILE_KEYS = ("source", "region", "emoji_dir", "save_dir", "kiosk", "exit_keys", "smoothing",
             "camera_size", "snapshot_seconds", "model", "debug", "attract_after", "challenge", "large_text",
             "rotate")
"""Keys a config file may hold (``-`` may be written for ``_``)."""


class ConfigError(ValueError):
    """A bad setting: one line naming the file or flag, the key and how to fix it."""


@dataclass
class Settings:
    """Everything ``emojify run`` needs; the defaults are what plain ``emojify`` does."""

    source: str = "0"
    """Camera index, ``/dev/videoN``, a video, an image or a folder of images."""
    region: float = 0.6
    """Capture region: this fraction of the frame's width and height, centred (0.1..1)."""
    emoji_dir: Path | None = None
    """Custom emoji folder; None uses the shipped set."""
    save_dir: Path | None = None
    """Where snapshots are saved; None never writes anything to disk (privacy by default)."""
    kiosk: bool = False
    """Fullscreen, no cursor, ignores Escape and the close button; exit only with ``exit_keys``."""
    exit_keys: str = "Control-Shift-q"
    """Tk key sequence (without angle brackets) that quits, also in kiosk mode."""
    smoothing: float = smoothing.ALPHA
    """Weight of the newest frame in the probability average (0 < x <= 1; 1 = no smoothing)."""
    camera_width: int = 640
    camera_height: int = 480
    snapshot_seconds: float = 4.0
    """How long a snapshot stays on screen before the kiosk goes back to live."""
    model: Path | None = None
    """Custom int8 .tflite model; None uses the shipped one."""
    attract_after: float = 20.0
    """Seconds without a face before the attract screen (0: never)."""
    challenge: bool = False
    """The challenge game: the button starts a round of five faces to match."""
    large_text: bool = False
    """All texts larger."""
    rotate: int = 0
    """Degrees clockwise to turn the whole picture, for a screen mounted turned (0, 90, 180, 270)."""
    self_test: bool = False
    debug: bool = False
    state_file: Path | None = None
    """Testing aid: write the window's state as JSON here once a second."""


# --- command line --------------------------------------------------------------------------

def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``emojify run`` flags. All default to None so a config file can fill them."""
    parser.add_argument("--source", metavar="SRC",
                        help="camera index (0, 1, ...) or /dev/videoN, a video file, an image, or a folder "
                             "of images played as a stream (default: 0)")
    parser.add_argument("--region", metavar="FRACTION",
                        help="size of the centred capture region as a fraction of the picture, 0.1-1; "
                             "faces outside it are ignored (default: 0.6)")
    parser.add_argument("--emoji-dir", metavar="DIR",
                        help="folder with your own emoji images, one per expression (default: the shipped set)")
    parser.add_argument("--save-dir", metavar="DIR",
                        help="save each snapshot (photo + emoji) as a PNG here; without it nothing is "
                             "ever written to disk")
    parser.add_argument("--kiosk", action=argparse.BooleanOptionalAction, default=None,
                        help="fullscreen kiosk: no window frame or cursor, Escape and the close button are "
                             "ignored; quit with the exit keys (default: a normal window)")
    parser.add_argument("--exit-keys", metavar="KEYS",
                        help="key combination that quits, in Tk notation without <> "
                             "(default: Control-Shift-q)")
    parser.add_argument("--smoothing", metavar="ALPHA",
                        help=f"how fast the emoji follows the face, 0-1: weight of the newest frame "
                             f"(1 = no smoothing; default: {smoothing.ALPHA})")
    parser.add_argument("--camera-size", metavar="WxH",
                        help="resolution asked of the camera (default: 640x480)")
    parser.add_argument("--snapshot-seconds", metavar="SECONDS",
                        help="how long a snapshot stays on screen, 1-60 (default: 4)")
    parser.add_argument("--model", metavar="FILE", help="int8 .tflite model (default: the shipped model/)")
    parser.add_argument("--attract-after", metavar="SECONDS",
                        help="show the attract screen (cycling emoji, what to do, what the kiosk keeps) after "
                             "this many seconds without a face; 0 never (default: 20)")
    parser.add_argument("--challenge", action=argparse.BooleanOptionalAction, default=None,
                        help="the challenge game: the button (Space, Enter, touch, GPIO) starts a round of five "
                             "faces to match in time, with a score (default: the snapshot button)")
    parser.add_argument("--large-text", action=argparse.BooleanOptionalAction, default=None,
                        help="draw every text larger (default: normal size)")
    parser.add_argument("--rotate", metavar="DEGREES",
                        help="turn the whole picture clockwise by 90, 180 or 270 degrees, for a screen mounted "
                             "turned when the system does not rotate it (default: 0)")
    parser.add_argument("--config", metavar="FILE",
                        help="TOML file with any of these settings (keys as the flags: source, region, "
                             "save_dir, kiosk, ...); flags given here override it")
    parser.add_argument("--self-test", action="store_true", default=None,
                        help="check the model, emoji and face detector on the built-in sample face and "
                             "exit (no screen or camera needed)")
    parser.add_argument("--state-file", metavar="FILE",
                        help="for testing: write the window's state (frames shown, label, message, "
                             "last snapshot) as JSON to FILE once a second")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Built-in defaults, then ``args.config``, then the flags in ``args``; all validated."""
    values: dict[str, tuple[Any, str]] = {}  # key -> (raw value, origin for messages)
    config = getattr(args, "config", None)
    if config:
        path = Path(config).expanduser()
        for key, value in load_config(path).items():
            values[key] = (value, _file_origin(path, key))
    for key in FILE_KEYS + ("self_test", "state_file"):
        value = getattr(args, key, None)
        if value is None or (key == "debug" and value is False):  # --debug is a plain store_true
            continue
        values[key] = (value, f"--{key.replace('_', '-')}")

    settings = Settings()
    for key, (value, origin) in values.items():
        _apply(settings, key, value, origin)
    return settings


# --- config file ---------------------------------------------------------------------------

def load_config(path: Path) -> dict[str, Any]:
    """Read a TOML config file; keys normalised to ``snake_case``, paths made absolute.

    Raises :class:`ConfigError` for a missing, unreadable or invalid file and for unknown keys.
    """
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; check the --config path") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the line it names") from None
    result: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key not in FILE_KEYS:
            raise ConfigError(f"{path}: unknown key {raw_key!r}; valid keys are: {', '.join(FILE_KEYS)}")
        if key in ("emoji_dir", "save_dir", "model") and isinstance(value, str) and value.strip():
            value = str((path.parent / Path(value).expanduser()).resolve())
        if key == "source" and isinstance(value, str) and _looks_relative_path(value, path.parent):
            value = str(path.parent / value)
        result[key] = value
    return result


def _file_origin(path: Path, key: str) -> str:
    """How a value from a config file is named in messages: ``kiosk.toml: 'region'``."""
    return f"{path}: {key!r}"


def _looks_relative_path(value: str, base: Path) -> bool:
    """True if a ``source`` string names an existing path relative to the config file's folder."""
    text = value.strip()
    return bool(text) and not text.isdigit() and not Path(text).expanduser().is_absolute() \
        and not text.startswith("/dev/") and (base / text).exists()


# --- validation ----------------------------------------------------------------------------

def _apply(settings: Settings, key: str, value: Any, origin: str) -> None:
    """Check one raw value and store it on ``settings``; ``origin`` starts any error message."""
    if key == "source":
        settings.source = _source(value, origin)
    elif key == "region":
        settings.region = _number(value, origin, *REGION_RANGE)
    elif key in ("emoji_dir", "save_dir", "model", "state_file"):
        setattr(settings, key, _path(value, origin))
    elif key in ("kiosk", "debug", "self_test", "challenge", "large_text"):
        setattr(settings, key, _boolean(value, origin))
    elif key == "exit_keys":
        settings.exit_keys = _exit_keys(value, origin)
    elif key == "smoothing":
        settings.smoothing = _number(value, origin, 0.0, 1.0, low_open=True)
    elif key == "camera_size":
        settings.camera_width, settings.camera_height = _camera_size(value, origin)
    elif key == "snapshot_seconds":
        settings.snapshot_seconds = _number(value, origin, *SNAPSHOT_RANGE)
    elif key == "attract_after":
        settings.attract_after = _number(value, origin, *ATTRACT_RANGE)
    elif key == "rotate":
        settings.rotate = _rotation(value, origin)
    else:  # pragma: no cover - FILE_KEYS and this function are kept in step
        raise ConfigError(f"{origin}: unknown setting")
    if key == "save_dir" and settings.save_dir is not None and settings.save_dir.exists() \
            and not settings.save_dir.is_dir():
        raise ConfigError(f"{origin} must be a folder, but {settings.save_dir} is a file; choose a folder")


def _shown(value: Any) -> str:
    """A raw value as it appears in messages: strings in double quotes."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _number(value: Any, origin: str, low: float, high: float, low_open: bool = False) -> float:
    """A float in [low, high] (or (low, high] when ``low_open``), from a number or numeric string."""
    lower = f"above {low:g}" if low_open else f"between {low:g}"
    what = f"a number {lower} and {'at most ' if low_open else ''}{high:g}"
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number > high or number < low \
            or (low_open and number == low):
        raise ConfigError(f"{origin} must be {what} (got {_shown(value)})")
    return number


def _rotation(value: Any, origin: str) -> int:
    """One of :data:`ROTATIONS`, from an int or a numeric string."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not (text.isdigit() and int(text) in ROTATIONS):
        raise ConfigError(f"{origin} must be 0, 90, 180 or 270 degrees (got {_shown(value)})")
    return int(text)


def _boolean(value: Any, origin: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{origin} must be true or false (got {_shown(value)})")


def _path(value: Any, origin: str) -> Path:
    if isinstance(value, Path):
        return value.expanduser()
    if isinstance(value, str) and value.strip():
        return Path(value).expanduser()
    raise ConfigError(f"{origin} must be a file or folder path (got {_shown(value)})")


def _source(value: Any, origin: str) -> str:
    """A source as text (an int camera index becomes ``"0"``); checked with ``parse_source``."""
    from emojify.sources import SourceError, parse_source

    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        text = str(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
    else:
        raise ConfigError(f"{origin} must be a camera index, a video, an image or a folder "
                          f"(got {_shown(value)})")
    try:
        parse_source(text)
    except SourceError as exc:
        raise ConfigError(f"{origin} must be a camera index (0, 1, ...), a video, an image or a folder "
                          f"of images ({exc})") from None
    return text


def _camera_size(value: Any, origin: str) -> tuple[int, int]:
    """``"WxH"`` (or a ``[W, H]`` list in TOML) as two ints in :data:`CAMERA_SIZE_RANGE`."""
    low, high = CAMERA_SIZE_RANGE
    size: tuple[int, int] | None = None
    if isinstance(value, str):
        match = _CAMERA_SIZE.fullmatch(value)
        if match:
            size = int(match.group(1)), int(match.group(2))
    elif isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        size = value[0], value[1]
    if size is None or not all(low <= v <= high for v in size):
        raise ConfigError(f"{origin} must be WIDTHxHEIGHT in pixels, each {low}-{high}, e.g. 640x480 "
                          f"(got {_shown(value)})")
    return size


def _exit_keys(value: Any, origin: str) -> str:
    """A Tk key sequence like ``Control-Shift-q``: modifiers, then one key; angle brackets dropped."""
    fix = ("must be a key combination in Tk notation such as Control-Shift-q or Control-Alt-F12 "
           f"(modifiers: {', '.join(sorted(TK_MODIFIERS))})")
    if not isinstance(value, str):
        raise ConfigError(f"{origin} {fix} (got {_shown(value)})")
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    parts = text.split("-")
    *modifiers, key = parts
    if key == "" and len(parts) >= 2 and parts[-2] == "":  # "Control--" means the minus key
        modifiers, key = parts[:-2], "minus"
    good_key = (len(key) == 1 and key.isascii() and key.isalnum()) or key in TK_KEY_NAMES \
        or bool(_FUNCTION_KEY.fullmatch(key))
    if not good_key or not all(m in TK_MODIFIERS for m in modifiers) or len(set(modifiers)) != len(modifiers):
        raise ConfigError(f"{origin} {fix} (got {_shown(value)})")
    return "-".join([*modifiers, key])
