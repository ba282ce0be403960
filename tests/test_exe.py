"""The standalone executable: built from this checkout with packaging/build_exe.sh and run as the
kiosk runs it, without Python, TensorFlow, a screen (except the window test) or a camera.

Building takes minutes and downloads the runtime wheels into build/venv-exe, so these tests run
only where CI is set (CI sets CI=true) or EMOJIFY_TEST_EXE=1; otherwise they skip, saying so.
EMOJIFY_EXE_DIST=DIR tests an executable already built into DIR (DIR/emojify/emojify) instead.
The window test needs Xvfb and xdotool (apt-get install xvfb xdotool) and skips without them.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKS = ("model", "face detector", "emoji set", "pipeline")
"""The checks of ``emojify --self-test`` (emojify/selftest.py), one ``ok`` line each."""
SIZE_LIMIT_MIB = 150
"""Largest acceptable onedir bundle (MiB, as du -sh counts), with the slim OpenCV that these tests
build with (--slim-opencv, the default where a compiler is; about 110 MiB on x86_64). A --stock-opencv
bundle is about 250 MiB (PyPI's OpenCV carries FFmpeg and OpenBLAS); test one with EMOJIFY_EXE_MAX_MB=270."""
UNUSED = re.compile(r"(tensorflow|tf_keras|keras|matplotlib|scipy|skimage|PyQt[56]|PySide[26])([.-].*)?"
                    r"|libQt5.*|libQt6.*", re.IGNORECASE)
"""Packages (with their .libs and .dist-info folders) and libraries the kiosk never uses."""
BACKGROUND = (22, 24, 31)
"""emojify.app's window background, to tell an empty window from one showing the picture."""
SCREEN = (1280, 800)


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


ENABLED = _truthy("CI") or _truthy("EMOJIFY_TEST_EXE") or bool(os.environ.get("EMOJIFY_EXE_DIST"))
BUILD_SECONDS = 3600
"""The longest the build may take (compiling the slim OpenCV on a slow machine)."""
pytestmark = [
    pytest.mark.skipif(
        not ENABLED, reason="builds the standalone executable (several minutes, downloads wheels): "
                            "set EMOJIFY_TEST_EXE=1 to run (CI=true does too), or EMOJIFY_EXE_DIST=DIR to "
                            "test one already built into DIR"),
    # the first test builds the executable (the dist fixture), which the suite's 10-minute limit does not allow
    pytest.mark.timeout(BUILD_SECONDS + 600),
]


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dist folder holding emojify/emojify: built once per session into a temporary folder."""
    given = os.environ.get("EMOJIFY_EXE_DIST")
    if given:
        folder = Path(given).resolve()
        if not (folder / "emojify" / "emojify").is_file():
            pytest.fail(f"EMOJIFY_EXE_DIST={given}: no emojify/emojify in it; build with packaging/build_exe.sh")
        return folder
    top = tmp_path_factory.mktemp("exe")
    log = top / "build.log"
    with log.open("w") as handle:
        done = subprocess.run(
            ["bash", str(REPO / "packaging" / "build_exe.sh"), "--reuse", "--no-self-test", "--slim-opencv",
             "--dist", str(top / "dist"), "--work", str(top / "work")],
            cwd=REPO, stdout=handle, stderr=subprocess.STDOUT, timeout=BUILD_SECONDS, check=False)
    if done.returncode != 0:
        pytest.fail(f"build_exe.sh failed with exit code {done.returncode}:\n{log.read_text()[-4000:]}")
    return top / "dist"


@pytest.fixture(scope="session")
def exe(dist: Path) -> Path:
    return dist / "emojify" / "emojify"


def headless_env() -> dict[str, str]:
    """The environment without any display: the self-test must not need one."""
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")}


def run(exe: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], env=env or headless_env(), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


# --- without a screen ------------------------------------------------------------------------

def test_self_test_passes_without_display_or_camera(exe: Path, tmp_path: Path) -> None:
    done = run(exe, "--self-test", cwd=tmp_path)  # not in the checkout: everything must come from the bundle
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    for name in CHECKS:
        assert sum(bool(re.match(rf"ok\s+{name}: ", line)) for line in lines) == 1, (name, done.stdout)
    assert not [line for line in lines if line.startswith("FAIL")], done.stdout
    assert lines[-1] == "self-test passed"
    bundle = str(exe.parent)
    emoji_line = next(line for line in lines if line.startswith("ok    emoji set"))
    assert bundle in emoji_line, f"emoji set not read from the bundle: {emoji_line}"
    model_line = next(line for line in lines if line.startswith("ok    model"))
    assert "ai_edge_litert" in model_line or "tflite_runtime" in model_line, model_line


def bundle_size_mib(folder: Path) -> float:
    """Disk usage of ``folder`` like ``du -s`` (symbolic links count as themselves)."""
    total = 0
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total / 2**20


def test_bundle_has_no_tensorflow_and_fits_the_size_limit(exe: Path, record_property) -> None:
    bundle = exe.parent
    names = [p.relative_to(bundle) for p in bundle.rglob("*")]
    tensorflow = [str(p) for p in names if "tensorflow" in p.name.lower()]
    assert not tensorflow, f"TensorFlow in the bundle: {tensorflow[:10]}"
    unwanted = [str(p) for p in names if any(UNUSED.fullmatch(part) for part in p.parts)]
    assert not unwanted, f"files the kiosk never uses: {unwanted[:10]}"
    for needed in ("model/emotion_int8.tflite", "model/emotion_int8.json", "model/face_landmark.tflite",
                   "emojis/emojis.json",
                   "emojify/data/astronaut.jpg",
                   "emojify/locale/de/LC_MESSAGES/emojify.mo"):
        assert (bundle / "_internal" / needed).is_file(), needed
    # the cascade goes in with an OpenCV that can load it (PyPI's), not with the slim one
    cascade = bundle / "_internal" / "cv2" / "data" / "haarcascade_frontalface_default.xml"
    assert cascade.is_file() == has_haar(exe)
    assert not list((bundle / "_internal" / "model").glob("*.keras"))
    size = bundle_size_mib(bundle)
    record_property("bundle_mib", round(size, 1))
    limit = float(os.environ.get("EMOJIFY_EXE_MAX_MB") or SIZE_LIMIT_MIB)
    assert size <= limit, f"bundle is {size:.0f} MiB, limit {limit:.0f} MiB"


def test_bundled_opencv_reads_cameras(exe: Path) -> None:
    """Whatever OpenCV went in (slim or stock), it must talk to V4L2 cameras: the kiosk's whole point."""
    done = run(exe, "doctor")
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("numpy "))
    backends = re.search(r"video back-ends: ([^)]*)\)", line).group(1).split(", ")
    assert "V4L2" in backends, line


