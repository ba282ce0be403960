"""Snapshot composites in both styles: ``side`` (the emoji beside the photo) and ``mask`` (every face
covered by its emoji, sized to the face and turned with it), the ``--snapshot-style`` setting, and a
mask snapshot taken by the kiosk in a real window."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import (
    ASTRONAUT_FACE,
    FER_ROOT,
    REPO,
    WINDOW,
    Kiosk,
    astronaut_frame,
    emoji_yellow,
    run_cli,
    stderr_lines,
)
from PIL import Image

from emojify.composite import MASK_SCALE, compose
from emojify.emojis import EmojiSet, load_emoji_set
from emojify.faces import BlazeFaceDetector
from emojify.generated import FEATURE, with_generated
from emojify.labels import CLASSES
from emojify.pipeline import Face, Pipeline, Result

FACES_AT = (((150, 140), 170), ((380, 170), 110))
"""Where :func:`two_faces` pastes the astronaut's head: (x, y) and side, both in the capture region."""


@pytest.fixture(scope="module")
def pipeline(classifier) -> Pipeline:
    return Pipeline(classifier, BlazeFaceDetector())


@pytest.fixture(scope="module")
def emojis() -> EmojiSet:
    return load_emoji_set()


def bar_emojis() -> EmojiSet:
    """An emoji set whose every "emoji" is a wide green bar, so a pasted mask shows which way it is turned."""
    bar = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    bar.paste((0, 255, 0, 255), (0, 75, 200, 125))
    return EmojiSet(Path("bars"), {label: bar for label in CLASSES})


def changed(before: np.ndarray, after: Image.Image, threshold: int = 40) -> np.ndarray:
    """Where the composite differs from the BGR photo by more than ``threshold`` levels in a channel."""
    rgb = np.asarray(after.convert("RGB"), np.int16)
    return (np.abs(rgb - before[:, :, ::-1].astype(np.int16)) > threshold).any(axis=-1)


def orientation(mask: np.ndarray) -> float:
    """Degrees the long axis of ``mask``'s pixels is turned clockwise (as seen) from horizontal."""
    moments = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    return math.degrees(0.5 * math.atan2(2 * moments["mu11"], moments["mu20"] - moments["mu02"]))


def eye_line(features: np.ndarray) -> float:
    """Degrees the line from the left to the right eye of a drawn face is turned clockwise (as seen):
    the eyes are its two round blobs of ``features`` (brows and lips are long)."""
    count, blobs, _, centres = cv2.connectedComponentsWithStats(features.astype(np.uint8))
    eyes = []
    for index in range(1, count):
        moments = cv2.moments((blobs == index).astype(np.uint8), binaryImage=True)
        spread = np.linalg.eigvalsh(np.array([[moments["mu20"], moments["mu11"]], [moments["mu11"], moments["mu02"]]]))
        if moments["m00"] >= 20 and spread[1] < 4 * spread[0]:
            eyes.append(centres[index])
    assert len(eyes) == 2, eyes
    (x0, y0), (x1, y1) = sorted(eyes, key=lambda centre: centre[0])
    return math.degrees(math.atan2(y1 - y0, x1 - x0))


def inner(box, share: float = 0.6) -> tuple[slice, slice]:
    """The middle ``share`` of a box (x, y, w, h) as array slices."""
    x, y, w, h = box
    mx, my = round(w * (1 - share) / 2), round(h * (1 - share) / 2)
    return slice(y + my, y + h - my), slice(x + mx, x + w - mx)


