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


REGION_RANGE = (0.1, 1.0)
"""The capture region's smallest and largest share of the picture's width and height (``--region``,
the settings file's ``region``, the API's ``region=``): under a tenth, no face near the camera fits."""
