"""The Raspberry Pi camera module through Picamera2, with a fake ``picamera2`` (tests/fake_picamera2)
that films the astronaut; and what a Pi without Picamera2 or without OpenCV's GUI libraries is told."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import REPO, largest_face, run_cli, stderr_lines, wait_until

from emojify.faces import HaarDetector, region_box
from emojify.sources import (
    CaptureThread,
    SourceEvent,
    SourceSpec,
    SourceStatus,
    SourceUnavailable,
    open_reader,
    parse_source,
    pi_camera_found,
    picamera_report,
    probe_source,
)
from emojify.sources.picamera import to_bgr
from emojify.texts import message_tips, status_message

FAKE = REPO / "tests" / "fake_picamera2"
PICAMERA = SourceSpec("picamera", 0)


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The fake ``picamera2`` importable in this process, one camera module attached."""
    monkeypatch.syspath_prepend(str(FAKE))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    monkeypatch.setenv("FAKE_PICAMERA2_CAMERAS", "1")
    pi_camera_found.cache_clear()
    import picamera2

    picamera2.Picamera2.unplugged = False
    picamera2.Picamera2.opened.clear()
    yield picamera2
    picamera2.Picamera2.unplugged = False
    sys.modules.pop("picamera2", None)
    pi_camera_found.cache_clear()


