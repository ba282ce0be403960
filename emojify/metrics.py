"""Classification metrics over the seven classes, in plain numpy (no TensorFlow, no sklearn)."""

from __future__ import annotations

import numpy as np

from emojify.labels import CLASSES, NUM_CLASSES

ECE_BINS = 15
"""Equal-width bins of the top probability for the expected calibration error and the reliability diagram."""
NO_ANSWER = -1
"""A prediction of :func:`summarize` that names no class (no face was found): wrong, and outside the confusion."""
MIN_SUPPORT = 30
""":data:`MIN30_KEY` averages the recall of the classes with at least this many images: a class of a
handful of noisy faces (realfaces' 9 fear faces) would swing the mean by chance."""
MIN30_KEY = f"balanced_accuracy_min{MIN_SUPPORT}"


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Counts ``[true class, predicted class]`` as a 7x7 int array."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def summarize(y_true: np.ndarray, y_pred: np.ndarray, probabilities: np.ndarray | None = None) -> dict:
    """Accuracy, balanced accuracy, macro F1, per-class recall and the confusion matrix (and calibration).

    Classes absent from ``y_true`` are left out of balanced accuracy and macro F1 and get ``None``
    recall, so a folder without, say, neutral faces is scored fairly; ``balanced_accuracy_min30``
    is the mean recall over the classes with :data:`MIN_SUPPORT` images or more (None where no class
    has that many: there is nothing to average). A prediction of
    :data:`NO_ANSWER` (no face found) counts as wrong and is left out of the confusion matrix. With
    the ``probabilities`` ``(N, 7)`` behind ``y_pred``, ``ece`` and the ``reliability`` bins are
    added, over the answered rows.
    """
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    answered = y_pred != NO_ANSWER
    matrix = confusion_matrix(y_true[answered], y_pred[answered])
    support = np.bincount(y_true, minlength=NUM_CLASSES)
    predicted = matrix.sum(axis=0)
    hits = np.diag(matrix)
    present = support > 0
    common = support >= MIN_SUPPORT
    recall = np.divide(hits, support, out=np.zeros(NUM_CLASSES), where=present)
    precision = np.divide(hits, predicted, out=np.zeros(NUM_CLASSES), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(NUM_CLASSES), where=denom > 0)
    n = int(support.sum())
    return {
        "n": n,
        "accuracy": float(hits.sum() / n) if n else 0.0,
        "accuracy_interval": wilson_interval(int(hits.sum()), n),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        MIN30_KEY: float(recall[common].mean()) if common.any() else None,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_recall": {c: (float(recall[i]) if present[i] else None) for i, c in enumerate(CLASSES)},
        "support": {c: int(support[i]) for i, c in enumerate(CLASSES)},
        "confusion": matrix.tolist(),
    } | ({} if probabilities is None else
         calibration(reliability_bins(y_true[answered], np.asarray(probabilities)[answered])))


Z95 = 1.959964
"""The standard normal quantile of a two-sided 95% interval."""


def wilson_interval(hits: int, n: int, z: float = Z95) -> list[float] | None:
    """The Wilson score interval (95%) of a share ``hits / n``: where the accuracy of the same model on
    another set of as many faces would lie. Unlike the normal approximation it stays inside 0..1 and
    holds for small sets and shares near 0 or 1. (A formula, not worth a statistics library.)"""
    if n <= 0:
        return None
    share, spread = hits / n, z * z / n
    centre = (share + spread / 2) / (1 + spread)
    half = z * np.sqrt(share * (1 - share) / n + spread / (4 * n)) / (1 + spread)
    return [float(max(0.0, centre - half)), float(min(1.0, centre + half))]


def reliability_bins(y_true: np.ndarray, probabilities: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """Per equal-width bin of the top probability: its range, face count, mean top probability and accuracy.

    Empty bins are kept with ``n`` 0 and ``None`` means, so the list always has ``bins`` entries.
    """
    probabilities = np.asarray(probabilities, float)
    confidence = probabilities.max(axis=1) if len(probabilities) else np.zeros(0)
    correct = probabilities.argmax(axis=1) == np.asarray(y_true) if len(probabilities) else np.zeros(0, bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        inside = index == b
        n = int(inside.sum())
        out.append({"low": float(edges[b]), "high": float(edges[b + 1]), "n": n,
                    "confidence": float(confidence[inside].mean()) if n else None,
                    "accuracy": float(correct[inside].mean()) if n else None})
    return out


def expected_calibration_error(y_true: np.ndarray, probabilities: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE: the face-weighted mean gap between top probability and accuracy over equal-width bins."""
    return calibration(reliability_bins(y_true, probabilities, bins))["ece"]


def calibration(table: list[dict]) -> dict:
    """``ece`` and ``reliability`` (the bins themselves) from one table of :func:`reliability_bins`."""
    n = sum(b["n"] for b in table)
    ece = float(sum(b["n"] * abs(b["confidence"] - b["accuracy"]) for b in table if b["n"]) / n) if n else 0.0
    return {"ece": ece, "reliability": table}
