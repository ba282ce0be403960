"""Composite pictures (photo + face box + emoji + label) and saving them safely.

Used for ``emojify predict --out`` and for kiosk snapshots. Files are written to a temporary
name in the same folder and renamed, so a crash or power cut never leaves half a PNG, and names
carry the time plus a counter, so two snapshots in the same second never overwrite each other.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from emojify.emojis import EmojiSet
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


NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})
"""What link(2) fails with where the file system has no hard links (FAT, exFAT, some network shares)."""


def save_png_atomic(image: Image.Image, path: Path) -> Path:
    """Write ``image`` to ``path`` through a temporary file, never replacing an existing file.

    The finished temporary file is hard-linked to ``path``, which fails with FileExistsError if
    anyone (another thread or process) got that name first; on file systems without hard links
    (FAT memory sticks) it is renamed after a check instead. On any error (full disk, read-only
    folder) the temporary file is removed and the error propagates: ``path`` is then either absent
    or somebody else's complete file, never partial.
    """
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format="PNG")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except OSError as exc:  # FileExistsError (EEXIST) included: somebody else's file stays
            if exc.errno not in NO_HARD_LINKS:
                raise
            if path.exists():
                raise FileExistsError(f"{path}: already exists") from None
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
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
