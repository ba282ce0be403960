"""Find faces: MediaPipe's BlazeFace CNN (the default, with eye keypoints) or OpenCV's Haar cascade.

Each backend is one class, chosen through :data:`DETECTORS` (``DETECTORS[Detector.HAAR]()``).
Both search the capture region only and return :class:`Detection` objects, largest first:
a box in image pixels, a score, and for BlazeFace six keypoints, whose eyes give the face's roll
(:attr:`Detection.roll`) so the crop can be turned upright. Photos get a more thorough search
(``for_stills()``): BlazeFace over a pyramid of overlapping tiles, with a second look at
each face a tile finds, Haar at more scales.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from emojify.blazeface import (
    LEFT_EYE,
    RIGHT_EYE,
    BlazeFaceModel,
    Candidates,
    DetectorError,
    Range,
    iou_matrix,
    weighted_nms,
)
from emojify.detectors import Detector
from emojify.preprocess import BLAZEFACE_MARGIN, BLAZEFACE_SHIFT, FACE_MARGIN, Box, equalize, to_gray
from emojify.resources import resource_dir

log = logging.getLogger(__name__)

CASCADE_FILE = "haarcascade_frontalface_default.xml"
SCALE_FACTOR = 1.15
"""Step between detector scales. OpenCV's textbook 1.1 (``emojify bench``'s baseline) searches more
scales; with faces bounded below (MIN_FACE_FRACTION) 1.15 finds the same kiosk faces in about 25%
less time."""
MIN_NEIGHBORS = 5
"""Overlapping hits required; 5, as in the baseline, rejects background patterns (fewer let a
badge on the sample photo's sleeve pass as a face once the image is equalised)."""
DETECT_WIDTH = 160
"""Width the capture region is scaled down to for detection. A visitor's face fills a good part
of the region, so 160 pixels keep it far above the cascade's 24-pixel window at a fraction of the
cost of full resolution (``emojify bench`` reports detect_ms)."""
MIN_FACE_FRACTION = 0.25
"""Smallest face searched, as a fraction of the searched area's height: at a kiosk the visitor
stands close, and skipping the tiny scales is where most of the detector's time goes."""
RELATIVE_NEIGHBORS = 0.35
"""Hits with fewer than this share of the strongest hit's neighbours are dropped. A real face
gathers dozens of overlapping hits; a pattern that passes for a face (the badge on the sample
photo's suit: 6 against her face's 25) only a few, and it must not win for being larger."""
STILL_SCALE_FACTOR = 1.1
STILL_DETECT_WIDTH = 640
STILL_MIN_FACE_FRACTION = 0.08
"""Photos given to ``predict`` are searched more thoroughly: time matters less than recall."""
MIN_WINDOW = 24  # the cascade's own window size
REGION_FRACTION = 0.6
"""Default capture region: this fraction of the frame's width and height, centred."""


TILE_OVERLAP = 0.25
"""Photos: neighbouring tiles of one pyramid level overlap by this share of their side."""
STILL_MIN_FACE_FRACTION_CNN = 0.02
"""Photos: the smallest face BlazeFace's tiles look for, as a share of the photo's longer side
(40 pixels in a 2048-pixel photo)."""
FACE_PER_TILE = 0.45
"""A tile is searched for faces of about this share of its side and more, the next, larger level
taking the larger faces: the short-range model scores small faces best when the square around them
is about twice their side (on the group picture of ``packaging/group_faces.py``, a 40-pixel face:
0.84 in a square twice its side, 0.65 in three times)."""
LEVEL_STEP = 2 ** 0.5
"""Photos: each pyramid level's tiles are this much smaller than the previous level's."""
MIN_TILE = 88
"""Photos: the smallest tile side in pixels (scaled up to the model's 128): a 40-pixel face's tile."""
TILE_MIN_SCORE = 0.6
"""Photos: a tile's candidate must score this much to be looked at again (:data:`CONFIRM_SCORE`)."""
TILE_SURE_SCORE = 0.8
"""Photos: a tile's candidate scoring this much stays as it is (no pattern below scored over 0.76)."""
CONFIRM_CONTEXT = 2.0
CONFIRM_SCORE = 0.75
CONFIRM_IOU = 0.3
"""Photos: every other candidate of the tiles gets a second look, one model call on the square :data:`CONFIRM_CONTEXT`
times its box around it, and stays only where a face scores :data:`CONFIRM_SCORE` there (overlapping
it by :data:`CONFIRM_IOU`). Many tiles give patterns many chances to pass as faces; the second look
separates them (measured on scikit-image's photos scaled to 2048 pixels: faces 0.83-0.91 there,
the patterns tiles let through, from gravel, coins, star fields, text and the badges on the
astronaut's suit, 0.72 at most)."""
REFINE_STEPS_PER_OCTAVE = 4
REFINE_GRID = 16
"""The last look at each face, the same in the live view and for photos (:meth:`BlazeFaceDetector.refine`):
one model call on a square :data:`CONFIRM_CONTEXT` times the face's box, snapped to a grid (its side
to :data:`REFINE_STEPS_PER_OCTAVE` steps per doubling, its centre to 1/:data:`REFINE_GRID` of its side),
so two boxes of one face that differ by a few pixels (the live region's one pass, the photo search's
tiles) look at the very same square and end as the same box. Without it the two paths' boxes overlap
by a median IoU of 0.91 and the crop's few pixels change 12% of real faces' labels; with it 61% of the
boxes are the same within a pixel, the median IoU is 1.0 and labels differ for 3% (clean frames of 150
of realfaces' development photos in 640x480 frames; the model card's "Live view against stills")."""
PARTY_TILE = 160
"""Party mode: the side, in the frame's own pixels, of the squares searched in turn for faces too small
for the whole region's look (scaled to the model's 128, a 24-pixel face becomes 19). Measured on the
group picture of ``packaging/group_faces.py`` at 640x480: 160-pixel squares score its 28-pixel face
0.84 (128: 0.80; 192: not found)."""
PARTY_CELL = 64
PARTY_CONTEXT = 2.0
"""Party mode: every known face is looked at again each frame, in a square :data:`PARTY_CONTEXT` times
its side scaled to :data:`PARTY_CELL` pixels, all of them side by side in one model call (a strip of
cells): the face is then about 32 pixels, where the model scores the group picture's faces 0.54-0.88
(48-pixel cells: 0.49-0.81, and one 28-pixel face lost at 2.5 times)."""
PARTY_TOP_LEVEL = 0.4
"""Party mode: the tiles' top level (:data:`PARTY_TILE` pixels times a power of two, up to half the
region's longer side) is at least this share of that side, else one level more is searched. Its tiles,
overlapping by a quarter, then hold whole every face up to a tenth of the side, and most up to a fifth,
where the whole region's one look finds faces surely. Up to half the side only, the top level of a
1152-pixel region (a 1920x1080 camera's at ``--region 0.6``) was 320 pixels: FER2013 faces pasted at
0.14-0.28 of the side were found over a whole round in 67-83% of places, against 96-100% with the
640-pixel level (1228 pixels: 71-88% at 0.16-0.28, against 96-100%); regions whose top level already
reached 0.4 of the side (a 640x480 or 1280x720 camera's) search as before
(``python packaging/party_coverage.py path/to/fer2013 --sides 1228 1152``, docs/face-detection.md)."""
PARTY_WHOLE_EVERY = 2
"""Party mode: the whole region is looked at between every this many tiles (a near face is found in a
few frames; a far one once the tiles come round to it)."""
PARTY_LOOKS = 3
"""Party mode: at most this many known faces are looked at again each frame, those that have waited
longest (with 6 faces each is seen every other frame; the tracker holds its box in between)."""
NESTED_SHARE = 0.8
"""A box covering this share of a smaller box holds it. One face cannot hold another, so of the two one is
false: the smaller (an eye, say, that the look at a close face also scores: 9 of 1,500 of
``realfaces``' photos), unless it scores :data:`TILE_SURE_SCORE` and more than the larger (a whole
small photo of a person scored as one face around the face in it) (:func:`without_nested`)."""
EDGE_TOLERANCE = 0.01
"""A box touching a tile's inner edge (within this share of the tile) is a cut face: dropped there,
found whole in an overlapping tile."""


@dataclass(frozen=True)
class Detection:
    """One face: ``box`` (x, y, w, h) in image pixels, ``score`` (0..1), and ``keypoints`` (six (x, y)
    points: right eye, left eye, nose, mouth, right ear, left ear) or None (Haar)."""

    box: Box
    score: float
    keypoints: tuple[tuple[float, float], ...] | None = None

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]

    @property
    def roll(self) -> float:
        """Degrees the face is turned in the picture (clockwise as seen), from its eyes; 0 without keypoints."""
        if self.keypoints is None:
            return 0.0
        (rx, ry), (lx, ly) = self.keypoints[RIGHT_EYE], self.keypoints[LEFT_EYE]
        return math.degrees(math.atan2(ly - ry, lx - rx))


