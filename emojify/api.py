"""The Python API: faces and their expressions in a picture, in one call.

    >>> import emojify
    >>> faces = emojify.detect("photo.jpg")          # doctest: +SKIP
    >>> faces[0].label, faces[0].emoji               # doctest: +SKIP
    ('happy', '😄')

:func:`detect` takes a path, a NumPy array (BGR as OpenCV gives it, gray, or BGRA) or a Pillow image and
returns :class:`Face` objects, largest first. The models load on the first call and are kept;
:class:`Reader` holds them for a chosen model file or detector. ``emojify predict`` runs on this
module. The interpreters are not safe to share between threads, so one lock serialises their use:
calls from several threads are safe and give the same answers as calls from one.
"""

from __future__ import annotations

import numbers
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from emojify.detectors import REGION_RANGE, Detector
from emojify.errors import EmojifyError, first_line
from emojify.faces import DETECTORS
from emojify.imageio import MAX_SIDE, ImageError, read_image_scaled, to_array, upright
from emojify.labels import CLASSES, EMOJI
from emojify.pipeline import Pipeline, Result
from emojify.preprocess import Box
from emojify.shape import Shape

__all__ = ["Face", "Reader", "Reading", "Shape", "detect"]

_MODELS_LOCK = threading.RLock()
"""Held around every use of the interpreters: BlazeFace's model is shared by every detector of the
process (``faces.load_blazeface``), and a TFLite interpreter must not run in two threads at once. A
fork waits for it too (:func:`_before_fork`); reentrant, so a thread that holds it may fork."""
_PILLOW_LOCK = threading.Lock()
"""Held while a caller's Pillow image is copied: ``Image.open`` decodes on first use, and two threads
decoding the same opened image at once corrupt it (a truncated read, a closed file)."""
_DEFAULT_LOCK = threading.Lock()
_default_reader: Reader | None = None


def _before_fork() -> None:
    """A fork (a ``fork`` process pool, Linux's default before Python 3.14) waits until no thread is
    inside a model call: the child shares the parent's loaded interpreters, and one copied in the middle
    of a call (a view of its input still held) refuses every later call there ("There is at least 1
    reference to internal data")."""
    _MODELS_LOCK.acquire()


def _after_fork_in_parent() -> None:
    _MODELS_LOCK.release()


def _after_fork_in_child() -> None:
    """The child starts with new locks, or one held by another thread at the fork would be held for
    ever there. It keeps the parent's models, default reader included: copied between calls, whole."""
    global _MODELS_LOCK, _PILLOW_LOCK, _DEFAULT_LOCK
    _MODELS_LOCK, _PILLOW_LOCK, _DEFAULT_LOCK = threading.RLock(), threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)


