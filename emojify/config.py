"""Kiosk settings: one table, :data:`SETTINGS`, from which the flags, the file keys and the checks come.

Each :class:`Setting` is one ``emojify run`` setting: its name (the field of :class:`Settings`,
the config-file key, and the flag ``--name-with-dashes``), its type, default, help and check.
Precedence, lowest first: the defaults, then ``--config FILE``, then flags given on the command
line (every flag defaults to None, so an absent flag never hides a value from the file). Every
value is checked once, by its entry's check; a bad one raises :class:`ConfigError` with one line
naming where it came from, the key and the fix, e.g.
``kiosk.toml: 'region' must be a number between 0.1 and 1 (got "big")``.

A config file uses the flag names as keys (``emoji_dir`` or ``emoji-dir``); relative paths in it
are relative to the file::

    source = 0                      # camera index, /dev/videoN, picamera[:N], video, image or folder
    region = 0.6
    save_dir = "/home/pi/snapshots"
    kiosk = true
    exit_keys = "Control-Shift-q"
    camera_size = "640x480"
    button_pin = 17                 # BCM number of a snapshot button to GND (Raspberry Pi)
    led_pin = 27                    # BCM number of a lamp lit during the snapshot countdown

To add a setting, add one :class:`Setting` to :data:`SETTINGS`: the flag, the file key, the check,
the ``--help`` line and the field of :class:`Settings` all follow from it.
"""

from __future__ import annotations

import argparse
import codecs
import functools
import math
import os
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, from PyPI, before it joined the standard library
    import tomli as tomllib

from emojify import smoothing, texts
from emojify.detectors import REGION_RANGE, Detector
from emojify.errors import EmojifyError, reason_of
from emojify.fileio import read_capped
from emojify.imageio import DEFAULT_FOLDER_FPS

if TYPE_CHECKING:  # imported when a source is checked: the sources need OpenCV, which the CLI imports with care
    from emojify.sources import SourceSpec

TK_MODIFIERS = frozenset({"Control", "Shift", "Alt", "Meta", "Lock",
                          "Mod1", "Mod2", "Mod3", "Mod4", "Mod5"})
"""Modifier words allowed in ``exit_keys`` (Tk's event modifiers for keys)."""
TK_KEY_NAMES = frozenset({"Escape", "Return", "space", "Tab", "BackSpace", "Delete", "Insert", "Home",
                          "End", "Prior", "Next", "Pause", "Print", "Scroll_Lock", "Up", "Down", "Left",
                          "Right", "minus", "equal", "plus", "comma", "period", "slash", "backslash",
                          "semicolon", "apostrophe", "grave", "bracketleft", "bracketright"})
"""Named keysyms allowed as the key of ``exit_keys``, besides letters, digits and F1..F35."""
SHIFTED_AWAY = frozenset("0123456789") | {"minus", "equal", "comma", "period", "slash", "backslash", "semicolon",
                                          "apostrophe", "grave", "bracketleft", "bracketright", "Tab"}
