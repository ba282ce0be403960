"""Frame sources: parsing what the user typed, file readers, and a capture thread that survives
a camera being unplugged, failing or stalling."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import CAMERA, FakeCamera, frame_number, wait_until

from emojify.sources import (
    CaptureThread,
    Frame,
    ReaderKind,
    SourceBusy,
    SourceError,
    SourceEvent,
    SourceSpec,
    SourceStatus,
    open_reader,
    parse_source,
    probe_source,
)
from emojify.sources.capture import CAMERA_STALL_SECONDS, backoff_schedule
from emojify.sources.readers import SLIDE_FRAME_FPS
from emojify.texts import message_tips, status_message


def gray_image(value: int, shape: tuple[int, int] = (24, 32)) -> np.ndarray:
    """A BGR image filled with one gray level."""
    return np.full((*shape, 3), value, np.uint8)


# --- parse_source ---------------------------------------------------------------------------


def test_parse_source_recognises_each_kind(tmp_path: Path) -> None:
    image = tmp_path / "Face.JPG"
    cv2.imwrite(str(tmp_path / "face.png"), gray_image(90))
    (tmp_path / "face.png").rename(image)
    video = tmp_path / "clip.avi"
    video.write_bytes(b"not checked until opened")
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), gray_image(10))

    assert parse_source(0) == SourceSpec("camera", 0)
    assert parse_source("2") == SourceSpec("camera", 2)
    assert parse_source("/dev/video3") == SourceSpec("camera", 3)
    assert parse_source(str(image)) == SourceSpec("image", image)
    assert parse_source(str(video)) == SourceSpec("video", video)
    assert parse_source(str(folder)) == SourceSpec("folder", folder)


@pytest.mark.parametrize("name", ["missing.jpg", "nowhere/clip.avi", ""])
def test_parse_source_names_a_missing_source(tmp_path: Path, name: str) -> None:
    spec = str(tmp_path / name) if name else ""
    with pytest.raises(SourceError) as info:
        parse_source(spec)
    assert str(info.value) == f"{spec}: no such camera, file or folder"


def test_parse_source_refuses_a_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no pictures here")
    with pytest.raises(SourceError, match="no images") as info:
        parse_source(str(tmp_path))
    assert str(tmp_path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("source", [100, "100", "99999999999999999999", "/dev/video100"])
def test_a_camera_number_opencv_cannot_open_is_refused_saying_which_are(source: int | str) -> None:
    """OpenCV takes an int, and reads one from 100 up as a backend's number plus a camera's."""
    with pytest.raises(SourceError) as info:
        parse_source(source)
    assert str(info.value).startswith(f"{source}: camera numbers go from 0 to 99 (/dev/video0 to /dev/video99); "
                                      "give the N of the camera's /dev/videoN (v4l2-ctl --list-devices lists them)")
    assert parse_source("99") == parse_source("/dev/video99") == SourceSpec("camera", 99)


def test_a_number_past_the_cameras_says_how_to_name_a_folder_of_that_name() -> None:
    """A folder of a year's photos, 2024/: a number is a camera's, and the error said only that camera
    numbers go from 0 to 99."""
    with pytest.raises(SourceError, match=r"^2024: camera numbers go from 0 to 99 .*, or \./2024 for a file or folder of that name$"):
        parse_source("2024")


def test_a_link_to_a_camera_node_is_that_camera_a_link_to_another_device_is_not(tmp_path: Path) -> None:
    """A /dev/v4l/by-id/ name stays put when cameras are replugged; it links to the camera's /dev/videoN."""
    camera = tmp_path / "usb-Logitech_C270-video-index0"
    camera.symlink_to("/dev/video7")  # need not exist: parsing only reads the link
    chain = tmp_path / "kiosk-camera"
    chain.symlink_to(camera)
    other = tmp_path / "zero"
    other.symlink_to("/dev/zero")
    assert parse_source(str(camera)) == SourceSpec("camera", camera) and str(parse_source(str(camera))) == f"camera {camera}"
    assert parse_source(str(chain)) == SourceSpec("camera", chain)
    for device in (other, "/dev/null"):  # there, but nothing to play in a loop: not 'no such camera, file or folder'
        with pytest.raises(SourceError, match=r": a device or a pipe, not a camera, file or folder; save the video"):
            parse_source(str(device))


def test_a_camera_node_that_does_not_open_says_why_where_the_system_tells(monkeypatch, tmp_path: Path) -> None:
    """Every /dev/videoN that did not open was "in use by another program": also a USB camera's second
    node (its metadata: --source 1 with one webcam), which never gives a picture, and a node the
    kiosk's user may not open, which no waiting mends."""
    from emojify.sources import readers

    (tmp_path / "video1").mkdir()
    (tmp_path / "video1" / "index").write_text("1\n")
    (tmp_path / "video2").mkdir()
    (tmp_path / "video2" / "index").write_text("0\n")
    monkeypatch.setattr(readers, "V4L2_CLASS", tmp_path)
    monkeypatch.setattr(readers.os, "access", lambda path, mode: path != "/dev/video3")
    assert readers.why_shut(1).startswith("a camera's second node, its metadata, not its picture")
    assert readers.why_shut(2) == readers.why_shut(9) == "in use by another program, or no permission"
    assert readers.why_shut(3).startswith("no permission: add this user to the video group")