@pytest.fixture
def no_picamera2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine where ``import picamera2`` fails (any PC, or a Pi venv without system packages)."""
    monkeypatch.setitem(sys.modules, "picamera2", None)
    pi_camera_found.cache_clear()
    yield
    pi_camera_found.cache_clear()


def fake_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess that sees the fake picamera2."""
    path = os.pathsep.join(filter(None, [str(FAKE), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, **extra}


# --- parsing and opening ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "index"), [("picamera", 0), ("picamera:1", 1), (" PiCamera:0 ", 0)])
def test_picamera_sources_parse(fake_picamera2: object, text: str, index: int) -> None:
    assert parse_source(text) == SourceSpec("picamera", index)


def test_without_picamera2_the_source_names_the_apt_package(no_picamera2: None) -> None:
    spec = parse_source("picamera")  # parsing imports no camera library; probing does
    with pytest.raises(SourceUnavailable, match="sudo apt install python3-picamera2") as caught:
        probe_source(spec)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("command", [["run"], ["bench", "--frames", "5"]])
def test_cli_without_picamera2_is_one_line_and_exit_code_2(command: list[str]) -> None:
    code, _, stderr = run_cli(*command, "--source", "picamera", env={"PYTHONPATH": ""})
    assert code == 2
    assert len(stderr_lines(stderr)) == 1 and "python3-picamera2" in stderr


def test_a_picamera_default_in_the_settings_file_without_picamera2_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('source = "picamera"\n')
    code, _, stderr = run_cli("run", "--config", config, env={"PYTHONPATH": ""})
    assert code == 2
    assert stderr_lines(stderr) == [stderr_lines(stderr)[0]] and "picamera: " in stderr and "python3-picamera2" in stderr


def test_a_picamera_default_in_the_settings_file_works(tmp_path: Path, fake_picamera2: object) -> None:
    from emojify.cli import build_parser
    from emojify.config import settings_from_args

    config = tmp_path / "kiosk.toml"
    config.write_text('source = "picamera:0"\ncamera_size = "320x240"\n')
    settings = settings_from_args(build_parser().parse_args(["run", "--config", str(config)]))
    assert settings.source == PICAMERA


def test_each_picamera2_format_becomes_bgr(fake_picamera2) -> None:
    bgr = np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    for pixel_format in fake_picamera2.FORMATS:
        out = to_bgr(fake_picamera2._layout(bgr, pixel_format), pixel_format)
        assert out.flags.c_contiguous and np.array_equal(out, bgr), pixel_format


def test_the_reader_gives_the_cameras_picture_in_bgr_at_the_size_asked(fake_picamera2) -> None:
    reader = open_reader(PICAMERA, 320, 240)
    try:
        frame = reader.read()
    finally:
        reader.release()
    camera = fake_picamera2.Picamera2.opened[-1]
    assert camera.config["main"] == {"size": (320, 240), "format": "RGB888"}
    expected = fake_picamera2._scene((320, 240), 1, np.random.default_rng(0))  # its first frame, as B, G, R
    assert frame.shape == (240, 320, 3) and np.array_equal(frame, expected)
    assert camera.closed
    reader.release()  # twice is harmless


def test_the_live_picture_holds_a_face_the_detector_finds(fake_picamera2: object) -> None:
    reader = open_reader(PICAMERA, 640, 480)
    try:
        frames = [reader.read() for _ in range(5)]
    finally:
        reader.release()
    detector = HaarDetector()
    assert all(largest_face(detector, f, region_box(f.shape)) is not None for f in frames)


def test_a_missing_camera_module_does_not_open(fake_picamera2: object) -> None:
    with pytest.raises(OSError, match="picamera 1: no such camera module"):
        open_reader(SourceSpec("picamera", 1))


# --- like a USB camera: newest frame, reconnecting, the no-camera screen -------------------------

def test_an_unplugged_camera_module_comes_back(fake_picamera2) -> None:
    with CaptureThread(PICAMERA, stall_seconds=1.0, max_backoff=0.2) as capture:
        first = capture.wait_for_frame(10)
        assert first is not None and capture.status is SourceStatus.LIVE
        assert status_message(capture.spec, capture.event) == status_message(PICAMERA, "live")
        fake_picamera2.Picamera2.unplugged = True
        deadline = time.monotonic() + 5
        while capture.status is not SourceStatus.LOST and time.monotonic() < deadline:
            time.sleep(0.02)
        assert capture.status is SourceStatus.LOST
        assert "camera module" in status_message(capture.spec, capture.event).lower()
        fake_picamera2.Picamera2.unplugged = False
        back = capture.wait_for_frame(10, after=first.seq)
        assert back is not None and capture.reconnects == 1
    assert all(camera.closed for camera in fake_picamera2.Picamera2.opened)


def test_a_camera_module_another_program_holds_is_said_to_be_there_not_missing(
        fake_picamera2, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second kiosk (or rpicam-hello) holding the camera module showed "No camera module found. Check
    its ribbon cable", sending the owner to the cable of a camera that works."""
    monkeypatch.setenv("FAKE_PICAMERA2_BUSY", "1")
    with CaptureThread(PICAMERA, max_backoff=0.2) as capture:
        assert wait_until(lambda: capture.status is SourceStatus.LOST, timeout=5)
        assert capture.event is SourceEvent.BUSY
        assert status_message(capture.spec, capture.event) == (
            "The camera module is there but does not open. Is another program using it? Still trying...")
        monkeypatch.delenv("FAKE_PICAMERA2_BUSY")  # the other program ends
        assert capture.wait_for_frame(10) is not None and capture.status is SourceStatus.LIVE


def test_usb_camera_without_pictures_points_to_the_pi_camera(fake_picamera2: object) -> None:
    assert pi_camera_found()
    _, tips = message_tips(SourceSpec("camera", 0), pi_camera_found())
    assert any("--source picamera" in tip for tip in tips)


def test_without_a_pi_camera_the_usb_tips_stay(no_picamera2: None) -> None:
    assert not pi_camera_found()
    _, tips = message_tips(SourceSpec("camera", 0), pi_camera_found())
    assert not any("picamera" in tip for tip in tips)


# --- doctor, bench and the window --------------------------------------------------------------------

def test_doctor_lists_the_pi_cameras(fake_picamera2: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PICAMERA2_CAMERAS", "2")
    assert picamera_report() == "picamera:0 imx708, picamera:1 imx708 (use --source picamera)"
    code, stdout, stderr = run_cli("doctor", env=fake_env())
    assert code == 0, stderr
    assert "pi camera    picamera:0 imx708, picamera:1 imx708 (use --source picamera)" in stdout.splitlines()


def test_doctor_without_picamera2_says_what_a_pi_needs(no_picamera2: None) -> None:
    assert "sudo apt install python3-picamera2" in picamera_report()


@pytest.mark.parametrize(("raises", "says"), [
    ("ModuleNotFoundError(\"No module named 'libcamera'\", name='libcamera')",
     ("Picamera2, which cannot be imported here (No module named 'libcamera'); on Raspberry Pi OS: sudo apt install "
     "python3-picamera2, and make the venv with --system-site-packages")),
    ("ValueError('numpy.dtype size changed, may indicate binary incompatibility')",
     ("Picamera2 is installed but does not load with this numpy (numpy.dtype size changed, may indicate binary "
     "incompatibility); in the venv: pip install --force-reinstall simplejpeg"))])
def test_doctor_says_why_an_installed_picamera2_does_not_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               raises: str, says: str) -> None:
    """Installed but broken (a venv without the system's libcamera, apt's simplejpeg built for another
    numpy): doctor said "not installed ... sudo apt install", which does not help, where run and bench
    named the fix."""
    (tmp_path / "picamera2").mkdir()
    (tmp_path / "picamera2" / "__init__.py").write_text(f"raise {raises}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    assert says in picamera_report() and "not installed" not in picamera_report()


def test_bench_finds_the_face_in_the_pi_cameras_frames() -> None:
    code, stdout, stderr = run_cli("bench", "--source", "picamera", "--frames", "40", "--json", env=fake_env())
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["frames"] == 40 and report["frames_with_face"] >= 30


def test_bench_on_a_missing_camera_module_is_one_error_line() -> None:
    code, _, stderr = run_cli("bench", "--source", "picamera:3", "--frames", "5", env=fake_env())
    assert code == 2
    assert stderr_lines(stderr) == ["emojify: error: picamera 3: no such camera module (1 found)"]  # at once


def test_bench_on_a_camera_module_another_program_holds_is_one_error_line() -> None:
    code, _, stderr = run_cli("bench", "--source", "picamera", "--frames", "5", env=fake_env(FAKE_PICAMERA2_BUSY="1"))
    assert code == 2
    said = ("emojify: error: picamera 0: the camera module is there but does not open; is another program "
            "using it? (Failed to acquire camera: Device or resource busy)")
    assert stderr_lines(stderr) == [said]


def test_the_kiosk_shows_the_pi_cameras_live_picture(display: str, tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    log = (tmp_path / "app.log").open("w")
    env = {**os.environ, **fake_env(DISPLAY=display, EMOJIFY_STATE_FILE=str(state_file))}
    process = subprocess.Popen([sys.executable, "-m", "emojify", "run", "--source", "picamera"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        state: dict = {}
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and process.poll() is None:
            try:
                state = json.loads(state_file.read_text())
            except (OSError, ValueError):
                state = {}
            if state.get("status") == "live" and state.get("frames_shown", 0) >= 3 and state.get("box"):
                break
            time.sleep(0.2)
        assert state.get("status") == "live" and state.get("box"), (state, (tmp_path / "app.log").read_text())
        assert state["status_text"] == status_message(PICAMERA, "live") and not state["showing_message"]
        from PIL import ImageGrab

        screen = cv2.cvtColor(np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB")), cv2.COLOR_RGB2BGR)
        width, height = state["window"]
        picture = np.ascontiguousarray(screen[:height, : int(width * 0.65)])  # the window's picture side
        assert largest_face(HaarDetector.for_stills(), picture) is not None  # the astronaut, on screen
    finally:
        process.terminate()
        process.wait(10)
        log.close()


# --- a minimal system without OpenCV's GUI libraries -------------------------------------------------

@pytest.mark.parametrize(("error", "package"), [
    ("libGL.so.1: cannot open shared object file: No such file or directory", "sudo apt install libgl1"),
    ("libgthread-2.0.so.0: cannot open shared object file: No such file or directory",
     "sudo apt install libglib2.0-0"),
    ("No module named 'cv2'", "pip install opencv-python-headless"),
])
def test_opencv_that_cannot_load_is_one_line_naming_the_package(tmp_path: Path, error: str, package: str) -> None:
    broken = tmp_path / "cv2"
    broken.mkdir()
    (broken / "__init__.py").write_text(f"raise ImportError({error!r})\n")
    for command in (["--self-test"], ["doctor"], ["predict", REPO / "emojify" / "data" / "astronaut.jpg"]):
        code, _, stderr = run_cli(*command, env={"PYTHONPATH": str(tmp_path)})
        assert code == 2, (command, stderr)
        assert len(stderr_lines(stderr)) == 1 and package in stderr, (command, stderr)
