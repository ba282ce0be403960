"""The Raspberry Pi camera module through Picamera2 (``--source picamera`` or ``picamera:N``).

On Raspberry Pi OS Bookworm the camera module runs through libcamera, which OpenCV cannot read;
Picamera2 is Raspberry Pi's own library for it. It comes from apt (``python3-picamera2``; a venv
sees it only when made with ``--system-site-packages``) and is imported only when a Pi camera is
asked for, so everything else works without it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from emojify.errors import first_line
from emojify.sources.spec import SourceBusy, SourceSpec, SourceUnavailable

if TYPE_CHECKING:
    from typing import Self

logger = logging.getLogger(__name__)

APT_PACKAGE = "python3-picamera2"
"""The Raspberry Pi OS package that provides Picamera2 (its PyPI release lacks libcamera's bindings)."""
FORMAT = "RGB888"
"""Pixel format asked of the camera: libcamera's RGB888 is B, G, R in memory, which is OpenCV's BGR."""
DEFAULT_SIZE = (640, 480)
"""Picture size asked of the camera when none is given."""
_CHANNELS = {"RGB888": slice(None), "XRGB8888": slice(0, 3), "BGR888": slice(None, None, -1),
             "XBGR8888": slice(2, None, -1)}
"""For each Picamera2 format, the channels of its array that make B, G, R (in that order)."""


def import_picamera2() -> ModuleType:
    """The ``picamera2`` module; :class:`SourceUnavailable` (one line naming the apt package) if absent."""
    try:
        return importlib.import_module("picamera2")
    except ImportError as exc:
        raise SourceUnavailable(
            f"picamera: the Pi camera needs Picamera2, which cannot be imported here ({first_line(exc)}); "
            f"on Raspberry Pi OS: sudo apt install {APT_PACKAGE}, and make the venv with "
            "--system-site-packages (packaging/setup_env.sh does)") from None
    except ValueError as exc:  # "numpy.dtype size changed": apt's simplejpeg is built for numpy 1
        raise SourceUnavailable(
            f"picamera: Picamera2 is installed but does not load with this numpy ({first_line(exc)}); "
            "in the venv: pip install --force-reinstall simplejpeg") from None


def to_bgr(array: np.ndarray, pixel_format: str = FORMAT) -> np.ndarray:
    """A Picamera2 frame in ``pixel_format`` as a contiguous B, G, R array, as OpenCV's readers give."""
    return np.ascontiguousarray(array[:, :, _CHANNELS[pixel_format]])


class PicameraReader:
    """Camera module ``index`` through Picamera2, as a :class:`~emojify.sources.readers.Reader`.

    Raises :class:`SourceUnavailable` without Picamera2 and OSError when there is no camera
    module ``index``; any error of Picamera2 itself passes through (the capture thread retries).
    """

    @classmethod
    def from_spec(cls, spec: SourceSpec, size: tuple[int, int] | None, fps: float) -> Self:
        """Open camera module ``spec.target`` asking for ``size``; it paces itself, so ``fps`` is unused."""
        return cls(int(spec.target), size or DEFAULT_SIZE)

    def __init__(self, index: int = 0, size: tuple[int, int] = DEFAULT_SIZE) -> None:
        picamera2 = import_picamera2()
        found = len(picamera2.Picamera2.global_camera_info())
        if index >= found:
            raise OSError(f"picamera {index}: no such camera module ({found} found)")
        self.index = index
        try:
            self._camera = picamera2.Picamera2(index)
        except RuntimeError as exc:  # "Camera __init__ sequence did not complete.", raised while
            # handling "Failed to acquire camera: Device or resource busy" where another program holds it
            root: BaseException = exc
            while root.__cause__ or root.__context__:
                root = root.__cause__ or root.__context__
            raise SourceBusy(f"picamera {index}: the camera module is there but does not open; is another "
                             f"program using it? ({first_line(root)})") from None
        try:
            config = self._camera.create_video_configuration(main={"size": tuple(size), "format": FORMAT})
            self._camera.configure(config)
            self._camera.start()
        except BaseException:
            self._camera.close()
            raise
        self._open = True

    def read(self) -> np.ndarray | None:
        """Wait for the camera's next frame and return it as BGR (None for an empty one)."""
        array = self._camera.capture_array()
        if not isinstance(array, np.ndarray) or array.ndim != 3 or array.size == 0:
            return None
        return to_bgr(array)

    def release(self) -> None:
        """Stop and close the camera; calling it twice is harmless."""
        if self._open:
            self._open = False
            try:
                self._camera.stop()
            finally:
                self._camera.close()


def pi_cameras() -> list[dict]:
    """Picamera2's description of each camera module attached (``Model``, ``Location``, ...); [] without it."""
    try:
        return list(import_picamera2().Picamera2.global_camera_info())
    except SourceUnavailable:
        return []


@functools.cache
def pi_camera_found() -> bool:
    """Whether a camera module is attached (asked once per run: the "no picture" tips use it)."""
    return bool(pi_cameras())


def picamera_report() -> str:
    """``emojify doctor``'s line about the Pi camera modules: each one's number and model, or why none."""
    try:
        cameras = import_picamera2().Picamera2.global_camera_info()
    except SourceUnavailable as exc:
        if importlib.util.find_spec("picamera2") is None:
            return f"Picamera2 not installed (only a Raspberry Pi needs it: sudo apt install {APT_PACKAGE})"
        return str(exc).removeprefix("picamera: ")  # installed, but it does not load: why, and the fix
    if not cameras:
        return "Picamera2 installed, no camera module found (check the ribbon cable)"
    names = [f"picamera:{n} {info.get('Model', '?')}" for n, info in enumerate(cameras)]
    return f"{', '.join(names)} (use --source picamera)"
