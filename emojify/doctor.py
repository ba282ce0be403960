"""``emojify doctor``: what is installed, what works, and what to do about what does not."""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from emojify import __version__
from emojify.classifier import BACKENDS, Classifier, backend_version
from emojify.emojis import load_emoji_set
from emojify.faces import BlazeFaceDetector, Range, detector_model_path, haar_report
from emojify.landmarks import load_mesh
from emojify.selftest import Check, run_checks
from emojify.sources import CameraReader, SourceBusy, picamera_report
from emojify.stats import HOW_TO_READ


def interpreter_report() -> list[str]:
    """One line per TFLite backend: installed or not, and its version (without importing it:
    importing TensorFlow alone takes seconds). The model line says which one actually runs."""
    lines = []
    for name, module_name in BACKENDS:
        installed = importlib.util.find_spec(module_name.split(".")[0]) is not None
        lines.append(f"{name}: {backend_version(name)} installed" if installed else f"{name}: not installed")
    return lines


def camera_report(index: int = 0) -> str:
    """Whether camera ``index`` opens and gives a frame, opened as the kiosk opens it: one that is there
    but does not open (the kiosk itself running) is not reported missing."""
    try:
        camera = CameraReader(index)
    except SourceBusy as exc:
        return f"camera {index}: {str(exc).removeprefix(f'camera {index}: ')}"
    except OSError:
        return f"camera {index}: not found (plug in a USB webcam, or use --source VIDEO|IMAGE|FOLDER)"
    try:
        frame = camera.read()
        return f"camera {index}: {frame.shape[1]}x{frame.shape[0]}" if frame is not None else f"camera {index}: opens, no frames"
    finally:
        camera.release()


WINDOW_PROBE = ("import tkinter; root = tkinter.Tk(className='emojify'); "
                "print(root.tk.call('info', 'patchlevel'), root.winfo_screen(), root.winfo_screenwidth(), "
                "root.winfo_screenheight()); root.destroy()")
"""Opens the kiosk's window (never drawn: destroyed at once) and prints Tk's version and the screen."""
WINDOW_SECONDS = 10.0
"""How long doctor waits for a display to answer: a wedged X server, or a stalled SSH tunnel, accepts
the connection and then never answers, and Xlib waits for it where no signal reaches Python."""


def window_report() -> str:
    """Whether the kiosk's window can open here: Tkinter installed and a display that answers (the
    other commands need neither, so neither is a problem of the install). The window is opened in a
    child process, which is ended when the display does not answer."""
    shown = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if importlib.util.find_spec("tkinter") is None:
        return "Tkinter not installed (sudo apt install python3-tk): the kiosk cannot open its window"
    if not shown:
        return "no display (DISPLAY is not set): the kiosk cannot open its window here; run it on the desktop"
    if getattr(sys, "frozen", False):  # the executable runs no Python code given to it
        return f"display {shown} (the kiosk opens its window there)"
    try:
        probe = subprocess.run([sys.executable, "-c", WINDOW_PROBE], capture_output=True, text=True,
                               timeout=WINDOW_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return f"the display {shown} does not answer ({WINDOW_SECONDS:.0f} s): the kiosk cannot open its window"
    if probe.returncode != 0:
        why = (probe.stderr.strip().splitlines() or ["no reason given"])[-1].removeprefix("_tkinter.TclError: ")
        return f"cannot open a window on {shown} ({why})"
    shown_by_tk = (probe.stdout.strip().splitlines() or [""])[-1].split()  # its line is the last: a site hook may print
    if len(shown_by_tk) != 4:  # the window opened (exit code 0); only its details are missing
        return f"a window opens on display {shown}"
    version, screen, width, height = shown_by_tk
    return f"Tk {version} on display {screen} ({width}x{height})"


def run_doctor(model: Path | None, emoji_dir: Path | None, say: Callable[[str], None] = print) -> bool:
    """Print the report; True when the model, detector and emoji set all work (a camera is optional)."""
    say(f"emojify {__version__}, Python {platform.python_version()} on {platform.machine()} ({sys.platform})")
    registry = cv2.videoio_registry  # its list holds plug-ins that did not load (GStreamer, not built in): left out
    backends = ", ".join(dict.fromkeys(registry.getBackendName(backend) for backend in registry.getBackends()
                                       if registry.hasBackend(backend)))
    say(f"numpy {np.__version__}, OpenCV {cv2.__version__} (video back-ends: {backends})")
    for line in interpreter_report():
        say(f"interpreter  {line}")
    checks: tuple[Check, ...] = (
        ("model", lambda: _model_line(model)),
        ("detector", _detector_line),
        ("face mesh", lambda: f"{load_mesh().path} (verified)"),
        ("emoji set", lambda: f"{load_emoji_set(emoji_dir).folder} (7 images)"),
        ("window", window_report),
        ("camera", camera_report),
        ("pi camera", picamera_report),
    )
    passed = run_checks(checks, lambda o: say(f"{o.name:<12} {'' if o.passed else 'PROBLEM: '}{o.detail}"))
    say(f"{'speed':<12} {HOW_TO_READ}")
    return passed


def _detector_line() -> str:
    """Both face detectors load: BlazeFace (the default, checksum verified) and the Haar cascade, where
    this OpenCV has one (the executable's slim OpenCV has not: that is no problem)."""
    BlazeFaceDetector()
    return f"{detector_model_path(Range.SHORT)} (verified, default); {haar_report()}"


def accuracy_words(metadata: dict) -> str:
    """The model's PublicTest accuracy as the README gives it, from its metadata (the one source of
    the figures): ``PublicTest accuracy 66.0% (raw network 66.2%)``; "" for a model without them."""
    metrics = metadata.get("metrics", {}).get("publictest", {})
    shown, raw = metrics.get("int8_decision", {}).get("accuracy"), metrics.get("int8", {}).get("accuracy")
    if shown is None or raw is None:
        return ""
    return f"PublicTest accuracy {shown:.1%} (raw network {raw:.1%})"


def _model_line(model: Path | None) -> str:
    info = Classifier(model).info
    accuracy = accuracy_words(info.metadata)
    return f"{info.path} sha256 {info.sha256} (verified), runs on {info.backend}{', ' + accuracy if accuracy else ''}"
