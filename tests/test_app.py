"""The kiosk window and its settings.

Settings (``emojify.config``) are tested in-process without any screen. The window is tested
for real: the app runs as a subprocess on a virtual X screen (Xvfb) with a folder of real face
photos as its "camera", is driven with ``xdotool`` and looked at through screenshots and the
JSON state it writes to the file named by ``$EMOJIFY_STATE_FILE``. Those tests skip, saying why,
where Xvfb or xdotool is not installed (``apt-get install xvfb xdotool``). Which screen follows
which, and when, is tested in-process in ``test_screens.py``.
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from helpers import (
    CAMERA,
    FER_ROOT,
    SCREEN,
    WAIT_SECONDS,
    WINDOW,
    Kiosk,
    astronaut_frame,
    emoji_yellow,
    largest_face,
    start_xvfb,
)
from PIL import Image

from emojify import cli, texts
from emojify.app import KeyRepeats, exit_sequences
from emojify.challenge import Rules
from emojify.config import ConfigError, Settings, settings_from_args
from emojify.labels import CLASSES
from emojify.layout import LARGE_TEXT, layout
from emojify.pipeline import Result
from emojify.render import ACCENT, BAR, HIGHLIGHT, OK, TEXT, panel_frame
from emojify.smoothing import ALPHA
from emojify.sources import SourceKind, SourceSpec

pytestmark = pytest.mark.tk_window  # its Tk windows freed on the main thread (conftest.py)

FER_HAPPY = FER_ROOT / "test" / "happy"


# --- settings ------------------------------------------------------------------------------

def settings(*argv: str) -> Settings:
    """Settings for ``emojify run ARGV``, parsed by the real command-line parser."""
    return settings_from_args(cli.build_parser().parse_args(["run", *argv]))


def write_toml(folder: Path, text: str, name: str = "kiosk.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_settings_file_through_a_pipe_counts_its_paths_from_the_working_folder(tmp_path: Path) -> None:
    """``--config <(...)`` and ``--config /dev/stdin``: relative paths counted from /dev/fd and /dev,
    the pipe's folder (``save_dir = "snaps"`` was /dev/snaps, on a RAM disk). A pipe's count from the
    working folder, as flags' do; a file fed to /dev/stdin's from its own folder."""
    (tmp_path / "kept").mkdir()
    write_toml(tmp_path / "kept", 'save_dir = "snaps"\nemoji_dir = "mine"\n')
    code = ("import sys; from pathlib import Path; from emojify import cli; from emojify.config import settings_from_args\n"
            "s = settings_from_args(cli.build_parser().parse_args(['run', '--config', sys.argv[1]]))\n"
            "print(Path(s.save_dir).resolve(), Path(s.emoji_dir).resolve())")
    piped = subprocess.run(["bash", "-c", f'"{sys.executable}" -c "$0" <(cat kept/kiosk.toml)', code], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60, check=False)
    assert piped.stdout.split() == [str(tmp_path / "snaps"), str(tmp_path / "mine")], piped.stderr
    for name in ("/dev/stdin", os.path.relpath("/dev/stdin", tmp_path), "//dev/stdin"):  # ../../dev/stdin too
        with (tmp_path / "kept" / "kiosk.toml").open() as stdin:
            fed = subprocess.run([sys.executable, "-c", code, name], stdin=stdin, cwd=tmp_path,
                                 capture_output=True, text=True, timeout=60, check=False)
        assert fed.stdout.split() == [str(tmp_path / "kept" / "snaps"), str(tmp_path / "kept" / "mine")], fed.stderr


def test_a_loop_of_symbolic_links_is_named_as_one_not_as_an_unknown_user(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    config = write_toml(tmp_path, 'model = "loop"\n')
    with pytest.raises(ConfigError, match=r"'model' must be a usable file or folder path \((a loop of symbolic links|"
                                          r"Too many levels of symbolic links)\); choose another$"):
        settings("--config", str(config))


def test_defaults_are_private_and_windowed() -> None:
    s = settings()
    assert s == Settings()
    assert (s.source, s.region, s.save_dir, s.kiosk, s.exit_keys) == (CAMERA, 0.6, None, False, "Control-Shift-q")
    assert (s.camera_width, s.camera_height, s.smoothing, s.snapshot_seconds) == (640, 480, ALPHA, 4.0)


def test_config_file_then_flags_take_precedence(tmp_path: Path) -> None:
    config = write_toml(tmp_path, '''
        region = 0.5
        kiosk = true
        save-dir = "snaps"          # relative to the file, kebab-case key
        exit_keys = "<Control-Alt-F13>"
        camera_size = "1280x720"
        smoothing = 0.5
        snapshot_seconds = 6
        source = 1
    ''')
    from_file = settings("--config", str(config))
    assert from_file.region == 0.5 and from_file.kiosk is True and from_file.source == SourceSpec(SourceKind.CAMERA, 1)
    assert from_file.save_dir == (tmp_path / "snaps").resolve()
    assert from_file.exit_keys == "Control-Alt-F13"
    assert (from_file.camera_width, from_file.camera_height) == (1280, 720)
    assert (from_file.smoothing, from_file.snapshot_seconds) == (0.5, 6.0)

    flags = settings("--config", str(config), "--region", "0.8", "--no-kiosk", "--camera-size", "320x240",
                     "--source", "0")
    assert (flags.region, flags.kiosk, flags.source) == (0.8, False, CAMERA)
    assert (flags.camera_width, flags.camera_height) == (320, 240)
    assert flags.smoothing == 0.5  # not given as a flag: the file's value stays


@pytest.mark.parametrize(("toml", "message"), [
    ('region = "big"', """kiosk.toml: 'region' must be a number between 0.1 and 1 (got "big")"""),
    ("region = 0.05", "'region' must be a number between 0.1 and 1 (got 0.05)"),
    ("regoin = 0.5", "unknown key 'regoin'; valid keys are: source, region, emoji_dir"),
    ("region = ", "kiosk.toml: not valid TOML"),
    ('kiosk = "yes"', """'kiosk' must be true or false (got "yes")"""),
    ("smoothing = 0", "'smoothing' must be a number above 0 and at most 1 (got 0)"),
    ('camera_size = "big"', "'camera_size' must be WIDTHxHEIGHT"),
    ('exit_keys = "Ctrl-q"', "'exit_keys' must be a key combination in Tk notation"),
    ('exit_keys = "Control-Control-q"', "'exit_keys' must be a key combination"),
    ('exit_keys = "Control-Shift-1"', "'exit_keys' must not combine Shift with 1, which Shift turns into another key"),
    ('save-dir = "a"\nsave_dir = "b"', "'save_dir' is given twice (as 'save_dir' and 'save-dir'); keep one"),
    ("snapshot_seconds = 0", "'snapshot_seconds' must be a number between 1 and 60"),
    ('source = "no-such-folder"', "'source' must be a camera index"),
    ('save_dir = ""', "'save_dir' must be a file or folder path"),
    ("attract_after = -1", "'attract_after' must be a number between 0 and 3600 (got -1)"),
    ('attract-after = "soon"', """'attract_after' must be a number between 0 and 3600 (got "soon")"""),
    ('challenge = "yes"', """'challenge' must be true or false (got "yes")"""),
    ("large_text = 1", "'large_text' must be true or false (got 1)"),
    ("rotate = 45", "'rotate' must be one of 0, 90, 180, 270 (got 45)"),
    ("rotate = true", "'rotate' must be one of 0, 90, 180, 270 (got True)"),
    ("button_pin = 17\nled_pin = 17", "'led_pin' 17: the button's pin too; give the lamp a pin of its own"),
    ("region = " + "[" * 5000 + "]" * 5000, "kiosk.toml: nested thousands deep, not a settings file"),  # a traceback
])
def test_each_bad_config_value_is_one_clear_line(tmp_path: Path, toml: str, message: str) -> None:
    config = write_toml(tmp_path, toml + "\n")
    with pytest.raises(ConfigError) as caught:
        settings("--config", str(config))
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert str(config) in text


MODIFIER_NEEDED = "--exit-keys must hold Control, Alt or another modifier besides Shift, Lock and Mod2"


@pytest.mark.parametrize(("argv", "message"), [
    (["--region", "1.5"], '--region must be a number between 0.1 and 1 (got "1.5")'),
    (["--smoothing", "x"], "--smoothing must be a number above 0 and at most 1"),
    (["--camera-size", "0x480"], "--camera-size must be WIDTHxHEIGHT"),
    (["--exit-keys", "Control-Shift-"], "--exit-keys must be a key combination"),
    (["--exit-keys", "Control-Shift-comma"], "--exit-keys must not combine Shift with comma"),
    (["--exit-keys", "Control-Alt-F12"], "--exit-keys must not combine Control and Alt with F12: the system takes them"),
    (["--exit-keys", "Alt-Control-Shift-F1"], "--exit-keys must not combine Control and Alt with F1"),
    (["--exit-keys", "Mod1-Control-F3"], "--exit-keys must not combine Control and Mod1 with F3"),
    (["--exit-keys", "Shift-Alt-Tab"], "--exit-keys must not combine Shift with Tab"),
    (["--exit-keys", "space"], MODIFIER_NEEDED),  # the snapshot key
    (["--exit-keys", "Shift-q"], MODIFIER_NEEDED),
    (["--exit-keys", "Lock-Escape"], MODIFIER_NEEDED),  # Caps Lock
    (["--exit-keys", "Mod2-space"], MODIFIER_NEEDED),  # Num Lock, on most of the time
    (["--config", ""], "--config: an empty path"),
    (["--config", "missing.toml"], "missing.toml: config file not found"),
    (["--config", "/dev/zero"], "/dev/zero: not a file; give --config a settings file"),  # read for ever, then MemoryError
    (["--config", "/"], "/: not a file; give --config a settings file"),
    (["--attract-after", "forever"], '--attract-after must be a number between 0 and 3600 (got "forever")'),
    (["--rotate", "-90"], '--rotate must be one of 0, 90, 180, 270 (got "-90")'),
])
def test_bad_flags_are_config_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings(*argv)


def test_kiosk_modes_from_the_file_and_the_flags(tmp_path: Path) -> None:
    assert (Settings().attract_after, Settings().challenge, Settings().large_text, Settings().rotate) == \
        (20.0, False, False, 0)
    config = write_toml(tmp_path, "attract_after = 0\nchallenge = true\nlarge-text = true\nrotate = 270\n")
    from_file = settings("--config", str(config))
    assert (from_file.attract_after, from_file.challenge, from_file.large_text, from_file.rotate) == (0, True, True, 270)
    flags = settings("--config", str(config), "--attract-after", "45", "--no-challenge", "--no-large-text",
                     "--rotate", "90")
    assert (flags.attract_after, flags.challenge, flags.large_text, flags.rotate) == (45.0, False, False, 90)


def test_a_settings_file_s_folder_or_pin_can_be_left_out_from_the_command_line(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A kiosk's settings file saves snapshots and has a button: for one run without either there was
    no flag (``--save-dir ""`` is refused, as an unset shell variable), only another settings file."""
    config = write_toml(tmp_path, 'save_dir = "snaps"\nbutton_pin = 17\nemoji_dir = "mine"\n')
    (tmp_path / "mine").mkdir()
    cleared = settings("--config", str(config), "--no-save-dir", "--no-button-pin")
    assert (cleared.save_dir, cleared.button_pin, cleared.emoji_dir) == (None, None, (tmp_path / "mine").resolve())
    assert settings("--no-save-dir").save_dir is None  # no settings file: nothing to leave out, and no error
    with pytest.raises(SystemExit) as refused:
        settings("--save-dir", "snaps", "--no-save-dir")
    assert refused.value.code == 2 and "not allowed with argument --save-dir" in capsys.readouterr().err