def cascade_path() -> Path:
    """OpenCV's frontal-face cascade, shipped in ``cv2.data.haarcascades``."""
    return Path(cv2.data.haarcascades) / CASCADE_FILE


def region_box(shape: tuple[int, ...], fraction: float = REGION_FRACTION) -> Box:
    """The centred capture region covering ``fraction`` of a frame's width and height."""
    rows, cols = shape[:2]
    w, h = round(cols * fraction), round(rows * fraction)
    return (cols - w) // 2, (rows - h) // 2, w, h


def largest_first(detections: list[Detection]) -> list[Detection]:
    """Detections sorted by box area, largest first (the nearest visitor leads)."""
    return sorted(detections, key=lambda d: -d.area)


def area_of(image: np.ndarray, region: Box | None) -> tuple[np.ndarray, int, int]:
    """The part of ``image`` inside ``region`` (all of it if None) and its top-left corner."""
    x0, y0, w, h = region if region else (0, 0, image.shape[1], image.shape[0])
    return image[y0:y0 + h, x0:x0 + w], x0, y0


def haar_available() -> bool:
    """Whether this OpenCV has the cascade classifier: the executable's slim OpenCV leaves out its
    module (objdetect) to compile in minutes; PyPI's wheels have it."""
    return hasattr(cv2, "CascadeClassifier")


