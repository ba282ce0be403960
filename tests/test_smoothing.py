"""A steady emoji: scripted probability sequences through :class:`emojify.smoothing.Smoother`."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from emojify.labels import CLASSES
from emojify.smoothing import Smoother

FPS = 20.0


def probs(**weights: float) -> np.ndarray:
    """A probability vector with the given classes' shares and the rest spread evenly."""
    p = np.zeros(len(CLASSES), np.float32)
    for name, value in weights.items():
        p[CLASSES.index(name)] = value
    rest = [i for i, c in enumerate(CLASSES) if c not in weights]
    p[rest] = (1.0 - p.sum()) / len(rest)
    return p


def shown_labels(smoother: Smoother, frames, start: float = 0.0) -> list[str | None]:
    """Feed one frame every 1/FPS seconds; the label shown after each."""
    return [smoother.update(p, start + i / FPS)[1] for i, p in enumerate(frames)]


def changes(labels: list[str | None]) -> int:
    return sum(1 for a, b in pairwise(labels) if a != b)


def test_alternating_close_classes_do_not_flicker():
    """Frames alternating between two close guesses (happy vs neutral) keep one emoji."""
    a, b = probs(happy=0.46, neutral=0.38), probs(happy=0.38, neutral=0.46)
    frames = [a, b] * 30
    labels = shown_labels(Smoother(), frames)
    assert changes([CLASSES[int(np.argmax(p))] for p in frames]) > 50  # the raw stream flips every frame
    assert changes(labels) <= 1
    assert set(labels) <= {"happy", "neutral"}


def test_noisy_frames_between_close_classes_do_not_flicker():
    rng = np.random.default_rng(3)
    mean = probs(sad=0.35, neutral=0.33)
    frames = []
    for _ in range(200):
        noisy = np.clip(mean + rng.normal(0, 0.06, len(CLASSES)), 0.001, None)
        frames.append((noisy / noisy.sum()).astype(np.float32))
    raw = [CLASSES[int(np.argmax(p))] for p in frames]
    labels = shown_labels(Smoother(), frames)
    assert changes(raw) > 40
    assert changes(labels) <= 1


@pytest.mark.parametrize("before, after", [("happy", "sad"), ("neutral", "surprise"), ("angry", "happy")])
def test_real_change_of_expression_switches_within_a_few_frames(before, after):
    frames = [probs(**{before: 0.8})] * 8 + [probs(**{after: 0.8})] * 12
    labels = shown_labels(Smoother(), frames)
    assert labels[:8] == [before] * 8
    first = labels.index(after, 8)  # first frame showing the new expression
    assert first - 8 + 1 <= 4, f"took {first - 8 + 1} frames: {labels}"
    assert set(labels[first:]) == {after}  # and it stays


def test_first_face_is_shown_at_once():
    smoother = Smoother()
    _, label = smoother.update(probs(surprise=0.7), 0.0)
    assert label == "surprise"


def test_smoothed_probabilities_stay_probabilities():
    smoother = Smoother()
    rng = np.random.default_rng(0)
    for i in range(20):
        p = rng.random(len(CLASSES)).astype(np.float32)
        smoothed, _ = smoother.update(p / p.sum(), i / FPS)
        assert smoothed.shape == (len(CLASSES),)
        assert np.isclose(smoothed.sum(), 1.0, atol=1e-5)


def test_no_smoothing_follows_every_frame():
    """alpha=1 (the --smoothing 1 setting) shows each frame's own leader once it leads clearly."""
    frames = [probs(happy=0.7), probs(sad=0.7), probs(angry=0.7)]
    assert shown_labels(Smoother(alpha=1.0), frames) == ["happy", "sad", "angry"]


# --- the face goes away --------------------------------------------------------------------------

def test_short_gap_keeps_the_emoji():
    smoother = Smoother()
    shown_labels(smoother, [probs(happy=0.8)] * 5)
    last_seen = 4 / FPS
    for t in np.linspace(last_seen + 0.01, last_seen + smoother.grace_seconds * 0.95, 5):
        probabilities, label = smoother.update(None, float(t))
        assert label == "happy"
        assert probabilities is not None


def test_emoji_clears_after_the_grace_period():
    smoother = Smoother()
    shown_labels(smoother, [probs(happy=0.8)] * 5)
    last_seen = 4 / FPS
    probabilities, label = smoother.update(None, last_seen + smoother.grace_seconds * 1.1)
    assert label is None and probabilities is None


def test_a_face_during_the_gap_restarts_the_grace_period():
    smoother = Smoother()
    grace = smoother.grace_seconds
    smoother.update(probs(happy=0.8), 0.0)
    smoother.update(None, 0.8 * grace)
    smoother.update(probs(happy=0.8), 0.9 * grace)  # seen again
    _, label = smoother.update(None, 1.5 * grace)  # 0.6 grace after the last sighting
    assert label == "happy"


def test_new_visitor_after_the_gap_starts_fresh():
    """After the emoji cleared, the next face's expression shows at once, not blended with the last."""
    smoother = Smoother()
    shown_labels(smoother, [probs(happy=0.9)] * 10)
    smoother.update(None, 10.0)
    probabilities, label = smoother.update(probs(sad=0.6), 10.1)
    assert label == "sad"
    assert np.allclose(probabilities, probs(sad=0.6))


def test_a_frame_of_nan_does_not_freeze_the_label():
    """A float model can give NaN: it stayed in the running average for good, and the label never
    changed again (inf pinned it the same way). Such a frame counts as no face."""
    for bad in (np.nan, np.inf):
        smoother = Smoother()
        broken = probs(happy=0.9)
        broken[0] = bad
        shown_labels(smoother, [probs(happy=0.9)] * 5 + [broken])
        labels = shown_labels(smoother, [probs(sad=0.9)] * int(FPS), start=1.0)
        assert labels[-1] == "sad" and np.isfinite(smoother.probabilities).all()
