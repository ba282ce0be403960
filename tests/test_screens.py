"""The kiosk's screens, driven in-process by events and a fake clock (no Tk, no camera, no model)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from helpers import panel_shape

from emojify import screens as sc
from emojify import texts
from emojify.challenge import Rules
from emojify.emojis import load_emoji_set
from emojify.labels import CLASSES
from emojify.pipeline import Face, Result
from emojify.render import kiosk_layout, render_challenge
from emojify.screens import Screens, Snapshot, Timings
from emojify.shape import Shape
from emojify.sources import SourceStatus
from emojify.views import ChallengeView

LIVE_SOURCE = (SourceStatus.LIVE, "Camera on.")
TIPS = ("No camera picture", ["Check the cable."])


REGION = (13, 10, 38, 29)
"""The capture region of the fake 64x48 pictures, the kiosk's default share of them (0.6)."""


def result(label: str | None = "happy", region=REGION) -> Result:
    """A live result with a face and a clear winner, or (``label=None``) one without a face."""
    if label is None:
        return Result(region, None, None, None)
    probabilities = np.full(len(CLASSES), 0.02)
    probabilities[CLASSES.index(label)] = 1 - 0.02 * (len(CLASSES) - 1)
    return Result(region, (10, 10, 20, 20), probabilities, label)


