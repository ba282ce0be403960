"""MediaPipe's BlazeFace face detector: anchors, box and keypoint regression, scores, weighted NMS.

The shipped short-range model (``model/face_detection_short_range.tflite``, 128x128 input, 896
anchors; the full-range model has 192x192 and 2304 anchors) gives, per anchor, one raw score and 16 regression values: the box centre, width and height, then six keypoints (right eye,
left eye, nose tip, mouth, right ear, left ear; "right" is the person's right, on the image's
left). Everything here is in coordinates normalised to the square input (0..1); the caller maps
them back to its picture. The decoding follows MediaPipe's ``SsdAnchorsCalculator`` and
``TensorsToDetectionsCalculator`` with the options of MediaPipe's face-detection graphs.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from emojify.classifier import ModelError, make_interpreter
from emojify.errors import EmojifyError

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


def anchors(input_size: int, layers: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Anchor centres ``(N, 2)`` (x, y, normalised), cell by cell, row-major, as the model orders them.

    The face models use fixed-size anchors (width and height 1), so only the centres matter: each
    cell of a feature map of ``stride`` holds ``count`` anchors at the cell's centre.
    """
    out = []
    for stride, count in layers:
        cells = -(-input_size // stride)
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(centres, count, axis=0))
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

    @classmethod
    def concat(cls, parts: list[Candidates]) -> Candidates:
        if not parts:
            return cls(np.zeros(0, np.float32), np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("scores", "boxes", "keypoints")))


def sigmoid(raw: np.ndarray) -> np.ndarray:
    """Scores 0..1 from raw logits, clipped to :data:`RAW_SCORE_LIMIT` first."""
    clipped = np.clip(np.asarray(raw, np.float64), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
    return (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchor_centres: np.ndarray, input_size: int,
           min_score: float) -> Candidates:
    """The candidates scoring at least ``min_score``: regression ``(N, 16)`` in input pixels relative
    to each anchor's centre, raw scores ``(N,)`` or ``(N, 1)``."""
    logits = np.asarray(raw_scores, np.float32).reshape(-1)
    keep = logits >= math.log(min_score / (1.0 - min_score))  # the sigmoid is monotonic: only kept ones need it
    scores = sigmoid(logits[keep])
    raw = np.asarray(raw_boxes, np.float32).reshape(len(logits), -1)[keep] / input_size
    centre = anchor_centres[keep]
    cx, cy = raw[:, 0] + centre[:, 0], raw[:, 1] + centre[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    keypoints = raw[:, 4:16].reshape(-1, 6, 2) + centre[:, None, :]
    return Candidates(scores, boxes, keypoints)


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
    order = np.argsort(-candidates.scores, kind="stable")
    scores, boxes, points = candidates.scores[order], candidates.boxes[order], candidates.keypoints[order]
    kept: list[tuple] = []
    alive = np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        group = alive & (iou_matrix(boxes[i], boxes) > threshold)
        group[i] = True
        weights = scores[group][:, None]
        kept.append((scores[i], (boxes[group] * weights).sum(0) / weights.sum(),
                     (points[group] * weights[:, :, None]).sum(0) / weights.sum()))
        alive &= ~group
    if not kept:
        return Candidates.concat([])
    return Candidates(*(np.asarray(column, np.float32) for column in zip(*kept, strict=True)))


class DetectorError(EmojifyError):
    """A face detector's file (Haar cascade or BlazeFace model) is missing or unreadable."""


class BlazeFaceModel:
    """One BlazeFace model on the TFLite interpreter: a square RGB picture in, candidates out."""

    def __init__(self, path: Path, spec: ModelSpec, threads: int = 1):
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise DetectorError(f"{path}: cannot read the face detector model ({exc.strerror or exc}); "
                                "restore model/ from the repository or use --detector haar") from None
        if hashlib.sha256(content).hexdigest() != spec.sha256:
            raise DetectorError(f"{path}: face detector model is damaged or replaced (checksum differs); "
                                "restore model/ from the repository or use --detector haar")
        try:
            self._interpreter, _, _ = make_interpreter(content, threads, path)
        except ModelError as exc:
            raise DetectorError(str(exc)) from None
        self.spec = spec
        self.anchors = anchors(spec.input_size, spec.layers)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {int(d["shape"][-1]): d["index"] for d in self._interpreter.get_output_details()}
        self._boxes, self._scores = outputs[16], outputs[1]

    def run(self, rgb: np.ndarray, min_score: float | None = None) -> Candidates:
        """Candidates (before NMS) in a uint8 RGB picture of ``input_size`` x ``input_size``."""
        self._interpreter.set_tensor(self._input, (rgb.astype(np.float32)[None] / 127.5) - 1.0)
        self._interpreter.invoke()
        return decode(self._interpreter.get_tensor(self._boxes)[0], self._interpreter.get_tensor(self._scores)[0],
                      self.anchors, self.spec.input_size, self.spec.min_score if min_score is None else min_score)
