"""What the user typed as a source (``0``, ``/dev/video2``, ``picamera``, ``clip.avi``, ``photos/``),
parsed into a :class:`SourceSpec`.

Parsing only reads the text and looks at the file system; it imports no camera library. Whether
this machine can open the source is :func:`emojify.sources.readers.probe_source`'s question.
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass
from pathlib import Path

from emojify.errors import EmojifyError
from emojify.imageio import IMAGE_SUFFIXES, folder_images

_DEV_VIDEO = re.compile(r"/dev/video(\d+)")
_DIGITS = re.compile(r"\d+", re.ASCII)
_PICAMERA = re.compile(r"picamera(?::(\d+))?", re.ASCII | re.IGNORECASE)
MAX_CAMERA = 99
"""The highest camera number: OpenCV reads an index from 100 up as a backend's number plus a camera's."""


class SourceError(EmojifyError):
    """A source that can never work (missing path, empty folder, unreadable file); one-line message."""


class SourceUnavailable(SourceError):
    """A source this machine cannot open at all (its library is missing); one-line message."""


class SourceBusy(OSError):
    """A camera that is there but does not open: most often another program holds it (a second
    emojify, rpicam-hello), sometimes a driver fault or the user's permissions. The capture thread
    keeps trying, and the visitor is told it is there (:attr:`SourceEvent.BUSY`), not to check a cable."""


class SourceKind(str, enum.Enum):
    """The kinds of source. A ``str`` enum, so ``spec.kind == "camera"`` reads as before."""

    CAMERA = "camera"
    PICAMERA = "picamera"
    VIDEO = "video"
    IMAGE = "image"
    FOLDER = "folder"

    @property
    def is_camera(self) -> bool:
        """A live camera (USB or Pi camera module), as opposed to a file or a folder."""
        return self in (SourceKind.CAMERA, SourceKind.PICAMERA)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class SourceSpec:
    """Where frames come from: ``kind`` (a :class:`SourceKind`), ``target`` a camera index or a path
    (of a file, a folder, or a link to a camera's ``/dev/videoN``, followed each time it is opened)."""

    kind: SourceKind
    target: int | Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", SourceKind(self.kind))  # "camera" given as text becomes the enum

    def __str__(self) -> str:
        """Name the source for messages and logs: ``camera 0``, ``picamera 0`` or the path."""
        return f"{self.kind} {self.target}" if self.kind.is_camera else str(self.target)


def names_a_camera(text: str) -> bool:
    """Whether ``text`` is written as a camera (an index, ``/dev/videoN``, ``picamera[:N]``), not as a
    path: what :func:`parse_source` takes for a camera before it looks at the file system."""
    text = text.strip()
    return any(pattern.fullmatch(text) for pattern in (_DIGITS, _DEV_VIDEO, _PICAMERA))


def parse_source(spec: str | int | Path) -> SourceSpec:
    """Interpret a command-line source: camera index, ``/dev/videoN``, ``picamera[:N]``, folder, image or video.

    An int or a string of ASCII digits is a camera index (0 to :data:`MAX_CAMERA`) and
    ``/dev/videoN`` is camera N; a link to it such as ``/dev/v4l/by-id/...`` is that camera, kept as
    the link, which is followed again each time the camera is opened (it leads to another N once the
    camera is plugged back in elsewhere; a link under ``/dev/v4l/`` to nothing yet is a camera not
    plugged in, waited for);
    ``picamera`` is the Raspberry Pi camera module 0 and ``picamera:N`` module N (read through
    Picamera2, which this does not import); an existing directory
    is a folder (it must hold at least one image), an existing file with an image suffix is an
    image, and any other existing file is a video. Anything else raises :class:`SourceError` with
    the message ``"<spec>: no such camera, file or folder"``.
    """
    if isinstance(spec, int) and not isinstance(spec, bool):
        if spec < 0:
            raise SourceError(f"{spec}: no such camera, file or folder")
        return _camera(spec, str(spec))
    text = str(spec)
    if _DIGITS.fullmatch(text.strip()):
        return _camera(int(text.strip()), text.strip(), typed_number=True)
    path = Path(text).expanduser()
    # udev makes a camera's /dev/v4l/ link only while it is plugged in: a name there that leads to
    # nothing (yet) is a camera to wait for, as a /dev/videoN that is not there is
    waited = path.absolute().is_relative_to(V4L_LINKS) and not path.exists()
    if waited or (path.is_symlink() and linked_camera(path) is not None):
        return SourceSpec(SourceKind.CAMERA, path)
    match = _DEV_VIDEO.fullmatch(text.strip())
    if match:
        return _camera(int(match.group(1)), text.strip())
    match = _PICAMERA.fullmatch(text.strip())
    if match:
        return SourceSpec(SourceKind.PICAMERA, int(match.group(1) or 0))
    if text.strip() and path.is_dir():
        if not folder_images(path):
            suffixes = " ".join(sorted(IMAGE_SUFFIXES))
            raise SourceError(f"{text}: folder holds no images ({suffixes})")
        return SourceSpec(SourceKind.FOLDER, path)
    if text.strip() and path.is_file():
        return SourceSpec(SourceKind.IMAGE if path.suffix.lower() in IMAGE_SUFFIXES else SourceKind.VIDEO, path)
    if text.strip() and path.exists():  # /dev/null, /dev/stdin, a named pipe: nothing to replay
        raise SourceError(f"{text}: a device or a pipe, not a camera, file or folder; save the video or pictures to a file")
    raise SourceError(f"{text}: no such camera, file or folder")


V4L_LINKS = Path("/dev/v4l")
"""Where udev keeps a camera's lasting names (``by-id/``, ``by-path/``), links to its ``/dev/videoN``."""


def linked_camera(link: Path) -> int | None:
    """The N of the ``/dev/videoN`` that ``link`` leads to now, or None (it leads to nothing, or to
    something else)."""
    match = _DEV_VIDEO.fullmatch(os.path.realpath(link))
    return int(match.group(1)) if match and int(match.group(1)) <= MAX_CAMERA else None


def _camera(index: int, text: str, typed_number: bool = False) -> SourceSpec:
    """Camera ``index``, typed as ``text`` (a number where ``typed_number``: it may have meant a folder of
    that name, a year's photos); a :class:`SourceError` above :data:`MAX_CAMERA`."""
    if index > MAX_CAMERA:
        raise SourceError(f"{text}: camera numbers go from 0 to {MAX_CAMERA} (/dev/video0 to /dev/video{MAX_CAMERA}); "
                          "give the N of the camera's /dev/videoN (v4l2-ctl --list-devices lists them)"
                          + (f", or ./{text} for a file or folder of that name" if typed_number else ""))
    return SourceSpec(SourceKind.CAMERA, index)
