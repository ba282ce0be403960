"""The kiosk's screens as a state machine: what to show, decided without Tk.

As in the pibooth photo booth, each screen is a named state. :data:`STATES` is the whole
table: for each state, its rules (a condition and the state it leads to, tried in order), an
optional timer (how long the state lasts and where it leads then) and what happens on entry.
:class:`Screens` is driven by events: :meth:`Screens.frame_arrived` (a processed camera picture arrived),
:meth:`Screens.source_status` (the source's status and sentence), :meth:`Screens.request_snapshot`,
:meth:`Screens.snapshot_done` and :meth:`Screens.tick` (the clock's time, where the rules and
timers run). :meth:`Screens.view` then says what to draw, as a frozen :class:`~emojify.views.View`
built by the screen's own builder in the table: equal views draw equal pictures, so the window
redraws only what changed. :meth:`Screens.current` is the machine's state as one frozen
:class:`ScreenState`, for whoever watches it (the window's state file). The "could not save"
error is an overlay with its own timer, shown over whichever screen is up. The table's rules and
view builders work on the machine's insides, a :class:`Machine` that only :class:`Screens` holds.

Failures show and pass: a snapshot the worker could not make returns to the live screen with a
short message; drawing errors reported by the window (:meth:`Screens.drawing_failed`) bring up
the ``"failure"`` screen when they repeat, and it goes back to live by itself once they stop.

Adding a screen means adding a :class:`State` to the table (with its view builder) and a rule that
leads to it: the
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
from typing import TYPE_CHECKING, Any

import numpy as np

from emojify import texts
from emojify.challenge import DayBest, Round, Rules, pick_targets
from emojify.shape import Shape
from emojify.source_status import SourceStatus
from emojify.views import (
    AttractView,
    ChallengeView,
    FeedView,
    MessageView,
    PanelView,
    Row,
    View,
    region_drawn,
    whole_percents,
)

if TYPE_CHECKING:
    from emojify.pipeline import Result

log = logging.getLogger(__name__)

STARTING, NO_PICTURE, LIVE, COUNTDOWN, RESULT = "starting", "no_picture", "live", "countdown", "result"
ATTRACT, CHALLENGE, CHALLENGE_OVER, FAILURE = "attract", "challenge", "challenge_over", "failure"
"""The screens' names (what :attr:`ScreenState.screen` and the ``on_state_change`` callbacks see)."""
MESSAGE_SCREENS = (STARTING, NO_PICTURE, FAILURE)
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
DEMO_PERIOD = 6.0
"""Seconds of the attract screen's show of the generated emoji: a smile, a wink, surprise, a tilt."""
DEMO_STEP = 0.125
"""The show moves in steps of this many seconds: 8 new pictures a second at most, each a whole
attract screen to draw."""
WAKE_GUARD = 0.5
"""Seconds after a press wakes the attract screen in which another press takes no snapshot: a double
tap, or a touch the panel reports twice, brings the live view back without a photo nobody asked for."""
CHALLENGE_OVER_SECONDS = 10.0
"""How long a round's score stays up before the live screen."""
SCORE_GUARD = 1.0
"""Seconds the score stays up whatever is pressed: a visitor pressing on through the round's end
started the next round at once, the score up for a frame."""
SEEN_BRIDGE = 2
"""Pictures in a row without a face found that the challenge still counts the face as there: a frame
or two the detector missed. Counted in pictures, not seconds, so that a slow machine's 3 pictures a
second bridge them too; the smoothed expression stays longer (:class:`~emojify.smoothing.Smoother`),
but a face seen once must not hold a target for the round."""
SEEN_FOR = 0.45
"""Seconds the last picture counts as the face seen at the least (longer where pictures come slower:
1.5 times the shorter of the last two gaps between them, the source's pace rather than one pause):
longer than the gap at 3 pictures a second, shorter than a target's hold (0.5 s), so that one
picture from a camera that then stalls cannot hold a target."""
FAILURES_TO_SHOW = 5
"""Drawing errors within :data:`FAILURE_WINDOW` seconds that bring up the failure screen."""
FAILURE_WINDOW = 10.0
RECOVERY_SECONDS = 5.0
"""Seconds without a drawing error after which the failure screen goes back to live."""


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

    def seconds(self, timer: str) -> float:
        """The length of the timer named ``timer`` (a :class:`State`'s ``timer`` names a field)."""
        return float(getattr(self, timer))