class Kiosk:
    """A :class:`Screens` with a fake clock, a fake camera and a fake worker that records captures."""

    def __init__(self, timings: Timings | None = None, **options) -> None:
        self.now = 100.0
        self.captured: list[Snapshot] = []
        self.changes: list[tuple[str, str]] = []
        self.options = options
        self.screens = Screens(self.captured.append, TIPS, timings or Timings(result=4.0), now=self.now, **options)
        self.screens.on_state_change.append(lambda old, new: self.changes.append((old, new)))

    def run(self, seconds: float, frames: bool = True, source=LIVE_SOURCE, label: str | None = "happy",
            step: float = 0.05) -> None:
        """Let ``seconds`` pass in ticks of ``step``, with a new picture each tick if ``frames``."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = round(self.now + step, 6)
            if frames:
                self.screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), result(label))
            self.screens.source_status(*source)
            self.screens.tick(self.now)

    @property
    def state(self) -> str:
        return self.screens.current().screen

    def snapshot(self) -> None:
        self.screens.request_snapshot()
        self.run(0.05)


@pytest.fixture
def kiosk() -> Kiosk:
    app = Kiosk()
    app.run(0.5)
    assert app.state == sc.LIVE
    return app


@pytest.mark.parametrize("probabilities", [
    (0.0045, 0.0145, 0.0023, 0.944, 0.0125, 0.023, 0.0),  # each rounded on its own: 98
    (1 / 7,) * 7,  # each rounded on its own: 98
    (0.125, 0.125, 0.125, 0.375, 0.125, 0.0625, 0.0625),  # halves: each rounded on its own (to even): 98
    (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0),
])
def test_the_panels_percentages_add_up_to_100_and_keep_their_order(probabilities) -> None:
    """A visitor adding up the bars finds 100, and a bar is never shorter than a less likely one."""
    label = CLASSES[int(np.argmax(probabilities))]
    shown = sc.panel_view(Result((0, 0, 64, 48), (10, 10, 20, 20), np.array(probabilities, np.float32), label), "",
                          "").percents
    assert sum(shown) == 100
    assert all(abs(p - s / 100) < 0.01 for p, s in zip(probabilities, shown, strict=True)), shown
    pairs = itertools.product(range(len(CLASSES)), repeat=2)
    assert all(shown[i] >= shown[j] for i, j in pairs if probabilities[i] > probabilities[j] + 1e-9), shown


def test_probabilities_with_nothing_to_share_give_empty_bars_not_nonsense() -> None:
    from emojify.views import whole_percents

    assert whole_percents((0.0,) * 7) == whole_percents((float("nan"),) + (0.1,) * 6) == (0,) * 7
    assert whole_percents((1e-13,) * 7) == whole_percents((1,) * 7) == (15, 15, 14, 14, 14, 14, 14)  # tiny, but shares
    assert whole_percents((1.7e307,) + (0.0,) * 6) == (100,) + (0,) * 6  # huge, and no overflow


def test_starting_shows_the_source_sentence_then_live_when_pictures_come() -> None:
    app = Kiosk()
    app.run(1.0, frames=False, source=(SourceStatus.STARTING, "Starting the camera..."))
    view = app.screens.view()
    assert app.state == sc.STARTING and view.feed is None and view.panel is None
    assert view.message.title == "Starting the camera..."
    app.run(0.1)
    view = app.screens.view()
    assert app.state == sc.LIVE and view.message is None
    assert view.feed.live and view.feed.hint is None and view.panel.label == "happy"
    assert app.changes == [(sc.STARTING, sc.LIVE)]


def test_a_source_still_starting_after_the_patience_is_shown_as_missing() -> None:
    app = Kiosk()
    app.run(sc.STARTING_PATIENCE - 0.2, frames=False, source=(SourceStatus.STARTING, "Starting..."))
    assert app.state == sc.STARTING
    app.run(0.4, frames=False, source=(SourceStatus.STARTING, "Starting..."))
    message = app.screens.view().message
    assert app.state == sc.NO_PICTURE
    assert (message.title, message.detail, message.tips) == (TIPS[0], "Starting...", tuple(TIPS[1]))


def test_a_missing_camera_shows_what_to_check_at_once() -> None:
    app = Kiosk()
    app.run(0.1, frames=False, source=(SourceStatus.LOST, "No camera found."))
    assert app.state == sc.NO_PICTURE and app.screens.view().message.detail == "No camera found."


def test_a_lost_camera_brings_the_message_after_a_second_and_its_return_the_picture(kiosk: Kiosk) -> None:
    lost = (SourceStatus.LOST, "Camera lost; reconnecting...")
    kiosk.run(sc.MESSAGE_DELAY - 0.2, frames=False, source=lost)
    assert kiosk.state == sc.LIVE, "a short gap keeps the last picture"
    kiosk.run(0.4, frames=False, source=lost)
    assert kiosk.state == sc.NO_PICTURE and kiosk.screens.view().feed is None
    kiosk.run(0.1)
    assert kiosk.state == sc.LIVE and kiosk.screens.view().feed is not None


def test_each_new_picture_changes_the_view_and_nothing_else_does(kiosk: Kiosk) -> None:
    before = kiosk.screens.view()
    kiosk.run(0.5, frames=False)
    assert kiosk.screens.view() == before, "no new picture: nothing to redraw"
    kiosk.run(0.05)
    after = kiosk.screens.view()
    assert after.feed != before.feed and after.panel == before.panel


def test_no_face_asks_for_one(kiosk: Kiosk) -> None:
    kiosk.run(0.1, label=None)
    view = kiosk.screens.view()
    assert view.feed.hint == texts.HINT and view.panel.label is None and view.panel.title == texts.NO_FACE_YET


def test_with_the_whole_picture_for_region_the_hint_names_no_frame(kiosk: Kiosk) -> None:
    """``--region 1`` draws no frame on the picture: "Put your face inside the frame" named one that
    is not there."""
    kiosk.screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), result(None, region=(0, 0, 64, 48)))
    kiosk.screens.tick(kiosk.now + 0.05)
    assert kiosk.screens.view().feed.hint == texts.HINT_NO_FRAME == "Look at the camera"


def test_snapshot_counts_down_then_takes_the_still_and_shows_it_then_goes_back_to_live(kiosk: Kiosk) -> None:
    kiosk.snapshot()
    assert kiosk.state == sc.COUNTDOWN and kiosk.captured == []
    seen = []
    while kiosk.state == sc.COUNTDOWN:
        view = kiosk.screens.view()
        assert view.feed.live and not view.panel.button_active, "the picture stays live during the countdown"
        seen.append(view.feed.countdown)
        kiosk.run(0.05)
    assert sorted(set(seen), reverse=True) == [3, 2, 1]
    assert kiosk.state == sc.RESULT and len(kiosk.captured) == 1
    still = kiosk.captured[0]

    view = kiosk.screens.view()
    assert not view.feed.live and view.feed.frame is still.frame and view.panel.title == texts.WORKING
    kiosk.run(1.0)
    assert kiosk.screens.view().feed == view.feed, "new live pictures do not replace the still"

    kiosk.screens.snapshot_done(replace(still, result=result("surprise"), path=Path("snap.png")))
    kiosk.run(0.05)
    view = kiosk.screens.view()
    assert view.feed.result.label == "surprise" and view.panel.label == "surprise"
    assert view.feed.banner == (texts.SNAPSHOT_SAVED, False) and view.panel.button == "Back to live in 4"
    assert kiosk.screens.current().snapshot_path == Path("snap.png") and kiosk.screens.current().snapshots_taken == 1

    kiosk.run(4.0)
    assert kiosk.state == sc.LIVE and kiosk.screens.view().feed.live
    assert kiosk.changes[-3:] == [(sc.LIVE, sc.COUNTDOWN), (sc.COUNTDOWN, sc.RESULT), (sc.RESULT, sc.LIVE)]


def test_a_snapshot_being_saved_says_so_until_its_file_or_error_comes() -> None:
    """The snapshot is written beside the live view (a slow stick takes seconds): "Saving the
    snapshot..." says the photo is on its way, then "Snapshot saved" or why not. A kiosk with no
    save folder says nothing of saving."""
    for saving in (True, False):
        kiosk = Kiosk(saving=saving)
        kiosk.run(0.5)
        kiosk.snapshot()
        kiosk.run(sc.COUNTDOWN_SECONDS)
        assert kiosk.state == sc.RESULT and kiosk.screens.view().feed.banner is None  # still classifying
        still = replace(kiosk.captured[0], result=result("surprise"))
        kiosk.screens.snapshot_done(still)
        kiosk.run(0.05)
        assert kiosk.screens.view().feed.banner == ((texts.SAVING, False) if saving else None)
        if saving:
            kiosk.screens.snapshot_done(replace(still, path=Path("snap.png")))
            kiosk.run(0.05)
            assert kiosk.screens.view().feed.banner == (texts.SNAPSHOT_SAVED, False)
    busy = Kiosk(saving=True)
    busy.run(0.5)
    busy.snapshot()
    busy.run(sc.COUNTDOWN_SECONDS)
    busy.screens.snapshot_done(replace(busy.captured[0], result=result("surprise"), error=texts.STILL_SAVING))
    busy.run(0.05)
    assert busy.screens.view().feed.banner == (texts.STILL_SAVING, True)
    earlier = replace(busy.captured[0], request=busy.captured[0].request - 1, result=result("happy"), path=Path("a.png"))
    busy.screens.snapshot_done(earlier)  # the one still being written is saved now: this one's "not saved" stays
    busy.run(0.05)
    assert busy.screens.view().feed.banner == (texts.STILL_SAVING, True)


def test_with_the_generated_emoji_the_snapshots_panel_shows_the_stills_own_face() -> None:
    """The snapshot is the moment a visitor keeps: the panel's big emoji is their face's (mirrored, as
    the live panel's), not the generated emoji at rest."""
    kiosk = Kiosk(shapes=True)
    kiosk.run(0.5)
    kiosk.snapshot()
    kiosk.run(3.5)
    assert kiosk.state == sc.RESULT
    shape = Shape(0.6, 0.9, 0.3, (0.2, 0.8), 12.0, -8.0, 4.0)
    still = result("surprise")
    face = Face(still.box, still.probabilities, "surprise", shape=shape)
    kiosk.screens.snapshot_done(replace(kiosk.captured[0], result=replace(still, faces=(face,))))
    kiosk.run(0.05)
    assert kiosk.screens.view().panel.shape == shape.mirrored().quantised()


def test_back_to_live_counts_from_when_the_finished_still_is_shown(kiosk: Kiosk) -> None:
    """The still's result comes 2.5 s after the countdown: the visitor still gets the whole 4 s with it."""
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    assert kiosk.state == sc.RESULT
    kiosk.run(2.5)
    assert kiosk.screens.view().panel.title == texts.WORKING
    kiosk.screens.snapshot_done(replace(kiosk.captured[0], result=result("surprise")))
    kiosk.run(0.05)
    assert kiosk.screens.view().panel.button == "Back to live in 4"
    kiosk.screens.snapshot_done(replace(kiosk.captured[0], result=result("surprise"), path=Path("saved.png")))
    kiosk.run(3.85)
    assert kiosk.state == sc.RESULT and kiosk.screens.view().panel.button == "Back to live in 1"
    assert kiosk.screens.view().feed.banner == (texts.SNAPSHOT_SAVED, False)
    kiosk.run(0.15)
    assert kiosk.state == sc.LIVE


def test_a_still_that_never_finishes_goes_back_to_live_in_time(kiosk: Kiosk) -> None:
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS + 4.1)
    assert kiosk.state == sc.LIVE and kiosk.changes[-1] == (sc.RESULT, sc.LIVE)