def test_a_usb_camera_that_is_there_but_does_not_open_is_busy_not_missing(monkeypatch) -> None:
    """Its /dev/videoN there (another program holds it, or the kiosk's user may not use it): the kiosk
    said "No camera found. Check the USB cable"; a camera with no node is still missing."""
    from emojify.sources import readers

    class Shut:  # a cv2.VideoCapture that did not open
        def __init__(self, index: int) -> None:
            self.index = index

        def isOpened(self) -> bool:
            return False

        def release(self) -> None:
            pass

    monkeypatch.setattr(readers.cv2, "VideoCapture", Shut)
    monkeypatch.setattr(readers.os.path, "exists", lambda path: path == "/dev/video3")
    monkeypatch.setattr(readers.os, "access", lambda path, mode: True)  # a node the user may open
    monkeypatch.setattr(readers, "V4L2_CLASS", Path("/nonexistent"))  # nothing said of it: why_shut's test
    with pytest.raises(SourceBusy, match=r"^camera 3: /dev/video3 is there, but does not open \(in use"):
        open_reader(SourceSpec("camera", 3))
    with pytest.raises(OSError, match=r"^camera 4: cannot be opened \(missing or unplugged\)$") as missing:
        open_reader(SourceSpec("camera", 4))
    assert not isinstance(missing.value, SourceBusy)
    from emojify.doctor import camera_report  # doctor, run beside the kiosk that holds the camera, said "not found"

    assert camera_report(3) == "camera 3: /dev/video3 is there, but does not open (in use by another program, or no permission)"
    assert camera_report(4).startswith("camera 4: not found (plug in a USB webcam")
    calls = iter([SourceBusy("held"), OSError("gone")])

    def opener():
        raise next(calls)

    with CaptureThread(CAMERA, opener=opener, max_backoff=0.1) as capture:
        assert wait_until(lambda: capture.event is SourceEvent.BUSY, timeout=3)
        assert status_message(CAMERA, capture.event).startswith("The camera is there but does not open.")
        assert wait_until(lambda: capture.event is SourceEvent.ABSENT, timeout=3)


def test_a_camera_named_by_its_link_is_opened_where_the_link_leads_each_time(tmp_path: Path, monkeypatch) -> None:
    """Replugged, a camera comes back as another /dev/videoN and udev moves its by-id link: the kiosk
    reopened the number the link had at start, the wrong camera or none. Unplugged (the link gone), it
    is waited for as a camera that does not open."""
    from emojify.sources import readers

    opened = []
    monkeypatch.setattr(readers.CameraReader, "__init__", lambda self, index, width=None, height=None: opened.append(index))
    link = tmp_path / "usb-Logitech_C270-video-index0"
    link.symlink_to("/dev/video2")
    spec = parse_source(str(link))
    open_reader(spec)
    link.unlink()
    with pytest.raises(OSError, match="the link leads to no camera now"):
        open_reader(spec)
    link.symlink_to("/dev/video4")
    open_reader(spec)
    assert opened == [2, 4]
    from emojify.sources import spec as spec_module

    monkeypatch.setattr(spec_module, "V4L_LINKS", tmp_path)  # as /dev/v4l/, where udev keeps the links
    not_yet = tmp_path / "by-id" / "usb-Other_Camera-video-index0"  # udev makes it once it is plugged in
    assert parse_source(str(not_yet)) == SourceSpec("camera", not_yet)  # waited for, not "no such camera"
    with pytest.raises(OSError, match="the link leads to no camera now"):
        open_reader(parse_source(str(not_yet)))


def test_the_pictures_in_a_folder_are_one_rule_for_the_slideshow_evaluate_and_training(tmp_path: Path) -> None:
    """Hidden entries are nobody's pictures; a dangling link is the slideshow's to pass over and
    evaluate's and training's to name as unreadable; a sub-folder named like a picture only evaluate's."""
    from emojify.evaluate import labelled_images
    from emojify.imageio import folder_images
    from emojify.training.data import image_files

    happy = tmp_path / "happy"
    happy.mkdir()
    for name in ("b.jpg", "A.PNG", ".c.jpg"):
        cv2.imwrite(str(happy / "x.png"), gray_image(90))
        (happy / "x.png").rename(happy / name)
    (happy / "._b.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble resource fork")
    (happy / "notes.txt").write_text("not a picture")
    (happy / "album.jpg").mkdir()
    os.symlink(tmp_path / "nowhere.jpg", happy / "gone.jpg")

    def names(paths: list[Path]) -> list[str]:
        return [p.name for p in paths]

    assert names(folder_images(happy)) == ["A.PNG", "b.jpg"]
    assert names(folder_images(happy, regular_only=False)) == ["A.PNG", "album.jpg", "b.jpg", "gone.jpg"]
    assert names([p for p, _ in labelled_images(tmp_path)]) == ["A.PNG", "album.jpg", "b.jpg", "gone.jpg"]
    assert names(image_files(happy)) == ["A.PNG", "b.jpg", "gone.jpg"]


