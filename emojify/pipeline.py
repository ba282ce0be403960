"""Frame in, result out: capture region -> largest face -> preprocessing -> model -> emoji.

Pure with respect to the screen: nothing here knows about Tk, so the kiosk, the command line,
the benchmarks and the tests all run the same code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from emojify.classifier import Classifier
from emojify.faces import REGION_FRACTION, FaceDetector, region_box
from emojify.labels import CLASSES, EMOJI
from emojify.preprocess import Box, prepare_face
from emojify.smoothing import Smoother


@dataclass(frozen=True)
class Result:
    """What one frame (or a still) shows: region, face box, probabilities, label and emoji.

    ``box``, ``probabilities``, ``label`` and ``emoji`` are None when no face is found.
    """

    region: Box | None
    box: Box | None
    probabilities: np.ndarray | None
    label: str | None

    @property
    def emoji(self) -> str | None:
        return EMOJI[self.label] if self.label else None

    def as_dict(self) -> dict:
        """JSON-ready: ``face`` [x, y, w, h] or None, ``label``, ``probabilities`` by class, ``emoji``."""
        probs = None if self.probabilities is None else {c: round(float(p), 4)
                                                         for c, p in zip(CLASSES, self.probabilities, strict=True)}
        return {"face": None if self.box is None else [int(v) for v in self.box],
                "label": self.label, "probabilities": probs, "emoji": self.emoji}


def label_of(probabilities: np.ndarray) -> str:
    """The class with the highest probability."""
    return CLASSES[int(np.argmax(probabilities))]


class Pipeline:
    """The per-frame path, holding the loaded model, the detector and the live smoother."""

    def __init__(self, classifier: Classifier | None = None, detector: FaceDetector | None = None,
                 region_fraction: float = REGION_FRACTION, smoother: Smoother | None = None):
        self.classifier = classifier or Classifier()
        self.detector = detector or FaceDetector()
        self.still_detector = FaceDetector.for_stills()
        self.region_fraction = region_fraction
        self.smoother = smoother or Smoother()

    def region(self, frame: np.ndarray) -> Box:
        """The capture region of a frame of this size."""
        return region_box(frame.shape, self.region_fraction)

    def analyze(self, frame: np.ndarray, use_region: bool = True, mirror_average: bool = False) -> Result:
        """Classify the largest face of one frame, without smoothing.

        ``use_region=False`` searches the whole image (stills). The probabilities are the model's
        decision rule (:meth:`Classifier.classify`); ``mirror_average`` makes it average the face
        with its mirror image even where the rule does not.
        """
        region = self.region(frame) if use_region else None
        detector = self.detector if use_region else self.still_detector
        box = detector.largest_face(frame, region)
        if box is None:
            return Result(region, None, None, None)
        face = prepare_face(frame, box)
        probabilities = self.classifier.classify(face, mirror=mirror_average or None)[0]
        return Result(region, box, probabilities, label_of(probabilities))

    def live(self, frame: np.ndarray, now: float | None = None) -> Result:
        """One frame of the live stream: :meth:`analyze` inside the region, then smoothing.

        During the smoother's grace period after the face is lost, the last label and
        probabilities are kept (with no box), so a missed detection does not blank the emoji.
        """
        raw = self.analyze(frame)
        now = time.monotonic() if now is None else now
        probabilities, label = self.smoother.update(raw.probabilities, now)
        return Result(raw.region, raw.box, probabilities, label)
