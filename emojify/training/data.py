"""Load FER2013 in either form users have, as prepared 48x48 faces and class indices.

* Image folders (the Kaggle layout): ``ROOT/train/<class>/*.jpg`` and ``ROOT/test/<class>/*.jpg``;
  in ``test/`` the ``PublicTest_`` prefix (or no prefix) makes the validation split and
  ``PrivateTest_`` the held-out test split.
* The original CSV: ``fer2013.csv`` with columns ``emotion, pixels, Usage``.

Decoded arrays are cached in one compressed ``.npz`` per source (outside the repository), keyed
by the source's path, file count, sizes and times, so a second run starts in a second.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emojify import evaluate
from emojify.errors import EmojifyError, first_line
from emojify.fileio import atomic_path
from emojify.imageio import ImageError, folder_images, read_image
from emojify.labels import CLASSES, class_index, fer_split
from emojify.preprocess import INPUT_SIZE, prepare_face

log = logging.getLogger(__name__)

SPLIT_FOLDERS = {"train": "train", "test": "val"}
"""The folders of the Kaggle image-folder layout, and the split each picture goes to by default (a
picture named for Kaggle's PublicTest or PrivateTest goes to that split: :func:`split_of`)."""
CACHE_VERSION = 5  # bump when the files read, decoding, prepare_face or the cache format changes
CSV_COLUMNS = ("emotion", "pixels", "Usage")  # as the Kaggle header spells them; matched in any case and order
KAGGLE_SPLITS = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
"""Our split of each of Kaggle's: the CSV's Usage column, and the name prefix of a file in ``test/``."""
SPLITS = ("train", "val", "test")


class DataError(EmojifyError):
    """The data set is not laid out as expected; the message says what and where."""


@dataclass(frozen=True)
class Split:
    """One split: ``x`` prepared faces (N, 48, 48) uint8, ``y`` class indices (N,) int64."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> dict[str, int]:
        """Images per class name."""
        return {name: int(n) for name, n in zip(CLASSES, np.bincount(self.y, minlength=len(CLASSES)), strict=True)}


def image_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (:func:`~emojify.imageio.folder_images`).

    Hidden files are passed over: the ``._happy1.jpg`` that macOS writes beside each picture copied
    onto a USB stick is no picture, only one more "unreadable image" in the warning. A dangling link
    is kept, to be counted with the unreadable images; a sub-folder is not.
    """
    return [p for p in folder_images(folder, regular_only=False) if not p.is_dir()]


def class_folders(root: Path) -> dict[str, Path]:
    """Map class name -> sub-folder of ``root``, every class required, as ``emojify evaluate`` reads
    them otherwise (:func:`emojify.evaluate.class_folders`: any case, hidden folders passed over)."""
    try:
        found = evaluate.class_folders(root)
    except evaluate.FolderError as exc:
        raise DataError(str(exc)) from None
    missing = [c for c in CLASSES if c not in found]
    if missing:
        raise DataError(f"{root}: missing class folder(s) {', '.join(missing)}")
    return found


def decode(path: Path) -> np.ndarray | None:
    """The picture at ``path`` as every other tool reads it (:func:`~emojify.imageio.read_image`: turned
    upright by its EXIF orientation, transparency over white, 16-bit, float and signed-integer pictures
    made 8-bit), or None where it cannot be read: a face trains as ``evaluate`` and the kiosk see it."""
    try:
        return read_image(path)
    except ImageError:
        return None


def read_faces(paths: Iterable[Path]) -> tuple[np.ndarray, list[bool]]:
    """Decode and prepare each image; returns the faces and, per path, whether it could be read."""
    faces, ok = [], []
    for path in paths:
        image = decode(path)
        if image is None or image.size == 0:
            ok.append(False)
            continue
        faces.append(prepare_face(image))
        ok.append(True)
    shape = (len(faces), INPUT_SIZE, INPUT_SIZE)
    return (np.stack(faces) if faces else np.zeros(shape, np.uint8)), ok


def split_of(path: Path, default: str) -> str:
    """Which split a file in a ``test/`` folder belongs to, from its Kaggle name prefix (:func:`fer_split`)."""
    return KAGGLE_SPLITS.get(fer_split(path.name) or "", default)


def _warn_unreadable(bad: list[Path]) -> None:
    if bad:
        log.warning("skipped %d unreadable image(s), e.g. %s", len(bad), bad[0])


def load_folder(root: Path) -> dict[str, Split]:
    """Load the Kaggle image-folder layout under ``root`` (see the module docstring)."""
    root = Path(root)
    parts = {s: ([], []) for s in SPLITS}
    bad: list[Path] = []
    for top, default in SPLIT_FOLDERS.items():
        if not (root / top).is_dir():
            if top == "train":
                raise DataError(f"{root}: no train/ folder (expected {root}/train/<class>/*.jpg)")
            continue
        for name, folder in class_folders(root / top).items():
            paths = image_files(folder)
            faces, ok = read_faces(paths)
            bad += [p for p, good in zip(paths, ok, strict=True) if not good]
            good_paths = [p for p, good in zip(paths, ok, strict=True) if good]
            for face, path in zip(faces, good_paths, strict=True):
                xs, ys = parts[split_of(path, default)]
                xs.append(face)
                ys.append(class_index(name))
    _warn_unreadable(bad)
    return _to_splits(parts, root)


def load_csv(path: Path) -> dict[str, Split]:
    """Load the original ``fer2013.csv`` (columns emotion, pixels, Usage, in any order). A byte-order
    mark before the header, as Excel's "CSV UTF-8" writes, is passed over."""
    path = Path(path)
    parts = {s: ([], []) for s in SPLITS}
    bad = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            found = [h.strip() for h in next(reader, [])]
            header = [h.lower() for h in found]
            missing = [name for name in CSV_COLUMNS if name.lower() not in header]
            if missing:
                raise DataError(f"{path}: bad CSV header: no {' or '.join(missing)} column (it has "
                                f"{', '.join(found) or 'none'}; expected {', '.join(CSV_COLUMNS[:-1])} and "
                                f"{CSV_COLUMNS[-1]}, in any order)")
            label_at, pixels_at, usage_at = (header.index(name.lower()) for name in CSV_COLUMNS)
            usage_splits = {usage.lower(): split for usage, split in KAGGLE_SPLITS.items()}
            for row in reader:
                try:
                    label, usage = int(row[label_at]), usage_splits[row[usage_at].strip().lower()]
                    pixels = np.array(row[pixels_at].split(), dtype=np.uint8)
                    if not 0 <= label < len(CLASSES) or pixels.size != INPUT_SIZE * INPUT_SIZE:
                        raise ValueError
                except (ValueError, IndexError, KeyError, OverflowError):
                    bad += 1
                    continue
                xs, ys = parts[usage]
                xs.append(prepare_face(pixels.reshape(INPUT_SIZE, INPUT_SIZE)))
                ys.append(label)
    except (UnicodeDecodeError, csv.Error) as exc:  # an image or other binary file, not text
        raise DataError(f"{path}: not a FER2013 CSV or folder") from exc
    if bad:
        log.warning("skipped %d malformed CSV row(s) in %s", bad, path)
    return _to_splits(parts, path)


def _to_splits(parts: dict[str, tuple[list, list]], source: Path) -> dict[str, Split]:
    splits = {}
    for name, (xs, ys) in parts.items():
        x = np.stack(xs) if xs else np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.uint8)
        splits[name] = Split(x, np.asarray(ys, dtype=np.int64))
    if len(splits["train"]) == 0:
        raise DataError(f"{source}: the training split is empty")
    return splits


