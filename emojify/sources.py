"""Frame sources: a camera, a video file, one image or a folder of images, as one live stream.

:func:`parse_source` turns what the user typed (``0``, ``/dev/video2``, ``clip.avi``,
``face.jpg``, ``photos/``) into a :class:`SourceSpec`; :func:`open_reader` opens it as a
:class:`Reader` whose ``read()`` gives one BGR frame at a time, files paced like a camera and
looped forever. :class:`CaptureThread` reads a source in the background, keeps only the newest
frame, and survives a camera that is missing, unplugged, failing or stalled by reconnecting with
back-off, while telling the UI what is going on through :class:`SourceStatus` and a sentence.
"""

from __future__ import annotations

import enum
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import cv2
import numpy as np

from emojify.errors import EmojifyError
from emojify.imageio import IMAGE_SUFFIXES, ImageError, read_image

if TYPE_CHECKING:  # typing.Self is 3.11+; annotations are not evaluated at run time
    from typing import Self

logger = logging.getLogger(__name__)

DEFAULT_FILE_FPS = 10.0
"""Frames per second at which an image or a folder of images is replayed."""
FALLBACK_VIDEO_FPS = 25.0
"""Pace for a video whose container does not state a plausible frame rate."""
MAX_PLAUSIBLE_FPS = 240.0
"""A stated video frame rate above this (or not above zero) is taken to be bogus."""
INITIAL_BACKOFF = 0.1
"""Seconds :class:`CaptureThread` waits before its first reconnection attempt."""

_DEV_VIDEO = re.compile(r"/dev/video(\d+)")
_DIGITS = re.compile(r"\d+", re.ASCII)


class SourceError(EmojifyError):
    """A source that can never work (missing path, empty folder, unreadable file); one-line message."""


@dataclass(frozen=True)
class SourceSpec:
    """Where frames come from: ``kind`` is camera/video/image/folder, ``target`` an index or a path."""

    kind: str  # "camera" | "video" | "image" | "folder"
    target: int | Path

    def __str__(self) -> str:
        """Name the source for messages and logs: ``camera 0`` or the path."""
        return f"camera {self.target}" if self.kind == "camera" else str(self.target)


def _is_image_file(path: Path) -> bool:
    """True for a visible regular file whose suffix is one of :data:`IMAGE_SUFFIXES`."""
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def folder_images(folder: Path) -> list[Path]:
    """List the image files directly inside ``folder`` in name order (hidden files skipped)."""
    return sorted((p for p in folder.iterdir() if _is_image_file(p)), key=lambda p: p.name)


def parse_source(spec: str | int | Path) -> SourceSpec:
    """Interpret a command-line source: camera index, ``/dev/videoN``, folder, image or video file.

    An int or a string of ASCII digits is a camera index and ``/dev/videoN`` is camera N; an
    existing directory is a folder (it must hold at least one image), an existing file with an
    image suffix is an image, and any other existing file is a video. Anything else raises
    :class:`SourceError` with the message ``"<spec>: no such camera, file or folder"``.
    """
    if isinstance(spec, int) and not isinstance(spec, bool):
        if spec < 0:
            raise SourceError(f"{spec}: no such camera, file or folder")
        return SourceSpec("camera", spec)
    text = str(spec)
    if _DIGITS.fullmatch(text.strip()):
        return SourceSpec("camera", int(text.strip()))
    match = _DEV_VIDEO.fullmatch(text.strip())
    if match:
        return SourceSpec("camera", int(match.group(1)))
    path = Path(text).expanduser()
    if text.strip() and path.is_dir():
        if not folder_images(path):
            suffixes = " ".join(sorted(IMAGE_SUFFIXES))
            raise SourceError(f"{text}: folder holds no images ({suffixes})")
        return SourceSpec("folder", path)
    if text.strip() and path.is_file():
        return SourceSpec("image" if path.suffix.lower() in IMAGE_SUFFIXES else "video", path)
    raise SourceError(f"{text}: no such camera, file or folder")


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


def _as_bgr(image: np.ndarray) -> np.ndarray:
    """Return a decoded still as 3-channel BGR, so files look like a colour camera's frames."""
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image