@dataclass(frozen=True)
class Face:
    """One face of a picture.

    ``box`` is (x, y, w, h) in the picture's own pixels (a file's, even when it was decoded smaller);
    ``label`` the expression it shows, one of ``emojify.labels.CLASSES``; ``probabilities`` each
    expression's probability by label (they sum to 1); ``emoji`` the label's emoji character;
    ``score`` how sure the face detector is that this is a face (0..1; with Haar, the face's share of
    the strongest face's hits); ``shape`` what the face does,
    from its face mesh (:class:`~emojify.shape.Shape`: mouth open, smile, brows, eyes open, pose), or
    None where the mesh found no face in the box.
    """

    box: Box
    label: str
    probabilities: dict[str, float] = field(hash=False)
    emoji: str
    score: float
    shape: Shape | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``box`` [x, y, w, h], ``label``, ``probabilities`` (rounded), ``emoji``, ``score``,
        ``shape`` (an object, or None)."""
        return {"box": list(self.box), "label": self.label,
                "probabilities": {c: round(p, 4) for c, p in self.probabilities.items()},
                "emoji": self.emoji, "score": round(self.score, 4),
                "shape": None if self.shape is None else self.shape.as_dict()}


@dataclass(frozen=True, eq=False)  # it holds an array: compared or hashed, a reading is itself
class Reading:
    """What :meth:`Reader.read` saw: the decoded ``image`` (gray or BGR, transparent pixels made white;
    a copy of its own, never the caller's array), ``scale`` (the picture's own pixels per decoded
    pixel: above 1 for a picture read smaller), the pipeline's ``result`` (in the decoded pixels, for
    drawing on ``image``) and ``faces`` (in the picture's own pixels)."""

    image: np.ndarray
    scale: float
    result: Result
    faces: list[Face]


def as_path(value: str | os.PathLike, what: str, error: type[EmojifyError]) -> Path:
    """``value``, a ``str`` or an ``os.PathLike`` giving one, as a Path; an empty path or one given as
    bytes raises ``error`` saying so (``Path("")`` is ".", a folder, and ``Path`` refuses bytes with a
    TypeError)."""
    name = os.fspath(value)
    if not isinstance(name, str):
        raise error(f"{what} {value!r}: a path given as bytes; give a str or a pathlib.Path")
    if not name:
        raise error(f"{what}: an empty path")
    if "\0" in name:  # open() raises ValueError for it
        raise error(f"{what} {name!r}: not a valid file name (it holds a NUL character)")
    return Path(name)


def as_image(image: Any) -> tuple[np.ndarray, float]:
    """A picture as a uint8 gray or BGR array, and the picture's own pixels per array pixel.

    ``image`` is a path (``str`` or ``os.PathLike``; read as ``emojify predict`` reads files), a NumPy
    array (uint8 gray ``(H, W)`` or ``(H, W, 1)``, BGR ``(H, W, 3)`` or BGRA ``(H, W, 4)``, its transparent pixels over white
    as in a file) or a Pillow image of any mode (turned upright by its EXIF orientation, as files are). Large ones are read smaller, as files are
    (:func:`shrunk`). Anything else raises :class:`~emojify.imageio.ImageError`.
    """
    if isinstance(image, str | os.PathLike):
        return read_image_scaled(as_path(image, "image", ImageError))
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))):
            raise ImageError(f"image: a {image.dtype} array of shape {image.shape}; expected uint8 gray (H, W) "
                             "or (H, W, 1), BGR (H, W, 3) or BGRA (H, W, 4)")
        if image.size == 0:
            raise ImageError(f"image: an empty array of shape {image.shape}")
        if image.ndim == 3 and image.shape[2] == 1:  # Reading.image gray (H, W) at every size, as from a file
            image = image[:, :, 0]
        if image.ndim == 3 and image.shape[2] == 4:  # transparent pixels over white, as in a file of it
            from PIL import Image

            image = to_array(Image.fromarray(np.ascontiguousarray(image[:, :, [2, 1, 0, 3]]), "RGBA"))
        array, scale = shrunk(image)
        return (array.copy() if array is image else array), scale  # Reading.image is never the caller's array
    from PIL import Image

    if isinstance(image, Image.Image):
        if 0 in image.size:
            raise ImageError(f"image: an empty Pillow image of size {image.size}")
        with _PILLOW_LOCK:
            try:
                image.load()
            except Exception as exc:  # noqa: BLE001 - anything: a file closed before it was loaded fails an assert
                raise ImageError(f"image: cannot read the Pillow image ({first_line(exc)})") from None
            turned = upright(image)  # as viewers show it, like a file read here
        try:
            return _shrunk_pillow(turned)  # a copy: the caller's image is untouched
        except (OSError, ValueError) as exc:
            raise ImageError(f"image: cannot read the Pillow image ({exc})") from None
    raise ImageError(f"image: got {type(image).__name__}; expected a path, a NumPy array or a Pillow image")


def shrunk_size(width: int, height: int) -> tuple[int, int]:
    """The size a picture of ``width`` x ``height`` is searched at: at most
    :data:`~emojify.imageio.MAX_SIDE` on its longer side."""
    factor = min(1.0, MAX_SIDE / max(height, width))
    return max(1, round(width * factor)), max(1, round(height * factor))


def shrunk(array: np.ndarray) -> tuple[np.ndarray, float]:
    """``array``, or a copy of it scaled down to :func:`shrunk_size`, and the picture's own pixels per
    pixel of it (width over width, as for a file). A caller's large picture is searched as its file
    would be: the same faces, without the cost of searching every pixel."""
    height, width = array.shape[:2]
    size = shrunk_size(width, height)
    if size == (width, height):
        return array, 1.0
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA), width / size[0]