"""Keys that Shift turns into another key (Shift-1 reaches the window as ``exclam``, Shift-Tab as
``ISO_Left_Tab``): with Shift, an exit combination of them could never be pressed."""
_FUNCTION_KEY = re.compile(r"F([1-9]|[12][0-9]|3[0-5])")
_CAMERA_SIZE = re.compile(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*")


class ConfigError(EmojifyError):
    """A bad setting: one line naming the file or flag, the key and how to fix it."""


@dataclass(frozen=True)
class Origin:
    """Where a raw value came from: ``text`` starts its error messages (``--region`` or
    ``kiosk.toml: 'region'``); ``folder`` is the config file's folder, which relative paths in
    the file are relative to (None for flags: relative to the working directory)."""

    text: str
    folder: Path | None = None

    def __str__(self) -> str:
        return self.text


Check = Callable[[Any, Origin], Any]
"""Turns a raw value (a flag's text, or a TOML value) into the setting's value, or raises ConfigError."""


# --- checks: each takes the raw value and its origin, returns the value or raises ConfigError -----

def _shown(value: Any) -> str:
    """A raw value as it appears in messages: strings in double quotes."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _parsed_number(value: Any, parse: Callable[[str], Any]) -> Any:
    """``value`` as a number if it is one (not a bool) or a string ``parse`` accepts, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return parse(value)
        except ValueError:
            return None
    return None


def number(low: float, high: float, low_open: bool = False) -> Check:
    """Check for a float in [low, high] (or (low, high] when ``low_open``)."""
    lower = f"above {low:g}" if low_open else f"between {low:g}"
    what = f"a number {lower} and {'at most ' if low_open else ''}{high:g}"

    def check(value: Any, origin: Origin) -> float:
        parsed = _parsed_number(value, float)
        result = None if parsed is None else float(parsed)
        if result is None or not math.isfinite(result) or result > high or result < low \
                or (low_open and result == low):
            raise ConfigError(f"{origin} must be {what} (got {_shown(value)})")
        return result
    return check


def one_of(*choices: Any) -> Check:
    """Check for one of ``choices``: strings (``"haar"``) or numbers (``90``, also as the text ``"90"``)."""
    def check(value: Any, origin: Origin) -> Any:
        for choice in choices:
            if (value == choice and type(value) is type(choice)) or (isinstance(value, str) and value == str(choice)):
                return choice
        raise ConfigError(f"{origin} must be one of {', '.join(map(str, choices))} (got {_shown(value)})")
    return check


def boolean(value: Any, origin: Origin) -> bool:
    """Check for true or false (flags give a bool already: ``--kiosk`` / ``--no-kiosk``)."""
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{origin} must be true or false (got {_shown(value)})")


def _unusable_path(origin: Origin, exc: Exception) -> ConfigError:
    """The error for a path the system refuses: too long, a NUL byte, ``~user`` of no such user, a loop
    of symbolic links."""
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror
    elif isinstance(exc, RuntimeError):  # Python 3.11-3.12 raise it for both; 3.13 an OSError for a loop
        reason = "a loop of symbolic links" if "loop" in str(exc).lower() else "no such user for ~"
    else:
        reason = str(exc)
    return ConfigError(f"{origin} must be a usable file or folder path ({reason}); choose another")


def path(value: Any, origin: Origin) -> Path:
    """Check for a non-empty path the system accepts (it need not exist yet); ``~`` expanded, relative
    to the config file's folder if from one."""
    if isinstance(value, str) and value.strip():
        try:
            result = Path(value).expanduser()
            result = (origin.folder / result).resolve() if origin.folder else result
            os.stat(result)  # a name too long or with a NUL byte fails here, not later in the kiosk
        except (FileNotFoundError, NotADirectoryError):
            pass  # it need not exist yet
        except (OSError, RuntimeError, ValueError) as exc:
            raise _unusable_path(origin, exc) from None
        return result
    raise ConfigError(f"{origin} must be a file or folder path (got {_shown(value)})")


def folder(value: Any, origin: Origin) -> Path:
    """Like :func:`path`, and neither an existing file nor below one (the folder itself, and its
    parents, may not exist yet: they are made when first needed)."""
    result = path(value, origin)
    for place in (result, *result.parents):  # the nearest one that exists must be a folder
        if place.exists():
            if not place.is_dir():
                raise ConfigError(f"{origin} must be a folder, but {place} is a file; choose a folder")
            break
    return result


def source(value: Any, origin: Origin) -> SourceSpec:
    """A source parsed by ``parse_source`` (an int is a camera index); a relative path in a config
    file is relative to the file's folder."""
    from emojify.sources import SourceError, parse_source
    from emojify.sources.spec import names_a_camera

    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        text = str(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
    else:
        raise ConfigError(f"{origin} must be a camera index, a video, an image or a folder "
                          f"(got {_shown(value)})")
    try:
        if origin.folder and not names_a_camera(text) and not Path(text).expanduser().is_absolute():
            text = str(origin.folder / text)  # a config file means a relative path from its own folder
        return parse_source(text)
    except SourceError as exc:
        raise ConfigError(f"{origin} must be a camera index (0, 1, ...), picamera, a video, an image or a "
                          f"folder of images ({exc})") from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise _unusable_path(origin, exc) from None


GPIO_PIN_RANGE = (0, 27)
"""BCM numbers of the GPIO pins on a Raspberry Pi's 40-pin header."""


def gpio_pin(value: Any, origin: Origin) -> int:
    """A BCM GPIO number in :data:`GPIO_PIN_RANGE`, from an int or a string of digits."""
    low, high = GPIO_PIN_RANGE
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
        raise ConfigError(f"{origin} must be a GPIO pin number (BCM numbering, {low}-{high}), e.g. 17 "
                          f"(got {_shown(value)})")
    return int(text)


CAMERA_SIZE_RANGE = (16, 8192)
FOLDER_FPS_RANGE = (0.05, 60.0)
"""Pictures a second an image or a folder may be played at: one every 20 s up to a camera's rate."""


def camera_size(value: Any, origin: Origin) -> tuple[int, int]:
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


def exit_keys(value: Any, origin: Origin) -> str:
    """A Tk key sequence like ``Control-Shift-q``: modifiers, then one key; angle brackets dropped."""
    fix = ("must be a key combination in Tk notation such as Control-Shift-q or Control-F12 "
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
    if not set(modifiers) - {"Shift", "Lock", "Mod2"}:  # Lock is Caps Lock, Mod2 Num Lock on X's usual keymaps
        raise ConfigError(f"{origin} must hold Control, Alt or another modifier besides Shift, Lock and Mod2 (got "
                          f"{_shown(value)}: a visitor typing, or taking a snapshot with space or Return, could quit "
                          "the kiosk)")
    alt = {"Alt", "Mod1"} & set(modifiers)  # Mod1 is Alt on X's usual keymaps
    if "Control" in modifiers and alt and _FUNCTION_KEY.fullmatch(key) and int(key[1:]) <= 12:
        raise ConfigError(f"{origin} must not combine Control and {alt.pop()} with {key}: the system takes them to "
                          f"switch to a text console (so {_shown(value)} could never quit); use Control-{key}")
    if "Shift" in modifiers and key in SHIFTED_AWAY:
        raise ConfigError(f"{origin} must not combine Shift with {key}, which Shift turns into another key "
                          f"(so {_shown(value)} could never quit); leave Shift out or use a letter or F1..F35")
    return "-".join([*modifiers, key])


# --- the table -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """One ``emojify run`` setting: field ``name`` of :class:`Settings`, config-file key ``name``,
    flag ``--name-with-dashes``.

    ``check`` turns a raw value into the field's value (``bool`` settings get ``--x/--no-x``
    flags and :func:`boolean`; ``choices`` get :func:`one_of`). ``help`` ends with "(default:
    ...)" made from ``default``, or from ``shown`` when given ("" for none). ``in_file=False``
    keeps the key out of config files. For example::

        Setting("detector", str, "blazeface", "face detector", choices=("blazeface", "haar"))
        Setting("button_pin", int | None, None, "GPIO pin of a snapshot button", gpio_pin,
                metavar="N", shown="no button")
        Setting("large_text", bool, False, "bigger captions for a screen seen from afar")
    """

    name: str
    type: Any
    default: Any
    help: str
    check: Check | None = None
    metavar: str | None = None
    choices: tuple[Any, ...] = ()
    shown: str | None = None
    in_file: bool = True
    raw_default: bool = False
    """``default`` is text that ``check`` turns into the value when a :class:`Settings` is made."""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_switch(self) -> bool:
        """True for on/off settings: ``--x`` / ``--no-x`` on the command line, true/false in a file."""
        return self.type is bool

    def parse(self, value: Any, origin: Origin) -> Any:
        """The checked value of ``value``; raises :class:`ConfigError` naming ``origin``."""
        if self.check is not None:
            return self.check(value, origin)
        if self.choices:
            return one_of(*self.choices)(value, origin)
        if self.is_switch:
            return boolean(value, origin)
        raise TypeError(f"setting {self.name!r} has no check")  # a mistake in SETTINGS, not the user's

    @property
    def flag_help(self) -> str:
        return f"{self.help} (default: {self.shown_default})" if self.shown_default else self.help

    @property
    def shown_default(self) -> str:
        """The default as ``--help`` says it: ``shown`` if given, else on/off, nothing for None, or the value."""
        if self.shown is not None:
            return self.shown
        if self.is_switch:
            return "on" if self.default else "off"
        return "" if self.default is None else str(self.default)


SETTINGS: tuple[Setting, ...] = (
    Setting("source", "SourceSpec", "0", "camera index (0, 1, ...) or /dev/videoN, picamera or picamera:N (a Raspberry "
            "Pi camera module), a video file, an image, or a folder of images played as a stream in name "
            "order (photo 2 before photo 10; pictures added while it plays join the next round)", source,
            metavar="SRC", raw_default=True),
    Setting("region", float, 0.6, "size of the centred capture region as a fraction of the picture, 0.1-1; "
            "faces outside it are ignored", number(*REGION_RANGE), metavar="FRACTION"),
    Setting("emoji_dir", Path | None, None, "folder with your own emoji images, one per expression", path,
            metavar="DIR", shown="the shipped set"),
    Setting("save_dir", Path | None, None, "save each snapshot (photo + emoji) as a PNG here, with --emoji generated each "
            "face's sticker beside it; without it nothing is ever written to disk", folder, metavar="DIR", shown=""),
    Setting("kiosk", bool, False, "fullscreen kiosk: no window frame or cursor, Escape and the close button "
            "are ignored; quit with the exit keys", shown="a normal window"),
    Setting("exit_keys", str, "Control-Shift-q", "key combination that quits, also in kiosk mode, in Tk "
            "notation without <>, with Control, Alt or another modifier besides Shift, Lock and Mod2", exit_keys, metavar="KEYS"),
    Setting("smoothing", float, smoothing.ALPHA, "how fast the emoji follows the face: the weight of the "
            "newest frame, above 0 and at most 1, where 1 means no smoothing", number(0.0, 1.0, low_open=True),
            metavar="ALPHA"),
    Setting("camera_size", tuple[int, int], (640, 480), "resolution asked of the camera", camera_size,
            metavar="WxH", shown="640x480"),
    Setting("folder_fps", float, DEFAULT_FOLDER_FPS, "pictures a second when the source is an image or a folder "
            f"of images, {FOLDER_FPS_RANGE[0]:g}-{FOLDER_FPS_RANGE[1]:g}; 0.2 shows each picture for 5 s",
            number(*FOLDER_FPS_RANGE), metavar="FPS"),
    Setting("snapshot_seconds", float, 4.0, "how long a snapshot stays on screen, 1-60", number(1.0, 60.0),
            metavar="SECONDS", shown="4"),
    Setting("model", Path | None, None, "int8 .tflite model", path, metavar="FILE",
            shown="the shipped model/"),
    Setting("debug", bool, False, "show tracebacks and debug logging"),
    Setting("detector", Detector, Detector.BLAZEFACE, "face detector: blazeface (CNN, finds turned and dark faces) "
            "or haar (OpenCV's cascade)", choices=tuple(Detector)),
    Setting("faces", str, "largest", "largest: the emoji follows the nearest face; all: party mode, an emoji on "
            "every face", choices=("largest", "all")),
    Setting("button_pin", int | None, None, "GPIO pin (BCM number) of a push button to GND that takes a snapshot "
            "(needs gpiozero)", gpio_pin, metavar="N", shown="no button"),
    Setting("led_pin", int | None, None, "GPIO pin (BCM number) of a lamp lit during the snapshot countdown "
            "(needs gpiozero)", gpio_pin, metavar="N", shown="no lamp"),
    Setting("attract_after", float, 20.0, "show the attract screen (cycling emoji, what to do, what the kiosk "
            "keeps) after this many seconds without a face, 0-3600; 0 never", number(0.0, 3600.0),
            metavar="SECONDS", shown="20"),
    Setting("challenge", bool, False, "the challenge game: the button (Space, Enter, touch, GPIO) starts a "
            "round of five faces to match in time, with a score", shown="the snapshot button"),
    Setting("large_text", bool, False, "draw every text larger", shown="normal size"),
    Setting("snapshot_style", str, "side", "side: the photo with the emoji and its label beside it; mask: every "
            "face covered by its emoji, turned with the face", choices=("side", "mask")),
    Setting("emoji", str, "set", "set: the shipped emoji pictures; generated: the visitor's own emoji, drawn "
            "from each face's shape (mouth, smile, brows, eyes, tilt) on the expression's base, in the panel, "
            "over each face and in the snapshots", choices=("set", "generated")),
    Setting("rotate", int, 0, "turn the whole picture clockwise by this many degrees (0, 90, 180 or 270), for a "
            "screen mounted turned when the system does not rotate it", choices=(0, 90, 180, 270), metavar="DEGREES"),
    Setting("language", str, "auto", "language of every on-screen text: auto (the system locale's, else "
            "English), " + ", ".join(texts.LANGUAGES), choices=("auto", *texts.LANGUAGES), metavar="LANG"),
    Setting("stats", bool, False, "log once a minute the frames shown a second, the camera's frames a second "
            "and the processor time per shown frame (emojify doctor says how to read them)", shown="off"),
    Setting("self_test", bool, False, "check the model, emoji and face detector on the built-in sample face "
            "and exit (no screen or camera needed)", shown="", in_file=False),
)
"""Every ``emojify run`` setting, in ``--help`` order. Add a setting by adding an entry here."""

BY_NAME = {setting.name: setting for setting in SETTINGS}
FILE_KEYS = tuple(setting.name for setting in SETTINGS if setting.in_file)
"""Keys a config file may hold (``-`` may be written for ``_``)."""


def _settings_class() -> type:
    """The :class:`Settings` dataclass: one field per entry of :data:`SETTINGS`, with its default."""
    fields = [(s.name, s.type, field(default_factory=functools.partial(s.parse, s.default, Origin(f"default {s.name}")))
               if s.raw_default else field(default=s.default)) for s in SETTINGS]
    namespace = {
        "camera_width": property(lambda self: self.camera_size[0], doc="Width asked of the camera."),
        "camera_height": property(lambda self: self.camera_size[1], doc="Height asked of the camera."),
    }
    cls = make_dataclass("Settings", fields, namespace=namespace)
    cls.__module__ = __name__
    cls.__doc__ = "Everything ``emojify run`` needs, one field per entry of SETTINGS; the defaults are plain ``emojify``."
    return cls


Settings = _settings_class()


# --- command line --------------------------------------------------------------------------

CLEARED = "(cleared)"
"""What ``--no-NAME`` puts in ``args`` for a setting that is unset by default (``--no-save-dir``): the
settings file's value is then left out."""


def add_flag(parser: argparse.ArgumentParser, setting: Setting | str, config_file: bool = True,
             help: str | None = None) -> None:
    """Add the flag of ``setting`` (or of the setting of that name) to ``parser``, with the setting's
    help or, where the command uses it otherwise, ``help``.

    For ``emojify run`` (``config_file``) the flag defaults to None, so an absent flag does not
    hide the file's value, its text is checked later by :func:`settings_from_args`, ``--no-x``
    can switch off a file's ``x = true``, and ``--no-x`` (:data:`CLEARED`) leaves out a file's ``x``
    where ``x`` is unset by default (``save_dir``, ``button_pin``). Commands without a config file (``config_file=False``)
    get the setting's default, argparse's own check of ``choices``, the same ``--x``/``--no-x`` pair
    for a switch a settings file can hold (``--debug``: one word for every command), a word of
    ``choices`` turned into the choice it names, and other text left for the command to check with
    :meth:`Setting.parse` (as ``emojify predict`` does its ``--model``).
    """
    setting = BY_NAME[setting] if isinstance(setting, str) else setting
    default = None if config_file else setting.default
    if setting.is_switch:
        action = argparse.BooleanOptionalAction if setting.in_file else "store_true"
        parser.add_argument(setting.flag, action=action, default=default, help=help or setting.flag_help)
        return
    group = parser
    if config_file and setting.in_file and setting.default is None:  # --no-save-dir: a file's save_dir left out
        group = parser.add_mutually_exclusive_group()  # type: ignore[assignment]
    metavar = setting.metavar or "{" + ",".join(map(str, setting.choices)) + "}"
    choices = None if config_file or not setting.choices else setting.choices
    convert = None
    if choices:  # the word becomes the choice it names (a Detector), which argparse checks
        convert = functools.partial(_choice_named, choices)
        if all(isinstance(choice, str) for choice in choices):  # str enums: refused words name the words, not reprs
            choices = tuple(map(str, choices))
    group.add_argument(setting.flag, type=convert, default=default, choices=choices, metavar=metavar,
                       help=help or setting.flag_help)
    if group is not parser:
        group.add_argument(f"--no-{setting.flag.removeprefix('--')}", dest=setting.name, action="store_const",
                           const=CLEARED, help=f"ignore the settings file's {setting.name}")


def _choice_named(choices: tuple[Any, ...], text: str) -> Any:
    """The choice whose text is ``text``, else ``text`` itself, for argparse to refuse with the choices."""
    return next((choice for choice in choices if str(choice) == text), text)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``emojify run`` flags: ``--config`` and one per entry of :data:`SETTINGS`."""
    parser.add_argument("--config", metavar="FILE",
                        help="TOML file with any of these settings (keys as the flags: source, region, "
                             "save_dir, kiosk, ...); flags given here override it")
    for setting in SETTINGS:
        add_flag(parser, setting)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Built-in defaults, then ``args.config``, then the flags in ``args``; all validated."""
    values: dict[str, tuple[Any, Origin]] = {}  # name -> (raw value, where it came from)
    config = getattr(args, "config", None)
    if config is not None and not str(config).strip():  # an unset $CONFIG: not "no settings file"
        raise ConfigError("--config: an empty path; give the settings file, or leave --config out")
    if config:
        try:
            config_path = Path(config).expanduser()
        except RuntimeError as exc:
            raise _unusable_path(Origin("--config"), exc) from None
        for name, value in load_config(config_path).items():
            values[name] = (value, Origin(f"{config_path}: {name!r}", paths_folder(config_path)))
    for setting in SETTINGS:
        value = getattr(args, setting.name, None)
        if value is CLEARED:
            values.pop(setting.name, None)
        elif value is not None:
            values[setting.name] = (value, Origin(setting.flag))
    settings = Settings(**{name: BY_NAME[name].parse(value, origin) for name, (value, origin) in values.items()})
    if settings.button_pin is not None and settings.button_pin == settings.led_pin:
        origin = values["led_pin"][1]
        raise ConfigError(f"{origin} {settings.led_pin}: the button's pin too; give the lamp a pin of its own")
    return settings


DESCRIPTOR_NAME = re.compile(r"/+(dev/(stdin|fd/[0-9]+)|proc/[^/]+/fd/[0-9]+)")
"""The names of an open file rather than of a place: /dev/stdin, /dev/fd/63 (``<(...)``), /proc/self/fd/0
(and //dev/stdin: a path may begin with two slashes, which POSIX keeps)."""


def paths_folder(config_path: Path) -> Path | None:
    """The folder a settings file's relative paths count from: its own. One named through a descriptor
    (``--config /dev/stdin < kiosk.toml``) is the file it stands for, and a pipe's paths count from the
    working folder, as flags' do (None): ``/dev/fd`` holds no one's pictures."""
    if not DESCRIPTOR_NAME.fullmatch(os.path.abspath(config_path)):
        return config_path.parent
    try:
        real = config_path.resolve()
        return None if stat.S_ISFIFO(os.stat(real).st_mode) else real.parent
    except (OSError, RuntimeError):
        return None


# --- config file ---------------------------------------------------------------------------

CONFIG_MAX_BYTES = 1 << 20
"""A settings file holds a few dozen lines; a larger one is some other file given by mistake."""


def load_config(config_path: Path) -> dict[str, Any]:
    """Read a TOML config file: its raw values by setting name (``-`` in keys read as ``_``).

    Raises :class:`ConfigError` for a missing, unreadable or invalid file and for unknown keys.
    """
    try:
        kind = os.stat(config_path).st_mode  # a file, or a pipe: --config <(generate-settings)
        if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind)):  # a folder, /dev/zero (never ends)
            raise ConfigError(f"{config_path}: not a file; give --config a settings file")
        text = read_capped(config_path, CONFIG_MAX_BYTES)  # a named pipe nobody writes to gives b""
        if stat.S_ISFIFO(kind) and not text:
            raise ConfigError(f"{config_path}: nothing came through the pipe; give --config a settings file")
        if len(text) > CONFIG_MAX_BYTES:
            raise ConfigError(f"{config_path}: over {CONFIG_MAX_BYTES // 1024} KB, not a settings file")
        # a byte-order mark (Windows editors) is not TOML's: dropped
        data = tomllib.loads(text.removeprefix(codecs.BOM_UTF8).decode())
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: config file not found; check the --config path") from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read config file ({reason_of(exc)})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{config_path}: not UTF-8 text; save the config file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML ({exc}); fix the line it names") from None
    except RecursionError:  # [[[[... thousands deep: no settings file, and tomllib recurses per level
        raise ConfigError(f"{config_path}: nested thousands deep, not a settings file") from None
    result: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key not in FILE_KEYS:
            raise ConfigError(f"{config_path}: unknown key {raw_key!r}; valid keys are: {', '.join(FILE_KEYS)}")
        if key in result:  # save-dir and save_dir: TOML sees two keys, the kiosk one setting
            raise ConfigError(f"{config_path}: {key!r} is given twice (as {key!r} and "
                              f"{key.replace('_', '-')!r}); keep one")
        result[key] = value
    return result
