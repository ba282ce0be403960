"""Classification metrics over the seven classes, in plain numpy (no TensorFlow, no sklearn)."""

from __future__ import annotations

import numpy as np

from emojify.labels import CLASSES, NUM_CLASSES


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Counts ``[true class, predicted class]`` as a 7x7 int array."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def summarize(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, macro F1 (over classes present in ``y_true``), per-class recall and the confusion matrix.

    Classes absent from ``y_true`` are left out of macro F1 and get ``None`` recall, so a folder
    without, say, neutral faces is scored fairly.
    """
    matrix = confusion_matrix(y_true, y_pred)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    hits = np.diag(matrix)
    present = support > 0
    recall = np.divide(hits, support, out=np.zeros(NUM_CLASSES), where=present)
    precision = np.divide(hits, predicted, out=np.zeros(NUM_CLASSES), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(NUM_CLASSES), where=denom > 0)
    n = int(support.sum())
    return {
        "n": n,
        "accuracy": float(hits.sum() / n) if n else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_recall": {c: (float(recall[i]) if present[i] else None) for i, c in enumerate(CLASSES)},
        "support": {c: int(support[i]) for i, c in enumerate(CLASSES)},
        "confusion": matrix.tolist(),
    }
