"""A face's shape from its Face Mesh points: mouth, smile, brows, eyes and pose, the same near and far.

Every measure is taken in the face's own frame (:func:`face_frame`): the points turned so the eyes
are level and the face looks straight at the camera, moved to the eyes' midpoint and divided by the
distance between the eyes (3-D, so a turned head keeps its size). The raw ratios are then mapped onto
the ranges the renderer uses with smooth, strictly rising curves (a logistic or tanh around the
resting face), so two faces in one order keep it and a ROC AUC over a measure is the raw ratio's.

The constants were set on FER2013 PublicTest and ``../shared/data/realfaces``
(``packaging/shape_auc.py`` prints how well each measure separates the expressions; the figures
are in docs/generated-emoji.md).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

# Face Mesh indices ("right" is the person's right, on the picture's left).
RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (263, 362)
RIGHT_LIDS, LEFT_LIDS = (159, 145), (386, 374)
"""(upper, lower) eyelid, at the eye's middle."""
FOREHEAD, NOSE_BOTTOM = 10, 2
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
UPPER_LIP_OUTER, LOWER_LIP_OUTER, CHIN = 0, 17, 152
INNER_LIP_MIDDLE = (13, 14)
"""(upper, lower) inner lip at the mouth's middle."""
FACE_RIGHT, FACE_LEFT = 234, 454
BROWS = (70, 63, 105, 66, 107, 300, 293, 334, 296, 336)
"""The upper edge of both eyebrows, outer to inner."""
INNER_BROWS = (55, 285)
"""The lower inner ends of the eyebrows (right, left)."""

MOUTH_REST, MOUTH_SPAN = 0.1, 0.06
"""mouth_open = logistic((outer lip height / mouth width - lower lip to chin / eye distance - REST) /
SPAN): a resting mouth (median -0.03 to -0.05) reads about 0.1, a mouth open in surprise (median
0.11-0.15) 0.6 and a wide open one (0.3) 0.97."""
SMILE_REST, SMILE_SPAN, SMILE_SPAN_DOWN = 0.42, 0.1, 0.25
SMILE_LIFT = 2.0
"""smile = tanh((mouth width / face width + LIFT * corner lift / mouth width - REST) / SPAN):
a resting mouth (median 0.41) reads 0, a smile (median 0.60) 0.95, corners drawn down below 0,
over the wider SPAN_DOWN. Below the rest the ratio tells little: neutral faces spread as far down
as sad ones, and with one span about a third of resting faces read under -0.3 and their emoji
frowned; with SPAN_DOWN 11% / 8% of neutral faces do (FER2013 PublicTest / the photos,
``packaging/shape_auc.py`` prints the share). The faces' order, so every ROC AUC, is the same."""
BROW_REST, BROW_SPAN = 0.53, 0.1
BROW_GATHER = 0.25
"""brows = tanh((the brows' height above the eye line / the forehead's top's height above it +
GATHER * inner brow gap / eye distance - REST) / SPAN): a resting face (median 0.51-0.54) reads
-0.2 to 0.1, raised brows (surprise's median 0.53-0.59) up to 0.5, lowered and drawn together below 0."""
EYE_SHUT, EYE_WIDE = 0.17, 0.35
"""Lid gap over eye width that reads 0 (shut) and 1 (wide open). The mesh never brings the lids
together: in the photos, shut eyes read 0.17-0.18 and eyes narrowed in a broad smile 0.20-0.22 (the
lowest 48 of 1,480 photos, looked at one by one), a resting face's median 0.29, the widest 1% 0.355."""
QUANTUM = 0.05
"""Measures are rounded to this for drawing (angles to :data:`ANGLE_QUANTUM` degrees): the generated
emoji's cache key, and what the screens compare, so a face that keeps still redraws nothing."""
ANGLE_QUANTUM = 2.0