@pytest.mark.parametrize("kind", ["camera", "picamera", "video", "image", "folder"])
def test_each_kind_has_its_reader_and_a_sentence_for_every_event(kind: str) -> None:
    spec = SourceSpec(kind, 0 if kind.endswith("camera") else Path("photos/clip.avi"))
    reader = ReaderKind[spec.kind.name].value
    assert isinstance(reader, type) and all(hasattr(reader, name) for name in ("from_spec", "read", "release"))
    events = [event for event in SourceEvent if spec.kind.is_camera or event is not SourceEvent.BUSY]  # only cameras are held
    sentences = [status_message(spec, event) for event in events]
    assert all(sentences) and len(set(sentences)) == len(sentences)
    assert status_message(spec, SourceEvent.BUSY)  # a sentence all the same
    title, tips = message_tips(spec)
    assert title and tips and all(tip.endswith(".") for tip in tips)


def test_a_folder_without_pictures_is_told_to_hold_pictures_a_file_to_be_readable(tmp_path: Path) -> None:
    """A slideshow folder emptied while the kiosk runs: the tip names what is missing, pictures."""
    _, folder_tips = message_tips(SourceSpec("folder", tmp_path / "slides"))
    _, file_tips = message_tips(SourceSpec("video", tmp_path / "clip.avi"))
    assert "folder" in folder_tips[0] and "holds pictures" in folder_tips[0] and str(tmp_path / "slides") in folder_tips[0]
    assert file_tips[0] == f"Check that {tmp_path / 'clip.avi'} is still there and readable."


# --- file readers ---------------------------------------------------------------------------


