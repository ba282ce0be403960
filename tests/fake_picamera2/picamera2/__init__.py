"""A stand-in for Raspberry Pi's ``picamera2``: the part of its API emojify uses, serving a real face.

Put ``tests/fake_picamera2`` first on ``sys.path`` (or ``PYTHONPATH`` for a subprocess). Each
camera "films" the astronaut photo (``emojify/data/astronaut.jpg``) on a gray background, the
head drifting a little and with sensor noise, at about 30 frames per second, in the pixel layout
the real library gives for the format asked: "RGB888" is B, G, R in memory, "XRGB8888" B, G, R, X.

Controls for tests: the environment variable ``FAKE_PICAMERA2_CAMERAS`` (default 1) is how many
camera modules are attached, and ``FAKE_PICAMERA2_BUSY=1`` makes opening one fail as when another
program holds it; setting :attr:`Picamera2.unplugged` to True makes every camera
vanish (``global_camera_info()`` is empty, opening raises, ``capture_array`` raises) until it is
set back to False.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

PHOTO = Path(__file__).resolve().parents[3] / "emojify" / "data" / "astronaut.jpg"
HEAD = (110, 0, 230, 250)
"""(x, y, w, h) of the head and shoulders in the photo."""
FRAME_SECONDS = 1 / 30
FORMATS = ("RGB888", "XRGB8888", "BGR888", "XBGR8888")


@functools.cache
def _head(tall: int) -> np.ndarray:
    """The photo's head and shoulders, ``tall`` pixels high, as B, G, R."""
    x0, y0, w0, h0 = HEAD
    head = cv2.imread(str(PHOTO))[y0:y0 + h0, x0:x0 + w0]
    return cv2.resize(head, (max(8, w0 * tall // h0), tall), interpolation=cv2.INTER_AREA)


def _scene(size: tuple[int, int], seq: int, rng: np.random.Generator) -> np.ndarray:
    """Frame ``seq`` of the scene as B, G, R: the head at 55% of the frame's height, near the centre."""
    width, height = size
    head = _head(max(8, int(height * 0.55)))
    frame = np.full((height, width, 3), 120, np.uint8)
    x = (width - head.shape[1]) // 2 + int(width * 0.02 * np.sin(seq / 10))
    y = (height - head.shape[0]) // 2
    frame[y:y + head.shape[0], x:x + head.shape[1]] = head[:height - y, :width - x]
    noise = rng.integers(-4, 5, frame.shape, dtype=np.int16)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _layout(bgr: np.ndarray, pixel_format: str) -> np.ndarray:
    """The frame as Picamera2 hands it out for ``pixel_format`` (libcamera's names, little-endian)."""
    if pixel_format == "RGB888":
        return bgr.copy()
    if pixel_format == "BGR888":
        return bgr[:, :, ::-1].copy()
    alpha = np.full(bgr.shape[:2] + (1,), 255, np.uint8)
    colour = bgr if pixel_format == "XRGB8888" else bgr[:, :, ::-1]
    return np.concatenate([colour, alpha], axis=2)


class Picamera2:
    """One camera module: configure, start, capture_array, stop, close, like the real class."""

    unplugged: ClassVar[bool] = False
    opened: ClassVar[list[Picamera2]] = []
    """Every camera object made (tests check that each was closed)."""

    @staticmethod
    def global_camera_info() -> list[dict]:
        """One dict per attached camera module, as the real library describes them."""
        if Picamera2.unplugged:
            return []
        count = int(os.environ.get("FAKE_PICAMERA2_CAMERAS", "1"))
        return [{"Model": "imx708", "Location": 2, "Rotation": 180, "Num": n,
                 "Id": f"/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a#{n}"} for n in range(count)]

    def __init__(self, camera_num: int = 0) -> None:
        if camera_num >= len(self.global_camera_info()):
            raise IndexError("list index out of range")  # what the real Picamera2(n) raises
        if os.environ.get("FAKE_PICAMERA2_BUSY") == "1":  # the real library's words
            raise RuntimeError("Failed to acquire camera: Device or resource busy")
        self.camera_num = camera_num
        self.config: dict | None = None
        self.started = self.closed = False
        self._seq = 0
        self._rng = np.random.default_rng(camera_num)
        self._due = 0.0
        self._lock = threading.Lock()
        Picamera2.opened.append(self)

    def create_video_configuration(self, main: dict | None = None, **_: object) -> dict:
        """A configuration for ``main`` = {"size": (w, h), "format": ...} (default 640x480 XBGR8888)."""
        main = {"size": (640, 480), "format": "XBGR8888", **(main or {})}
        if main["format"] not in FORMATS:
            raise RuntimeError(f"fake picamera2: format {main['format']} not supported")
        return {"use_case": "video", "main": main}

    def configure(self, config: dict) -> None:
        if self.closed:
            raise RuntimeError("Camera is closed")
        self.config = config

    def start(self) -> None:
        if self.config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True

    def capture_array(self, name: str = "main") -> np.ndarray:
        """Wait for the next frame (30 per second) and return it in the configured layout."""
        if Picamera2.unplugged or not self.started or self.closed:
            raise RuntimeError("Camera frontend has timed out!")
        with self._lock:
            now = time.monotonic()
            if self._due > now:
                time.sleep(self._due - now)
            self._due = max(now, self._due) + FRAME_SECONDS
            self._seq += 1
            main = self.config[name]
            return _layout(_scene(tuple(main["size"]), self._seq, self._rng), main["format"])

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.started, self.closed = False, True
