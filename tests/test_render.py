"""The kiosk's panel, message and countdown, rendered in-process with Pillow and checked pixel by pixel."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
from helpers import drawn_texts, panel_shape
from PIL import Image, ImageDraw

from emojify import texts
from emojify.challenge import Rules
from emojify.emojis import load_emoji_set
from emojify.faces import region_box
from emojify.labels import CLASSES
from emojify.layout import LARGE_TEXT, min_text
from emojify.pipeline import Face, Result
from emojify.render import (
    ACCENT,
    BACKGROUND,
    ERROR,
    GUIDE,
    HIGHLIGHT,
    HINT_SHRINK,
    PANEL,
    TEXT,
    TRACK,
    CountdownSpot,
    fit,
    font,
    kiosk_layout,
    panel_frame,
    render_attract,
    render_challenge,
    render_feed,
    render_message,
    render_panel,
    row_least,
    wrap,
)
from emojify.screens import challenge_widest, score_rows
from emojify.sources import SourceSpec, parse_source
from emojify.views import AttractView, ChallengeView, PanelView, Row

PANEL_SIZES = [(220, 288), (256, 456), (614, 1036)]
"""The panel at the smallest window (480x300), an 800x480 touchscreen and a 1920x1080 monitor."""
SCREEN_SIZES = [(480, 300), (800, 480), (1920, 1080)]


@pytest.fixture(scope="module")
def emojis():
    return load_emoji_set()


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def matches(array: np.ndarray, colour: tuple[int, int, int], tolerance: int = 2) -> np.ndarray:
    """A boolean mask of the pixels within ``tolerance`` of ``colour``."""
    return (np.abs(array - np.array(colour)) <= tolerance).all(axis=-1)


def winner_view(label: str, percent: int = 80, button: str = "Snapshot", active: bool = True) -> PanelView:
    rest = (100 - percent) // (len(CLASSES) - 1)
    percents = tuple(percent if c == label else rest for c in CLASSES)
    return PanelView(label, percents, texts.expression_name(label), button, active)


def highlighted_rows(image) -> np.ndarray:
    """The y of the pixel rows more than half covered by the winner's highlight."""
    mask = matches(pixels(image), HIGHLIGHT)
    return np.flatnonzero(mask.sum(axis=1) > image.width / 2)


def longest_run(flags: np.ndarray) -> int:
    """The length of the longest run of True in a 1-D array (the filled bar, not the text beside it)."""
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def untouched_border(array: np.ndarray, colour: tuple[int, int, int], margin: int) -> bool:
    """Whether the outer ``margin`` pixels on all four sides are plain ``colour`` (nothing cut off)."""
    inner = np.zeros(array.shape[:2], bool)
    inner[margin:-margin, margin:-margin] = True
    return bool(matches(array, colour, 0)[~inner].all())


@pytest.mark.parametrize("size", PANEL_SIZES)
def test_the_winners_row_is_highlighted_in_order(emojis, size: tuple[int, int]) -> None:
    centres = []
    for label in CLASSES:
        image, _ = render_panel(winner_view(label), size, emojis)
        rows = highlighted_rows(image)
        assert rows.size > 0, f"{label}: no highlighted row"
        assert rows.max() - rows.min() < size[1] / len(CLASSES), f"{label}: more than one row highlighted"
        centres.append(rows.mean())
    assert centres == sorted(centres), "the highlight does not follow the order of the bars"


def test_the_winners_bar_grows_with_its_percentage(emojis) -> None:
    size = PANEL_SIZES[1]
    widths = []
    for percent in (40, 80):
        image, _ = render_panel(winner_view("sad", percent), size, emojis)
        rows = highlighted_rows(image)
        band = pixels(image)[rows.min():rows.max() + 1]
        widths.append(longest_run(matches(band, ACCENT, 8).any(axis=0)))
    assert 1.6 < widths[1] / widths[0] < 2.4, widths


def test_without_a_face_no_row_is_highlighted_and_the_button_is_live(emojis) -> None:
    image, (x0, y0, x1, y1) = render_panel(PanelView(None, None, "No face yet", "Snapshot"), PANEL_SIZES[1], emojis)
    assert highlighted_rows(image).size == 0 and not matches(pixels(image), HIGHLIGHT).any()
    button = pixels(image)[y0:y1, x0:x1]
    assert matches(button, ACCENT).mean() > 0.6, "the active button is not drawn in the accent colour"


@pytest.mark.parametrize("size", PANEL_SIZES)
def test_panel_fits_its_size_with_the_button_inside(emojis, size: tuple[int, int]) -> None:
    image, (x0, y0, x1, y1) = render_panel(winner_view("surprise", 100, "Back to live in 4", active=False),
                                           size, emojis)
    assert image.size == size
    assert 0 < x0 < x1 < size[0] and 0 < y0 < y1 < size[1]
    array = pixels(image)
    assert untouched_border(array, PANEL, 2), "something is drawn up to the panel's edge (cut off)"
    button = array[y0:y1, x0:x1]
    assert matches(button, TRACK).mean() > 0.6 and not matches(button, ACCENT, 8).any(), \
        "an inactive button must be grey"
    assert matches(button, TEXT, 30).any(), "the button has no label"


@pytest.mark.parametrize("size", SCREEN_SIZES)
def test_the_no_camera_message_fits_and_is_centred(size: tuple[int, int]) -> None:
    title, tips = texts.message_tips(parse_source("0"))
    image = render_message(size, title, "No camera found. Check the USB cable; still trying...", tips,
                           "emojify keeps trying and carries on by itself.")
    array = pixels(image)
    assert image.size == size
    drawn = ~matches(array, BACKGROUND, 0)
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    margin = min(size) * 0.03
    assert rows.min() > margin and rows.max() < size[1] - margin, "the message runs off the top or bottom"
    assert cols.min() > margin and cols.max() < size[0] - margin, "the message runs off a side"
    assert abs(rows.min() - (size[1] - 1 - rows.max())) < size[1] * 0.05, "not centred vertically"
    assert abs(cols.min() - (size[0] - 1 - cols.max())) < size[0] * 0.05, "not centred horizontally"
    assert matches(array, ACCENT, 10).any(), "the source's sentence is not shown"


def test_a_folder_whose_name_holds_a_line_break_is_named_on_the_message_screen() -> None:
    """Pillow measures no multi-line text: the folder's name in the status ended the window's drawing."""
    spec = SourceSpec("folder", "/media/usb/summer\nphotos")
    title, tips = texts.message_tips(spec)
    with drawn_texts() as seen:
        render_message((800, 480), title, texts.status_message(spec, "lost"), tips, texts.KEEPS_TRYING)
    assert "Lost summer photos; reopening..." in " ".join(text.text for text in seen)


def test_a_picture_fitted_fills_the_side_that_limits_it() -> None:
    """640x480 into 1307x980 was 1306x979: a strip of background along two sides."""
    for size, into in (((640, 480), (1307, 980)), ((1307, 980), (640, 480)), ((640, 480), (800, 480)), ((480, 640), (800, 480)), ((3, 1), (2, 2))):
        fitted = fit(size, into)
        assert fitted[0] <= into[0] and fitted[1] <= into[1] and (fitted[0] == into[0] or fitted[1] == into[1]), (size, fitted)
        assert abs(fitted[0] / fitted[1] - size[0] / size[1]) < 2 / min(fitted), (size, fitted)


@pytest.mark.parametrize("size", [(480, 800), *SCREEN_SIZES])
def test_a_message_naming_a_long_folder_stays_on_the_screen(size: tuple[int, int]) -> None:
    """A folder's name and path of one long word each (no spaces to break at): broken after its
    slashes and underscores, every line inside the window (it ran off both sides, and the tips with
    it, their bullets cut)."""
    folder = Path("/media/usb/museum_entrance_hall_kiosk_pictures_for_the_summer_exhibition_2026")
    spec = SourceSpec("folder", str(folder))  # as the kiosk keeps it after the folder was taken away
    title, tips = texts.message_tips(spec)
    with drawn_texts() as seen:
        render_message(size, title, texts.status_message(spec, "lost"), tips, texts.KEEPS_TRYING)
    assert any(text.text.startswith("\u2022") for text in seen), "no tip drawn"
    for text in seen:
        x0, _, x1, _ = text.box
        assert x0 >= 0 and x1 <= size[0], f"{text.text!r} runs off the screen: {text.box}"
    shown = "".join(text.text for text in seen)
    assert folder.name in shown.replace("\u2022  ", ""), "the folder's name is not shown whole"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", [(480, 320), (320, 480)])