def test_a_zero_countdown_takes_the_still_at_once() -> None:
    app = Kiosk(Timings(countdown=0, result=2))
    app.run(0.2)
    app.snapshot()
    assert app.state == sc.RESULT and len(app.captured) == 1
    assert app.changes[-2:] == [(sc.LIVE, sc.COUNTDOWN), (sc.COUNTDOWN, sc.RESULT)]


def test_snapshot_requests_outside_the_live_screen_are_dropped(kiosk: Kiosk) -> None:
    kiosk.snapshot()
    kiosk.snapshot()  # during the countdown
    kiosk.run(sc.COUNTDOWN_SECONDS)
    kiosk.snapshot()  # on the result screen
    kiosk.run(4.0)
    assert kiosk.state == sc.LIVE and len(kiosk.captured) == 1

    app = Kiosk()
    app.screens.request_snapshot()  # before any picture
    app.run(0.5)
    assert app.state == sc.LIVE and app.captured == []


def test_losing_the_camera_during_the_countdown_cancels_it(kiosk: Kiosk) -> None:
    kiosk.snapshot()
    kiosk.run(1.5, frames=False, source=(SourceStatus.LOST, "Camera lost"))
    assert kiosk.state == sc.NO_PICTURE and kiosk.captured == []
    assert (sc.COUNTDOWN, sc.NO_PICTURE) in kiosk.changes


