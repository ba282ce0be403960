"""What the kiosk shows, drawn with Pillow: pure functions from arrays and values to images.

The live picture (mirrored, capture region dimmed around, face boxed), the panel (big emoji,
label, seven probability bars, the snapshot button; or the challenge game's target, timer and
score), the full-window "no camera" message and the attract screen. Nothing here touches Tk, so
every screen can be rendered and checked without a display. No text is drawn below
:data:`emojify.layout.MIN_TEXT_PX` (times ``text_scale``), and every text colour has a WCAG AA
contrast (4.5:1) against what it is drawn on. Every text goes through :func:`put_text` or
:func:`paint_pill`, so tests can watch those two and check both.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from emojify import texts
from emojify.emojis import EmojiSet
from emojify.labels import CLASSES
from emojify.layout import Layout, layout, min_text, text_scale_of
from emojify.pipeline import Face, Result
from emojify.preprocess import Box
from emojify.shape import Shape
from emojify.texts import expression_name
from emojify.views import AttractView, ChallengeView, PanelView, Row, region_drawn

BACKGROUND = (22, 24, 31)
PANEL = (33, 36, 46)
TEXT = (238, 240, 245)
MUTED = (160, 167, 184)
TRACK = (55, 59, 73)
BAR = (104, 113, 138)
ACCENT = (255, 199, 64)
ACCENT_DARK = (40, 30, 6)
HIGHLIGHT = (62, 56, 40)
BAR_BEHIND = (92, 100, 124)  # a bar behind a row's texts, darker than BAR: the texts keep 4.5:1 over it
STRONG_BEHIND = (110, 82, 20)
GUIDE = (255, 255, 255)
ERROR = (190, 40, 40)
OK = (25, 110, 55)
"""Banner backgrounds (under white text): dark enough for 4.5:1 over any picture."""
PILL_ALPHA = 235
"""Opacity of the pills (hint, banner, countdown) drawn over the picture."""
SHADE = (10, 12, 18)
"""The dark pill behind the hint and the countdown number."""
PILL_PAD = (0.9, 0.45)
"""A pill's padding around its text (left and right, top and bottom), in times its font size."""
DIM = 0.4
"""Brightness of the picture outside the capture region."""
COUNTDOWN_PX = 0.22
"""The countdown number's font size, in times the picture's shorter side (times ``text_scale``): as
large as it always was, in a disc a third of the picture across, which fits in a corner beside a face
or beside the capture region between its corner marks."""
COUNTDOWN_MOST = 0.25
"""The countdown number's font size at most, in times the picture's shorter side, whatever the text
size: a disc of 0.38 of the picture fits beside the default capture region between its corner marks
(large text's 0.43 covered them). One size for every frame of a countdown, so the disc does
not grow and shrink as the visitors move; never below the smallest text size (the 90x68 picture of a
320x320 window with large text in Spanish)."""


@functools.lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A sans-serif font at ``size`` px: DejaVu (Linux, Pi), Arial (Windows), else Pillow's own."""
    names = (("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "arialbd.ttf", "Arial Bold.ttf")
             if bold else ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "arial.ttf", "Arial.ttf"))
    size = max(6, int(size))
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def fit(size: tuple[int, int], into: tuple[int, int]) -> tuple[int, int]:
    """The largest ``(w, h)`` with the aspect of ``size`` that fits ``into``."""
    scale = min(into[0] / size[0], into[1] / size[1])  # the side that limits it is exactly its room's
    return (max(1, min(into[0], round(size[0] * scale))), max(1, min(into[1], round(size[1] * scale))))


def mirror_box(box: Box, frame_width: int) -> Box:
    """``box`` in the horizontally flipped frame (what the visitor sees, as in a mirror)."""
    x, y, w, h = box
    return frame_width - x - w, y, w, h


def wrap(text: str, width: float, face: ImageFont.ImageFont, draw: ImageDraw.ImageDraw) -> list[str]:
    """``text`` broken into lines no wider than ``width`` pixels, at ordinary spaces: a no-break space
    (French "visage !") holds its neighbours together. A word wider than a line on its own (a long
    folder's path; such a group, on a very narrow line) is cut into lines of its own (:func:`word_pieces`).
    A line break in ``text`` (a file source's name may hold one) is a space: Pillow measures no multi-line text."""
    lines: list[str] = []
    for word in filter(None, text.replace("\n", " ").split(" ")):
        if lines and draw.textlength(f"{lines[-1]} {word}", font=face) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines += word_pieces(word, width, face, draw)
    return lines


def word_pieces(word: str, width: float, face: ImageFont.ImageFont, draw: ImageDraw.ImageDraw) -> list[str]:
    """``word`` in pieces no wider than ``width`` (one character where even that is wider). A path's or
    a file's name (a "/", "\\" or "_", or a "." or "-" inside it) is cut after the last of those marks
    that fits in a piece's second half, so that it breaks between its folders (not after its first "/",
    a line of its own), else where the line is full. A word of the language is cut where the line is
    full, each piece ending in a hyphen ("expres-", "sion"), at least two of its letters carried over
    with the punctuation after them ("Fröhli-", "ch"; "gespeich-", "ert..."; never "ert.-", "..")."""
    language = not re.search(r"[/\\_]|[.-](?=\w)", word)
    hyphen = "-" if language else ""
    pieces = []
    while len(word) > 1 and draw.textlength(word, font=face) > width:
        fits = max(1, bisect.bisect_right(range(1, len(word)), width,
                                          key=lambda n: draw.textlength(word[:n] + hyphen, font=face)))
        if language:
            cut = max(1, min(fits, len(re.sub(r"[\W_]+$", "", word)) - 2))
        else:
            after = max(word.rfind(mark, 0, fits) for mark in "/-_.") + 1
            cut = after if after > fits // 2 else fits
        pieces.append(word[:cut] + hyphen)
        word = word[cut:]
    return [*pieces, word]


def put_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, face: ImageFont.ImageFont,
             colour: tuple[int, int, int], anchor: str = "la") -> None:
    """Draw one line of ``text``: every plain text of the renderers is drawn here."""
    draw.text(xy, text, font=face, fill=colour, anchor=anchor)


def text_px(size: float, text_scale: float = 1.0) -> int:
    """A font size scaled by ``text_scale`` and never below :data:`MIN_TEXT_PX` times it."""
    return max(min_text(text_scale), int(size * text_scale))


def shrinking(size: int, floor: int, bold: bool = True) -> Iterator[ImageFont.ImageFont]:
    """Fonts from ``size`` down to ``floor``, each 0.92 of the one before: the sizes a text that
    must fit somewhere tries, largest first."""
    while True:
        yield font(size, bold)
        if size <= floor:
            return
        size = max(floor, int(size * 0.92))


def fitting_font(draw: ImageDraw.ImageDraw, text: str, width: float, size: int, floor: int,
                 bold: bool = True) -> ImageFont.ImageFont:
    """The largest font from ``size`` down to ``floor`` in which ``text`` is at most ``width`` wide."""
    for face in shrinking(size, floor, bold):
        if draw.textlength(text, font=face) <= width:
            break
    return face


def fitted_lines(draw: ImageDraw.ImageDraw, text: str, width: float, size: int, floor: int,
                 bold: bool = True) -> tuple[ImageFont.ImageFont, list[str]]:
    """``text`` in the largest font that fits ``width`` (:func:`fitting_font`), broken into lines
    where even ``floor`` is too wide (:func:`wrap`): a title, a caption."""
    face = fitting_font(draw, text, width, size, floor, bold)
    return face, wrap(text, width, face, draw)


