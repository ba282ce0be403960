"""The face detectors a user can choose (``--detector``, the settings file's ``detector``), by name.

A leaf without OpenCV, so the settings and the command line parse the word once into a
:class:`Detector` before anything heavy is imported; :data:`emojify.faces.DETECTORS` builds one.
"""

from __future__ import annotations

import enum


class Detector(str, enum.Enum):
    """The face detectors: BLAZEFACE (MediaPipe's CNN, the default) or HAAR (OpenCV's cascade).
    A ``str`` enum whose values are the words the user types."""

    BLAZEFACE = "blazeface"
    HAAR = "haar"

    def __str__(self) -> str:
        return self.value
