"""Find the visitor's face: Haar cascade inside the capture region, the largest face wins.

Detection runs on the capture region only, equalised (so dim rooms still work) and downscaled
to :data:`DETECT_WIDTH` pixels, which keeps it to a few milliseconds a frame on a small CPU. Photos get a more thorough search
(:meth:`FaceDetector.for_stills`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from emojify.errors import EmojifyError
from emojify.preprocess import Box, equalize, to_gray

log = logging.getLogger(__name__)

CASCADE_FILE = "haarcascade_frontalface_default.xml"
SCALE_FACTOR = 1.15
"""Step between detector scales. The seeds use 1.1; with faces bounded below (MIN_FACE_FRACTION)
1.15 finds the same kiosk faces in about 25% less time."""
MIN_NEIGHBORS = 5
"""Overlapping hits required; 5, as in the seeds, rejects background patterns (fewer let a
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


class DetectorError(EmojifyError):
    """The Haar cascade file is missing or unreadable."""


def cascade_path() -> Path:
    """OpenCV's frontal-face cascade, shipped in ``cv2.data.haarcascades``."""
    return Path(cv2.data.haarcascades) / CASCADE_FILE


def region_box(shape: tuple[int, ...], fraction: float = REGION_FRACTION) -> Box:
    """The centred capture region covering ``fraction`` of a frame's width and height."""
    rows, cols = shape[:2]
    w, h = round(cols * fraction), round(rows * fraction)
    return (cols - w) // 2, (rows - h) // 2, w, h


def largest(boxes: list[Box]) -> Box | None:
    """The box with the largest area, or None."""
    return max(boxes, key=lambda b: b[2] * b[3], default=None)


@lru_cache(maxsize=1)
def load_cascade() -> cv2.CascadeClassifier:
    """The frontal-face cascade, loaded once per process."""
    path = cascade_path()
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise DetectorError(f"{path}: cannot load the Haar face cascade; reinstall opencv-python<5")
    return cascade


@dataclass
class FaceDetector:
    """The Haar cascade with one tuning; the defaults are for live frames, :meth:`for_stills` for photos."""

    scale_factor: float = SCALE_FACTOR
    min_neighbors: int = MIN_NEIGHBORS
    detect_width: int = DETECT_WIDTH
    min_face_fraction: float = MIN_FACE_FRACTION

    def __post_init__(self) -> None:
        self._cascade = load_cascade()

    @classmethod
    def for_stills(cls) -> FaceDetector:
        """A slower, more thorough tuning for single photos (smaller faces, more pixels)."""
        return cls(scale_factor=STILL_SCALE_FACTOR, detect_width=STILL_DETECT_WIDTH,
                   min_face_fraction=STILL_MIN_FACE_FRACTION)

    def detect(self, image: np.ndarray, region: Box | None = None) -> list[Box]:
        """All faces whose box lies inside ``region`` (whole image if None), in image pixels."""
        gray = to_gray(image)
        x0, y0, w, h = region if region else (0, 0, gray.shape[1], gray.shape[0])
        area = gray[y0:y0 + h, x0:x0 + w]
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
        if len(found):
            found = found[neighbours >= RELATIVE_NEIGHBORS * neighbours.max()]
        return [(x0 + round(x / scale), y0 + round(y / scale), round(fw / scale), round(fh / scale))
                for x, y, fw, fh in found]

    def largest_face(self, image: np.ndarray, region: Box | None = None) -> Box | None:
        """The largest face inside ``region``, or None."""
        return largest(self.detect(image, region))
