#!/usr/bin/env python3
"""How big the panel's emoji is drawn, by window size, text size and language, and how long a redraw takes.

    python packaging/panel_sizes.py [--windows 480x320 320x480 800x480] [--languages en de] [--redraws 200] [--json]

For each window, with normal and large text and in each language, lays the window out as the kiosk
does (:func:`emojify.render.kiosk_layout`) and renders the live panel (a face's emoji, surprise at 100%)
and the challenge's panel (a target being played), reporting the picture's and the panel's sizes and
the side in pixels the big emoji of each was drawn at. The panel is measured for its texts, so on a
small screen its big emoji gives way first: this is the figure to watch when a translation or a
layout change moves the texts. With ``--redraws N`` it also draws each panel N times more as the
kiosk does while a face is read (the live panel's figures moving by a few points, the challenge's
seconds counting down) and reports the median milliseconds of one redraw, on this machine's processor
(named in the report). No camera, window or model is needed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from emojify import texts
from emojify.bench import cpu_name
from emojify.challenge import Rules
from emojify.emojis import EmojiSet, load_emoji_set
from emojify.labels import CLASSES
from emojify.render import kiosk_layout, render_challenge, render_panel
from emojify.screens import challenge_widest, score_rows
from emojify.views import ChallengeView, PanelView, Row

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with, number, one_line_errors, screen_size  # the script beside this one

DEFAULT_WINDOWS = ("320x320", "480x320", "320x480", "800x480", "480x800", "1280x720", "1920x1080")


class FirstEmoji:
    """An emoji set that notes the size of the first emoji drawn from it (the panel's big one: the
    head is drawn before the rows' small ones) and draws it as ``emojis`` would."""

    def __init__(self, emojis: EmojiSet) -> None:
        self.emojis, self.size = emojis, None

    def _note(self, size: int) -> None:
        if self.size is None:
            self.size = size

    def face(self, label, shape, size):
        self._note(size)
        return self.emojis.face(label, shape, size)

    def scaled(self, label, size):
        self._note(size)
        return self.emojis.scaled(label, size)

    def __getattr__(self, name):
        return getattr(self.emojis, name)


def big_emoji(render, view, size: tuple[int, int], emojis: EmojiSet, text_scale: float) -> int | None:
    """The side of the big emoji ``render`` draws for ``view`` on a panel of ``size`` (None: none drawn)."""
    noting = FirstEmoji(emojis)
    render(view, size, noting, text_scale=text_scale)
    return noting.size


def redraw_ms(render, views: list, size: tuple[int, int], emojis: EmojiSet, text_scale: float) -> float:
    """The median milliseconds ``render`` takes to draw each of ``views`` in turn on a panel of ``size``."""
    took = []
    for view in views:
        start = time.perf_counter()
        render(view, size, emojis, text_scale=text_scale)
        took.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(took), 3)


def measure(window: tuple[int, int], large_text: bool, language: str, emojis: EmojiSet, redraws: int = 0) -> dict:
    """One line of the report: the layout's parts and the two panels' big emoji (and the median
    milliseconds of one of ``redraws`` redraws of each)."""
    texts.set_language(language)
    lay = kiosk_layout(window, large_text)
    live = PanelView("surprise", tuple(100 if label == "surprise" else 0 for label in CLASSES), texts.expression_name("surprise"),
                     texts.SNAPSHOT_BUTTON)
    widest = challenge_widest(Rules())
    playing = ChallengeView("surprise", texts.expression_name("surprise"), (
        Row(texts.TIME, 0.6, texts.SECONDS.format(seconds=5)), Row(texts.HOLD, 0.4, strong=True),
        *score_rows(1, 5, 0, 0)), texts.PLAYING, False, widest=widest)
    line = {"window": "x".join(map(str, window)), "large_text": large_text, "language": language,
            "picture": "x".join(map(str, lay.feed.size)), "panel": "x".join(map(str, lay.panel.size)),
            "emoji_px": big_emoji(render_panel, live, lay.panel.size, emojis, lay.text_scale),
            "challenge_emoji_px": big_emoji(render_challenge, playing, lay.panel.size, emojis, lay.text_scale)}
    if redraws:
        moving = [PanelView("surprise", tuple(60 + n % 30 if label == "surprise" else n % 7 for label in CLASSES),
                            texts.expression_name("surprise"), texts.SNAPSHOT_BUTTON) for n in range(redraws)]
        counting = [ChallengeView("surprise", texts.expression_name("surprise"), (
            Row(texts.TIME, 1 - n % 10 / 10, texts.SECONDS.format(seconds=10 - n % 10)),
            Row(texts.HOLD, n % 5 / 5, strong=n % 5 > 0), *score_rows(1, 5, 0, 0)), texts.PLAYING, False, widest=widest)
            for n in range(redraws)]
        line |= {"panel_redraw_ms": redraw_ms(render_panel, moving, lay.panel.size, emojis, lay.text_scale),
                 "challenge_redraw_ms": redraw_ms(render_challenge, counting, lay.panel.size, emojis, lay.text_scale),
                 "cpu": cpu_name()}
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", nargs="+", type=screen_size, metavar="WxH",
                        default=list(DEFAULT_WINDOWS),
                        help=f"window sizes (default: {' '.join(DEFAULT_WINDOWS)})")
    parser.add_argument("--languages", nargs="+", choices=texts.LANGUAGES, default=list(texts.LANGUAGES),
                        help="languages (default: all)")
    parser.add_argument("--redraws", type=number(int, 0, 100_000), default=0, metavar="N",
                        help="also time N redraws of each panel, figures moving (default: 0, none)")
    parser.add_argument("--json", action="store_true", help="one JSON list instead of the table")
    args = parser.parse_args()
    with one_line_errors(parser):
        emojis = load_emoji_set()
        lines = [measure(tuple(map(int, window.split("x"))), large, language, emojis, args.redraws)
                 for window in args.windows for large in (False, True) for language in args.languages]
    if args.json:
        print(json.dumps(lines, indent=1))
        return 0
    timed = " panel ms challenge ms" if args.redraws else ""
    if args.redraws:
        print(f"median of {args.redraws} redraws, {cpu_name() or 'this processor'}")
    print(f"{'window':>10} {'text':>6} {'lang':>4} {'picture':>10} {'panel':>9} {'emoji':>6} {'challenge':>9}{timed}")
    for line in lines:
        times = f" {line['panel_redraw_ms']:>8} {line['challenge_redraw_ms']:>12}" if args.redraws else ""
        print(f"{line['window']:>10} {'large' if line['large_text'] else 'normal':>6} {line['language']:>4} "
              f"{line['picture']:>10} {line['panel']:>9} {line['emoji_px']:>6} {line['challenge_emoji_px']:>9}{times}")
    return 0


if __name__ == "__main__":
    exit_with(main)