def test_a_message_naming_a_long_folder_fits_a_small_screen_with_large_text(window, language: str) -> None:
    """A 3.5-inch screen with --large-text: the message for a folder of a 70-letter name, its footer
    already left out, ran 8 px below the screen (French and Spanish, 480x320): the crossed-out
    camera, 19 px high there, goes too, and every line is on the screen, the tips whole."""
    texts.set_language(language)
    spec = SourceSpec("folder", "/media/usb/museum_entrance_hall_kiosk_pictures_for_the_summer_exhibition_2026")
    title, tips = texts.message_tips(spec)
    with drawn_texts() as seen:
        render_message(window, title, texts.status_message(spec, "absent"), tips, texts.KEEPS_TRYING,
                       text_scale=LARGE_TEXT)
    for text in seen:
        x0, y0, x1, y1 = text.box
        assert text.size >= min_text(LARGE_TEXT) and x0 >= 0 and y0 >= 0 and x1 <= window[0] and y1 <= window[1], text
    shown = "".join(text.text for text in seen).replace(" ", "")
    assert all(line.replace(" ", "") in shown for line in (title, *tips)), "a tip is not shown whole"


@pytest.mark.parametrize("word", ["/averyveryverylongfoldernamewithoutseparators/x", "a_bcdefghijklmnopqrstuvwxyzabcdefghijkl",
                                  "/media/usb/museum_entrance_hall_kiosk_pictures_for_the_summer_exhibition_2026"])
def test_a_word_wider_than_a_line_is_cut_into_full_lines_after_its_separators(word: str) -> None:
    """Every piece fits, nothing is lost, and no line is a lone "/" or "a_" (a cut after a separator
    only where it leaves the line at least half full)."""
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    face = font(20)
    lines = wrap(word, 200, face, draw)
    assert "".join(lines) == word and len(lines) > 1
    assert all(200 / 2 < draw.textlength(line, font=face) <= 200 for line in lines[:-1]), lines


def test_a_message_without_detail_or_tips_shows_only_its_title() -> None:
    size = SCREEN_SIZES[1]
    full = pixels(render_message(size, "Starting the camera...", "Camera lost.", ["Check the cable."], "Footer"))
    short = pixels(render_message(size, "Starting the camera...", "", [], ""))
    assert matches(short, ACCENT, 10).sum() < matches(full, ACCENT, 10).sum(), "a sentence is shown without one"
    text = matches(short, TEXT, 40)
    assert text.any(), "no title"
    assert text.sum() < matches(full, TEXT, 40).sum(), "the tips add text"


def face_result(box: tuple[int, int, int, int], label: str | None = "happy") -> Result:
    """A live result for a 640x480 frame: the capture region and one face at ``box`` (camera pixels)."""
    probabilities = np.eye(len(CLASSES), dtype=np.float32)[CLASSES.index("happy")]
    face = Face(box, probabilities, label, 1)
    return Result(region_box((480, 640)), box, probabilities, label, (face,))


@pytest.mark.parametrize("window", [(800, 480), (480, 800), (1280, 720), (1920, 1080)])
@pytest.mark.parametrize("large_text", [False, True])
def test_the_countdown_leaves_the_face_and_its_emoji_in_sight(emojis, window, large_text: bool) -> None:
    """The visitor watches the expression the snapshot is about to take: the countdown's disc stands
    clear of the face's box and its emoji, wherever the face is (in the middle, or to either side
    as they see it), and is still big, at least a quarter of the picture across."""
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 640, 3), 120, np.uint8)
    for box in [(230, 130, 183, 183), (330, 96, 180, 180), (130, 96, 180, 180)]:
        result = face_result(box)
        plain = pixels(render_feed(frame, lay.feed.size, result, emojis, text_scale=lay.text_scale))
        counting = pixels(render_feed(frame, lay.feed.size, result, emojis, countdown=3, text_scale=lay.text_scale))
        unlabelled = pixels(render_feed(frame, lay.feed.size, face_result(box, None), emojis,
                                        text_scale=lay.text_scale))
        disc = np.abs(counting - plain).sum(axis=2) > 30
        emoji = np.abs(plain - unlabelled).sum(axis=2) > 30
        scale = plain.shape[1] / 640
        x0, y0, x1, y1 = ((640 - box[0] - box[2]) * scale, box[1] * scale, (640 - box[0]) * scale,
                          (box[1] + box[3]) * scale)
        assert not disc[int(y0):int(y1) + 1, int(x0):int(x1) + 1].any(), f"{box}: the countdown covers the face"
        assert emoji.any() and not (disc & emoji).any(), f"{box}: the countdown covers the face's emoji"
        rows, cols = np.nonzero(disc)
        assert min(np.ptp(rows), np.ptp(cols)) + 1 >= min(plain.shape[:2]) / 4, f"{box}: the countdown is small"
        assert matches(counting, ACCENT, 4).sum() > 1000, f"{box}: the number is not drawn big in the accent colour"


def pills_painted(monkeypatch) -> list[tuple[str, tuple[int, int, int, int], bool]]:
    """Each pill :mod:`emojify.render` paints from here on, in order: its text (as wrapped), its box and
    whether it is the countdown's disc."""
    from emojify import render

    painted, paint = [], render.paint_pill

    def noting(image, place, face, fill, background, disc=False):
        painted.append((place[0], place[1], disc))
        return paint(image, place, face, fill, background, disc)

    monkeypatch.setattr(render, "paint_pill", noting)
    return painted


@pytest.mark.parametrize("window", [(800, 480), (480, 800), (1280, 720), (1920, 1080), (500, 680)])
def test_the_countdown_keeps_off_the_hint_and_the_banner_where_it_can(emojis, window, monkeypatch) -> None:
    """The disc kept off the pills' texts only: it was drawn over the rounded end of the hint's pill
    (800x480, and every size here, in English) where another place was free."""
    painted = pills_painted(monkeypatch)
    lay = kiosk_layout(window)
    render_feed(np.full((480, 640, 3), 120, np.uint8), lay.feed.size, None, emojis, countdown=3,
                text_scale=lay.text_scale, hint=texts.MAKE_THIS_FACE.format(name=texts.expression_name("disgust")),
                banner=(texts.could_not_save(OSError(errno.ENOSPC, "No space left on device")), ERROR))
    (disc,) = [area for _, area, is_disc in painted if is_disc]
    pills = [area for _, area, is_disc in painted if not is_disc]
    (cx, cy), r = ((disc[0] + disc[2]) / 2, (disc[1] + disc[3]) / 2), (disc[2] - disc[0]) / 2
    assert len(pills) == 2
    for x0, y0, x1, y1 in pills:  # the circle's nearest point of each pill is outside it
        nearest = (min(max(cx, x0), x1), min(max(cy, y0), y1))
        assert np.hypot(nearest[0] - cx, nearest[1] - cy) >= r, f"the countdown {disc} is over the pill {(x0, y0, x1, y1)}"


def test_the_countdown_gives_up_no_pill_to_keep_off_another_pills_edge(emojis, monkeypatch) -> None:
    """Kept off the pills as much as off their texts, the disc took the place over the hint's text
    rather than the one touching only the end of its pill, and the hint was given up (1688x258, large
    text, Spanish): the texts come first, then their pills."""
    painted = pills_painted(monkeypatch)
    texts.set_language("es")
    lay = kiosk_layout((1688, 258), True)
    box, probabilities = (1290, 41, 215, 215), np.full(len(CLASSES), 1 / len(CLASSES), np.float32)
    result = Result(region_box((1080, 1920)), box, probabilities, None, (Face(box, probabilities, None, 1),))
    hint = texts.MAKE_THIS_FACE.format(name=texts.expression_name("neutral"))
    banner = texts.could_not_save(OSError(errno.EACCES, "Permission denied"), stickers=True)
    render_feed(np.zeros((1080, 1920, 3), np.uint8), lay.feed.size, result, emojis, hint=hint, banner=(banner, ERROR),
                countdown=1, text_scale=lay.text_scale)
    shown = [" ".join(text.split()) for text, _, _ in painted]
    assert shown == [hint, banner, "1"], shown


