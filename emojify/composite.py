"""Composite pictures (photo + face box + emoji + label, or every face masked by its emoji) and saving them safely.

Used for ``emojify predict --out`` and for kiosk snapshots, in one of :data:`STYLES`: ``side`` (the
photo with the face boxed, the emoji and its label beside it) or ``mask`` (each face covered by its
emoji, sized to the face and turned with it). Files are written to a temporary
name in the same folder and renamed, so a crash or power cut never leaves half a PNG, and names
carry the time plus a counter, so two snapshots in the same second never overwrite each other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from emojify import render, texts
from emojify.emojis import EmojiSet
from emojify.fileio import atomic_path
from emojify.generated import STICKER_PX
from emojify.labels import CLASSES
from emojify.pipeline import Face, Result
from emojify.views import whole_percents

BOX_COLOUR = (60, 220, 90)
BACKGROUND = (250, 250, 250)
STYLES = ("side", "mask")
"""Snapshot styles: the emoji beside the photo, or an emoji mask on every face."""
MASK_SCALE = 1.3
"""A mask's side as a multiple of the face box's larger side (the round emoji then covers the box)."""


def bgr_to_pil(frame: np.ndarray) -> Image.Image:
    """An OpenCV BGR (or gray) frame as an RGB Pillow image."""
    if frame.ndim == 2:
        return Image.fromarray(frame).convert("RGB")
    return Image.fromarray(np.ascontiguousarray(frame[:, :, 2::-1]))


def pil_to_bgr(image: Image.Image) -> np.ndarray:
    """A Pillow image as an OpenCV BGR frame."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def paste_masks(photo: Image.Image, faces: tuple[Face, ...], emojis: EmojiSet) -> Image.Image:
    """``photo`` with each labelled face covered by its emoji: :data:`MASK_SCALE` times the face's
    size, turned by the face's roll (clockwise as seen; a generated emoji only by what its own
    drawing has not turned already, :meth:`EmojiSet.turned`), centred on the face, alpha-blended."""
    masked = photo.convert("RGB")
    for face in faces:
        if face.label is None:
            continue
        x, y, w, h = face.box
        icon = emojis.face(face.label, face.shape, max(1, round(max(w, h) * MASK_SCALE)))
        turn = face.roll - emojis.turned(face.shape)
        if turn:
            icon = icon.rotate(-turn, resample=Image.Resampling.BICUBIC, expand=True)
        masked.paste(icon, (round(x + w / 2 - icon.width / 2), round(y + h / 2 - icon.height / 2)), icon)
    return masked


def compose(frame: np.ndarray, result: Result, emojis: EmojiSet, style: str = "side") -> Image.Image:
    """The composite of one style (:data:`STYLES`): ``side``, the photo with the face boxed and beside
    it the emoji and its label (or "no face"), every other face (party mode) boxed with its own emoji;
    ``mask``, the photo with every face covered by its emoji."""
    if style not in STYLES:
        raise ValueError(f"snapshot style must be one of {', '.join(STYLES)}, got {style!r}")
    if style == "mask":
        return paste_masks(bgr_to_pil(frame), result.faces, emojis)
    photo = bgr_to_pil(frame)
    width, height = photo.size
    # the boxes are drawn on the photo, before it is pasted: a face at its edge has a box reaching beyond
    # it (the detector's box is the whole face), which must not spill into the emoji's column
    corners = lambda box: (box[0], box[1], box[0] + box[2] - 1, box[1] + box[3] - 1)  # the last pixels' own
    if len(result.faces) > 1:  # party mode: the others with their own emoji, as the result screen has them
        render.draw_other_faces(photo, result.faces[1:], emojis, corners, max(2, width // 200), mirror=False)
    if result.box is not None:
        ImageDraw.Draw(photo).rectangle(corners(result.box), outline=BOX_COLOUR, width=max(2, width // 200))
    side = max(160, height)
    canvas = Image.new("RGB", (width + side, max(height, side)), BACKGROUND)
    canvas.paste(photo, (0, 0))
    draw = ImageDraw.Draw(canvas)
    if result.label is not None:
        emoji_size = int(side * 0.7)
        icon = emojis.face(result.label, result.faces[0].shape if result.faces else None, emoji_size)
        canvas.paste(icon, (width + (side - emoji_size) // 2, side // 20), icon)
        caption = f"{texts.expression_name(result.label)} {whole_percents(result.probabilities)[CLASSES.index(result.label)]}%"  # as the panel
    else:
        caption = texts.NO_FACE_FOUND
    # the window's font (Pillow's own has no ä, ö, ü, é...), smaller and then on two lines where a
    # language's words are too wide for the column ("No se encontró ninguna cara")
    size = max(14, side // 10)
    font, lines = render.fitted_lines(draw, caption, side * 0.9, size, max(14, size * 2 // 3), bold=False)
    for n, line in enumerate(lines):  # centred on the column's line at 0.88 of its height
        render.put_text(draw, (width + side / 2, side * 0.88 + (n - (len(lines) - 1) / 2) * font.size * 1.2), line,
                        font, (30, 30, 30), anchor="mm")
    return canvas


PREFIX_BYTES = 100
"""A composite's name keeps at most this many bytes of its prefix (a photo's name): with the time, a
sticker's ``-face12`` and the temporary file's suffix it stays well under the 255 bytes of a file name."""


def unique_name(folder: Path, prefix: str, now: dt.datetime | None = None) -> Path:
    """``<prefix>-YYYYmmdd-HHMMSS-NNN.png`` in ``folder`` that does not exist yet (the prefix cut to
    :data:`PREFIX_BYTES`)."""
    prefix = os.fsencode(prefix)[:PREFIX_BYTES].decode("utf-8", "ignore")  # not inside a character
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


def save_stickers(emojis: EmojiSet, faces: Iterable[Face], beside: Path) -> list[Path]:
    """Each labelled face's sticker, its emoji from ``emojis`` (the generated set: the face's own) at
    :data:`~emojify.generated.STICKER_PX`, beside the composite saved as ``beside``, named after it:
    ``<its name>-face1.png``, ``-face2.png`` ... in the faces' order (as :func:`save_png_atomic`
    writes them). All or none: when one cannot be saved, those already saved are removed again and
    the error raised, so a full disk leaves no group with a face missing."""
    labelled = [face for face in faces if face.label is not None]
    saved: list[Path] = []
    try:
        for number, face in enumerate(labelled, 1):
            saved.append(save_png_atomic(emojis.face(face.label, face.shape, STICKER_PX),
                                         beside.with_name(f"{beside.stem}-face{number}.png")))
    except BaseException:  # a full disk, Ctrl-C: the error stands, whatever the removal meets
        for path in saved:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise
    return saved


SAVE_ATTEMPTS = 20
"""Fresh names tried by save_composite when others keep taking the one it picked."""


def save_composite(image: Image.Image, folder: Path, prefix: str = "emojify", make_folder: bool = True) -> Path:
    """Save under a fresh time-stamped name in ``folder`` (made, with its parents, where missing, unless
    ``make_folder`` is False: then a missing one is a FileNotFoundError); returns the path written."""
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    for _ in range(SAVE_ATTEMPTS - 1):
        try:
            return save_png_atomic(image, unique_name(folder, prefix))
        except FileExistsError:  # another writer took the name between the check and the link
            continue
    return save_png_atomic(image, unique_name(folder, prefix))
