"""The console scripts' entry points (``emojify``, ``emojify-train``, ``emojify-quantize``).

The commands' modules import NumPy and Pillow as they load, before any of their own error handling
can run, so a missing one was a traceback even for ``--help``. Here the import itself is guarded: a
missing runtime library is one line naming the package to install, and exit code 2 (``--debug``
still shows the traceback).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

PACKAGES = {"numpy": "numpy", "PIL": "Pillow", "cv2": "opencv-python-headless", "tomli": "tomli"}
"""The runtime's libraries, by the module imported: the package that installs it (setup.cfg's
install_requires)."""


def missing_package(exc: ModuleNotFoundError) -> str | None:
    """The package to install for this failed import, or None where it is not a runtime library's
    (a missing module of our own is a broken install or a bug: its traceback stays)."""
    return PACKAGES.get((exc.name or "").partition(".")[0])


def launch(prog: str, module: str) -> int:
    """Import ``module`` and return its ``main()``'s exit code; a missing runtime library ends it with
    one line on stderr and exit code 2."""
    try:
        main: Callable[[], int] = importlib.import_module(module).main
    except ModuleNotFoundError as exc:
        package = missing_package(exc)
        if package is None or "--debug" in sys.argv[1:]:
            raise
        print(f"{prog}: error: needs the Python package {package}, which is not installed here "
              f"(pip install {package})", file=sys.stderr)
        return 2
    return main()


def emojify() -> int:
    return launch("emojify", "emojify.cli")


def train() -> int:
    return launch("emojify-train", "emojify.training.train")


def quantize() -> int:
    return launch("emojify-quantize", "emojify.training.quantize")
