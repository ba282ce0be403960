"""What the kiosk shows, drawn with Pillow: pure functions from arrays and values to images.

The live picture (mirrored, capture region dimmed around, face boxed), the side panel (big emoji,
label, seven probability bars, the snapshot button) and the full-window "no camera" message.
Nothing here touches Tk, so every screen can be rendered and checked without a display.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from emojify.emojis import EmojiSet
from emojify.labels import CLASSES
from emojify.pipeline import Face, Result
from emojify.preprocess import Box

BACKGROUND = (22, 24, 31)
PANEL = (33, 36, 46)
TEXT = (238, 240, 245)
MUTED = (140, 147, 164)
TRACK = (55, 59, 73)
BAR = (104, 113, 138)
ACCENT = (255, 199, 64)
ACCENT_DARK = (40, 30, 6)
HIGHLIGHT = (62, 56, 40)
GUIDE = (255, 255, 255)
ERROR = (235, 87, 87)
OK = (76, 200, 120)
DIM = 0.4
"""Brightness of the picture outside the capture region."""


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


def display_name(label: str) -> str:
    """A class label as shown on screen: ``"happy"`` -> ``"Happy"``."""
    return label.capitalize()


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def fit(size: tuple[int, int], into: tuple[int, int]) -> tuple[int, int]:
    """The largest ``(w, h)`` with the aspect of ``size`` that fits ``into``."""
    scale = min(into[0] / size[0], into[1] / size[1])
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def mirror_box(box: Box, frame_width: int) -> Box:
    """``box`` in the horizontally flipped frame (what the visitor sees, as in a mirror)."""
    x, y, w, h = box
    return frame_width - x - w, y, w, h


def wrap(text: str, width: float, face: ImageFont.ImageFont, draw: ImageDraw.ImageDraw) -> list[str]:
    """``text`` broken into lines no wider than ``width`` pixels (a long word keeps its line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=face) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def draw_pill(image: Image.Image, center: tuple[float, float], text: str, face: ImageFont.ImageFont,
              fill: tuple[int, int, int], background: tuple[int, int, int, int]) -> None:
    """A rounded, translucent label with ``text`` centred at ``center``, drawn into ``image``."""
    probe = ImageDraw.Draw(image)
    left, _, right, _ = probe.textbbox((0, 0), text, font=face, anchor="lt")
    pad_x, pad_y = face.size * 0.9, face.size * 0.45
    w, h = right - left + 2 * pad_x, face.size + 2 * pad_y
    x0 = int(clamp(center[0] - w / 2, 0, max(0, image.width - w)))
    y0 = int(clamp(center[1] - h / 2, 0, max(0, image.height - h)))
    area = (x0, y0, min(image.width, x0 + int(w) + 1), min(image.height, y0 + int(h) + 1))
    patch = image.crop(area).convert("RGBA")
    overlay = Image.new("RGBA", patch.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rounded_rectangle((0, 0, patch.width - 1, patch.height - 1), radius=patch.height // 2, fill=background)
    draw.text((patch.width / 2, patch.height / 2), text, font=face, fill=fill, anchor="mm")
    image.paste(Image.alpha_composite(patch, overlay).convert("RGB"), area[:2])


def draw_corners(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], width: int) -> None:
    """Four L-shaped corner marks around ``box`` (x0, y0, x1, y1): the capture-region guide."""
    x0, y0, x1, y1 = box
    arm = min(x1 - x0, y1 - y0) * 0.14
    for cx, cy, dx, dy in ((x0, y0, 1, 1), (x1, y0, -1, 1), (x0, y1, 1, -1), (x1, y1, -1, -1)):
        draw.line([(cx, cy + dy * arm), (cx, cy), (cx + dx * arm, cy)], fill=GUIDE, width=width, joint="curve")
        for px, py in ((cx, cy + dy * arm), (cx + dx * arm, cy)):  # round the ends
            r = width / 2
            draw.ellipse((px - r, py - r, px + r, py + r), fill=GUIDE)


def render_feed(frame: np.ndarray, size: tuple[int, int], result: Result | None, emojis: EmojiSet, *,
                live: bool = True, hint: str | None = None,
                banner: tuple[str, tuple[int, int, int]] | None = None, countdown: int | None = None
                ) -> Image.Image:
    """The camera picture, mirrored and fitted into ``size``, with its overlays.

    Live: the capture region is a bright window with corner marks in a dimmed picture and the
    face is boxed with its emoji beside it; ``hint`` is shown at the bottom. A still
    (``live=False``) is framed like a photo. ``banner`` (text, colour) is shown at the top, and
    ``countdown`` as a big number in a disc in the middle.
    """
    rows, cols = frame.shape[:2]
    dw, dh = fit((cols, rows), size)
    shrink = dw < cols
    view = cv2.resize(frame, (dw, dh), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    view = cv2.cvtColor(cv2.flip(view, 1), cv2.COLOR_BGR2RGB if view.ndim == 3 else cv2.COLOR_GRAY2RGB)
    sx, sy = dw / cols, dh / rows
    stroke = max(2, round(min(dw, dh) / 110))

    def scaled(box: Box) -> tuple[float, float, float, float]:
        x, y, w, h = mirror_box(box, cols)
        return x * sx, y * sy, (x + w) * sx, (y + h) * sy

    region = scaled(result.region) if live and result is not None and result.region is not None else None
    if region is not None and (region[2] - region[0]) < dw * 0.98:
        x0, y0, x1, y1 = (round(v) for v in region)
        dimmed = cv2.convertScaleAbs(view, alpha=DIM)
        dimmed[y0:y1, x0:x1] = view[y0:y1, x0:x1]
        view = dimmed
    else:
        region = None
    image = Image.fromarray(view)
    draw = ImageDraw.Draw(image)
    if region is not None:
        draw_corners(draw, region, stroke + 1)
    if result is not None and result.box is not None:
        bx0, by0, bx1, by1 = scaled(result.box)
        draw.rounded_rectangle((bx0, by0, bx1, by1), radius=(bx1 - bx0) * 0.08, outline=ACCENT, width=stroke)
        if result.label is not None:
            badge = int(clamp((bx1 - bx0) * 0.38, 24, dh * 0.25))
            icon = emojis.scaled(result.label, badge)
            px = int(clamp(bx1 - badge * 0.55, 0, dw - badge))
            py = int(clamp(by0 - badge * 0.45, 0, dh - badge))
            image.paste(icon, (px, py), icon)
    if result is not None and len(result.faces) > 1:
        draw_other_faces(image, result.faces[1:], emojis, scaled, stroke)
    if not live:
        border = max(4, round(min(dw, dh) * 0.018))
        draw.rectangle((0, 0, dw - 1, dh - 1), outline=(255, 255, 255), width=border)
    text_size = int(clamp(dh * 0.045, 12, 44))
    if hint:
        draw_pill(image, (dw / 2, dh - text_size * 2.2), hint, font(text_size, bold=True), TEXT, (10, 12, 18, 200))
    if banner:
        text, colour = banner
        draw_pill(image, (dw / 2, text_size * 2.0), text, font(text_size, bold=True), (255, 255, 255),
                  (*colour, 225))
    if countdown is not None:
        draw_pill(image, (dw / 2, dh / 2), str(countdown), font(int(min(dw, dh) * 0.22), bold=True), ACCENT,
                  (10, 12, 18, 130))
    return image


def draw_other_faces(image: Image.Image, faces: tuple[Face, ...], emojis: EmojiSet,
                     scaled: Callable[[Box], tuple[float, float, float, float]], stroke: int) -> None:
    """Party mode: every face besides the largest gets a thin box and its own emoji at its head."""
    draw = ImageDraw.Draw(image)
    dw, dh = image.size
    for face in faces:
        bx0, by0, bx1, by1 = scaled(face.box)
        draw.rounded_rectangle((bx0, by0, bx1, by1), radius=(bx1 - bx0) * 0.08, outline=ACCENT,
                               width=max(1, stroke // 2))
        if face.label is None:
            continue
        badge = int(clamp((bx1 - bx0) * 0.5, 20, dh * 0.2))
        icon = emojis.scaled(face.label, badge)
        px = int(clamp((bx0 + bx1 - badge) / 2, 0, dw - badge))
        py = int(clamp(by0 - badge * 1.05, 0, dh - badge))
        image.paste(icon, (px, py), icon)


@dataclass(frozen=True)
class PanelView:
    """What the right-hand panel shows; equal views draw equal pictures (so redraws can be skipped)."""

    label: str | None
    percents: tuple[int, ...] | None
    title: str
    button: str
    button_active: bool = True


def panel_view(result: Result | None, title_if_none: str, button: str, active: bool = True) -> PanelView:
    """The panel for a result: its emoji, name and rounded percentages."""
    if result is None or result.label is None or result.probabilities is None:
        return PanelView(None, None, title_if_none, button, active)
    percents = tuple(round(float(p) * 100) for p in result.probabilities)
    return PanelView(result.label, percents, display_name(result.label), button, active)


def render_panel(view: PanelView, size: tuple[int, int], emojis: EmojiSet
                 ) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The right-hand panel: big emoji, its name, seven labelled bars and the big button.

    Returns the image and the button's box (x0, y0, x1, y1) in the image, for hit-testing.
    """
    w, h = max(1, size[0]), max(1, size[1])
    image = Image.new("RGB", (w, h), PANEL)
    draw = ImageDraw.Draw(image)
    pad = int(clamp(min(w, h) * 0.055, 8, 40))
    button_h = int(clamp(h * 0.13, 44, 130))
    button = (pad, h - pad - button_h, w - pad, h - pad)

    emoji_size = int(max(16, min(w - 2 * pad, h * 0.3)))
    ex, ey = (w - emoji_size) // 2, pad
    if view.label is not None:
        icon = emojis.scaled(view.label, emoji_size)
        image.paste(icon, (ex, ey), icon)
    else:  # an empty face-shaped placeholder
        ring = max(2, emoji_size // 40)
        inset = emoji_size * 0.06
        draw.ellipse((ex + inset, ey + inset, ex + emoji_size - inset, ey + emoji_size - inset),
                     outline=TRACK, width=ring)
        draw.text((w / 2, ey + emoji_size / 2), "?", font=font(emoji_size // 2, bold=True), fill=TRACK,
                  anchor="mm")
    title_face = font(int(clamp(h * 0.055, 14, 60)), bold=True)
    title_y = ey + emoji_size + pad * 0.5
    draw.text((w / 2, title_y), view.title, font=title_face, fill=TEXT if view.label else MUTED, anchor="mt")

    top = title_y + title_face.size * 1.25 + pad * 0.5
    bottom = button[1] - pad * 0.6
    row_h = max(8.0, (bottom - top) / len(CLASSES))
    text_px = int(clamp(row_h * 0.46, 9, 34))
    regular, bold = font(text_px), font(text_px, bold=True)
    icon_px = int(row_h * 0.72)
    gap = max(4, text_px // 2)
    name_w = max(draw.textlength(display_name(c), font=bold) for c in CLASSES)
    pct_w = draw.textlength("100%", font=bold)
    name_x = pad + icon_px + gap
    bar_x0, bar_x1 = name_x + name_w + gap, w - pad - pct_w - gap
    bar_h = max(4, int(row_h * 0.34))
    for i, label in enumerate(CLASSES):
        cy = top + row_h * (i + 0.5)
        winner = label == view.label
        if winner:
            draw.rounded_rectangle((pad * 0.4, cy - row_h * 0.47, w - pad * 0.4, cy + row_h * 0.47),
                                   radius=row_h * 0.3, fill=HIGHLIGHT)
        if icon_px >= 10:
            icon = emojis.scaled(label, icon_px)
            image.paste(icon, (pad, int(cy - icon_px / 2)), icon)
        face = bold if winner else regular
        colour = ACCENT if winner else TEXT
        draw.text((name_x, cy), display_name(label), font=face, fill=colour, anchor="lm")
        percent = view.percents[i] if view.percents else 0
        if bar_x1 - bar_x0 > bar_h:
            draw.rounded_rectangle((bar_x0, cy - bar_h / 2, bar_x1, cy + bar_h / 2), radius=bar_h / 2, fill=TRACK)
            filled = (bar_x1 - bar_x0) * percent / 100
            if filled >= 1:
                draw.rounded_rectangle((bar_x0, cy - bar_h / 2, bar_x0 + max(filled, bar_h), cy + bar_h / 2),
                                       radius=bar_h / 2, fill=ACCENT if winner else BAR)
        draw.text((w - pad, cy), f"{percent}%" if view.percents else "-", font=face,
                  fill=colour if view.percents else MUTED, anchor="rm")

    draw.rounded_rectangle(button, radius=button_h * 0.28, fill=ACCENT if view.button_active else TRACK)
    button_face = font(int(clamp(button_h * 0.36, 12, 48)), bold=True)
    draw.text(((button[0] + button[2]) / 2, (button[1] + button[3]) / 2), view.button, font=button_face,
              fill=ACCENT_DARK if view.button_active else TEXT, anchor="mm")
    return image, button


def render_message(size: tuple[int, int], title: str, detail: str, tips: list[str], footer: str
                   ) -> Image.Image:
    """A full-window message: a crossed-out camera, a title, the source's sentence, tips, a footer.

    Everything is centred; the tips are a left-aligned block centred as a whole.
    """
    w, h = max(1, size[0]), max(1, size[1])
    image = Image.new("RGB", (w, h), BACKGROUND)
    draw = ImageDraw.Draw(image)
    unit = min(w / 16, h / 9)
    width = min(w * 0.86, unit * 13)
    title_face = font(int(clamp(unit * 0.62, 16, 72)), bold=True)
    detail_face = font(int(clamp(unit * 0.38, 12, 40)))
    tip_face = font(int(clamp(unit * 0.33, 11, 34)))
    bullet = "\u2022  "
    indent = draw.textlength(bullet, font=tip_face)

    # (text, font, colour, line height, indent in the tips block or None: centred); None: a gap
    lines: list[tuple[str, ImageFont.ImageFont, tuple[int, int, int], float, float | None] | None] = []
    lines += [(t, title_face, TEXT, title_face.size * 1.25, None) for t in wrap(title, width, title_face, draw)]
    if detail:
        lines += [None] + [(t, detail_face, ACCENT, detail_face.size * 1.4, None)
                           for t in wrap(detail, width, detail_face, draw)]
    if tips:
        lines.append(None)
        for tip in tips:
            for n, text in enumerate(wrap(tip, width - indent, tip_face, draw)):
                lines.append(((bullet if n == 0 else "") + text, tip_face, TEXT, tip_face.size * 1.5,
                              0.0 if n == 0 else indent))
    if footer:
        lines += [None, (footer, tip_face, MUTED, tip_face.size * 1.5, None)]
    gap = unit * 0.45
    icon = unit * 1.6
    total = icon + gap + sum(gap if line is None else line[3] for line in lines)
    y = (h - total) / 2

    cx = w / 2  # camera icon: body, lens, viewfinder bump, and a slash through it
    stroke = max(2, int(unit * 0.09))
    body = (cx - icon * 0.62, y + icon * 0.22, cx + icon * 0.62, y + icon * 0.95)
    draw.rounded_rectangle((cx - icon * 0.2, y + icon * 0.08, cx + icon * 0.2, y + icon * 0.3),
                           radius=icon * 0.06, outline=MUTED, width=stroke)
    draw.rounded_rectangle(body, radius=icon * 0.14, fill=BACKGROUND, outline=MUTED, width=stroke)
    lens = icon * 0.22
    lens_y = (body[1] + body[3]) / 2
    draw.ellipse((cx - lens, lens_y - lens, cx + lens, lens_y + lens), outline=MUTED, width=stroke)
    draw.line((cx - icon * 0.55, y + icon, cx + icon * 0.55, y + icon * 0.05), fill=ACCENT, width=stroke + 1)
    y += icon + gap

    block = max((line[4] + draw.textlength(line[0], font=line[1]) for line in lines
                 if line and line[4] is not None), default=0)
    for line in lines:
        if line is None:
            y += gap
            continue
        text, face, colour, height, offset = line
        if offset is None:
            draw.text((w / 2, y), text, font=face, fill=colour, anchor="ma")
        else:
            draw.text(((w - block) / 2 + offset, y), text, font=face, fill=colour, anchor="la")
        y += height
    return image


