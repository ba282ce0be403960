"""The progress bar of the long commands (``evaluate``, ``bench``, the training and packaging tools)."""

from __future__ import annotations

import sys
from collections.abc import Iterable


def progress_bar(items: Iterable, what: str | None = None, total: int | None = None, unit: str = "img") -> Iterable:
    """``items`` with a tqdm progress bar on stderr (named ``what``; only on a terminal, so stdout
    stays clean for ``--json``; gone when done) where tqdm is installed, else the items as they are."""
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=what, total=total, unit=unit, file=sys.stderr, leave=False,
                disable=not sys.stderr.isatty())


def print_above(bar: Iterable, line: str) -> None:
    """Print ``line`` on stderr above ``bar`` (what :func:`progress_bar` gave), not glued to its end; as
    print does where it is no bar."""
    write = getattr(bar, "write", None)  # tqdm's: clears the bar, prints, draws it again
    if write is None:
        print(line, file=sys.stderr)
    else:
        write(line, file=sys.stderr)