def _shrunk_pillow(image: Any) -> tuple[np.ndarray, float]:
    """A Pillow image as :func:`shrunk` gives its array, a large 8-bit gray or colour one scaled down by
    Pillow first: its full-size copies for the array (about three of 430 MB for a 12000x12000 photo)
    made the same picture cost 3.5 times the memory given as a Pillow image as given as a file."""
    from PIL import Image

    size = shrunk_size(*image.size)
    if size == image.size or image.mode not in ("L", "RGB"):  # the others: their own conversion first
        return shrunk(to_array(image))
    return to_array(image.resize(size, Image.Resampling.BOX)), image.size[0] / size[0]


def check_options(all_faces: bool, region: float | None) -> None:
    """Refuse an ``all_faces`` that is not True or False, and a capture region that is not a share of
    the picture in :data:`~emojify.detectors.REGION_RANGE`, as ``--region`` (any real number: a NumPy
    float too; a bool is no share). A smaller region found no face, in silence."""
    if not isinstance(all_faces, bool | np.bool_):
        raise EmojifyError(f"all_faces {all_faces!r}: must be True or False")
    low, high = REGION_RANGE
    if region is not None and (isinstance(region, bool | np.bool_)
                               or not (isinstance(region, numbers.Real) and low <= region <= high)):
        raise EmojifyError(f"region {region!r}: must be a share of the picture's width and height from {low:g} to {high:g}")


class Reader:
    """The models, loaded once, for :meth:`detect`: ``model`` a ``.tflite`` expression model (default: the
    shipped one, with its ``.json`` beside it), ``detector`` a :class:`~emojify.detectors.Detector` or its
    name, ``"blazeface"`` or ``"haar"`` (any case).

    Loading happens here, so a bad model file or detector name raises :class:`~emojify.EmojifyError` at once.
    """

    def __init__(self, model: str | os.PathLike[str] | None = None, detector: Detector | str = Detector.BLAZEFACE) -> None:
        from emojify.classifier import Classifier, ModelError

        if model is not None and not isinstance(model, str | os.PathLike):
            raise EmojifyError(f"model {model!r}: expected the path of a .tflite file (a str or a Path)")
        try:
            chosen = Detector(str(detector).lower())
        except ValueError:
            names = ", ".join(map(str, Detector))
            raise EmojifyError(f"detector {detector!r}: unknown (choose from {names})") from None
        with _MODELS_LOCK:
            self._pipeline = Pipeline(Classifier(None if model is None else as_path(model, "model", ModelError)),
                                      DETECTORS[chosen]())

    def read(self, image: Any, *, all_faces: bool = False, region: float | None = None) -> Reading:
        """Like :meth:`detect`, also returning the decoded picture and the pipeline's own result."""
        check_options(all_faces, region)
        array, scale = as_image(image)
        with _MODELS_LOCK:
            self._pipeline.region_fraction = float(region or 1.0)  # read only when a region is asked for
            result = self._pipeline.analyze(array, use_region=region is not None, all_faces=bool(all_faces))
        faces = [Face(tuple(round(v * scale) for v in face.box), face.label,
                      {c: float(p) for c, p in zip(CLASSES, face.probabilities, strict=True)},
                      EMOJI[face.label], float(face.score), face.shape)
                 for face in result.faces]
        return Reading(array, scale, result, faces)

    def detect(self, image: Any, *, all_faces: bool = False, region: float | None = None) -> list[Face]:
        """The faces in ``image`` with their expressions, largest first; an empty list when there is none.

        ``image``: a path, a NumPy array (BGR as OpenCV gives it, gray, or BGRA) or a Pillow image.
        ``all_faces``: every face, not only the largest. ``region``: only faces inside the centred
        part of this share of the picture's width and height (e.g. 0.6), searched as the kiosk's
        live feed searches, for faces close to the camera (at least about 13% of the
        region's longer side); by default the whole picture is searched thoroughly, as for a photo.
        A picture that cannot be read raises :class:`~emojify.EmojifyError`.
        """
        return self.read(image, all_faces=all_faces, region=region).faces


def default_reader() -> Reader:
    """The process's :class:`Reader` with the shipped model and BlazeFace, made on first use."""
    global _default_reader
    with _DEFAULT_LOCK:
        if _default_reader is None:
            _default_reader = Reader()
        return _default_reader



def detect(image: Any, *, all_faces: bool = False, region: float | None = None) -> list[Face]:
    """The faces in ``image`` with their expressions, largest first (:meth:`Reader.detect` with the
    shipped model and detector, loaded on the first call)."""
    return default_reader().detect(image, all_faces=all_faces, region=region)
