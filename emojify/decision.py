"""The decision rule: from the model's raw probabilities of a face (and of its mirror image) to the shown ones.

One pure function, :func:`decide`, used by the live kiosk, snapshots, ``emojify predict`` and
``emojify evaluate`` alike (through :meth:`emojify.classifier.Classifier.classify`). Four steps, each
with a parameter in :class:`DecisionRule`:

1. mirror averaging: the mean of the face's and its mirror image's probabilities;
2. prior correction: divide by the training class frequencies to the power ``power``, so the rare
   expressions (disgust, fear) are not drowned by the common ones (happy);
3. temperature: ``softmax(log(q) / temperature)``, so the percentages on the bars match how often
   the top answer is right;
4. for camera pictures only (faces found in a photo or a video frame, ``camera=True``), a class bias
   ``camera_bias`` added to the log-probabilities: FER2013's crops and a camera's faces differ
   (on real photos the network says "neutral" and "surprise" far too rarely, reading resting faces
   as sad or angry), and the bias is fitted on real faces.

``emojify-quantize`` fits steps 1-3 on PublicTest (:func:`fit_rule`) and stores them in the
model's metadata JSON as ``"decision"``; a model without one gets :data:`IDENTITY` (raw probabilities).
``python -m emojify.training.camera_rule`` fits step 4 on real photos (:func:`fit_camera_bias`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from emojify.labels import NUM_CLASSES

METADATA_KEY = "decision"
"""Where the rule's parameters live in the model's metadata JSON."""
POWERS = tuple(np.round(np.arange(0.0, 1.01, 0.05), 2))
"""Prior-correction powers :func:`fit_rule` tries."""
TEMPERATURES = tuple(np.round(np.arange(0.4, 2.001, 0.005), 3))
"""Temperatures :func:`fit_rule` tries (the one with the lowest expected calibration error is kept)."""
ACCURACY_TOLERANCE = 0.003
"""How much accuracy below the raw model's :func:`fit_rule` accepts, at most, for balanced accuracy."""
EPS = 1e-12


@dataclass(frozen=True)
class DecisionRule:
    """Parameters of :func:`decide`: training class frequencies, prior power, temperature, mirror averaging."""

    class_frequencies: tuple[float, ...] = (1.0 / NUM_CLASSES,) * NUM_CLASSES
    power: float = 0.0
    temperature: float = 1.0
    mirror: bool = False
    camera_bias: tuple[float, ...] | None = None

    def __post_init__(self):  # every test is "not (good)", so NaN fails them too
        frequencies = np.array(self.class_frequencies, np.float64)
        if len(frequencies) != NUM_CLASSES or not np.all((frequencies > 0) & np.isfinite(frequencies)):
            raise ValueError(f"decision rule: class_frequencies must be {NUM_CLASSES} positive finite numbers")
        if self.camera_bias is not None and (len(self.camera_bias) != NUM_CLASSES
                                             or not np.all(np.isfinite(self.camera_bias))):
            raise ValueError(f"decision rule: camera_bias must be {NUM_CLASSES} finite numbers")
        if not (0 < self.temperature < math.inf and 0 <= self.power < math.inf):
            raise ValueError("decision rule: temperature must be > 0 and power >= 0, both finite")

    @cached_property
    def log_prior_offset(self) -> np.ndarray:
        """``power * log(class_frequencies)``, what prior correction subtracts from the log-probabilities."""
        return (self.power * np.log(np.array(self.class_frequencies))).astype(np.float32)

    def as_dict(self) -> dict:
        """JSON-ready parameters (what the metadata stores; ``camera_bias`` only when there is one)."""
        params = asdict(self) | {"class_frequencies": [round(f, 6) for f in self.class_frequencies]}
        if self.camera_bias is None:
            del params["camera_bias"]
        else:
            params["camera_bias"] = [round(b, 4) for b in self.camera_bias]
        return params

    @classmethod
    def from_dict(cls, params: dict) -> DecisionRule:
        """The rule stored in metadata; raises ValueError for missing or malformed parameters."""
        try:
            bias = params.get("camera_bias")
            values = (tuple(float(f) for f in params["class_frequencies"]), float(params["power"]),
                      float(params["temperature"]), params["mirror"],
                      None if bias is None else tuple(float(b) for b in bias))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"decision rule: malformed parameters ({exc!r})") from None
        if not isinstance(values[3], bool):  # bool("no") is True
            raise ValueError(  # noqa: TRY004 - a malformed parameter like the others: their readers catch ValueError
                f"decision rule: mirror must be true or false, not {values[3]!r}")
        return cls(*values)


IDENTITY = DecisionRule()
"""No correction, temperature 1, no mirror: the model's raw probabilities."""


def rule_from_metadata(metadata: dict) -> DecisionRule:
    """The model's decision rule, or :data:`IDENTITY` when its metadata has none."""
    params = metadata.get(METADATA_KEY)
    return IDENTITY if params is None else DecisionRule.from_dict(params)