def has_haar(exe: Path) -> bool:
    """Whether the bundled OpenCV has the Haar cascade, as ``doctor`` says."""
    done = run(exe, "doctor")
    line = next(line for line in done.stdout.splitlines() if line.startswith("detector"))
    return "no Haar cascade in this OpenCV" not in line


def test_the_slim_opencv_says_why_there_is_no_haar_detector(exe: Path) -> None:
    """The slim OpenCV (the default build, and the one these tests build) has no cascade classifier:
    BlazeFace reads the sample face, --detector haar is one line and exit code 2 with the way out."""
    if has_haar(exe):
        pytest.skip("this bundle has PyPI's OpenCV, with the Haar cascade")
    sample = exe.parent / "_internal" / "emojify" / "data" / "astronaut.jpg"
    done = run(exe, "predict", "--detector", "haar", str(sample))
    assert done.returncode == 2 and done.stdout == "", done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "--detector blazeface" in done.stderr, done.stderr
    done = run(exe, "predict", "--json", str(sample))
    assert done.returncode == 0 and json.loads(done.stdout)[0]["label"] == "happy", done.stdout + done.stderr


def test_help_and_version(exe: Path) -> None:
    shown = run(exe, "--help")
    assert shown.returncode == 0 and "usage: emojify" in shown.stdout
    for command in ("run", "predict", "evaluate", "bench", "doctor"):
        assert command in shown.stdout
    run_help = run(exe, "run", "--help")
    assert run_help.returncode == 0 and "--kiosk" in run_help.stdout and "--self-test" in run_help.stdout
    version = run(exe, "--version")
    assert version.returncode == 0 and re.fullmatch(r"emojify \S+\n", version.stdout), version.stdout