def read_files(root: Path) -> list[Path]:
    """The files a folder data set is read from, sorted: those in the sub-folders of ``train/`` and
    ``test/``, as :func:`load_folder` reads them, links followed (a split kept on another disk). Nothing
    deeper: a link back up the tree, or a linked archive beside the splits, is not walked."""
    files = []
    for top in SPLIT_FOLDERS:
        folders = [p for p in (root / top).iterdir() if p.is_dir()] if (root / top).is_dir() else []
        files += [p for folder in folders for p in folder.iterdir() if p.is_file()]
    return sorted(files)


def source_key(source: Path) -> str:
    """A key that changes when the data set at ``source`` changes (path, names, sizes, times)."""
    source = source.resolve()
    digest = hashlib.sha256(f"{CACHE_VERSION}:{source}".encode())
    files = [source] if source.is_file() else read_files(source)
    for p in files:
        st = p.stat()
        digest.update(f"{p.relative_to(source.parent)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/emojify`` (``~/.cache/emojify``)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "emojify"


def read_cache(cache: Path) -> dict[str, Split] | None:
    """The splits saved in ``cache``, or None, with a warning, where it cannot be read whole (cut short
    by a full disk, damaged on it): the data set is then decoded again and the cache written anew,
    rather than every later run failing on it."""
    try:
        with np.load(cache) as z:
            splits = {s: Split(z[f"{s}_x"], z[f"{s}_y"]) for s in SPLITS}
        for name, split in splits.items():
            if split.x.shape[1:] != (INPUT_SIZE, INPUT_SIZE) or split.y.shape != (len(split.x),):
                raise ValueError(f"{name} arrays of shapes {split.x.shape} and {split.y.shape}")
    except (OSError, EOFError, ValueError, KeyError, NotImplementedError, zipfile.BadZipFile, zlib.error) as exc:
        log.warning("cannot read the cache %s (%s); decoding the data set again", cache,
                    first_line(exc).strip("'\""))  # numpy quotes a KeyError's text
        return None
    return splits


def load_dataset(source: Path, cache_dir: Path | None = None) -> dict[str, Split]:
    """Load FER2013 from an image-folder root or a CSV file, through the ``.npz`` cache.

    Returns ``{"train", "val", "test"}`` splits (``test`` may be empty). ``cache_dir=None`` uses
    :func:`default_cache_dir`; pass a folder to put the cache elsewhere.
    """
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source}: no such file or folder")
    folder = cache_dir or default_cache_dir()
    prefix = f"fer2013-{hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]}-"
    cache = folder / f"{prefix}{source_key(source)}.npz"
    cached = read_cache(cache) if cache.is_file() else None
    if cached is not None:
        return cached
    splits = load_csv(source) if source.is_file() else load_folder(source)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            np.savez_compressed(tmp, **{f"{s}_{k}": getattr(splits[s], k) for s in SPLITS for k in ("x", "y")})
        for stale in folder.glob(f"{prefix}*.npz"):  # older caches of the same source
            if stale != cache:
                stale.unlink(missing_ok=True)
    except OSError as exc:  # a read-only or full cache folder costs the next run time, not this one its data
        log.warning("cannot cache at %s (%s); the data set will be decoded again next time", folder, exc)
        return splits
    log.info("cached decoded data set at %s", cache)
    return splits