def haar_report() -> str:
    """The Haar cascade as ``doctor`` and the self-test report it: loaded, with its path, or why this
    OpenCV has none (no failure: BlazeFace is the default). Raises :class:`DetectorError` if it will
    not load."""
    if not haar_available():
        return "no Haar cascade in this OpenCV (slim build: --detector haar is unavailable)"
    load_cascade()
    return f"Haar cascade loaded from {cascade_path()}"


@lru_cache(maxsize=1)
def load_cascade() -> cv2.CascadeClassifier:
    """The frontal-face cascade, loaded once per process."""
    if not haar_available():
        raise DetectorError("this build's OpenCV has no Haar cascade (the slim one leaves it out); "
                            "use --detector blazeface, or build with --stock-opencv")
    path = cascade_path()
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise DetectorError(f"{path}: cannot load the Haar face cascade; reinstall opencv-python-headless<5")
    return cascade


@dataclass
class HaarDetector:
    """The Haar cascade with one tuning; the defaults are for live frames, :meth:`for_stills` for photos."""

    scale_factor: float = SCALE_FACTOR
    min_neighbors: int = MIN_NEIGHBORS
    detect_width: int = DETECT_WIDTH
    min_face_fraction: float = MIN_FACE_FRACTION

    def __post_init__(self) -> None:
        self._cascade = load_cascade()

    margin = FACE_MARGIN
    shift = 0.0

    def refine(self, image: np.ndarray, detection: Detection) -> Detection:
        """The face as it is: the cascade has no last look (:meth:`BlazeFaceDetector.refine`)."""
        return detection

    @classmethod
    def for_stills(cls) -> HaarDetector:
        """A slower, more thorough tuning for single photos (smaller faces, more pixels)."""
        return cls(scale_factor=STILL_SCALE_FACTOR, detect_width=STILL_DETECT_WIDTH,
                   min_face_fraction=STILL_MIN_FACE_FRACTION)

    def detect(self, image: np.ndarray, region: Box | None = None) -> list[Detection]:
        """All faces whose box lies inside ``region`` (whole image if None), largest first; the score
        is the share of the strongest hit's overlapping hits."""
        area, x0, y0 = area_of(to_gray(image), region)
        if area.size == 0:
            return []
        scale = min(1.0, self.detect_width / area.shape[1])
        if scale < 1.0:
            area = cv2.resize(area, (self.detect_width, max(1, round(area.shape[0] * scale))),
                              interpolation=cv2.INTER_AREA)
        smallest = max(MIN_WINDOW, int(area.shape[0] * self.min_face_fraction))
        found, neighbours = self._cascade.detectMultiScale2(
            equalize(area), scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(smallest, smallest))
        found, neighbours = np.asarray(found).reshape(-1, 4), np.asarray(neighbours).reshape(-1)
        if not len(found):
            return []
        strength = neighbours / neighbours.max()
        return largest_first([
            Detection((x0 + round(x / scale), y0 + round(y / scale), round(fw / scale), round(fh / scale)), float(s))
            for (x, y, fw, fh), s in zip(found, strength, strict=True) if s >= RELATIVE_NEIGHBORS])

