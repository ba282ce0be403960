"""The readers: one class per kind of source, each giving one BGR frame per ``read()``.

:class:`ReaderKind` maps each source kind to its reader class, in one place (as picamera2's
``Preview`` enum maps a preview kind to its class); :func:`open_reader` opens a
:class:`~emojify.sources.spec.SourceSpec` through it. Files are paced like a camera and loop
forever; cameras pace themselves.
"""

from __future__ import annotations

import enum
import logging
import math
import os
import re
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from emojify.errors import one_line, reason_of
from emojify.fileio import stat_or_none
from emojify.imageio import DEFAULT_FOLDER_FPS as DEFAULT_FILE_FPS
from emojify.imageio import ImageError, read_image
from emojify.sources.picamera import PicameraReader, import_picamera2
from emojify.sources.spec import SourceBusy, SourceError, SourceKind, SourceSpec, folder_images, linked_camera

logger = logging.getLogger(__name__)

FALLBACK_VIDEO_FPS = 25.0
"""Pace for a video whose container does not state a plausible frame rate."""
MAX_PLAUSIBLE_FPS = 240.0
"""A stated video frame rate above this (or not above zero) is taken to be bogus."""

_WARNED: set[tuple[Path, int, int]] = set()
"""The unreadable pictures (path, modification time) already warned about in this process: a folder
of them is opened again every few seconds, and its log must not fill an SD card with the same lines."""


@runtime_checkable
class Reader(Protocol):
    """Something that gives frames: ``read()`` returns a frame or None (no frame / failure)."""

    def read(self) -> np.ndarray | None:
        """Return the next frame (BGR uint8 for the built-in readers), or None."""
        ...

    def release(self) -> None:
        """Free the device or file; calling it twice is harmless."""
        ...


class _Pacer:
    """Sleeps so that successive calls to :meth:`wait` are ``1 / fps`` seconds apart.

    The first call returns at once; after falling behind by more than one period the schedule
    restarts from now instead of bursting to catch up.
    """

    def __init__(self, fps: float) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self.period = 1.0 / fps
        self._due: float | None = None

    def wait(self) -> None:
        """Block until the next frame is due, then book the one after it."""
        now = time.monotonic()
        if self._due is None or now - self._due > self.period:
            self._due = now
        elif self._due > now:
            time.sleep(self._due - now)
        self._due += self.period


BAD_FRAMES_PASSED = 5
"""Frames in a row a video may fail to decode before its end, each passed over; one more starts it over."""
SLIDE_FRAME_FPS = 10.0
"""Frames a second that an image or a folder gives at least: a picture shown for longer (``--folder-fps``
under 10, e.g. 0.2 for 5 s a picture) is given again frame after frame until its time is up, as a
camera would, so the capture thread (which calls a source lost after some seconds without a frame,
:data:`~emojify.sources.capture.FILE_STALL_SECONDS`) stays live."""


def slide_pace(fps: float) -> tuple[float, int]:
    """``(frames a second, frames each picture)`` for pictures shown ``fps`` a second: the pictures'
    own rate from :data:`SLIDE_FRAME_FPS` up, below it a whole number of frames a picture at a
    frame rate of at least :data:`SLIDE_FRAME_FPS`, so each picture stays exactly ``1 / fps`` s."""
    repeats = max(1, math.ceil(SLIDE_FRAME_FPS / fps - 1e-9))
    return fps * repeats, repeats


def _as_bgr(image: np.ndarray) -> np.ndarray:
    """Return a decoded still as 3-channel BGR, so files look like a colour camera's frames."""
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image


V4L2_CLASS = Path("/sys/class/video4linux")
"""Where Linux describes each /dev/videoN: its ``index`` file is 0 for a device's first node (a USB
camera's picture) and 1, 2, ... for its others (the same camera's metadata)."""


def why_shut(index: int) -> str:
    """Why /dev/video``index``, which is there, may not open, as far as the system tells without
    opening it: the user may not use it, it is a camera's second node, or (most often) another
    program holds it."""
    if not os.access(f"/dev/video{index}", os.R_OK | os.W_OK):
        return "no permission: add this user to the video group, sudo usermod -aG video $USER, and log in again"
    with suppress(OSError, ValueError):
        if int((V4L2_CLASS / f"video{index}" / "index").read_text()) > 0:
            return "a camera's second node, its metadata, not its picture: try the camera's first node, " \
                   "v4l2-ctl --list-devices lists them"
    return "in use by another program, or no permission"


