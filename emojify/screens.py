"""The kiosk's screens as a state machine: what to show, decided without Tk.

As in the pibooth photo booth, each screen is a named state. :data:`STATES` is the whole
table: for each state, its rules (a condition and the state it leads to, tried in order), an
optional timer (how long the state lasts and where it leads then) and what happens on entry.
:class:`Screens` is driven by events: :meth:`Screens.frame_arrived` (a processed camera picture arrived),
:meth:`Screens.source_status` (the source's status and sentence), :meth:`Screens.request_snapshot`,
:meth:`Screens.snapshot_done` and :meth:`Screens.tick` (the clock's time, where the rules and
timers run). :meth:`Screens.view` then says what to draw, as a frozen :class:`View`: equal views
draw equal pictures, so the window redraws only what changed. The "could not save" error is an
overlay with its own timer, shown over whichever screen is up.

Adding a screen means adding a :class:`State` to the table and a rule that leads to it: the
attract screen is a ``"live"`` rule "no face for N seconds" -> ``"attract"``, and ``"attract"``
leading back to ``"live"`` when a face appears. The challenge game (``--challenge``) is its own
table, :data:`CHALLENGE_STATES`: there the button starts a round (``"challenge"``, played by
:class:`emojify.challenge.Round` on every tick) and ``"challenge_over"`` shows the score.

Every sentence a visitor reads is in :mod:`emojify.texts`, to be translated.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emojify import texts
from emojify.challenge import DayBest, Round, Rules, pick_targets
from emojify.generated import demo_shape, quantised
from emojify.pipeline import Result
from emojify.render import AttractView, ChallengeView, PanelView, Row, panel_view
from emojify.sources import SourceStatus

log = logging.getLogger(__name__)

STARTING, NO_PICTURE, LIVE, COUNTDOWN, RESULT = "starting", "no_picture", "live", "countdown", "result"
ATTRACT, CHALLENGE, CHALLENGE_OVER = "attract", "challenge", "challenge_over"
"""The screens' names (what :attr:`Screens.state` and the ``on_state_change`` callbacks see)."""
MESSAGE_SCREENS = (STARTING, NO_PICTURE)
"""The screens that show a full-window message instead of the picture."""

COUNTDOWN_SECONDS = 3.0
"""Length of the visible countdown (3, 2, 1) before the still is taken; 0 takes it at once."""
MESSAGE_DELAY = 1.0
"""Seconds without a new picture (and a source that is not LIVE) before the full-window message."""
STARTING_PATIENCE = 5.0
"""A source still starting after this many seconds is shown as missing, not as starting."""
ERROR_SECONDS = 8.0
"""How long a "could not save" message stays on screen."""
ATTRACT_CYCLE = 1.5
"""Seconds each emoji stays on the attract screen."""
ATTRACT_ORDER = ("happy", "surprise", "sad", "angry", "neutral", "fear", "disgust")
"""The order in which the attract screen cycles the emoji."""
CHALLENGE_OVER_SECONDS = 10.0
"""How long a round's score stays up before the live screen."""



@dataclass(frozen=True)
class Timings:
    """The timers' lengths in seconds, by name (a :class:`State`'s ``timer`` names one).

    ``result`` is how long a snapshot stays on screen (the ``snapshot_seconds`` setting).
    """

    result: float
    starting: float = STARTING_PATIENCE
    countdown: float = COUNTDOWN_SECONDS
    message_delay: float = MESSAGE_DELAY
    error: float = ERROR_SECONDS
    attract_after: float = 0.0
    """Seconds on the live screen without a face before the attract screen (the ``attract_after``
    setting); 0: never."""
    challenge_over: float = CHALLENGE_OVER_SECONDS


@dataclass
class Snapshot:
    """A still being classified (``result`` None until the worker is done) and where it was saved;
    ``masked``, the still with every face covered by its emoji (the ``mask`` snapshot style)."""

    frame: np.ndarray
    result: Result | None = None
    path: Path | None = None
    error: str | None = None
    masked: np.ndarray | None = None


# --- what to draw --------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedView:
    """The picture: a live frame or the still, with its overlays.

    ``picture`` names the picture shown (``("live", n)`` or ``("still", n)``) and changes whenever
    another one is to be drawn; the arrays themselves take no part in comparisons.
    """

    picture: tuple[str, int]
    frame: np.ndarray = field(compare=False, repr=False)
    result: Result | None = field(compare=False, repr=False)
    live: bool = True
    hint: str | None = None
    banner: tuple[str, bool] | None = None
    """(text, is an error) shown at the top of the picture."""
    countdown: int | None = None
    """The big number of the snapshot countdown."""


@dataclass(frozen=True)
class MessageView:
    """A full-window message (:func:`emojify.render.render_message`'s texts)."""

    title: str
    detail: str = ""
    tips: tuple[str, ...] = ()
    footer: str = ""