def test_a_saved_snapshot_clears_the_last_one_s_save_error(kiosk: Kiosk, tmp_path) -> None:
    """The next visitor's snapshot was saved, yet its result screen showed the red 'Could not save the
    snapshot' of the one before, whose message lasts longer than a result screen."""
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    kiosk.screens.snapshot_done(replace(kiosk.captured[0], result=result(), error="Could not save the snapshot: disk full"))
    kiosk.run(4.5)  # back to live, the message still up
    assert kiosk.state == sc.LIVE and kiosk.screens.current().error == "Could not save the snapshot: disk full"
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    kiosk.screens.snapshot_done(replace(kiosk.captured[1], result=result(), path=tmp_path / "snapshot.png"))
    kiosk.run(0.05)
    assert kiosk.screens.current().error is None and kiosk.screens.current().snapshot_path == tmp_path / "snapshot.png"


def test_a_save_error_is_an_overlay_with_its_own_timer(kiosk: Kiosk) -> None:
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    still = kiosk.captured[0]
    kiosk.screens.snapshot_done(replace(still, result=result(), error="Could not save the snapshot: disk full"))
    kiosk.run(0.05)
    assert kiosk.screens.view().feed.banner == ("Could not save the snapshot: disk full", True)
    kiosk.run(4.0)
    assert kiosk.state == sc.LIVE, "the error does not hold the result screen"
    assert kiosk.screens.view().feed.banner[1] is True, "the error stays up over the live picture"
    kiosk.run(sc.ERROR_SECONDS - 4.0)
    assert kiosk.screens.view().feed.banner is None and kiosk.screens.current().error is None
    assert kiosk.screens.current().snapshot_path is None


def test_a_late_snapshot_is_recorded_but_not_shown(kiosk: Kiosk) -> None:
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS + 4.0)
    assert kiosk.state == sc.LIVE
    kiosk.screens.snapshot_done(replace(kiosk.captured[0], result=result("sad"), path=Path("late.png")))
    kiosk.run(0.05)
    assert kiosk.screens.current().snapshot_path == Path("late.png") and kiosk.screens.view().feed.live
    assert kiosk.screens.view().panel.label == "happy"


def test_a_failing_state_change_callback_does_not_stop_the_screens(kiosk: Kiosk) -> None:
    lamp = []
    kiosk.screens.on_state_change.insert(0, lambda old, new: 1 / 0)
    kiosk.screens.on_state_change.append(lambda old, new: lamp.append(new == sc.COUNTDOWN))
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    assert kiosk.state == sc.RESULT and lamp == [True, False]


def test_a_new_screen_is_a_new_entry_in_the_table() -> None:
    """An attract screen after 2 s without a face, left when a face appears: only table entries."""
    def no_face(machine: sc.Machine) -> bool:
        return machine.result is not None and machine.result.label is None

    def face(machine: sc.Machine) -> bool:
        return not no_face(machine)

    table = dict(sc.STATES)
    live = table[sc.LIVE]
    table[sc.LIVE] = sc.State(sc.LIVE, rules=(*live.rules, (no_face, "wait_for_face")))
    table["wait_for_face"] = sc.State("wait_for_face", rules=((face, sc.LIVE),), timer=("attract", "attract"))
    table["attract"] = sc.State("attract", rules=((face, sc.LIVE),))

    @dataclass(frozen=True)
    class Longer(Timings):
        attract: float = 2.0

    app = Kiosk(Longer(result=4.0), states=table)
    app.run(0.5)
    app.run(1.9, label=None)
    assert app.state == "wait_for_face"
    app.run(0.2, label=None)
    assert app.state == "attract"
    app.run(0.1)
    assert app.state == sc.LIVE


# --- the attract screen --------------------------------------------------------------------

def attract_kiosk(after: float = 20.0, **options) -> Kiosk:
    app = Kiosk(Timings(result=4.0, attract_after=after), **options)
    app.run(0.5)
    assert app.state == sc.LIVE
    return app


def test_the_attract_screen_comes_after_the_set_time_without_a_face() -> None:
    app = attract_kiosk(20.0)
    app.run(19.8, label=None)
    assert app.state == sc.LIVE, "too early"
    app.run(0.4, label=None)
    view = app.screens.view()
    assert app.state == sc.ATTRACT and view.feed is None and view.panel is None and view.message is None
    assert view.attract.title == texts.ATTRACT_TITLE and texts.ATTRACT_LINE in view.attract.lines
    assert texts.NOTICE in view.attract.notice and texts.NOTICE_NOTHING_KEPT in view.attract.notice
    assert "not feelings" in texts.NOTICE and "keeps nothing" in texts.NOTICE_NOTHING_KEPT


def test_a_face_now_and_then_keeps_the_live_screen() -> None:
    app = attract_kiosk(20.0)
    for _ in range(5):
        app.run(15.0, label=None)
        app.run(0.1)
    assert app.state == sc.LIVE and (sc.LIVE, sc.ATTRACT) not in app.changes


def test_a_face_brings_the_live_view_back_at_once() -> None:
    app = attract_kiosk(2.0)
    app.run(2.5, label=None)
    assert app.state == sc.ATTRACT
    app.run(0.05)
    assert app.state == sc.LIVE and app.screens.view().panel.label == "happy"
    app.run(1.5, label=None)
    assert app.state == sc.LIVE, "the wait starts again after the face"