@dataclass(frozen=True)
class Shape:
    """What a face does, from its mesh: ``mouth_open`` 0 (closed) .. 1 (wide open), ``smile`` -1
    (corners down) .. 1 (corners up and wide), ``brows`` -1 (lowered, drawn together) .. 1 (raised),
    ``eyes_open`` (right, left: the person's) 0 (shut) .. 1 (wide), and the pose in degrees: ``roll``
    (turned clockwise as seen), ``yaw`` (turned towards the picture's right), ``pitch`` (chin up)."""

    mouth_open: float = 0.0
    smile: float = 0.0
    brows: float = 0.0
    eyes_open: tuple[float, float] = (0.7, 0.7)
    roll: float = 0.0
    yaw: float = 0.0
    pitch: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready, rounded: 3 decimals for the measures, 1 for the angles."""
        out = asdict(self)
        for name in ("mouth_open", "smile", "brows"):
            out[name] = round(out[name], 3)
        out["eyes_open"] = [round(v, 3) for v in self.eyes_open]
        for name in ("roll", "yaw", "pitch"):
            out[name] = round(out[name], 1)
        return out

    def mirrored(self) -> Shape:
        """The shape seen in a mirror (the kiosk's live view): eyes swapped, roll and yaw the other way."""
        return Shape(self.mouth_open, self.smile, self.brows, self.eyes_open[::-1], -self.roll, -self.yaw, self.pitch)

    def quantised(self) -> Shape:
        """The shape rounded to the drawing's grid (:data:`QUANTUM`, :data:`ANGLE_QUANTUM`)."""
        def q(value: float, step: float = QUANTUM) -> float:
            return round(value / step) * step
        return Shape(q(self.mouth_open), q(self.smile), q(self.brows), (q(self.eyes_open[0]), q(self.eyes_open[1])),
                     q(self.roll, ANGLE_QUANTUM), q(self.yaw, ANGLE_QUANTUM), q(self.pitch, ANGLE_QUANTUM))

    @classmethod
    def blend(cls, old: Shape, new: Shape, weight: float) -> Shape:
        """``old`` moved ``weight`` (0..1) of the way to ``new``: the live smoothing."""
        def mix(a: float, b: float) -> float:
            return a + weight * (b - a)
        return cls(mix(old.mouth_open, new.mouth_open), mix(old.smile, new.smile), mix(old.brows, new.brows),
                   (mix(old.eyes_open[0], new.eyes_open[0]), mix(old.eyes_open[1], new.eyes_open[1])),
                   mix(old.roll, new.roll), mix(old.yaw, new.yaw), mix(old.pitch, new.pitch))


def face_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points ``(468, 3)`` in the face's own frame, and the rotation ``(3, 3)`` (rows: the face's
    x to its left eye, y down to the nose, z away from the camera) that took them there.

    Origin: the eyes' midpoint; unit: the 3-D distance between the eyes' centres."""
    points = np.asarray(points, np.float64)
    right, left = points[list(RIGHT_EYE_CORNERS)].mean(0), points[list(LEFT_EYE_CORNERS)].mean(0)
    x = left - right
    scale = float(np.linalg.norm(x)) or 1.0
    x = x / scale
    y = points[NOSE_BOTTOM] - points[FOREHEAD]
    y = y - (y @ x) * x
    y = y / (float(np.linalg.norm(y)) or 1.0)
    rotation = np.stack([x, y, np.cross(x, y)])
    return (points - (right + left) / 2) @ rotation.T / scale, rotation


def logistic(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, value))))


def mouth_ratio(face: np.ndarray) -> float:
    """The lips' outer height over the mouth's width (the lips parting), less the lower lip's
    distance to the chin over the eye distance (a dropped jaw brings the lower lip nearer the mesh's
    chin point: alone, that separates surprise from neutral with ROC AUC 0.77-0.82), in the face's
    frame."""
    height = face[LOWER_LIP_OUTER, 1] - face[UPPER_LIP_OUTER, 1]
    width = max(face[MOUTH_LEFT, 0] - face[MOUTH_RIGHT, 0], 1e-6)
    return height / width - (face[CHIN, 1] - face[LOWER_LIP_OUTER, 1])


def smile_ratio(face: np.ndarray) -> float:
    """Mouth width over face width plus :data:`SMILE_LIFT` times the corners' lift (above the inner
    lips' middle) over the mouth's width."""
    width = max(face[MOUTH_LEFT, 0] - face[MOUTH_RIGHT, 0], 1e-6)
    lift = face[list(INNER_LIP_MIDDLE), 1].mean() - (face[MOUTH_RIGHT, 1] + face[MOUTH_LEFT, 1]) / 2
    return width / max(face[FACE_LEFT, 0] - face[FACE_RIGHT, 0], 1e-6) + SMILE_LIFT * lift / width


def brow_ratio(face: np.ndarray) -> float:
    """How high the brows' upper edge sits between the eye line and the forehead's top (0 on the
    eyes, 1 at the top), plus :data:`BROW_GATHER` times the gap between the brows' inner ends."""
    height = face[list(BROWS), 1].mean() / min(face[FOREHEAD, 1], -1e-6)  # both above the eyes: y < 0
    return height + BROW_GATHER * (face[INNER_BROWS[1], 0] - face[INNER_BROWS[0], 0])


def eye_open(face: np.ndarray, corners: tuple[int, int], lids: tuple[int, int]) -> float:
    """One eye's lid gap over its width, mapped to 0 (shut) .. 1 (wide)."""
    width = max(float(np.linalg.norm(face[corners[0], :2] - face[corners[1], :2])), 1e-6)
    ratio = (face[lids[1], 1] - face[lids[0], 1]) / width
    return float(np.clip((ratio - EYE_SHUT) / (EYE_WIDE - EYE_SHUT), 0.0, 1.0))


def pose(rotation: np.ndarray) -> tuple[float, float, float]:
    """Roll, yaw and pitch in degrees from :func:`face_frame`'s rotation."""
    x, y = rotation[0], rotation[1]
    roll = math.degrees(math.atan2(x[1], x[0]))
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, x[2]))))
    pitch = -math.degrees(math.asin(max(-1.0, min(1.0, y[2]))))
    return roll, yaw, pitch


def smile_of(ratio: float) -> float:
    """``smile`` from :func:`smile_ratio`: over :data:`SMILE_SPAN` above the rest, :data:`SMILE_SPAN_DOWN` below."""
    offset = ratio - SMILE_REST
    return math.tanh(offset / (SMILE_SPAN if offset >= 0 else SMILE_SPAN_DOWN))


def shape_of(points: np.ndarray) -> Shape:
    """The :class:`Shape` of one face's mesh points ``(468, 3)`` (picture pixels)."""
    face, rotation = face_frame(points)
    roll, yaw, pitch = pose(rotation)
    return Shape(
        mouth_open=logistic((mouth_ratio(face) - MOUTH_REST) / MOUTH_SPAN),
        smile=smile_of(smile_ratio(face)),
        brows=math.tanh((brow_ratio(face) - BROW_REST) / BROW_SPAN),
        eyes_open=(eye_open(face, RIGHT_EYE_CORNERS, RIGHT_LIDS), eye_open(face, LEFT_EYE_CORNERS, LEFT_LIDS)),
        roll=roll, yaw=yaw, pitch=pitch)