def test_folder_reader_loops_in_name_order_and_skips_unreadable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name, value in [("b.png", 100), ("a.png", 50), ("c.png", 150)]:
        cv2.imwrite(str(tmp_path / name), gray_image(value))
    (tmp_path / "bb_broken.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    reader = open_reader(parse_source(str(tmp_path)), fps=200)
    try:
        values = [int(reader.read()[0, 0, 0]) for _ in range(7)]
    finally:
        reader.release()
    assert values == [50, 100, 150, 50, 100, 150, 50]
    warnings = [r for r in caplog.records if "bb_broken.jpg" in r.getMessage()]
    assert len(warnings) == 1  # one warning, although the loop passed the file twice


def test_a_folder_of_unreadable_pictures_opened_again_and_again_warns_once_a_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The kiosk reopens such a folder every few seconds for as long as it runs: the log gets one
    line a file, and one more only when the file is replaced (by another broken one)."""
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    for _ in range(3):
        assert open_reader(parse_source(str(tmp_path)), fps=200).read() is None
    os.utime(broken, ns=(1, 1))  # replaced: another modification time
    assert open_reader(parse_source(str(tmp_path)), fps=200).read() is None
    assert len([r for r in caplog.records if "broken.jpg" in r.getMessage()]) == 2


def test_a_folder_none_of_whose_pictures_can_be_read_is_refused_at_start_in_one_line(tmp_path: Path) -> None:
    """Good pictures in a sub-folder or hidden are not shown, so they do not count."""
    (tmp_path / "x.jpg").write_bytes(b"junk bytes, no picture")
    (tmp_path / "y.png").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    cv2.imwrite(str(tmp_path / "sub" / "a.png"), gray_image(90))
    cv2.imwrite(str(tmp_path / ".h.jpg"), gray_image(90))
    with pytest.raises(SourceError) as info:
        probe_source(parse_source(str(tmp_path)))
    assert str(info.value) == (f"{tmp_path}: none of its 2 pictures can be read (x.jpg: not an image "
                               "(unrecognised format)); put pictures that open in the folder itself "
                               "(sub-folders and hidden files are passed over)")


def test_a_folder_with_a_line_break_in_its_name_is_named_once_on_one_line(tmp_path: Path) -> None:
    """The picture's own error names it by its whole path, written with the break escaped: the folder
    was then named twice, as the path was no longer found to be cut to the picture's name."""
    folder = tmp_path / "party\nphotos"
    folder.mkdir()
    (folder / "x.jpg").write_bytes(b"junk bytes, no picture")
    with pytest.raises(SourceError) as info:
        probe_source(parse_source(str(folder)))
    assert str(info.value).startswith(f"{tmp_path}/party\\nphotos: its one picture cannot be read (x.jpg: not an image")


def test_a_folder_of_bad_pictures_checked_again_or_after_reading_is_still_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.jpg").write_bytes(b"junk bytes, no picture")
    reader = open_reader(parse_source(str(tmp_path)), fps=200)
    with pytest.raises(SourceError):
        reader.check()
    assert reader.read() is None
    with pytest.raises(SourceError, match="none of its pictures can be read"):
        reader.check()


def test_probing_a_folder_decodes_its_pictures_only_up_to_the_first_readable_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emojify.sources import readers

    (tmp_path / "a.jpg").write_bytes(b"junk")
    for name in ("b.png", "c.png", "d.png"):
        cv2.imwrite(str(tmp_path / name), gray_image(90))
    decoded, read_image = [], readers.read_image
    monkeypatch.setattr(readers, "read_image", lambda path: decoded.append(path.name) or read_image(path))
    probe_source(parse_source(str(tmp_path)))
    assert decoded == ["a.jpg", "b.png"]


def test_a_checked_folder_shows_the_picture_it_checked_first_and_names_the_ones_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from emojify.sources import readers

    (tmp_path / "a.jpg").write_bytes(b"junk")
    cv2.imwrite(str(tmp_path / "b.png"), gray_image(90))
    cv2.imwrite(str(tmp_path / "c.png"), gray_image(160))
    decoded, read_image = [], readers.read_image
    monkeypatch.setattr(readers, "read_image", lambda path: decoded.append(path.name) or read_image(path))
    reader = open_reader(parse_source(str(tmp_path)), fps=200)
    reader.check()
    assert [r.getMessage() for r in caplog.records if "a.jpg" in r.getMessage()] == [
        f"skipping {tmp_path / 'a.jpg'}: not an image (unrecognised format)"]
    shown = [int(reader.read()[0, 0, 0]) for _ in range(3)]
    assert shown == [90, 160, 90]
    assert decoded == ["a.jpg", "b.png", "c.png", "b.png"]  # b.png decoded once for the check and the show


def test_a_folder_that_empties_while_playing_is_waited_for_and_plays_again(tmp_path: Path) -> None:
    """Only the start insists on a readable picture: the kiosk waits for a folder emptied later."""
    picture = tmp_path / "1.png"
    cv2.imwrite(str(picture), gray_image(40))
    with CaptureThread(parse_source(str(tmp_path)), max_backoff=0.2) as capture:
        assert capture.wait_for_frame(3.0) is not None
        picture.unlink()
        assert wait_until(lambda: capture.status is SourceStatus.LOST, 5.0)
        cv2.imwrite(str(picture), gray_image(80))
        assert wait_until(lambda: capture.status is SourceStatus.LIVE, 5.0)
        frame = capture.latest()
        assert frame is not None and int(frame.image[0, 0, 0]) == 80


def test_a_slideshow_shows_numbered_photos_in_number_order(tmp_path: Path) -> None:
    """A phone's export (photo (1) .. photo (12)) played 1, 10, 11, 12, 2, ...: sorted by characters."""
    for number in (1, 2, 10, 12):
        cv2.imwrite(str(tmp_path / f"Photo ({number}).png"), gray_image(number * 10))
    cv2.imwrite(str(tmp_path / "photo (3).jpg"), gray_image(30))
    reader = open_reader(parse_source(str(tmp_path)), fps=200)
    try:
        values = [int(reader.read()[0, 0, 0]) for _ in range(5)]
    finally:
        reader.release()
    assert values == [10, 20, 30, 100, 120]


def test_folder_reader_gives_colour_frames_even_for_gray_files(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "gray.png"), np.full((10, 12), 77, np.uint8))
    reader = open_reader(parse_source(str(tmp_path)), fps=200)
    frame = reader.read()
    assert frame.shape == (10, 12, 3) and frame.dtype == np.uint8 and frame[0, 0, 0] == 77


def test_image_reader_repeats_the_image_at_a_camera_like_pace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An image at 20 fps is given out every 1/20 s on the readers' clock, like a camera, not as a flood."""
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), gray_image(123))
    clock = FakeClock()
    monkeypatch.setattr("emojify.sources.readers.time", clock)
    reader = open_reader(parse_source(str(path)), fps=20)
    frames, when = [], []
    for _ in range(6):
        frames.append(reader.read())
        when.append(clock.now)
    reader.release()
    assert all(f.shape == (24, 32, 3) and (f == 123).all() for f in frames)
    assert np.diff(when) == pytest.approx([1 / 20] * 5)
    frames[0][:] = 0  # drawing on one frame does not change the next
    assert (reader.read() == 123).all()