def test_the_attract_screen_cycles_the_emoji() -> None:
    app = attract_kiosk(1.0)
    app.run(1.1, label=None)
    shown = []
    for _ in range(len(sc.ATTRACT_ORDER)):
        shown.append(app.screens.view().attract.label)
        app.run(sc.ATTRACT_CYCLE, label=None)
    assert sorted(shown) == sorted(CLASSES), "each emoji in turn"
    assert app.state == sc.ATTRACT


def test_the_notice_says_when_snapshots_are_saved_and_the_button_wakes_the_kiosk() -> None:
    app = attract_kiosk(1.0, saving=True)
    app.run(1.1, label=None)
    notice = app.screens.view().attract.notice
    assert texts.NOTICE_SAVED in notice and texts.NOTICE_NOTHING_KEPT not in notice
    assert "Snapshots are saved" in texts.NOTICE_SAVED
    app.screens.request_snapshot()
    app.run(0.05, label=None)
    assert app.state == sc.LIVE and app.captured == [], "waking up takes no snapshot"


def test_a_double_tap_on_the_attract_screen_wakes_it_without_a_snapshot() -> None:
    app = attract_kiosk(1.0, saving=True)
    app.run(1.1, label=None)
    app.screens.request_snapshot()  # the first tap wakes the kiosk...
    app.run(0.05, label=None)
    app.screens.request_snapshot()  # ...the second, a moment later, must not take (and save) a photo
    app.run(0.05, label=None)
    assert app.state == sc.LIVE and app.captured == []
    app.run(sc.WAKE_GUARD, label=None)
    app.snapshot()
    assert app.state == sc.COUNTDOWN, "a press after the wake-up takes the snapshot"


def test_in_challenge_mode_the_notice_does_not_claim_snapshots_are_saved() -> None:
    """The game takes no snapshot, so with a save folder set nothing is saved either."""
    app = attract_kiosk(1.0, saving=True, challenge=True)
    app.run(1.1, label=None)
    notice = app.screens.view().attract.notice
    assert texts.NOTICE_NOTHING_KEPT in notice and texts.NOTICE_SAVED not in notice


def test_attract_after_zero_never_shows_it() -> None:
    app = attract_kiosk(0.0)
    app.run(120.0, label=None, step=0.5)
    assert app.state == sc.LIVE


def test_losing_the_camera_on_the_attract_screen_shows_what_to_check() -> None:
    app = attract_kiosk(1.0)
    app.run(1.1, label=None)
    app.run(1.5, frames=False, source=(SourceStatus.LOST, "Camera lost"))
    assert app.state == sc.NO_PICTURE


# --- the challenge game --------------------------------------------------------------------

class Calendar:
    """A fake date for the day's best."""

    def __init__(self) -> None:
        self.day = dt.date(2026, 12, 7)

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture
def game() -> Kiosk:
    app = Kiosk(Timings(result=4.0, attract_after=20.0), challenge=True, rng=random.Random(3), today=Calendar())
    app.today = app.options["today"]  # the game's calendar, which a test turns to the next day
    app.run(0.5)
    return app


def play_round(app: Kiosk, match: list[bool]) -> None:
    """Start a round with the button and show each target's face (or a neutral face) until it ends."""
    if app.state == sc.CHALLENGE_OVER:
        app.run(sc.SCORE_GUARD)  # the score is up at least this long, whatever is pressed
    app.snapshot()
    assert app.state == sc.CHALLENGE
    for wanted in match:
        target = app.screens.current().challenge.target
        face = target if wanted else next(c for c in CLASSES if c != target)
        app.run(Rules().hold + 0.1 if wanted else Rules().seconds, label=face)
        app.run(Rules().pause, label="neutral" if target != "neutral" else "sad")


def test_in_challenge_mode_the_button_starts_a_round_and_shows_the_target(game: Kiosk) -> None:
    assert game.screens.view().panel.button == texts.PLAY
    game.snapshot()
    view = game.screens.view()
    target = game.screens.current().challenge.target
    assert game.state == sc.CHALLENGE and game.captured == [], "no snapshot is taken"
    assert isinstance(view.panel, ChallengeView) and view.panel.target == target
    assert view.panel.title == target.capitalize() and not view.panel.button_active
    assert view.feed.hint == texts.MAKE_THIS_FACE.format(name=target.capitalize())
    names = [row.name for row in view.panel.rows]
    assert texts.TIME in names and texts.HOLD in names and texts.SCORE.format(score=0) in names


def test_a_matched_target_shows_its_points_then_the_next_target(game: Kiosk) -> None:
    game.snapshot()
    first = game.screens.current().challenge.target
    game.run(Rules().hold + 0.1, label=first)
    panel = game.screens.view().panel
    points = game.screens.current().challenge.score  # the first target's
    assert panel.good and panel.title == texts.MATCHED.format(points=points) and panel.target == first
    game.run(Rules().pause, label="neutral" if first != "neutral" else "sad")
    panel = game.screens.view().panel
    assert panel.target == game.screens.current().challenge.target != first
    assert texts.TARGET_OF.format(number=2, total=5) in [row.name for row in panel.rows]