@dataclass(frozen=True)
class Snapshot:
    """A still: ``request`` numbers it (the worker answers with the same number), ``frame`` is the
    picture; the worker fills in ``result``, where it was saved or why not (``error``), ``masked``
    (the still with every face covered by its emoji, the ``mask`` style), and ``failed`` when it
    could not classify it at all."""

    request: int
    frame: np.ndarray = field(repr=False)
    result: Result | None = None
    path: Path | None = None
    error: str | None = None
    masked: np.ndarray | None = field(default=None, repr=False)
    failed: bool = False


@dataclass(frozen=True)
class ChallengeState:
    """The challenge game as :class:`ScreenState` reports it."""

    target: str | None
    score: int
    matched: int
    rounds: int
    best: int
    targets: tuple[str, ...] = ()
    """The round's expressions to make, in order."""


@dataclass(frozen=True)
class ScreenState:
    """The machine's state at its last tick, frozen: what a watcher (the window's state file) reads."""

    screen: str
    status: SourceStatus
    status_text: str
    label: str | None
    box: tuple[int, int, int, int] | None
    snapshots_taken: int
    snapshot_path: Path | None
    error: str | None
    drawing_failures: int
    challenge: ChallengeState | None

    @property
    def showing_message(self) -> bool:
        return self.screen in MESSAGE_SCREENS


# --- the table -----------------------------------------------------------------------------

Condition = Callable[["Machine"], bool]


ViewBuilder = Callable[["Machine"], View]


def live_view(machine: Machine) -> View:
    """The live picture (with the countdown's number) beside the panel: emoji, bars and the button."""
    counting = machine.state == COUNTDOWN
    button = texts.GET_READY if counting else texts.PLAY if machine.challenge else texts.SNAPSHOT_BUTTON
    return View(machine.state, machine.live_feed(), panel_view(machine.result, texts.NO_FACE_YET, button,
                                                               active=not counting, shapes=machine.shapes))


def starting_view(machine: Machine) -> View:
    return View(machine.state, full=MessageView(machine.status_text))


def no_picture_view(machine: Machine) -> View:
    return View(machine.state, full=MessageView(machine.no_picture_title, machine.status_text,
                                                machine.no_picture_tips, texts.KEEPS_TRYING))


def result_view(machine: Machine) -> View:
    """The still (or its masked copy) beside its emoji and bars, "..." while the worker is at it."""
    still = machine.still
    if still is None:
        return live_view(machine)
    done = still.result is not None
    banner = machine.banner()
    if banner is None and still.path is not None:
        banner = (texts.SNAPSHOT_SAVED, False)
    elif banner is None and done and machine.saving and not still.error:  # the saver is at it
        banner = (texts.SAVING, False)
    masked = still.masked
    feed = FeedView(("still", machine.still_number), still.frame if masked is None else masked,
                    still.result if masked is None else None, live=False, banner=banner)
    left = texts.back_to_live(math.ceil(machine.seconds_left()))
    panel = panel_view(still.result if done else None, texts.NO_FACE_FOUND if done else texts.WORKING, left,
                       active=False, shapes=machine.shapes)
    return View(machine.state, feed, panel)


def demo_shape(seconds: float) -> Shape:
    """The shape the attract screen shows ``seconds`` into its show: looping every :data:`DEMO_PERIOD`,
    moving every :data:`DEMO_STEP`."""
    seconds = math.floor(seconds / DEMO_STEP) * DEMO_STEP
    phase = 2 * math.pi * (seconds % DEMO_PERIOD) / DEMO_PERIOD
    wink = max(0.0, math.sin(3 * phase)) ** 8
    return Shape(mouth_open=max(0.0, math.sin(phase + 1.0)) ** 2, smile=math.sin(phase),
                 brows=math.sin(2 * phase), eyes_open=(0.75, 0.75 * (1 - wink)), roll=12 * math.sin(phase / 1.0 + 2.0))