@pytest.mark.parametrize("window", [(800, 480), (480, 800), (1280, 720), (1920, 1080)])
@pytest.mark.parametrize("large_text", [False, True])
def test_the_countdown_stays_in_one_place_and_size_from_3_to_1(emojis, window, large_text: bool) -> None:
    """The disc fitted "1" where "3" did not fit: it jumped corners (800x480, large text) mid-countdown."""
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 640, 3), 120, np.uint8)
    for box in [(230, 130, 183, 183), (330, 96, 180, 180), (130, 96, 180, 180), (200, 40, 240, 240)]:
        result = face_result(box)
        plain = pixels(render_feed(frame, lay.feed.size, result, emojis, text_scale=lay.text_scale))
        places = set()
        for number in (3, 2, 1):
            counting = pixels(render_feed(frame, lay.feed.size, result, emojis, countdown=number,
                                          text_scale=lay.text_scale))
            rows, cols = np.nonzero(np.abs(counting - plain).sum(axis=2) > 30)
            places.add((rows.min(), rows.max(), cols.min(), cols.max()))
        tops, bottoms, lefts, rights = zip(*places, strict=True)
        assert max(np.ptp(edge) for edge in (tops, bottoms, lefts, rights)) <= 3, f"{box}: {sorted(places)}"


@pytest.mark.parametrize("window", [(1280, 800), (800, 480), (600, 1000), (480, 800)])
@pytest.mark.parametrize("large_text", [False, True])
def test_the_countdown_leaves_the_capture_regions_corner_marks_in_sight(emojis, window, large_text: bool) -> None:
    """The corner marks show the visitor where the face must stay while the countdown runs: the disc,
    a third of the picture across in a corner, covered the top-left one at every screen size (the
    region's corners stand a fifth of the picture in). Beside the region between its marks, smaller
    with large text where it must be, it covers no mark and no face, and is a quarter of the picture
    across at least."""
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 640, 3), 120, np.uint8)
    for box in [(230, 130, 183, 183), (330, 96, 180, 180), (130, 96, 180, 180), (200, 40, 240, 240)]:
        result = face_result(box)
        marks = matches(pixels(render_feed(frame, lay.feed.size, Result(result.region, None, None, None), emojis,
                                           text_scale=lay.text_scale)), GUIDE, 0)
        plain = pixels(render_feed(frame, lay.feed.size, result, emojis, text_scale=lay.text_scale))
        counting = pixels(render_feed(frame, lay.feed.size, result, emojis, countdown=3, text_scale=lay.text_scale))
        disc = np.abs(counting - plain).sum(axis=2) > 30
        assert marks.any() and not (disc & marks).any(), f"{box}: the countdown covers a corner mark"
        scale = plain.shape[1] / 640
        x0, y0, x1, y1 = ((640 - box[0] - box[2]) * scale, box[1] * scale, (640 - box[0]) * scale,
                          (box[1] + box[3]) * scale)
        assert not disc[int(y0):int(y1) + 1, int(x0):int(x1) + 1].any(), f"{box}: the countdown covers the face"
        rows, cols = np.nonzero(disc)
        assert min(np.ptp(rows), np.ptp(cols)) + 1 >= min(plain.shape[:2]) / 4, f"{box}: the countdown is small"


def faces_result(boxes: list[tuple[int, int, int, int]]) -> Result:
    """A live party-mode result for a 640x480 frame: the capture region and a face at each box, the first leading."""
    probabilities = np.eye(len(CLASSES), dtype=np.float32)[CLASSES.index("happy")]
    faces = tuple(Face(box, probabilities, "happy", number) for number, box in enumerate(boxes, 1))
    return Result(region_box((480, 640)), boxes[0], probabilities, "happy", faces)


def countdown_pixels(frame: np.ndarray, window: tuple[int, int], result: Result, emojis, text_scale: float,
                     spot: CountdownSpot | None = None) -> np.ndarray:
    """Where the countdown's disc changes the picture (kept at ``spot`` while that stays clear)."""
    plain = pixels(render_feed(frame, window, result, emojis, text_scale=text_scale))
    counting = pixels(render_feed(frame, window, result, emojis, countdown=2, text_scale=text_scale,
                                  countdown_spot=spot))
    return np.abs(counting - plain).sum(axis=2) > 30


def test_the_countdown_leaves_the_middle_as_soon_as_another_place_will_do() -> None:
    """The middle, over the capture region, is the last resort for a crowd all round: once they leave,
    the disc goes back to a corner rather than stay where the next face will be."""
    from emojify.render import countdown_place

    (w, h), diameter, margin = (533, 400), 120, 9
    crowd = [(0, 0, 180, h), (w - 180, 0, w, h), (0, 0, w, 130), (0, h - 130, w, h)]
    middle = countdown_place((w, h), diameter, margin, crowd, [])
    assert middle == (w / 2, h / 2)
    one_face = [(380, 120, 480, 220)]
    assert countdown_place((w, h), diameter, margin, one_face, [], stay=middle) == \
        countdown_place((w, h), diameter, margin, one_face, []) != middle


@pytest.mark.parametrize(("window", "large_text"), [((800, 480), True), ((1280, 800), False), ((480, 800), True)])
def test_the_countdown_stays_where_it_stands_while_that_place_is_clear(emojis, window, large_text: bool) -> None:
    """A visitor crossing the picture during the countdown: the disc moves out of their way, and stays
    there when they reach the middle, where it hopped back to the first free side; it moves again only
    when they come into it."""
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 640, 3), 120, np.uint8)
    spot, sides = CountdownSpot(), []
    for x in (130, 370, 250, 130):  # the face on the picture's right, left, in the middle, right again (mirrored)
        disc = countdown_pixels(frame, lay.feed.size, faces_result([(x, 100, 150, 150)]), emojis, lay.text_scale, spot)
        sides.append("right" if np.nonzero(disc)[1].mean() > disc.shape[1] / 2 else "left")
    fresh = countdown_pixels(frame, lay.feed.size, faces_result([(250, 100, 150, 150)]), emojis, lay.text_scale)
    assert sides == ["left", "right", "right", "left"], sides
    assert np.nonzero(fresh)[1].mean() < fresh.shape[1] / 2  # a new countdown takes the first free side


@pytest.mark.parametrize(("window", "large_text"), [((800, 480), True), ((1280, 800), False), ((480, 800), True)])
def test_the_countdown_keeps_one_size_while_the_visitors_move(emojis, window, large_text: bool) -> None:
    """Two visitors drifting across the picture during the countdown: the disc may move, but it keeps
    its size (a disc shrunk to the largest that fitted pulsed from frame to frame)."""
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 640, 3), 120, np.uint8)
    sides = set()
    for x in range(140, 340, 20):
        disc = countdown_pixels(frame, lay.feed.size, faces_result([(x, 110, 150, 150), (x - 120, 250, 100, 100)]),
                                emojis, lay.text_scale)
        sides.add(int(np.ptp(np.nonzero(disc)[1])))
    assert max(sides) - min(sides) <= 2, sorted(sides)


@pytest.mark.parametrize("window", [(800, 480), (1280, 800), (480, 800)])
def test_the_countdown_leaves_every_faces_emoji_in_sight(emojis, window) -> None:
    """Party mode: the disc keeps clear of the other visitors' boxes and emoji too, not only the
    leading face's (it stood over the emoji of a face at the picture's lower left)."""
    lay = kiosk_layout(window, False)
    frame = np.full((480, 640, 3), 120, np.uint8)
    boxes = [(20, 20, 130, 130), (490, 330, 130, 130)]
    both = pixels(render_feed(frame, lay.feed.size, faces_result(boxes), emojis, text_scale=lay.text_scale))
    lead = pixels(render_feed(frame, lay.feed.size, faces_result(boxes[:1]), emojis, text_scale=lay.text_scale))
    other = np.abs(both - lead).sum(axis=2) > 30
    disc = countdown_pixels(frame, lay.feed.size, faces_result(boxes), emojis, lay.text_scale)
    assert other.any() and disc.any() and not (disc & other).any(), "the countdown covers the other face or its emoji"


@pytest.mark.parametrize("window", [(800, 480), (480, 800), (1280, 720)])
def test_the_countdown_number_stands_in_a_disc(emojis, window) -> None:
    """As round as a coin at every screen size: as wide as high, its top and bottom rows short."""
    lay = kiosk_layout(window, False)
    frame = np.full((480, 640, 3), 255, np.uint8)
    dark = pixels(render_feed(frame, lay.feed.size, None, emojis, countdown=3, text_scale=lay.text_scale))[:, :, 2] < 120
    rows, cols = np.nonzero(dark)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert abs(width - height) <= 2, (width, height)
    assert dark[rows.min()].sum() < width / 3 and dark[rows.max()].sum() < width / 3, "flat at the top or bottom"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", [(800, 480), (480, 800), (1024, 600), (1280, 720), (1920, 1080), (3840, 2160)])