class CameraReader:
    """A live camera through ``cv2.VideoCapture(index)``; raises OSError if it does not open."""

    @classmethod
    def from_spec(cls, spec: SourceSpec, size: tuple[int, int] | None, fps: float) -> CameraReader:
        """Open camera ``spec.target`` (an index, or a link followed now to its ``/dev/videoN``) asking
        for ``size``; a camera paces itself, so ``fps`` is unused."""
        index = spec.target
        if isinstance(index, Path):
            index = linked_camera(index)
            if index is None:
                raise OSError(f"camera {spec.target}: the link leads to no camera now (unplugged?)")
        return cls(index, *(size or (None, None)))

    def __init__(self, index: int, width: int | None = None, height: int | None = None) -> None:
        self.index = index
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            if os.path.exists(f"/dev/video{index}"):  # Linux: plugged in, held by another program (or not allowed)
                raise SourceBusy(f"camera {index}: /dev/video{index} is there, but does not open ({why_shut(index)})")
            raise OSError(f"camera {index}: cannot be opened (missing or unplugged)")
        if width:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep latency low: no queue of old frames

    def read(self) -> np.ndarray | None:
        """Grab the camera's next frame (it paces itself), or None if the grab failed."""
        ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def release(self) -> None:
        """Close the camera."""
        self._cap.release()


def _video_hint() -> str:
    """Why a video may not open: the executable's slim OpenCV plays MJPEG .avi files only."""
    if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        return ""
    return (" (this OpenCV has no FFmpeg and plays only MJPEG .avi files; convert with: "
            "ffmpeg -i VIDEO -c:v mjpeg -q:v 3 VIDEO.avi)")


class VideoReader:
    """A video file played at its own frame rate (fallback 25 fps) and looped at its end; a frame of a
    slower video (a GIF of a picture every 3 s) is given again until its time is up (:func:`slide_pace`),
    as a picture of a folder is, or the capture thread took the wait for a stall and started it again.

    Raises :class:`SourceError` if OpenCV cannot open the file or decode a first frame from it.
    """

    @classmethod
    def from_spec(cls, spec: SourceSpec, size: tuple[int, int] | None, fps: float) -> VideoReader:
        """Open the video ``spec.target``; it plays at its own rate, whatever ``size`` and ``fps``."""
        return cls(Path(spec.target))

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cap = cv2.VideoCapture(str(self.path))
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None or first.size == 0:
            self._cap.release()
            raise SourceError(f"{self.path}: not a video OpenCV can read{_video_hint()}")
        self._pending: np.ndarray | None = first
        # a still in a video's clothes (a one-frame GIF, "100 fps"): given again as a picture is, not
        # sought and decoded again 100 times a second (a whole core)
        self._still = first if self._cap.get(cv2.CAP_PROP_FRAME_COUNT) == 1 else None
        fps = SLIDE_FRAME_FPS if self._still is not None else self._cap.get(cv2.CAP_PROP_FPS)
        plausible = math.isfinite(fps) and 0 < fps <= MAX_PLAUSIBLE_FPS
        self.fps = fps if plausible else FALLBACK_VIDEO_FPS
        frame_fps, self._repeats = slide_pace(self.fps)
        self._pacer = _Pacer(frame_fps)
        self._shown: np.ndarray | None = None
        self._given = 0

    def _restart(self) -> np.ndarray | None:
        """Go back to the first frame (seek, or reopen where seeking fails) and return it."""
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._cap.release()
            self._cap = cv2.VideoCapture(str(self.path))
            ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def read(self) -> np.ndarray | None:
        """Return the next frame once it is due (a slow video's frame again while it stays: a copy,
        for the caller to draw on), starting over after the last one."""
        self._pacer.wait()
        if self._shown is not None and self._given < self._repeats:
            self._given += 1
            return self._shown.copy()
        frame = self._decoded()
        self._shown, self._given = (frame, 1) if self._repeats > 1 and frame is not None else (None, 0)
        return frame if self._shown is None else frame.copy()

    def _decoded(self) -> np.ndarray | None:
        """The video's next frame, the first after the last; a damaged frame (a bad JPEG in an MJPEG
        file) is passed over, not taken for the end (the video's first seconds looped for ever)."""
        if self._still is not None:
            return self._still.copy()
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        for _ in range(BAD_FRAMES_PASSED):
            ok, frame = self._cap.read()
            if ok and frame is not None:
                return frame
            if not self._cap.get(cv2.CAP_PROP_POS_FRAMES) < self._cap.get(cv2.CAP_PROP_FRAME_COUNT):
                break  # the end (or a stream that does not say how long it is)
            logger.debug("%s: a frame that does not decode, passed over", self.path)
        logger.debug("%s: end of video, starting over", self.path)
        return self._restart()

    def release(self) -> None:
        """Close the file."""
        self._cap.release()