def test_a_round_of_five_ends_with_the_score_and_the_days_best_is_kept(game: Kiosk) -> None:
    play_round(game, [True, False, True, True, False])
    assert game.state == sc.CHALLENGE_OVER
    first = game.screens.current().challenge.score
    panel = game.screens.view().panel
    assert panel.title == texts.SCORE.format(score=first) and panel.good and panel.button_active
    assert [row.name for row in panel.rows] == [texts.MATCHED_OF.format(matched=3, total=5), texts.NEW_BEST]

    play_round(game, [False, False, False, False, True])  # "Play again" from the score screen
    assert game.state == sc.CHALLENGE_OVER and game.screens.current().challenge.rounds == 2
    panel = game.screens.view().panel
    assert game.screens.current().challenge.score < first and not panel.good
    assert panel.rows[-1].name == texts.BEST_TODAY.format(score=first)
    game.run(sc.CHALLENGE_OVER_SECONDS)
    assert game.state == sc.LIVE

    assert game.screens.current().challenge is None or game.screens.current().challenge.best == first

    game.today.day += dt.timedelta(days=1)
    game.snapshot()  # the first round of the new day: the state (and its file) reports today's best
    assert game.state == sc.CHALLENGE and game.screens.current().challenge.best == 0, "yesterday's best reported"
    game.run(Rules().seconds * 5 + Rules().pause * 5, label=None)
    assert game.screens.view().panel.rows[-1].name == texts.BEST_TODAY.format(score=0), "a new day, a new best"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize(("window", "large_text"), [((320, 480), True), ((640, 360), True), ((900, 320), False)])
def test_the_challenge_panel_keeps_its_shape_as_the_score_grows(game: Kiosk, window, large_text: bool,
                                                                 language: str) -> None:
    """The panel was measured for the score's figures as they were: beside its head ("Récord de hoy 150"
    in Spanish) its rows moved 13 px aside when the day's best or the score passed 99 (and again at 1000,
    every target matched at once), under each target's outcome too."""
    texts.set_language(language)
    emojis, lay = load_emoji_set(), kiosk_layout(window, large_text)
    shapes: dict[bool, list[np.ndarray]] = {True: [], False: []}  # while a target is played, under its outcome
    scores = set()

    def note() -> None:  # the button, and each drawn text's left edge, middle height and size but the head's
        panel = game.screens.view().panel
        shapes[panel.title == texts.expression_name(panel.target)].append(
            panel_shape(render_challenge, panel, lay.panel.size, emojis, lay.text_scale))
        scores.add(game.screens.current().challenge.score)

    for _ in range(2):  # the second round with the first's score as the day's best
        if game.state == sc.CHALLENGE_OVER:
            game.run(sc.SCORE_GUARD)
        game.snapshot()
        for _ in range(Rules().targets):
            note()
            game.run(Rules().hold + 0.1, label=game.screens.current().challenge.target)  # matched at once
            note()
            game.run(Rules().pause, label=None)
    assert min(scores) == 0 and max(scores) > 900, scores  # from one digit to three
    for played, seen in shapes.items():
        assert len(seen) == 2 * Rules().targets
        assert max(np.abs(shape - seen[0]).max() for shape in seen) <= 1, ("played" if played else "outcome", seen)


def test_the_score_stays_up_a_moment_whatever_is_pressed(game: Kiosk) -> None:
    """A visitor pressing on through the round's end started the next round at once: the score, "3 of 5"
    and "New best" were up for one frame."""
    entered = {}
    game.screens.on_state_change.append(lambda old, new: entered.update({new: game.now}))
    play_round(game, [False] * 5)
    assert game.state == sc.CHALLENGE_OVER
    while game.now - entered[sc.CHALLENGE_OVER] < sc.SCORE_GUARD - 0.1:
        game.snapshot()
        assert game.state == sc.CHALLENGE_OVER
    game.run(0.1)
    game.snapshot()
    assert game.state == sc.CHALLENGE


def test_a_face_seen_once_does_not_hold_a_target(game: Kiosk) -> None:
    """The smoothed expression stays 0.6 s after the face is gone (so a missed frame does not blank the
    emoji): one frame of the target's face, then nobody, scored a full match. A face missed for a
    frame or two while it holds the face still counts."""
    game.snapshot()
    target = game.screens.current().challenge.target
    held = result(target)
    game.screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), held)
    for _ in range(12):  # 0.6 s: the target's probabilities, no face found
        game.run(0.05, frames=False)
        game.screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), replace(held, box=None))
    assert game.screens.current().challenge.score == 0 and game.screens.current().challenge.target == target
    for step in range(14):  # held for 0.7 s, missed on two frames of it
        game.screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), replace(held, box=None) if step in (4, 9) else held)
        game.run(0.05, frames=False)
    assert game.screens.current().challenge.score > 0