class FakeClock:
    """``time.monotonic`` and ``time.sleep`` of the readers' module: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("folder_fps", ["0.2", "0.5", "3", "20"])
def test_folder_fps_sets_how_long_each_picture_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder_fps: str
) -> None:
    """Each picture stays 1/fps s, the pictures in turn; a slow slideshow (0.2: 5 s a picture, the
    help's example) still gives frames at least 10 a second, so the capture thread, which calls a
    source lost after 2 s without a frame (a camera's limit, the file sources' is longer), never does
    (it did, and started again from the first)."""
    from emojify import cli
    from emojify.app import open_source
    from emojify.config import settings_from_args

    for name, value in [("a.png", 50), ("b.png", 100)]:
        cv2.imwrite(str(tmp_path / name), gray_image(value))
    args = cli.build_parser().parse_args(["run", "--source", str(tmp_path), "--folder-fps", folder_fps])
    settings = settings_from_args(args)
    clock = FakeClock()
    monkeypatch.setattr("emojify.sources.readers.time", clock)
    reader = open_source(parse_source(settings.source), settings)
    shown = []
    while clock.now < 1000.0 + 4.5 / float(folder_fps):  # four and a half pictures' time
        value = int(reader.read()[0, 0, 0])
        shown.append((value, clock.now))
    gaps = np.diff([when for _, when in shown])
    assert gaps.max() <= 0.1 + 1e-9
    assert gaps.max() < CAMERA_STALL_SECONDS
    starts = [0] + [i for i in range(1, len(shown)) if shown[i][0] != shown[i - 1][0]]  # a new picture
    assert [shown[i][0] for i in starts[:5]] == [50, 100, 50, 100, 50]
    assert np.diff([shown[i][1] for i in starts[:5]]) == pytest.approx([1 / float(folder_fps)] * 4)


def test_pictures_added_to_a_playing_folder_join_the_next_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder was listed once at start: photos copied in during the event never showed, and one
    caught half-copied was passed over for the rest of the run."""
    cv2.imwrite(str(tmp_path / "a.png"), gray_image(50))
    monkeypatch.setattr("emojify.sources.readers.time", FakeClock())
    reader = open_reader(parse_source(str(tmp_path)), fps=10)  # 10 a second: each read is a picture
    assert int(reader.read()[0, 0, 0]) == 50
    cv2.imwrite(str(tmp_path / "b.png"), gray_image(100))
    (tmp_path / "c.png").write_bytes(cv2.imencode(".png", gray_image(150))[1].tobytes()[:40])  # still copying
    os.utime(tmp_path / "c.png", ns=(2_000_000_000, 2_000_000_000))
    shown = [int(reader.read()[0, 0, 0]) for _ in range(4)]
    assert shown == [50, 100, 50, 100]
    cv2.imwrite(str(tmp_path / "c.png"), gray_image(150))  # the copy is done, within the same time of change
    os.utime(tmp_path / "c.png", ns=(2_000_000_000, 2_000_000_000))  # as a USB stick's FAT (to 2 s) may say
    shown = [int(reader.read()[0, 0, 0]) for _ in range(3)]
    assert shown == [150, 50, 100]  # its turn, after b


def test_a_folder_of_one_picture_that_gains_a_half_copied_one_and_a_whole_one_shows_the_whole_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The round's length was the old list's: with the new bad picture first it gave no frame, and the
    capture thread called the folder lost and opened it again."""
    cv2.imwrite(str(tmp_path / "c.png"), gray_image(150))
    monkeypatch.setattr("emojify.sources.readers.time", FakeClock())
    reader = open_reader(parse_source(str(tmp_path)), fps=10)
    assert int(reader.read()[0, 0, 0]) == 150
    (tmp_path / "a.png").write_bytes(b"\x89PNG half")
    cv2.imwrite(str(tmp_path / "b.png"), gray_image(100))
    assert [int(reader.read()[0, 0, 0]) for _ in range(2)] == [100, 150]


@pytest.mark.parametrize("value", ["0", "-1", "100", "fast", "nan"])
def test_bad_folder_fps_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    from emojify import cli

    cv2.imwrite(str(tmp_path / "a.png"), gray_image(50))
    assert cli.main(["run", "--source", str(tmp_path), f"--folder-fps={value}"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err == f'emojify: error: --folder-fps must be a number between 0.05 and 60 (got "{value}")'


def test_folder_fps_from_a_config_file(tmp_path: Path) -> None:
    from emojify import cli
    from emojify.config import ConfigError, settings_from_args

    config = tmp_path / "kiosk.toml"
    config.write_text("folder-fps = 0.25\n")
    args = cli.build_parser().parse_args(["run", "--config", str(config)])
    assert settings_from_args(args).folder_fps == 0.25
    config.write_text('folder_fps = "slow"\n')
    with pytest.raises(ConfigError, match="'folder_fps' must be a number between 0.05 and 60"):
        settings_from_args(args)


def test_unreadable_image_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n garbage")
    with pytest.raises(SourceError, match="broken.png"):
        open_reader(parse_source(str(path)))


def test_video_reader_loops_past_the_end(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    levels = [0, 60, 120, 180, 240]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 50.0, (32, 24))
    assert writer.isOpened()
    for level in levels:
        writer.write(gray_image(level))
    writer.release()

    reader = open_reader(parse_source(str(path)))
    try:
        frames = [reader.read() for _ in range(13)]
    finally:
        reader.release()
    assert all(f is not None and f.shape == (24, 32, 3) for f in frames)
    seen = [min(levels, key=lambda level: abs(level - float(f.mean()))) for f in frames]
    assert seen == (levels * 3)[:13]


def test_a_damaged_frame_is_passed_over_not_taken_for_the_videos_end(tmp_path: Path) -> None:
    """One bad JPEG in an MJPEG video (the slim executable's one video format): the failed read was
    taken for the end, so the video's first frames played over and over, and the rest never."""
    path = tmp_path / "clip.avi"
    levels = [0, 40, 80, 120, 160, 200, 240]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 50.0, (32, 24))
    for level in levels:
        writer.write(gray_image(level))
    writer.release()
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 2) if data[i:i + 3] == b"\xff\xd8\xff"]  # each frame's JPEG
    data[starts[2] + 2:starts[2] + 200] = bytes(198)  # the third frame's header: it no longer decodes
    path.write_bytes(data)
    reader = open_reader(parse_source(str(path)))
    try:
        frames = [reader.read() for _ in range(13)]
    finally:
        reader.release()
    seen = [min(levels, key=lambda level: abs(level - float(f.mean()))) for f in frames]
    played = [level for level in levels if level != 80]
    assert seen == (played * 3)[:13]


