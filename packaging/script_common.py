"""What the measuring scripts of ``packaging/`` share: checks of their arguments, data and libraries.

A script imports it from beside itself (``sys.path.insert(0, str(Path(__file__).resolve().parent))``).
Every problem a user can fix is an :class:`~emojify.errors.EmojifyError` of one line (a
:class:`DataError` here, an :class:`~emojify.imageio.ImageError` for a file that is no picture); a
script runs its checks and work inside :func:`one_line_errors`, which prints such an error as the
script's one line on stderr (``NAME.py: error: ...``, as argparse's own) and exits with code 2, no
traceback. The checks come before any long work and before anything is written.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from emojify.errors import EmojifyError, until_interrupted
from emojify.imageio import read_image
from emojify.preprocess import to_gray

FER_PICTURES = "PublicTest_*.jpg"
"""The pictures the scripts take from each of FER2013's ``test/<class>/`` folders."""
PIP_PACKAGES = {"skimage": "scikit-image", "matplotlib": "matplotlib"}
"""The pip package of each optional library a script may need, by its import name."""


class DataError(EmojifyError):
    """A script's data folder, or a library it needs, is missing or unusable; the message is one line."""


def exit_with(main: Callable[[], int]) -> None:
    """Exit with ``main()``'s code; Ctrl-C or SIGTERM during a long measurement ends it with one line
    (``NAME.py: stopped``) and a shell's exit code (130, 143), not a traceback or nothing (what it had
    written is whole: the files go through atomic_path)."""
    sys.exit(until_interrupted(Path(sys.argv[0]).name, main))


@contextmanager
def one_line_errors(parser: argparse.ArgumentParser) -> Iterator[None]:
    """Turn an :class:`~emojify.errors.EmojifyError` raised in the block into the script's one error
    line on stderr, as ``parser.error`` words it but without the usage (the arguments were fine), and
    exit code 2."""
    try:
        yield
    except EmojifyError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")


def screen_size(text: str) -> str:
    """A ``WxH`` argument, checked (argparse's type)."""
    width, _, height = text.partition("x")
    if not (width.isdigit() and height.isdigit() and 320 <= int(width) <= 8192 and 240 <= int(height) <= 8192):
        raise argparse.ArgumentTypeError(f"{text!r} is not a screen size like 800x480 (320x240 .. 8192x8192)")
    return text


def number(kind: type, low: float, high: float | None = None, *, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite ``kind`` (``int`` or ``float``) of at least ``low`` (greater than
    ``low`` with ``above``) and at most ``high``; anything else is argparse's one error line."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {'a whole number' if kind is int else 'a number'}: {text!r}") from None
        too_low = value <= low if above else value < low
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            words = f"{'above' if above else 'at least'} {low:g}" + (f" and at most {high:g}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"must be {words} (got {text})")
        return value

    parse.__name__ = kind.__name__
    return parse


positive_int = number(int, 1)
"""An argparse type: a whole number of at least 1 (pictures, frames, snapshots)."""
non_negative_int = number(int, 0)
"""An argparse type: a random seed, a whole number of at least 0 (numpy refuses negative ones)."""


def need(*modules: str) -> None:
    """Import each of ``modules`` (import names: ``skimage``, ``tqdm``...), or raise :class:`DataError`
    naming the first missing one's pip package; call it before any long work."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            package = PIP_PACKAGES.get(module.split(".")[0], module)
            raise DataError(f"needs {package}, which is not installed here (pip install {package})") from None


def fer_pictures(root: Path, classes: Iterable[str]) -> dict[str, list[Path]]:
    """Each class's PublicTest pictures in ``root/test/<class>/``, sorted by name; :class:`DataError`
    where a class's folder is missing (``root`` is no FER2013 image-folder root) or holds none."""
    classes = tuple(classes)
    if not all((root / "test" / label).is_dir() for label in classes):
        raise DataError(f"{root}: no FER2013 test/<class> folders there (expected test/{classes[0]}/{FER_PICTURES}...)")
    pictures = {label: sorted((root / "test" / label).glob(FER_PICTURES)) for label in classes}
    empty = next((label for label, paths in pictures.items() if not paths), None)
    if empty:
        raise DataError(f"{root / 'test' / empty}: no {FER_PICTURES} pictures there")
    return pictures


def read_gray(path: Path) -> np.ndarray:
    """A data picture as a 2-D uint8 gray array; :class:`~emojify.imageio.ImageError` (one line naming
    the file) where it is no picture."""
    return to_gray(read_image(path))
