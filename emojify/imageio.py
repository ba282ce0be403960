"""Read an image file safely: any common format, 8/16-bit, gray/colour/alpha, huge or tiny.

Every failure becomes an :class:`ImageError` whose message is one line naming the file and the
reason, so the command line can report it and carry on with the next file.
"""

from __future__ import annotations

import errno
import io
import stat
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from emojify.errors import EmojifyError, reason_of
from emojify.fileio import read_capped

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
"""Images with more pixels than this are refused rather than decoded (Pillow itself refuses those
over twice its ``Image.MAX_IMAGE_PIXELS``, about 179 megapixels, as possible decompression bombs)."""
HIGH_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
"""Pillow's 16/32-bit and float gray modes: 2 to 4 bytes a pixel, turned into 8-bit gray (:func:`to_8bit`)."""
PIPE_BYTES = 256 * 2**20
"""A picture from a pipe (``/dev/stdin``, ``<(cat photo.jpg)``), not a file, is read into memory up to this size."""
ORIENTATION = 0x0112
"""The EXIF tag saying which way up the stored picture is shown (1: as stored)."""
TURNED_SIDEWAYS = frozenset({5, 6, 7, 8})
"""EXIF orientations whose picture is shown turned by 90 degrees (its width is the stored height)."""


class ImageError(EmojifyError):
    """An image could not be read; the message is ``"<path>: <reason>"``."""


def folder_images(folder: Path, *, regular_only: bool = True) -> list[Path]:
    """The entries directly inside ``folder`` whose suffix is one of :data:`IMAGE_SUFFIXES`, in name order.

    Hidden entries (a name starting with ".") are passed over: tools leave them, not makers (the
    ``._face.jpg`` copies macOS writes onto a USB stick, Jupyter's ``.ipynb_checkpoints/``). With
    ``regular_only`` only regular files (or links to them) are kept, as a slideshow wants; without
    it a dangling link or other entry that is no readable file is kept too, so that a caller can
    name it as unreadable rather than leave it out unsaid.
    """
    named = [p for p in folder.iterdir() if not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted((p for p in named if p.is_file() or not regular_only), key=lambda p: p.name)


def _is_pipe(path: Path) -> bool:
    """True for a pipe (read whole by :func:`_piped`: its size says nothing), False for a file; raises
    :class:`ImageError` naming why ``path`` is neither. One ``stat``, which follows a link."""
    if "\0" in str(path):  # the system refuses it, and Path.exists() says False, as for a missing file
        raise ImageError(f"{path}: not a valid file name (it holds a NUL character)")
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):  # as Path.exists() says False
            raise ImageError(f"{path}: {'dangling link' if path.is_symlink() else 'no such file'}") from None
        raise ImageError(f"{path}: cannot read it ({reason_of(exc)})") from None  # a name too long, a folder shut
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{path}: is a directory, not an image")
    if stat.S_ISREG(info.st_mode) and info.st_size == 0:
        raise ImageError(f"{path}: empty file")
    if not stat.S_ISREG(info.st_mode) and not stat.S_ISFIFO(info.st_mode):  # /dev/zero, a disk, a terminal, a socket
        raise ImageError(f"{path}: not a file (a device)")
    return stat.S_ISFIFO(info.st_mode)


