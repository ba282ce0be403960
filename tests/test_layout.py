"""Where the picture and the panel go for every window shape, the first window's size, and --rotate."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from emojify.layout import SCREEN_SHARE, Rect, initial_size, layout, rotate_image, rotated_size, unrotate_point

WINDOWS = [(800, 480), (480, 800), (1024, 600), (600, 1024), (1280, 720), (720, 1280), (1100, 620),
           (1920, 1080), (1080, 1920), (3840, 2160), (2160, 3840), (640, 640), (320, 320)]
WIDE_PANEL = 216
"""About as wide as a panel beside the picture needs at the least: Spanish with large text needs 212 px
(``render.panel_least_width``), more than half a 320x320 window."""


def inside(rect: Rect, window: tuple[int, int]) -> bool:
    return rect.x >= 0 and rect.y >= 0 and rect.x + rect.w <= window[0] and rect.y + rect.h <= window[1]


def overlap(a: Rect, b: Rect) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("large_text", [False, True])
def test_picture_and_panel_fill_the_window_side_by_side_or_stacked(window: tuple[int, int], large_text: bool) -> None:
    lay = layout(window, large_text, WIDE_PANEL)
    feed, panel = lay.feed, lay.panel
    assert inside(feed, window) and inside(panel, window) and not overlap(feed, panel)
    if window[0] >= window[1]:
        assert not lay.portrait and panel.x > feed.x + feed.w, "the panel is beside the picture"
        assert panel.h == feed.h > window[1] * 0.9
    else:
        assert lay.portrait and panel.y > feed.y + feed.h, "the panel is below the picture"
        assert panel.w == feed.w > window[0] * 0.9
    # a quarter where the panel's rows need more than half the width (320x320 with large text)
    share = 0.25 if not lay.portrait and panel.w > window[0] / 2 else 0.3
    assert feed.w * feed.h > window[0] * window[1] * share, "the picture gets a good share of the window"


@pytest.mark.parametrize("width", [320, 360, 400])
def test_a_window_barely_taller_than_wide_keeps_a_picture(width: int) -> None:
    """With large text the panel below keeps its least height: a 320x324 window left the picture 1 px
    high (and the countdown cut off on it), 320x340 16 px. Beside, the picture is 86x64 there with the
    widest panel: the panel goes beside the picture wherever below it would leave the picture smaller."""
    beside = layout((width, width), True, WIDE_PANEL).feed
    for height in range(width + 1, width + 120, 3):
        feed = layout((width, height), True, WIDE_PANEL).feed
        shown = min(feed.w, feed.h * 4 / 3) * min(feed.h, feed.w * 3 / 4)  # a 4:3 camera's picture in it
        assert shown >= 0.9 * min(beside.w, beside.h * 4 / 3) * min(beside.h, beside.w * 3 / 4), (width, height)


@pytest.mark.parametrize("large_text", [False, True])
def test_the_panel_beside_the_picture_is_as_wide_as_its_rows_need(large_text: bool) -> None:
    """The panel beside a 320x320 window's picture was 216 px wide with large text in every language,
    as the longest language's rows needed: English's need 169, and its picture was 86x64 where 133x100
    was room. The panel takes the width its rows need where half the window is less, no more."""
    for least in (100, 169, 212):
        lay = layout((320, 320), large_text, least)
        assert lay.panel.w == max(least, 160) and lay.panel.x + lay.panel.w == 320 - 6
        assert lay.feed.w == 320 - 3 * 6 - lay.panel.w
    assert layout((1280, 720), large_text, 212) == layout((1280, 720), large_text), "a large window has room"


def test_large_text_gets_a_wider_panel_and_a_text_scale() -> None:
    normal, large = layout((1280, 720)), layout((1280, 720), large_text=True)
    assert normal.text_scale == 1 and large.text_scale > 1.2
    assert large.panel.w > normal.panel.w


def test_on_a_portrait_screen_the_picture_is_as_wide_as_the_window() -> None:
    """The old layout drew the picture 230 px wide in the middle of a 480x800 screen."""
    lay = layout((480, 800))
    assert lay.feed.w > 440 and lay.feed.h >= lay.feed.w * 0.7
    assert lay.panel.h > 350


@pytest.mark.parametrize("screen", [(480, 800), (800, 480), (1024, 600), (1280, 800), (1920, 1080), (3840, 2160),
                                    (600, 1024), (320, 240)])
def test_a_normal_window_never_opens_larger_than_the_screen(screen: tuple[int, int]) -> None:
    w, h = initial_size(screen)
    assert 0 < w <= screen[0] * SCREEN_SHARE and 0 < h <= screen[1] * SCREEN_SHARE
    assert (w >= h) == (screen[0] >= screen[1]), "a portrait screen gets a portrait window"


def test_on_a_large_screen_the_window_keeps_its_usual_size() -> None:
    assert initial_size((1920, 1080)) == (1100, 620) and initial_size((1080, 1920)) == (620, 1100)


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_a_touch_on_the_turned_picture_lands_where_it_was_drawn(rotate: int) -> None:
    drawn = (64, 40)
    window = rotated_size(drawn, rotate)
    assert sorted(window) == sorted(drawn)
    for mark in [(5, 3), (60, 10), (30, 35)]:
        image = Image.new("L", drawn, 0)
        image.putpixel(mark, 255)
        turned = rotate_image(image, rotate)
        assert turned.size == window
        ys, xs = np.nonzero(np.asarray(turned))
        touched = unrotate_point((xs[0] + 0.5, ys[0] + 0.5), window, rotate)
        assert touched == pytest.approx((mark[0] + 0.5, mark[1] + 0.5))


def test_rotate_turns_clockwise() -> None:
    """With --rotate 90 the top of the drawn picture is on the window's right (a screen turned
    90 degrees anticlockwise then shows it upright)."""
    image = Image.new("L", (40, 20), 0)
    image.paste(255, (0, 0, 40, 2))  # a line along the top
    turned = np.asarray(rotate_image(image, 90))
    assert turned.shape == (40, 20) and turned[:, -2:].all() and not turned[:, :-2].any()
