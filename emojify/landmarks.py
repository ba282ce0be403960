"""MediaPipe's Face Mesh: 468 points of a face, from the crop around a BlazeFace detection.

The shipped model (``model/face_landmark.tflite``, MediaPipe's ``face_landmark`` module) takes a
192x192 RGB crop scaled to 0..1 and gives 468 (x, y, z) points in the crop's pixels (z, the depth,
on the same scale, smaller towards the camera) and a raw face score. The crop follows MediaPipe's
face-mesh graph (``face_detection_front_detection_to_roi``): the square 1.5 times the longer side of
the detection's box, around the box's centre, turned upright by the eyes' roll. The points are
mapped back through the same affine transform, so callers get them in their picture's pixels.

Where the crop holds no face (a false detection, a hand over the face), the model's score is low
and :meth:`FaceMesh.run` returns None: no mesh, no shape.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from emojify.blazeface import DetectorError, read_verified, sigmoid
from emojify.classifier import ModelError, make_interpreter
from emojify.faces import to_bgr
from emojify.preprocess import Box
from emojify.resources import resource_dir

log = logging.getLogger(__name__)

MESH_FILE = "face_landmark.tflite"
MESH_SHA256 = "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493"
INPUT_SIZE = 192
POINT_COUNT = 468
CROP_SCALE = 1.5
"""The crop's side over the detection box's longer side (MediaPipe's face-mesh graph)."""
MIN_FACE_SCORE = 0.5
"""The model's own face score (after the sigmoid) below which its points are not used, as MediaPipe does."""


@dataclass(frozen=True)
class Mesh:
    """One face's mesh: ``points`` ``(468, 3)`` float32 x, y in picture pixels and z (depth, in pixels
    too, relative to the face's centre, smaller towards the camera), and the model's face ``score``."""

    points: np.ndarray
    score: float


def crop_matrix(box: Box, roll: float = 0.0, size: int = INPUT_SIZE, scale: float = CROP_SCALE) -> np.ndarray:
    """The 2x3 affine transform from picture pixels to the model's ``size`` square: the square
    ``scale`` times the box's longer side around its centre, turned by ``roll`` degrees (the face's
    turn as :attr:`emojify.faces.Detection.roll` gives it) so the face comes out upright."""
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    matrix = cv2.getRotationMatrix2D((cx, cy), roll, size / (scale * max(w, h, 1)))
    matrix[:, 2] += (size / 2.0 - cx, size / 2.0 - cy)
    return matrix


def face_crop(picture: np.ndarray, box: Box, roll: float = 0.0, size: int = INPUT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``(crop, matrix)``: the face at ``box`` cut as :func:`crop_matrix` says, upright, as an RGB
    ``(size, size, 3)`` uint8 crop from a BGR (or gray) picture, and the transform that cut it."""
    matrix = crop_matrix(box, roll, size)
    crop = cv2.warpAffine(to_bgr(picture), matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), matrix


def to_picture(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Points ``(N, 3)`` in the crop's pixels mapped back to the picture through ``matrix`` (the
    transform :func:`crop_matrix` gave); z is scaled like x and y."""
    inverse = cv2.invertAffineTransform(matrix)
    out = np.empty_like(points, dtype=np.float32)
    out[:, :2] = points[:, :2] @ inverse[:, :2].T + inverse[:, 2]
    out[:, 2] = points[:, 2] * float(np.hypot(*inverse[0, :2]))
    return out


def mesh_model_path() -> Path:
    """The shipped Face Mesh model, ``model/face_landmark.tflite``."""
    try:
        return resource_dir("model") / MESH_FILE
    except FileNotFoundError as exc:
        raise DetectorError(str(exc)) from None


class FaceMesh:
    """The Face Mesh model on the TFLite interpreter: a picture and a face's box in, a :class:`Mesh` out."""

    def __init__(self, path: Path | None = None, threads: int = 1):
        path = path or mesh_model_path()
        content = read_verified(path, MESH_SHA256, "face mesh model")
        try:
            self._interpreter, _, _ = make_interpreter(content, threads, path)
        except ModelError as exc:
            raise DetectorError(str(exc)) from None
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {int(np.prod(d["shape"])): d["index"] for d in self._interpreter.get_output_details()}
        if POINT_COUNT * 3 not in outputs or 1 not in outputs:
            raise DetectorError(f"{path}: not the face mesh model (outputs {sorted(outputs)}); "
                                "restore model/ from the repository")
        self._points, self._score = outputs[POINT_COUNT * 3], outputs[1]
        self.path = path

    def run(self, picture: np.ndarray, box: Box, roll: float = 0.0, min_score: float = MIN_FACE_SCORE) -> Mesh | None:
        """The mesh of the face at ``box`` (turned ``roll`` degrees) in a BGR (or gray) picture, or None
        when the model's face score is under ``min_score``."""
        rgb, matrix = face_crop(picture, box, roll)
        tensor = self._interpreter.tensor(self._input)()[0]  # a view of the input: no extra copy
        np.multiply(rgb, np.float32(1 / 255), out=tensor)
        del tensor  # invoke() refuses to run while a view of the interpreter's memory is alive
        self._interpreter.invoke()
        score = float(sigmoid(self._interpreter.get_tensor(self._score).reshape(-1))[0])
        if score < min_score:
            log.debug("no face mesh at %s: score %.2f", box, score)
            return None
        points = self._interpreter.get_tensor(self._points).reshape(POINT_COUNT, 3)
        return Mesh(to_picture(points, matrix), score)


@lru_cache(maxsize=2)
def load_mesh(path: Path | None = None) -> FaceMesh:
    """The Face Mesh model, loaded once per process (``path`` overrides the shipped file)."""
    return FaceMesh(path)
