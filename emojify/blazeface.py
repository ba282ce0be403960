"""MediaPipe's BlazeFace face detector: anchors, box and keypoint regression, scores, weighted NMS.

The shipped short-range model (``model/face_detection_short_range.tflite``, 128x128 input, 896
anchors) gives, per anchor, one raw score and 16 regression values: the box centre, width and
height, then six keypoints (right eye, left eye, nose tip, mouth, right ear, left ear; "right" is
the person's right, on the image's left). Everything here is in the input's pixels; the caller
maps them back to its picture. The decoding follows MediaPipe's ``SsdAnchorsCalculator`` and
``TensorsToDetectionsCalculator`` with the options of MediaPipe's face-detection graphs.

The network is fully convolutional, so it also runs on inputs of other shapes (each side a
multiple of its coarsest stride, with anchors on that grid): a 4:3 camera region then costs what
its own 128x96 pixels cost, 0.67 against 0.90 ms for the black-padded square (one core, x86-64).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import cv2
import numpy as np

from emojify.classifier import ModelError, make_interpreter
from emojify.errors import EmojifyError, reason_of

log = logging.getLogger(__name__)

RIGHT_EYE, LEFT_EYE = 0, 1
RAW_SCORE_LIMIT = 100.0
"""Raw scores are clipped to +-this before the sigmoid, as MediaPipe does."""
NMS_IOU = 0.3
"""Candidates overlapping a stronger one by more than this IoU are merged into it."""


@dataclass(frozen=True)
class ModelSpec:
    """One BlazeFace model: its file, input side, anchor layout and score threshold."""

    filename: str
    sha256: str
    input_size: int
    layers: tuple[tuple[int, int], ...]
    """(stride, anchors per cell) of each feature map, in output order."""
    min_score: float


class Range(Enum):
    """The BlazeFace models this program knows: SHORT, for faces within about 2 m, is the one shipped
    (photos search it over tiles instead of taking the full-range model, 5x larger)."""

    SHORT = ModelSpec("face_detection_short_range.tflite",
                      "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
                      128, ((8, 2), (16, 6)), 0.5)


def anchors(rows: int, cols: int, layers: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Anchor centres ``(N, 2)`` (x, y, in input pixels) for an input of ``rows`` x ``cols``, cell by
    cell, row-major, as the model orders them.

    The face models use fixed-size anchors (width and height 1), so only the centres matter: each
    cell of a feature map of ``stride`` holds ``count`` anchors at the cell's centre.
    """
    out = []
    for stride, count in layers:
        ys, xs = np.meshgrid((np.arange(-(-rows // stride)) + 0.5) * stride,
                             (np.arange(-(-cols // stride)) + 0.5) * stride, indexing="ij")
        out.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), count, axis=0))
    return np.concatenate(out).astype(np.float32)


@dataclass(frozen=True)
class Candidates:
    """Decoded detections in normalised coordinates: ``scores (K,)``, ``boxes (K, 4)`` as x0, y0, x1,
    y1, and ``keypoints (K, 6, 2)`` as x, y."""

    scores: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, keep: np.ndarray | slice) -> Candidates:
        """The candidates that a boolean mask, index array or slice picks."""
        return Candidates(self.scores[keep], self.boxes[keep], self.keypoints[keep])

    @classmethod
    def concat(cls, parts: list[Candidates]) -> Candidates:
        if not parts:
            return cls(np.zeros(0, np.float32), np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("scores", "boxes", "keypoints")))


def sigmoid(raw: np.ndarray) -> np.ndarray:
    """Scores 0..1 from raw logits, clipped to :data:`RAW_SCORE_LIMIT` first."""
    clipped = np.clip(np.asarray(raw, np.float64), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
    return (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchor_centres: np.ndarray, min_score: float) -> Candidates:
    """The candidates scoring at least ``min_score``, in input pixels: regression ``(N, 16)`` in input
    pixels relative to each anchor's centre, raw scores ``(N,)`` or ``(N, 1)``."""
    logits = np.asarray(raw_scores, np.float32).reshape(-1)
    keep = np.flatnonzero(logits >= math.log(min_score / (1.0 - min_score)))  # only kept ones need the sigmoid
    # Per candidate, eight (x, y) pairs: the box centre's offset, its size, then the six keypoints.
    points = np.asarray(raw_boxes, np.float32).reshape(len(logits), 8, 2)[keep]
    centres = anchor_centres[keep]
    points += centres[:, None]  # every pair but the size is relative to the anchor
    points[:, 1] -= centres
    half = points[:, 1] / 2
    return Candidates(sigmoid(logits[keep]), np.concatenate([points[:, 0] - half, points[:, 0] + half], axis=1),
                      points[:, 2:])


def iou_matrix(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one x0, y0, x1, y1 box with each of ``boxes``."""
    x0, y0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x1, y1 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(candidates: Candidates, threshold: float = NMS_IOU) -> Candidates:
    """MediaPipe's weighted non-maximum suppression: strongest first, each overlapping group becomes
    one detection whose box and keypoints are the score-weighted mean and whose score is the best."""
    if len(candidates) < 2:
        return candidates
    order = np.argsort(-candidates.scores, kind="stable")
    scores, boxes, points = candidates.scores[order], candidates.boxes[order], candidates.keypoints[order]
    kept_scores, kept_boxes, kept_points = [], [], []
    alive = np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        group = alive & (iou_matrix(boxes[i], boxes) > threshold)
        group[i] = True
        weights = scores[group]
        weights = weights / weights.sum()
        kept_scores.append(scores[i])
        kept_boxes.append(weights @ boxes[group])
        kept_points.append(np.tensordot(weights, points[group], 1))
        alive &= ~group
    return Candidates(np.array(kept_scores, np.float32), np.array(kept_boxes, np.float32),
                      np.array(kept_points, np.float32))


class DetectorError(EmojifyError):
    """A face detector's file (Haar cascade, BlazeFace or Face Mesh model) is missing or unreadable."""


def read_verified(path: Path, sha256: str, what: str, advice: str = "; restore model/ from the repository") -> bytes:
    """The bytes of a shipped model file whose checksum must be ``sha256``; :class:`DetectorError`
    naming ``what`` (and ending with ``advice``) when it cannot be read or differs."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise DetectorError(f"{path}: cannot read the {what} ({reason_of(exc)}){advice}") from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise DetectorError(f"{path}: {what} is damaged or replaced (checksum differs){advice}")
    return content


@dataclass(frozen=True)
class _Shaped:
    """The model's interpreter for one input shape, with that shape's anchors."""

    interpreter: object
    input: int
    boxes: int
    scores: int
    anchors: np.ndarray


class BlazeFaceModel:
    """One BlazeFace model on the TFLite interpreter: an RGB picture in, candidates out."""

    def __init__(self, path: Path, spec: ModelSpec, threads: int = 1):
        content = read_verified(path, spec.sha256, "face detector model", "; restore model/ from the repository "
                                "or use --detector haar")
        self.spec, self._content, self._path, self._threads = spec, content, path, threads
        self._shaped: dict[tuple[int, int], _Shaped] = {}
        self._for((spec.input_size, spec.input_size))  # a broken model fails now, not at the first frame

    def _for(self, shape: tuple[int, int]) -> _Shaped:
        """The interpreter for inputs of ``shape`` (rows, cols), built on first use (a kiosk uses two:
        the square for photos and its camera region's shape)."""
        if shape not in self._shaped:
            try:
                interpreter, _, _ = make_interpreter(self._content, self._threads, self._path)
            except ModelError as exc:
                raise DetectorError(str(exc)) from None
            index = interpreter.get_input_details()[0]["index"]
            if tuple(interpreter.get_input_details()[0]["shape"][1:3]) != shape:
                interpreter.resize_tensor_input(index, [1, *shape, 3], strict=False)
                interpreter.allocate_tensors()
            outputs = {int(d["shape"][-1]): d["index"] for d in interpreter.get_output_details()}
            self._shaped[shape] = _Shaped(interpreter, index, outputs[16], outputs[1],
                                          anchors(*shape, self.spec.layers))
        return self._shaped[shape]

    def run(self, picture: np.ndarray, min_score: float | None = None, fit: bool = False) -> Candidates:
        """Candidates (before NMS), in the picture's pixels, in a uint8 BGR picture of at most
        ``input_size`` on either side, placed at the input's top-left corner, the rest black. The
        input is the model's square, or with ``fit`` the picture's own shape rounded up to the
        coarsest stride (the live region: less to compute)."""
        rows, cols = picture.shape[:2]
        if fit:
            step = max(stride for stride, _ in self.spec.layers)
            shaped = self._for((-(-rows // step) * step, -(-cols // step) * step))
        else:
            shaped = self._for((self.spec.input_size, self.spec.input_size))
        rgb = cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)
        # The model takes RGB scaled to -1..1: one OpenCV pass, where numpy's astype, divide and
        # subtract take three (0.04 against 0.13 ms a frame with the padding and copy, one core).
        scaled = cv2.addWeighted(rgb, 1 / 127.5, rgb, 0.0, -1.0, dtype=cv2.CV_32F)
        interpreter = shaped.interpreter
        tensor = interpreter.tensor(shaped.input)()[0]  # a view of the input: no extra copy
        tensor[:rows, :cols] = scaled
        tensor[rows:] = -1.0
        tensor[:rows, cols:] = -1.0
        del tensor  # invoke() refuses to run while a view of the interpreter's memory is alive
        interpreter.invoke()
        return decode(interpreter.get_tensor(shaped.boxes)[0], interpreter.get_tensor(shaped.scores)[0],
                      shaped.anchors, self.spec.min_score if min_score is None else min_score)