class ImageReader:
    """One still image repeated as an endless stream at ``fps`` frames per second (at least
    :data:`SLIDE_FRAME_FPS`).

    Raises :class:`SourceError` if the image cannot be read. Each read returns a fresh copy, so
    a caller may draw on it without changing later frames.
    """

    @classmethod
    def from_spec(cls, spec: SourceSpec, size: tuple[int, int] | None, fps: float) -> ImageReader:
        """Open the image ``spec.target`` replayed at ``fps``; it keeps its own size."""
        return cls(Path(spec.target), fps)

    def __init__(self, path: Path, fps: float = DEFAULT_FILE_FPS) -> None:
        self.path = Path(path)
        try:
            self._image = _as_bgr(read_image(self.path))
        except ImageError as exc:
            raise SourceError(str(exc)) from None
        self._pacer = _Pacer(slide_pace(fps)[0])

    def read(self) -> np.ndarray | None:
        """Return a copy of the image once the next frame is due."""
        self._pacer.wait()
        return self._image.copy()

    def release(self) -> None:
        """Nothing to free; present for the :class:`Reader` protocol."""


def _in_number_order(paths: list[Path]) -> list[Path]:
    """``paths`` in name order with the numbers in the names by their value, as a file manager shows
    them: ``photo 2`` before ``photo 10`` (a phone's or a camera's export: ``photo (1)`` .. ``photo (12)``).

    Hand-written: natsort does this and more, but would be one more package in the Pi's executable
    for one sort key."""
    def key(path: Path) -> tuple[list[str | int], str]:
        parts: list[str | int] = re.split(r"([0-9]+)", path.name.casefold())  # text, number, text, ...
        return [int(part) if i % 2 else part for i, part in enumerate(parts)], path.name
    return sorted(paths, key=key)


class FolderReader:
    """A folder's images in name order (:func:`_in_number_order`), ``fps`` pictures a second, looped forever; each picture is
    given again frame after frame while it stays (:func:`slide_pace`).

    The folder is listed when opened and again after each round, so pictures added while it plays
    join the next round. Unreadable images are skipped with one warning each (in the process, not
    each opening: the kiosk opens a folder of them again and again), and tried again once changed
    (a picture caught half-copied);
    if none at all can be read, ``read()`` returns None (:meth:`check` says so, for the start). Raises
    :class:`SourceError` if the folder holds no image files.
    """

    @classmethod
    def from_spec(cls, spec: SourceSpec, size: tuple[int, int] | None, fps: float) -> FolderReader:
        """Open the folder ``spec.target`` replayed at ``fps``; its images keep their own sizes."""
        return cls(Path(spec.target), fps)

    def __init__(self, folder: Path, fps: float = DEFAULT_FILE_FPS) -> None:
        self.folder = Path(folder)
        try:
            self.paths = _in_number_order(folder_images(self.folder))
        except OSError as exc:
            raise SourceError(f"{self.folder}: cannot list folder ({reason_of(exc)})") from None
        if not self.paths:
            raise SourceError(f"{self.folder}: folder holds no images")
        self._next, self._began = 0, False  # the first round shows the folder as listed here
        self._bad: set[tuple[Path, int, int]] = set()  # each as it was when it could not be read (_version)
        frame_fps, self._repeats = slide_pace(fps)
        self._pacer = _Pacer(frame_fps)
        self._shown: np.ndarray | None = None
        self._given = 0

    def read(self) -> np.ndarray | None:
        """Return a copy of the picture on show once the next frame is due, moving on to the next
        readable picture when its frames are given; None if none can be read."""
        self._pacer.wait()
        if self._shown is None or self._given >= self._repeats:
            self._shown, self._given = self._next_picture(), 0
            if self._shown is None:
                return None
        self._given += 1
        return self._shown.copy()

    def _next_picture(self, skipped: Callable[[Path, ImageError], object] | None = None) -> np.ndarray | None:
        """The next readable image in the folder's order, or None if none can be read. Each picture
        that cannot be read is passed over until it changes and given to ``skipped`` (by default a
        warning, once per process and version of the file)."""
        tried = 0
        while tried < len(self.paths):  # the list may grow on the way: a new round lists the folder again
            tried += 1
            if self._next == 0 and self._began:  # a new round shows the folder as it is now
                self._list_again()
            self._began = True
            path = self.paths[self._next]
            self._next = (self._next + 1) % len(self.paths)
            if _version(path) in self._bad:
                continue
            try:
                return _as_bgr(read_image(path))
            except ImageError as exc:
                self._bad.add(_version(path))
                (skipped or _warn_skipped)(path, exc)
        return None

    def _list_again(self) -> None:
        """The folder's pictures as they are now; the old list where it cannot be listed or holds none
        (a stick pulled out: those pictures then fail, and the folder is waited for)."""
        with suppress(OSError):
            self.paths = _in_number_order(folder_images(self.folder)) or self.paths

    def check(self) -> None:
        """Raise :class:`SourceError` unless one of the folder's pictures can be read, decoding them in
        order only up to the first that can (a big folder of good photos costs one picture), which
        is then the first one shown."""
        skipped: list[tuple[Path, ImageError]] = []
        picture = self._next_picture(lambda path, exc: skipped.append((path, exc)))
        if picture is not None:  # the pictures passed over are said as the slideshow says them
            for path, exc in skipped:
                _warn_skipped(path, exc)
            self._shown, self._given = picture, 0
            return
        if not skipped:  # checked before, or read: the pictures are known bad, and why was said then
            raise SourceError(f"{self.folder}: none of its pictures can be read; put pictures that open in the folder")
        path, exc = skipped[0]
        problem = str(exc).replace(one_line(str(path)), one_line(path.name), 1)
        which = "its one picture cannot" if len(self.paths) == 1 else f"none of its {len(self.paths)} pictures can"
        raise SourceError(f"{self.folder}: {which} be read ({problem}); put pictures that open "
                          "in the folder itself (sub-folders and hidden files are passed over)")

    def release(self) -> None:
        """Nothing to free; present for the :class:`Reader` protocol."""


