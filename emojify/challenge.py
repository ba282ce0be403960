"""The challenge game's rules: match a target expression in time, five targets a round, a score.

Pure and clock-driven: a :class:`Round` is fed the smoothed probabilities and the time on every
tick (:meth:`Round.update`); nothing here knows about screens or Tk. A target is matched when its
probability stays above :attr:`Rules.threshold` for :attr:`Rules.hold` seconds without a dip; a
match scores :attr:`Rules.points` plus a bonus for the time left, and a miss scores nothing.
After each target the outcome stays up for :attr:`Rules.pause` seconds. :class:`DayBest` keeps
the day's best score in memory only (it starts again at 0 the next day and when the kiosk restarts).

>>> game = Round(["happy"], now=0.0)
>>> for t in (0.1, 0.4, 0.7):
...     game.update({"happy": 0.9}, now=t)
>>> game.outcomes[0].matched, game.score
(True, 199)
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from emojify.labels import CLASSES

TARGET_POOL = tuple(label for label in CLASSES if label != "disgust")
"""The expressions a round asks for (disgust is left out: it is rare in FER2013 and seldom shown)."""


@dataclass(frozen=True)
class Rules:
    """How a round is played (seconds and probabilities)."""

    targets: int = 5
    seconds: float = 8.0
    """Time to match one target."""
    threshold: float = 0.5
    """The target's smoothed probability must stay above this..."""
    hold: float = 0.5
    """...for this long."""
    points: int = 100
    """Points for a matched target..."""
    bonus: int = 100
    """...plus up to this many for speed (all of it for an instant match, none at the last moment)."""
    pause: float = 1.5
    """How long a target's outcome stays up before the next target."""

    @property
    def most(self) -> int:
        """The highest score a round can reach: every target matched at once."""
        return self.targets * (self.points + self.bonus)


@dataclass(frozen=True)
class Outcome:
    """One target's end: matched or not, after how many seconds, and the points it earned."""

    target: str
    matched: bool
    seconds: float
    points: int


def pick_targets(count: int, rng: random.Random, pool: Sequence[str] = TARGET_POOL,
                 after: str | None = None) -> list[str]:
    """``count`` targets from ``pool``: all different while the pool lasts, never the same twice in a row,
    nor the first the same as ``after`` (the last round's last, when the visitor plays again)."""
    targets: list[str] = []
    while len(targets) < count:
        batch = rng.sample(list(pool), len(pool))
        if batch[0] == (targets[-1] if targets else after):
            batch.append(batch.pop(0))
        targets += batch
    return targets[:count]


def probability_of(probabilities: Mapping[str, float] | Sequence[float] | np.ndarray | None, label: str) -> float:
    """The probability of ``label`` in a by-class mapping or a vector in :data:`CLASSES` order (0 for None)."""
    if probabilities is None:
        return 0.0
    if isinstance(probabilities, Mapping):
        return float(probabilities.get(label, 0.0))
    return float(probabilities[CLASSES.index(label)])


@dataclass
class Round:
    """One round of the game, started at ``now`` with ``targets`` in order."""

    targets: Sequence[str]
    now: float
    rules: Rules = field(default_factory=Rules)
    index: int = field(default=0, init=False)
    outcomes: list[Outcome] = field(default_factory=list, init=False)
    started: float = field(init=False)
    """When the current target came up."""
    hold_since: float | None = field(default=None, init=False)
    pause_until: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.targets = tuple(self.targets)
        self.started = self.now

    @property
    def finished(self) -> bool:
        """All targets played and the last outcome shown."""
        return self.index >= len(self.targets)

    @property
    def target(self) -> str | None:
        """The target being played or whose outcome is shown (None when finished)."""
        return None if self.finished else self.targets[self.index]

    @property
    def showing(self) -> Outcome | None:
        """The outcome on screen between two targets, or None while a target is played."""
        return self.outcomes[-1] if self.pause_until is not None else None

    @property
    def score(self) -> int:
        return sum(outcome.points for outcome in self.outcomes)

    @property
    def matched(self) -> int:
        return sum(outcome.matched for outcome in self.outcomes)

    def seconds_left(self) -> float:
        """Time left to match the current target (0 once decided)."""
        if self.finished or self.pause_until is not None:
            return 0.0
        return max(0.0, self.rules.seconds - (self.now - self.started))

    def hold_progress(self) -> float:
        """How far the current hold is (0..1)."""
        if self.hold_since is None or self.pause_until is not None:
            return 0.0
        return min(1.0, (self.now - self.hold_since) / self.rules.hold)

    def update(self, probabilities: Mapping[str, float] | Sequence[float] | np.ndarray | None, now: float) -> None:
        """Advance to ``now`` with the newest smoothed probabilities (None: no face)."""
        self.now = now
        if self.pause_until is not None:
            if now < self.pause_until:
                return
            self.pause_until, self.hold_since = None, None
            self.index += 1
            self.started = now
        if self.finished:
            return
        rules = self.rules
        if probability_of(probabilities, self.targets[self.index]) > rules.threshold:
            if self.hold_since is None:
                self.hold_since = now
            if now - self.hold_since >= rules.hold - 1e-9:
                self._decide(True)
                return
        else:
            self.hold_since = None  # a dip starts the hold again
        if now - self.started >= rules.seconds:
            self._decide(False)

    def _decide(self, matched: bool) -> None:
        """Note the outcome; a match's speed is the time to make the face (when the hold began), so the
        half second it must be held does not cost bonus and an instant match earns all of it."""
        made = self.hold_since if matched and self.hold_since is not None else self.now
        rules, took = self.rules, min(self.rules.seconds, made - self.started)
        points = rules.points + round(rules.bonus * (1 - took / rules.seconds)) if matched else 0
        self.outcomes.append(Outcome(self.targets[self.index], matched, took, points))
        self.pause_until = self.now + rules.pause


@dataclass
class DayBest:
    """The best score of the day, in memory only: a new day starts again from nothing."""

    score: int = 0
    day: dt.date | None = None

    def record(self, score: int, today: dt.date) -> bool:
        """Note a round's score; True if it is the day's new best."""
        if self.day != today:
            self.day, self.score = today, 0
        if score > self.score:
            self.score = score
            return True
        return False

    def today(self, today: dt.date) -> int:
        """The best score so far on ``today`` (0 if none yet)."""
        return self.score if self.day == today else 0
