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