def _version(path: Path) -> tuple[Path, int, int]:
    """``path`` as it is now: with its time of change and its size (-1, -1 where it is gone); the size
    too, for a USB stick's FAT keeps the time to 2 s, the span of a copy."""
    info = stat_or_none(path)
    return (path, -1, -1) if info is None else (path, info.st_mtime_ns, info.st_size)


def _warn_skipped(path: Path, exc: ImageError) -> None:
    """Log that ``path`` is passed over, the first time this process finds it (as it is now) unreadable."""
    key = _version(path)
    if key not in _WARNED:
        _WARNED.add(key)
        logger.warning("skipping %s", exc)


class ReaderKind(enum.Enum):
    """Each :class:`SourceKind`, by the same name, and the class that reads it."""

    CAMERA = CameraReader
    PICAMERA = PicameraReader
    VIDEO = VideoReader
    IMAGE = ImageReader
    FOLDER = FolderReader


def open_reader(
    spec: SourceSpec,
    width: int | None = None,
    height: int | None = None,
    fps: float = DEFAULT_FILE_FPS,
) -> Reader:
    """Open ``spec`` as a :class:`Reader` of the class :class:`ReaderKind` names for its kind.

    ``width``/``height`` are asked of a camera (which may pick the nearest mode it has) and
    ignored for files; ``fps`` paces images and folders (videos use their own rate). Raises
    OSError for a camera that does not open and :class:`SourceError` for a file or folder that
    cannot be read.
    """
    size = (width, height) if width and height else None
    return ReaderKind[spec.kind.name].value.from_spec(spec, size, fps)


def probe_source(spec: SourceSpec) -> None:
    """Fail now, with one line saying why, for a source that can never work on this machine.

    A Pi camera needs Picamera2 (:class:`SourceUnavailable`, naming the apt package); a file is
    opened once and let go, and a folder must hold a picture that can be read (:class:`SourceError`:
    not an image, not a video, ...). A USB camera is not opened: it may be plugged in later, and the
    kiosk waits for it. (A folder that empties while the kiosk runs is waited for, as a camera is.)
    """
    if spec.kind is SourceKind.PICAMERA:
        import_picamera2()
    elif spec.kind is SourceKind.FOLDER:
        FolderReader(Path(spec.target)).check()
    elif not spec.kind.is_camera:
        open_reader(spec).release()
