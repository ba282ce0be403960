"""The capture thread: reads a source in the background, keeps only the newest frame, and survives
a camera that is missing, unplugged, failing or stalled by reconnecting with back-off, while telling
the screen what is going on through :class:`SourceStatus` and the last :class:`SourceEvent` (which
:func:`emojify.texts.status_message` words for the visitor).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from emojify.source_status import SourceEvent, SourceStatus
from emojify.sources.readers import Reader, open_reader
from emojify.sources.spec import SourceBusy, SourceSpec

if TYPE_CHECKING:  # typing.Self is 3.11+; annotations are not evaluated at run time
    from typing import Self

logger = logging.getLogger(__name__)

INITIAL_BACKOFF = 0.1
"""Seconds :class:`CaptureThread` waits before its first reconnection attempt."""
CAMERA_STALL_SECONDS = 2.0
"""A camera that sends no frame for this long has stalled (a wedged USB camera): it is opened again."""
FILE_STALL_SECONDS = 10.0
"""A file source's stall: a large photo of a slideshow takes seconds to decode on a Pi, and opening the
folder again started it over from its first picture; only a read this slow (a network share gone) is one."""


def backoff_schedule(cap: float) -> Iterator[float]:
    """The waits before successive reconnection attempts: :data:`INITIAL_BACKOFF` s, doubling up to ``cap``.

    >>> from itertools import islice
    >>> list(islice(backoff_schedule(1.0), 6))
    [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    """
    wait = INITIAL_BACKOFF
    while True:
        yield wait
        wait = min(wait * 2, cap)


@dataclass(frozen=True)
class Frame:
    """One captured image with its sequence number (1, 2, ...) and ``time.monotonic()`` time.

    The array is shared by every caller of :meth:`CaptureThread.wait_for_frame`; copy it before
    drawing on it.
    """

    image: np.ndarray
    seq: int
    time: float


class CaptureThread:
    """Reads a source on a daemon thread, keeps only the newest frame, and reconnects forever.

    A failed open (any exception from ``opener``), a read that returns None or an empty frame or
    raises, or a gap of more than ``stall_seconds`` between good frames (by default
    :data:`CAMERA_STALL_SECONDS` for a camera, :data:`FILE_STALL_SECONDS` for a file or folder)
    marks the source LOST;
    the reader is then released and reopened after a back-off that starts at 0.1 s and doubles
    up to ``max_backoff``. While a read blocks past ``stall_seconds`` the source already reports
    LOST. ``reconnects`` counts LOST -> LIVE recoveries (a camera missing at start included).
    All state is guarded by one lock; the reader itself is only touched by the thread.
    """

    def __init__(
        self,
        spec: SourceSpec,
        opener: Callable[[], Reader] | None = None,
        stall_seconds: float | None = None,
        max_backoff: float = 1.0,
    ) -> None:
        self.spec = spec
        self._opener: Callable[[], Reader] = opener or (lambda: open_reader(spec))
        if stall_seconds is None:
            stall_seconds = CAMERA_STALL_SECONDS if spec.kind.is_camera else FILE_STALL_SECONDS
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
        self._event = SourceEvent.STARTING
        self._reconnects = 0

    # --- public API -------------------------------------------------------------------------

    @property
    def stall_seconds(self) -> float:
        """How long a live source may send nothing before it counts as LOST (STALLED)."""
        return self._stall_seconds

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

    def latest(self) -> Frame | None:
        """The newest frame without waiting (None before the first): its ``seq`` counts the source's frames."""
        with self._lock:
            return self._frame

    @property
    def status(self) -> SourceStatus:
        """STARTING, LIVE or LOST (LIVE turns LOST once no frame came for ``stall_seconds``)."""
        with self._lock:
            return self._current(time.monotonic())[0]

    @property
    def event(self) -> SourceEvent:
        """What the source did last (STALLED once a LIVE source sent nothing for ``stall_seconds``)."""
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

    def _current(self, now: float) -> tuple[SourceStatus, SourceEvent]:
        """Status and event as seen now (caller holds the lock); a silent LIVE source is LOST."""
        if self._status is SourceStatus.LIVE and now - self._last_good > self._stall_seconds:
            return SourceStatus.LOST, SourceEvent.STALLED
        return self._status, self._event

    def _mark_lost(self, event: SourceEvent, detail: object) -> None:
        """Record that the source is gone (``event`` picks the sentence); log once per outage."""
        with self._changed:
            was = self._status
            self._status = SourceStatus.LOST
            self._event = event
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
                self._event = SourceEvent.LIVE
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
            self._mark_lost(SourceEvent.BUSY if isinstance(exc, SourceBusy) else SourceEvent.ABSENT, exc)
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
                self._mark_lost(SourceEvent.LOST, f"read raised {type(exc).__name__}: {exc}")
                return last_good is not None
            now = time.monotonic()
            if self._stopping.is_set():
                break
            if not isinstance(image, np.ndarray) or image.size == 0:
                self._mark_lost(SourceEvent.LOST, "no frame" if image is None else "empty frame")
                return last_good is not None
            if last_good is not None and now - last_good > self._stall_seconds:
                self._mark_lost(SourceEvent.STALLED, f"no frame for {now - last_good:.1f} s")
                return True
            last_good = now
            self._publish(image, now)
        return last_good is not None

    def _run(self) -> None:
        """Thread body: open, pump, release, back off, repeat until stopped."""
        waits = backoff_schedule(self._max_backoff)
        while not self._stopping.is_set():
            reader = self._open()
            if reader is not None:
                try:
                    if self._pump(reader):
                        waits = backoff_schedule(self._max_backoff)  # a good run starts the back-off again
                finally:
                    self._release(reader)
            if self._stopping.wait(next(waits)):
                break
        logger.debug("%s: capture thread stopped", self.spec)
