#!/usr/bin/env python3
"""How big the panel's emoji is drawn, by window size, text size and language.

    python packaging/panel_sizes.py [--windows 480x320 320x480 800x480] [--languages en de] [--json]

For each window, with normal and large text and in each language, lays the window out as the kiosk
does (:func:`emojify.render.kiosk_layout`) and renders the live panel (a face's emoji, surprise at 100%)
and the challenge's panel (a target being played), reporting the picture's and the panel's sizes and
the side in pixels the big emoji of each was drawn at. The panel is measured for its texts, so on a
small screen its big emoji gives way first: this is the figure to watch when a translation or a
layout change moves the texts. No camera, window or model is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emojify import texts
from emojify.challenge import Rules
from emojify.emojis import EmojiSet, load_emoji_set
from emojify.labels import CLASSES
from emojify.render import kiosk_layout, render_challenge, render_panel
from emojify.screens import challenge_widest, score_rows
from emojify.views import ChallengeView, PanelView, Row

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_common import exit_with, one_line_errors, screen_size  # the script beside this one

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


def measure(window: tuple[int, int], large_text: bool, language: str, emojis: EmojiSet) -> dict:
    """One line of the report: the layout's parts and the two panels' big emoji."""
    texts.set_language(language)
    lay = kiosk_layout(window, large_text)
    live = PanelView("surprise", tuple(100 if label == "surprise" else 0 for label in CLASSES), texts.expression_name("surprise"),
                     texts.SNAPSHOT_BUTTON)
    widest = challenge_widest(Rules())
    playing = ChallengeView("surprise", texts.expression_name("surprise"), (
        Row(texts.TIME, 0.6, texts.SECONDS.format(seconds=5)), Row(texts.HOLD, 0.4, strong=True),
        *score_rows(1, 5, 0, 0)), texts.PLAYING, False, widest=widest)
    return {"window": "x".join(map(str, window)), "large_text": large_text, "language": language,
            "picture": "x".join(map(str, lay.feed.size)), "panel": "x".join(map(str, lay.panel.size)),
            "emoji_px": big_emoji(render_panel, live, lay.panel.size, emojis, lay.text_scale),
            "challenge_emoji_px": big_emoji(render_challenge, playing, lay.panel.size, emojis, lay.text_scale)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", nargs="+", type=screen_size, metavar="WxH",
                        default=list(DEFAULT_WINDOWS),
                        help=f"window sizes (default: {' '.join(DEFAULT_WINDOWS)})")
    parser.add_argument("--languages", nargs="+", choices=texts.LANGUAGES, default=list(texts.LANGUAGES),
                        help="languages (default: all)")
    parser.add_argument("--json", action="store_true", help="one JSON list instead of the table")
    args = parser.parse_args()
    with one_line_errors(parser):
        emojis = load_emoji_set()
        lines = [measure(tuple(map(int, window.split("x"))), large, language, emojis)
                 for window in args.windows for large in (False, True) for language in args.languages]
    if args.json:
        print(json.dumps(lines, indent=1))
        return 0
    print(f"{'window':>10} {'text':>6} {'lang':>4} {'picture':>10} {'panel':>9} {'emoji':>6} {'challenge':>9}")
    for line in lines:
        print(f"{line['window']:>10} {'large' if line['large_text'] else 'normal':>6} {line['language']:>4} "
              f"{line['picture']:>10} {line['panel']:>9} {line['emoji_px']:>6} {line['challenge_emoji_px']:>9}")
    return 0


if __name__ == "__main__":
    exit_with(main)