def test_a_one_frame_gif_is_given_as_a_picture_is_not_decoded_100_times_a_second(tmp_path: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenCV plays a still GIF as a video of one frame at 100 fps: each read sought back and decoded it
    again, a whole core of a Pi for one picture."""
    from PIL import Image

    path = tmp_path / "logo.gif"
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(path)
    decoded = []
    real = cv2.VideoCapture

    class Counting:
        def __init__(self, *args):
            self._cap = real(*args)

        def read(self):
            decoded.append(1)
            return self._cap.read()

        def __getattr__(self, name):
            return getattr(self._cap, name)

    monkeypatch.setattr("emojify.sources.readers.cv2.VideoCapture", Counting)
    clock = FakeClock()
    monkeypatch.setattr("emojify.sources.readers.time", clock)
    reader = open_reader(parse_source(str(path)))
    frames = []
    while clock.now < 1000.0 + 2.0:
        frames.append(reader.read())
    frames[0][:] = 77  # drawing on a frame given does not change the next
    reader.release()
    assert len(frames) == pytest.approx(2.0 * SLIDE_FRAME_FPS, abs=2) and decoded == [1]
    assert frames[-1].mean() == 120


@pytest.mark.parametrize("video_fps", [0.25, 2.0])
def test_a_slow_video_s_frame_is_given_again_until_its_time_is_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   video_fps: float) -> None:
    """A video of a frame every 4 s (a GIF slideshow): its reader waited the 4 s, the capture thread
    took the silence for a stall after 2 s and opened it again, so only its first frame was ever
    shown. Each frame is given at least 10 times a second, as a folder's picture is, for its own time."""

    path = tmp_path / "slow.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), video_fps, (32, 24))
    for level in (0, 120, 240):
        writer.write(gray_image(level))
    writer.release()
    clock = FakeClock()
    monkeypatch.setattr("emojify.sources.readers.time", clock)
    reader = open_reader(parse_source(str(path)))
    shown = []
    while clock.now < 1000.0 + 3.5 / video_fps:
        frame = reader.read()
        shown.append((min((0, 120, 240), key=lambda level: abs(level - float(frame.mean()))), clock.now))
    frame[:] = 77  # drawing on a frame given again does not change the next
    assert reader.read().mean() != 77
    reader.release()
    gaps = np.diff([when for _, when in shown])
    assert gaps.max() <= 0.1 + 1e-9 < CAMERA_STALL_SECONDS
    starts = [0] + [i for i in range(1, len(shown)) if shown[i][0] != shown[i - 1][0]]
    assert [shown[i][0] for i in starts] == [0, 120, 240, 0]
    assert np.diff([shown[i][1] for i in starts]) == pytest.approx([1 / video_fps] * 3)


def test_a_file_opencv_cannot_decode_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    spec = parse_source(str(path))
    assert spec.kind == "video"
    with pytest.raises(SourceError, match="notes.txt"):
        open_reader(spec)


def test_without_ffmpeg_a_video_error_says_which_videos_play(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The executable's slim OpenCV has no FFmpeg: an MP4 fails there with a way out, not a riddle."""
    path = tmp_path / "visitors.mp4"
    path.write_bytes(b"\0\0\0\x18ftypmp42" + bytes(64))  # an MP4 header, no frames
    with pytest.raises(SourceError) as with_ffmpeg:
        open_reader(parse_source(str(path)))
    monkeypatch.setattr(cv2.videoio_registry, "hasBackend", lambda api: api != cv2.CAP_FFMPEG)
    with pytest.raises(SourceError) as without:
        open_reader(parse_source(str(path)))
    assert "MJPEG .avi" in str(without.value) and "ffmpeg -i" in str(without.value)
    assert "MJPEG" not in str(with_ffmpeg.value)


# --- capture thread with a scripted fake camera ---------------------------------------------


@pytest.fixture
def camera() -> FakeCamera:
    return FakeCamera()


@pytest.fixture
def capture(camera: FakeCamera) -> Iterator[CaptureThread]:
    thread = CaptureThread(CAMERA, opener=camera.open, stall_seconds=0.5, max_backoff=0.4)
    thread.start()
    yield thread
    thread.stop()


def is_live(capture: CaptureThread) -> Callable[[], bool]:
    return lambda: capture.status is SourceStatus.LIVE


def is_lost(capture: CaptureThread) -> Callable[[], bool]:
    return lambda: capture.status is SourceStatus.LOST


@pytest.mark.parametrize("failure", ["none", "raise", "empty", "stall"])
def test_capture_goes_lost_then_live_again(
    camera: FakeCamera, capture: CaptureThread, failure: str
) -> None:
    assert wait_until(is_live(capture))
    assert status_message(capture.spec, capture.event) == "Camera on."
    before = capture.wait_for_frame(0)
    assert before is not None

    camera.mode = failure
    assert wait_until(is_lost(capture))
    assert capture.wait_for_frame(0) is None
    assert "reconnecting" in status_message(capture.spec, capture.event)

    camera.mode = "frames"
    assert wait_until(is_live(capture), timeout=2.0)
    after = capture.wait_for_frame(1.0)
    assert after is not None and after.seq > before.seq
    assert frame_number(after) > frame_number(before)
    assert capture.reconnects == 1


def test_a_slow_picture_of_a_slideshow_is_waited_for_a_silent_camera_is_reopened(camera: FakeCamera,
                                                                                  monkeypatch) -> None:
    """A large photo of a folder took seconds to decode on a Pi: the capture thread took it for a
    stall, opened the folder again and started it over from its first picture. A camera that goes
    silent as long is still opened again."""
    from emojify.sources import capture as capture_module

    monkeypatch.setattr(capture_module, "CAMERA_STALL_SECONDS", 0.3)  # a picture decoded in 0.6 s
    monkeypatch.setattr(capture_module, "FILE_STALL_SECONDS", 5.0)
    for spec, reopened in ((SourceSpec("folder", Path("photos")), 0), (CAMERA, 1)):
        camera.opened = 0
        with CaptureThread(spec, opener=camera.open) as capture:
            assert capture.stall_seconds == (0.3 if spec.kind.is_camera else 5.0)  # what bench waits by
            since = capture.wait_for_frame(3.0).seq
            camera.mode = "stall"
            time.sleep(0.6)
            camera.mode = "frames"
            assert wait_until(lambda since=since: getattr(capture.wait_for_frame(0), "seq", 0) > since + 5, timeout=3.0)
            assert (camera.opened - 1, capture.reconnects) == (reopened, reopened), spec


def test_latest_is_only_ever_the_newest_frame(camera: FakeCamera) -> None:
    with CaptureThread(CAMERA, opener=camera.open, stall_seconds=5.0) as capture:
        assert capture.wait_for_frame(3.0) is not None
        seen: list[Frame] = []
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            frame = capture.wait_for_frame(0)
            if frame is not None:
                seen.append(frame)
            time.sleep(0.003)
        seqs = [f.seq for f in seen]
        assert seqs == sorted(seqs) and len(set(seqs)) > 5
        numbers = [frame_number(f) for f in seen]
        assert numbers == sorted(numbers)  # never an older frame after a newer one

        camera.mode = "hold"  # the camera pauses; what we hold must be its very last frame
        time.sleep(0.1)
        newest = capture.wait_for_frame(0)
        assert newest is not None and frame_number(newest) == camera.count
        assert newest.seq == max(seqs + [newest.seq])
        assert capture.wait_for_frame(0.2, after=newest.seq) is None  # nothing newer came
        camera.mode = "frames"


def test_frames_of_changing_size_are_passed_on(camera: FakeCamera, capture: CaptureThread) -> None:
    camera.mode = "resize"
    shapes = set()
    last = 0
    deadline = time.monotonic() + 3.0
    while len(shapes) < 2 and time.monotonic() < deadline:
        frame = capture.wait_for_frame(1.0, after=last)
        assert frame is not None
        shapes.add(frame.image.shape)
        last = frame.seq
    assert shapes == {(24, 32, 3), (48, 64, 3)}
    assert capture.status is SourceStatus.LIVE and capture.reconnects == 0


def test_camera_missing_at_start_is_found_once_plugged_in() -> None:
    camera = FakeCamera(plugged=False)
    with CaptureThread(CAMERA, opener=camera.open) as capture:  # default back-off cap 1 s
        assert wait_until(is_lost(capture))
        assert status_message(capture.spec, capture.event) == "No camera found. Check the USB cable; still trying..."
        assert capture.wait_for_frame(0.3) is None
        camera.plugged = True
        frame = capture.wait_for_frame(5.0)  # the back-off's cap (1 s) and more: a guard against a hang only
        assert frame is not None and capture.status is SourceStatus.LIVE
        assert capture.reconnects == 1 and camera.opened == 1


def test_the_back_off_doubles_from_a_tenth_of_a_second_up_to_its_cap() -> None:
    """Reconnection attempts after 0.1, 0.2, 0.4, 0.8 s, then every ``max_backoff`` s: a camera
    plugged back in is reopened at most one cap after it returns, however long it was away."""
    assert list(islice(backoff_schedule(1.0), 7)) == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])
    assert list(islice(backoff_schedule(0.4), 5)) == pytest.approx([0.1, 0.2, 0.4, 0.4, 0.4])
    assert list(islice(backoff_schedule(0.1), 3)) == pytest.approx([0.1, 0.1, 0.1])


