"""``--stats``: the kiosk's once-a-minute line of shown fps, camera fps and CPU ms per shown frame."""

from __future__ import annotations

import logging

import pytest

from emojify.stats import FrameStats


class Clocks:
    """A wall clock and a process-time clock that the test moves."""

    def __init__(self) -> None:
        self.wall, self.cpu = 500.0, 20.0


def test_one_line_a_minute_with_shown_fps_camera_fps_and_cpu_per_shown_frame(caplog: pytest.LogCaptureFixture) -> None:
    clocks = Clocks()
    stats = FrameStats(clock=lambda: clocks.wall, cpu=lambda: clocks.cpu)
    caplog.set_level(logging.INFO, "emojify.stats")
    assert stats.poll(0, 100) is None  # the start
    clocks.wall, clocks.cpu = 559.0, 30.0
    assert stats.poll(1770, 1870) is None  # not a minute yet
    clocks.wall, clocks.cpu = 560.0, 34.4
    sample = stats.poll(1800, 1900)  # a minute: 1800 frames shown, 1800 from the camera, 14.4 s of CPU
    assert sample is not None
    assert (sample.shown_fps, sample.camera_fps) == (30.0, 30.0)
    assert sample.cpu_ms_per_frame == pytest.approx(8.0)
    assert [r.getMessage() for r in caplog.records] == [
        "stats: shown 30.0 fps, camera 30.0 fps, CPU 8.0 ms per shown frame"]
    clocks.wall, clocks.cpu = 620.0, 40.4  # the next minute: a slow machine shows half the camera's frames
    slow = stats.poll(2700, 3700)
    assert (slow.shown_fps, slow.camera_fps, slow.cpu_ms_per_frame) == pytest.approx((15.0, 30.0, 6000 / 900))


def test_no_frames_shown_and_no_camera_say_so() -> None:
    clocks = Clocks()
    stats = FrameStats(clock=lambda: clocks.wall, cpu=lambda: clocks.cpu)
    stats.poll(5, None)
    clocks.wall += 61
    sample = stats.poll(5, None)
    assert sample.line() == "stats: shown 0.0 fps, camera ? fps, CPU ? ms per shown frame"


def test_the_stats_setting_and_what_doctor_says_about_it(capsys: pytest.CaptureFixture[str]) -> None:
    from emojify import cli
    from emojify.config import settings_from_args
    from emojify.doctor import run_doctor

    assert settings_from_args(cli.build_parser().parse_args(["run", "--stats"])).stats is True
    assert settings_from_args(cli.build_parser().parse_args(["run"])).stats is False
    lines = []
    run_doctor(None, None, say=lines.append)
    assert any(line.startswith("speed") and "--stats" in line and "CPU" in line for line in lines), lines


def test_a_camera_whose_first_frame_comes_after_the_window_starts_still_gets_its_rate() -> None:
    """The window draws before the camera's first frame (a camera warming up): the minute is counted
    from the first frame, so the first line gives the camera's rate, not "camera ?"."""
    clocks = Clocks()
    stats = FrameStats(clock=lambda: clocks.wall, cpu=lambda: clocks.cpu)
    stats.poll(0, None)  # the window's first frame: no picture from the camera yet
    clocks.wall += 0.5
    assert stats.poll(15, 1) is None  # the camera's first frame starts the minute
    clocks.wall += 60
    clocks.cpu += 1.8
    sample = stats.poll(1815, 1801)
    assert sample.line() == "stats: shown 30.0 fps, camera 30.0 fps, CPU 1.0 ms per shown frame"