@pytest.mark.parametrize("under", ["", "snaps", "snaps/today"])
def test_save_dir_that_is_a_file_or_below_one_is_refused(tmp_path: Path, under: str) -> None:
    """A folder below a file can never be made: refused at start, not at every snapshot."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=f"must be a folder, but {tmp_path / 'file'} is a file"):
        settings("--save-dir", str(tmp_path / "file" / under))


def test_a_relative_source_in_a_settings_file_is_beside_the_file_wherever_the_kiosk_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cv2.imwrite(str(tmp_path / "clip.png"), np.zeros((8, 8, 3), np.uint8))  # in the working folder only
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kiosk").mkdir()
    config = write_toml(tmp_path / "kiosk", 'source = "clip.png"\n')
    with pytest.raises(ConfigError, match=f"{tmp_path / 'kiosk' / 'clip.png'}: no such camera, file or folder"):
        settings("--config", str(config))
    shutil.copy(tmp_path / "clip.png", tmp_path / "kiosk")
    monkeypatch.chdir(tmp_path / "kiosk")
    assert settings("--config", str(config)).source.target == tmp_path / "kiosk" / "clip.png"
    shutil.copy(tmp_path / "clip.png", tmp_path / "kiosk" / "picamera-demo.png")  # a file, not the camera module
    monkeypatch.chdir(tmp_path)
    config.write_text('source = "picamera-demo.png"\n')
    assert settings("--config", str(config)).source.target == tmp_path / "kiosk" / "picamera-demo.png"
    config.write_text('source = "PiCamera:1"\n')
    assert settings("--config", str(config)).source.kind is SourceKind.PICAMERA


def test_a_settings_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows editors may begin a UTF-8 file with a byte-order mark, which TOML does not allow."""
    config = tmp_path / "kiosk.toml"
    config.write_bytes(b"\xef\xbb\xbfregion = 0.5\n")
    assert settings("--config", str(config)).region == 0.5


