"""Frame sources: a camera, a Pi camera module, a video file, one image or a folder of images, as one live stream.

:func:`parse_source` (:mod:`.spec`) turns what the user typed (``0``, ``/dev/video2``,
``picamera``, ``clip.avi``, ``face.jpg``, ``photos/``) into a :class:`SourceSpec`;
:func:`open_reader` (:mod:`.readers`) opens it as a :class:`Reader` through the one table of
reader classes, :class:`ReaderKind`; :class:`CaptureThread` (:mod:`.capture`) reads it in the
background, keeps only the newest frame and reconnects. The Pi camera module's reader is in
:mod:`.picamera`; :func:`probe_source` fails at once, saying why, for a source this machine can never
open. What the visitor is told is in :mod:`emojify.texts`.
"""

from emojify.sources.capture import INITIAL_BACKOFF, CaptureThread, Frame, SourceEvent, SourceStatus
from emojify.sources.picamera import PicameraReader, pi_camera_found, picamera_report
from emojify.sources.readers import (
    DEFAULT_FILE_FPS,
    CameraReader,
    FolderReader,
    ImageReader,
    Reader,
    ReaderKind,
    VideoReader,
    open_reader,
    probe_source,
)
from emojify.sources.spec import (
    IMAGE_SUFFIXES,
    SourceBusy,
    SourceError,
    SourceKind,
    SourceSpec,
    SourceUnavailable,
    folder_images,
    parse_source,
)

__all__ = [
    "DEFAULT_FILE_FPS",
    "IMAGE_SUFFIXES",
    "INITIAL_BACKOFF",
    "CameraReader",
    "CaptureThread",
    "FolderReader",
    "Frame",
    "ImageReader",
    "PicameraReader",
    "Reader",
    "ReaderKind",
    "SourceBusy",
    "SourceError",
    "SourceEvent",
    "SourceKind",
    "SourceSpec",
    "SourceStatus",
    "SourceUnavailable",
    "VideoReader",
    "folder_images",
    "open_reader",
    "parse_source",
    "pi_camera_found",
    "picamera_report",
    "probe_source",
]