@pytest.mark.parametrize(("fps", "missed_every"), [(30, None), (4, None), (3, None), (2, None), (1, None), (4, 2),
                                                   (3, 2), (30, 3)])
def test_a_target_held_on_a_slow_machine_is_matched(game: Kiosk, fps: int, missed_every: int | None) -> None:
    """A slow machine (several faces, a dim room) gives 3 or 4 pictures a second, a folder of photos
    one: a face missed for a fraction of a second counted as gone between every two of them, the hold
    started again and again, and a visitor holding the target's face the whole round scored nothing;
    the detector missing every other picture too."""
    game.snapshot()
    target = game.screens.current().challenge.target
    for n in range(fps * 3):  # 3 s of the target's face
        missed = missed_every is not None and n % missed_every == 1
        game.screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), replace(result(target), box=None) if missed
                                   else result(target))
        game.run(1 / fps, step=0.015, frames=False)
    assert game.screens.current().challenge.score > 0


def test_one_picture_from_a_camera_that_then_stalls_does_not_hold_a_target(game: Kiosk) -> None:
    """A camera that sends nothing for a moment (a USB hiccup) still counts as live for 2 s: the one
    picture of the target's face counted as seen on every tick meanwhile, and held the target."""
    game.snapshot()
    target = game.screens.current().challenge.target
    game.screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), result(target))
    game.run(0.9, frames=False)
    assert game.screens.current().challenge.score == 0 and game.screens.current().challenge.target == target


@pytest.mark.parametrize("pause", [0.4, 1.0, 1.8])
def test_one_picture_between_two_pauses_of_a_camera_does_not_hold_a_target(game: Kiosk, pause: float) -> None:
    """A camera at 20 pictures a second that pauses, sends one picture of the target's face and
    pauses again: that picture counted for 1.5 times the pause before it (the gap of slow pictures)
    and held the target."""
    game.snapshot()
    target = game.screens.current().challenge.target
    game.run(0.5, label="neutral")  # steady pictures of another face
    game.run(pause, frames=False)
    game.screens.frame_arrived(np.zeros((48, 64, 3), np.uint8), result(target))
    game.run(0.9, frames=False)
    assert game.screens.current().challenge.score == 0 and game.screens.current().challenge.target == target


def test_play_again_never_starts_with_the_target_the_last_round_ended_on(game: Kiosk) -> None:
    ends = []
    for _ in range(12):
        play_round(game, [False] * 5)
        ends.append(game.screens.current().challenge.targets)
    assert all(before[-1] != after[0] for before, after in itertools.pairwise(ends)), ends


def test_the_outcome_drops_the_instruction_and_the_score_screen_shows_an_emoji_not_a_question_mark(game: Kiosk) -> None:
    """Between two targets the picture no longer says "Make this face" under the panel's "Time's up";
    the score screen shows the happy emoji for a round with a match (neutral for none), not the grey
    question mark of "no face yet"."""
    game.snapshot()
    target = game.screens.current().challenge.target
    game.run(Rules().seconds + 0.1, label=next(c for c in CLASSES if c != target))
    view = game.screens.view()
    assert view.panel.title == texts.MISSED and view.feed.hint is None
    game.run(Rules().pause, label="neutral")
    assert game.screens.view().feed.hint == texts.MAKE_THIS_FACE.format(
        name=texts.expression_name(game.screens.current().challenge.target))
    game.run(4 * (Rules().seconds + Rules().pause), label=None)
    assert game.state == sc.CHALLENGE_OVER and game.screens.view().panel.target == "neutral"
    game.run(sc.CHALLENGE_OVER_SECONDS)
    play_round(game, [True, False, False, False, False])
    assert game.state == sc.CHALLENGE_OVER and game.screens.view().panel.target == "happy"


def test_without_a_face_the_round_times_out_target_by_target(game: Kiosk) -> None:
    """A visitor who stepped out of the picture is asked to come back into the frame, not to make a face
    nobody sees (the panel still shows the target); back in the frame, the instruction returns."""
    game.snapshot()
    game.run(0.5, label=None)
    target = texts.expression_name(game.screens.current().challenge.target)
    assert game.screens.view().feed.hint == texts.HINT and game.screens.view().panel.title == target
    game.run(0.1, label="neutral")
    assert game.screens.view().feed.hint == texts.MAKE_THIS_FACE.format(name=target)
    game.run(5 * (Rules().seconds + Rules().pause) - 1.1, label=None)
    assert game.state == sc.CHALLENGE, "no attract screen during a round"
    game.run(1.0, label=None)
    assert game.state == sc.CHALLENGE_OVER and game.screens.current().challenge.score == 0