def attract_view(machine: Machine) -> View:
    """The attract screen: the emoji in turn, the invitation and the notice."""
    label = ATTRACT_ORDER[int((machine.now - machine.entered) / ATTRACT_CYCLE) % len(ATTRACT_ORDER)]
    lines = (texts.ATTRACT_LINE, texts.ATTRACT_PLAY) if machine.challenge else (texts.ATTRACT_LINE,)
    saving = machine.saving and not machine.challenge  # the game takes no snapshot, so it saves none
    notice = (texts.NOTICE, texts.NOTICE_SAVED if saving else texts.NOTICE_NOTHING_KEPT)
    elapsed = machine.now - machine.entered
    shape = demo_shape(elapsed).quantised() if machine.shapes else None  # the generated emoji shows off
    return View(machine.state, full=AttractView(label, texts.ATTRACT_TITLE, lines, notice, shape))


def challenge_view(machine: Machine) -> View:
    """The live picture beside the challenge's panel (the live screen's without a round)."""
    if machine.round is None:
        return live_view(machine)
    return View(machine.state, machine.live_feed(), machine.challenge_panel(machine.round))


def failure_view(machine: Machine) -> View:
    """The failure screen: something went wrong, and the kiosk carries on by itself."""
    return View(machine.state, full=MessageView(texts.FAILURE_TITLE, texts.FAILURE_DETAIL, (), texts.KEEPS_TRYING))


def panel_view(result: Result | None, title_if_none: str, button: str, active: bool = True,
               shapes: bool = False) -> PanelView:
    """The panel for a result: its emoji, name and rounded percentages, and with ``shapes`` the
    leading face's shape (quantised: a face that keeps still redraws nothing)."""
    if result is None or result.label is None or result.probabilities is None:
        return PanelView(None, None, title_if_none, button, active)
    percents = whole_percents(result.probabilities)
    shape = result.faces[0].shape if shapes and result.faces else None
    return PanelView(result.label, percents, texts.expression_name(result.label), button, active,
                     None if shape is None else shape.mirrored().quantised())


@dataclass(frozen=True)
class State:
    """One screen: rules ``(condition, next state)`` tried in order on every tick, then its timer
    ``(name of a Timings field, next state)``; ``enter`` runs when the screen comes up, and
    ``during`` on every tick while it is up (before the rules); ``view`` builds what it shows."""

    name: str
    rules: tuple[tuple[Condition, str], ...] = ()
    timer: tuple[str, str] | None = None
    enter: Callable[[Machine], None] | None = None
    during: Callable[[Machine], None] | None = None
    view: ViewBuilder = live_view


def picture_missing(machine: Machine) -> bool:
    """No picture for a while and the source does not say it is live."""
    return (machine.status is not SourceStatus.LIVE
            and machine.now - machine.last_frame_at >= machine.timings.message_delay)


def picture_back(machine: Machine) -> bool:
    return not picture_missing(machine)


def source_lost(machine: Machine) -> bool:
    return machine.status is SourceStatus.LOST


def snapshot_wanted(machine: Machine) -> bool:
    """A snapshot was asked for on this screen and there is a picture to take it of (not by the second
    tap of a press that has just woken the attract screen)."""
    return (machine.snapshot_requested_on == machine.state and machine.frame is not None
            and not (machine.state == LIVE and machine.now - machine.woken_at < WAKE_GUARD)
            and not (machine.state == CHALLENGE_OVER and machine.now - machine.entered < SCORE_GUARD))


def take_still(machine: Machine) -> None:
    """Freeze the newest picture and hand it, numbered, to the ``capture`` callback (the worker)."""
    assert machine.frame is not None  # countdown is only entered with a picture
    machine.snapshots_taken += 1
    machine.still = Snapshot(machine.snapshots_taken, machine.frame)
    machine.still_number += 1
    machine.capture(machine.still)