def decide(probabilities: np.ndarray, mirrored: np.ndarray | None, rule: DecisionRule,
           camera: bool = False) -> np.ndarray:
    """Shown probabilities ``(N, 7)`` from raw ones ``(N, 7)`` (and of the mirror images, when the rule mirrors).

    ``mirrored`` is ignored when ``rule.mirror`` is False; it is required when it is True. With
    ``camera`` (a face found in a photo or a video frame) the rule's ``camera_bias``, if any, is
    added to the tempered log-probabilities.
    """
    q = np.asarray(probabilities, np.float32)
    if rule.mirror:
        if mirrored is None:
            raise ValueError("decision rule averages mirror images, but none were given")
        q = (q + np.asarray(mirrored, np.float32)) * np.float32(0.5)
    logits = np.log(np.maximum(q, np.float32(EPS)))
    logits -= rule.log_prior_offset
    logits *= np.float32(1.0 / rule.temperature)
    if camera and rule.camera_bias is not None:
        logits += np.asarray(rule.camera_bias, np.float32)
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits, out=logits)
    out /= out.sum(axis=1, keepdims=True)
    return out


def class_frequencies(y: np.ndarray) -> tuple[float, ...]:
    """Share of each class among labels ``y`` (a class never seen counts as one face)."""
    counts = np.maximum(np.bincount(np.asarray(y), minlength=NUM_CLASSES), 1).astype(float)
    return tuple(float(c) for c in counts / counts.sum())


def negative_log_likelihood(y: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean ``-log p(true class)``."""
    return float(-np.mean(np.log(np.maximum(probabilities[np.arange(len(y)), y], EPS))))


def fit_rule(y: np.ndarray, probabilities: np.ndarray, mirrored: np.ndarray | None,
             frequencies: tuple[float, ...], mirror: bool = True) -> DecisionRule:
    """Fit the rule on a labelled selection split (PublicTest), given the training class ``frequencies``.

    The power is the one with the best balanced accuracy among those that keep accuracy within
    :data:`ACCURACY_TOLERANCE` of the raw model's (:data:`IDENTITY`), else 0; then the temperature is the one
    with the lowest expected calibration error (what the bars promise), ties to the lower NLL.
    """
    from emojify.metrics import expected_calibration_error, summarize

    y = np.asarray(y)

    def scores(power: float) -> tuple[float, float]:
        summary = summarize(y, decide(probabilities, mirrored, DecisionRule(frequencies, power, 1.0, mirror))
                            .argmax(axis=1))
        return summary["accuracy"], summary["balanced_accuracy"]

    floor = summarize(y, np.asarray(probabilities).argmax(axis=1))["accuracy"] - ACCURACY_TOLERANCE
    by_power = {power: scores(power) for power in POWERS}
    allowed = [p for p, (acc, _) in by_power.items() if acc >= floor] or [0.0]
    power = max(allowed, key=lambda p: (by_power[p][1], -p))

    def calibration(temperature: float) -> tuple[float, float]:
        shown = decide(probabilities, mirrored, DecisionRule(frequencies, power, temperature, mirror))
        return expected_calibration_error(y, shown), negative_log_likelihood(y, shown)

    return DecisionRule(frequencies, float(power), float(min(TEMPERATURES, key=calibration)), mirror)


CAMERA_BIASES = tuple(np.round(np.arange(-2.0, 2.001, 0.05), 2))
"""Values :func:`fit_camera_bias` tries for each class's bias."""
CAMERA_ROUNDS = 4
"""Rounds of :func:`fit_camera_bias`'s coordinate search (it settles within two or three)."""


def fit_camera_bias(y: np.ndarray, shown: np.ndarray, classes: tuple[int, ...]) -> tuple[float, ...]:
    """The camera bias (per class, added to the log-probabilities) with the best balanced accuracy over ``classes``.

    ``shown`` ``(N, 7)`` are the probabilities the rule shows without a bias, for labelled real
    photos ``y`` (``-1`` where no face was found: those rows are wrong whatever the bias, and
    left out). Only the biases of ``classes`` are searched, the others stay 0, so no rare class
    is tuned to its handful of faces. As in :func:`fit_rule`, a bias must keep the accuracy over
    the photos of ``classes`` within :data:`ACCURACY_TOLERANCE` of no bias's: balanced accuracy
    is not bought by showing the commonest expressions less often than they are right. A
    coordinate search over :data:`CAMERA_BIASES`, ties to the smaller bias.
    """
    y, shown = np.asarray(y), np.asarray(shown, np.float64)
    found = y >= 0
    y, log_shown = y[found], np.log(np.maximum(shown[found], EPS))
    members = [y == c for c in classes]
    tuned = np.isin(y, classes)

    def scores(bias: np.ndarray) -> tuple[float, float]:
        """(balanced accuracy over ``classes``, accuracy over their photos)."""
        predicted = (log_shown + bias).argmax(axis=1)
        recalls = [np.mean(predicted[m] == c) for c, m in zip(classes, members, strict=True) if m.any()]
        return float(np.mean(recalls)), float(np.mean(predicted[tuned] == y[tuned]))

    bias = np.zeros(NUM_CLASSES)
    floor = scores(bias)[1] - ACCURACY_TOLERANCE
    for _ in range(CAMERA_ROUNDS):
        before = bias.copy()
        for c in classes:
            candidates = [(0.0, 0.0, 0.0)]  # (balanced, -|bias|, bias): no bias when none keeps the accuracy
            for value in CAMERA_BIASES:
                bias[c] = value
                balanced, accuracy = scores(bias)
                if accuracy >= floor:
                    candidates.append((balanced, -abs(value), value))
            bias[c] = max(candidates)[2]
        if np.array_equal(bias, before):
            break
    return tuple(round(float(b), 4) for b in bias)
