"""What a source says about itself: whether frames arrive (:class:`SourceStatus`) and what it did
last (:class:`SourceEvent`).

The capture thread (:mod:`emojify.sources.capture`) reports them, the screens
(:mod:`emojify.screens`) decide on them and :mod:`emojify.texts` words them. A leaf, so the
screens take them without importing the sources' readers (OpenCV, Pillow).
"""

from __future__ import annotations

import enum


class SourceStatus(enum.Enum):
    """Whether frames are arriving: STARTING (not yet), LIVE, or LOST (none: missing or failing)."""

    STARTING = "starting"
    LIVE = "live"
    LOST = "lost"


class SourceEvent(str, enum.Enum):
    """What a source did last: ABSENT = it cannot be opened, BUSY = a camera that is there does not
    open (another program holds it), LOST = a read failed, STALLED = no picture for too long."""

    STARTING = "starting"
    LIVE = "live"
    ABSENT = "absent"
    BUSY = "busy"
    LOST = "lost"
    STALLED = "stalled"

    def __str__(self) -> str:
        return self.value