def snapshot_failed(machine: Machine) -> bool:
    """The worker could not make the snapshot on the screen (its message is up as the overlay)."""
    return machine.still is not None and machine.still.failed


def failing(machine: Machine) -> bool:
    """Drawing failed :data:`FAILURES_TO_SHOW` times within :data:`FAILURE_WINDOW` seconds."""
    recent = [t for t in machine.failure_times if machine.now - t <= FAILURE_WINDOW]
    return len(recent) >= FAILURES_TO_SHOW


def recovered(machine: Machine) -> bool:
    """No drawing error for :data:`RECOVERY_SECONDS` on this screen."""
    return machine.now - max([machine.entered, *machine.failure_times]) >= RECOVERY_SECONDS


def forget_failures(machine: Machine) -> None:
    """Start counting drawing errors afresh: after the failure screen it takes as many to come back."""
    machine.failure_times = []


def idle(machine: Machine) -> bool:
    """No face on this screen for ``attract_after`` seconds (never when that is 0)."""
    after = machine.timings.attract_after
    return after > 0 and machine.now - max(machine.last_face_at, machine.entered) >= after


def face_seen(machine: Machine) -> bool:
    """A face arrived since this screen came up."""
    return machine.last_face_at > machine.entered


def round_finished(machine: Machine) -> bool:
    return machine.round is None or machine.round.finished


def start_round(machine: Machine) -> None:
    """A new round of the challenge game, with fresh targets."""
    rules = machine.rules
    last = machine.round.targets[-1] if machine.round is not None and machine.round.targets else None
    machine.round = Round(pick_targets(rules.targets, machine.rng, after=last), machine.now, rules)
    machine.rounds_played += 1


def play_round(machine: Machine) -> None:
    """Feed the round the newest smoothed probabilities (none without a face, or one not seen for
    more than :data:`SEEN_BRIDGE` pictures, or from a picture older than :data:`SEEN_FOR`: a stalled camera)."""
    result = machine.result
    fresh = machine.now - machine.last_frame_at <= max(SEEN_FOR, 1.5 * min(machine.frame_gaps))
    seen = result is not None and result.label is not None and machine.frames_without_box <= SEEN_BRIDGE and fresh
    if machine.round is not None:
        machine.round.update(result.probabilities if seen else None, machine.now)


def record_score(machine: Machine) -> None:
    """Note the round's score as the day's best if it beats it."""
    if machine.round is not None:
        machine.new_best = machine.best.record(machine.round.score, machine.today())


ANYWHERE: tuple[tuple[Condition, str], ...] = ((failing, FAILURE),)
"""Rules tried before every screen's own (but the failure screen's)."""

STATES: dict[str, State] = {state.name: state for state in (
    State(STARTING, rules=((picture_back, LIVE), (source_lost, NO_PICTURE)), timer=("starting", NO_PICTURE),
          view=starting_view),
    State(NO_PICTURE, rules=((picture_back, LIVE),), view=no_picture_view),
    State(LIVE, rules=((picture_missing, NO_PICTURE), (snapshot_wanted, COUNTDOWN), (idle, ATTRACT))),
    State(COUNTDOWN, rules=((picture_missing, NO_PICTURE),), timer=("countdown", RESULT)),
    State(RESULT, rules=((snapshot_failed, LIVE),), timer=("result", LIVE), enter=take_still, view=result_view),
    State(ATTRACT, rules=((picture_missing, NO_PICTURE), (face_seen, LIVE), (snapshot_wanted, LIVE)),
          view=attract_view),
    State(FAILURE, rules=((recovered, LIVE),), enter=forget_failures, view=failure_view),
)}
"""Every screen, by name: the kiosk with the snapshot button."""

