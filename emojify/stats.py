"""The kiosk measuring itself (``--stats``): once a minute, one log line with the frames shown a second,
the camera's frames a second and the processor time of the whole process per shown frame.

Processor time is what tells whether a machine keeps up: frames shown a second cannot rise above the
camera's, and on a busy machine the wall clock counts other processes' turns too. A kiosk that shows
about the camera's rate, with CPU ms per shown frame well under 1000 / fps times the cores, keeps up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

STATS_INTERVAL = 60.0
"""Seconds between two ``--stats`` lines."""
HOW_TO_READ = (
    "--stats logs a line a minute: 'shown' is the frames the window drew a second, 'camera' the frames "
    "the source gave a second (shown stays at or under it; well under it: the machine does not keep "
    "up), 'CPU' the processor time of the whole process (camera, faces, expressions, window) per frame "
    "shown. A Pi keeps up while CPU ms per frame times fps stays well under 1000 per core in use.")
"""What ``emojify doctor`` says about the ``--stats`` line."""


@dataclass(frozen=True)
class Sample:
    """One interval's figures."""

    shown_fps: float
    camera_fps: float | None
    cpu_ms_per_frame: float | None

    def line(self) -> str:
        camera = "?" if self.camera_fps is None else f"{self.camera_fps:.1f}"
        cpu = "?" if self.cpu_ms_per_frame is None else f"{self.cpu_ms_per_frame:.1f}"
        return f"stats: shown {self.shown_fps:.1f} fps, camera {camera} fps, CPU {cpu} ms per shown frame"


@dataclass
class FrameStats:
    """Counts shown frames and camera frames; :meth:`poll` gives a :class:`Sample` once per ``interval``
    (and logs its line). ``clock`` and ``cpu`` are the wall clock and the process's processor time."""

    interval: float = STATS_INTERVAL
    clock: Callable[[], float] = time.monotonic
    cpu: Callable[[], float] = time.process_time
    _start: tuple[float, float, int, int | None] | None = field(default=None, init=False)

    def poll(self, shown: int, camera_frames: int | None) -> Sample | None:
        """``shown``: frames drawn so far; ``camera_frames``: the source's frame number (None: unknown)."""
        now, cpu = self.clock(), self.cpu()
        if self._start is None or (self._start[3] is None and camera_frames is not None):
            self._start = (now, cpu, shown, camera_frames)  # (again) once the source's count is known
            return None
        then, cpu_then, shown_then, camera_then = self._start
        if now - then < self.interval:
            return None
        self._start = (now, cpu, shown, camera_frames)
        frames = shown - shown_then
        camera = None if camera_frames is None or camera_then is None else (camera_frames - camera_then) / (now - then)
        sample = Sample(frames / (now - then), camera, (cpu - cpu_then) * 1e3 / frames if frames else None)
        log.info("%s", sample.line())
        return sample
