"""Where things go in the kiosk's window: pure functions of the window's size.

:func:`layout` puts the panel beside the picture on a landscape window and below it on a portrait
one, and says how much larger texts are drawn (``--large-text``). :func:`initial_size` keeps a
normal window inside the screen. ``--rotate`` serves screens mounted turned when the system does
not rotate them: everything is laid out and drawn for :func:`rotated_size`, the finished picture
is turned with :func:`rotate_image`, and a touch is mapped back with :func:`unrotate_point`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

MIN_TEXT_PX = 14
"""No text is drawn smaller than this font size (pixels), from 480x320 and 320x480 up."""
LARGE_TEXT = 1.3
"""How much larger every text is with ``--large-text``."""


def min_text(text_scale: float = 1.0) -> int:
    """The smallest font size drawn (pixels) at this text scale."""
    return int(MIN_TEXT_PX * text_scale)

DEFAULT_WINDOW = (1100, 620)
"""A normal window's size on a large landscape screen (turned round on a portrait one)."""
SCREEN_SHARE = 0.9
"""A normal window opens at most this share of the screen's width and height."""
MIN_WINDOW = (320, 320)
"""The smallest window the kiosk lets itself be shrunk to."""

_TRANSPOSE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


@dataclass(frozen=True)
class Rect:
    """A rectangle in window pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def size(self) -> tuple[int, int]:
        return self.w, self.h

    def contains(self, point: tuple[float, float]) -> bool:
        return self.x <= point[0] <= self.x + self.w and self.y <= point[1] <= self.y + self.h


@dataclass(frozen=True)
class Layout:
    """Where the picture and the panel go, and how large texts are drawn (a factor, 1 normally)."""

    window: tuple[int, int]
    feed: Rect
    panel: Rect
    portrait: bool
    text_scale: float


PANEL_LEAST = 13
"""A panel below the picture is at least this many times its smallest text high: seven rows (1.2 each:
an accent clears a descender), the button (2.4) and their margins. On a small portrait screen
(320x400 with large text) the picture gives way, not the rows."""
PANEL_SIDE_BY_SIDE = 22
"""A panel below the picture puts the big emoji beside the rows where it is at least this many times
its smallest text wide (a title's word, a name, a bar and "100%"); a narrower one stacks them, and
is then at least :data:`PANEL_STACKED` times that text high (320x480 with large text)."""
PANEL_STACKED = 17


def padding(size: tuple[int, int]) -> int:
    """The gap between the window's edge, the picture and the panel."""
    return int(min(24, max(6, min(size) * 0.02)))


def text_scale_of(large_text: bool) -> float:
    """How much larger texts are drawn: :data:`LARGE_TEXT` with ``--large-text``, else 1."""
    return LARGE_TEXT if large_text else 1.0


def layout(size: tuple[int, int], large_text: bool = False, panel_least: int = 0) -> Layout:
    """The panel beside the picture on a landscape window, below it on a portrait one.

    Beside: the panel takes about a third of the width (more with large text), at most half of it
    unless its rows need more: ``panel_least`` pixels, as :func:`emojify.render.panel_least_width`
    measures them for the language shown (:func:`emojify.render.kiosk_layout`: an English panel leaves
    a 320x320 window's picture 133x100 with large text, a Spanish one 90x68). Below: the picture keeps
    its 4:3 shape across the width, up to half the height, and the panel takes the rest (at least
    :data:`PANEL_LEAST` lines).
    A window barely taller than wide (320x330 with large text) puts the panel beside the picture too,
    where below it would leave the picture smaller.
    """
    w, h = max(1, size[0]), max(1, size[1])
    pad = padding((w, h))
    text_scale = text_scale_of(large_text)
    share = 0.32 * (1.12 if large_text else 1.0)
    half = max(w * 0.5, panel_least)
    panel_w = int(min(max(w * share, 240 * text_scale), half, 0.3 * w + 400))
    beside = Layout((w, h), Rect(pad, pad, max(1, w - panel_w - 3 * pad), max(1, h - 2 * pad)),
                    Rect(w - panel_w - pad, pad, max(1, panel_w), max(1, h - 2 * pad)), False, text_scale)
    if w >= h:
        return beside
    floor = min_text(text_scale)
    least = PANEL_LEAST if w - 2 * pad >= PANEL_SIDE_BY_SIDE * floor else PANEL_STACKED
    feed_h = max(1, int(min((w - 2 * pad) * 0.75, h * 0.5, h - 3 * pad - least * floor)))
    below = Layout((w, h), Rect(pad, pad, max(1, w - 2 * pad), max(1, feed_h)),
                   Rect(pad, feed_h + 2 * pad, max(1, w - 2 * pad), max(1, h - feed_h - 3 * pad)), True, text_scale)
    return below if picture_area(below.feed) >= picture_area(beside.feed) else beside


def picture_area(rect: Rect) -> float:
    """The area of a 4:3 camera picture fitted into ``rect``."""
    return min(rect.w, rect.h * 4 / 3) * min(rect.h, rect.w * 3 / 4)


def initial_size(screen: tuple[int, int]) -> tuple[int, int]:
    """A normal window's size: :data:`DEFAULT_WINDOW` (turned for a portrait screen), at most
    :data:`SCREEN_SHARE` of the screen's width and height."""
    wanted = DEFAULT_WINDOW if screen[0] >= screen[1] else DEFAULT_WINDOW[::-1]
    return (max(1, min(wanted[0], int(screen[0] * SCREEN_SHARE))),
            max(1, min(wanted[1], int(screen[1] * SCREEN_SHARE))))


def rotated_size(size: tuple[int, int], rotate: int) -> tuple[int, int]:
    """The size to lay out and draw for a window of ``size`` turned by ``rotate`` degrees."""
    return (size[1], size[0]) if rotate in (90, 270) else (size[0], size[1])


def rotate_image(image: Image.Image, rotate: int) -> Image.Image:
    """The drawn picture turned ``rotate`` degrees clockwise, ready for the window."""
    return image if rotate == 0 else image.transpose(_TRANSPOSE[rotate])


def unrotate_point(point: tuple[float, float], window: tuple[int, int], rotate: int) -> tuple[float, float]:
    """Where a touch at ``point`` on the window lies in the drawn (unturned) picture."""
    x, y = point
    w, h = window
    if rotate == 90:
        return y, w - x
    if rotate == 180:
        return w - x, h - y
    if rotate == 270:
        return h - y, x
    return x, y
