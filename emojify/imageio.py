"""Read an image file safely: any common format, 8/16-bit, gray/colour/alpha, huge or tiny.

Every failure becomes an :class:`ImageError` whose message is one line naming the file and the
reason, so the command line can report it and carry on with the next file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from emojify.errors import EmojifyError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})
"""File suffixes (lower case) of the still images every command reads: predict, evaluate, the
training data and ``--source`` images and folders (any other existing file is a video there)."""
DEFAULT_FOLDER_FPS = 10.0
"""Pictures a second of an image or a folder of images played as a stream when ``folder_fps`` is not
set (here, beside the suffixes, so that the settings and the readers share it without importing each
other)."""
MAX_SIDE = 4096
"""Larger images are scaled down to this side while (JPEG) or right after decoding."""
MAX_PIXELS = 400_000_000
"""Images with more pixels than this are refused rather than decoded."""


class ImageError(EmojifyError):
    """An image could not be read; the message is ``"<path>: <reason>"``."""


def _reason(path: Path) -> str | None:
    """Why ``path`` is not even a candidate file, or None."""
    if path.is_symlink() and not path.exists():
        return "dangling link"
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "is a directory, not an image"
    if path.stat().st_size == 0:
        return "empty file"
    return None


def _to_uint8(image: Image.Image) -> Image.Image:
    """Turn 16/32-bit and float modes into 8-bit gray, and alpha or palette into plain RGB/L."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(image, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode in ("L", "RGB"):
        return image
    return image.convert("RGB")


def read_image(path: str | Path, max_side: int = MAX_SIDE) -> np.ndarray:
    """Decode ``path`` into a uint8 array: gray ``(H, W)`` or BGR ``(H, W, 3)`` (OpenCV's order).

    Images larger than ``max_side`` are scaled down (JPEGs already while decoding), so a
    12000x12000 photo costs little memory. Raises :class:`ImageError` for anything unreadable.
    """
    return read_image_scaled(path, max_side)[0]


def read_image_scaled(path: str | Path, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float]:
    """Like :func:`read_image`, also returning the original width divided by the decoded width
    (1.0 unless the image was scaled down), to map positions back to the file's own pixels."""
    path = Path(path)
    reason = _reason(path)
    if reason:
        raise ImageError(f"{path}: {reason}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                original_width = image.width
                if image.width * image.height > MAX_PIXELS:
                    raise ImageError(f"{path}: image too large ({image.width}x{image.height})")
                if max(image.size) > max_side:
                    image.draft(image.mode, (max_side, max_side))  # JPEG: decode at reduced size
                image.load()
                image = _to_uint8(image)  # before thumbnail: it cannot scale every mode
                if max(image.size) > max_side:
                    image.thumbnail((max_side, max_side), Image.Resampling.BOX)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image (unrecognised format)") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{path}: truncated or corrupt image ({exc})") from None
    array = to_array(image)
    return array, original_width / array.shape[1]


def to_array(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image as a uint8 array: gray ``(H, W)`` or BGR ``(H, W, 3)`` (OpenCV's order);
    16-bit, float, palette and alpha modes are turned into 8-bit gray or RGB first (alpha over white)."""
    array = np.asarray(_to_uint8(image))
    return np.ascontiguousarray(array[:, :, ::-1]) if array.ndim == 3 else array