def test_bad_flag_exits_2_with_one_line(exe: Path) -> None:
    done = run(exe, "--region", "abc")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("emojify: error: ") and "region" in done.stderr


# --- the window, on a virtual screen -----------------------------------------------------------

@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb screen on a display number Xvfb picks itself (-displayfd)."""
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install xvfb xdotool)")
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                               "-nolisten", "tcp"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ready, _, _ = select.select([server.stdout], [], [], 15)
    number = server.stdout.readline().decode().strip() if ready else ""
    if not number.isdigit():
        server.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(5)


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder source: the built-in astronaut as a 640x480 "webcam" frame, face in the capture region."""
    photo = cv2.imread(str(REPO / "emojify" / "data" / "astronaut.jpg"))
    photo = cv2.resize(photo, None, fx=1.8, fy=1.8, interpolation=cv2.INTER_AREA)
    folder = tmp_path_factory.mktemp("faces")
    cv2.imwrite(str(folder / "astronaut.png"), np.ascontiguousarray(photo[3:483, 83:723]))
    return folder


def xdotool(display: str, *args: str) -> str:
    return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, timeout=10, check=False).stdout.strip()


def picture_shown(display: str, geometry: dict[str, int]) -> bool:
    """True when the left (picture) part of the window is mostly not the empty background."""
    from PIL import ImageGrab

    x, y, w, h = geometry["X"], geometry["Y"], geometry["WIDTH"], geometry["HEIGHT"]
    box = (x + int(w * 0.05), y + int(h * 0.2), x + int(w * 0.6), y + int(h * 0.8))
    pixels = np.asarray(ImageGrab.grab(bbox=box, xdisplay=display).convert("RGB"), dtype=np.int16)
    differs = np.abs(pixels - np.array(BACKGROUND)).sum(axis=2) > 40
    return bool(differs.mean() > 0.5)


def test_window_shows_the_picture_and_quits_with_the_exit_keys(exe: Path, display: str, faces: Path,
                                                               tmp_path: Path, record_property) -> None:
    state_file, log_path = tmp_path / "state.json", tmp_path / "app.log"
    env = {**headless_env(), "DISPLAY": display, "EMOJIFY_STATE_FILE": str(state_file)}
    started = time.monotonic()
    with log_path.open("w") as log:
        app = subprocess.Popen([str(exe), "--source", str(faces)],
                               env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        def wait_for(probe, what: str, timeout: float = 60.0):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                value = probe()
                if value:
                    return value
                if app.poll() is not None:
                    break
                time.sleep(0.02)
            pytest.fail(f"timed out waiting for {what}; exit code {app.poll()}; log:\n{log_path.read_text()[-3000:]}")

        window = wait_for(lambda: xdotool(display, "search", "--name", "^emojify$").split()[:1], "the window")[0]
        window_s = time.monotonic() - started
        geometry = {k: int(v) for k, v in (line.split("=") for line in
                    xdotool(display, "getwindowgeometry", "--shell", window).splitlines()) if k != "SCREEN"}
        wait_for(lambda: picture_shown(display, geometry), "the camera picture on screen")
        first_frame_s = time.monotonic() - started
        record_property("window_s", round(window_s, 2))
        record_property("first_frame_s", round(first_frame_s, 2))
        print(f"window after {window_s:.2f} s, picture on screen after {first_frame_s:.2f} s")

        time.sleep(3)  # a few seconds of running
        state = json.loads(state_file.read_text())
        assert state["frames_shown"] > 0 and state["status"] == "live" and not state["showing_message"], state
        assert app.poll() is None, log_path.read_text()

        xdotool(display, "mousemove", "200", "200")
        xdotool(display, "windowfocus", "--sync", window)
        xdotool(display, "key", "ctrl+shift+q")
        try:
            code = app.wait(15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the exit keys did not end the app; log:\n{log_path.read_text()[-3000:]}")
        assert code == 0, log_path.read_text()
        problems = [line for line in log_path.read_text().splitlines() if "ERROR" in line or "Traceback" in line]
        assert not problems, log_path.read_text()[-3000:]
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(5)