def peak(image: Image.Image) -> float:
    """The largest finite value of a :data:`HIGH_BIT_MODES` picture, strip by strip (no copy of all of
    it; Pillow's ``getextrema`` has no 16-bit byte orders and takes a float's NaN as it comes)."""
    rows, top = max(1, 2**22 // max(1, image.width)), 0.0
    for y in range(0, image.height, rows):
        strip = np.asarray(image.crop((0, y, image.width, min(image.height, y + rows))))
        top = max(top, float((strip[np.isfinite(strip)] if strip.dtype.kind == "f" else strip).max(initial=0)))
    return top


def to_8bit(image: Image.Image, top: float | None = None) -> Image.Image:
    """16/32-bit and float gray modes as 8-bit gray ("L"); other modes as they are. 16-bit values
    span 0..65535 (or 0..255 where none is over 255), float ones 0..1 (or 0..255 where any is over 1),
    by the largest value ``top`` (:func:`peak`; give the full picture's when this is a smaller copy,
    whose averages lose a lone bright pixel). A float's NaN is black, its infinity the brightest."""
    if image.mode not in HIGH_BIT_MODES:
        return image
    top = peak(image) if top is None else top
    arr = np.array(image, dtype=np.float32)  # our copy (F is float32 already), ample for 8-bit, half of float64
    np.nan_to_num(arr, copy=False, nan=0.0, posinf=top, neginf=0.0)
    full = 1.0 if image.mode == "F" and top <= 1.0 else 65535.0 if top > 255 else 255.0
    arr *= 255.0 / full
    return Image.fromarray(np.clip(arr, 0, 255, out=arr).astype(np.uint8), "L")


def _to_uint8(image: Image.Image, top: float | None = None) -> Image.Image:
    """Turn 16/32-bit and float modes into 8-bit gray (:func:`to_8bit`, by ``top``), and alpha or palette
    into plain RGB/L."""
    image = to_8bit(image, top)
    if image.mode == "1":  # black and white: gray, a third of RGB's memory
        return image.convert("L")
    if image.mode == "La":  # premultiplied alpha, which Pillow converts only to LA
        image = image.convert("LA")
    if image.mode in ("RGBA", "RGBa", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
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
    pipe = _is_pipe(path)
    try:
        # Pillow's warnings on a damaged or large picture ("Corrupt EXIF data") are the caller's to
        # filter: the filters are the process's, and changing them is not thread-safe (the commands do)
        # a file through a handle, not a name: Pillow maps an uncompressed TIFF's pixels from a name and
        # does not turn them as its orientation says
        with _piped(path) if pipe else path.open("rb") as source, Image.open(source) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(f"{path}: image too large ({image.width}x{image.height})")
            sideways, stored = exif_orientation(image) in TURNED_SIDEWAYS, image.size  # a phone held upright
            if max(image.size) > max_side:
                image.draft(image.mode, (max_side, max_side))  # JPEG: decode at reduced size
            image.load()
            # the width as the photo is shown; a TIFF gives its shown size from the start, and turns its
            # pixels itself as it loads (its orientation is gone then): not turned twice
            original_width = stored[1] if sideways and exif_orientation(image) in TURNED_SIDEWAYS else stored[0]
            top = None
            if image.mode in HIGH_BIT_MODES and max(image.size) > max_side:  # smaller before a copy of 2-4 bytes a pixel
                top = peak(image)
                # no reducing_gap: its first step, Image.reduce, has no 16-bit modes
                image.thumbnail((max_side, max_side), Image.Resampling.BOX, reducing_gap=None)
            image = _to_uint8(upright(image), top)
            if max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.BOX)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image (unrecognised format)") from None
    except Image.DecompressionBombError:  # Pillow's own limit, about 179 megapixels, before ours
        raise ImageError(f"{path}: image too large (over {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels, "
                         "Pillow's limit); scale it down first") from None
    except OSError as exc:
        if exc.errno is not None:  # the system's refusal (not allowed, an I/O error), not the picture's fault
            raise ImageError(f"{path}: cannot read it ({reason_of(exc)})") from None
        raise ImageError(f"{path}: truncated or corrupt image ({exc})") from None
    except (ValueError, SyntaxError) as exc:
        raise ImageError(f"{path}: truncated or corrupt image ({exc})") from None
    array = to_array(image)
    return array, original_width / array.shape[1]


def _piped(path: Path) -> io.BytesIO:
    """The bytes of ``path`` that is no regular file (a pipe), up to :data:`PIPE_BYTES`; raises
    :class:`ImageError` for none (a named pipe nobody writes to: :func:`~emojify.fileio.read_capped`
    does not wait for a writer) or more (an endless stream)."""
    data = read_capped(path, PIPE_BYTES)
    if not data:
        raise ImageError(f"{path}: nothing came through the pipe")
    if len(data) > PIPE_BYTES:
        raise ImageError(f"{path}: more than {PIPE_BYTES // 2**20} MB came through the pipe; save the picture to a file")
    return io.BytesIO(data)


def exif_orientation(image: Image.Image) -> int:
    """The image's EXIF orientation (1, as stored, where it has none); 1 where its EXIF block is damaged:
    the pixels are fine, only which way up is lost."""
    try:
        return int(image.getexif().get(ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - Pillow's TIFF parser fails on a damaged block with SyntaxError, struct.error, ...
        return 1


_TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
          5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
          8: Image.Transpose.ROTATE_90}
"""The turn or flip that shows a picture of each EXIF orientation upright (EXIF 2.3, table 6).
Hand-written, not ``ImageOps.exif_transpose``: that writes the EXIF block out again, which fails
(``struct.error``) on a tag Pillow reads but cannot write back (a phone's odd GPS rational)."""


def upright(image: Image.Image) -> Image.Image:
    """A decoded image turned as its EXIF orientation says, as viewers show it (as it is where the
    orientation is unreadable: :func:`exif_orientation`); its pixels only, not its metadata."""
    turn = _TURNS.get(exif_orientation(image))
    return image if turn is None else image.transpose(turn)


def to_array(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image as a uint8 array: gray ``(H, W)`` or BGR ``(H, W, 3)`` (OpenCV's order);
    16-bit, float, palette and alpha modes are turned into 8-bit gray or RGB first (alpha over white)."""
    array = np.asarray(_to_uint8(image))  # read-only: Pillow's own memory
    return np.ascontiguousarray(array[:, :, ::-1]) if array.ndim == 3 else array.copy()  # ours, to draw on