def test_on_the_attract_screen_the_button_starts_a_round(game: Kiosk) -> None:
    game.run(20.5, label=None)
    assert game.state == sc.ATTRACT and texts.ATTRACT_PLAY in game.screens.view().attract.lines
    game.snapshot()
    assert game.state == sc.CHALLENGE


# --- failures show, and pass ----------------------------------------------------------------------

def test_a_failed_snapshot_says_so_and_goes_back_to_live(kiosk: Kiosk) -> None:
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    assert kiosk.state == sc.RESULT and kiosk.screens.view().panel.title == texts.WORKING
    kiosk.screens.snapshot_done(replace(kiosk.captured[0], failed=True, error=texts.SNAPSHOT_FAILED))
    kiosk.run(0.05)
    view = kiosk.screens.view()
    assert kiosk.state == sc.LIVE and view.feed.live and view.feed.banner == (texts.SNAPSHOT_FAILED, True)


def test_a_snapshot_is_matched_to_its_request_by_number(kiosk: Kiosk) -> None:
    """The answer to an earlier request never takes the place of the still on screen, even when it
    carries the same picture."""
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS + 4.0)
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    first, second = kiosk.captured
    assert kiosk.state == sc.RESULT and first.request != second.request
    kiosk.screens.snapshot_done(replace(second, request=first.request, result=result("sad")))  # a late answer
    kiosk.run(0.05)
    assert kiosk.screens.view().panel.title == texts.WORKING
    kiosk.screens.snapshot_done(replace(second, result=result("surprise")))
    kiosk.run(0.05)
    assert kiosk.screens.view().panel.label == "surprise"


def test_repeated_drawing_errors_show_the_failure_screen_which_recovers_by_itself(kiosk: Kiosk) -> None:
    for _ in range(sc.FAILURES_TO_SHOW - 1):
        kiosk.screens.drawing_failed(kiosk.now)
        kiosk.run(0.05)
    assert kiosk.state == sc.LIVE, "a few errors are not yet a failure"
    kiosk.screens.drawing_failed(kiosk.now)
    kiosk.run(0.05)
    view = kiosk.screens.view()
    assert kiosk.state == sc.FAILURE and view.feed is None and view.message.title == texts.FAILURE_TITLE
    assert kiosk.screens.current().showing_message and kiosk.screens.current().drawing_failures == sc.FAILURES_TO_SHOW
    kiosk.run(sc.RECOVERY_SECONDS + 0.1)
    assert kiosk.state == sc.LIVE and kiosk.screens.view().feed.live


def test_the_failure_screen_does_not_bounce_back_from_its_own_drawing_errors(kiosk: Kiosk) -> None:
    """Errors drawing the failure screen itself were still counted once it went: live for one tick, then
    the failure screen again, twice as long."""
    for _ in range(sc.FAILURES_TO_SHOW):
        kiosk.screens.drawing_failed(kiosk.now)
        kiosk.run(0.05)
    assert kiosk.state == sc.FAILURE
    for _ in range(sc.FAILURES_TO_SHOW):
        kiosk.screens.drawing_failed(kiosk.now)
        kiosk.run(0.5)
    kiosk.run(sc.RECOVERY_SECONDS + 0.1)
    assert kiosk.state == sc.LIVE and kiosk.changes[-2:] == [(sc.LIVE, sc.FAILURE), (sc.FAILURE, sc.LIVE)]
    kiosk.run(2.0)
    assert kiosk.state == sc.LIVE


def test_a_snapshot_that_works_clears_the_last_ones_failure(kiosk: Kiosk) -> None:
    """"That snapshot did not work; please try again": the visitor did, at once, and the good photo
    stood under the red failure text (without a save folder, for the whole result screen)."""
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    kiosk.screens.snapshot_done(replace(kiosk.captured[0], failed=True, error=texts.SNAPSHOT_FAILED))
    kiosk.run(0.05)
    assert kiosk.state == sc.LIVE and kiosk.screens.view().feed.banner == (texts.SNAPSHOT_FAILED, True)
    kiosk.snapshot()
    kiosk.run(sc.COUNTDOWN_SECONDS)
    kiosk.screens.snapshot_done(replace(kiosk.captured[1], result=result("surprise")))
    kiosk.run(0.05)
    assert kiosk.state == sc.RESULT and kiosk.screens.view().feed.banner is None


def test_the_machine_state_is_one_frozen_value(kiosk: Kiosk) -> None:
    import dataclasses

    state = kiosk.screens.current()
    assert (state.screen, state.label, state.box, state.snapshots_taken) == (sc.LIVE, "happy", (10, 10, 20, 20), 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.screen = sc.RESULT  # type: ignore[misc]
    kiosk.snapshot()
    assert state.screen == sc.LIVE and kiosk.screens.current().screen == sc.COUNTDOWN


def test_the_screen_machine_imports_no_renderer_nor_camera_library():
    """The screens decide without drawing: importing them loads neither Pillow nor OpenCV."""
    import subprocess
    import sys

    code = "import sys, emojify.screens; print(sorted({'PIL', 'cv2', 'emojify.render'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