def to_bgr(image: np.ndarray) -> np.ndarray:
    """A uint8 BGR picture (``image`` itself when it is one) from a gray, BGR or BGRA picture."""
    if image.ndim == 2 or image.shape[2] == 1 or image.dtype != np.uint8:
        return cv2.cvtColor(to_gray(image), cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image


def tile_starts(length: int, side: int) -> list[int]:
    """Starts of tiles of ``side`` covering ``length``, overlapping by :data:`TILE_OVERLAP`; the last
    one ends at the edge."""
    if side >= length:
        return [0]
    count = math.ceil((length - side) / (side * (1 - TILE_OVERLAP))) + 1
    return [round(i * (length - side) / (count - 1)) for i in range(count)]


def snapped_square(cx: float, cy: float, side: float, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Left, top and side of the square of about ``side`` centred near (cx, cy), snapped to
    :data:`REFINE_STEPS_PER_OCTAVE` sides per doubling and centres on a grid of 1/:data:`REFINE_GRID`
    of the side (nearby squares of one face become the same square), then moved (and shrunk, if
    need be) inside a picture of ``shape``: the model sees picture, not black, around a face near an edge."""
    side = 2 ** (round(math.log2(max(side, 1.0)) * REFINE_STEPS_PER_OCTAVE) / REFINE_STEPS_PER_OCTAVE)
    step = side / REFINE_GRID
    cx, cy = round(cx / step) * step, round(cy / step) * step
    rows, cols = shape[:2]
    whole = max(1, min(round(side), rows, cols))
    return (min(max(round(cx - whole / 2), 0), cols - whole), min(max(round(cy - whole / 2), 0), rows - whole), whole)


def detector_model_path(model_range: Range) -> Path:
    """A shipped BlazeFace model file, ``model/face_detection_*.tflite``."""
    try:
        return resource_dir("model") / model_range.value.filename
    except FileNotFoundError as exc:
        raise DetectorError(str(exc)) from None


@lru_cache(maxsize=4)
def load_blazeface(model_range: Range = Range.SHORT, path: Path | None = None) -> BlazeFaceModel:
    """A BlazeFace model, loaded once per process (``path`` overrides the shipped file)."""
    return BlazeFaceModel(path or detector_model_path(model_range), model_range.value)


@dataclass
class BlazeFaceDetector:
    """MediaPipe's short-range BlazeFace: the area scaled to 128 pixels on its longer side, one model
    call in the area's own shape; ``thorough`` (photos) also searches a pyramid of overlapping tiles
    down to ``min_face_fraction`` of the longer side, each tile's face confirmed by a second look."""

    thorough: bool = False
    min_face_fraction: float = STILL_MIN_FACE_FRACTION_CNN
    model_path: Path | None = None
    own_model: bool = False
    """Load a model of its own instead of the process's shared one: for a search on another thread
    (an interpreter serves one thread at a time)."""

    margin = BLAZEFACE_MARGIN
    shift = BLAZEFACE_SHIFT

    def __post_init__(self) -> None:
        if self.own_model:
            self._model = BlazeFaceModel(self.model_path or detector_model_path(Range.SHORT), Range.SHORT.value)
        else:
            self._model = load_blazeface(Range.SHORT, self.model_path)

    @classmethod
    def for_stills(cls, own_model: bool = False) -> BlazeFaceDetector:
        """The thorough search for single photos: tiles, down to faces of 2% of the photo's side."""
        return cls(thorough=True, own_model=own_model)

    def _square(self, image: np.ndarray, x: int, y: int, side: int, min_score: float | None = None,
                thorough: bool | None = None) -> Candidates:
        """Candidates in the square ``side`` at (x, y) of ``image`` (black beyond its edges), in its pixels.
        The patch is scaled down before anything else: the cheaper order. Photos shrink with area
        averaging (small faces keep their detail); live frames, whose faces are large, with bilinear
        sampling, a quarter of the cost (0.03 against 0.13 ms for a 384x288 region). ``thorough`` overrides
        the detector's own tuning."""
        thorough = self.thorough if thorough is None else thorough
        patch = image[max(0, y):y + side, max(0, x):x + side]
        if x < 0 or y < 0:  # beyond the top or left edge: black there (beyond the others, the model pads)
            patch = cv2.copyMakeBorder(patch, max(0, -y), 0, max(0, -x), 0, cv2.BORDER_CONSTANT)
        scale = self._model.spec.input_size / side
        shrink = cv2.INTER_AREA if thorough else cv2.INTER_LINEAR
        small = cv2.resize(patch, (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale))),
                           interpolation=shrink if scale < 1 else cv2.INTER_LINEAR)
        found = self._model.run(to_bgr(small), min_score, fit=not thorough)
        offset = np.array([x, y], np.float32)
        return Candidates(found.scores, found.boxes / scale + np.tile(offset, 2), found.keypoints / scale + offset)

    def _confirmed(self, image: np.ndarray, found: Candidates, origin: tuple[int, int] = (0, 0)) -> Candidates:
        """The candidates (in the pixels of the area at ``origin`` of ``image``) that a second look
        confirms: the square :data:`CONFIRM_CONTEXT` times the box around it, cut from the whole
        picture (a face across the area's edge is seen whole), must hold a face scoring
        :data:`CONFIRM_SCORE` on the same spot."""
        keep = found.scores >= TILE_SURE_SCORE
        shift = np.array(origin * 2, np.float32)
        for i in np.flatnonzero(~keep):
            box = found.boxes[i] + shift
            side = max(1, round(CONFIRM_CONTEXT * max(box[2] - box[0], box[3] - box[1])))
            x, y = round((box[0] + box[2] - side) / 2), round((box[1] + box[3] - side) / 2)
            again = self._square(image, x, y, side, CONFIRM_SCORE)
            keep[i] = bool(len(again)) and bool((iou_matrix(box, again.boxes) > CONFIRM_IOU).any())
        return found[keep]

    def look_at(self, image: np.ndarray, box: Box) -> Detection | None:
        """The face at ``box`` from one model call on the snapped square around it (:data:`REFINE_GRID`),
        the same call whichever tuning this detector has; None where that look finds no face on the
        same spot. The live view follows a face from frame to frame with this look alone."""
        x0, y0, w, h = box
        found = weighted_nms(self._square(image, *snapped_square(x0 + w / 2, y0 + h / 2, CONFIRM_CONTEXT * max(w, h), image.shape),
                                          thorough=True))
        if not len(found):
            return None
        overlap = iou_matrix(np.array([x0, y0, x0 + w, y0 + h], np.float32), found.boxes)
        best = int(np.argmax(overlap))
        if overlap[best] < CONFIRM_IOU:
            return None
        return self._detections(found[best:best + 1], 0, 0)[0]

    def refine(self, image: np.ndarray, detection: Detection) -> Detection:
        """The detection after the last look at it (:meth:`look_at`); as it is where that look finds no face."""
        return self.look_at(image, detection.box) or detection

    def _tile(self, image: np.ndarray, x: int, y: int, side: int) -> Candidates:
        """Candidates of the tile ``side`` at (x, y), faces cut by an inner edge of the tile dropped."""
        rows, cols = image.shape[:2]
        found = self._square(image, x, y, side, TILE_MIN_SCORE)
        tol = EDGE_TOLERANCE * side
        b = found.boxes
        whole = (((b[:, 0] > x + tol) | (x == 0)) & ((b[:, 1] > y + tol) | (y == 0))
                 & ((b[:, 2] < x + side - tol) | (x + side >= cols))
                 & ((b[:, 3] < y + side - tol) | (y + side >= rows)))
        return found[whole]

    def _tiles(self, image: np.ndarray) -> list[Candidates]:
        """Candidates from every tile of every pyramid level, cut faces at inner tile edges dropped."""
        rows, cols = image.shape[:2]
        longer = max(rows, cols)
        side, smallest = longer / 2, max(MIN_TILE, self.min_face_fraction * longer / FACE_PER_TILE)
        parts = []
        while side >= smallest * 0.99:
            side = round(side)
            parts += [self._tile(image, x, y, side) for y in tile_starts(rows, side) for x in tile_starts(cols, side)]
            side /= LEVEL_STEP
        return parts

    def _look_again(self, image: np.ndarray, boxes: Sequence[Box], origin: tuple[int, int] = (0, 0)) -> Candidates:
        """Candidates near each of ``boxes`` (x, y, w, h in the pixels of the area at ``origin`` of
        ``image``, and so the candidates): one model call on a strip of :data:`PARTY_CELL`-pixel cells,
        each the square :data:`PARTY_CONTEXT` times a box around it, cut from the whole picture, so that a
        face across the area's edge is seen whole."""
        cells, places = [], []
        for bx, by, bw, bh in boxes:
            side = max(1, round(PARTY_CONTEXT * max(bw, bh)))
            x, y = round(bx + bw / 2 - side / 2), round(by + bh / 2 - side / 2)
            px, py = x + origin[0], y + origin[1]
            patch = image[max(0, py):py + side, max(0, px):px + side]
            # beyond the picture's edges: black, as the model pads (the cell keeps the face at its centre)
            patch = cv2.copyMakeBorder(patch, max(0, -py), side - patch.shape[0] - max(0, -py), max(0, -px),
                                       side - patch.shape[1] - max(0, -px), cv2.BORDER_CONSTANT)
            # bilinear, as for the live region: area averaging a near face's 350-pixel square costs 0.26 ms
            cells.append(cv2.resize(patch, (PARTY_CELL, PARTY_CELL), interpolation=cv2.INTER_LINEAR))
            places.append((x, y, side / PARTY_CELL))
        found = self._model.run(to_bgr(np.concatenate(cells, axis=1)), fit=True)
        cell = np.clip((found.boxes[:, 0] + found.boxes[:, 2]) // (2 * PARTY_CELL), 0, len(cells) - 1).astype(int)
        x, y, scale = (np.array(v, np.float32)[cell] for v in zip(*places, strict=True))
        left = (cell * PARTY_CELL).astype(np.float32)
        boxes_out = (found.boxes - np.stack([left, 0 * left, left, 0 * left], 1)) * scale[:, None] \
            + np.stack([x, y, x, y], 1)
        points = (found.keypoints - np.stack([left, 0 * left], 1)[:, None]) * scale[:, None, None] \
            + np.stack([x, y], 1)[:, None]
        return Candidates(found.scores, boxes_out.astype(np.float32), points.astype(np.float32))

    def party_steps(self, shape: tuple[int, ...]) -> list[tuple[int, int, int]]:
        """The squares (x, y, side) party mode searches in turn in an area of ``shape``: tiles of
        :data:`PARTY_TILE` pixels times a power of two, up to half the area's longer side and one level
        more where the top one would be under :data:`PARTY_TOP_LEVEL` of it (each level's tiles see faces
        of about 0.15 to 0.5 of their side; the top one meets the whole area's look), the largest first (a level has about
        a quarter of the tiles of the one below it: the nearer faces, too small for the whole area's look,
        are found within a few frames, the farthest up to about 30 frames later than smallest first; see
        docs/face-detection.md), and before every :data:`PARTY_WHOLE_EVERY` th of them the whole area,
        whose one look finds the near faces."""
        rows, cols = shape[:2]
        longer = max(rows, cols)
        whole = (0, 0, longer)
        sides, side = [], PARTY_TILE
        while side <= longer / 2 or (sides and sides[-1] < PARTY_TOP_LEVEL * longer and side < longer):
            sides.append(side)
            side *= 2
        tiles = [(x, y, side) for side in reversed(sides) for y in tile_starts(rows, side) for x in tile_starts(cols, side)]
        steps = []
        for index, tile in enumerate(tiles):
            steps += [whole, tile] if index % PARTY_WHOLE_EVERY == 0 else [tile]
        return steps or [whole]

    def detect_party(self, image: np.ndarray, region: Box | None, known: Sequence[Box], step: int) -> list[Detection]:
        """Party mode's search of one frame: every face inside ``region``, largest first, down to faces
        of about 24 pixels, at about the cost of two or three single-face looks.

        ``known`` are the boxes of faces already followed (the tracker's), in the order they are to be
        looked at again: the first :data:`PARTY_LOOKS` of them in the region are, this frame
        (:meth:`_look_again`; the caller puts those that have waited longest first).
        ``step`` picks one square of :meth:`party_steps`, searched for new faces:
        the whole region (which gives its faces as they are) or one small tile, whose new faces must
        pass a second look first (:meth:`_confirmed`). Over ``len(party_steps)`` frames the whole
        region is searched; a face once found is followed from frame to frame through ``known``.
        """
        area, x0, y0 = area_of(image, region)
        if area.size == 0:
            return []
        rows, cols = area.shape[:2]
        inside = _inside(known, x0, y0, area.shape)
        parts = [self._look_again(image, inside[:PARTY_LOOKS], (x0, y0))] if inside else []
        steps = self.party_steps(area.shape)
        x, y, side = steps[step % len(steps)]
        if side >= max(rows, cols):
            parts.append(self._square(area, 0, 0, side))
        else:
            new = self._tile(area, x, y, side)
            if len(new) and inside:  # faces already followed need no second look
                seen = np.array([(bx, by, bx + bw, by + bh) for bx, by, bw, bh in inside], np.float32)
                fresh = np.array([not (iou_matrix(b, seen) > CONFIRM_IOU).any() for b in new.boxes])
                new = new[fresh]
            parts.append(self._confirmed(image, weighted_nms(new), (x0, y0)))
        return self._merged(parts, area.shape, x0, y0)

    def detect_again(self, image: np.ndarray, region: Box | None, known: Sequence[Box]) -> list[Detection]:
        """A quick search of a picture taken moments after one in which the thorough search found
        ``known``: the whole area's one look (near faces, new ones too) and a second look at every
        known face (:meth:`_look_again`), two model calls however many faces. A snapshot runs this on
        the still, having searched the picture at the countdown's start thoroughly."""
        area, x0, y0 = area_of(image, region)
        if area.size == 0:
            return []
        inside = _inside(known, x0, y0, area.shape)
        parts = [self._square(area, 0, 0, max(area.shape[:2]))]
        if inside:
            parts.append(self._look_again(image, inside, (x0, y0)))
        return self._merged(parts, area.shape, x0, y0)

    @classmethod
    def _merged(cls, parts: list[Candidates], shape: tuple[int, ...], x0: int, y0: int) -> list[Detection]:
        """The looks' candidates in the area at (x0, y0) of ``shape`` as one set of detections: overlaps
        merged, those centred outside the area dropped (:func:`centred_in`)."""
        return cls._detections(centred_in(weighted_nms(Candidates.concat(parts)), shape), x0, y0)

    @staticmethod
    def _detections(found: Candidates, x0: int, y0: int) -> list[Detection]:
        """Candidates of an area at (x0, y0) as the picture's detections, largest first, the false one
        of each nested pair dropped (:func:`without_nested`)."""
        found = without_nested(found)
        offset = np.array([x0, y0], np.float32)
        return largest_first([
            Detection((x0 + round(bx0), y0 + round(by0), max(1, round(bx1 - bx0)), max(1, round(by1 - by0))),
                      score, tuple(map(tuple, points)))
            for score, (bx0, by0, bx1, by1), points in zip(found.scores.tolist(), found.boxes.tolist(),
                                                            (found.keypoints + offset).tolist(), strict=True)])

    def detect(self, image: np.ndarray, region: Box | None = None) -> list[Detection]:
        """All faces inside ``region`` (whole image if None), largest first."""
        area, x0, y0 = area_of(image, region)
        if area.size == 0:
            return []
        whole = self._square(area, 0, 0, max(area.shape[:2]))
        if self.thorough:  # the tiles' faces need a second look; the one look at the whole does not
            tiles = self._confirmed(image, weighted_nms(Candidates.concat(self._tiles(area))), (x0, y0))
            found = weighted_nms(Candidates.concat([whole, tiles]))
        else:
            found = weighted_nms(whole)
        return self._detections(found, x0, y0)


def without_nested(found: Candidates) -> Candidates:
    """``found`` without the false one of each pair of boxes one inside the other (:data:`NESTED_SHARE`)."""
    boxes, scores = found.boxes, found.scores
    if len(scores) < 2:
        return found
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    wide = np.clip(np.minimum(boxes[:, None, 2], boxes[None, :, 2]) - np.maximum(boxes[:, None, 0], boxes[None, :, 0]), 0, None)
    high = np.clip(np.minimum(boxes[:, None, 3], boxes[None, :, 3]) - np.maximum(boxes[:, None, 1], boxes[None, :, 1]), 0, None)
    holds = (wide * high >= NESTED_SHARE * area[None, :]) & (area[None, :] < area[:, None]) & (area[None, :] > 0)
    inner_wins = holds & (scores[None, :] >= TILE_SURE_SCORE) & (scores[None, :] > scores[:, None])  # [i, j]: i holds j
    false_outer = inner_wins.any(axis=1)  # a box found false drops none of the boxes it holds
    keep = ~(false_outer | (holds & ~inner_wins & ~false_outer[:, None]).any(axis=0))
    return found[keep]


def centre_inside(box: Box, area: Box) -> bool:
    """Whether the centre of ``box`` lies inside ``area`` (both x, y, w, h)."""
    x, y, w, h = box
    ax, ay, aw, ah = area
    return ax <= x + w / 2 < ax + aw and ay <= y + h / 2 < ay + ah


def centred_in(found: Candidates, shape: tuple[int, ...]) -> Candidates:
    """The candidates (in an area's pixels) whose centre lies in the area of ``shape``: the looks at
    known faces see beyond the area's edges, and a face that left it is no longer in the region."""
    cx, cy = (found.boxes[:, 0] + found.boxes[:, 2]) / 2, (found.boxes[:, 1] + found.boxes[:, 3]) / 2
    keep = (cx >= 0) & (cx < shape[1]) & (cy >= 0) & (cy < shape[0])
    return found[keep]


def _inside(known: Sequence[Box], x0: int, y0: int, shape: tuple[int, ...]) -> list[Box]:
    """The boxes of ``known`` whose centre lies in the area at (x0, y0) of ``shape``, in its pixels."""
    area = (x0, y0, shape[1], shape[0])
    return [(bx - x0, by - y0, bw, bh) for bx, by, bw, bh in known if centre_inside((bx, by, bw, bh), area)]


DETECTORS: dict[Detector, type[BlazeFaceDetector | HaarDetector]] = {
    Detector.BLAZEFACE: BlazeFaceDetector, Detector.HAAR: HaarDetector}
"""The detector class of each choice: ``DETECTORS[settings.detector]()`` builds one."""