def pill_size(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.ImageFont, width: float | None = None,
              disc: bool = False) -> tuple[str, float, float]:
    """``text`` as :func:`draw_pill` writes it (wrapped to ``width`` when given) and the pill's width
    and height, to find a place for it before it is drawn."""
    text = "\n".join(wrap(text, width, face, draw)) if width else text
    if disc:  # a circle round the number's box with a rim: the number as large as the disc allows; one
        # size for every number of as many digits ("0"s: figures are as wide as each other), or the disc
        # would shrink from "3" to "1" and move to a corner where only the smaller one fits
        left, top, right, bottom = draw.textbbox((0, 0), "0" * len(text), font=face, anchor="la")
        diameter = float(np.hypot(right - left, bottom - top)) + face.size * 0.5
        return text, diameter, diameter
    left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=face, spacing=int(face.size * 0.25),
                                                       anchor="la")
    return text, right - left + face.size * PILL_PAD[0] * 2, max(face.size, bottom - top) + face.size * PILL_PAD[1] * 2


def draw_pill(image: Image.Image, center: tuple[float, float], text: str, face: ImageFont.ImageFont,
              fill: tuple[int, int, int], background: tuple[int, int, int, int],
              width: float | None = None, margin: float = 0.0, disc: bool = False) -> tuple[float, float, float, float]:
    """A rounded, translucent label with ``text`` centred at ``center``, drawn into ``image``;
    ``text`` is wrapped into lines no wider than ``width`` when given. The label is moved, where it
    must be, to keep ``margin`` pixels from the image's edges. With ``disc`` it is a circle (the
    countdown's number). Returns the text's box."""
    return paint_pill(image, pill_place(image.size, center, text, face, width, margin, disc), face, fill, background,
                      disc)