CHALLENGE_STATES: dict[str, State] = {**{name: state for name, state in STATES.items()
                                         if name not in (COUNTDOWN, RESULT)}, **{state.name: state for state in (
    State(LIVE, rules=((picture_missing, NO_PICTURE), (snapshot_wanted, CHALLENGE), (idle, ATTRACT))),
    State(ATTRACT, rules=((picture_missing, NO_PICTURE), (snapshot_wanted, CHALLENGE), (face_seen, LIVE)),
          view=attract_view),
    State(CHALLENGE, rules=((picture_missing, NO_PICTURE), (round_finished, CHALLENGE_OVER)), enter=start_round,
          during=play_round, view=challenge_view),
    State(CHALLENGE_OVER, rules=((picture_missing, NO_PICTURE), (snapshot_wanted, CHALLENGE)),
          timer=("challenge_over", LIVE), enter=record_score, view=challenge_view),
)}}
"""The kiosk with the challenge game (``--challenge``): the button starts a round."""


# --- the machine ---------------------------------------------------------------------------

class Machine:
    """The machine's insides, mutable: what the table's rules, timers and view builders receive and
    change. Only :class:`Screens` holds one; everyone else sees its events, view and frozen state."""

    def __init__(self, capture: Callable[[Snapshot], None], no_picture: tuple[str, list[str]],
                 timings: Timings, now: float = 0.0, *,
                 challenge: bool = False, saving: bool = False, shapes: bool = False, rules: Rules | None = None,
                 rng: random.Random | None = None, today: Callable[[], dt.date] = dt.date.today,
                 states: dict[str, State] | None = None) -> None:
        self.capture, self.timings = capture, timings
        self.states = states or (CHALLENGE_STATES if challenge else STATES)
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
        self.woken_at = -math.inf  # when a press last woke the attract screen
        self.still: Snapshot | None = None  # the snapshot on the result screen
        self.still_number = 0
        self.snapshots_taken = 0
        self.snapshot_path: Path | None = None  # the last file saved
        self.error: str | None = None  # the overlay
        self.error_request = 0  # the snapshot whose error it is (0: none's)
        self.error_until: float | None = None
        self.last_face_at = now  # when the last picture with a face arrived (the attract screen's clock)
        self.frames_without_box = SEEN_BRIDGE + 1  # pictures since the last with a face found in it (the game's)
        self.frame_gaps = (0.0, 0.0)  # seconds between the last three pictures
        self.round: Round | None = None  # the challenge game's round, and the day's best in memory
        self.rounds_played = 0
        self.best = DayBest()
        self.new_best = False
        self.failure_times: list[float] = []  # when drawing failed lately (the failure screen's clock)
        self.drawing_failures = 0

    # --- events

    def frame_arrived(self, image: np.ndarray, result: Result) -> None:
        """A processed live picture arrived."""
        self.frame, self.result = image, result
        self.frame_number += 1
        self.frames_without_box = 0 if result.box is not None else self.frames_without_box + 1
        self._new_frame = True

    def source_status(self, status: SourceStatus, text: str) -> None:
        """The source's status and its sentence for the visitor."""
        self.status, self.status_text = status, text

    def request_snapshot(self) -> None:
        """Ask for a snapshot: the next tick takes it if the screen up now has a rule for it."""
        if self.state == ATTRACT:
            self.woken_at = self.now
        self.snapshot_requested_on = self.state

    def snapshot_done(self, snapshot: Snapshot) -> None:
        """The worker finished a snapshot: record its file or error, and show it if it is still up
        (a failed one leads back to live, its message over the picture)."""
        if snapshot.path is not None:
            self.snapshot_path = snapshot.path
        if not snapshot.error and snapshot.request > self.error_request:  # a later snapshot that worked (or
            self.error, self.error_until = None, None  # was saved): an earlier one's failure is no longer news
        if snapshot.error:
            self.error, self.error_until = snapshot.error, None  # its timer starts at the next tick
            self.error_request = snapshot.request
        if self.still is not None and snapshot.request == self.still.request:
            if self.still.result is None and self.state == RESULT:
                self._still_shown = True  # "back to live in N" counts from the finished still
            self.still = snapshot
            self.still_number += 1

    def drawing_failed(self, now: float) -> None:
        """The window could not draw a view; repeated failures bring up the failure screen."""
        self.drawing_failures += 1
        self.failure_times = [t for t in self.failure_times if now - t <= FAILURE_WINDOW] + [now]

    def tick(self, now: float) -> None:
        """Advance the clock to ``now``: expire the overlay, then follow rules and timers."""
        self.now = now
        if self._still_shown:
            self.entered, self._still_shown = now, False
        if self._new_frame:
            gap = now - self.last_frame_at if math.isfinite(self.last_frame_at) else 0.0
            self.frame_gaps = (self.frame_gaps[1], gap)
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
        rules = state.rules if self.state == FAILURE else (*ANYWHERE, *state.rules)
        for condition, target in rules:
            if condition(self):
                return target
        if state.timer is not None and self.now - self.entered >= self.timings.seconds(state.timer[0]):
            return state.timer[1]
        return None

    def _enter(self, name: str) -> None:
        old, self.state, self.entered = self.state, name, self.now
        log.debug("screen %s -> %s", old, name)
        if old == FAILURE:  # the errors drawing the failure screen itself must not bring it straight back
            forget_failures(self)
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
        return max(0.0, self.timings.seconds(timer[0]) - (self.now - self.entered))

    # --- what to draw, and what to report

    def view(self) -> View:
        """What the window should show now (at the last tick's time), by the screen's own builder."""
        return self.states[self.state].view(self)

    def banner(self) -> tuple[str, bool] | None:
        """The error overlay, as (text, is an error), while it is up."""
        return (self.error, True) if self.error else None

    def live_feed(self) -> FeedView | None:
        """The newest live picture with its hint, banner and countdown (None before the first)."""
        if self.frame is None:
            return None
        result = self.result
        face = result is not None and result.label is not None
        framed = result is None or result.region is None or region_drawn(result.region[2], self.frame.shape[1])
        hint = None if face else texts.HINT if framed else texts.HINT_NO_FRAME  # in the game too: the panel
        # shows the target meanwhile
        if face and self.state == CHALLENGE and self.round is not None and self.round.target is not None \
                and self.round.showing is None:  # not under the outcome of the target just played
            hint = texts.MAKE_THIS_FACE.format(name=texts.expression_name(self.round.target))
        countdown = math.ceil(self.seconds_left()) if self.state == COUNTDOWN else None
        return FeedView(("live", self.frame_number), self.frame, result, hint=hint, banner=self.banner(),
                        countdown=countdown or None)

    def current(self) -> ScreenState:
        """The machine's state at the last tick, as one frozen value."""
        result, game = self.result, self.round
        box = None if result is None or result.box is None else tuple(int(v) for v in result.box)
        challenge = None if game is None else ChallengeState(game.target, game.score, game.matched,
                                                             self.rounds_played, self.best.today(self.today()), tuple(game.targets))
        return ScreenState(self.state, self.status, self.status_text, None if result is None else result.label,
                           box, self.snapshots_taken, self.snapshot_path, self.error,  # type: ignore[arg-type]
                           self.drawing_failures, challenge)

    def challenge_panel(self, game: Round) -> ChallengeView:
        """The challenge panel: the target, its time and hold, or the outcome; or the round's score.
        Each is measured with the full bars and the highest score a round reaches (``widest``), so that
        the rows keep their place as the score and the day's best gain digits."""
        best, total, rules = self.best.today(self.today()), len(game.targets), game.rules
        widest = challenge_widest(rules)
        if self.state == CHALLENGE_OVER:
            lines = (Row(texts.MATCHED_OF.format(matched=game.matched, total=total)),
                     Row(texts.NEW_BEST if self.new_best else texts.BEST_TODAY.format(score=best)))
            cheer = "happy" if game.matched else "neutral"  # over the score, not the "no face" question mark
            return ChallengeView(cheer, texts.SCORE.format(score=game.score), lines, texts.PLAY_AGAIN, True,
                                 good=self.new_best, widest=widest[:2] + lines)
        shown = game.showing
        rows = score_rows(min(game.index + 1, total), total, game.score, best)
        if shown is not None:
            title = texts.MATCHED.format(points=shown.points) if shown.matched else texts.MISSED
            return ChallengeView(shown.target, title, rows, texts.PLAYING, False, good=shown.matched, widest=widest)
        left, hold = game.seconds_left(), game.hold_progress()
        bars = (Row(texts.TIME, round(left / rules.seconds, 2), texts.SECONDS.format(seconds=math.ceil(left))),
                Row(texts.HOLD, round(hold, 2), strong=hold > 0))
        target = game.target or game.targets[-1]
        return ChallengeView(target, texts.expression_name(target), bars + rows, texts.PLAYING, False, widest=widest)