def test_cli_prints_one_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_toml(tmp_path, 'region = "big"\n')
    assert cli.main(["run", "--config", str(config)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'region' must be a number between 0.1 and 1" in err


def test_bad_files_fail_before_any_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--emoji-dir", str(tmp_path / "none")]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "emoji folder not found" in err and "\n" not in err


def test_no_display_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert cli.main(["run", "--source", "0"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "cannot open the window" in err and "\n" not in err


def test_exit_keys_are_bound_in_both_cases() -> None:
    assert exit_sequences("Control-Shift-q") == ["<Control-Shift-Q>", "<Control-Shift-q>"]
    assert exit_sequences("Control-Alt-F13") == ["<Control-Alt-F13>"]
    assert exit_sequences("Control-1") == ["<Control-Key-1>"], "<Control-1> is a Ctrl+click"


# --- the real window under Xvfb ------------------------------------------------------------

@pytest.fixture(scope="session")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder source: the astronaut and, where FER2013 is here, three upscaled happy faces."""
    from emojify.faces import HaarDetector, region_box

    folder = tmp_path_factory.mktemp("faces")
    cv2.imwrite(str(folder / "0-astronaut.png"), astronaut_frame())
    if FER_HAPPY.is_dir():
        detector, kept = HaarDetector(), 0
        for path in sorted(FER_HAPPY.glob("*.jpg"))[:20]:
            frame = np.full((480, 640), 110, np.uint8)
            frame[120:360, 200:440] = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (240, 240),
                                                 interpolation=cv2.INTER_CUBIC)
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            if largest_face(detector, frame, region_box(frame.shape)) and kept < 3:
                cv2.imwrite(str(folder / f"1-fer-{path.stem}.png"), frame)
                kept += 1
    return folder


@pytest.fixture
def kiosk(display: str, tmp_path: Path) -> Iterator[Callable[..., Kiosk]]:
    """Start the app with these arguments; it is killed after the test if still running."""
    started: list[Kiosk] = []

    def start(*args: str) -> Kiosk:
        app = Kiosk(display, tmp_path, *args)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


def count_colour(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 6) -> int:
    """How many pixels are within ``tolerance`` levels of ``colour`` in each channel."""
    return int(np.count_nonzero((np.abs(pixels - np.array(colour)) <= tolerance).all(axis=-1)))


def solid_area(pixels: np.ndarray, colour: tuple[int, int, int], thickness: int = 11) -> int:
    """Pixels of ``colour`` inside strokes at least ``thickness`` wide (a big digit, not a box's outline)."""
    mask = (np.abs(pixels - np.array(colour)) <= 6).all(axis=-1).astype(np.uint8)
    return int(np.count_nonzero(cv2.erode(mask, np.ones((thickness, thickness), np.uint8))))


def test_live_picture_emoji_bars_snapshot_lost_source_and_exit(kiosk, faces: Path, tmp_path: Path) -> None:
    source = tmp_path / "camera"
    shutil.copytree(faces, source)
    snaps = tmp_path / "snaps"
    app = kiosk("--source", str(source), "--save-dir", str(snaps), "--snapshot-seconds", "3")
    app.wait_state(lambda s: s["frames_shown"] >= 5 and s["last_label"] and s["box"], "a face on screen")

    w, h = WINDOW

    def feed(screen: np.ndarray) -> np.ndarray:
        return screen[40:h - 40, 20:int(w * 0.6)]

    def panel(screen: np.ndarray) -> np.ndarray:
        return screen[20:h - 20, int(w * 0.7):w - 20]

    live = app.wait_screen(lambda screen: emoji_yellow(panel(screen)[: h // 3]) > 2000,
                           "a big emoji at the top of the panel")
    Image.fromarray(live.astype(np.uint8)).save(tmp_path / "live.png")
    assert feed(live).std() > 30, "the camera picture is not drawn"
    assert count_colour(panel(live), HIGHLIGHT) > 2000, "the panel does not highlight the winner's bar"
    assert count_colour(panel(live)[-h // 5:], ACCENT) > 5000, "the panel has no snapshot button"
    assert live[:, w + 10:].max() == 0, "the window should be 1100x620 at the screen's corner"

    app.key("space")
    app.wait_state(lambda s: s["screen"] == "countdown", "the snapshot countdown")
    assert solid_area(feed(live), ACCENT) == 0, "no big number on the live picture"
    counting = app.wait_screen(lambda screen: solid_area(feed(screen), ACCENT) > 300,
                               "the countdown's big number on the picture")
    Image.fromarray(counting.astype(np.uint8)).save(tmp_path / "countdown.png")
    assert count_colour(panel(counting)[-h // 5:], ACCENT) < 500, "the button is not greyed during the countdown"
    state = app.wait_state(lambda s: s["snapshot_path"], "a saved snapshot")
    assert state["snapshots_taken"] == 1 and state["screen"] == "result"
    result = app.wait_screen(lambda screen: count_colour(feed(screen)[-h // 4:], OK, 35) > 1000,
                             "the result screen's 'Snapshot saved' banner, at the picture's foot")
    Image.fromarray(result.astype(np.uint8)).save(tmp_path / "result.png")
    assert emoji_yellow(panel(result)[: h // 3]) > 2000, "the snapshot's emoji is not in the panel"
    saved = Path(state["snapshot_path"])
    assert saved.parent == snaps and saved.suffix == ".png"
    with Image.open(saved) as image:
        image.load()
        assert image.width > 640 and image.height >= 480
    app.wait_state(lambda s: s["screen"] == "live", "the return to live after --snapshot-seconds")

    source.rename(tmp_path / "unplugged")  # the "camera" goes away
    app.wait_state(lambda s: s["showing_message"], "the no-picture message")
    assert app.process.poll() is None
    app.wait_screen(lambda screen: np.abs(screen - live).mean() > 20 and emoji_yellow(panel(screen)) < 200,
                    "the message screen replacing the live picture and emoji")

    shown = app.state()["frames_shown"]
    (tmp_path / "unplugged").rename(source)  # plugged in again: the picture comes back by itself
    app.wait_state(lambda s: not s["showing_message"] and s["frames_shown"] > shown + 3, "the picture's return")

    app.key("ctrl+shift+q")
    assert app.exit_code() == 0
    assert [p.name for p in snaps.iterdir()] == [saved.name], "only the snapshot is written, no temp files"


def test_kiosk_is_fullscreen_ignores_escape_and_close_and_survives_a_failed_save(
        kiosk, faces: Path, tmp_path: Path) -> None:
    app = kiosk("--kiosk", "--source", str(faces), "--save-dir", str(tmp_path / "snaps"))
    state = app.wait_state(lambda s: s["frames_shown"] >= 3 and s["window"] == list(SCREEN), "a fullscreen window")
    (tmp_path / "snaps").write_text("not a folder")  # a file put where the save folder is to be made
    before = app.screenshot()
    assert before.std() > 30 and before[-5:, -5:].std() + before[-5:, -5:].mean() > 0

    app.key("Escape")
    app.close_request()
    app.xdotool("mousemove", "400", "400", "click", "1")  # a touch on the picture takes a snapshot;
    # saving it where a file is in the way fails: the kiosk says why and goes on
    state = app.wait_state(lambda s: s["save_error"], "the save error on screen")
    assert state["save_error"] == "Could not save the snapshot: a file is where the folder should be"
    assert state["snapshot_path"] is None
    shown = state["frames_shown"]
    app.wait_state(lambda s: s["frames_shown"] > shown + 3 and s["screen"] == "live", "the kiosk to go on")
    assert app.process.poll() is None, "Escape or the close request ended the kiosk"

    app.key("ctrl+shift+q")
    assert app.exit_code() == 0


@pytest.mark.parametrize("how", ["close button", "Escape"])
def test_normal_window_closes_normally(kiosk, faces: Path, how: str) -> None:
    app = kiosk("--source", str(faces))
    app.wait_state(lambda s: s["frames_shown"] >= 1, "the first picture")
    if how == "Escape":
        app.key("Escape")
    else:
        app.close_request()
    assert app.exit_code() == 0


def test_an_exit_key_with_a_digit_is_the_key_not_a_click(kiosk, faces: Path) -> None:
    """Tk reads <Control-1> as Ctrl and mouse button 1: a Ctrl+click on the picture quit the kiosk (a
    snapshot), and Ctrl+1 did nothing, so a kiosk whose exit keys were Control-1 could not be left."""
    app = kiosk("--kiosk", "--source", str(faces), "--exit-keys", "Control-1")
    app.wait_state(lambda s: s["frames_shown"] >= 3, "the first pictures")
    app.xdotool("mousemove", "400", "400", "keydown", "ctrl", "click", "1", "keyup", "ctrl")
    app.wait_state(lambda s: s["screen"] == "countdown", "the snapshot a Ctrl+click takes, as a click does")
    assert app.process.poll() is None, "a Ctrl+click quit the kiosk"
    app.key("ctrl+1")
    assert app.exit_code() == 0


def pump_until(root, check: Callable[[], object], what: str, timeout: float = 15) -> None:
    """Run the window's event loop in the test's thread until ``check()`` holds; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        root.update()
        time.sleep(0.005)


class FakeWorker:
    """The worker's mailboxes: one new picture per poll, and the stills asked for."""

    def __init__(self, frame: np.ndarray, result: Result) -> None:
        self.live, self.stills, self.prepared = (frame, result), [], []

    def take_live(self) -> tuple[np.ndarray, Result]:
        return self.live

    def take_snapshot(self) -> None:
        return None

    def request_snapshot(self, request) -> None:
        self.stills.append(request)

    def prepare_still(self, frame: np.ndarray) -> None:
        self.prepared.append(frame)


@pytest.fixture
def quick_window(display: str, monkeypatch) -> Iterator[SimpleNamespace]:
    """The window in this process, fed the astronaut by a :class:`FakeWorker`, with a half-second
    countdown and result; ``screens`` lists each screen as it comes up."""
    import tkinter as tk

    import emojify.app
    from emojify.app import App
    from emojify.emojis import load_emoji_set
    from emojify.screens import Screens, Timings
    from emojify.sources import SourceEvent, SourceStatus, parse_source

    monkeypatch.setenv("DISPLAY", display)
    frame = astronaut_frame()
    worker = FakeWorker(frame, Result((0, 0, 640, 480), None, None, None))
    capture = SimpleNamespace(status=SourceStatus.LIVE, event=SourceEvent.LIVE, spec=parse_source("0"))
    root = tk.Tk()
    try:
        quick = Timings(countdown=0.5, result=0.5)
        monkeypatch.setattr(emojify.app, "Screens", lambda capture, tips, _timings, **options:
                            Screens(capture, tips, quick, **options))
        app = App(root, Settings(), worker, capture, load_emoji_set())
        screens: list[str] = []
        app.screens.on_state_change.append(lambda old, new: screens.append(new))
        pump_until(root, lambda: app.frames_shown >= 3 and app.screens.current().screen == "live", "the live picture")
        yield SimpleNamespace(root=root, app=app, worker=worker, frame=frame, screens=screens)
    finally:
        root.destroy()


def test_a_snapshot_asked_for_from_another_thread_is_taken_on_the_window(quick_window) -> None:
    """What a GPIO button does: ``App.request_snapshot`` from its own thread; a lamp's hook sees the countdown."""
    root, app, worker, frame = quick_window.root, quick_window.app, quick_window.worker, quick_window.frame
    button = threading.Thread(target=app.request_snapshot)
    button.start()
    button.join()
    pump_until(root, lambda: worker.stills, "the still handed to the worker")
    assert [still.frame for still in worker.stills] == [frame] and app.state()["snapshots_taken"] == 1
    assert worker.prepared == [frame]  # the still's search began with the countdown
    pump_until(root, lambda: app.screens.current().screen == "live", "the return to live")
    assert quick_window.screens == ["live", "countdown", "result", "live"]


def test_each_countdown_chooses_its_discs_place_afresh(quick_window, monkeypatch) -> None:
    """The disc stays where it stands for one countdown's frames (one spot carried through them), and
    the next countdown starts from the first free place again (a new spot), not where the last one ended."""
    import emojify.app

    root, app = quick_window.root, quick_window.app
    spots: list[object] = []  # each countdown's spot, once
    render = emojify.app.render_feed

    def noting_render_feed(*args, countdown=None, countdown_spot=None, **kwargs):
        if countdown is not None and not any(spot is countdown_spot for spot in spots):
            spots.append(countdown_spot)
        return render(*args, countdown=countdown, countdown_spot=countdown_spot, **kwargs)

    monkeypatch.setattr(emojify.app, "render_feed", noting_render_feed)
    for taken in (1, 2):
        app.request_snapshot()
        pump_until(root, lambda: app.screens.current().screen == "result", "the result")
        pump_until(root, lambda: app.screens.current().screen == "live", "the return to live")
        assert app.state()["snapshots_taken"] == taken
    assert len(spots) == 2, spots
    assert all(spot.centre is not None for spot in spots)  # each countdown's disc was drawn where its spot says


def test_key_repeats_are_not_new_presses() -> None:
    """X11 repeats a held key as a release and a press at the same time stamp; Windows and macOS as
    presses with no release between; a press after a release, or long after a lost release, is new."""
    keys = KeyRepeats()
    assert keys.press("space", 1000)
    keys.release("space", 1500)
    assert not keys.press("space", 1500), "an X11 repeat"
    keys.release("space", 1540)
    assert not keys.press("space", 1540)
    keys.release("space", 1700)
    assert keys.press("space", 1800), "pressed again after letting go"
    assert not keys.press("space", 2300) and not keys.press("space", 2333), "Windows repeats, no release"
    assert keys.press("Return", 2340), "another key"
    assert keys.press("space", 2333 + KeyRepeats.LOST_RELEASE_MS), "its release was lost (the focus went away)"
    keys.release("space", 0)
    assert keys.press("space", 0) and keys.press("space", 0), "synthetic events (no time) are each a press"


def test_holding_space_down_takes_one_snapshot(quick_window, display: str) -> None:
    """The X server repeats a held key; a visitor leaning on Space gets one snapshot, not another each
    time the live view comes back, and a new press after letting go takes the next."""
    root, worker, screens = quick_window.root, quick_window.worker, quick_window.screens

    def xdotool(*args: str) -> None:
        subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, check=True, timeout=10)

    xdotool("windowfocus", "--sync", root.wm_frame())
    pump_until(root, lambda: root.focus_get() is not None, "the window's focus")
    xdotool("keydown", "space")
    try:
        pump_until(root, lambda: screens[-2:] == ["result", "live"], "the return to live, Space still down")
        held = time.monotonic() + 1.0  # repeats come every 40 ms here: 25 of them while live
        pump_until(root, lambda: time.monotonic() > held, "a second held down in the live view")
    finally:
        xdotool("keyup", "space")
    assert screens == ["live", "countdown", "result", "live"] and len(worker.stills) == 1
    xdotool("key", "space")
    pump_until(root, lambda: len(worker.stills) == 2, "the snapshot of a new press")


def test_a_save_folder_with_the_challenge_game_is_said_to_save_nothing(display: str, monkeypatch, caplog,
                                                                        tmp_path) -> None:
    """The game takes no snapshots: the log says so at start, for the installer who set a save folder."""
    import tkinter as tk

    import emojify.app
    from emojify.emojis import load_emoji_set
    from emojify.sources import SourceEvent, SourceStatus, parse_source

    monkeypatch.setenv("DISPLAY", display)
    worker = FakeWorker(astronaut_frame(), Result((0, 0, 640, 480), None, None, None))
    capture = SimpleNamespace(status=SourceStatus.LIVE, event=SourceEvent.LIVE, spec=parse_source("0"))
    root = tk.Tk()
    try:
        for challenge in (False, True):
            with caplog.at_level("WARNING", logger="emojify.app"):
                emojify.app.App(root, Settings(challenge=challenge, save_dir=tmp_path), worker, capture, load_emoji_set())
            said = [r.getMessage() for r in caplog.records if "takes no snapshots" in r.getMessage()]
            assert said == ([f"save_dir {tmp_path}: the challenge game takes no snapshots, so nothing is saved there"]
                            if challenge else []), said
    finally:
        root.destroy()


def test_a_drawing_error_is_logged_once_shows_the_failure_screen_and_passes(display: str, monkeypatch,
                                                                           caplog) -> None:
    """A renderer that keeps failing: one log record with its traceback (not one per poll), the
    failure screen after a few failures, and the live picture again by itself once drawing works."""
    import tkinter as tk

    import emojify.app
    from emojify import screens as sc
    from emojify.emojis import load_emoji_set
    from emojify.sources import SourceEvent, SourceStatus, parse_source

    monkeypatch.setenv("DISPLAY", display)
    worker = FakeWorker(astronaut_frame(), Result((0, 0, 640, 480), None, None, None))
    capture = SimpleNamespace(status=SourceStatus.LIVE, event=SourceEvent.LIVE, spec=parse_source("0"))
    broken = True
    render_feed = emojify.app.render_feed

    def failing_render_feed(*args, **kwargs):
        if broken:
            raise RuntimeError("the picture cannot be drawn")
        return render_feed(*args, **kwargs)

    monkeypatch.setattr(emojify.app, "render_feed", failing_render_feed)
    monkeypatch.setattr(sc, "RECOVERY_SECONDS", 0.5)
    root = tk.Tk()
    try:
        app = emojify.app.App(root, Settings(), worker, capture, load_emoji_set())
        with caplog.at_level("ERROR", logger="emojify.app"):
            pump_until(root, lambda: app.screens.current().screen == sc.FAILURE, "the failure screen")
            pump_until(root, lambda: app.state()["drawing_failures"] >= 8, "more failures")
        records = [r for r in caplog.records if r.name == "emojify.app"]
        assert len(records) == 1, [r.exc_info[1] for r in records]
        assert records[0].exc_info and "the picture cannot be drawn" in str(records[0].exc_info[1])
        pump_until(root, lambda: app.screens.current().screen == sc.FAILURE, "the failure screen while it still fails")
        assert app.screens.view().message.title == texts.FAILURE_TITLE
        broken = False
        pump_until(root, lambda: app.screens.current().screen == sc.LIVE and app.frames_shown >= 3, "the picture's return")
    finally:
        root.destroy()


def test_missing_camera_shows_what_to_check_and_keeps_trying(kiosk) -> None:
    app = kiosk("--source", "9")  # no such camera here: LOST, retried, never an exception
    state = app.wait_state(lambda s: s["showing_message"], "the no-camera message", timeout=20)
    assert state["status"] == "lost" and "still trying" in state["status_text"]
    app.wait(lambda: np.count_nonzero(app.screenshot()[:WINDOW[1], :WINDOW[0]].min(axis=2) > 200) > 2000,
             WAIT_SECONDS, "the message's text on screen")
    time.sleep(1.5)
    assert app.process.poll() is None
    app.key("ctrl+shift+q")
    assert app.exit_code() == 0


# --- kiosk modes on landscape and portrait screens -----------------------------------------

SHOTS = os.environ.get("EMOJIFY_SCREENSHOTS")
"""A folder to keep the mode tests' screenshots in (they always go to the test's tmp_path too)."""
SCREENS = {"landscape": (1280, 720), "small": (800, 480), "portrait": (480, 800)}
"""The screens of the mode tests: one Xvfb server, one X screen each (``:N.0``, ``:N.1``, ...)."""


@pytest.fixture(scope="module")
def screens() -> Iterator[dict[str, str]]:
    """The X display name of each of :data:`SCREENS`."""
    server, name = start_xvfb(*SCREENS.values())
    yield {kind: f"{name}.{i}" for i, kind in enumerate(SCREENS)}
    server.terminate()
    server.wait(5)


@pytest.fixture
def on_screen(screens: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Kiosk]]:
    """Start the app on one of :data:`SCREENS` with these arguments; killed after the test."""
    started: list[Kiosk] = []

    def start(kind: str, *args: str) -> Kiosk:
        app = Kiosk(screens[kind], tmp_path, *args)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


def keep(screen: np.ndarray, tmp_path: Path, name: str) -> None:
    """Save a screenshot in the test's folder and, with ``$EMOJIFY_SCREENSHOTS``, there too."""
    image = Image.fromarray(screen.astype(np.uint8))
    image.save(tmp_path / f"{name}.png")
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        image.save(Path(SHOTS) / f"{name}.png")


def swap_frame(folder: Path, frame: np.ndarray) -> None:
    """Replace the folder source's one picture (atomically: the reader never sees half a file)."""
    tmp = folder / ".next.png"
    cv2.imwrite(str(tmp), frame)
    os.replace(tmp, folder / "frame.png")


def test_on_a_portrait_screen_the_panel_is_below_the_picture(on_screen, tmp_path: Path) -> None:
    app = on_screen("portrait", "--kiosk", "--source", str(astronaut_camera(tmp_path)))
    app.wait_state(lambda s: s["frames_shown"] >= 3 and s["last_label"] and s["window"] == [480, 800],
                   "the live picture fullscreen on the portrait screen")
    assert app.state()["layout"] == "portrait"
    shot = app.wait_screen(lambda screen: emoji_yellow(screen[430:620]) > 3000, "the big emoji below the picture")
    keep(shot, tmp_path, "screen-portrait")
    assert shot[20:360, 20:460].std() > 30, "the picture is not across the top"
    assert emoji_yellow(shot[:380, 20:460]) < emoji_yellow(shot[430:620]), "the emoji is not below the picture"
    assert count_colour(shot[700:800], ACCENT) > 5000, "no full-width button at the bottom"
    app.key("ctrl+shift+q")
    assert app.exit_code() == 0


@pytest.mark.parametrize("kind", ["portrait", "small"])
def test_a_normal_window_opens_inside_a_small_screen(on_screen, faces: Path, kind: str) -> None:
    app = on_screen(kind, "--source", str(faces))
    state = app.wait_state(lambda s: s["frames_shown"] >= 1, "the first picture")
    width, height = SCREENS[kind]
    assert 0 < state["window"][0] <= width * 0.9 and 0 < state["window"][1] <= height * 0.9, state["window"]
    assert state["layout"] == ("portrait" if kind == "portrait" else "landscape")


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
def test_the_attract_screen_invites_tells_and_leaves_when_a_face_comes(on_screen, tmp_path: Path, kind: str) -> None:
    camera = tmp_path / "camera"
    camera.mkdir()
    swap_frame(camera, np.full((480, 640, 3), 90, np.uint8))  # nobody in front of the kiosk
    app = on_screen(kind, "--kiosk", "--source", str(camera), "--attract-after", "2",
                    "--save-dir", str(tmp_path / "snaps"))
    app.wait_state(lambda s: s["screen"] == "attract", "the attract screen after 2 s without a face")
    w, h = SCREENS[kind]
    top = (slice(0, h // 2), slice(w // 4, 3 * w // 4))
    shot = app.wait_screen(lambda screen: emoji_yellow(screen[top]) > 5000, "a big emoji in the upper half")
    keep(shot, tmp_path, f"screen-attract-{kind}")
    r, g, b = shot[..., 0], shot[..., 1], shot[..., 2]
    below = np.flatnonzero(((r > 220) & (g > 160) & (b < 90)).any(axis=1)).max() + 5  # the emoji and the title
    assert np.count_nonzero(shot[below:].min(axis=2) > 200) > 800, "no invitation under the title"
    assert np.count_nonzero(shot[below:].min(axis=2) > 140) > 1600, "no notice under the invitation"
    first = shot[top].copy()
    app.wait_screen(lambda screen: np.count_nonzero(np.abs(screen[top] - first).sum(axis=2) > 60) > 2000,
                    "the next emoji of the cycle")

    swap_frame(camera, astronaut_frame())  # somebody steps up
    app.wait_state(lambda s: s["screen"] == "live" and s["last_label"], "the live view back with a face", timeout=5)
    app.key("ctrl+shift+q")
    assert app.exit_code() == 0


def astronaut_camera(tmp_path: Path) -> Path:
    """A folder source showing only the astronaut."""
    camera = tmp_path / "camera"
    camera.mkdir()
    swap_frame(camera, astronaut_frame())
    return camera


@pytest.mark.parametrize("kind", ["landscape", "small", "portrait"])
def test_a_challenge_round_starts_with_a_touch_or_a_key(on_screen, tmp_path: Path, kind: str) -> None:
    app = on_screen(kind, "--kiosk", "--challenge", "--source", str(astronaut_camera(tmp_path)))
    app.wait_state(lambda s: s["frames_shown"] >= 3 and s["last_label"], "the live picture")
    panel = layout(SCREENS[kind]).panel
    if kind == "small":
        app.key("space")
    else:  # a touch on the "Start the game" button
        app.touch(panel.x + panel.w // 2, panel.y + panel.h - 30)
    state = app.wait_state(lambda s: s["screen"] == "challenge", "a round started by the button")
    assert state["challenge"]["rounds"] == 1 and state["challenge"]["target"]

    def inside(screen: np.ndarray) -> np.ndarray:
        return screen[panel.y:panel.y + panel.h, panel.x:panel.x + panel.w]

    shot = app.wait_screen(lambda screen: count_colour(inside(screen), BAR) > 300, "the target's time bar")
    keep(shot, tmp_path, f"screen-challenge-{kind}")
    x0, y0, x1, y1 = panel_frame(panel.size).head
    assert emoji_yellow(inside(shot)[y0:y1, x0:x1]) > 1500, "no target emoji at the head of the panel"
    assert app.state()["snapshots_taken"] == 0, "the button plays; it takes no snapshot"
    app.wait_state(lambda s: s["screen"] == "challenge" and s["challenge"]["target"] != state["challenge"]["target"],
                   "the second target after the first is matched or runs out",
                   timeout=Rules().seconds + Rules().pause + WAIT_SECONDS)  # a target may run out (9.5 s)
    app.key("ctrl+shift+q")
    assert app.exit_code() == 0


def tallest_text_line(panel: np.ndarray) -> int:
    """Height in pixels of the tallest line of light text (the panel's title) in a screenshot's panel."""
    light = (np.abs(panel - np.array(TEXT)).max(axis=2) <= 12).sum(axis=1) >= 3
    tallest = run = 0
    for row in light:
        run = run + 1 if row else 0
        tallest = max(tallest, run)
    return tallest


def test_large_text_on_a_small_screen(on_screen, tmp_path: Path) -> None:
    """--large-text on an 800x480 touchscreen: the panel's words are drawn clearly larger than without it."""
    camera = astronaut_camera(tmp_path)
    heights = {}
    for name, flags in (("normal", ()), ("large", ("--large-text",))):
        app = on_screen("small", "--kiosk", *flags, "--source", str(camera))
        app.wait_state(lambda s: s["frames_shown"] >= 3 and s["last_label"] == "happy" and s["window"] == [800, 480],
                       "the picture")
        panel = layout((800, 480), large_text=bool(flags)).panel
        shot = app.wait_screen(lambda screen, p=panel: emoji_yellow(screen[p.y:p.y + p.h // 2, p.x:p.x + p.w]) > 2000,
                               "the panel's emoji")
        keep(shot, tmp_path, f"screen-{name}-text")
        heights[name] = tallest_text_line(shot[panel.y:panel.y + panel.h, panel.x:panel.x + panel.w])
        app.key("ctrl+shift+q")
        assert app.exit_code() == 0
    assert heights["normal"] >= 12 and heights["large"] >= heights["normal"] * LARGE_TEXT * 0.9, heights


def test_rotate_turns_the_whole_picture_and_the_touches(on_screen, tmp_path: Path) -> None:
    """--rotate 90 on a landscape screen: laid out as portrait, turned clockwise, so the panel (below
    the picture when upright) is on the screen's left, and a touch on the picture still counts."""
    app = on_screen("landscape", "--kiosk", "--rotate", "90", "--source", str(astronaut_camera(tmp_path)))
    state = app.wait_state(lambda s: s["frames_shown"] >= 3 and s["last_label"] and s["window"] == [1280, 720],
                           "the turned picture")
    assert state["layout"] == "portrait"
    shot = app.wait_screen(lambda screen: emoji_yellow(screen[:, :640]) > 5000, "the panel's emoji on the left")
    keep(shot, tmp_path, "screen-rotate-90")
    assert shot[40:680, 760:1240].std() > 30, "the picture is not on the right"
    app.touch(1000, 360)  # on the picture
    app.wait_state(lambda s: s["screen"] == "countdown", "a snapshot countdown from a touch on the turned picture")
    app.key("ctrl+shift+q")
    assert app.exit_code() == 0


def test_in_challenge_mode_the_gpio_button_plays_a_whole_round(display: str, monkeypatch, tmp_path: Path) -> None:
    """``App.request_snapshot`` from another thread (a GPIO button) starts a round; with quick rules
    and targets fear then happy, the astronaut's smile misses fear and matches happy, which scores
    at least a match's points, and the score screen shows that score as the day's best."""
    import tkinter as tk

    import emojify.app
    from emojify.app import App
    from emojify.challenge import Rules
    from emojify.emojis import load_emoji_set
    from emojify.screens import Screens
    from emojify.sources import SourceEvent, SourceStatus, parse_source

    monkeypatch.setenv("DISPLAY", display)
    probabilities = np.full(len(CLASSES), 0.02)
    probabilities[CLASSES.index("happy")] = 0.88
    worker = FakeWorker(astronaut_frame(), Result((0, 0, 640, 480), (250, 90, 150, 170), probabilities, "happy"))
    capture = SimpleNamespace(status=SourceStatus.LIVE, event=SourceEvent.LIVE, spec=parse_source("0"))
    root = tk.Tk()
    try:
        rules = Rules(targets=2, seconds=1.0, pause=0.3)
        quick = {"rules": rules, "rng": random.Random(4)}  # seed 4 picks the targets fear, happy
        monkeypatch.setattr(emojify.app, "Screens", lambda *args, **options: Screens(*args, **options, **quick))
        app = App(root, Settings(challenge=True), worker, capture, load_emoji_set())

        pump_until(root, lambda: app.frames_shown >= 3, "the live picture")
        button = threading.Thread(target=app.request_snapshot)
        button.start()
        button.join()
        pump_until(root, lambda: app.screens.current().screen == "challenge", "the round started by the button")
        assert app.screens.current().challenge.targets == ("fear", "happy")
        pump_until(root, lambda: app.screens.current().screen == "challenge_over", "the end of the round")
        state = app.state()
        assert state["challenge"]["matched"] == 1 and worker.stills == []
        assert rules.points <= state["challenge"]["score"] <= rules.points + rules.bonus, state["challenge"]
        assert state["challenge"]["best"] == state["challenge"]["score"] == app.screens.current().challenge.score
    finally:
        root.destroy()


class JitteryWorker(FakeWorker):
    """A new result every poll, its probabilities wobbling by under a point, as the smoothing makes them."""

    def __init__(self, frame: np.ndarray, probabilities: np.ndarray) -> None:
        super().__init__(frame, Result((0, 0, 640, 480), (250, 90, 150, 170), probabilities, "happy"))
        self.probabilities, self.rng = probabilities, np.random.default_rng(0)

    def take_live(self) -> tuple[np.ndarray, Result]:
        wobble = self.probabilities + self.rng.uniform(-0.004, 0.004, len(self.probabilities))
        label = CLASSES[int(np.argmax(wobble))]
        return self.live[0], Result((0, 0, 640, 480), (250, 90, 150, 170), wobble, label)


def test_the_panel_is_not_drawn_again_while_nothing_visible_changes(display: str, monkeypatch) -> None:
    """Every poll brings a new picture whose percentages wobble by a point: the feed is drawn each
    time, the panel once; a clear change of expression draws it again."""
    import tkinter as tk

    from emojify.app import App
    from emojify.emojis import load_emoji_set
    from emojify.sources import SourceEvent, SourceStatus, parse_source

    monkeypatch.setenv("DISPLAY", display)
    probabilities = np.full(len(CLASSES), 0.0225)  # each percentage wobbles between two neighbours
    probabilities[CLASSES.index("happy")] = 0.8525
    worker = JitteryWorker(astronaut_frame(), probabilities)
    capture = SimpleNamespace(status=SourceStatus.LIVE, event=SourceEvent.LIVE, spec=parse_source("0"))
    root = tk.Tk()
    try:
        app = App(root, Settings(), worker, capture, load_emoji_set())
        panels = []
        render_panel = app._render_panel
        monkeypatch.setattr(app, "_render_panel", lambda *args: panels.append(args[0]) or render_panel(*args))
        pump_until(root, lambda: app.frames_shown >= 60, "60 pictures")
        assert len(panels) == 1, [p.percents for p in panels]
        worker.probabilities = np.roll(probabilities, 1)  # another expression altogether
        shown = app.frames_shown
        pump_until(root, lambda: app.frames_shown >= shown + 5, "5 more pictures")
        assert len(panels) == 2 and panels[-1].label != "happy"
    finally:
        root.destroy()


def test_generated_emoji_in_the_panel_and_a_sticker_beside_the_snapshot(kiosk, tmp_path: Path) -> None:
    """``--emoji generated``: the panel's big emoji is the visitor's own (not the set's picture, which
    the same face shows with ``--emoji set``), and ``--save-dir`` gets each face's sticker."""
    source, snaps = astronaut_camera(tmp_path), tmp_path / "snaps"
    w, h = WINDOW

    def head(screen: np.ndarray) -> np.ndarray:
        return screen[20:h // 3, int(w * 0.7):w - 20].astype(int)

    shown = {}
    for style in ("generated", "set"):
        app = kiosk("--source", str(source), "--emoji", style, *(["--save-dir", str(snaps)] if style == "generated" else []))
        app.wait_state(lambda s: s["frames_shown"] >= 5 and s["last_label"] == "happy" and s["box"], "the astronaut")
        shown[style] = app.wait_screen(lambda screen: emoji_yellow(head(screen)) > 2000, "a big emoji in the panel")
        keep(shown[style], tmp_path, f"emoji-{style}")
        if style == "generated":
            app.key("space")
            state = app.wait_state(lambda s: s["snapshot_path"], "a saved snapshot")
            saved = Path(state["snapshot_path"])
            assert sorted(p.name for p in snaps.iterdir()) == sorted([saved.name, f"{saved.stem}-face1.png"])
            with Image.open(snaps / f"{saved.stem}-face1.png") as sticker:
                assert sticker.mode == "RGBA" and sticker.getpixel((0, 0))[3] == 0
        app.key("ctrl+shift+q")
        assert app.exit_code() == 0
    assert np.abs(head(shown["generated"]) - head(shown["set"])).mean() > 8, "the generated emoji looks like the set's"


def test_stats_log_the_shown_and_camera_rates_of_a_real_source(display: str, monkeypatch, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """``--stats`` on a window fed by a real capture thread: the line gives the camera's rate as well
    as the window's, and the window draws on without a single drawing error."""
    import logging
    import tkinter as tk

    from emojify.app import App
    from emojify.emojis import load_emoji_set
    from emojify.sources import CaptureThread, open_reader, parse_source

    monkeypatch.setenv("DISPLAY", display)
    caplog.set_level(logging.INFO, "emojify.stats")
    picture = tmp_path / "face.png"
    cv2.imwrite(str(picture), astronaut_frame())
    spec = parse_source(str(picture))
    probabilities = np.full(len(CLASSES), 0.1)
    probabilities[CLASSES.index("happy")] = 0.4
    with CaptureThread(spec, opener=lambda: open_reader(spec, fps=30)) as capture:
        root, app = tk.Tk(), None
        try:
            app = App(root, Settings(stats=True), JitteryWorker(astronaut_frame(), probabilities), capture,
                      load_emoji_set())
            app.stats.interval = 0.5  # a line every half second instead of every minute
            pump_until(root, lambda: [r for r in caplog.records if r.message.startswith("stats:")], "a stats line")
            line = next(r.message for r in caplog.records if r.message.startswith("stats:"))
            assert "camera ?" not in line and "CPU ?" not in line, line
            assert app.state()["drawing_failures"] == 0
        finally:
            root.destroy()
            del root, app
            gc.collect()  # Tk's objects die here, on Tk's thread, not in a later collection on the capture thread


def test_a_settings_file_of_megabytes_is_refused_unread(tmp_path: Path) -> None:
    """A log or a video given as --config by mistake: one line, without reading it all."""
    from emojify.config import CONFIG_MAX_BYTES

    big = tmp_path / "kiosk.toml"
    big.write_bytes(b"# a comment\n" * (CONFIG_MAX_BYTES // 12 + 1))
    with pytest.raises(ConfigError, match=f"{big}: over 1024 KB, not a settings file"):
        settings("--config", str(big))


def test_a_settings_file_given_through_a_pipe_is_read() -> None:
    """``--config <(make-settings)``: bash gives a pipe, which the check for a file refused."""
    code = "import sys; from emojify.config import load_config; print(load_config(sys.argv[1]))"
    done = subprocess.run(["bash", "-c", f'"{sys.executable}" -c "$0" <(printf "region = 0.5\\n")', code],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "{'region': 0.5}"), done.stderr


def test_a_named_pipe_nobody_writes_to_is_said_at_once_not_waited_for(tmp_path: Path) -> None:
    """A kiosk service given a pipe for --config that no program writes to waited for ever, saying nothing."""
    pipe = tmp_path / "settings"
    os.mkfifo(pipe)
    said: list[str] = []

    def load() -> None:
        with pytest.raises(ConfigError) as caught:
            settings("--config", str(pipe))
        said.append(str(caught.value))

    loading = threading.Thread(target=load, daemon=True)
    loading.start()
    loading.join(20)
    assert said == [f"{pipe}: nothing came through the pipe; give --config a settings file"]


def test_a_save_folder_that_takes_no_file_is_refused_before_the_window_opens(astronaut_jpg: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only save folder was found by the first visitor's snapshot ("Could not save the
    snapshot"), where predict --out says it at once; one not there yet is still made at the first save."""
    import emojify.app
    from emojify.fileio import OutputError
    from emojify.sources import parse_source

    monkeypatch.delenv("DISPLAY", raising=False)  # the check comes before the window: none is needed
    kiosk = Settings(source=parse_source(str(astronaut_jpg)), save_dir=Path("/proc"))
    with pytest.raises(OutputError, match=r"^--save-dir \(save_dir in a settings file\): cannot write in the folder /proc \("):
        emojify.app.run_app(kiosk)
    with pytest.raises(emojify.app.DisplayError):  # a folder to be made is no problem yet
        emojify.app.run_app(replace(kiosk, save_dir=Path("/proc/not-yet")))


def test_ctrl_c_during_a_window_callback_ends_the_kiosk(display: str, astronaut_jpg: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C raises KeyboardInterrupt in whatever runs when it comes; in a window callback (the frame
    timer: 3 times in 8) Tk handed it to the kiosk's error hook, which logged it and went on."""
    import emojify.app
    from emojify.sources import parse_source

    original_init = emojify.app.App.__init__

    def init(self, *args, **kwargs) -> None:
        original_init(self, *args, **kwargs)

        def ctrl_c() -> None:
            raise KeyboardInterrupt

        self.root.after(300, ctrl_c)  # as the signal arrives inside a callback
        self.root.after(30_000, self.close)  # a kiosk that goes on ends the test, failing it

    monkeypatch.setattr(emojify.app.App, "__init__", init)
    monkeypatch.setenv("DISPLAY", display)
    with pytest.raises(KeyboardInterrupt):
        emojify.app.run_app(Settings(source=parse_source(str(astronaut_jpg))))