@pytest.mark.parametrize("large_text", [False, True])
def test_the_hint_leaves_the_capture_regions_corner_marks_in_sight(emojis, window, large_text: bool,
                                                                   language: str) -> None:
    """The corner marks show the visitor where to put the face: every pixel of them stays as drawn
    under the hint (the one shown without a face and the challenge game's longest), also with a
    capture region too large for the hint to fit below it (``--region 0.9``)."""
    texts.set_language(language)
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 640, 3), 120, np.uint8)
    challenge = max((texts.MAKE_THIS_FACE.format(name=texts.expression_name(c)) for c in CLASSES), key=len)
    for fraction in (0.6, 0.9):
        result = Result(region_box(frame.shape, fraction), None, None, None)
        marks = matches(pixels(render_feed(frame, lay.feed.size, result, emojis, text_scale=lay.text_scale)), GUIDE, 0)
        assert marks.any(), "no corner marks drawn"
        for hint in (texts.HINT, challenge):
            with drawn_texts() as seen:
                hinted = pixels(render_feed(frame, lay.feed.size, result, emojis, hint=hint, text_scale=lay.text_scale))
            assert matches(hinted, GUIDE, 0)[marks].all(), f"{fraction}: {hint!r} covers the corner marks"
            assert min(t.size for t in seen) >= min_text(lay.text_scale), "the hint is drawn too small to read"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("rows_cols", [(640, 480), (480, 480)], ids=["portrait-photo", "square-photo"])
def test_a_narrow_pictures_hint_stays_at_the_bottom_in_few_lines(emojis, language: str, rows_cols) -> None:
    """A portrait photo on a portrait screen leaves no room below the marks and little between them:
    the hint goes across the picture's bottom in at most three lines, not squeezed between the marks
    into five over the middle of the picture."""
    texts.set_language(language)
    lay = kiosk_layout((480, 800), True)
    frame = np.full((*rows_cols, 3), 120, np.uint8)
    hint = max((texts.MAKE_THIS_FACE.format(name=texts.expression_name(c)) for c in CLASSES), key=len)
    result = Result(region_box(frame.shape, 0.6), None, None, None)
    with drawn_texts() as seen:
        image = render_feed(frame, lay.feed.size, result, emojis, hint=hint, text_scale=lay.text_scale)
    (drawn,) = [t for t in seen if t.text.replace("\n", " ") == hint]
    top, bottom = drawn.box[1], drawn.box[3]
    assert bottom - top < 3.8 * drawn.size, f"{hint!r} takes more than three lines"
    assert top > image.height * 0.6, f"{hint!r} reaches up into the picture"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", [(1280, 800), (1920, 1080)])
def test_a_portrait_pictures_hint_keeps_most_of_its_large_text(emojis, window, language: str) -> None:
    """A portrait photo with a large region on a large screen with large text: where no smaller font
    clears the marks either, the hint keeps at least ``HINT_SHRINK`` of its size (shrinking down to
    the smallest text size made it 18 pixels instead of 44, undoing ``--large-text``)."""
    texts.set_language(language)
    lay = kiosk_layout(window, True)
    frame = np.full((1920, 1080, 3), 120, np.uint8)
    result = Result(region_box(frame.shape, 0.9), None, None, None)
    for hint in (texts.HINT, *(texts.MAKE_THIS_FACE.format(name=texts.expression_name(c)) for c in CLASSES)):
        with drawn_texts() as seen:
            render_feed(frame, lay.feed.size, result, emojis, hint=hint, text_scale=lay.text_scale)
        with drawn_texts() as unmarked:
            render_feed(frame, lay.feed.size, None, emojis, hint=hint, text_scale=lay.text_scale)
        assert min(t.size for t in seen) >= HINT_SHRINK * min(t.size for t in unmarked) - 1, hint


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", [(800, 480), (1024, 600), (1280, 800), (1920, 1080)])
@pytest.mark.parametrize("large_text", [False, True])
def test_a_square_pictures_hint_keeps_clear_of_the_lower_corner_marks(emojis, window, large_text: bool,
                                                                      language: str) -> None:
    """A square picture (a photo as the source) on a landscape screen: the German challenge hint in
    large text at 800x480 went across it on two lines, over the lower corner marks. A smaller font
    (never below the smallest text size, nor under ``HINT_SHRINK`` of the hint's size without
    marks) fits every hint below the marks or between them."""
    texts.set_language(language)
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 480, 3), 120, np.uint8)
    hints = (texts.HINT, *(texts.MAKE_THIS_FACE.format(name=texts.expression_name(c)) for c in CLASSES))
    for fraction in (0.6, 0.9):
        result = Result(region_box(frame.shape, fraction), None, None, None)
        marks = matches(pixels(render_feed(frame, lay.feed.size, result, emojis, text_scale=lay.text_scale)), GUIDE, 0)
        assert marks.any(), "no corner marks drawn"
        for hint in hints:
            with drawn_texts() as seen:
                hinted = pixels(render_feed(frame, lay.feed.size, result, emojis, hint=hint, text_scale=lay.text_scale))
            with drawn_texts() as unmarked:
                render_feed(frame, lay.feed.size, None, emojis, hint=hint, text_scale=lay.text_scale)
            assert matches(hinted, GUIDE, 0)[marks].all(), f"{fraction}: {hint!r} covers the corner marks"
            size = min(t.size for t in seen)
            assert size >= max(min_text(lay.text_scale), HINT_SHRINK * min(t.size for t in unmarked) - 1), \
                f"{hint!r} is drawn too small to read"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", [(320, 320), (480, 320), (320, 480), (800, 480)])
@pytest.mark.parametrize("large_text", [False, True])
def test_the_challenge_hint_leaves_the_face_in_sight_with_its_words_whole(emojis, window, large_text: bool,
                                                                          language: str) -> None:
    """At 320x320 with large text in French the picture is 125x94: the game's hint stood over the
    face on five lines, "expression" cut into "expres" and "sion". The visitor sees the face they
    make (the hint goes below it, covering a quarter of it at most, or under the picture where the
    window leaves room there), every word of a hint on the picture drawn whole, and the hint where it
    was as the face moves (placed by the face, it jumped and blinked as the face moved a pixel). It
    gives way only where neither will do (320x480 with large text: the panel shows the target)."""
    texts.set_language(language)
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 640, 3), 120, np.uint8)
    pw, ph = fit((640, 480), lay.feed.size)  # the picture: a strip under it makes the image taller
    for target in CLASSES:
        hint = texts.MAKE_THIS_FACE.format(name=texts.expression_name(target))
        shown = set()
        for box in [(230, 130, 183, 183), (330, 96, 180, 180), (250, 40, 150, 150), (231, 131, 183, 183)]:
            with drawn_texts() as seen:
                render_feed(frame, lay.feed.size, face_result(box), emojis, hint=hint, text_scale=lay.text_scale)
            sx, sy = pw / 640, ph / 480
            face = ((640 - box[0] - box[2]) * sx, box[1] * sy, (640 - box[0]) * sx, (box[1] + box[3]) * sy)
            for text in seen:
                x0, y0, x1, y1 = text.box
                over = max(0, min(x1, face[2]) - max(x0, face[0])) * max(0, min(y1, face[3]) - max(y0, face[1]))
                assert over <= 0.25 * (face[2] - face[0]) * (face[3] - face[1]), f"{box}: {text!r} covers the face {face}"
                assert y0 >= ph or text.text.replace("\n", " ") == hint, f"{text.text!r}: a word is cut"
            shown.add(tuple((text.text, text.box) for text in seen))
            assert seen or (window, large_text) == ((320, 480), True), f"{box}: {hint!r} is not shown"
        assert len(shown) == 1, f"{hint!r} moves with the face: {shown}"


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_a_small_pictures_hint_stands_in_a_strip_under_it(emojis, language: str) -> None:
    """At 320x320 with large text the picture is 125x94 (French) in an area 308 px high: the game's
    hint found no place on it a third of its height at most and was not drawn, and the no-face hint
    covered most of it. Every hint goes in a strip under the picture, in full, in plain text as wide as
    the picture, every word whole that fits there at the smallest size (German "Angewidert" and Spanish
    "Sorprendido" do not, beside 98 and 90 px: they are cut with a hyphen); the picture keeps its size
    and place (the image is as tall) with the game's hint, the no-face hint, no hint and as a still."""
    texts.set_language(language)
    lay = kiosk_layout((320, 320), large_text=True)
    frame = np.full((480, 640, 3), 120, np.uint8)
    dw, dh = fit((640, 480), lay.feed.size)
    floor = font(min_text(lay.text_scale), bold=True)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    box = (230, 130, 183, 183)
    plain = render_feed(frame, lay.feed.size, face_result(box), emojis, text_scale=lay.text_scale)
    assert plain.width == dw and dh < plain.height <= lay.feed.h, f"{plain.size}: no strip under the {dw}x{dh} picture"
    for hint, result in [*((texts.MAKE_THIS_FACE.format(name=texts.expression_name(target)), face_result(box))
                           for target in CLASSES), (texts.HINT, face_result(box, None)),
                         (texts.HINT_NO_FRAME, face_result(box, None))]:
        with drawn_texts() as seen:
            image = render_feed(frame, lay.feed.size, result, emojis, hint=hint, text_scale=lay.text_scale)
        assert image.size == plain.size, f"{hint!r}: the picture jumps ({image.size}, {plain.size} without it)"
        if result.label is not None:
            assert (pixels(image)[:dh] == pixels(plain)[:dh]).all(), f"{hint!r} is drawn over the picture"
        lines = [text for text in seen if text.text != "?"]
        assert lines and all(text.box[1] >= dh and text.box[3] <= image.height for text in lines), \
            f"{hint!r} is not in the strip under the picture: {[(t.text, t.box) for t in lines]}"
        assert all(text.box[0] >= 0 and text.box[2] <= dw for text in lines), f"{hint!r} leaves the strip"
        assert all(text.size >= min_text(lay.text_scale) and text.colour == TEXT for text in lines)
        assert all(wcag_contrast(TEXT, back) >= 4.5 for text in lines for back in text.backgrounds)
        drawn = "".join(text.text.removesuffix("-") for text in lines)
        assert drawn.replace(" ", "") == hint.replace(" ", ""), f"{hint!r} is not all drawn"
        words = {word for text in lines for word in text.text.split(" ")}
        for word in hint.split(" "):
            if measure.textlength(word, font=floor) <= dw:
                assert word in words, f"{word!r} of {hint!r} is cut: {[text.text for text in lines]}"
    still = render_feed(frame, lay.feed.size, face_result(box), emojis, live=False, text_scale=lay.text_scale)
    assert still.size == plain.size, f"the snapshot's picture jumps: {still.size} against {plain.size} live"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", [(800, 480), (1280, 720)])
