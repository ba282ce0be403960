"""Steady emoji: exponential moving average of probabilities, hysteresis, and a no-face grace time.

Per-frame predictions jitter; a kiosk that flips between two emoji every frame looks broken.
:class:`Smoother` averages the probabilities over recent frames, changes the shown label only when
another class leads by a clear margin, and reports "no face" only after the face has been gone
for a short grace period (a blink or a missed detection does not blank the screen).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emojify.labels import CLASSES

ALPHA = 0.35
"""Weight of the newest frame in the average (about a third: settles in ~6 frames at 15-30 fps)."""
SWITCH_MARGIN = 0.08
"""Another class must lead the shown one by this much probability before the emoji changes."""
GRACE_SECONDS = 0.6
"""How long the last emoji stays after the face disappears."""


@dataclass
class Smoother:
    """Stateful smoother; feed it each frame's probabilities (or None for no face)."""

    alpha: float = ALPHA
    switch_margin: float = SWITCH_MARGIN
    grace_seconds: float = GRACE_SECONDS
    probabilities: np.ndarray | None = field(default=None, init=False)
    label: str | None = field(default=None, init=False)
    _last_seen: float = field(default=float("-inf"), init=False)

    def update(self, probabilities: np.ndarray | None, now: float,
               slack: float = 0.0) -> tuple[np.ndarray | None, str | None]:
        """Add one frame (``now`` in seconds); returns the smoothed probabilities and shown label.
        ``slack`` lengthens the grace period this once (a face waiting for the detector's next look)."""
        if probabilities is not None and not np.isfinite(probabilities).all():  # a float model's NaN would stay
            probabilities = None  # in the running average for good, the label frozen: taken as no face
        if probabilities is None:
            if now - self._last_seen > self.grace_seconds + slack:
                self.reset()
            return self.probabilities, self.label
        probabilities = np.asarray(probabilities, np.float32)
        self._last_seen = now
        if self.probabilities is None:
            self.probabilities = probabilities
        else:
            self.probabilities = self.alpha * probabilities + (1 - self.alpha) * self.probabilities
        leader = int(np.argmax(self.probabilities))
        if self.label is None:
            self.label = CLASSES[leader]
        else:
            current = CLASSES.index(self.label)
            if self.probabilities[leader] - self.probabilities[current] > self.switch_margin:
                self.label = CLASSES[leader]
        return self.probabilities, self.label

    def reset(self) -> None:
        """Forget everything: the next face starts fresh."""
        self.probabilities, self.label = None, None
        self._last_seen = float("-inf")

    def restart_from(self, other: Smoother) -> None:
        """Go on from where ``other`` is (a face's own smoothing, as it takes the panel's place)."""
        self.probabilities, self.label, self._last_seen = other.probabilities, other.label, other._last_seen
