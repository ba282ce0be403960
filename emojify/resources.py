"""Where the shipped files live: ``model/``, ``emojis/`` and the built-in sample face.

Looked up, in order, inside a PyInstaller bundle (``sys._MEIPASS``), in the source checkout (beside
the ``emojify`` package, where ``setup.cfg`` is) and in an installed wheel's data (``share/emojify``
where pip put it: in a venv, the user's folder with ``--user``, ``/usr/local`` with a system pip).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_FACE = PACKAGE_DIR / "data" / "astronaut.jpg"
"""A public-domain photo of a smiling astronaut (NASA, via scikit-image), downscaled."""
DATA_MARKER = "share/emojify/emojis/emojis.json"
"""One of the wheel's data files, by its path's end: where it was installed, the others are too."""


@lru_cache(maxsize=1)
def installed_data_root() -> Path | None:
    """The ``share/emojify`` folder pip installed the wheel's data files into, from the installed
    file list (None where emojify is not installed as a wheel: a checkout, the executable)."""
    from importlib import metadata

    try:
        files = metadata.distribution("emojify").files or []
    except metadata.PackageNotFoundError:
        return None
    found = next((file for file in files if file.as_posix().endswith(DATA_MARKER)), None)
    return None if found is None else Path(found.locate()).resolve().parents[1]


def search_roots() -> Iterator[Path]:
    """Folders that may hold ``model/`` and ``emojis/``, most specific first, each found only when
    the ones before it were not enough (a checkout never asks for the installed file list). The folder
    above the package counts only in a checkout: in an install it is ``site-packages``, where a
    ``model/`` folder would be another package's."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        yield Path(bundle)
    if (PACKAGE_DIR.parent / "setup.cfg").is_file():
        yield PACKAGE_DIR.parent
    installed = installed_data_root()
    if installed is not None:
        yield installed
    prefix = Path(sys.prefix) / "share" / "emojify"
    if prefix != installed:
        yield prefix


def resource_dir(name: str) -> Path:
    """The first ``<root>/<name>`` folder that exists (``name`` is ``"model"`` or ``"emojis"``).

    Raises ``FileNotFoundError`` listing where it looked.
    """
    candidates = []
    for root in search_roots():
        folder = root / name
        if folder.is_dir():
            return folder
        candidates.append(folder)
    raise FileNotFoundError(f"no {name}/ folder found (looked in {', '.join(map(str, candidates))})")
