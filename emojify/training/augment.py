"""Training-time augmentation of prepared faces: random flips, rotations, shifts and zooms.

Pure NumPy and OpenCV on the CPU, one affine warp a face (about 20 us at 48x48), so it costs the
same on every Keras backend and never becomes the slow part of a GPU run.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_ROTATION_DEG = 14.0
MAX_SHIFT = 0.1
"""Largest shift, as a fraction of the face's side."""
MAX_ZOOM = 0.1
"""Scale is drawn from ``1 +- MAX_ZOOM``."""


def random_affines(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random 2x3 affine matrices (rotation and zoom about the centre, then a shift)."""
    centre = ((size - 1) / 2.0, (size - 1) / 2.0)
    angles = rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG, n)
    scales = rng.uniform(1.0 - MAX_ZOOM, 1.0 + MAX_ZOOM, n)
    shifts = rng.uniform(-MAX_SHIFT, MAX_SHIFT, (n, 2)) * size
    matrices = np.stack([cv2.getRotationMatrix2D(centre, a, s) for a, s in zip(angles, scales, strict=True)])
    matrices[:, :, 2] += shifts
    return matrices


def augment_faces(faces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Randomly flipped and warped copies of ``faces`` (N, H, W), same shape and dtype.

    Borders are filled by reflection, so no black corners teach the network a shortcut.
    """
    n, size = len(faces), faces.shape[-1]
    flips = rng.random(n) < 0.5
    out = np.empty_like(faces)
    for i, (face, matrix) in enumerate(zip(faces, random_affines(n, size, rng), strict=True)):
        src = face[:, ::-1] if flips[i] else face
        out[i] = cv2.warpAffine(np.ascontiguousarray(src), matrix, (size, size), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT_101)
    return out