class NotedWaits(threading.Event):
    """A capture thread's stop event that notes each wait's timeout (``waits``) and what it returned
    (``woken``: True when stop() woke it). With ``count``, waits return at once and the event is set
    after ``count`` of them; without, they wait as a real event does."""

    def __init__(self, count: int | None = None) -> None:
        super().__init__()
        self.count, self.waits, self.woken = count, [], []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        if self.count is None:
            self.woken.append(super().wait(timeout))
        else:
            if len(self.waits) >= self.count:
                self.set()
            self.woken.append(self.is_set())
        return self.woken[-1]


class OneFrameReader:
    """A reader that gives one frame and then fails."""

    def __init__(self) -> None:
        self.frames = [gray_image(10)]

    def read(self) -> np.ndarray | None:
        return self.frames.pop() if self.frames else None

    def release(self) -> None:
        pass


def test_the_capture_thread_waits_the_back_off_between_attempts_and_starts_it_again_after_frames() -> None:
    """A camera that cannot be opened six times, then gives a frame and fails, then cannot be opened:
    the thread waits the back-off schedule before each attempt (up to the kiosk's 1 s cap), and after
    the frame it starts the schedule again from 0.1 s."""
    opens = iter([False] * 6 + [True])

    def opener() -> OneFrameReader:
        if next(opens, False):
            return OneFrameReader()
        raise OSError("fake camera: no such device")

    capture = CaptureThread(CAMERA, opener=opener)
    capture._stopping = waits = NotedWaits(count=8)
    capture.start()
    assert wait_until(waits.is_set)  # a guard against a hang only: the waits return at once
    capture.stop()
    assert waits.waits == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 0.1, 0.2])
    assert capture.reconnects == 1


