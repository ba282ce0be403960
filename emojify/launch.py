"""The console scripts' entry points (``emojify``, ``emojify-train``, ``emojify-quantize``).

The commands' modules import NumPy and Pillow (and the training tools OpenCV) as they load, before
any of their own error handling can run, so a missing or broken one was a traceback even for
``--help``. Here the import itself is guarded: a runtime library that is missing or cannot be
loaded is one line naming what to install, and exit code 2 (``--debug`` still shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from emojify.errors import first_line

PACKAGES = {"numpy": "numpy", "PIL": "Pillow", "cv2": "opencv-python-headless", "tomli": "tomli"}
"""The runtime's libraries, by the module imported: the package that installs it (setup.cfg's
install_requires)."""
APT_PACKAGES = {"libGL.so.1": "libgl1", "libEGL.so.1": "libegl1", "libglib-2.0.so.0": "libglib2.0-0",
                "libgthread-2.0.so.0": "libglib2.0-0", "libgobject-2.0.so.0": "libglib2.0-0",
                "libSM.so.6": "libsm6", "libICE.so.6": "libice6", "libXext.so.6": "libxext6",
                "libXrender.so.1": "libxrender1", "libX11.so.6": "libx11-6", "libxcb.so.1": "libxcb1",
                "libgomp.so.1": "libgomp1"}
"""Debian / Raspberry Pi OS packages holding the shared libraries OpenCV's wheels may miss."""


def opencv_problem(exc: ImportError) -> str:
    """One line saying why ``import cv2`` failed and what to install: the apt package of a missing library."""
    text = first_line(exc)
    if getattr(exc, "name", None) == "cv2" or "No module named 'cv2'" in text:
        return "OpenCV is not installed here; pip install opencv-python-headless"
    library = text.split(":", 1)[0].strip()
    package = APT_PACKAGES.get(library)
    if package:
        return (f"OpenCV cannot load {library} ({text}); install it with: sudo apt install {package} "
                "(or use opencv-python-headless, which needs no GUI libraries)")
    return f"OpenCV cannot be imported ({text}); pip install --force-reinstall opencv-python-headless"


def raised_in(exc: BaseException, module: str) -> bool:
    """Whether ``exc`` was raised while a file of the package ``module`` ran (its loader, say)."""
    trace = exc.__traceback__
    while trace is not None:
        if module in Path(trace.tb_frame.f_code.co_filename).parts:
            return True
        trace = trace.tb_next
    return False


def library_problem(exc: ImportError) -> str | None:
    """One line for an import that failed for want of a runtime library, or because one cannot be
    loaded; None where the failure is not a runtime library's (a module of our own: a broken install
    or a bug, whose traceback stays)."""
    missing = (exc.name or "").partition(".")[0] if isinstance(exc, ModuleNotFoundError) else ""
    for module, package in PACKAGES.items():
        if module == "cv2" and (missing == "cv2" or raised_in(exc, "cv2")):
            return opencv_problem(exc)
        if missing == module:
            return f"needs the Python package {package}, which is not installed here (pip install {package})"
        if raised_in(exc, module):
            return f"the Python package {package} cannot be imported ({first_line(exc)}); " \
                   f"pip install --force-reinstall {package}"
    return None


def debug_asked(argv: list[str]) -> bool:
    """Whether ``argv`` asks for ``--debug``, as the commands' own parsers read it (the last of
    ``--debug`` and ``--no-debug`` wins; an unambiguous prefix counts)."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--debug", action=argparse.BooleanOptionalAction, default=False)
    try:
        return bool(parser.parse_known_args(argv)[0].debug)
    except argparse.ArgumentError:
        return False


def launch(prog: str, module: str) -> int:
    """Import ``module`` and return its ``main()``'s exit code; a runtime library that is missing or
    cannot be loaded ends it with one line on stderr and exit code 2."""
    try:
        main: Callable[[], int] = importlib.import_module(module).main
    except ImportError as exc:
        problem = library_problem(exc)
        if problem is None:
            raise
        if debug_asked(sys.argv[1:]):  # the traceback, then the line and its exit code, as the commands do
            traceback.print_exc()
        print(f"{prog}: error: {problem}", file=sys.stderr)
        return 2
    return main()


def emojify() -> int:
    return launch("emojify", "emojify.cli")


def train() -> int:
    return launch("emojify-train", "emojify.training.train")


def quantize() -> int:
    return launch("emojify-quantize", "emojify.training.quantize")
