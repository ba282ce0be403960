"""The emoji images shown for each expression class, loaded and checked once at start-up.

An emoji folder holds one image per class in ``emojify.labels.CLASSES`` and, normally, an
``emojis.json`` mapping each class label to its file name (extra keys such as ``"source"``
are ignored). The shipped set in the top-level ``emojis/`` folder is rendered by
``packaging/render_emojis.py``. A custom folder may leave out ``emojis.json`` if it holds
``<label>.png`` for every class, so a maker can just drop seven PNGs into a folder. Every
problem found while loading is raised as ``EmojiError`` with a one-line message naming the
file or folder, what is wrong and how to fix it. Uses Pillow and the standard library only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from emojify.errors import EmojifyError, reason_of
from emojify.imageio import to_8bit
from emojify.labels import CLASSES
from emojify.resources import resource_dir

if TYPE_CHECKING:
    from emojify.shape import Shape

log = logging.getLogger(__name__)

MAPPING_FILE = "emojis.json"
"""Name of the label -> image file mapping inside an emoji folder."""

SHIPPED_FIX = "re-render it with packaging/render_emojis.py"
CHOSEN_FIX = "fix --emoji-dir (emoji_dir in a settings file)"
"""The fix a broken emoji set's error ends with: the shipped set's, and a set the user chose."""
MIN_SIDE = 16
"""The smallest emoji picture, in px a side: the smallest ``packaging/render_emojis.py`` makes."""
SQUARE_WITHIN = 0.10
"""How far an emoji picture's sides may differ, as a fraction of the longer: it is shown in a square."""
_CACHE_LIMIT = 64  # scaled images kept per set; a resizing window must not grow it forever
CACHED_SIDE = 1024
"""Emoji pictures up to this many pixels a side are kept for the next frame; a larger one (a saved
composite of a 12-megapixel photo holds a 2,000 px emoji, 16 MB) is made again each time: ``predict
--out`` over a folder of photos of different sizes grew by one such picture a photo."""


class EmojiError(EmojifyError):
    """An emoji folder, its ``emojis.json`` or one of its images is missing or unusable."""


@dataclass(frozen=True)
class EmojiSet:
    """One fully loaded RGBA image per class label, read from ``folder``."""

    folder: Path
    images: dict[str, Image.Image]
    _scaled: dict[tuple[str, int], Image.Image] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def scaled(self, label: str, size: int) -> Image.Image:
        """The emoji for ``label`` fitted (LANCZOS, aspect kept), centred in a ``size`` px square.

        Results are cached, so a UI may call this on every frame. Callers must not modify
        the returned image. Raises ``KeyError`` for an unknown label and ``ValueError`` for a
        size below 1.
        """
        if label not in self.images:
            raise KeyError(f"no emoji for {label!r} (expected one of: {', '.join(self.images)})")
        if size < 1:
            raise ValueError(f"emoji size must be at least 1 pixel, got {size}")
        if size > CACHED_SIDE:
            return _fit(self.images[label], size)
        key = (label, size)
        cached = self._scaled.get(key)
        if cached is None:
            if len(self._scaled) >= _CACHE_LIMIT:
                self._scaled.clear()
            cached = self._scaled[key] = _fit(self.images[label], size)
        return cached

    def face(self, label: str, shape: Shape | None, size: int) -> Image.Image:
        """The emoji shown for one face (the panel's, the one over a face, a mask): here the set's
        picture, :meth:`scaled`; the generated set (:class:`emojify.generated.GeneratedEmojiSet`)
        draws it from the face's ``shape`` instead."""
        return self.scaled(label, size)

    def turned(self, shape: Shape | None) -> float:
        """Degrees (clockwise as seen) by which :meth:`face` has already turned a face's emoji: none
        for the set's pictures; the generated emoji turns its features by the shape's roll."""
        return 0.0


