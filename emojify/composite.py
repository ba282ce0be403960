"""Composite pictures (photo + face box + emoji + label) and saving them safely.

Used for ``emojify predict --out`` and for kiosk snapshots. Files are written to a temporary
name in the same folder and renamed, so a crash or power cut never leaves half a PNG, and names
carry the time plus a counter, so two snapshots in the same second never overwrite each other.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from emojify.emojis import EmojiSet
from emojify.fileio import atomic_path
from emojify.pipeline import Result

BOX_COLOUR = (60, 220, 90)
BACKGROUND = (250, 250, 250)


def bgr_to_pil(frame: np.ndarray) -> Image.Image:
    """An OpenCV BGR (or gray) frame as an RGB Pillow image."""
    if frame.ndim == 2:
        return Image.fromarray(frame).convert("RGB")
    return Image.fromarray(np.ascontiguousarray(frame[:, :, 2::-1]))


def compose(frame: np.ndarray, result: Result, emojis: EmojiSet) -> Image.Image:
    """The photo with the face boxed, and beside it the emoji and its label (or "no face")."""
    photo = bgr_to_pil(frame)
    width, height = photo.size
    side = max(160, height)
    canvas = Image.new("RGB", (width + side, max(height, side)), BACKGROUND)
    canvas.paste(photo, (0, 0))
    draw = ImageDraw.Draw(canvas)
    if result.box is not None:
        x, y, w, h = result.box
        draw.rectangle((x, y, x + w, y + h), outline=BOX_COLOUR, width=max(2, width // 200))
    font = ImageFont.load_default(size=max(14, side // 10))
    if result.label is not None:
        emoji_size = int(side * 0.7)
        icon = emojis.scaled(result.label, emoji_size)
        canvas.paste(icon, (width + (side - emoji_size) // 2, side // 20), icon)
        caption = f"{result.label} {float(np.max(result.probabilities)):.0%}"
    else:
        caption = "no face"
    draw.text((width + side // 2, int(side * 0.88)), caption, fill=(30, 30, 30), font=font, anchor="mm")
    return canvas


def unique_name(folder: Path, prefix: str, now: dt.datetime | None = None) -> Path:
    """``<prefix>-YYYYmmdd-HHMMSS-NNN.png`` in ``folder`` that does not exist yet."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    for n in range(1, 100_000):
        path = folder / f"{prefix}-{stamp}-{n:03d}.png"
        if not path.exists():
            return path
    raise FileExistsError(f"{folder}: too many files named {prefix}-{stamp}-*")


def save_png_atomic(image: Image.Image, path: Path) -> Path:
    """Write ``image`` to ``path`` through a temporary file, never replacing an existing file.

    If anyone (another thread or process) got ``path`` first, FileExistsError; on any other error
    (full disk, read-only folder) the error propagates and ``path`` is either absent or somebody
    else's complete file, never partial. Snapshots are visitors' photos: readable by the owner only.
    """
    with atomic_path(path, exclusive=True, durable=True, mode=0o600) as tmp, open(tmp, "wb") as handle:
        image.save(handle, format="PNG")
    return path


SAVE_ATTEMPTS = 20
"""Fresh names tried by save_composite when others keep taking the one it picked."""


def save_composite(image: Image.Image, folder: Path, prefix: str = "emojify") -> Path:
    """Save under a fresh time-stamped name in ``folder``; returns the path written."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(SAVE_ATTEMPTS - 1):
        try:
            return save_png_atomic(image, unique_name(folder, prefix))
        except FileExistsError:  # another writer took the name between the check and the link
            continue
    return save_png_atomic(image, unique_name(folder, prefix))