def emoji_centre_colour(emojis: EmojiSet, label: str) -> np.ndarray:
    """The mean RGB of the middle of an emoji."""
    pixels = np.asarray(emojis.images[label].convert("RGB"), np.float64)
    rows, cols = pixels.shape[:2]
    return pixels[rows // 5:rows - rows // 5, cols // 5:cols - cols // 5].reshape(-1, 3).mean(axis=0)


def two_faces(astronaut: np.ndarray) -> np.ndarray:
    """A 640x480 frame with the astronaut's head twice, large and small, on a blurred background."""
    x, y, w, h = ASTRONAUT_FACE
    head = astronaut[y - 30:y + h + 30, x - 25:x + w + 25]
    frame = cv2.GaussianBlur(np.random.default_rng(1).integers(40, 200, (480, 640, 3), dtype=np.uint8), (0, 0), 5)
    for (px, py), side in FACES_AT:
        frame[py:py + side, px:px + side] = cv2.resize(head, (side, side), interpolation=cv2.INTER_AREA)
    return frame


def turned(image: np.ndarray, degrees: float, centre: tuple[float, float]) -> np.ndarray:
    """``image`` turned ``degrees`` clockwise as seen, about ``centre``."""
    matrix = cv2.getRotationMatrix2D(centre, -degrees, 1.0)
    return cv2.warpAffine(image, matrix, image.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


# --- the mask style --------------------------------------------------------------------------

def test_a_mask_covers_the_astronauts_face_with_its_emoji(pipeline, emojis, astronaut):
    result = pipeline.analyze(astronaut, use_region=False, all_faces=True)
    assert result.faces and result.label is not None
    masked = compose(astronaut, result, emojis, "mask")
    side = compose(astronaut, result, emojis)
    assert masked.size == (512, 512) and side.width > 512  # the mask style keeps the photo's own size
    middle = inner(result.box)
    gone = changed(astronaut, masked)
    assert gone[middle].mean() > 0.9, "the face's own pixels are still there"
    shown = np.asarray(masked.convert("RGB"), np.float64)[middle].reshape(-1, 3).mean(axis=0)
    photo = astronaut[middle][:, :, ::-1].reshape(-1, 3).mean(axis=0)
    assert np.abs(shown - emoji_centre_colour(emojis, result.label)).max() < 40, (shown, result.label)
    assert np.abs(shown - photo).max() > 40
    assert not gone[:, :60].any() and not gone[-60:].any(), "the mask spills far beyond the face"


def test_a_face_turned_30_degrees_gets_a_mask_turned_with_it(pipeline, astronaut):
    x, y, w, h = ASTRONAUT_FACE
    photo = turned(astronaut, 30, (x + w / 2, y + h / 2))
    result = pipeline.analyze(photo, use_region=False, all_faces=True)
    assert result.faces, "the turned face is not found"
    roll = result.faces[0].roll
    assert 20 < roll < 40, roll
    bar = changed(photo, compose(photo, result, bar_emojis(), "mask"))
    assert abs(orientation(bar) - roll) < 3, (orientation(bar), roll)


def test_a_generated_mask_is_turned_with_the_face_once(pipeline, astronaut):
    """The generated emoji turns its own features by the face's roll: the mask must not turn it again
    (it did: a face turned 30 degrees got its emoji's eyes turned about 60)."""
    emojis = with_generated(load_emoji_set())
    x, y, w, h = ASTRONAUT_FACE
    for degrees in (-30, 30):
        photo = turned(astronaut, degrees, (x + w / 2, y + h / 2))
        result = pipeline.analyze(photo, use_region=False, all_faces=True)
        face = result.faces[0]
        assert face.shape is not None and 20 < abs(face.roll) < 40, face
        masked = np.asarray(compose(photo, result, emojis, "mask").convert("RGB"), np.int16)
        rows, cols = np.mgrid[:masked.shape[0], :masked.shape[1]]
        bx, by, bw, bh = face.box
        disc = np.hypot(cols - (bx + bw / 2), rows - (by + bh / 2)) < 0.45 * MASK_SCALE * max(bw, bh)
        features = (np.abs(masked - FEATURE).max(axis=-1) < 30) & disc  # eyes, brows, lips
        assert abs(eye_line(features) - face.roll) < 5, (eye_line(features), face.roll)


def test_masks_follow_the_roll_they_are_given_and_skip_faces_without_a_label():
    frame = np.full((400, 400, 3), 128, np.uint8)
    for roll in (0.0, -30.0, 30.0):
        face = Face((140, 140, 120, 120), np.full(7, 1 / 7), "happy", roll=roll)
        bar = changed(frame, compose(frame, Result(None, face.box, face.probabilities, "happy", (face,)),
                                     bar_emojis(), "mask"))
        assert abs(orientation(bar) - roll) < 2, (orientation(bar), roll)
    unlabelled = Face((140, 140, 120, 120), None, None)
    plain = compose(frame, Result(None, None, None, None, (unlabelled,)), bar_emojis(), "mask")
    assert not changed(frame, plain).any()


def test_two_faces_get_two_masks(pipeline, emojis, astronaut):
    frame = two_faces(astronaut)
    result = pipeline.analyze(frame, use_region=False, all_faces=True)
    assert len(result.faces) == 2, [f.box for f in result.faces]
    gone = changed(frame, compose(frame, result, emojis, "mask"))
    for (px, py), side in FACES_AT:  # the middle of each pasted head: its face
        assert gone[inner((px, py, side, side), 0.4)].mean() > 0.9, (px, py)
    largest_only = pipeline.analyze(frame, use_region=False)
    one = changed(frame, compose(frame, largest_only, emojis, "mask"))
    (px, py), side = FACES_AT[1]
    assert one[inner((px, py, side, side), 0.4)].mean() < 0.1, "a result of one face masks one face"


def test_a_saved_snapshots_percentage_is_the_panels(emojis, astronaut, monkeypatch):
    """94.6% happy with the rest spread: the panel shows 94 (so that its bars add up to 100), the saved
    picture said 95."""
    from PIL import ImageDraw

    from emojify.screens import panel_view

    drawn = []
    text = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text",
                        lambda self, xy, caption, *args, **kwargs: drawn.append(caption) or text(self, xy, caption,
                                                                                                   *args, **kwargs))
    probabilities = np.array([0.009, 0.009, 0.009, 0.946, 0.009, 0.009, 0.009], np.float32)
    result = Result(None, (200, 80, 120, 120), probabilities, "happy", ())
    compose(astronaut, result, emojis)
    shown = panel_view(result, "", "").percents[CLASSES.index("happy")]
    assert drawn == [f"Happy {shown}%"] and shown == 94


@pytest.mark.parametrize("language", ["de", "fr"])
def test_a_saved_snapshots_label_has_every_letter_of_its_language(emojis, astronaut, monkeypatch, language):
    """German and French names (Wütend, Ängstlich, Dégoûté...) drawn with glyphs, not the font's empty
    boxes for letters it lacks."""
    from PIL import ImageDraw

    from emojify import texts

    drawn = []
    text = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text",
                        lambda self, xy, caption, *args, **kwargs: drawn.append((caption, kwargs["font"]))
                        or text(self, xy, caption, *args, **kwargs))
    texts.set_language(language)
    try:
        for label in CLASSES:
            probabilities = np.eye(len(CLASSES), dtype=np.float32)[CLASSES.index(label)]
            compose(astronaut, Result(None, (200, 80, 120, 120), probabilities, label, ()), emojis)
    finally:
        texts.set_language("en")
    letters = {(letter, font) for caption, font in drawn for letter in caption if not letter.isascii()}
    assert letters, "no name with a letter beyond ASCII was drawn"

    def drawn_alone(letter, font):
        image = Image.new("L", (2 * font.size, 2 * font.size))
        text(ImageDraw.Draw(image), (0, 0), letter, fill=255, font=font)
        return image.tobytes()

    for letter, font in letters:
        assert drawn_alone(letter, font) != drawn_alone("\U0010ffff", font), f"{letter!r} drawn as a box"


