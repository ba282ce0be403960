"""Training-time augmentation of prepared faces: random flips, rotations, shifts and zooms, and lighting.

Lighting (:func:`relight_faces`, opt-in with ``emojify-train --lighting``) darkens a share of the
faces, bends their gamma and adds sensor noise, then prepares them again as the kiosk would, with
the same :func:`emojify.evaluate.dim` that makes the faces of ``emojify evaluate --dim``.

Pure NumPy and OpenCV on the CPU, one affine warp a face (about 20 us at 48x48), so it costs the
same on every Keras backend and never becomes the slow part of a GPU run.
"""

from __future__ import annotations

import cv2
import numpy as np

from emojify.evaluate import dim
from emojify.preprocess import prepare_face

MAX_ROTATION_DEG = 14.0
MAX_SHIFT = 0.1
"""Largest shift, as a fraction of the face's side."""
MAX_ZOOM = 0.1
"""Scale is drawn from ``1 +- MAX_ZOOM``."""
BRIGHTNESS = (0.2, 1.0)
"""Range of the brightness factor :func:`relight_faces` draws."""
GAMMA = (0.67, 1.5)
"""Range of the gamma :func:`relight_faces` draws."""
NOISE_SIGMA = (0.0, 4.0)
"""Range of the sensor noise (grey levels, standard deviation) :func:`relight_faces` draws."""


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


def relight_faces(faces: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    """Copies of prepared faces ``(N, 48, 48)`` where a random ``share`` is dimmed, gamma-bent and noised.

    Each chosen face draws its brightness, gamma and noise from :data:`BRIGHTNESS`, :data:`GAMMA`
    and :data:`NOISE_SIGMA`, and is then prepared again (denoised, equalised) as the kiosk does.
    """
    out = np.array(faces, copy=True)
    for i in np.flatnonzero(rng.random(len(faces)) < share):
        out[i] = prepare_face(dim(faces[i], rng.uniform(*BRIGHTNESS), rng.uniform(*NOISE_SIGMA), rng,
                                  gamma=float(np.exp(rng.uniform(*np.log(GAMMA))))))
    return out