def _fit(image: Image.Image, size: int) -> Image.Image:
    """``image`` resized to fit ``size`` x ``size`` and centred on a transparent square."""
    scale = size / max(image.size)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    resized = image.resize((width, height), Image.LANCZOS)
    if resized.size == (size, size):
        return resized
    square = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    square.paste(resized, ((size - width) // 2, (size - height) // 2))
    return square


def _read_mapping(folder: Path, fix: str) -> dict[str, str]:
    """Label -> file name for every class, from ``emojis.json`` or the ``<label>.png`` default."""
    mapping_path = folder / MAPPING_FILE
    if not mapping_path.exists():
        missing = [f"{label}.png" for label in CLASSES if not (folder / f"{label}.png").is_file()]
        if missing:
            raise EmojiError(
                f"{folder}: no {MAPPING_FILE} and missing {', '.join(missing)}; add one image "
                f"per class ({', '.join(CLASSES)}) as <label>.png, or {fix}"
            )
        return {label: f"{label}.png" for label in CLASSES}

    try:
        mapping = json.loads(mapping_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = f"{mapping_path}: cannot read JSON ({reason_of(exc)}); {fix}"
        raise EmojiError(message) from exc
    if not isinstance(mapping, dict):
        raise EmojiError(
            f"{mapping_path}: expected a JSON object {{label: file name}}, "
            f"got {type(mapping).__name__}; {fix}"
        )
    missing = [label for label in CLASSES if label not in mapping]
    if missing:
        raise EmojiError(f"{mapping_path}: no entry for {', '.join(missing)}; {fix}")
    bad = [label for label in CLASSES if not isinstance(mapping[label], str) or not mapping[label]]
    if bad:
        raise EmojiError(
            f"{mapping_path}: the entry for {', '.join(bad)} must be a file name string; {fix}"
        )
    return {label: mapping[label] for label in CLASSES}


def _load_image(path: Path, label: str, fix: str) -> Image.Image:
    """Decode ``path`` completely and return it as RGBA; raise ``EmojiError`` if unreadable, or if
    it is not square (within :data:`SQUARE_WITHIN`) or smaller than :data:`MIN_SIDE`."""
    if not path.is_file():
        raise EmojiError(f"{path}: file not found (the {label!r} emoji); {fix}")
    try:
        with Image.open(path) as image:
            image.load()
            picture = to_8bit(image).convert("RGBA")  # a 16-bit PNG would be clipped to white by convert
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise EmojiError(f"{path}: cannot read image ({reason_of(exc)}); {fix}") from exc
    width, height = picture.size
    if min(width, height) < MIN_SIDE or abs(width - height) > SQUARE_WITHIN * max(width, height):
        raise EmojiError(f"{path}: {width}x{height} px, but the {label!r} emoji must be square (sides within "
                         f"{SQUARE_WITHIN:.0%}) and at least {MIN_SIDE}x{MIN_SIDE} px; {fix}")
    return picture


def load_emoji_set(folder: Path | None = None) -> EmojiSet:
    """Load and check the emoji for every class from ``folder`` (``None``: the shipped set).

    Raises ``EmojiError`` with a one-line message if the folder, its mapping or any image
    is missing or unreadable.
    """
    fix = SHIPPED_FIX if folder is None else CHOSEN_FIX
    if folder is None:
        try:
            folder = resource_dir("emojis")
        except FileNotFoundError as exc:
            raise EmojiError(f"{reason_of(exc)}; {fix}") from exc
    folder = Path(folder)
    if not folder.is_dir():
        raise EmojiError(f"{folder}: {'a file, not an emoji folder' if folder.exists() else 'emoji folder not found'}; {fix}")

    try:  # exists() and is_file() raise where the folder may not be entered (a 0700 folder of another user's)
        mapping = _read_mapping(folder, fix)
        images = {label: _load_image(folder / name, label, fix) for label, name in mapping.items()}
    except OSError as exc:
        raise EmojiError(f"{exc.filename or folder}: cannot read it ({reason_of(exc)}); {fix}") from exc
    log.info("loaded %d emoji from %s", len(images), folder)
    return EmojiSet(folder=folder, images=images)