@pytest.mark.parametrize("large_text", [False, True])
def test_a_large_pictures_hint_stays_on_it(emojis, window, large_text: bool, language: str) -> None:
    """From 800x480 up every hint finds a place on the picture: the image is the picture alone, with
    any hint, live or still."""
    texts.set_language(language)
    lay = kiosk_layout(window, large_text)
    frame = np.full((480, 640, 3), 120, np.uint8)
    box = (230, 130, 183, 183)
    for hint, result, live in [(texts.MAKE_THIS_FACE.format(name=texts.expression_name("disgust")), face_result(box),
                                True), (texts.HINT, face_result(box, None), True), (None, face_result(box), True),
                               (None, face_result(box), False)]:
        image = render_feed(frame, lay.feed.size, result, emojis, live=live, hint=hint, text_scale=lay.text_scale)
        assert image.size == fit((640, 480), lay.feed.size), (hint, live, image.size)


def test_a_word_cut_where_the_line_is_full_is_marked_with_a_hyphen() -> None:
    """A word that fits no line whole, even at the smallest size, is cut with a hyphen at each break
    ("expres-", "sion"), not left to read as two words, a sentence's last word too ("gespeichert...",
    German for saving the photo, at 340x320 with large text); a path is cut without one (a hyphen
    would read as part of a name)."""
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    face = font(18, bold=True)
    lines = wrap("Faites cette expression", 70, face, draw)
    assert len(lines) > 3 and all(line.endswith("-") for line in lines[2:-1]), lines
    assert "".join(line.removesuffix("-") for line in lines[2:]) == "expression", lines
    assert all(draw.textlength(line, font=face) <= 70 for line in lines), lines
    assert "-" not in "".join(wrap("/averyveryverylongfoldernamewithoutseparators", 200, font(20), draw))
    # a sentence's last word too, with at least two letters carried over: "gespeich" and "ert..." read as two words
    saving = wrap("Foto wird gespeichert...", 70, face, draw)[2:]
    assert len(saving) > 1 and all(line.endswith("-") for line in saving[:-1]), saving
    assert "".join(line.removesuffix("-") for line in saving) == "gespeichert..." and len(saving[-1].strip(".")) >= 2


@pytest.mark.parametrize("rows_cols", [(40, 4000), (4000, 20), (1, 3000), (3000, 1), (2, 2)])
def test_a_picture_a_few_pixels_high_or_wide_is_drawn_with_its_overlays(emojis, rows_cols) -> None:
    """A panorama of 100:1 fitted into the window is a few pixels high: the overlays that do not fit
    are left out (drawing them raised, and the window showed its failure screen for good)."""
    frame = np.full((*rows_cols, 3), 120, np.uint8)
    banner = (texts.could_not_save(OSError(errno.ENOSPC, "No space left on device")), ERROR)
    for live in (True, False):
        image = render_feed(frame, (660, 540), None, emojis, live=live, hint=texts.HINT, banner=banner,
                            countdown=3 if live else None)
        assert 0 < image.width <= 660 and 0 < image.height <= 540


def test_a_banner_leaves_the_face_and_its_emoji_alone(emojis) -> None:
    """A snapshot's "saved" or "could not save" banner goes below the faces (they stand in the upper
    half of a kiosk's picture): the face's box and emoji badge are drawn as without it; with a hint at
    the bottom, the banner goes to the top."""
    frame = np.full((480, 640, 3), 120, np.uint8)
    probabilities = np.eye(len(CLASSES), dtype=np.float32)[CLASSES.index("happy")]
    face = Face((260, 40, 120, 120), probabilities, "happy", 1)
    result = Result((0, 0, 640, 480), face.box, probabilities, "happy", (face,))
    plain = pixels(render_feed(frame, (640, 480), result, emojis, live=False))
    saved = pixels(render_feed(frame, (640, 480), result, emojis, live=False, banner=("Snapshot saved", (40, 140, 70))))
    changed = np.abs(saved - plain).sum(axis=2) > 30
    assert changed.any() and not changed[:240].any(), "the banner covers the upper half, where the face is"
    hinted = pixels(render_feed(frame, (640, 480), result, emojis, hint="Hold your face in the frame",
                                banner=("Snapshot saved", (40, 140, 70))))
    assert (np.abs(hinted - pixels(render_feed(frame, (640, 480), result, emojis, hint="Hold your face in the frame")))
            .sum(axis=2) > 30)[:120].any(), "with a hint below, the banner is at the top"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("large_text", [False, True])
def test_a_long_banner_stays_inside_the_stills_white_frame(emojis, language: str, large_text: bool) -> None:
    """A "could not save" banner wrapped into several lines on a small screen (800x480) stands
    clear of the edge: the still's white frame stays whole, with picture between it and the pill."""
    texts.set_language(language)
    lay = kiosk_layout((800, 480), large_text)
    frame = np.zeros((480, 640, 3), np.uint8)
    banner = (texts.could_not_save(OSError(errno.EACCES, "Permission denied")), ERROR)
    with drawn_texts() as seen:
        still = pixels(render_feed(frame, lay.feed.size, None, emojis, live=False, banner=banner,
                                   text_scale=lay.text_scale))
    (pill,) = seen
    assert pill.box[3] - pill.box[1] > 1.5 * pill.size, "the test needs a banner of more than one line"
    border = max(4, round(min(still.shape[:2]) * 0.018))
    assert untouched_border(still, (255, 255, 255), border), "the banner covers the still's white frame"
    below_frame = still[-2 * border:-border, border:-border]
    assert matches(below_frame, (0, 0, 0), 0).all(), "the banner touches the still's white frame"