def paint_pill(image: Image.Image, place: tuple[str, tuple[int, int, int, int], tuple[float, float, float, float]],
               face: ImageFont.ImageFont, fill: tuple[int, int, int], background: tuple[int, int, int, int],
               disc: bool = False) -> tuple[float, float, float, float]:
    """The label :func:`pill_place` placed (its text, the pill's box and the text's box), drawn into
    ``image``. Returns the text's box."""
    text, area, box = place
    spacing = int(face.size * 0.25)
    middle = ((area[2] - area[0]) / 2, (area[3] - area[1]) / 2)
    if middle[0] >= 1 and middle[1] >= 1:  # else no room at all: a picture a few pixels high or wide
        patch = image.crop(area).convert("RGBA")
        overlay = Image.new("RGBA", patch.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        radius = patch.height // 2 if disc else min(patch.height // 2, int(face.size * 1.1))
        draw.rounded_rectangle((0, 0, patch.width - 1, patch.height - 1), radius=radius, fill=background)
        draw.multiline_text(middle, text, font=face, fill=fill, anchor="mm", align="center", spacing=spacing)
        image.paste(Image.alpha_composite(patch, overlay).convert("RGB"), area[:2])
    return box


def pill_place(size: tuple[int, int], center: tuple[float, float], text: str, face: ImageFont.ImageFont,
               width: float | None = None, margin: float = 0.0, disc: bool = False
               ) -> tuple[str, tuple[int, int, int, int], tuple[float, float, float, float]]:
    """Where :func:`draw_pill` draws in a picture of ``size``, without drawing: ``text`` as written
    (wrapped), the pill's box and the text's box."""
    text, w, h = pill_size(_MEASURE, text, face, width, disc)
    x0 = int(clamp(center[0] - w / 2, margin, max(margin, size[0] - w - margin)))
    y0 = int(clamp(center[1] - h / 2, margin, max(margin, size[1] - h - margin)))
    area = (x0, y0, min(size[0], x0 + int(w) + 1), min(size[1], y0 + int(h) + 1))
    middle = ((area[2] - area[0]) / 2, (area[3] - area[1]) / 2)
    return text, area, _MEASURE.multiline_textbbox((x0 + middle[0], y0 + middle[1]), text, font=face, anchor="mm",
                                                   align="center", spacing=int(face.size * 0.25))


BoxF = tuple[float, float, float, float]
"""A box in an image's pixels: x0, y0, x1, y1."""


def draw_corners(draw: ImageDraw.ImageDraw, box: BoxF, width: int) -> list[BoxF]:
    """Four L-shaped corner marks around ``box`` (x0, y0, x1, y1): the capture-region guide.

    Returns the marks' boxes (top left, top right, bottom left, bottom right), for the hint to keep
    clear of."""
    x0, y0, x1, y1 = box
    arm = min(x1 - x0, y1 - y0) * 0.14
    r = width / 2
    marks = []
    for cx, cy, dx, dy in ((x0, y0, 1, 1), (x1, y0, -1, 1), (x0, y1, 1, -1), (x1, y1, -1, -1)):
        draw.line([(cx, cy + dy * arm), (cx, cy), (cx + dx * arm, cy)], fill=GUIDE, width=width, joint="curve")
        for px, py in ((cx, cy + dy * arm), (cx + dx * arm, cy)):  # round the ends
            draw.ellipse((px - r, py - r, px + r, py + r), fill=GUIDE)
        ex, ey = cx + dx * arm, cy + dy * arm
        marks.append((min(cx, ex) - r, min(cy, ey) - r, max(cx, ex) + r, max(cy, ey) + r))
    return marks


_MEASURE = ImageDraw.Draw(Image.new("RGB", (1, 1)))
"""Measures texts (their wrapping and size) away from any picture."""
HINT_SHRINK = 0.7
"""The smallest share of its size the live hint may shrink to where that keeps the corner marks clear."""


HintPlace = tuple[tuple[float, float], float, int]
"""Where the live hint goes: its centre, the width it is wrapped to and its font size."""
HINT_TALLEST = 1 / 3
"""The largest share of the picture's height the live hint takes while a face is read (the game's
hint): any taller, it stands over the face (the 125x94 picture of a 320x320 window with large text,
where "Faites cette expression : Triste" took five lines) and goes under the picture where there is
room (:func:`hint_strip`), else gives way; the panel shows the target."""


@functools.lru_cache(maxsize=64)
def hint_place(text: str, font_px: int, size: tuple[int, int], marks: tuple[BoxF, ...], margin: float,
               floor: int, over_face: bool = False) -> HintPlace | None:
    """The first of :func:`hint_places` with every word whole, else the first; ``over_face`` (a face is
    read: the game's hint) only among those no taller than :data:`HINT_TALLEST` of the picture, else
    None. It depends on the picture's size, not on where the face is, so that it does not jump or
    blink as the face moves. Remembered: the same hint on the same picture is placed once, not each
    frame."""
    places = [(place, whole) for place, area, whole in hint_places(text, font_px, size, marks, margin, floor)
              if not over_face or area[3] - area[1] <= HINT_TALLEST * size[1]]
    return next((place for place, whole in places if whole), places[0][0] if places else None)


def hint_places(text: str, font_px: int, size: tuple[int, int], marks: tuple[BoxF, ...], margin: float,
                floor: int) -> tuple[tuple[HintPlace, tuple[int, int, int, int], bool], ...]:
    """The live hint's places, best first, each with its pill's box and whether every word stands
    whole in it: across the picture near its bottom, and never over the capture region's lower corner
    marks, which show the visitor where the face goes (a hint wrapped at 0.8 of the picture on two
    lines hid them at 800x480 with large text).

    Below the marks where the picture has room there (moved down as far as it must), else between
    the two lower marks, as low as it goes, if it takes two lines there at most, or no more than across
    the picture; in sizes from ``font_px`` down to ``floor`` (a square picture at 800x480 with large
    text had the German challenge hint on two lines over the marks, where one line a little smaller
    fits below them). Last (a narrow picture: a portrait photo on a portrait screen) across the
    picture at the bottom at ``font_px``, over the marks: a hint squeezed between them stood in five
    lines over the middle of the picture. Without marks, across the bottom in every size."""
    w, h = size
    places: list[HintPlace] = []
    if marks:
        below, (left, right) = marks[2][3] + margin / 2, (marks[2][2], marks[3][0])
    for face in shrinking(font_px, min(floor, font_px)):
        pad = face.size * PILL_PAD[0] * 2
        if not marks:
            places.append(((w / 2, h - face.size * 2.2), w - 2 * margin - pad, face.size))
            continue
        across, _, pill_h = pill_size(_MEASURE, text, face, w - 2 * margin - pad)
        if below + pill_h <= h - margin:
            places.append(((w / 2, max(h - face.size * 2.2, below + pill_h / 2)), w - 2 * margin - pad, face.size))
        between = right - left - margin - pad
        squeezed, _, pill_h = pill_size(_MEASURE, text, face, between)
        if squeezed.count("\n") <= max(1, across.count("\n")):  # two lines there at most, or as many as across
            places.append((((left + right) / 2, h - margin - pill_h / 2), between, face.size))
    if marks:
        places.append(((w / 2, h - font_px * 2.2), w - 2 * margin - font_px * PILL_PAD[0] * 2, font_px))
    placed = [(place, pill_place(size, place[0], text, font(place[2], bold=True), place[1], margin)) for place in places]
    return tuple((place, area, whole_words(text, wrapped.split("\n"))) for place, (wrapped, area, _) in placed)


def whole_words(text: str, lines: list[str]) -> bool:
    """Every word of ``text`` stands whole in its wrapped ``lines`` (none cut where a line was full)."""
    return " ".join(lines) == " ".join(filter(None, text.replace("\n", " ").split(" ")))


def hint_sizes(height: int, text_scale: float) -> tuple[int, int]:
    """The live hint's font size on a picture ``height`` px high, and the smallest it may shrink to."""
    size_px = text_px(min(height * 0.045, 44), text_scale)
    return size_px, max(text_px(0, text_scale), round(size_px * HINT_SHRINK))


STRIP_LINE = 1.25
"""The height of a line of the hint in the strip under the picture, in times its font size; the strip
keeps 0.4 of it above and below its lines. The lines are as wide as the picture at most: "expression :"
(124 px at the floor of large text) stands whole under the 125 px wide picture of a 320x320 window."""


def hint_strip(area: tuple[int, int], picture: tuple[int, int], text_scale: float) -> tuple[int, int]:
    """The strip under the picture that the live hint goes in, where no in-picture place will do: its
    height and the hint's font size, or (0, 0). See :func:`_hint_strip`."""
    return _hint_strip(texts.language(), area, picture, text_scale)


@functools.lru_cache(maxsize=16)
def _hint_strip(language: str, area: tuple[int, int], picture: tuple[int, int], text_scale: float) -> tuple[int, int]:
    """:func:`hint_strip` in ``language`` (the one shown: the key it is kept under). Where some hint the
    kiosk may show (no face, no frame, "Make this face" with every expression's name) finds no place
    across the picture a third of its height at most (:func:`hint_place` over a face, the most room any
    place has: the 125x94 picture of a 320x320 window with large text in French), and the area has room
    for it under the picture (214 px there), every hint goes under the picture: in one size for them all,
    the largest down to the floor in which every word stands whole, as tall as the most lines take. It
    depends on the area, picture and text size and the language, never on the hint shown, so that the
    picture does not jump as the hint changes, comes or goes."""
    w, h = picture
    size_px, floor = hint_sizes(h, text_scale)
    hints = (texts.HINT, texts.HINT_NO_FRAME, *(texts.MAKE_THIS_FACE.format(name=expression_name(label))
                                               for label in CLASSES))
    if all(hint_place(hint, size_px, picture, (), size_px * 0.5, floor, over_face=True) for hint in hints):
        return 0, 0
    for face in shrinking(size_px, floor):
        wrapped = [wrap(hint, w, face, _MEASURE) for hint in hints]
        if all(whole_words(hint, lines) for hint, lines in zip(hints, wrapped, strict=True)):
            break
    height = math.ceil(face.size * STRIP_LINE * (max(map(len, wrapped)) + 0.8))
    return (height, face.size) if area[1] - h >= height else (0, 0)


def add_strip(image: Image.Image, height: int, font_px: int, hint: str | None) -> Image.Image:
    """``image`` over a strip ``height`` px high in the window's colour, ``hint`` (if any) in it: centred,
    wrapped to the picture's width, in plain text (:func:`hint_strip`)."""
    whole = Image.new("RGB", (image.width, image.height + height), BACKGROUND)
    whole.paste(image, (0, 0))
    if hint:
        draw, face = ImageDraw.Draw(whole), font(font_px, bold=True)
        line = font_px * STRIP_LINE
        lines = wrap(hint, image.width, face, draw)
        for n, text in enumerate(lines[:round(height / line - 0.8)]):  # only a hint it was measured for is shown
            left = (image.width - draw.textlength(text, font=face)) // 2  # a line as wide as the strip stays in it
            put_text(draw, (left, image.height + line * (n + 0.4)), text, face, TEXT)
    return whole


def covered(a: BoxF, b: BoxF) -> float:
    """The area two boxes share (0 where they do not meet)."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def countdown_place(size: tuple[int, int], diameter: float, margin: float, keep_clear: list[BoxF],
                    marks: list[BoxF], stay: tuple[float, float] | None = None,
                    rather_clear: Sequence[BoxF] = ()) -> tuple[float, float]:
    """The countdown disc's centre: in the first corner of the picture (top left, top right, bottom
    left, bottom right), else the first middle of a side (left, right, bottom, top), where it covers
    none of ``keep_clear`` (the faces, their emoji, the texts) and none of the capture region's
    corner ``marks``, so the visitor sees the very expression the snapshot is about to take and where
    it must stay (a disc a third of the picture across in a corner covers the mark there: the region's
    corners stand a fifth of the picture in). Where every place covers something, the place (the
    middle too) that covers least of ``keep_clear``, then of the marks. ``stay`` (where the disc stood
    on the countdown's last frame) is kept while it covers no more than that place: the disc moves
    when a visitor or an emoji comes into it, not back to an earlier corner when one is left free. The
    middle, the last resort over the capture region, is left as soon as another place will do.
    ``rather_clear`` (the pills around the texts) counts after ``keep_clear`` and before the marks."""
    w, h = size
    r = diameter / 2
    x0, y0, x1, y1 = margin + r, margin + r, w - margin - r, h - margin - r
    places = [(x0, y0), (x1, y0), (x0, y1), (x1, y1), (x0, h / 2), (x1, h / 2), (w / 2, y1), (w / 2, y0),
              (w / 2, h / 2)]

    def covers(c: tuple[float, float]) -> tuple[float, float, float]:
        disc = (c[0] - r, c[1] - r, c[0] + r, c[1] + r)
        return tuple(sum(covered(disc, box) for box in boxes) for boxes in (keep_clear, rather_clear, marks))

    best = min(places, key=covers)
    return stay if stay is not None and stay != places[-1] and covers(stay) <= covers(best) else best


@dataclass
class CountdownSpot:
    """Where one countdown's disc stood on its last frame, and in a picture of which size: what
    :func:`render_feed` keeps it at (:func:`countdown_place`'s ``stay``). One for each countdown."""

    centre: tuple[float, float] | None = None
    picture: tuple[int, int] | None = None


def render_feed(frame: np.ndarray, size: tuple[int, int], result: Result | None, emojis: EmojiSet, *,
                live: bool = True, hint: str | None = None,
                banner: tuple[str, tuple[int, int, int]] | None = None, countdown: int | None = None,
                text_scale: float = 1.0, countdown_spot: CountdownSpot | None = None) -> Image.Image:
    """The camera picture, mirrored and fitted into ``size``, with its overlays.

    Live: the capture region is a bright window with corner marks in a dimmed picture and the
    face is boxed with its emoji beside it; ``hint`` is shown at the bottom, clear of the marks, and
    while a face is read in a third of the picture's height at most, or not at all (:func:`hint_place`). A still (``live=False``)
    is framed like a photo. ``banner`` (text, colour) is shown at the bottom too, off the faces
    (which stand in the picture's upper half), or at the top when there is a hint, and
    ``countdown`` as a big number in a disc in a corner or beside the capture region, off the
    faces, the texts and the corner marks (:func:`countdown_place`), where ``countdown_spot`` says
    it stood on the last frame while that place stays clear (the spot is updated). On a picture too
    small for them all, rather than be drawn over each other, the hint gives way to the banner, and
    either to the countdown: the first of both, the banner alone, the hint alone (a long banner may fit
    nowhere beside the disc) and neither that fits is drawn. The image is an ``RGB`` image drawn on its
    own four-byte array (:func:`rgb_over`). Where the hint finds no place on the picture and the area
    has room under it (a small window: :func:`hint_strip`), the image is the picture over a strip as wide,
    the hint in it and none on the picture, the strip blank without one (a still too, which stays the
    live picture's size).
    """
    rows, cols = frame.shape[:2]
    dw, dh = fit((cols, rows), size)
    shrink = dw < cols
    sx, sy = dw / cols, dh / rows
    stroke = max(2, round(min(dw, dh) / 110))

    def scaled(box: Box) -> tuple[float, float, float, float]:
        x, y, w, h = mirror_box(box, cols)
        return x * sx, y * sy, (x + w) * sx, (y + h) * sy

    region = scaled(result.region) if live and result is not None and result.region is not None else None
    if region is not None and not region_drawn(region[2] - region[0], dw):
        region = None
    # Mirroring, colours and dimming at the smaller of the camera's and the screen's sizes, and one
    # resize: the window's largest cost after Tk's own is making full-size copies (a 640x480 camera
    # on a 1920x1080 screen: one full-size copy instead of five).
    if shrink:
        # INTER_AREA only below half size: between half and full it samples every pixel anyway, and
        # at an uneven ratio (640 to 533 wide on a 800x480 screen) costs 5x INTER_LINEAR (1.3 against 0.25 ms).
        view = cv2.resize(frame, (dw, dh), interpolation=cv2.INTER_AREA if dw < cols / 2 else cv2.INTER_LINEAR)
        view = cv2.cvtColor(cv2.flip(view, 1), _TO_RGB[view.ndim])
        if region is not None:
            view = _dimmed_outside(view, region)
    else:
        small = cv2.cvtColor(cv2.flip(frame, 1), _TO_RGB[frame.ndim])
        if region is not None:
            small = _dimmed_outside(small, (region[0] / sx, region[1] / sy, region[2] / sx, region[3] / sy))
        view = cv2.resize(small, (dw, dh), interpolation=cv2.INTER_LINEAR)
    # Four bytes a pixel, Pillow's own layout: the image shares the array's memory (no full-size copy
    # into Pillow) and the overlays are drawn on the array in place.
    image = rgb_over(np.ascontiguousarray(view))
    draw = ImageDraw.Draw(image)
    marks = draw_corners(draw, region, stroke + 1) if region is not None else []
    # What the countdown's disc keeps clear of: every face and its emoji, the texts.
    keep_clear: list[BoxF] = []
    if result is not None and result.box is not None:
        bx0, by0, bx1, by1 = scaled(result.box)
        keep_clear.append((bx0, by0, bx1, by1))
        draw.rounded_rectangle((bx0, by0, bx1, by1), radius=(bx1 - bx0) * 0.08, outline=ACCENT, width=stroke)
        if result.label is not None:
            badge = int(clamp((bx1 - bx0) * 0.38, 24, dh * 0.25))
            icon = emojis.face(result.label, mirrored(result.faces[0].shape) if result.faces else None, badge)
            px = int(clamp(bx1 - badge * 0.55, 0, dw - badge))
            py = int(clamp(by0 - badge * 0.45, 0, dh - badge))
            image.paste(icon, (px, py), icon)
            keep_clear.append((px, py, px + badge, py + badge))
    if result is not None and len(result.faces) > 1:
        keep_clear += draw_other_faces(image, result.faces[1:], emojis, scaled, stroke)
    border = 0 if live else max(4, round(min(dw, dh) * 0.018))
    if border:
        draw.rectangle((0, 0, dw - 1, dh - 1), outline=(255, 255, 255), width=border)
    size_px, floor = hint_sizes(dh, text_scale)
    strip, strip_px = hint_strip(size, (dw, dh), text_scale)
    below, hint = (hint if live else None, None) if strip else (None, hint)  # in the strip, off the picture
    margin = border + size_px * 0.5  # a wrapped pill grows from its centre: it stays clear of the edge and the frame

    def pills(hint: str | None, banner: tuple[str, tuple[int, int, int]] | None) -> list[tuple]:
        """``draw_pill``'s arguments for the hint and the banner."""
        drawn: list[tuple] = []
        read = result is not None and result.label is not None  # a face is read: the game's hint keeps off it
        place = hint_place(hint, size_px, (dw, dh), tuple(marks), margin, floor, read) if hint else None
        if place:
            centre, width, hint_px = place
            drawn.append((centre, hint, font(hint_px, bold=True), TEXT, (*SHADE, PILL_ALPHA), width, margin))
        if banner:  # at the bottom, below the faces and their emoji, unless the hint is there
            text, colour = banner
            drawn.append(((dw / 2, size_px * 2.0 if hint else dh - size_px * 2.2), text, font(size_px, bold=True),
                          (255, 255, 255), (*colour, PILL_ALPHA), dw * 0.8, margin))
        return drawn

    face = font(max(min_text(text_scale), int(min(dw, dh) * min(COUNTDOWN_PX * text_scale, COUNTDOWN_MOST))),
                bold=True)
    diameter = pill_size(draw, str(countdown), face, disc=True)[1] if countdown is not None else 0.0
    stay = countdown_spot.centre if countdown_spot is not None and countdown_spot.picture == (dw, dh) else None
    # A 3.5-inch screen's picture (222x166) has no room for the three: the hint gives way first.
    for shown in ((hint, banner), (None, banner), (hint, None), (None, None)):
        overlays = pills(*shown)
        places = [pill_place((dw, dh), *args[:3], *args[5:]) for args in overlays]
        boxes = [box for _, _, box in places]
        if len(places) > 1 and covered(places[0][1], places[1][1]) > 0:
            continue
        if countdown is None:
            break
        # it keeps off the texts, then off their pills where any place will do, and gives a pill up only
        # where it would cover its text
        centre = countdown_place((dw, dh), diameter, margin, keep_clear + boxes, marks, stay,
                                 [area for _, area, _ in places])
        disc = (centre[0] - diameter / 2, centre[1] - diameter / 2, centre[0] + diameter / 2, centre[1] + diameter / 2)
        if not any(covered(disc, box) > 0 for box in boxes):
            break
    for args, place in zip(overlays, places, strict=True):
        paint_pill(image, place, args[2], *args[3:5])
    if countdown is not None:
        if countdown_spot is not None:
            countdown_spot.centre, countdown_spot.picture = centre, (dw, dh)
        draw_pill(image, centre, str(countdown), face, ACCENT, (*SHADE, 200), disc=True)
    return add_strip(image, strip, strip_px, below) if strip else image


_TO_RGB = {3: cv2.COLOR_BGR2RGBA, 2: cv2.COLOR_GRAY2RGBA}
"""The conversion of a camera frame (by its number of dimensions) to four bytes a pixel, RGB and
an unused byte (:func:`rgb_over`)."""


def rgb_over(pixels: np.ndarray) -> Image.Image:
    """A Pillow ``RGB`` image that shares the memory of ``pixels``, a C-contiguous ``(rows, cols, 4)``
    uint8 array (R, G, B and an unused byte), to draw on in place.

    Pillow keeps RGB in four bytes a pixel, so it can share such an array, but its public
    ``Image.frombuffer`` shares only modes like RGBX; and the window's photo image takes RGB, so an
    RGBX picture is converted pixel by pixel on its way to the screen (1.3 ms at 1440x1080) where an
    RGB one is copied whole (0.4 ms). This makes the call ``frombuffer`` makes for RGBX with mode RGB
    (no library does it; ``tests/test_render.py`` checks it against ``frombuffer``'s RGBX image).
    """
    rows, cols = pixels.shape[:2]
    image = Image.new("RGB", (0, 0))._new(Image.core.map_buffer(pixels, (cols, rows), "raw", 0, ("RGB", 0, 1)))
    image.readonly = 0  # Pillow marks a shared buffer read-only (it would copy it to draw): this array is ours
    return image


def _dimmed_outside(view: np.ndarray, region: tuple[float, float, float, float]) -> np.ndarray:
    """``view`` dimmed outside ``region`` (x0, y0, x1, y1 in its pixels)."""
    x0, y0, x1, y1 = (round(v) for v in region)
    dimmed = cv2.convertScaleAbs(view, alpha=DIM)
    dimmed[y0:y1, x0:x1] = view[y0:y1, x0:x1]
    return dimmed


def mirrored(shape: Shape | None) -> Shape | None:
    """A face's shape as the mirrored live view shows it (None stays None)."""
    return None if shape is None else shape.mirrored()


def draw_other_faces(image: Image.Image, faces: tuple[Face, ...], emojis: EmojiSet,
                     scaled: Callable[[Box], tuple[float, float, float, float]], stroke: int,
                     mirror: bool = True) -> list[BoxF]:
    """Party mode: every face besides the largest gets a thin box and its own emoji at its head
    (drawn as in a mirror, as the live view shows it, unless ``mirror`` is False: a saved photo).
    Returns the boxes and the emoji drawn, for the countdown to keep clear of."""
    draw = ImageDraw.Draw(image)
    dw, dh = image.size
    drawn: list[BoxF] = []
    for face in faces:
        bx0, by0, bx1, by1 = scaled(face.box)
        draw.rounded_rectangle((bx0, by0, bx1, by1), radius=(bx1 - bx0) * 0.08, outline=ACCENT,
                               width=max(1, stroke // 2))
        drawn.append((bx0, by0, bx1, by1))
        if face.label is None:
            continue
        badge = int(clamp((bx1 - bx0) * 0.5, 20, dh * 0.2))
        icon = emojis.face(face.label, mirrored(face.shape) if mirror else face.shape, badge)
        px = int(clamp((bx0 + bx1 - badge) / 2, 0, dw - badge))
        py = int(clamp(by0 - badge * 1.05, 0, dh - badge))
        image.paste(icon, (px, py), icon)
        drawn.append((px, py, px + badge, py + badge))
    return drawn


Box4 = tuple[int, int, int, int]


@dataclass(frozen=True)
class PanelFrame:
    """Where a panel's parts go: the emoji and title (head), the rows (body) and the button.

    A panel taller than wide stacks them; a wide one (below the picture on a portrait screen)
    puts the head in a left column beside the rows, over a button as wide as the panel.
    """

    size: tuple[int, int]
    pad: int
    head: Box4
    body: Box4
    button: Box4
    title_px: int
    floor: int
    text_scale: float
    button_px: int
    title_h: float
    """The height the head keeps for its title: the longest of the titles :func:`panel_frame` was
    given, so that a face's big emoji keeps its size as the title changes (a longer title without a
    face takes the question mark's room instead: :func:`draw_head`)."""


def row_widths(draw: ImageDraw.ImageDraw, rows: Sequence[Row], bold: ImageFont.ImageFont) -> tuple[float, float, float]:
    """The widths of ``rows``' columns in ``bold``: the names (of the rows with a bar, or of all where
    none has one), the values, and the longest name."""
    barred = [r for r in rows if r.fraction is not None] or rows
    return (max(draw.textlength(r.name, font=bold) for r in barred),
            max([draw.textlength(r.value, font=bold) for r in rows if r.value], default=0),
            max(draw.textlength(r.name, font=bold) for r in rows))


def row_least(draw: ImageDraw.ImageDraw, rows: Sequence[Row], size: int) -> tuple[float, float]:
    """The least height and width of a row of ``rows`` in their text's ``size``, measured on the
    font: the texts' accents (Überrascht) clear the row above's descenders (Traurig); a name, a
    short bar and the value side by side (the small emoji left out, as :func:`draw_rows` does)."""
    bold = font(size, bold=True)
    boxes = [draw.textbbox((0, 0), text, font=bold, anchor="lm") for r in rows for text in (r.name, r.value) if text]
    name_w, value_w, longest = row_widths(draw, rows, bold)
    gap = max(4, size // 2)
    barred = any(r.fraction is not None for r in rows)
    return (max([box[3] for box in boxes], default=0) - min([box[1] for box in boxes], default=0),
            max(longest, name_w + value_w + 3 * gap + (size if barred else 0)))


def row_lines(draw: ImageDraw.ImageDraw, row: Row, width: float, size: int,
              measured: Callable[[str], str] = str) -> list[str]:
    """``row``'s name in its text's ``size`` (as ``measured``: :func:`steady` keeps a score's line as it
    grows) on lines no wider than ``width`` where the row has only a name (a score's line: "Nouveau
    record du jour !" at 320x320), else on one."""
    alone = row.fraction is None and not row.value and row.icon is None
    return (wrap(measured(row.name), width, font(size, row.strong), draw) or [row.name]) if alone else [row.name]


COLUMN_LEAST = 48
"""The wide panel's left column (the big emoji over its title) in pixels at the least, and at least
as wide as the title's longest word; where the rows leave less, the panel stacks its parts as a tall
one does, unless they would not fit stacked."""


NUMBER = re.compile(r"[0-9]+")
"""A figure in a panel's texts: a countdown, a score."""


def steady(text: str) -> str:
    """``text`` with every number at least two digits wide ("9 s" and "10 s" are both "00 s"; the
    font's digits are all as wide): what a panel is measured with, so that it keeps its shape as a
    countdown or a score moves on."""
    return NUMBER.sub(lambda number: "0" * max(2, len(number.group())), text)


def figureless(text: str) -> str:
    """``text`` with every number as "#": a row is the same as its measured one but for its figures."""
    return NUMBER.sub("#", text)


def panel_frame(size: tuple[int, int], text_scale: float = 1.0, titles: tuple[str, ...] = (), button: str = "",
                rows: tuple[Row, ...] = (), slots: int | None = None) -> PanelFrame:
    """The parts of a panel of ``size`` measured for its texts, so that none runs into another: any
    of ``titles`` under the big emoji (on as many lines as the longest takes), the ``button``'s text
    (two lines make the button taller) and the body's ``rows`` in ``slots`` slices (their smallest
    text). A panel shows one title at a time: measured for all it may show, and for its figures'
    widths (:func:`steady`), it keeps its shape as they change. The big emoji gives way, down to
    16 px, where they would not fit (a 480x320 screen); ``text_scale`` makes room for larger texts."""
    return _panel_frame(size, text_scale, tuple(sorted({steady(title) for title in titles})), steady(button),
                        steady_rows(rows), slots)


def panel_pad(size: tuple[int, int]) -> int:
    """The margin round a panel of ``size`` and between its parts."""
    return int(clamp(min(size) * 0.055, 8, 40))


def measured_rows() -> tuple[Row, ...]:
    """The live panel's rows as it is measured, in the language shown: every expression's name with a
    full bar and "100%", so that it keeps its shape as the figures change."""
    return tuple(Row(expression_name(label), 1.0, "100%") for label in CLASSES)


def panel_least_width(text_scale: float = 1.0) -> int:
    """The least width of the panel beside the picture, in the language shown, at ``text_scale``: the
    longest name and "100%" side by side with a gap at the smallest text, as :func:`draw_rows` places
    them (the bars take the room left, none where none is), and the panel's margins. :func:`kiosk_layout`
    gives the panel this width where half the window is less (320x320 with large text)."""
    return _panel_least_width(texts.language(), text_scale)


@functools.lru_cache(maxsize=16)
def _panel_least_width(language: str, text_scale: float) -> int:
    """:func:`panel_least_width` in ``language`` (the one shown: the key it is kept under)."""
    floor = text_px(0, text_scale)
    name_w, value_w, longest = row_widths(_MEASURE, measured_rows(), font(floor, bold=True))
    rows_w = math.ceil(max(longest, name_w + max(4, floor // 2) + value_w))
    width = rows_w + 16  # the margins are at least 8 px, more on a wider panel
    while width - 2 * panel_pad((width, width)) < rows_w:
        width += 1
    return width


def kiosk_layout(size: tuple[int, int], large_text: bool = False) -> Layout:
    """The window laid out as the kiosk does (:func:`emojify.layout.layout`), the panel beside the
    picture at least as wide as the language shown needs (:func:`panel_least_width`)."""
    return layout(size, large_text, panel_least_width(text_scale_of(large_text)))


def steady_rows(rows: Sequence[Row]) -> tuple[Row, ...]:
    """``rows`` as a panel is measured for them: their names and values :func:`steady`."""
    return tuple(replace(row, name=steady(row.name), value=steady(row.value)) for row in rows)


@functools.lru_cache(maxsize=32)  # a panel is drawn again as its figures change; its texts seldom do
def _panel_frame(size: tuple[int, int], text_scale: float, titles: tuple[str, ...], button: str,
                 rows: tuple[Row, ...], slots: int | None) -> PanelFrame:
    """:func:`panel_frame` for its measured texts."""
    w, h = max(1, size[0]), max(1, size[1])
    pad = panel_pad((w, h))
    floor = text_px(0, text_scale)
    title_px = text_px(min(h * 0.055, max(60, h * 0.04)), text_scale)
    button_h = int(max(h * 0.13 if w <= h else h * 0.16, text_px(min(h * 0.045, 48), text_scale) * 2.4))
    probe = _MEASURE
    button_px = text_px(min(button_h * 0.36 / text_scale, 48), text_scale)
    face, lines = fitted_lines(probe, button, (w - 2 * pad) * 0.9, button_px, floor)
    button_h = int(max(button_h, (len(lines) + 0.5) * face.size * 1.15))  # lines as draw_button spaces them
    button_box = (pad, h - pad - button_h, w - pad, h - pad)
    row_h, row_w = row_least(probe, rows, floor) if rows else (0.0, 0.0)

    def titles_h(width: float) -> float:  # the head's title lines, as draw_head spaces them
        return max([title_px] + [len(lines) * face.size for face, lines in
                                 (fitted_lines(probe, title, width, title_px, floor) for title in titles)]) * 1.3

    title_h = titles_h(w - 2 * pad)
    slices = max(slots or len(rows), sum(len(row_lines(probe, row, w - 2 * pad, floor)) for row in rows))
    # stacked, the big emoji takes the height the title, the rows (a score's line maybe on two) and the button leave
    emoji = int(min(w - 2 * pad, h * 0.3 / text_scale, h - 3.6 * pad - title_h - button_h - slices * row_h))
    column = int(min(w * 0.4 / text_scale, h * 0.85, w - 3 * pad - row_w))
    words = max([probe.textlength(word, font=font(floor, bold=True)) for title in titles for word in title.split(" ")],
                default=0)
    # beside the rows where they leave room for the title's words, uncut, or where stacked they would not fit
    if w > h * 0.9 and (column >= max(COLUMN_LEAST, words) or emoji < 16):
        column = max(column, COLUMN_LEAST)
        return PanelFrame((w, h), pad, (pad, pad, pad + column, button_box[1] - pad),
                          (pad * 2 + column, pad, w - pad, button_box[1] - pad), button_box, title_px, floor,
                          text_scale, button_px, titles_h(column))
    emoji = max(16, emoji)
    head = (pad, pad, w - pad, int(pad + emoji + pad * 0.5 + title_h))
    return PanelFrame((w, h), pad, head, (pad, head[3] + pad // 2, w - pad, int(button_box[1] - pad * 0.6)),
                      button_box, title_px, floor, text_scale, button_px, title_h)


def draw_head(image: Image.Image, draw: ImageDraw.ImageDraw, frame: PanelFrame, label: str | None, title: str,
              colour: tuple[int, int, int], emojis: EmojiSet, own_face: bool = False,
              shape: Shape | None = None) -> None:
    """The big emoji (an empty face with a question mark when ``label`` is None) over the title
    (on two lines where even the smallest size is too wide, as a long translation may be); with
    ``own_face`` the face's own emoji (:meth:`EmojiSet.face`, moved by ``shape`` where generated)."""
    x0, y0, x1, y1 = frame.head
    face, lines = fitted_lines(draw, title, x1 - x0, frame.title_px, frame.floor)
    line_h = face.size * 1.3
    # the emoji takes the room the head keeps for it; a title longer than the head keeps room for takes
    # the question mark's instead, which goes where even 16 px are not left
    size = int(min(x1 - x0, y1 - y0 - max(frame.title_h, line_h * len(lines)) - frame.pad * 0.5))
    if label is not None:
        size = max(16, size)
        icon = emojis.face(label, shape, size) if own_face else emojis.scaled(label, size)
        image.paste(icon, (int((x0 + x1 - size) / 2), y0), icon)
    elif size < 16:  # no room for the question mark: the title from the head's top
        size = -int(frame.pad * 0.5)
    else:
        ex = int((x0 + x1 - size) / 2)
        ring = max(2, size // 40)
        inset = size * 0.06
        draw.ellipse((ex + inset, y0 + inset, ex + size - inset, y0 + size - inset), outline=TRACK, width=ring)
        put_text(draw, (ex + size / 2, y0 + size / 2), "?", font(max(frame.floor, size // 2), bold=True), MUTED,
                 anchor="mm")
    for n, line in enumerate(lines):
        put_text(draw, ((x0 + x1) / 2, y0 + size + frame.pad * 0.5 + n * line_h), line, face, colour,
                 anchor="mt")


def draw_button(draw: ImageDraw.ImageDraw, frame: PanelFrame, text: str, active: bool) -> None:
    """The big button: accent-coloured when it does something, grey when not; its text on two lines
    where even the smallest size is too wide (large text on a small screen: "Back to live in 4" in
    German)."""
    x0, y0, x1, y1 = frame.button
    fill = ACCENT if active else TRACK
    draw.rounded_rectangle(frame.button, radius=(y1 - y0) * 0.28, fill=fill)
    face, lines = fitted_lines(draw, text, (x1 - x0) * 0.9, frame.button_px, frame.floor)
    line_h = face.size * 1.15
    for n, line in enumerate(lines):
        put_text(draw, ((x0 + x1) / 2, (y0 + y1) / 2 + (n - (len(lines) - 1) / 2) * line_h), line, face,
                 ACCENT_DARK if active else TEXT, anchor="mm")


BAR_LEAST = 2
"""A bar beside a row's name and value is at least this many times their text's size long; where the
panel leaves it less ("Tenez la pose" and "10 s" at 320x320 with large text), the rows' bars are drawn
behind their texts, across the row."""


def draw_bar(draw: ImageDraw.ImageDraw, box: BoxF, fraction: float, track: tuple[int, int, int],
             fill: tuple[int, int, int]) -> None:
    """A rounded bar in ``box``, ``track``-coloured, filled with ``fill`` from the left to ``fraction``."""
    x0, y0, x1, y1 = box
    radius = min(y1 - y0, x1 - x0) / 2
    draw.rounded_rectangle(box, radius=radius, fill=track)
    filled = (x1 - x0) * clamp(fraction, 0, 1)
    if filled >= 1:
        draw.rounded_rectangle((x0, y0, x0 + max(filled, 2 * radius), y1), radius=radius, fill=fill)


def draw_rows(image: Image.Image, draw: ImageDraw.ImageDraw, frame: PanelFrame, rows: Sequence[Row],
              emojis: EmojiSet, text_scale: float, slots: int | None = None, measure: Sequence[Row] = ()) -> None:
    """``rows`` in equal slices of the body (``slots`` of them), as :func:`fit_rows` lays them out for
    ``measure`` (the rows with their widest figures) where given: icon, name, bar, value, or the bars
    behind the texts; a strong row is highlighted, behind every slice it takes."""
    x0, top, x1, _ = frame.body
    fit = fit_rows(frame, tuple(replace(row, fraction=None if row.fraction is None else 0.0,
                                        value="#" if row.value else "", muted=False) for row in rows),
                   tuple(measure) or tuple(rows), slots, text_scale)
    row_h, slices, inset = fit.row_h, fit.slices, frame.pad * 0.6
    regular, bold = font(fit.size), font(fit.size, bold=True)
    for i, row in enumerate(rows):
        cy = top + row_h * (sum(slices[:i]) + 0.5)
        if row.fraction is not None and fit.behind:
            draw_bar(draw, (x0 - inset, cy - row_h * 0.42, x1 + inset, cy + row_h * 0.42), row.fraction,
                     TRACK, STRONG_BEHIND if row.strong else BAR_BEHIND)
        elif row.strong:  # behind all the slices a wrapped row takes
            draw.rounded_rectangle((x0 - inset, cy - row_h * 0.47, x1 + inset, cy + row_h * (slices[i] - 0.53)),
                                   radius=row_h * 0.3, fill=HIGHLIGHT)
        if row.icon is not None and fit.icon_px:
            icon = emojis.scaled(row.icon, fit.icon_px)
            image.paste(icon, (int(x0), int(cy - fit.icon_px / 2)), icon)
        face = bold if row.strong else regular
        colour = ACCENT if row.strong else MUTED if row.muted else TEXT
        lines = row_lines(draw, row, x1 - x0, fit.size)
        for n, line in enumerate(lines):  # a wrapped row's lines in the slices it was measured for
            put_text(draw, (fit.name_x, cy + row_h * (n + (slices[i] - len(lines)) / 2)), line, face, colour,
                     anchor="lm")
        if row.fraction is not None and not fit.behind:
            draw_bar(draw, (fit.bar[0], cy - fit.bar_h / 2, fit.bar[1], cy + fit.bar_h / 2), row.fraction, TRACK,
                     ACCENT if row.strong else BAR)
        if row.value:
            put_text(draw, (x1, cy), row.value, face, colour, anchor="rm")


@dataclass(frozen=True)
class RowsFit:
    """How :func:`draw_rows` lays a panel's rows out (:func:`fit_rows`)."""

    row_h: float
    slices: tuple[int, ...]
    """The slices each row takes: one, or one for each line of a wrapped name."""
    size: int
    icon_px: int
    """The small emoji's size; 0 where they are left out."""
    name_x: float
    bar: tuple[float, float]
    """The bars' left and right ends, beside the names and values."""
    bar_h: int
    behind: bool
    """The bars go behind the rows' texts, across them: beside, they would be shorter than
    :data:`BAR_LEAST` times the text's size."""


@functools.lru_cache(maxsize=32)  # a panel is drawn again as its figures change; its layout seldom does
def fit_rows(frame: PanelFrame, rows: tuple[Row, ...], measure: tuple[Row, ...], slots: int | None,
             text_scale: float) -> RowsFit:
    """The layout of ``rows`` (their figures, fractions and values left out: they do not move it) in
    ``frame``'s body: a row of only a name too wide for the body at the smallest size takes a slice for
    each of its lines (:func:`row_lines`). Their text's size and the bars' length are fitted to
    ``measure`` (the rows with their widest figures: the same as the figures change), and a row takes as
    many slices as its measured one (the same but for its figures) where that takes more: a day's best
    of 1000 wrapping "Record du jour" moved every row below it."""
    x0, top, x1, bottom = frame.body
    probe = _MEASURE

    def lines(row: Row) -> int:
        return len(row_lines(probe, row, x1 - x0, frame.floor, steady))

    measured = {figureless(row.name): lines(row) for row in measure}
    slices = tuple(max(lines(row), measured.get(figureless(row.name), 0)) for row in rows)
    row_h = max(8.0, (bottom - top) / max(slots or len(rows), sum(slices)))
    size = int(min(max(frame.floor, min(row_h * 0.46, max(34, row_h * 0.3)) * text_scale),
                   max(frame.floor, row_h * 0.8)))
    bar_share = 0.25 / text_scale if any(r.fraction is not None for r in measure) else 0.0
    icons = any(r.icon for r in rows)
    while True:  # drop the small emoji, then shrink (not below the floor) until a row fits side by side
        bold = font(size, bold=True)
        icon_px = int(min(row_h * 0.72, size * 1.6)) if icons else 0
        gap = max(4, size // 2)
        name_w, value_w, _ = row_widths(probe, measure, bold)
        used = icon_px + name_w + value_w + 3 * gap + (x1 - x0) * bar_share
        longest = max(probe.textlength(r.name, font=bold) + (icon_px + gap if r.icon else 0) for r in (*rows, *measure))
        if max(used, longest) <= x1 - x0:
            break
        if size <= frame.floor:  # the bars take the room left; the small emoji go where names and values would touch
            if icons and max(used - (x1 - x0) * bar_share, longest) > x1 - x0:
                icons = False
                continue
            break
        if icons and text_scale > 1:
            icons = False
            continue
        size = max(frame.floor, int(size * 0.92))
    icon_px = icon_px if icon_px >= 10 else 0
    name_x = x0 + (icon_px + gap if icon_px else 0)
    bar = (name_x + name_w + gap, x1 - value_w - (gap if value_w else 0))
    return RowsFit(row_h, slices, size, icon_px, name_x, bar, max(4, int(min(row_h * 0.34, size * 0.8))),
                   bar[1] - bar[0] < BAR_LEAST * size)


def render_panel(view: PanelView, size: tuple[int, int], emojis: EmojiSet, text_scale: float = 1.0) -> tuple[Image.Image, Box4]:
    """The panel: big emoji, its name, seven labelled bars and the big button (see :class:`PanelFrame`).

    Returns the image and the button's box (x0, y0, x1, y1) in the image, for hit-testing.
    """
    rows = [Row(expression_name(label), (view.percents[i] if view.percents else 0) / 100,
                f"{view.percents[i]}%" if view.percents else "-", label, label == view.label,
                muted=not view.percents) for i, label in enumerate(CLASSES)]
    # measured with "100%" for every figure and every expression's name as the title: it keeps its shape
    # as the expression and the figures change; a longer title without a face ("No face found") takes
    # the room of the question mark over it (draw_head), so that a face's emoji is not made smaller for it
    widest = measured_rows()
    frame = panel_frame(size, text_scale, tuple(map(expression_name, CLASSES)), view.button, widest)
    image = Image.new("RGB", frame.size, PANEL)
    draw = ImageDraw.Draw(image)
    draw_head(image, draw, frame, view.label, view.title, TEXT if view.label else MUTED, emojis,
              own_face=True, shape=view.shape)
    draw_rows(image, draw, frame, rows, emojis, text_scale, measure=widest)
    draw_button(draw, frame, view.button, view.button_active)
    return image, frame.button


CHALLENGE_ROWS = 5
"""Rows of the challenge panel's body (time, hold and up to three lines), so they keep their place."""


def render_challenge(view: ChallengeView, size: tuple[int, int], emojis: EmojiSet, text_scale: float = 1.0) -> tuple[Image.Image, Box4]:
    """The challenge game's panel: the target emoji and name, time and hold bars, score lines, button."""
    rows, slots = view.rows, max(CHALLENGE_ROWS, len(view.rows))
    titles = (view.title, *map(expression_name, CLASSES), texts.MATCHED.format(points=100), texts.MISSED)
    measure = steady_rows(view.widest or rows)
    frame = panel_frame(size, text_scale, titles, view.button, measure, slots)
    image = Image.new("RGB", frame.size, PANEL)
    draw = ImageDraw.Draw(image)
    draw_head(image, draw, frame, view.target, view.title, ACCENT if view.good else TEXT, emojis)
    if rows:
        draw_rows(image, draw, frame, rows, emojis, text_scale, slots, measure=measure)
    draw_button(draw, frame, view.button, view.button_active)
    return image, frame.button


Line = tuple[str, ImageFont.ImageFont, tuple[int, int, int], float, "float | None"] | None
"""One line of a full-window screen: (text, font, colour, line height, indent in a left-aligned
block or None: centred); None is a gap."""


def centred_lines(draw: ImageDraw.ImageDraw, text: str, width: float, face: ImageFont.ImageFont,
                  colour: tuple[int, int, int], spacing: float) -> list[Line]:
    """``text`` wrapped to ``width`` as centred lines."""
    return [(t, face, colour, face.size * spacing, None) for t in wrap(text, width, face, draw)]


def draw_screen(image: Image.Image, compose: Callable[[float], tuple[float, Callable[[float], None], list[Line]]],
                spare_footer: bool = False) -> None:
    """A full-window screen: an icon over lines of text, all centred as one block; left-aligned
    lines form a block that is centred as a whole.

    ``compose(shrink)`` gives the icon's height, the function that draws it at a top y, and the
    lines, for fonts and icon shrunk by ``shrink`` (1 at first, smaller until the whole fits).
    Where even the smallest fonts do not fit (large text on a 3.5-inch screen), the lines stand
    closer, and with ``spare_footer`` the last paragraph (after the last gap) is left out; then the icon;
    then, while the lines are taller than the window, each is as tall as its own letters reach, and
    the tips (left-aligned lines from their first, unindented one) go, the last first.
    """
    draw = ImageDraw.Draw(image)
    w, h = image.size
    shrink = 1.0

    def height(lines: list[Line]) -> float:  # the icon, its gap and the lines
        return icon_h + gap + sum(gap if line is None else line[3] for line in lines)

    while True:
        icon_h, draw_icon, lines = compose(shrink)
        gap = min(w / 16, h / 9) * 0.45 * shrink
        if height(lines) <= h * 0.94 or shrink < 0.4:
            break
        shrink *= 0.9
    if height(lines) > h * 0.94:
        lines = [line and (*line[:3], min(line[3], line[1].size * 1.2), line[4]) for line in lines]
        if spare_footer and height(lines) > h * 0.94:
            lines = lines[:len(lines) - lines[::-1].index(None) - 1]
        if height(lines) > h * 0.94:
            icon_h, draw_icon = -gap, lambda y: None  # a long folder's name: the icon goes, and its gap
        if height(lines) > h:  # closer still, each line as tall as its own letters reach, before a tip goes
            lines = [line and (*line[:3], min(line[3], draw.textbbox((0, 0), line[0], font=line[1], anchor="la")[3]),
                               line[4]) for line in lines]
        tips = [i for i, line in enumerate(lines) if i and line is not None and line[4] == 0]
        while tips and height(lines) > h:  # a 320x320 window with large text: the last tip goes, whole
            lines = lines[:tips.pop()]
            while lines[-1] is None:
                lines.pop()
    total = height(lines)
    y = (h - total) / 2
    draw_icon(y)
    y += icon_h + gap
    block = max((line[4] + draw.textlength(line[0], font=line[1]) for line in lines
                 if line and line[4] is not None), default=0)
    for line in lines:
        if line is None:
            y += gap
            continue
        text, face, colour, height, offset = line
        if offset is None:
            put_text(draw, (w / 2, y), text, face, colour, anchor="ma")
        else:
            put_text(draw, ((w - block) / 2 + offset, y), text, face, colour, anchor="la")
        y += height


def screen_fonts(size: tuple[int, int], text_scale: float, shrink: float = 1.0
                 ) -> tuple[float, float, ImageFont.ImageFont, ImageFont.ImageFont, ImageFont.ImageFont]:
    """A full-window screen's unit, text width and title, detail and small fonts (times ``shrink``,
    never below the smallest text size)."""
    w, h = size
    unit = (min(w / 16, h / 9) if w >= h else min(w / 9, h / 16)) * shrink
    width = min(w * 0.9, unit * 13 * text_scale / shrink)
    return (unit, width, font(text_px(min(unit * 0.62, 72), text_scale), bold=True),
            font(text_px(min(unit * 0.38, 40), text_scale)), font(text_px(min(unit * 0.33, 34), text_scale)))


def render_message(size: tuple[int, int], title: str, detail: str, tips: list[str], footer: str,
                   text_scale: float = 1.0) -> Image.Image:
    """A full-window message: a crossed-out camera, a title, the source's sentence, tips, a footer.

    Everything is centred; the tips are a left-aligned block centred as a whole.
    """
    w, h = max(1, size[0]), max(1, size[1])
    image = Image.new("RGB", (w, h), BACKGROUND)
    draw = ImageDraw.Draw(image)

    def compose(shrink: float) -> tuple[float, Callable[[float], None], list[Line]]:
        unit, width, title_face, detail_face, tip_face = screen_fonts((w, h), text_scale, shrink)
        bullet = "\u2022  "
        indent = draw.textlength(bullet, font=tip_face)
        lines: list[Line] = centred_lines(draw, title, width, title_face, TEXT, 1.25)
        if detail:
            lines += [None, *centred_lines(draw, detail, width, detail_face, ACCENT, 1.4)]
        if tips:
            lines.append(None)
            for tip in tips:
                for n, text in enumerate(wrap(tip, width - indent, tip_face, draw)):
                    lines.append(((bullet if n == 0 else "") + text, tip_face, TEXT, tip_face.size * 1.5,
                                  0.0 if n == 0 else indent))
        if footer:
            lines += [None, *centred_lines(draw, footer, width, tip_face, MUTED, 1.5)]
        icon = unit * 1.6

        def camera(y: float) -> None:  # body, lens, viewfinder bump, and a slash through it
            cx = w / 2
            stroke = max(2, int(unit * 0.09))
            body = (cx - icon * 0.62, y + icon * 0.22, cx + icon * 0.62, y + icon * 0.95)
            draw.rounded_rectangle((cx - icon * 0.2, y + icon * 0.08, cx + icon * 0.2, y + icon * 0.3),
                                   radius=icon * 0.06, outline=MUTED, width=stroke)
            draw.rounded_rectangle(body, radius=icon * 0.14, fill=BACKGROUND, outline=MUTED, width=stroke)
            lens = icon * 0.22
            lens_y = (body[1] + body[3]) / 2
            draw.ellipse((cx - lens, lens_y - lens, cx + lens, lens_y + lens), outline=MUTED, width=stroke)
            draw.line((cx - icon * 0.55, y + icon, cx + icon * 0.55, y + icon * 0.05), fill=ACCENT,
                      width=stroke + 1)

        return icon, camera, lines

    draw_screen(image, compose, spare_footer=bool(footer))  # the footer says again that emojify keeps trying
    return image


def render_attract(size: tuple[int, int], view: AttractView, emojis: EmojiSet, text_scale: float = 1.0) -> Image.Image:
    """The attract screen: a big emoji, the invitation in the accent colour, what to do, and the
    notice (what the kiosk does with faces) in smaller, quieter type; all centred."""
    w, h = max(1, size[0]), max(1, size[1])
    image = Image.new("RGB", (w, h), BACKGROUND)
    draw = ImageDraw.Draw(image)

    def compose(shrink: float) -> tuple[float, Callable[[float], None], list[Line]]:
        unit, width, title_face, detail_face, small_face = screen_fonts((w, h), text_scale, shrink)
        title_face = font(int(title_face.size * 1.35), bold=True)
        lines: list[Line] = centred_lines(draw, view.title, width, title_face, ACCENT, 1.25)
        for text in view.lines:
            lines += centred_lines(draw, text, width, detail_face, TEXT, 1.4)
        if view.notice:
            lines.append(None)
            for text in view.notice:
                lines += centred_lines(draw, text, width, small_face, MUTED, 1.45)
        used = sum(unit * 0.45 if line is None else line[3] for line in lines)
        icon = int(max(16, min((h * 0.45 if w >= h else w * 0.6) * shrink, h * 0.9 - used - unit)))

        def emoji(y: float) -> None:
            picture = emojis.face(view.label, view.shape, icon)
            image.paste(picture, (int((w - icon) / 2), int(y)), picture)

        return icon, emoji, lines

    draw_screen(image, compose)
    return image
