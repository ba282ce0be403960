"""Steady boxes in the live feed: each face keeps its identity (IoU matching) and a smoothed box.

A detector's box wobbles by a few pixels from frame to frame even when the visitor stands still,
and the emoji badge drawn at it wobbles too. :class:`Tracker` matches each frame's boxes to the
faces of the previous frames by overlap, averages each face's box over recent frames (jumping at
once when the face really moves), gives each face its own :class:`~emojify.smoothing.Smoother`
for the probabilities, and forgets a face once it has been gone for the grace period.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np

from emojify.preprocess import Box
from emojify.shape import Shape
from emojify.smoothing import GRACE_SECONDS, Smoother

MATCH_IOU = 0.3
"""A new box belongs to a known face when they overlap by at least this IoU."""
BOX_ALPHA = 0.4
"""Weight of the newest box in a face's running box."""
JUMP = 0.5
"""A box whose centre moved more than this share of its side is taken as it is (a real move)."""
HOLD_SECONDS = 0.25
"""In party mode a face the detector misses (a blink, a turned head) keeps its emoji at its last box
this long after the first look that missed it, so the emoji does not flicker."""
MISSES = 2
"""A face is forgotten only once this many looks have missed it (and the grace period has passed): on
a slow machine in party mode the next look at a face can come after the grace period, and one miss
there would drop a face that is still there."""
LEAD_SHARE = 0.8
"""The leading face (the panel's) keeps the lead while its running box is at least this share of the
largest one's area, so two faces of about the same size do not take turns from frame to frame."""


def box_iou(a: Box | np.ndarray, b: Box | np.ndarray) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Track:
    """One face followed over frames: its id, running box, probability smoother, last sighting, roll and shape."""

    id: int
    box: np.ndarray
    smoother: Smoother
    last_seen: float
    missed_since: float | None = None
    """The first frame since the face was last seen in which the detector looked for it and did not find
    it; None while every look found it. The hold and the grace period count from then, not from the last
    sighting: party mode looks again at only a few faces a frame, and a face waiting for its turn is not
    missing."""
    misses: int = 0
    """The looks that missed the face since it was last seen."""
    roll: float = 0.0
    shape: Shape | None = None
    """The face's smoothed :class:`~emojify.shape.Shape` (None until a mesh is seen)."""
    looked: int = -1
    """The live frame (its number) in which the detector last looked again at this face: party mode looks
    at a few faces a frame, those that have waited longest."""
    seen: np.ndarray | None = None
    """The face's box as last found (its running :attr:`box` trails a moving face): a new box is matched
    to it, so that two faces passing each other keep their own identities."""

    def __post_init__(self) -> None:
        if self.seen is None:
            self.seen = self.box

    def waited(self, now: float) -> float:
        """How long the face went unseen before a look missed it (all the time until ``now``, if none has)."""
        return (now if self.missed_since is None else self.missed_since) - self.last_seen

    def follow(self, box: Box, now: float, alpha: float) -> None:
        """Move the running box towards ``box`` (or onto it, for a real move)."""
        new = np.asarray(box, np.float64)
        moved = np.abs((new[:2] + new[2:] / 2) - (self.box[:2] + self.box[2:] / 2)).max()
        self.box = new if moved > JUMP * max(self.box[2], 1.0) else alpha * new + (1 - alpha) * self.box
        self.seen, self.last_seen, self.missed_since, self.misses = new, now, None, 0

    @property
    def shown_box(self) -> Box:
        return tuple(round(v) for v in self.box)  # type: ignore[return-value]

    @property
    def area(self) -> float:
        return float(self.box[2] * self.box[3])