class CameraReader:
    """A live camera through ``cv2.VideoCapture(index)``; raises OSError if it does not open."""

    def __init__(self, index: int, width: int | None = None, height: int | None = None) -> None:
        self.index = index
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise OSError(f"camera {index}: cannot be opened (missing, unplugged or in use)")
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
    """A video file played at its own frame rate (fallback 25 fps) and looped at its end.

    Raises :class:`SourceError` if OpenCV cannot open the file or decode a first frame from it.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cap = cv2.VideoCapture(str(self.path))
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None or first.size == 0:
            self._cap.release()
            raise SourceError(f"{self.path}: not a video OpenCV can read{_video_hint()}")
        self._pending: np.ndarray | None = first
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        plausible = math.isfinite(fps) and 0 < fps <= MAX_PLAUSIBLE_FPS
        self.fps = fps if plausible else FALLBACK_VIDEO_FPS
        self._pacer = _Pacer(self.fps)

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
        """Return the next frame once it is due, starting over after the last one."""
        self._pacer.wait()
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        ok, frame = self._cap.read()
        if ok and frame is not None:
            return frame
        logger.debug("%s: end of video, starting over", self.path)
        return self._restart()

    def release(self) -> None:
        """Close the file."""
        self._cap.release()


class ImageReader:
    """One still image repeated as an endless stream at ``fps`` frames per second.

    Raises :class:`SourceError` if the image cannot be read. Each read returns a fresh copy, so
    a caller may draw on it without changing later frames.
    """

    def __init__(self, path: Path, fps: float = DEFAULT_FILE_FPS) -> None:
        self.path = Path(path)
        try:
            self._image = _as_bgr(read_image(self.path))
        except ImageError as exc:
            raise SourceError(str(exc)) from None
        self._pacer = _Pacer(fps)

    def read(self) -> np.ndarray | None:
        """Return a copy of the image once the next frame is due."""
        self._pacer.wait()
        return self._image.copy()

    def release(self) -> None:
        """Nothing to free; present for the :class:`Reader` protocol."""


class FolderReader:
    """A folder's images in name order at ``fps`` frames per second, looped forever.

    The folder is listed once, when opened. Unreadable images are skipped with one warning each;
    if none at all can be read, ``read()`` returns None. Raises :class:`SourceError` if the
    folder holds no image files.
    """

    def __init__(self, folder: Path, fps: float = DEFAULT_FILE_FPS) -> None:
        self.folder = Path(folder)
        try:
            self.paths = folder_images(self.folder)
        except OSError as exc:
            raise SourceError(f"{self.folder}: cannot list folder ({exc.strerror or exc})") from None
        if not self.paths:
            raise SourceError(f"{self.folder}: folder holds no images")
        self._next = 0
        self._bad: set[Path] = set()
        self._pacer = _Pacer(fps)

    def read(self) -> np.ndarray | None:
        """Return the next readable image once it is due, or None if none can be read."""
        self._pacer.wait()
        for _ in range(len(self.paths)):
            path = self.paths[self._next]
            self._next = (self._next + 1) % len(self.paths)
            if path in self._bad:
                continue
            try:
                return _as_bgr(read_image(path))
            except ImageError as exc:
                logger.warning("skipping %s", exc)
                self._bad.add(path)
        return None

    def release(self) -> None:
        """Nothing to free; present for the :class:`Reader` protocol."""


def open_reader(
    spec: SourceSpec,
    width: int | None = None,
    height: int | None = None,
    fps: float = DEFAULT_FILE_FPS,
) -> Reader:
    """Open ``spec`` as a :class:`Reader`.

    ``width``/``height`` are asked of a camera (which may pick the nearest mode it has) and
    ignored for files; ``fps`` paces images and folders (videos use their own rate). Raises
    OSError for a camera that does not open and :class:`SourceError` for a file or folder that
    cannot be read.
    """
    if spec.kind == "camera":
        return CameraReader(int(spec.target), width, height)
    if spec.kind == "video":
        return VideoReader(Path(spec.target))
    if spec.kind == "image":
        return ImageReader(Path(spec.target), fps=fps)
    return FolderReader(Path(spec.target), fps=fps)  # parse_source makes no other kind


class SourceStatus(enum.Enum):
    """Whether frames are arriving: STARTING (not yet), LIVE, or LOST (none: missing or failing)."""

    STARTING = "starting"
    LIVE = "live"
    LOST = "lost"


@dataclass(frozen=True)
class Frame:
    """One captured image with its sequence number (1, 2, ...) and ``time.monotonic()`` time.

    The array is shared by every caller of :meth:`CaptureThread.latest`; copy it before
    drawing on it.
    """

    image: np.ndarray
    seq: int
    time: float


_Event = Literal["starting", "live", "absent", "lost", "stalled"]


def status_message(spec: SourceSpec, event: _Event) -> str:
    """The sentence shown to a visitor for ``event`` ("absent" = cannot open, "lost" = read failed)."""
    if spec.kind == "camera":
        return {
            "starting": "Starting the camera...",
            "live": "Camera on.",
            "absent": "No camera found. Check the USB cable; still trying...",
            "lost": "Camera lost; reconnecting...",
            "stalled": "Camera stopped sending pictures; reconnecting...",
        }[event]
    name = Path(spec.target).name or str(spec.target)
    return {
        "starting": f"Opening {name}...",
        "live": f"Showing {name}.",
        "absent": f"Cannot open {name}; still trying...",
        "lost": f"Lost {name}; reopening...",
        "stalled": f"{name} stopped sending pictures; reopening...",
    }[event]


class CaptureThread:
    """Reads a source on a daemon thread, keeps only the newest frame, and reconnects forever.

    A failed open (any exception from ``opener``), a read that returns None or an empty frame or
    raises, or a gap of more than ``stall_seconds`` between good frames marks the source LOST;
    the reader is then released and reopened after a back-off that starts at 0.1 s and doubles
    up to ``max_backoff``. While a read blocks past ``stall_seconds`` the source already reports
    LOST. ``reconnects`` counts LOST -> LIVE recoveries (a camera missing at start included).
    All state is guarded by one lock; the reader itself is only touched by the thread.
    """

    def __init__(
        self,
        spec: SourceSpec,
        opener: Callable[[], Reader] | None = None,
        stall_seconds: float = 2.0,
        max_backoff: float = 1.0,
    ) -> None:
        self.spec = spec
        self._opener: Callable[[], Reader] = opener or (lambda: open_reader(spec))
        self._stall_seconds = stall_seconds
        self._max_backoff = max(max_backoff, INITIAL_BACKOFF)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._frame: Frame | None = None
        self._seq = 0
        self._last_good = 0.0
        self._status = SourceStatus.STARTING
        self._message = status_message(spec, "starting")
        self._reconnects = 0

    # --- public API -------------------------------------------------------------------------

    def start(self) -> None:
        """Start capturing (no-op if already running); a stopped thread cannot be restarted."""
        with self._lock:
            if self._thread is not None:
                if self._stopping.is_set():
                    raise RuntimeError("a stopped CaptureThread cannot be restarted")
                return
            self._thread = threading.Thread(target=self._run, name=f"capture {self.spec}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop capturing and wait up to ``timeout`` s for the thread to release the reader.

        Idempotent. If a read is still blocked after ``timeout``, this returns anyway and the
        thread releases the reader as soon as that read returns.
        """
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("%s: a read is still blocking; the reader is released when it returns",
                               self.spec)

    def latest(self) -> Frame | None:
        """The newest frame, or None before the first one and while the source is LOST."""
        with self._lock:
            if self._current(time.monotonic())[0] is not SourceStatus.LIVE:
                return None
            return self._frame

    def wait_for_frame(self, timeout: float, after: int = 0) -> Frame | None:
        """Wait up to ``timeout`` s for a live frame with ``seq > after``; None on timeout or stop."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                now = time.monotonic()
                frame = self._frame
                live = self._current(now)[0] is SourceStatus.LIVE
                if live and frame is not None and frame.seq > after:
                    return frame
                if now >= deadline or self._stopping.is_set():
                    return None
                # Wake at least at the deadline; a frame or stop() notifies sooner.
                self._changed.wait(deadline - now)

    @property
    def status(self) -> SourceStatus:
        """STARTING, LIVE or LOST (LIVE turns LOST once no frame came for ``stall_seconds``)."""
        with self._lock:
            return self._current(time.monotonic())[0]

    @property
    def message(self) -> str:
        """A sentence for the visitor describing the current status."""
        with self._lock:
            return self._current(time.monotonic())[1]

    @property
    def reconnects(self) -> int:
        """How many times the source came back (LOST -> LIVE)."""
        with self._lock:
            return self._reconnects

    def __enter__(self) -> Self:
        """Start capturing and return self."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop capturing."""
        self.stop()

    # --- internals --------------------------------------------------------------------------

    def _current(self, now: float) -> tuple[SourceStatus, str]:
        """Status and message as seen now (caller holds the lock); a silent LIVE source is LOST."""
        if self._status is SourceStatus.LIVE and now - self._last_good > self._stall_seconds:
            return SourceStatus.LOST, status_message(self.spec, "stalled")
        return self._status, self._message

    def _mark_lost(self, event: _Event, detail: object) -> None:
        """Record that the source is gone (``event`` picks the sentence); log once per outage."""
        with self._changed:
            was = self._status
            self._status = SourceStatus.LOST
            self._message = status_message(self.spec, event)
            self._frame = None
            self._changed.notify_all()
        if was is SourceStatus.LOST:
            logger.debug("%s: still lost (%s)", self.spec, detail)
        else:
            logger.warning("%s: lost (%s)", self.spec, detail)

    def _publish(self, image: np.ndarray, now: float) -> None:
        """Make ``image`` the newest frame (replacing any older one) and mark the source LIVE."""
        with self._changed:
            self._seq += 1
            self._frame = Frame(image=image, seq=self._seq, time=now)
            self._last_good = now
            was = self._status
            if was is not SourceStatus.LIVE:
                self._status = SourceStatus.LIVE
                self._message = status_message(self.spec, "live")
                if was is SourceStatus.LOST:
                    self._reconnects += 1
            reconnects = self._reconnects
            self._changed.notify_all()
        if was is SourceStatus.LOST:
            logger.info("%s: back (reconnect %d)", self.spec, reconnects)
        elif was is SourceStatus.STARTING:
            logger.info("%s: live", self.spec)

    def _open(self) -> Reader | None:
        """Call the opener; on any failure mark the source LOST and return None."""
        try:
            return self._opener()
        except Exception as exc:  # noqa: BLE001 - any open failure (missing camera, driver
            # error, vanished file) means "no source yet": report it and retry after back-off.
            self._mark_lost("absent", exc)
            return None

    def _release(self, reader: Reader) -> None:
        """Release ``reader``, logging (not raising) any failure."""
        try:
            reader.release()
        except Exception as exc:  # noqa: BLE001 - a faulty driver must not end the capture thread
            logger.warning("%s: release failed (%s)", self.spec, exc)

    def _pump(self, reader: Reader) -> bool:
        """Read frames until stopped or the reader fails or stalls; True if any frame was good.

        The first frame after opening may take its time (cameras warm up); after that a gap of
        more than ``stall_seconds`` counts as a stall and the late frame is dropped.
        """
        last_good: float | None = None
        while not self._stopping.is_set():
            try:
                image = reader.read()
            except Exception as exc:  # noqa: BLE001 - any reader exception is a camera fault to
                # report and recover from (reopen), never a reason to end the capture thread.
                self._mark_lost("lost", f"read raised {type(exc).__name__}: {exc}")
                return last_good is not None
            now = time.monotonic()
            if self._stopping.is_set():
                break
            if not isinstance(image, np.ndarray) or image.size == 0:
                self._mark_lost("lost", "no frame" if image is None else "empty frame")
                return last_good is not None
            if last_good is not None and now - last_good > self._stall_seconds:
                self._mark_lost("stalled", f"no frame for {now - last_good:.1f} s")
                return True
            last_good = now
            self._publish(image, now)
        return last_good is not None

    def _run(self) -> None:
        """Thread body: open, pump, release, back off, repeat until stopped."""
        backoff = INITIAL_BACKOFF
        while not self._stopping.is_set():
            reader = self._open()
            if reader is not None:
                try:
                    if self._pump(reader):
                        backoff = INITIAL_BACKOFF
                finally:
                    self._release(reader)
            if self._stopping.wait(backoff):
                break
            backoff = min(backoff * 2, self._max_backoff)
        logger.debug("%s: capture thread stopped", self.spec)