@dataclass(frozen=True)
class View:
    """What the window shows: the picture and the panel (the challenge's during a round), or a
    full-window message or attract screen."""

    screen: str
    feed: FeedView | None = None
    panel: PanelView | ChallengeView | None = None
    message: MessageView | None = None
    attract: AttractView | None = None
    """The attract screen (full-window, like ``message``)."""


# --- the table -----------------------------------------------------------------------------

Condition = Callable[["Screens"], bool]


@dataclass(frozen=True)
class State:
    """One screen: rules ``(condition, next state)`` tried in order on every tick, then its timer
    ``(name of a Timings field, next state)``; ``enter`` runs when the screen comes up, and
    ``during`` on every tick while it is up (before the rules)."""

    name: str
    rules: tuple[tuple[Condition, str], ...] = ()
    timer: tuple[str, str] | None = None
    enter: Callable[[Screens], None] | None = None
    during: Callable[[Screens], None] | None = None


def picture_missing(screens: Screens) -> bool:
    """No picture for a while and the source does not say it is live."""
    return (screens.status is not SourceStatus.LIVE
            and screens.now - screens.last_frame_at >= screens.timings.message_delay)


def picture_back(screens: Screens) -> bool:
    return not picture_missing(screens)


def source_lost(screens: Screens) -> bool:
    return screens.status is SourceStatus.LOST


def snapshot_wanted(screens: Screens) -> bool:
    """A snapshot was asked for on this screen and there is a picture to take it of."""
    return screens.snapshot_requested_on == screens.state and screens.frame is not None


def take_still(screens: Screens) -> None:
    """Freeze the newest picture and hand it to the ``capture`` callback (the worker)."""
    assert screens.frame is not None  # countdown is only entered with a picture
    screens.still = Snapshot(screens.frame)
    screens.still_number += 1
    screens.snapshots_taken += 1
    screens.capture(screens.frame)


def idle(screens: Screens) -> bool:
    """No face on this screen for ``attract_after`` seconds (never when that is 0)."""
    after = screens.timings.attract_after
    return after > 0 and screens.now - max(screens.last_face_at, screens.entered) >= after


def face_seen(screens: Screens) -> bool:
    """A face arrived since this screen came up."""
    return screens.last_face_at > screens.entered


def round_finished(screens: Screens) -> bool:
    return screens.round is None or screens.round.finished


def start_round(screens: Screens) -> None:
    """A new round of the challenge game, with fresh targets."""
    rules = screens.rules
    screens.round = Round(pick_targets(rules.targets, screens.rng), screens.now, rules)
    screens.rounds_played += 1


def play_round(screens: Screens) -> None:
    """Feed the round the newest smoothed probabilities (none without a face)."""
    result = screens.result
    if screens.round is not None:
        screens.round.update(None if result is None or result.label is None else result.probabilities, screens.now)


def record_score(screens: Screens) -> None:
    """Note the round's score as the day's best if it beats it."""
    if screens.round is not None:
        screens.new_best = screens.best.record(screens.round.score, screens.today())


STATES: dict[str, State] = {state.name: state for state in (
    State(STARTING, rules=((picture_back, LIVE), (source_lost, NO_PICTURE)), timer=("starting", NO_PICTURE)),
    State(NO_PICTURE, rules=((picture_back, LIVE),)),
    State(LIVE, rules=((picture_missing, NO_PICTURE), (snapshot_wanted, COUNTDOWN), (idle, ATTRACT))),
    State(COUNTDOWN, rules=((picture_missing, NO_PICTURE),), timer=("countdown", RESULT)),
    State(RESULT, timer=("result", LIVE), enter=take_still),
    State(ATTRACT, rules=((picture_missing, NO_PICTURE), (face_seen, LIVE), (snapshot_wanted, LIVE))),
)}
"""Every screen, by name: the kiosk with the snapshot button."""

CHALLENGE_STATES: dict[str, State] = {**{name: state for name, state in STATES.items()
                                         if name not in (COUNTDOWN, RESULT)}, **{state.name: state for state in (
    State(LIVE, rules=((picture_missing, NO_PICTURE), (snapshot_wanted, CHALLENGE), (idle, ATTRACT))),
    State(ATTRACT, rules=((picture_missing, NO_PICTURE), (snapshot_wanted, CHALLENGE), (face_seen, LIVE))),
    State(CHALLENGE, rules=((picture_missing, NO_PICTURE), (round_finished, CHALLENGE_OVER)), enter=start_round,
          during=play_round),
    State(CHALLENGE_OVER, rules=((picture_missing, NO_PICTURE), (snapshot_wanted, CHALLENGE)),
          timer=("challenge_over", LIVE), enter=record_score),
)}}
"""The kiosk with the challenge game (``--challenge``): the button starts a round."""


