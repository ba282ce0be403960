"""Face crop -> gray -> 48x48 -> equalised: the one preprocessing used everywhere.

Training, evaluation and the live kiosk all call :func:`prepare_face`, so what the model sees
at run time is exactly what it saw while it learned. Histogram equalisation is part of that
contract: it makes a face in a dim room look like the same face in daylight, for the model
and for the detector (see :func:`equalize`).
"""

from __future__ import annotations

import cv2
import numpy as np

INPUT_SIZE = 48
"""Side of the square gray image the model takes."""

FACE_MARGIN = 0.1
"""Extra border around a Haar detector box, as a fraction of its side on each side.

FER2013's crops include a little forehead and chin beyond the tight Haar box. Measured: on 426
PublicTest crops upscaled 4x, the Haar box's side is 1/1.19 of the crop's (median), i.e. 0.096 of
the box on each side; ``tests/test_preprocess.py`` re-measures it.
"""

BLAZEFACE_MARGIN = 0.05
"""The same for BlazeFace's boxes, which are larger than Haar's. Measured the same way: on 191 of
200 PublicTest crops upscaled 4x, the crop's side over the box's is 1.11 (median), 0.055 of the
box on each side; ``tests/test_preprocess.py`` re-measures it."""
BLAZEFACE_SHIFT = -0.085
"""BlazeFace's box also sits lower on the face than FER2013's crop (it takes in the chin): the
crop's centre is moved this share of the box's side along the face's up-down axis (negative:
up). Measured on the same crops (median); re-measured in ``tests/test_preprocess.py``."""

Box = tuple[int, int, int, int]
"""A face box ``(x, y, w, h)`` in pixels of the image it was found in."""


def to_gray(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as a 2-D uint8 gray array.

    Accepts uint8 gray, BGR, BGRA and single-channel 3-D arrays: the readers make every picture 8-bit
    first (:func:`emojify.imageio.read_image`, one rule for 16-bit and float files), and the Python API
    refuses other arrays.
    """
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, not {image.dtype}")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"unsupported image shape {image.shape}")


def equalize(gray: np.ndarray) -> np.ndarray:
    """Spread a uint8 gray image's histogram over 0..255 (cv2.equalizeHist)."""
    return cv2.equalizeHist(gray)


def denoise(gray: np.ndarray) -> np.ndarray:
    """Smooth sensor noise, keeping edges (a 5-pixel bilateral filter over 6 grey levels), before equalising.

    In a dim room a face spans few grey levels and equalisation multiplies its noise with them;
    this filter takes that noise out first. Measured on PublicTest darkened to 30% with noise of
    sigma 3: accuracy kept 89% -> 96% (docs/model.md), at about 0.01 ms a face, daylight accuracy unchanged.
    """
    return cv2.bilateralFilter(gray, 5, 6.0, 3.0)


def crop_square(gray: np.ndarray, box: Box, margin: float = FACE_MARGIN, roll: float = 0.0,
                shift: float = 0.0) -> np.ndarray:
    """Cut the square around ``box`` grown by ``margin``; edges beyond the image are replicated.

    ``roll`` (degrees, the face's turn as :attr:`emojify.faces.Detection.roll` gives it) turns the
    square with the face, so the crop comes out upright with the eyes level. ``shift`` moves the
    square's centre by that share of the box's side towards the chin (negative: the forehead).
    """
    x, y, w, h = box
    side = max(w, h) * (1.0 + 2.0 * margin)
    angle = np.radians(roll)
    cx = x + w / 2.0 - shift * max(w, h) * np.sin(angle)
    cy = y + h / 2.0 + shift * max(w, h) * np.cos(angle)
    if roll:
        matrix = cv2.getRotationMatrix2D((cx, cy), roll, 1.0)
        matrix[:, 2] += (side / 2 - cx, side / 2 - cy)
        size = max(1, round(side))
        return cv2.warpAffine(gray, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    x1, y1 = x0 + round(side), y0 + round(side)
    rows, cols = gray.shape[:2]
    pad = max(0, -x0, -y0, x1 - cols, y1 - rows)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return gray[y0:y1, x0:x1]


def prepare_face(image: np.ndarray, box: Box | None = None, margin: float = FACE_MARGIN,
                 roll: float = 0.0, shift: float = 0.0) -> np.ndarray:
    """Turn an image (and optionally a face box in it) into the model's 48x48 uint8 input.

    With ``box`` the face is cut out with ``margin`` around it (centre moved by ``shift``), turned
    upright by ``roll`` degrees; without, the whole image is taken to be the face (as FER2013's
    crops are). The result is gray, 48x48, denoised, histogram-equalised.
    """
    gray = to_gray(image)
    if box is not None:
        gray = crop_square(gray, box, margin, roll, shift)
    if gray.shape != (INPUT_SIZE, INPUT_SIZE):
        shrinking = gray.shape[0] > INPUT_SIZE
        gray = cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE),
                          interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return equalize(denoise(np.ascontiguousarray(gray)))


def to_batch(faces: np.ndarray) -> np.ndarray:
    """Stack prepared faces ``(N, 48, 48)`` or one face ``(48, 48)`` into float32 ``(N, 48, 48, 1)``.

    Values stay 0..255: the model rescales inside itself, so its int8 input is simply pixel - 128.
    """
    faces = np.asarray(faces)
    if faces.ndim == 2:
        faces = faces[None]
    return faces.astype(np.float32)[..., None]