def score_rows(number: int, total: int, score: int, best: int) -> tuple[Row, ...]:
    """The challenge panel's lines under the bars: which target of how many, the score, the day's best."""
    return (Row(texts.TARGET_OF.format(number=number, total=total)), Row(texts.SCORE.format(score=score)),
            Row(texts.BEST_TODAY.format(score=best)))


def challenge_widest(rules: Rules) -> tuple[Row, ...]:
    """The challenge panel's bars and lines at their widest: the time and hold bars full, the last
    target, the highest score a round reaches as the score and the day's best."""
    return ((Row(texts.TIME, 1.0, texts.SECONDS.format(seconds=math.ceil(rules.seconds))), Row(texts.HOLD, 1.0))
            + score_rows(rules.targets, rules.targets, rules.most, rules.most))


class Screens:
    """The screens' state machine; single-threaded (the window calls it from its own thread).

    ``capture`` is called with a numbered :class:`Snapshot` when one is taken (the window hands it
    to the worker, which answers through :meth:`snapshot_done` with the same number). ``no_picture`` is the title and tips
    of the "no picture" message. Functions in :attr:`on_state_change` are called with
    ``(old, new)`` on every change of screen, on the window's thread; a gpiozero LED lit during
    the countdown: ``screens.on_state_change.append(lambda old, new: led.on() if new == COUNTDOWN
    else led.off())``.

    ``options`` are :class:`Machine`'s keywords: ``challenge`` (the game's table), ``saving``, ``shapes``
    (the generated emoji), the game's ``rules``, ``rng`` and ``today``, and ``states``, a table
    replacing :data:`STATES` (or :data:`CHALLENGE_STATES`).
    The public surface is the events, :meth:`view` and :meth:`current`; the rules work on a
    :class:`Machine` inside, which nobody else changes.
    """

    def __init__(self, capture: Callable[[Snapshot], None], no_picture: tuple[str, list[str]],
                 timings: Timings, now: float = 0.0, **options: Any) -> None:
        self._machine = Machine(capture, no_picture, timings, now, **options)
        self.on_state_change = self._machine.on_state_change

    def frame_arrived(self, image: np.ndarray, result: Result) -> None:
        """A processed live picture arrived."""
        self._machine.frame_arrived(image, result)

    def source_status(self, status: SourceStatus, text: str) -> None:
        """The source's status and its sentence for the visitor."""
        self._machine.source_status(status, text)

    def request_snapshot(self) -> None:
        """Ask for a snapshot: the next tick takes it if the screen up now has a rule for it."""
        self._machine.request_snapshot()

    def snapshot_done(self, snapshot: Snapshot) -> None:
        """The worker finished the snapshot numbered ``snapshot.request``."""
        self._machine.snapshot_done(snapshot)

    def drawing_failed(self, now: float) -> None:
        """The window could not draw a view; repeated failures bring up the failure screen."""
        self._machine.drawing_failed(now)

    def tick(self, now: float) -> None:
        """Advance the clock to ``now``: expire the overlay, then follow rules and timers."""
        self._machine.tick(now)

    def view(self) -> View:
        """What the window should show now (at the last tick's time), by the screen's own builder."""
        return self._machine.view()

    def current(self) -> ScreenState:
        """The machine's state at the last tick, as one frozen value."""
        return self._machine.current()