# --- the machine ---------------------------------------------------------------------------

class Screens:
    """The screens' state machine; single-threaded (the window calls it from its own thread).

    ``capture`` is called with the frame when a snapshot is taken (the window hands it to the
    worker, which answers through :meth:`snapshot_done`). ``no_picture`` is the title and tips
    of the "no picture" message. Functions in :attr:`on_state_change` are called with
    ``(old, new)`` on every change of screen, on the window's thread; a gpiozero LED lit during
    the countdown: ``screens.on_state_change.append(lambda old, new: led.on() if new == COUNTDOWN
    else led.off())``.
    """

    def __init__(self, capture: Callable[[np.ndarray], None], no_picture: tuple[str, list[str]],
                 timings: Timings, now: float = 0.0, *,
                 challenge: bool = False, saving: bool = False, shapes: bool = False, rules: Rules | None = None,
                 rng: random.Random | None = None, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.capture, self.timings = capture, timings
        self.states = CHALLENGE_STATES if challenge else STATES
        self.challenge, self.saving, self.shapes = challenge, saving, shapes
        self.rules, self.rng, self.today = rules or Rules(), rng or random.Random(), today
        self.no_picture_title, self.no_picture_tips = no_picture[0], tuple(no_picture[1])
        self.on_state_change: list[Callable[[str, str], None]] = []
        self.state = STARTING
        self.now = self.entered = now
        self.status, self.status_text = SourceStatus.STARTING, ""
        self.frame: np.ndarray | None = None  # the newest live picture and its result
        self.result: Result | None = None
        self.frame_number = 0
        self.last_frame_at = -math.inf
        self._new_frame = False
        self._still_shown = False  # the finished still arrived: its timer starts at the next tick
        self.snapshot_requested_on: str | None = None  # the screen up when a snapshot was asked for
        self.still: Snapshot | None = None  # the snapshot on the result screen
        self.still_number = 0
        self.snapshots_taken = 0
        self.snapshot_path: Path | None = None  # the last file saved
        self.error: str | None = None  # the overlay
        self.error_until: float | None = None
        self.last_face_at = now  # when the last picture with a face arrived (the attract screen's clock)
        self.round: Round | None = None  # the challenge game's round, and the day's best in memory
        self.rounds_played = 0
        self.best = DayBest()
        self.new_best = False

    # --- events

    def frame_arrived(self, image: np.ndarray, result: Result) -> None:
        """A processed live picture arrived."""
        self.frame, self.result = image, result
        self.frame_number += 1
        self._new_frame = True

    def source_status(self, status: SourceStatus, text: str) -> None:
        """The source's status and its sentence for the visitor."""
        self.status, self.status_text = status, text

    def request_snapshot(self) -> None:
        """Ask for a snapshot: the next tick takes it if the screen up now has a rule for it."""
        self.snapshot_requested_on = self.state

    def snapshot_done(self, snapshot: Snapshot) -> None:
        """The worker finished a snapshot: record its file or error, and show its emoji if still up."""
        if snapshot.path is not None:
            self.snapshot_path = snapshot.path
        if snapshot.error:
            self.error, self.error_until = snapshot.error, None  # its timer starts at the next tick
        if self.still is not None and snapshot.frame is self.still.frame:
            if self.still.result is None and self.state == RESULT:
                self._still_shown = True  # "back to live in N" counts from the finished still
            self.still = snapshot
            self.still_number += 1

    def tick(self, now: float) -> None:
        """Advance the clock to ``now``: expire the overlay, then follow rules and timers."""
        self.now = now
        if self._still_shown:
            self.entered, self._still_shown = now, False
        if self._new_frame:
            self.last_frame_at, self._new_frame = now, False
            if self.result is not None and self.result.label is not None:
                self.last_face_at = now
        if self.error is not None:
            if self.error_until is None:
                self.error_until = now + self.timings.error
            elif now >= self.error_until:
                self.error = self.error_until = None
        during = self.states[self.state].during
        if during is not None:
            during(self)
        for _ in range(len(self.states)):  # a chain of moves (a 0 s countdown) ends within this many
            following = self._next()
            if following is None:
                break
            self._enter(following)
        self.snapshot_requested_on = None

    # --- moving between states

    def _next(self) -> str | None:
        state = self.states[self.state]
        for condition, target in state.rules:
            if condition(self):
                return target
        if state.timer is not None and self.now - self.entered >= getattr(self.timings, state.timer[0]):
            return state.timer[1]
        return None

    def _enter(self, name: str) -> None:
        old, self.state, self.entered = self.state, name, self.now
        log.debug("screen %s -> %s", old, name)
        if name != RESULT:
            self.still = None
        entering = self.states[name].enter
        if entering is not None:
            entering(self)
        for callback in list(self.on_state_change):
            try:
                callback(old, name)
            except Exception:  # a broken lamp must not stop the kiosk
                log.exception("on_state_change callback failed; the kiosk goes on")

    def seconds_left(self) -> float:
        """Seconds until the current state's timer runs out (inf without a timer)."""
        timer = self.states[self.state].timer
        if timer is None:
            return math.inf
        return max(0.0, getattr(self.timings, timer[0]) - (self.now - self.entered))

    # --- what to draw

    def view(self) -> View:
        """What the window should show now (at the last tick's time)."""
        if self.state == STARTING:
            return View(self.state, message=MessageView(self.status_text))
        if self.state == NO_PICTURE:
            return View(self.state, message=MessageView(self.no_picture_title, self.status_text,
                                                        self.no_picture_tips, texts.KEEPS_TRYING))
        banner = (self.error, True) if self.error else None
        if self.state == RESULT and self.still is not None:
            done = self.still.result is not None
            if banner is None and self.still.path is not None:
                banner = (texts.SNAPSHOT_SAVED, False)
            masked = self.still.masked
            feed = FeedView(("still", self.still_number), self.still.frame if masked is None else masked,
                            self.still.result if masked is None else None, live=False, banner=banner)
            left = texts.back_to_live(math.ceil(self.seconds_left()))
            panel = panel_view(self.still.result if done else None, texts.NO_FACE_FOUND if done else texts.WORKING, left,
                               active=False)
            return View(self.state, feed, panel)
        if self.state == ATTRACT:
            return View(self.state, attract=self.attract_view())
        feed = None
        if self.frame is not None:
            result = self.result
            hint = texts.HINT if result is None or result.label is None else None
            if self.state == CHALLENGE and self.round is not None and self.round.target is not None:
                hint = texts.MAKE_THIS_FACE.format(name=texts.expression_name(self.round.target))
            countdown = math.ceil(self.seconds_left()) if self.state == COUNTDOWN else None
            feed = FeedView(("live", self.frame_number), self.frame, result, hint=hint, banner=banner,
                            countdown=countdown or None)
        if self.state in (CHALLENGE, CHALLENGE_OVER) and self.round is not None:
            return View(self.state, feed, self.challenge_view(self.round))
        counting = self.state == COUNTDOWN
        button = texts.GET_READY if counting else texts.PLAY if self.challenge else texts.SNAPSHOT_BUTTON
        return View(self.state, feed, panel_view(self.result, texts.NO_FACE_YET, button, active=not counting,
                                                 shapes=self.shapes))

    def attract_view(self) -> AttractView:
        """The attract screen: the emoji in turn, the invitation and the notice."""
        label = ATTRACT_ORDER[int((self.now - self.entered) / ATTRACT_CYCLE) % len(ATTRACT_ORDER)]
        lines = (texts.ATTRACT_LINE, texts.ATTRACT_PLAY) if self.challenge else (texts.ATTRACT_LINE,)
        shape = quantised(demo_shape(self.now - self.entered)) if self.shapes else None  # the generated emoji shows off
        return AttractView(label, texts.ATTRACT_TITLE, lines, (texts.NOTICE, texts.NOTICE_SAVED if self.saving else texts.NOTICE_NOTHING_KEPT),
                           shape)

    def challenge_view(self, game: Round) -> ChallengeView:
        """The challenge panel: the target, its time and hold, or the outcome; or the round's score."""
        best = self.best.today(self.today())
        if self.state == CHALLENGE_OVER:
            lines = (Row(texts.MATCHED_OF.format(matched=game.matched, total=len(game.targets))),
                     Row(texts.NEW_BEST if self.new_best else texts.BEST_TODAY.format(score=best)))
            return ChallengeView(None, texts.SCORE.format(score=game.score), lines, texts.PLAY_AGAIN, True, good=self.new_best)
        total, shown = len(game.targets), game.showing
        number = min(game.index + 1, total)
        score_rows = (Row(texts.TARGET_OF.format(number=number, total=total)), Row(texts.SCORE.format(score=game.score)),
                      Row(texts.BEST_TODAY.format(score=best)))
        if shown is not None:
            title = texts.MATCHED.format(points=shown.points) if shown.matched else texts.MISSED
            return ChallengeView(shown.target, title, score_rows, texts.PLAYING, False, good=shown.matched)
        left, hold = game.seconds_left(), game.hold_progress()
        bars = (Row(texts.TIME, round(left / game.rules.seconds, 2), texts.SECONDS.format(seconds=math.ceil(left))),
                Row(texts.HOLD, round(hold, 2), strong=hold > 0))
        target = game.target or game.targets[-1]
        return ChallengeView(target, texts.expression_name(target), bars + score_rows, texts.PLAYING, False)
