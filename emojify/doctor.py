"""``emojify doctor``: what is installed, what works, and what to do about what does not."""

from __future__ import annotations

import importlib.util
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from emojify import __version__
from emojify.classifier import BACKENDS, Classifier, backend_version
from emojify.emojis import load_emoji_set
from emojify.errors import first_line
from emojify.faces import BlazeFaceDetector, Range, detector_model_path, haar_report
from emojify.landmarks import load_mesh
from emojify.selftest import Check, run_checks
from emojify.sources import picamera_report
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
    """Whether camera ``index`` opens and gives a frame."""
    capture = cv2.VideoCapture(index)
    try:
        if not capture.isOpened():
            return f"camera {index}: not found (plug in a USB webcam, or use --source VIDEO|IMAGE|FOLDER)"
        ok, frame = capture.read()
        return f"camera {index}: {frame.shape[1]}x{frame.shape[0]}" if ok else f"camera {index}: opens, no frames"
    finally:
        capture.release()


def window_report() -> str:
    """Whether the kiosk's window can open here: Tkinter installed and a display to show it on (the
    other commands need neither, so neither is a problem of the install)."""
    try:
        import tkinter
    except ImportError:
        return "Tkinter not installed (sudo apt install python3-tk): the kiosk cannot open its window"
    try:
        root = tkinter.Tk(className="emojify")  # destroyed before it is ever drawn
    except tkinter.TclError as exc:
        return f"no display ({first_line(exc)}): the kiosk cannot open its window here; run it on the desktop"
    try:
        return (f"Tk {root.tk.call('info', 'patchlevel')} on display {root.winfo_screen()} "
                f"({root.winfo_screenwidth()}x{root.winfo_screenheight()})")
    finally:
        root.destroy()


def run_doctor(model: Path | None, emoji_dir: Path | None, say: Callable[[str], None] = print) -> bool:
    """Print the report; True when the model, detector and emoji set all work (a camera is optional)."""
    say(f"emojify {__version__}, Python {platform.python_version()} on {platform.machine()} ({sys.platform})")
    backends = ", ".join(dict.fromkeys(map(cv2.videoio_registry.getBackendName, cv2.videoio_registry.getBackends())))
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