def test_the_overlays_are_drawn_on_the_picture_and_never_on_the_camera_frame(emojis) -> None:
    # The picture is drawn on an array of its own (no copy into Pillow): the frame the worker and
    # the snapshot still share must stay as the camera gave it, at either side of the screen's size.
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, :320] = (255, 0, 0)  # blue on the camera's left (BGR)
    for size in ((640, 480), (1280, 960), (320, 240)):
        before = frame.copy()
        picture = pixels(render_feed(frame, size, None, emojis, countdown=3))
        assert np.array_equal(frame, before), f"{size}: the camera frame was drawn on"
        w = picture.shape[1]
        assert (np.abs(picture[5, w - 5] - (0, 0, 255)) <= 2).all(), f"{size}: not mirrored blue on the right"
        assert (picture[5, 5] <= 2).all(), f"{size}: the left is not black"
        assert matches(picture, ACCENT, 4).sum() > 100, f"{size}: the countdown is not drawn"


# --- every screen at every size: legible, fitting, and with enough contrast ------------------

LEGIBLE_WINDOWS = [(320, 320), (340, 320), (320, 332), (480, 320), (320, 480), (800, 480), (480, 800), (1280, 720),
                   (720, 1280), (1920, 1080), (3840, 2160)]
"""From the smallest window (and a window barely wider or taller) and a 3.5-inch touchscreen, either
way round, up to a 4K monitor."""


def wcag_contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours: (L1 + 0.05) / (L2 + 0.05) of their relative luminance."""
    def luminance(colour: tuple[int, int, int]) -> float:
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in colour]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def every_screen(window: tuple[int, int], large_text: bool, emojis,
                 buttons: dict | None = None) -> list[tuple[str, tuple[int, int], list]]:
    """Every screen's parts rendered for ``window``: (what, image size, the texts drawn); each panel's
    button box goes into ``buttons`` by what, where given."""
    lay = kiosk_layout(window, large_text)
    scale = lay.text_scale
    drawn = []

    def record(what: str, render, *args, **kwargs) -> None:
        with drawn_texts() as seen:
            image = render(*args, text_scale=scale, **kwargs)
        if isinstance(image, tuple):
            image, button = image
            if buttons is not None:
                buttons[what] = button
        drawn.append((what, image.size, seen))

    frame = np.full((480, 640, 3), 200, np.uint8)
    camera = parse_source("0")
    playing = ChallengeView("surprise", texts.expression_name("surprise"), (
        Row(texts.TIME, 0.6, texts.SECONDS.format(seconds=5)), Row(texts.HOLD, 0.4, strong=True),
        Row(texts.TARGET_OF.format(number=5, total=5)), Row(texts.SCORE.format(score=1000)),
        Row(texts.BEST_TODAY.format(score=1000))), texts.PLAYING, False, widest=challenge_widest(Rules()))
    lines = (Row(texts.MATCHED_OF.format(matched=5, total=5)), Row(texts.NEW_BEST))
    over = ChallengeView(None, texts.SCORE.format(score=1000), lines, texts.PLAY_AGAIN, True, good=True,
                         widest=challenge_widest(Rules())[:2] + lines)
    record("live panel", render_panel, winner_view("surprise", 100, texts.SNAPSHOT_BUTTON), lay.panel.size, emojis)
    record("no-face panel", render_panel, PanelView(None, None, texts.NO_FACE_FOUND, texts.PLAY), lay.panel.size, emojis)
    record("waiting panel", render_panel, PanelView(None, None, texts.NO_FACE_YET, texts.GET_READY, False), lay.panel.size,
           emojis)
    record("result panel", render_panel, winner_view("disgust", 100, texts.back_to_live(60), False),
           lay.panel.size, emojis)
    record("challenge panel", render_challenge, playing, lay.panel.size, emojis)
    record("matched panel", render_challenge, ChallengeView("happy", texts.MATCHED.format(points=200), playing.rows[2:],
                                                            texts.PLAYING, False, good=True, widest=playing.widest),
           lay.panel.size, emojis)
    record("score panel", render_challenge, over, lay.panel.size, emojis)
    record("feed", render_feed, frame, lay.feed.size, None, emojis,
           hint=texts.MAKE_THIS_FACE.format(name=texts.expression_name("disgust")),
           banner=(texts.could_not_save(OSError(errno.ENOSPC, "No space left on device")), ERROR), countdown=3)
    title, tips = texts.message_tips(camera, pi_camera=True)
    record("message", render_message, window, title, texts.status_message(camera, "absent"), tips, texts.KEEPS_TRYING)
    pi_camera = SourceSpec("picamera", 0)
    title, tips = texts.message_tips(pi_camera)
    record("picamera message", render_message, window, title, texts.status_message(pi_camera, "stalled"), tips,
           texts.KEEPS_TRYING)
    record("attract", render_attract, window, AttractView("happy", texts.ATTRACT_TITLE, (texts.ATTRACT_LINE, texts.ATTRACT_PLAY),
                                                          (texts.NOTICE, texts.NOTICE_SAVED)), emojis)
    return drawn


def overlapping(a, b) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def assert_legible(what: str, size: tuple[int, int], seen: list, smallest: int) -> None:
    """Every text of a screen's part at ``smallest`` px or more, inside the part, and clear of the others."""
    w, h = size
    for text in seen:
        x0, y0, x1, y1 = text.box
        assert text.size >= smallest, f"{what}: {text.text!r} drawn at {text.size} px, below {smallest}"
        assert x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h, f"{what}: {text.text!r} cut off at {text.box}"
    for i, a in enumerate(seen):
        for b in seen[i + 1:]:
            assert not overlapping(a.box, b.box), f"{what}: {a.text!r} overlaps {b.text!r}"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", LEGIBLE_WINDOWS)
@pytest.mark.parametrize("large_text", [False, True])
def test_every_text_is_legible_and_fits_at_every_window_size(emojis, window, large_text: bool, language: str) -> None:
    texts.set_language(language)
    smallest = min_text(kiosk_layout(window, large_text).text_scale)
    for what, size, seen in every_screen(window, large_text, emojis):
        assert seen, f"{what}: no text drawn"
        assert_legible(what, size, seen, smallest)
        if "challenge" in what or "score" in what or "matched" in what:  # a figure alone on a wrapped line's end
            assert not [t.text for t in seen if t.text.isdigit()], (what, [t.text for t in seen])