def test_stop_is_prompt_and_idempotent_even_while_a_read_blocks(camera: FakeCamera,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """stop() returns while a read still blocks, saying so, and the reader is released once the read
    returns; a read that returns within stop()'s timeout is released before stop() returns."""
    capture = CaptureThread(CAMERA, opener=camera.open, stall_seconds=5.0)
    capture.start()
    assert capture.wait_for_frame(3.0) is not None
    camera.mode = "hold"
    time.sleep(0.1)
    stopping = threading.Thread(target=capture.stop, kwargs={"timeout": 0.05}, daemon=True)
    stopping.start()
    stopping.join(10)  # a guard against a hang only; the read blocks as long as the mode stays "hold"
    assert not stopping.is_alive(), "stop() waited for the blocked read"
    assert camera.released < camera.opened and "a read is still blocking" in caplog.text
    camera.mode = "frames"
    assert wait_until(lambda: camera.released == camera.opened)
    capture.stop()

    camera = FakeCamera()
    capture = CaptureThread(CAMERA, opener=camera.open, stall_seconds=5.0)
    capture.start()
    assert capture.wait_for_frame(3.0) is not None
    camera.mode = "hold"
    time.sleep(0.1)
    threading.Timer(0.1, lambda: setattr(camera, "mode", "frames")).start()  # read unblocks later
    capture.stop(timeout=10.0)  # a guard against a hang only: it returns once the thread has ended
    assert camera.released == camera.opened == 1


def test_stop_is_prompt_while_waiting_to_reconnect() -> None:
    """stop() wakes a thread waiting to reconnect: it ends at once, not when its back-off runs out."""
    camera = FakeCamera(plugged=False)
    capture = CaptureThread(CAMERA, opener=camera.open, max_backoff=5.0)
    capture._stopping = waits = NotedWaits()
    capture.start()
    time.sleep(0.8)  # the back-off is now several hundred ms long
    capture.stop()
    assert not capture._thread.is_alive()
    assert len(waits.woken) >= 3 and waits.woken[-1] and not any(waits.woken[:-1]), waits.woken
    assert capture.wait_for_frame(0.1) is None


def test_capture_thread_plays_a_folder_with_the_default_opener(tmp_path: Path) -> None:
    for name, value in [("1.png", 40), ("2.png", 80)]:
        cv2.imwrite(str(tmp_path / name), gray_image(value))
    with CaptureThread(parse_source(str(tmp_path))) as capture:
        first = capture.wait_for_frame(3.0)
        assert first is not None and int(first.image[0, 0, 0]) == 40
        second = capture.wait_for_frame(3.0, after=first.seq)
        assert second is not None and int(second.image[0, 0, 0]) == 80
        assert status_message(capture.spec, capture.event) == f"Showing {tmp_path.name}."
