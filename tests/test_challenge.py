"""The challenge game's rules, played in-process with a fake clock and scripted probabilities."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import numpy as np
import pytest

from emojify.challenge import TARGET_POOL, DayBest, Round, Rules, pick_targets
from emojify.labels import CLASSES

RULES = Rules()
STEP = 0.05


def showing(label: str, p: float) -> np.ndarray:
    """Smoothed probabilities with ``p`` on ``label`` and the rest spread over the others."""
    probabilities = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1))
    probabilities[CLASSES.index(label)] = p
    return probabilities


class Player:
    """Feeds a round a probability for its current target, tick by tick, on a fake clock.

    The hold is timed from the first tick that sees the target above the threshold, so holding
    for ``RULES.hold`` takes ``RULES.hold + STEP`` seconds of ticks.
    """

    def __init__(self, targets: list[str], rules: Rules = RULES) -> None:
        self.now = 0.0
        self.round = Round(targets, self.now, rules)

    def play(self, seconds: float, p: float | None) -> None:
        """``seconds`` of ticks showing the target with probability ``p`` (None: no face)."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = round(self.now + STEP, 6)
            target = self.round.target or CLASSES[0]
            self.round.update(None if p is None else showing(target, p), self.now)


def test_a_match_needs_half_a_second_above_the_threshold() -> None:
    player = Player(["happy", "sad"])
    player.play(RULES.hold - STEP, 0.8)
    assert player.round.outcomes == [] and 0.5 < player.round.hold_progress() < 1
    player.play(2 * STEP, 0.8)
    outcome = player.round.outcomes[0]
    assert outcome.matched and outcome.target == "happy" and outcome.points > RULES.points
    assert player.round.showing == outcome and player.round.target == "happy", "the outcome stays up first"
    player.play(RULES.pause, 0.0)
    assert player.round.target == "sad" and player.round.showing is None


def test_at_or_below_the_threshold_never_matches() -> None:
    player = Player(["surprise"])
    player.play(RULES.seconds - STEP, RULES.threshold)
    assert player.round.outcomes == [] and player.round.hold_progress() == 0


def test_a_dip_below_the_threshold_resets_the_hold() -> None:
    player = Player(["angry"])
    for _ in range(4):
        player.play(RULES.hold - STEP, 0.9)
        player.play(STEP, 0.2)
    assert player.round.outcomes == [], "four holds of under half a second must not add up to a match"
    player.play(RULES.hold + STEP, 0.9)
    assert player.round.outcomes[0].matched


def test_losing_the_face_resets_the_hold_too() -> None:
    player = Player(["happy"])
    player.play(RULES.hold - STEP, 0.9)
    player.play(STEP, None)
    player.play(RULES.hold - STEP, 0.9)
    assert player.round.outcomes == []


def test_a_target_not_matched_in_time_scores_nothing_and_the_game_goes_on() -> None:
    player = Player(["fear", "neutral"])
    player.play(RULES.seconds - STEP, 0.3)
    assert player.round.outcomes == [] and player.round.seconds_left() == pytest.approx(STEP)
    player.play(STEP, 0.3)
    assert [(o.matched, o.points) for o in player.round.outcomes] == [(False, 0)]
    player.play(RULES.pause, 0.3)
    assert player.round.target == "neutral" and player.round.seconds_left() == pytest.approx(RULES.seconds)


def test_an_instant_match_earns_the_whole_speed_bonus() -> None:
    """The face made at once and held: 100 + 100 points, as the kiosk's rules say (the hold costs nothing)."""
    player = Player(["happy"])
    player.play(RULES.hold + STEP, 0.9)
    assert player.round.score >= RULES.points + RULES.bonus - 1


def test_a_quicker_match_scores_more() -> None:
    quick, slow = Player(["happy"]), Player(["happy"])
    quick.play(RULES.hold + STEP, 0.9)
    slow.play(5.0, 0.1)
    slow.play(RULES.hold + STEP, 0.9)
    assert quick.round.score > slow.round.score > RULES.points
    assert quick.round.score <= RULES.points + RULES.bonus


def test_five_targets_make_a_round_with_the_sum_of_their_points() -> None:
    targets = pick_targets(5, random.Random(1))
    player = Player(targets)
    played = []
    while not player.round.finished:
        played.append(player.round.target)
        matched = len(played) % 2 == 1  # match the 1st, 3rd and 5th; let the others time out
        player.play(RULES.hold + 0.1 if matched else RULES.seconds, 0.9 if matched else 0.1)
        player.play(RULES.pause, 0.0)
    game = player.round
    assert played == targets and len(game.outcomes) == 5 and game.target is None
    assert game.matched == 3 and [o.matched for o in game.outcomes] == [True, False, True, False, True]
    assert game.score == sum(o.points for o in game.outcomes) > 3 * RULES.points


def test_targets_differ_and_never_repeat_in_a_row() -> None:
    rng = random.Random(7)
    for _ in range(50):
        targets = pick_targets(5, rng)
        assert len(set(targets)) == 5 and set(targets) <= set(TARGET_POOL)
    long = pick_targets(30, rng)
    assert all(a != b for a, b in itertools.pairwise(long))
    firsts = [pick_targets(5, rng, after="happy")[0] for _ in range(200)]  # "Play again" after a round ending on happy
    assert "happy" not in firsts and len(set(firsts)) == len(TARGET_POOL) - 1


def test_the_days_best_is_kept_and_a_new_day_starts_again() -> None:
    best, monday, tuesday = DayBest(), dt.date(2026, 12, 7), dt.date(2026, 12, 8)
    assert best.record(300, monday) and best.today(monday) == 300
    assert not best.record(200, monday) and best.today(monday) == 300
    assert best.record(450, monday) and best.today(monday) == 450
    assert best.today(tuesday) == 0, "yesterday's best is not today's"
    assert best.record(100, tuesday) and best.today(tuesday) == 100
