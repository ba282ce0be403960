"""Shared fixtures: ``fer_root`` (FER2013, skipped with a reason when absent), ``astronaut`` (scikit-image's
photo as BGR) and its JPEG, the shipped ``classifier``, a ``tampered_model`` and a private Xvfb ``display``.

Plain helpers (paths, tiny data sets, running the CLI) are in ``helpers.py``.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import FER_ROOT, SCREEN, copy_model, flip_byte, start_xvfb

from emojify.texts import LOCALE_VARIABLES


def pytest_configure(config: pytest.Config) -> None:
    """Signals and texts as the tests expect them, however pytest was started and wherever.

    Ctrl-C and SIGTERM as a terminal gives them: a shell's background job (``bash script &`` without
    job control) starts with SIGINT ignored, and so would every tool the tests start; the tests that
    stop one with Ctrl-C would see it finish instead."""
    config.addinivalue_line("markers", "tk_window: the test makes a Tk window in the test process")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The kiosks and commands the tests start speak English whatever this machine's locale: their
    # language setting is "auto" (emojify.texts.system_language), and the tests expect English texts.
    for name in LOCALE_VARIABLES:
        os.environ.pop(name, None)
    os.environ["LANG"] = "C.UTF-8"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[object]:
    """After a test marked ``tk_window`` (it made a Tk window in this process), its objects freed at
    once, on the main thread. A destroyed window's objects stay behind as cyclic garbage; freed by a
    collection on another thread (a later test's capture thread), Tcl aborts the whole run
    ("Tcl_AsyncDelete: async handler deleted by the wrong thread"). Here, and not in a fixture's
    teardown, as pytest holds the fixtures' values and the captured log records until the test's
    whole teardown is over."""
    result = yield
    if item.get_closest_marker("tk_window"):
        gc.collect()
    return result


@pytest.fixture(autouse=True)
def english_texts() -> Iterator[None]:
    """Every test starts and ends with the texts in English (``run_app`` sets the language)."""
    from emojify import texts

    texts.set_language("en")
    yield
    texts.set_language("en")


# --- real data -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def fer_root() -> Path:
    """The FER2013 image-folder root (``train/<class>/``, ``test/<class>/``); skip when absent."""
    if not ((FER_ROOT / "train").is_dir() and (FER_ROOT / "test").is_dir()):
        pytest.skip(f"FER2013 image folders not found at {FER_ROOT} (expected train/<class>/ and test/<class>/)")
    return FER_ROOT


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's astronaut photo (a smiling face), 512x512, as an OpenCV BGR uint8 array."""
    skimage_data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(skimage_data.astronaut()[:, :, ::-1])


@pytest.fixture(scope="session")
def astronaut_jpg(astronaut, tmp_path_factory) -> Path:
    """The astronaut written as a JPEG file (quality 95)."""
    path = tmp_path_factory.mktemp("astronaut") / "astronaut.jpg"
    assert cv2.imwrite(str(path), astronaut, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


@pytest.fixture
def tampered_model(tmp_path) -> Path:
    """A copy of the shipped model with one byte flipped (its metadata unchanged)."""
    path = copy_model(tmp_path / "tampered")
    flip_byte(path)
    return path


@pytest.fixture(scope="session")
def classifier():
    from emojify.classifier import Classifier

    return Classifier()


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """A private Xvfb screen of :data:`SCREEN`; skips the window tests where Xvfb or xdotool is missing."""
    server, name = start_xvfb(SCREEN)
    yield name
    server.terminate()
    server.wait(5)