@pytest.mark.parametrize("height", [160, 480])
@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_a_saved_snapshot_without_a_face_says_so_inside_its_white_column(emojis, language, height):
    """ "No se encontró ninguna cara" is wider than the column at the label's size: it is drawn
    smaller, on two lines, all of it on white beside the photo (it ran over the photo, cut)."""
    from emojify import texts

    texts.set_language(language)
    try:
        photo = np.full((height, height * 4 // 3, 3), 90, np.uint8)
        picture = np.asarray(compose(photo, Result(None, None, None, None), emojis))
    finally:
        texts.set_language("en")
    assert (picture[:, :photo.shape[1]] == 90).all(), "the caption runs over the photo"
    column = picture[:, photo.shape[1]:]
    ink = np.flatnonzero((column < 128).all(axis=2).any(axis=0))
    assert len(ink) and ink.min() > 0 and ink.max() < column.shape[1] - 1, "the caption is cut at the column's edge"


def test_a_face_at_the_photos_edge_is_boxed_inside_the_photo_not_across_the_emojis_column(emojis):
    """The detector's box of a face cut by the photo's edge reaches beyond it: its right side was drawn
    in the white column beside the photo, through the emoji's."""
    happy = np.eye(len(CLASSES), dtype=np.float32)[CLASSES.index("happy")]
    for box in ((560, 100, 120, 120), (520, 100, 120, 120)):  # beyond the edge; its last column the photo's last
        face = Face(box, happy, "happy")
        picture = np.asarray(compose(np.full((480, 640, 3), 90, np.uint8), Result(None, box, happy, "happy", (face,)),
                                     emojis)).astype(int)
        green = (picture[..., 1] > 200) & (picture[..., 0] < 100)
        assert green[:, :640].any() and not green[:, 640:].any(), box
        if box[0] + box[2] == 640:  # its right side drawn, 3 pixels wide (640 // 200), on the photo's last
            assert green[150, 637:640].all() and not green[150, 630:637].any(), "the right side is not at the edge"


def test_a_party_snapshot_saved_side_by_side_shows_every_face_with_its_emoji(emojis, astronaut):
    """As the result screen has it: besides the largest face, each other face boxed with its own emoji
    at its head (the photo as it was taken, not mirrored); the largest face's emoji stays beside."""
    first = Face((200, 80, 120, 120), np.eye(len(CLASSES), dtype=np.float32)[CLASSES.index("happy")], "happy", 1)
    second = Face((40, 300, 100, 100), np.eye(len(CLASSES), dtype=np.float32)[CLASSES.index("surprise")], "surprise", 2)
    alone = np.asarray(compose(astronaut, Result(None, first.box, first.probabilities, "happy", (first,)), emojis))
    party = np.asarray(compose(astronaut, Result(None, first.box, first.probabilities, "happy", (first, second)),
                               emojis))
    changed = np.abs(party.astype(int) - alone).sum(axis=2) > 30
    rows, cols = np.nonzero(changed)
    assert changed.sum() > 1000, "the second face got no box or emoji"
    assert cols.min() >= 30 and cols.max() <= 150 and rows.min() >= 300 - 60 and rows.max() <= 410, \
        "something besides the second face and its emoji changed"


@pytest.mark.parametrize("style", ["side", "mask"])
def test_a_saved_snapshot_is_the_cameras_view_not_mirrored_as_the_screen(emojis, style):
    """docs/raspberry-pi.md: writing on a T-shirt reads the right way round in the saved file."""
    frame = np.zeros((120, 160, 3), np.uint8)
    frame[:, :80] = (0, 0, 255)  # the camera's left half red (BGR), its right half blue
    frame[:, 80:] = (255, 0, 0)
    saved = compose(frame, Result(None, None, None, None, ()), emojis, style).convert("RGB")
    assert saved.getpixel((5, 60)) == (255, 0, 0) and saved.getpixel((155, 60)) == (0, 0, 255)


def test_an_unknown_style_is_refused(emojis, astronaut):
    with pytest.raises(ValueError, match="side, mask"):
        compose(astronaut, Result(None, None, None, None), emojis, "masks")


# --- the setting -----------------------------------------------------------------------------

def test_snapshot_style_from_the_flag_and_the_file(tmp_path):
    from emojify import cli
    from emojify.config import settings_from_args

    def settings(*argv):
        return settings_from_args(cli.build_parser().parse_args(["run", *argv]))

    assert settings().snapshot_style == "side"
    config = tmp_path / "kiosk.toml"
    config.write_text('snapshot-style = "mask"\n', encoding="utf-8")
    assert settings("--config", str(config)).snapshot_style == "mask"
    assert settings("--config", str(config), "--snapshot-style", "side").snapshot_style == "side"


@pytest.mark.parametrize("where", ["flag", "file"])
def test_a_bad_snapshot_style_is_one_line_and_exit_code_2(tmp_path, where):
    config = tmp_path / "kiosk.toml"
    config.write_text('snapshot_style = "bad"\n', encoding="utf-8")
    args = ("--snapshot-style", "bad") if where == "flag" else ("--config", config)
    code, _, stderr = run_cli("run", *args)
    lines = stderr_lines(stderr)
    assert code == 2 and len(lines) == 1, stderr
    assert "snapshot_style" in lines[0] or "--snapshot-style" in lines[0]
    assert "side, mask" in lines[0] and "bad" in lines[0]


def test_predict_writes_mask_composites(astronaut_jpg, tmp_path):
    code, _, stderr = run_cli("predict", astronaut_jpg, "--out", tmp_path, "--snapshot-style", "mask")
    assert code == 0, stderr
    [written] = tmp_path.glob("astronaut-*.png")
    with Image.open(written) as image:
        assert image.size == (512, 512)  # the photo itself, masked; no panel beside it
        pixels = np.asarray(image.convert("RGB"))
    original = cv2.imread(str(astronaut_jpg))
    gone = (np.abs(pixels.astype(np.int16) - original[:, :, ::-1]) > 40).any(axis=-1)
    assert gone[inner(ASTRONAUT_FACE)].mean() > 0.9


# --- the kiosk -------------------------------------------------------------------------------

def test_the_result_screen_shows_the_masked_still():
    from dataclasses import replace

    from emojify.screens import Screens, Timings

    frame = np.zeros((480, 640, 3), np.uint8)
    masked = np.full((480, 640, 3), 200, np.uint8)
    from emojify.sources import SourceStatus

    given: list = []  # the stills handed to the worker
    screens = Screens(given.append, ("", []), Timings(result=4.0))
    screens.source_status(SourceStatus.LIVE, "")
    screens.tick(0.1)
    screens.request_snapshot()
    for t in np.arange(0.2, 6.0, 0.1):
        screens.frame_arrived(frame, Result(None, None, None, None))
        screens.tick(float(t))
        if screens.current().screen == "result":
            break
    assert screens.current().screen == "result" and len(given) == 1
    result = Result(None, (10, 10, 50, 50), np.full(7, 1 / 7), "happy")
    request = given[0]  # what the worker was given
    screens.snapshot_done(replace(request, result=result, masked=masked))
    feed = screens.view().feed
    assert feed.frame is masked and feed.result is None  # the masks instead of the box and badge
    screens.snapshot_done(replace(request, result=result))
    feed = screens.view().feed
    assert feed.frame is frame and feed.result is result


def test_the_kiosk_saves_and_shows_a_mask_snapshot(display, tmp_path):

    source = tmp_path / "camera"
    source.mkdir()
    frame = astronaut_frame()
    cv2.imwrite(str(source / "astronaut.png"), frame)
    snaps = tmp_path / "snaps"
    app = Kiosk(display, tmp_path, "--source", str(source), "--snapshot-style", "mask", "--save-dir", str(snaps),
                "--snapshot-seconds", "5")
    try:
        app.wait_state(lambda s: s["frames_shown"] >= 3 and s["box"], "a face on screen")
        w, h = WINDOW

        def feed(screen: np.ndarray) -> np.ndarray:
            return screen[40:h - 40, 20:int(w * 0.6)]

        live = emoji_yellow(feed(app.screenshot()))
        app.key("space")
        state = app.wait_state(lambda s: s["snapshot_path"], "a saved snapshot")
        shown = app.wait_screen(lambda screen: emoji_yellow(feed(screen)) > live + 5000, "the masked still on screen")
        Image.fromarray(shown.astype(np.uint8)).save(tmp_path / "result.png")
        saved = Path(state["snapshot_path"])
        with Image.open(saved) as image:
            image.load()
            assert image.size == (640, 480)
            pixels = image.convert("RGB")
        box = Pipeline(detector=BlazeFaceDetector()).analyze(frame, mirror_average=True).box
        assert changed(frame, pixels)[inner(box)].mean() > 0.9, "the saved snapshot shows the face, not its mask"
        app.key("ctrl+shift+q")
        assert app.exit_code() == 0
    finally:
        app.stop()


@pytest.mark.skipif(not (FER_ROOT / "test").is_dir(), reason="needs FER2013 (EMOJIFY_FER2013)")
def test_a_mask_snapshot_of_the_group_picture_masks_every_face(classifier, emojis, tmp_path):
    """The kiosk's mask snapshot of a 2048x1536 group picture: the search begun at the countdown's start
    and the quick look at the still find every face the photo search finds, and the saved composite
    masks them all, though the visitors moved a little meanwhile."""
    import sys
    import time
    from types import SimpleNamespace

    from emojify.app import Worker
    from emojify.screens import Snapshot

    sys.path.insert(0, str(REPO / "packaging"))
    from group_faces import group_picture

    picture, placed = group_picture(FER_ROOT)
    scale_y = 1536 / picture.shape[0]
    start = cv2.resize(picture, (2048, 1536), interpolation=cv2.INTER_AREA)
    still = np.roll(start, 8, axis=1)  # at the countdown's end everyone stands 8 pixels further right
    placed = [(x + 8, round(y * scale_y), w, round(h * scale_y)) for _, (x, y, w, h) in placed]
    pipeline = Pipeline(classifier, region_fraction=1.0)
    thorough = pipeline.analyze_still(still)
    camera = SimpleNamespace(wait_for_frame=lambda timeout, after: time.sleep(timeout))  # no live frames
    worker = Worker(pipeline, camera, emojis, tmp_path, "mask")
    worker.start()
    try:
        worker.prepare_still(start)  # the countdown starts
        worker.request_snapshot(Snapshot(1, still))  # and ends
        deadline, snapshot = time.monotonic() + 60, None
        while (snapshot is None or snapshot.path is None) and time.monotonic() < deadline:
            snapshot = worker.take_snapshot() or snapshot
            time.sleep(0.05)
    finally:
        worker.stop()
    assert snapshot is not None and snapshot.path is not None and snapshot.error is None
    assert len(snapshot.result.faces) == len(thorough.faces) == 6, [f.box for f in snapshot.result.faces]
    saved = cv2.imread(str(snapshot.path))
    gone = changed(still, Image.fromarray(saved[:, :, ::-1]))
    for box in placed:
        assert gone[inner(box, 0.4)].mean() > 0.8, box  # unmasked: 0
