"""Where the shipped files live: ``model/``, ``emojis/`` and the built-in sample face.

Looked up, in order, inside a PyInstaller bundle (``sys._MEIPASS``), in the source checkout
(beside the ``emojify`` package) and in an installed wheel's data (``<prefix>/share/emojify``).
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_FACE = PACKAGE_DIR / "data" / "astronaut.jpg"
"""A public-domain photo of a smiling astronaut (NASA, via scikit-image), downscaled."""


def search_roots() -> list[Path]:
    """Folders that may hold ``model/`` and ``emojis/``, most specific first."""
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle))
    roots += [PACKAGE_DIR.parent, Path(sys.prefix) / "share" / "emojify"]
    return roots


def resource_dir(name: str) -> Path:
    """The first ``<root>/<name>`` folder that exists (``name`` is ``"model"`` or ``"emojis"``).

    Raises ``FileNotFoundError`` listing where it looked.
    """
    candidates = [root / name for root in search_roots()]
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"no {name}/ folder found (looked in {', '.join(map(str, candidates))})")
