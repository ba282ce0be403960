"""Frame in, result out: capture region -> faces -> upright crops -> model -> emoji.

Pure with respect to the screen: nothing here knows about Tk, so the kiosk, the command line,
the benchmarks and the tests all run the same code. Every expression is classified in one place,
:meth:`Pipeline.classify`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from emojify.classifier import Classifier
from emojify.faces import (
    PARTY_LOOKS,
    REGION_FRACTION,
    BlazeFaceDetector,
    Detection,
    HaarDetector,
    centre_inside,
    largest_first,
    region_box,
)
from emojify.labels import CLASSES, EMOJI
from emojify.landmarks import FaceMesh, load_mesh
from emojify.preprocess import Box, prepare_face, to_gray
from emojify.shape import Shape, shape_of
from emojify.smoothing import Smoother
from emojify.tracking import LEAD_SHARE, Track, Tracker, lead_kept


def probabilities_dict(probabilities: np.ndarray | None) -> dict | None:
    """Probabilities by class name, rounded for JSON."""
    if probabilities is None:
        return None
    return {c: round(float(p), 4) for c, p in zip(CLASSES, probabilities, strict=True)}


@dataclass(frozen=True)
class Face:
    """One face of a frame: box, probabilities, label, in the live feed its track id, its roll
    (degrees turned clockwise as seen, from the eyes; 0 without keypoints), its :class:`Shape`
    from the face mesh (None where the mesh model saw no face) and, in a still, the detector's
    score (0..1)."""

    box: Box
    probabilities: np.ndarray | None
    label: str | None
    track: int | None = None
    roll: float = 0.0
    shape: Shape | None = None
    score: float | None = None

    @property
    def emoji(self) -> str | None:
        return EMOJI[self.label] if self.label else None

    def as_dict(self) -> dict:
        """JSON-ready: ``box`` [x, y, w, h], ``label``, ``probabilities`` by class, ``emoji``, ``shape``."""
        return {"box": [int(v) for v in self.box], "label": self.label,
                "probabilities": probabilities_dict(self.probabilities), "emoji": self.emoji,
                "shape": None if self.shape is None else self.shape.as_dict()}


@dataclass(frozen=True)
class Result:
    """What one frame (or a still) shows: region, the largest face's box, probabilities, label and emoji,
    and ``faces``, every classified face, largest first.

    ``box``, ``probabilities``, ``label`` and ``emoji`` are None when no face is found.
    """

    region: Box | None
    box: Box | None
    probabilities: np.ndarray | None
    label: str | None
    faces: tuple[Face, ...] = ()

    @property
    def emoji(self) -> str | None:
        return EMOJI[self.label] if self.label else None

    def as_dict(self) -> dict:
        """JSON-ready: ``box`` [x, y, w, h] or None (as each face's), ``label``, ``probabilities`` by class,
        ``emoji``, and the leading face's ``shape`` (None without a face or a mesh)."""
        shape = self.faces[0].shape if self.faces else None
        return {"box": None if self.box is None else [int(v) for v in self.box],
                "label": self.label, "probabilities": probabilities_dict(self.probabilities), "emoji": self.emoji,
                "shape": None if shape is None else shape.as_dict()}


@dataclass
class StageTimes:
    """Milliseconds the last frame spent finding faces, classifying them and finding their meshes
    (0 when none was found), and the processor time the search took on its thread (``detect_cpu_ms``:
    what a busy machine's other processes do not inflate)."""

    detect_ms: float = 0.0
    classify_ms: float = 0.0
    landmarks_ms: float = 0.0
    detect_cpu_ms: float = 0.0

    @classmethod
    def since(cls, start: float, start_cpu: float) -> StageTimes:
        """The times of a search begun at ``time.perf_counter()`` ``start`` and ``time.thread_time()`` ``start_cpu``."""
        return cls((time.perf_counter() - start) * 1e3, detect_cpu_ms=(time.thread_time() - start_cpu) * 1e3)


SHAPE_SMOOTHING = 0.5
"""Live: each frame moves a face's shown shape this share of the way to the measured one (steady,
yet a mouth opening shows within a few frames)."""
SEARCH_EVERY = 5
"""Live, one face: the face found in the last frame is followed with the detector's last look alone
(one model call on the square around it, :meth:`~emojify.faces.BlazeFaceDetector.look_at`), and the
whole region is searched on every :data:`SEARCH_EVERY` th frame (six times a second at 30 fps: a
nearer visitor takes the lead within a fifth of a second) and whenever the face is lost."""


def label_of(probabilities: np.ndarray) -> str:
    """The class with the highest probability."""
    return CLASSES[int(np.argmax(probabilities))]


CLOSE_TO_LARGEST = 2 / 3
"""The side of a rough box, as a share of the largest's, that the last look may still make the largest
(it moves a side by up to a fifth: two faces found at 134 and 120 px were 108 and 103 after it)."""


def last_look(detector: BlazeFaceDetector | HaarDetector, frame: np.ndarray, found: list[Detection],
              all_faces: bool = True, lead: Box | None = None) -> list[Detection]:
    """``found`` after the detector's last look at each face (:meth:`~emojify.faces.BlazeFaceDetector.refine`),
    largest first: the same step ends the live search and the photo search, so a steady face is cut, and
    read, alike in both. Without ``all_faces``, the largest after the look, of the faces whose rough
    box is :data:`CLOSE_TO_LARGEST` to the largest's: what ``all_faces`` would list first; but the face
    at ``lead`` (the live panel's) while it stays nearly as large (:data:`~emojify.tracking.LEAD_SHARE`),
    as party mode keeps its lead, so two visitors of about the same size do not take turns."""
    if not all_faces:
        largest = max((d.box[2] for d in found), default=0)
        found = [d for d in found if d.box[2] >= CLOSE_TO_LARGEST * largest]
    looked = largest_first([detector.refine(frame, d) for d in found])
    if all_faces:
        return looked
    return [looked[i] for i in lead_kept([d.box for d in looked], lead, share=LEAD_SHARE)][:1]


@dataclass
class Pipeline:
    """The per-frame path, holding the loaded model, the detector and the live smoothing.

    ``detector`` is a built detector (:class:`~emojify.faces.BlazeFaceDetector` unless given);
    ``all_faces`` classifies every face in the live feed (party mode), not only the largest;
    ``align`` turns each crop upright by the eyes' roll before it is classified; ``shapes`` finds
    each face's mesh and :class:`Shape` (``mesh`` is the Face Mesh model, loaded when not given).
    """

    classifier: Classifier | None = None
    detector: BlazeFaceDetector | HaarDetector | None = None
    region_fraction: float = REGION_FRACTION
    smoother: Smoother | None = None
    all_faces: bool = False
    align: bool = True
    tracker: Tracker = field(default_factory=Tracker)
    shapes: bool = True
    mesh: FaceMesh | None = None
    times: StageTimes = field(default_factory=StageTimes, init=False)
    _step: int = field(default=0, init=False, repr=False)
    """The live frames seen: party mode's square of the region to search next; one face: when to search the whole region."""
    _followed: Detection | None = field(default=None, init=False, repr=False)
    """One face, live: the face found in the last frame, followed with one look (:data:`SEARCH_EVERY`)."""
    _waiting: list[Track] = field(default_factory=list, init=False, repr=False)
    """Party mode: the known faces in the region that the last live frame did not look again at."""

    def __post_init__(self) -> None:
        self.classifier = self.classifier or Classifier()
        self.detector = self.detector or BlazeFaceDetector()
        self.still_detector = type(self.detector).for_stills()
        self.smoother = self.smoother or Smoother()
        if self.shapes and self.mesh is None:
            self.mesh = load_mesh()
        if self.tracker.make_smoother is Smoother:  # every face is smoothed like the panel's
            self.tracker.make_smoother = lambda: replace(self.smoother)

    def region(self, frame: np.ndarray) -> Box:
        """The capture region of a frame of this size."""
        return region_box(frame.shape, self.region_fraction)

    def crops(self, frame: np.ndarray, faces: Sequence[Detection]) -> np.ndarray:
        """The prepared 48x48 face of each detection ``(N, 48, 48)``, cut with the detector's margin,
        upright when ``align`` is on."""
        margin, shift = self.detector.margin, self.detector.shift
        gray = to_gray(frame)  # once for every face
        return np.stack([prepare_face(gray, d.box, margin, d.roll if self.align else 0.0, shift) for d in faces])

    def classify(self, crops: np.ndarray, mirror_average: bool = False) -> np.ndarray:
        """Probabilities ``(N, 7)`` for prepared faces ``(N, 48, 48)``: the one place expressions are
        classified, by the model's decision rule for camera pictures (:meth:`Classifier.classify`);
        ``mirror_average`` makes it average each face with its mirror image even where the rule does not."""
        return self.classifier.classify(crops, mirror=mirror_average or None, camera=True)

    def detect(self, frame: np.ndarray, use_region: bool = True, all_faces: bool = True,
               lead: Box | None = None) -> tuple[Box | None, list[Detection]]:
        """The region (None for the whole picture) and the faces in it, largest first (only the
        largest unless ``all_faces``, or the face at ``lead`` while it is nearly as large), each after
        the detector's last look (:func:`last_look`), timed."""
        start, start_cpu = time.perf_counter(), time.thread_time()
        region = self.region(frame) if use_region else None
        detector = self.detector if use_region else self.still_detector
        found = detector.detect(frame, region)
        found = last_look(detector, frame, found, all_faces, lead)
        self.times = StageTimes.since(start, start_cpu)
        return region, found

    def detect_live(self, frame: np.ndarray) -> tuple[Box, list[Detection]]:
        """The region and the faces in it for the live feed, timed. Party mode with BlazeFace searches
        down to far faces (:meth:`~emojify.faces.BlazeFaceDetector.detect_party`), looking again at the
        tracker's faces and at one more square of the region each frame. One face with BlazeFace: the
        last frame's face is followed by one look (:data:`SEARCH_EVERY`); otherwise as :meth:`detect`."""
        if not isinstance(self.detector, BlazeFaceDetector):
            return self.detect(frame, all_faces=self.all_faces, lead=self.tracker.lead_box())
        start, start_cpu = time.perf_counter(), time.thread_time()
        region = self.region(frame)
        if self.all_faces:  # the faces in the region, those waiting longest for a look again first
            known = sorted((t for t in self.tracker.tracks if centre_inside(t.shown_box, region)), key=lambda t: t.looked)
            found = self.detector.detect_party(frame, region, [t.shown_box for t in known], self._step)
            for track in known[:PARTY_LOOKS]:
                track.looked = self._step
            self._waiting = known[PARTY_LOOKS:]
        else:
            followed = None
            if self._followed is not None and self._step % SEARCH_EVERY:
                followed = self.detector.look_at(frame, self._followed.box)
            if followed is not None and centre_inside(followed.box, region):
                found = [followed]
            else:
                found = last_look(self.detector, frame, self.detector.detect(frame, region), all_faces=False,
                                  lead=self.tracker.lead_box())
            self._followed = found[0] if found else None
        self._step += 1
        self.times = StageTimes.since(start, start_cpu)
        return region, found

    def detect_still(self, frame: np.ndarray, known: Sequence[Box] | None = None) -> tuple[Box, list[Detection]]:
        """The faces of a snapshot's still in the capture region, largest first, timed: the photo
        search, or with ``known`` (the boxes it found in a picture moments earlier, at the countdown's
        start) its quick follow-up (:meth:`~emojify.faces.BlazeFaceDetector.detect_again`)."""
        start, start_cpu = time.perf_counter(), time.thread_time()
        region = self.region(frame)
        if known is not None and isinstance(self.still_detector, BlazeFaceDetector):
            found = self.still_detector.detect_again(frame, region, known)
        else:
            found = self.still_detector.detect(frame, region)
        found = last_look(self.still_detector, frame, found)
        self.times = StageTimes.since(start, start_cpu)
        return region, found

    def analyze_still(self, frame: np.ndarray, known: Sequence[Box] | None = None, all_faces: bool = True,
                      lead: Box | None = None) -> Result:
        """A snapshot's result: the faces :meth:`detect_still` finds, every one (or the largest), each
        classified with mirror averaging; the face at ``lead`` (the live panel's, :meth:`Tracker.lead_box`)
        first where the still has it (:func:`~emojify.tracking.lead_kept`)."""
        region, found = self.detect_still(frame, known)
        found = [found[i] for i in lead_kept([d.box for d in found], lead)]
        return self._result(frame, region, found, True, all_faces)

    def classify_found(self, frame: np.ndarray, found: list[Detection], mirror_average: bool = False) -> np.ndarray:
        """Classify the detections of ``frame``, timed; probabilities ``(N, 7)``."""
        start = time.perf_counter()
        probabilities = self.classify(self.crops(frame, found), mirror_average)
        self.times.classify_ms = (time.perf_counter() - start) * 1e3
        return probabilities

    def shapes_found(self, frame: np.ndarray, found: list[Detection]) -> list[Shape | None]:
        """The :class:`Shape` of each detection of ``frame`` from its face mesh (None where the mesh
        model sees no face, and for all with ``shapes`` off), timed."""
        if not self.shapes:
            self.times.landmarks_ms = 0.0
            return [None] * len(found)
        start = time.perf_counter()
        meshes = [self.mesh.run(frame, d.box, d.roll) for d in found]
        shapes = [None if mesh is None else shape_of(mesh.points) for mesh in meshes]
        self.times.landmarks_ms = (time.perf_counter() - start) * 1e3
        return shapes

    def read_faces(self, frame: np.ndarray, found: list[Detection],
                   mirror_average: bool = False) -> tuple[np.ndarray, list[Shape | None]]:
        """The one place a face gets its crop, its classification and its landmarks: probabilities
        ``(N, 7)`` and shapes of the detections of ``frame``."""
        if not found:
            return np.zeros((0, len(CLASSES)), np.float32), []
        return self.classify_found(frame, found, mirror_average), self.shapes_found(frame, found)

    def analyze(self, frame: np.ndarray, use_region: bool = True, mirror_average: bool = False,
                all_faces: bool = False) -> Result:
        """Classify the largest face of one frame (every face with ``all_faces``), without smoothing.

        ``use_region=False`` searches the whole image thoroughly (stills). ``mirror_average``
        averages the prediction over each face and its mirror image, a steadier answer for a snapshot.
        """
        region, found = self.detect(frame, use_region, all_faces)
        return self._result(frame, region, found, mirror_average, all_faces)

    def _result(self, frame: np.ndarray, region: Box | None, found: list[Detection], mirror_average: bool,
                all_faces: bool) -> Result:
        """The result of a picture's detections: the first (the largest, or the leading face) or every
        face classified."""
        if not found:
            return Result(region, None, None, None)
        found = found if all_faces else found[:1]
        probabilities, shapes = self.read_faces(frame, found, mirror_average)
        faces = tuple(Face(d.box, p, label_of(p), roll=d.roll, shape=s, score=d.score)
                      for d, p, s in zip(found, probabilities, shapes, strict=True))
        return Result(region, faces[0].box, faces[0].probabilities, faces[0].label, faces)

    def restart_live(self) -> None:
        """Start the live view afresh, as after a gap in the frames (the camera lost and back): no
        smoothing and no face known. A face is forgotten only once looks have missed it, so after a
        gap the faces of before would otherwise come back for a moment, with their emoji."""
        self.smoother.reset()
        self.tracker.reset()
        self._followed, self._waiting = None, []

    def live(self, frame: np.ndarray, now: float | None = None) -> Result:
        """One frame of the live stream: faces in the region, tracked with steady boxes, smoothed.

        The result's own fields follow the leading face (the largest, kept while it stays nearly the
        largest: :meth:`~emojify.tracking.Tracker.lead_first`), smoothed by :attr:`smoother`; during its
        grace period after the face is lost, the last label and probabilities are kept (with no
        box), so a missed detection does not blank the emoji. ``faces`` holds every tracked face
        (party mode) or the largest one, the leading face first, each with its own smoothing and at
        its tracked, smoothed box; in party mode a face missed for a moment
        (:data:`~emojify.tracking.HOLD_SECONDS`) stays at its last box, and so does a face waiting for
        its turn to be looked at again (:meth:`detect_live`), however long: it is not missing.
        """
        now = time.monotonic() if now is None else now
        region, found = self.detect_live(frame)
        found = found if self.all_faces else found[:1]
        raw, shapes = self.read_faces(frame, found)
        lead = self.tracker.lead
        tracks = self.tracker.update([d.box for d in found], now, self._waiting if self.all_faces else ())
        for track, detection, shape in zip(tracks, found, shapes, strict=True):
            track.roll = detection.roll
            if shape is not None:
                track.shape = shape if track.shape is None else Shape.blend(track.shape, shape, SHAPE_SMOOTHING)
        tracks += self.tracker.held(tracks, now) if self.all_faces else []  # missed faces, kept a moment

        def seen(index: int) -> np.ndarray | None:
            return raw[index] if index < len(found) else None

        order = self.tracker.lead_first(tracks)
        if self.tracker.lead != lead:  # another face took the lead: the panel goes on from that face's own
            # smoothing (party mode keeps one for each; afresh in one-face mode), not from the last leader's
            self.smoother.restart_from(tracks[order[0]].smoother)
        probabilities, label = self.smoother.update(seen(order[0]) if order else None, now,
                                                    tracks[order[0]].waited(now) if order else 0.0)
        faces = []
        for index in order:
            track = tracks[index]
            if index != order[0]:
                shown, name = track.smoother.update(seen(index), now, track.waited(now))
            else:  # the leading face is what the panel shows: its smoothing leads
                if self.all_faces:  # its own smoothing goes on, for when it loses the lead
                    track.smoother.update(seen(index), now, track.waited(now))
                shown, name = probabilities, label
            faces.append(Face(track.shown_box, shown, name, track.id, track.roll, track.shape))
        box = faces[0].box if faces else None
        return Result(region, box, probabilities, label, tuple(faces))