SMALL_WINDOWS = [(320, 320), (480, 320), (320, 480), (320, 360), (320, 400), (560, 360), (900, 320)]
"""A 3.5-inch screen either way round, and small windows beside it, landscape and portrait."""


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", SMALL_WINDOWS)
@pytest.mark.parametrize("large_text", [False, True])
def test_every_panel_is_legible_on_a_small_screen(emojis, window, large_text: bool, language: str) -> None:
    """A 3.5-inch screen (480x320, either way round): the seven rows got less height than their smallest
    text ('Traurig' over 'Überrascht'), and on the narrow panel the names ran into the percentages
    ('Überrascht' into '100%'); below a portrait picture, the rows ran into each other with large text
    (320x400) and the score's lines past the panel's edge ('Nouveau record du jour !'). The panel is
    measured for its texts: the big emoji gives way, the picture above it gives way, the emoji beside
    the rows narrows or goes above them; no text leaves its part of the panel."""
    texts.set_language(language)
    smallest = min_text(kiosk_layout(window, large_text).text_scale)
    buttons: dict = {}
    panels = [screen for screen in every_screen(window, large_text, emojis, buttons) if "panel" in screen[0]]
    assert len(panels) == len(KIOSK_PANELS) + 3  # and the challenge's playing, matched and score panels
    for what, size, seen in panels:
        assert len(seen) >= 4, what  # the title, the rows, the button
        assert_legible(what, size, seen, smallest)
        x0, y0, x1, y1 = buttons[what]
        for text in seen:
            on_button = text.box[1] >= y0 - 1
            inside = x0 <= text.box[0] and text.box[2] <= x1 and text.box[3] <= y1
            assert inside if on_button else text.box[3] <= y0 + 1, f"{what}: {text.text!r} runs into the button"
        if what == "no-face panel":  # the longest title, on lines of whole words ('encontró' was cut in three)
            pieces = [word for text in seen if text.text in texts.NO_FACE_FOUND for word in text.text.split()]
            assert set(pieces) <= set(texts.NO_FACE_FOUND.split()), pieces


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("large_text", [False, True])
def test_the_smallest_windows_picture_gives_way_only_to_its_own_languages_rows(emojis, large_text: bool,
                                                                            language: str) -> None:
    """A 320x320 window with large text: the panel beside the picture was as wide in every language as
    the longest language's rows ("Sorprendido  100%"), 216 px, so the English and French picture was
    86x64 where their own rows left room for about 130x97. The panel is as wide as the language shown
    needs, half the window where that is more: its longest name and "100%" with a gap and its margins
    (the rows' texts inside and apart at every size, the sweep over :data:`LEGIBLE_WINDOWS` checks)."""
    texts.set_language(language)
    lay = kiosk_layout((320, 320), large_text)
    before = (86, 64) if large_text else (134, 100)  # in every language
    picture = min(lay.feed.w, lay.feed.h * 4 / 3), min(lay.feed.h, lay.feed.w * 3 / 4)
    assert picture >= before, "no picture is smaller than it was"
    if large_text and language in ("en", "fr"):
        assert picture[0] * picture[1] >= 1.6 * before[0] * before[1], picture
    names, values = [], []
    for label in CLASSES:  # each expression's name and "100%" as the winner's row draws them, in bold
        with drawn_texts() as seen:
            render_panel(winner_view(label, 100, texts.SNAPSHOT_BUTTON), lay.panel.size, emojis, text_scale=lay.text_scale)
        winner = [t for t in seen if t.colour == ACCENT]
        assert [t.text for t in winner] == [texts.expression_name(label), "100%"]
        names.append(winner[0].box)
        values.append(winner[1].box)
    margin = lay.panel.w - max(box[2] for box in values)  # "100%" stands at the right margin
    rows = max(box[2] - box[0] for box in names) + max(box[2] - box[0] for box in values)
    # a gap between them, and a pixel or two where a letter's ink is narrower than its advance
    assert lay.panel.w <= max(320 // 2, rows + min_text(lay.text_scale) + 2 * margin), (lay.panel.w, rows, margin)


@pytest.mark.parametrize(("window", "large_text"), [((480, 320), False), ((480, 320), True), ((560, 360), False),
                                                   ((560, 360), True), ((320, 480), True)])
def test_the_big_emoji_gives_way_only_as_far_as_the_rows_need(emojis, window, large_text: bool) -> None:
    """Where the big emoji gives way for the rows, the rows get no more than a row of spare height:
    with large text on a 560x360 window the emoji was 48 px where 78 left the rows room enough."""
    lay = kiosk_layout(window, large_text)
    rows = tuple(Row(texts.expression_name(label), 1.0, "100%", label) for label in CLASSES)
    frame = panel_frame(lay.panel.size, lay.text_scale, (texts.expression_name("surprise"),), texts.SNAPSHOT_BUTTON, rows)
    w, h = lay.panel.size
    assert frame.body[0] == frame.head[0], "the test needs a panel that stacks its parts"
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    row_h, _ = row_least(probe, rows, frame.floor)
    spare = frame.body[3] - frame.body[1] - len(rows) * row_h
    emoji = frame.head[3] - frame.head[1] - frame.pad * 0.5 - frame.title_px * 1.3
    assert spare >= 0, "the rows get less than their smallest text"
    assert emoji >= min(w - 2 * frame.pad, h * 0.3 / lay.text_scale) - 1 or spare < row_h, (emoji, spare)


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize(("window", "large_text"), [((320, 480), True), ((900, 320), False), ((320, 360), False),
                                                   ((640, 360), True), ((800, 480), True)])
def test_the_panel_keeps_its_shape_as_the_expression_and_the_figures_change(emojis, window, large_text: bool,
                                                                             language: str) -> None:
    """The panel was measured for the title it showed: beside the rows for 'Happy', above them for
    'Surprise' (320x480 with large text), so the rows jumped 98 px as the visitor's face changed; the
    challenge's rows moved as its seconds went from 10 to 9, and its score's lines grew under a target's
    outcome; the result's moved as its button counted down, and when 'No face found' replaced '...'."""
    texts.set_language(language)
    lay = kiosk_layout(window, large_text)

    def where(render, view, heights: bool = True) -> np.ndarray:  # the button, and the rows' places and sizes
        return panel_shape(render, view, lay.panel.size, emojis, lay.text_scale, names, heights)

    def moved(shapes: list[np.ndarray]) -> float:  # a bold name's box is a pixel off a regular one's
        return max(np.abs(shape - shapes[0]).max() for shape in shapes)

    score_rows = (Row(texts.TARGET_OF.format(number=2, total=5)), Row(texts.SCORE.format(score=200)),
                  Row(texts.BEST_TODAY.format(score=400)))
    names = {texts.expression_name(label) for label in CLASSES} | {row.name for row in score_rows}
    live = [where(render_panel, winner_view(label, percent)) for label in CLASSES for percent in (100, 40)]
    assert moved(live) <= 2, "the live panel changes shape"
    result = [where(render_panel, winner_view(label, 100, texts.back_to_live(n), False)) for label in CLASSES
              for n in (10, 9)]
    result += [where(render_panel, PanelView(None, None, title, texts.back_to_live(9), False))
               for title in (texts.WORKING, texts.NO_FACE_FOUND)]  # the still being read, and none found in it
    assert moved(result) <= 2, "the result panel changes shape"
    playing = [where(render_challenge, ChallengeView(label, texts.expression_name(label), (
        Row(texts.TIME, 0.6, texts.SECONDS.format(seconds=seconds)), Row(texts.HOLD, 0.4), *score_rows),
        texts.PLAYING, False)) for label in CLASSES for seconds in (10, 9)]
    assert moved(playing) <= 2, "the challenge panel changes shape"
    # a target's outcome: no bars, the score's lines in the first slots, as large and as far left (the
    # panel measured with the bars, as the game's screens give it)
    played = (Row(texts.TIME, 0.6, texts.SECONDS.format(seconds=5)), Row(texts.HOLD, 0.4), *score_rows)
    score = [where(render_challenge, ChallengeView("happy", title, score_rows, texts.PLAYING, False, good=True,
                                                   widest=played), False)
             for title in (texts.MATCHED.format(points=200), texts.MISSED)]
    score += [where(render_challenge, ChallengeView("happy", texts.expression_name("happy"), played, texts.PLAYING,
                                                    False), False)]
    assert moved(score) <= 2, "the score's lines change under a target's outcome"


@pytest.mark.parametrize(("language", "window"), [("fr", (400, 320)), ("de", (480, 480)), ("es", (1280, 480))])
def test_the_challenge_rows_keep_their_place_when_a_figure_reaches_four_digits(emojis, language: str, window) -> None:
    """A day's best of 1000 (every target matched at once) wrapped "Record du jour 1000" onto a second
    line (fr, 400x320 with large text), or shrank every row's text by 2-3 px (de, es): the panel was
    measured for 1000, its rows were not, so every row moved."""
    texts.set_language(language)
    lay = kiosk_layout(window, True)

    def shape(score: int, best: int) -> list:
        rows = (Row(texts.TIME, 0.5, texts.SECONDS.format(seconds=4)), Row(texts.HOLD, 0.5),
                *score_rows(5, 5, score, best))
        view = ChallengeView("fear", texts.expression_name("fear"), rows, texts.PLAYING, False,
                             widest=challenge_widest(Rules()))
        with drawn_texts() as seen:
            render_challenge(view, lay.panel.size, emojis, text_scale=lay.text_scale)
        names = [t for t in seen if texts.TIME in t.text or texts.HOLD in t.text]  # the rows above the score's
        return [(t.text, t.box[0], round((t.box[1] + t.box[3]) / 2), t.size) for t in names]

    assert shape(995, 995) == shape(1000, 1000) == shape(0, 1000) == shape(0, 0)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_challenge_bars_show_their_fractions_in_a_small_window(emojis, language: str) -> None:
    """At 320x320 with large text the time and hold bars had no room beside "Tenez la pose" and "10 s":
    they were not drawn, so the visitor could not see how long was left to hold the face (fr), or they
    were a few pixels long (en). They go behind the rows' texts instead, filled as far as their fractions."""
    texts.set_language(language)
    lay = kiosk_layout((320, 320), True)

    def panel(time: float, hold: float) -> tuple[np.ndarray, list]:
        rows = (Row(texts.TIME, time, texts.SECONDS.format(seconds=4)), Row(texts.HOLD, hold, strong=True),
                *score_rows(2, 5, 200, 0))
        view = ChallengeView("sad", texts.expression_name("sad"), rows, texts.PLAYING, False,
                             widest=challenge_widest(Rules()))
        with drawn_texts() as seen:
            image, _ = render_challenge(view, lay.panel.size, emojis, text_scale=lay.text_scale)
        return pixels(image), seen

    for name, less, more in ((texts.TIME, (0.25, 0.5), (0.75, 0.5)), (texts.HOLD, (0.5, 0.25), (0.5, 0.75))):
        (before, seen), (after, _) = panel(*less), panel(*more)
        top, bottom = (round(v) for v in next(t.box for t in seen if t.text == name)[1::2])
        grown = np.flatnonzero((before[top:bottom] != after[top:bottom]).any(axis=(0, 2)))  # the columns filled since
        assert grown.size and grown[-1] - grown[0] >= 0.3 * lay.panel.w, f"{name}: {grown}"


def test_a_strong_row_on_several_lines_is_highlighted_behind_all(emojis) -> None:
    """A highlighted row of only a name, too long for a narrow panel, takes two lines or more: the
    highlight was drawn behind its first line only."""
    texts.set_language("fr")
    rows = (Row(texts.MATCHED_OF.format(matched=5, total=5)), Row(texts.NEW_BEST, strong=True))
    with drawn_texts() as seen:
        render_challenge(ChallengeView("happy", texts.SCORE.format(score=1000), rows, texts.PLAY_AGAIN),
                         (160, 308), emojis, LARGE_TEXT)
    lines = [t for t in seen if t.text in texts.NEW_BEST and t.text != texts.NEW_BEST]
    assert len(lines) >= 2, [t.text for t in seen]
    assert [t.backgrounds for t in lines] == [(HIGHLIGHT,)] * len(lines)


def test_a_title_on_three_lines_stays_above_the_rows(emojis) -> None:
    """A narrow panel with large text (160x308, the side panel of a 320x320 window when it took half):
    'No se encontró ninguna cara' takes three lines, which ran into the first row's name."""
    texts.set_language("es")
    with drawn_texts() as seen:
        render_panel(PanelView(None, None, texts.NO_FACE_FOUND, texts.PLAY), (160, 308), emojis, LARGE_TEXT)
    title = [t for t in seen if t.text in texts.NO_FACE_FOUND]
    assert len(title) == 3
    first_row = next(t for t in seen if t.text == texts.expression_name(CLASSES[0]))
    assert max(t.box[3] for t in title) <= first_row.box[1] + 1


KIOSK_PANELS = ("live panel", "no-face panel", "waiting panel", "result panel")
"""The panels beside the live picture and the snapshot (not the challenge game's)."""


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", [(480, 320), (320, 480), (340, 320)])
@pytest.mark.parametrize("large_text", [False, True])
def test_the_picture_and_the_full_window_screens_keep_what_matters_on_a_small_screen(emojis, window, large_text: bool,
                                                                                     language: str) -> None:
    """A 3.5-inch screen (480x320, either way round): on the picture (222x166 beside the panel) the
    countdown's disc stood over the "could not save" banner, and with large text over the hint, the
    banner over the hint too; with large text the "no camera" message ran off the screen, its title
    18 px over the top and its footer 35 px below the bottom. The hint gives way to the banner and
    both to the countdown; the message's lines stand closer, and its footer (emojify keeps trying,
    as its sentence says) goes where even that is too tall, its title and every tip shown whole (at
    340x320 with large text a German tip went where each line as tall as its letters was room enough). (That
    every text stays legible, inside and apart, the sweep over :data:`LEGIBLE_WINDOWS` checks.)"""
    assert window in LEGIBLE_WINDOWS
    texts.set_language(language)
    screens = {what: (size, seen) for what, size, seen in every_screen(window, large_text, emojis)
               if what in ("feed", "message", "picamera message")}
    assert "3" in [text.text for text in screens["feed"][1]], "the countdown is not drawn"
    for what, spec in (("message", parse_source("0")), ("picamera message", SourceSpec("picamera", 0))):
        title, tips = texts.message_tips(spec, pi_camera=spec.kind.value == "camera")
        shown = "".join(text.text for text in screens[what][1]).replace(" ", "")
        for line in (title, *tips):
            assert line.replace(" ", "") in shown, f"{what}: {line!r} is not shown whole"


@pytest.mark.parametrize("language", texts.LANGUAGES)
@pytest.mark.parametrize("window", [(480, 320), (320, 480), (800, 480), (320, 320)])
def test_the_buttons_text_stays_on_the_button_with_large_text_on_a_small_screen(emojis, window, language) -> None:
    """A 3.5-inch screen with --large-text: "Zurück zum Live-Bild in 60" ran 15 px past both ends of
    the button (the smallest large size is still too wide); it takes two lines there, inside it."""
    texts.set_language(language)
    lay = kiosk_layout(window, True)
    with drawn_texts() as seen:
        _, (x0, y0, x1, y1) = render_panel(winner_view("disgust", 100, texts.back_to_live(60), False), lay.panel.size,
                                           emojis, text_scale=lay.text_scale)
    on_button = [t for t in seen if t.box[1] >= y0 - 1]
    assert " ".join(t.text for t in on_button) == texts.back_to_live(60)
    for text in on_button:
        assert text.size >= min_text(lay.text_scale)
        assert x0 <= text.box[0] and text.box[2] <= x1 and y0 <= text.box[1] and text.box[3] <= y1, (text, (x0, y0, x1, y1))


@pytest.mark.parametrize("window", [(800, 480), (480, 800), (1920, 1080)])
def test_large_text_draws_the_texts_larger(emojis, window) -> None:
    """No text below the larger floor, and every screen's texts larger on average (the picture and
    the panel share the window, so a long title may not grow by the full factor)."""
    floor = min_text(LARGE_TEXT)
    normal = every_screen(window, False, emojis)
    large = every_screen(window, True, emojis)
    for (what, _, plain), (_, _, big) in zip(normal, large, strict=True):
        assert min(t.size for t in big) >= floor > min_text(), what
        sizes = [np.mean([t.size for t in drawn if t.text != "?"]) for drawn in (plain, big)]
        assert sizes[1] >= 1.05 * sizes[0], f"{what}: texts on average {sizes[0]:.1f} px, large {sizes[1]:.1f} px"


def test_every_text_has_a_contrast_of_at_least_4_5_to_1(emojis) -> None:
    """WCAG AA for normal text; a pill over the picture counts over black and over white."""
    pairs = {}
    for window in [(800, 480), (480, 800)]:
        for what, _, seen in every_screen(window, False, emojis):
            for text in seen:
                for background in text.backgrounds:
                    pairs[(text.colour, background)] = f"{what}: {text.text!r}"
    assert len(pairs) >= 8, "not every colour pair was seen"
    weak = {where: round(wcag_contrast(*pair), 2) for pair, where in pairs.items() if wcag_contrast(*pair) < 4.5}
    assert not weak, f"texts below 4.5:1: {weak}"


def test_the_contrast_formula_matches_wcag() -> None:
    assert wcag_contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert wcag_contrast((119, 119, 119), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)  # WCAG's #777 example


def test_the_panel_is_drawn_again_only_when_it_would_look_different():
    from emojify.views import PanelView, panel_differs

    shown = PanelView("happy", (80, 5, 5, 4, 3, 2, 1), "Happy", "Snapshot")
    assert not panel_differs(shown, PanelView("happy", (79, 6, 5, 4, 3, 2, 1), "Happy", "Snapshot"))
    assert panel_differs(shown, PanelView("happy", (78, 7, 5, 4, 3, 2, 1), "Happy", "Snapshot"))
    assert panel_differs(shown, PanelView("happy", (80, 5, 5, 4, 3, 2, 1), "Happy", "Back to live in 3"))
    assert panel_differs(shown, PanelView(None, None, "No face yet", "Snapshot"))
    assert panel_differs(None, shown) and not panel_differs(shown, shown)


def test_rgb_over_shares_the_array_and_reads_as_rgbx() -> None:
    """The feed's picture is drawn straight on its array: drawing shows in the array, and the image
    reads as Pillow's own RGBX image of the same array does (so the screen shows the same pixels)."""
    from emojify.render import rgb_over

    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (30, 40, 4), np.uint8)
    image = rgb_over(array)
    assert image.mode == "RGB" and image.size == (40, 30)
    reference = Image.frombuffer("RGBX", (40, 30), array.copy(), "raw", "RGBX", 0, 1).convert("RGB")
    assert np.array_equal(np.asarray(image), np.asarray(reference))
    ImageDraw.Draw(image).rectangle((5, 5, 9, 9), fill=(255, 0, 0))
    assert (array[5:10, 5:10, :3] == (255, 0, 0)).all()
    assert (array[20:, 20:, :3] == np.asarray(reference)[20:, 20:]).all()  # elsewhere untouched