@dataclass
class Tracker:
    """Follows faces across frames; :meth:`update` gives each of a frame's boxes its track."""

    match_iou: float = MATCH_IOU
    box_alpha: float = BOX_ALPHA
    grace_seconds: float = GRACE_SECONDS
    make_smoother: Callable[[], Smoother] = Smoother
    lead_share: float = LEAD_SHARE
    tracks: list[Track] = field(default_factory=list, init=False)
    lead: int | None = field(default=None, init=False)
    """The id of the leading face: the largest, kept while it stays nearly the largest."""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1), init=False)

    def update(self, boxes: list[Box], now: float, not_looked_for: Collection[Track] = ()) -> list[Track]:
        """The track of each box (same order), matched greedily by IoU, new tracks for new faces.
        Tracks missed for longer than the grace period (:attr:`Track.missed_since`), by :data:`MISSES`
        looks at least, are dropped first; the others that get no box are missed once more, except those
        ``not_looked_for`` this frame."""
        self.tracks = [t for t in self.tracks if t.missed_since is None or t.misses < MISSES
                       or now - t.missed_since <= self.grace_seconds]
        pairs = sorted(((box_iou(box, track.seen), i, j) for i, box in enumerate(boxes)
                        for j, track in enumerate(self.tracks)), reverse=True)
        chosen: dict[int, Track] = {}
        used: set[int] = set()
        for overlap, i, j in pairs:
            if overlap < self.match_iou:
                break
            if i in chosen or j in used:
                continue
            chosen[i] = self.tracks[j]
            used.add(j)
            self.tracks[j].follow(boxes[i], now, self.box_alpha)
        for i, box in enumerate(boxes):
            if i not in chosen:
                chosen[i] = Track(next(self._ids), np.asarray(box, np.float64), self.make_smoother(), now)
                self.tracks.append(chosen[i])
        unmissed = {t.id for t in chosen.values()} | {t.id for t in not_looked_for}
        for track in self.tracks:
            if track.id not in unmissed:
                track.missed_since = now if track.missed_since is None else track.missed_since
                track.misses += 1
        return [chosen[i] for i in range(len(boxes))]

    def reset(self) -> None:
        """Forget every face (ids go on counting)."""
        self.tracks, self.lead = [], None

    def held(self, present: list[Track], now: float) -> list[Track]:
        """Faces missing from this frame (not in ``present``): those not missed yet (waiting for a look)
        or missed for at most :data:`HOLD_SECONDS`."""
        return [t for t in self.tracks if t not in present
                and (t.missed_since is None or now - t.missed_since <= HOLD_SECONDS)]

    def lead_first(self, tracks: list[Track]) -> list[int]:
        """Indices of ``tracks`` (one frame's), the leading face first and the others largest first
        by running box; the lead changes only when another face is clearly larger (:data:`LEAD_SHARE`)."""
        order = sorted(range(len(tracks)), key=lambda i: -tracks[i].area)
        if not order:
            return order
        held = next((i for i in order if tracks[i].id == self.lead), None)
        if held is None or tracks[held].area < self.lead_share * tracks[order[0]].area:
            held = order[0]
        self.lead = tracks[held].id
        return [held, *(i for i in order if i != held)]

    def lead_box(self) -> Box | None:
        """The leading face's running box, or None where no face leads."""
        return next((t.shown_box for t in self.tracks if t.id == self.lead), None)


def lead_kept(boxes: list[Box], lead: Box | None, match_iou: float = MATCH_IOU, share: float = 0.0) -> list[int]:
    """Indices of ``boxes`` (a snapshot's faces, largest first) with the face at ``lead`` first: the face
    the live panel was showing keeps the panel in the snapshot. Live, the lead passes only to a clearly
    larger face (:meth:`Tracker.lead_first`), and it has by the countdown's end; the still's own sizes,
    measured by another look, would hand it to a face that is only a little larger. With ``share``, the
    face at ``lead`` is first only while its area is at least that share of the largest's (the live
    one-face search, as :meth:`Tracker.lead_first` rules)."""
    order = list(range(len(boxes)))
    if lead is None or not boxes:
        return order
    held = max(order, key=lambda i: box_iou(boxes[i], lead))
    area = [w * h for _, _, w, h in boxes]
    if box_iou(boxes[held], lead) < match_iou or area[held] < share * max(area):
        return order
    return [held, *(i for i in order if i != held)]
