"""emojify: the emoji matching the expression on a face, for a camera kiosk and for your own scripts.

    >>> import emojify
    >>> faces = emojify.detect("photo.jpg")  # doctest: +SKIP

``import emojify`` stays light: the API's modules (OpenCV, the interpreters) load on first use of a
name below. docs/api.md describes the API.
"""

from __future__ import annotations

import typing

from emojify.errors import EmojifyError

__version__ = "0.1.0"
__all__ = ["EmojifyError", "Face", "Reader", "Reading", "Shape", "__version__", "detect"]

if typing.TYPE_CHECKING:
    from emojify.api import Face, Reader, Reading, Shape, detect

_API_NAMES = frozenset({"Face", "Reader", "Reading", "Shape", "detect"})


def __getattr__(name: str) -> typing.Any:
    """The API's names, imported from :mod:`emojify.api` when first asked for (PEP 562)."""
    if name in _API_NAMES:
        try:
            from emojify import api
        except ImportError as exc:  # OpenCV, NumPy or Pillow missing or broken: say which to install
            from emojify.launch import library_problem

            problem = library_problem(exc)
            if problem is None:  # one of our own modules: a broken install or a bug, its traceback stays
                raise
            raise type(exc)(f"emojify: {problem}", name=exc.name, path=exc.path) from exc  # ModuleNotFoundError stays one
        return getattr(api, name)
    raise AttributeError(f"module 'emojify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
