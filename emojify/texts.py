"""Every sentence the kiosk shows a visitor, in one place, translated through gettext catalogues.

The sentences are English msgids marked with ``N_()``; they are translated when they are read,
not when this module is imported: ``texts.HINT`` (through the module's ``__getattr__``) and the
functions below look the text up in the language chosen by :func:`set_language`, which the kiosk
calls once at start-up from its ``language`` setting (English until then). Read them as
``texts.NAME`` at the moment they are shown; ``from emojify.texts import HINT`` would freeze one
language. The catalogues are ``locale/<lang>/LC_MESSAGES/emojify.po`` beside this module, compiled
to ``.mo`` files that ship with the package (docs/languages.md says how to add a language).
Nothing here draws, reads a camera or decides when a sentence is shown.
"""

from __future__ import annotations

import errno
import gettext
import locale
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from emojify.errors import reason_of
from emojify.resources import PACKAGE_DIR

if TYPE_CHECKING:
    from emojify.sources import SourceEvent, SourceSpec

DOMAIN = "emojify"
LOCALE_DIR = PACKAGE_DIR / "locale"
"""Where the catalogues are: ``<lang>/LC_MESSAGES/emojify.mo`` (the ``.po`` sources beside them)."""
LANGUAGES = ("en", "de", "fr", "es")
"""The languages the kiosk speaks; English is the msgids themselves, the others have catalogues."""
SOURCE_LANGUAGE = "en"
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
"""The environment variables that name the system's language, strongest first (as gettext reads them)."""

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = SOURCE_LANGUAGE


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues without translating it (it is translated when read)."""
    return message


def _(message: str) -> str:
    """``message`` in the current language (itself where the catalogue has no translation)."""
    return _translation.gettext(message)


def system_language(environ: Mapping[str, str] | None = None) -> str:
    """The first of :data:`LANGUAGES` named by the system locale, else English.

    Reads ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` (the first one set, as gettext
    does; ``LANGUAGE`` may list several, ``de:fr``), then :func:`locale.getlocale`:
    ``fr_FR.UTF-8`` gives ``"fr"``, ``C`` or an unknown language gives ``"en"``.
    """
    environ = os.environ if environ is None else environ
    names = next((environ[name].split(":") for name in LOCALE_VARIABLES if environ.get(name)), None)
    if names is None:
        names = [locale.getlocale()[0] or ""]
    for name in names:
        code = name.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return SOURCE_LANGUAGE


def set_language(code: str) -> str:
    """Show every text in language ``code`` (one of :data:`LANGUAGES`, or ``"auto"`` for the
    system's); returns the language now in use."""
    global _translation, _language
    language = system_language() if code == "auto" else code
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {code!r} (expected auto or one of: {', '.join(LANGUAGES)})")
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)
    _language = language
    return language


def language() -> str:
    """The language the texts are shown in now (see :func:`set_language`)."""
    return _language


WORKING = "..."
"""The panel's title while a snapshot is classified (the same in every language)."""

_SENTENCES: dict[str, str] = {
    # --- the live screen and the panel
    "HINT": N_("Put your face inside the frame"),
    "HINT_NO_FRAME": N_("Look at the camera"),  # the hint where no frame is drawn (--region 1)
    "NO_FACE_YET": N_("No face yet"),
    "NO_FACE_FOUND": N_("No face found"),
    "SNAPSHOT_BUTTON": N_("Snapshot"),
    "GET_READY": N_("Get ready..."),
    "SNAPSHOT_SAVED": N_("Snapshot saved"),
    "SAVING": N_("Saving the snapshot..."),
    "STILL_SAVING": N_("Not saved: the last snapshot is still being written"),
    "KEEPS_TRYING": N_("emojify keeps trying and carries on by itself."),
    "SNAPSHOT_FAILED": N_("That snapshot did not work; please try again."),
    "FAILURE_TITLE": N_("Something went wrong"),
    "FAILURE_DETAIL": N_("The picture will be back in a moment."),
    # --- the attract screen and the challenge game
    "ATTRACT_TITLE": N_("Make a face!"),
    "ATTRACT_LINE": N_("Smile, frown or look surprised: an emoji mirrors your face."),
    "ATTRACT_PLAY": N_("Press the button to play the face challenge."),
    # TRANSLATORS: the kiosk reads what a face shows (an expression), never what a person feels (an
    # emotion): keep that distinction (de: Gesichtsausdruck, fr: expression du visage, es: expresión facial).
    "NOTICE": N_("This kiosk reads facial expressions (not feelings) to choose an emoji."),
    "NOTICE_NOTHING_KEPT": N_("It keeps nothing: no picture is stored."),
    "NOTICE_SAVED": N_("Snapshots are saved when you take one; nothing else is kept."),
    "PLAY": N_("Start the game"),
    "PLAYING": N_("Playing..."),
    "PLAY_AGAIN": N_("Play again"),
    "MAKE_THIS_FACE": N_("Make this face: {name}"),
    "TIME": N_("Time"),
    "SECONDS": N_("{seconds} s"),
    "HOLD": N_("Hold it"),
    "TARGET_OF": N_("Face {number} of {total}"),
    "SCORE": N_("Score {score}"),
    "BEST_TODAY": N_("Best today {score}"),
    "NEW_BEST": N_("New best today!"),
    "MATCHED": N_("Matched! +{points}"),
    "MISSED": N_("Time's up"),
    "MATCHED_OF": N_("{matched} of {total} matched"),
}
"""The fixed sentences by name, read as ``texts.NAME`` (translated at that moment)."""


def __getattr__(name: str) -> str:
    """``texts.HINT`` and the other names of :data:`_SENTENCES`, in the current language."""
    try:
        return _(_SENTENCES[name])
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted([*globals(), *_SENTENCES])


EXPRESSION_NAMES: dict[str, str] = {
    # TRANSLATORS: this and the next six are the expressions as the panel and the challenge name them.
    # They describe what a face shows (a happy face), not what a person feels. Keep them short.
    "angry": N_("Angry"),
    "disgust": N_("Disgust"),
    "fear": N_("Fear"),
    "happy": N_("Happy"),
    "sad": N_("Sad"),
    "surprise": N_("Surprise"),
    "neutral": N_("Neutral"),
}
"""The on-screen name of each class of :data:`emojify.labels.CLASSES`, before translation."""


def expression_name(label: str) -> str:
    """A class label as shown on screen, in the current language: ``"happy"`` -> ``"Happy"``."""
    return _(EXPRESSION_NAMES[label])


def back_to_live(seconds: int) -> str:
    """The panel's countdown while a snapshot is on screen."""
    return _("Back to live in {seconds}").format(seconds=seconds)


_SAVE_FAILURES = {
    errno.EACCES: N_("no permission to write in the folder"),
    errno.EPERM: N_("no permission to write in the folder"),
    errno.ENOSPC: N_("the disk is full"),
    errno.EDQUOT: N_("the disk is full"),
    errno.EROFS: N_("the drive is read-only"),
    errno.ENOENT: N_("the folder is gone (a USB stick pulled out?)"),
    errno.ENOTDIR: N_("a file is where the folder should be"),
    errno.EEXIST: N_("a file is where the folder should be"),
}


def could_not_save(error: OSError, stickers: bool = False) -> str:
    """The banner shown when a snapshot (or, with ``stickers``, the stickers saved beside it) could
    not be written to the save folder: the usual causes in the window's language, any other as the
    system words it."""
    known = _SAVE_FAILURES.get(error.errno)  # type: ignore[arg-type]
    reason = _(known) if known else reason_of(error)
    words = _("Could not save the stickers: {reason}") if stickers else _("Could not save the snapshot: {reason}")
    return words.format(reason=reason)


# --- the source's status and the "no picture" message ---------------------------------------------
_CAMERA_STATUS = {
    "starting": N_("Starting the camera..."),
    "live": N_("Camera on."),
    "absent": N_("No camera found. Check the USB cable; still trying..."),
    "busy": N_("The camera is there but does not open. Is another program using it? Still trying..."),
    "lost": N_("Camera lost; reconnecting..."),
    "stalled": N_("Camera stopped sending pictures; reconnecting..."),
}
_PICAMERA_STATUS = {
    "starting": N_("Starting the camera module..."),
    "live": N_("Camera module on."),
    "absent": N_("No camera module found. Check its ribbon cable; still trying..."),
    "busy": N_("The camera module is there but does not open. Is another program using it? Still trying..."),
    "lost": N_("Camera module lost; reconnecting..."),
    "stalled": N_("Camera module stopped sending pictures; reconnecting..."),
}
_FILE_STATUS = {
    "starting": N_("Opening {name}..."),
    "live": N_("Showing {name}."),
    "absent": N_("Cannot open {name}; still trying..."),
    "busy": N_("Cannot open {name}; still trying..."),  # only cameras are busy
    "lost": N_("Lost {name}; reopening..."),
    "stalled": N_("{name} stopped sending pictures; reopening..."),
}


def _file_name(spec: SourceSpec) -> str:
    """A file source as a visitor sees it: its file or folder name."""
    return Path(spec.target).name or str(spec.target)


_STATUS = {"camera": _CAMERA_STATUS, "picamera": _PICAMERA_STATUS}
"""The status sentences by source kind (:class:`emojify.sources.SourceKind`'s values); files get _FILE_STATUS."""


def status_message(spec: SourceSpec, event: SourceEvent | str) -> str:
    """The sentence shown to a visitor for ``event`` (a :class:`emojify.sources.SourceEvent`) of ``spec``."""
    if spec.kind.is_camera:
        return _(_STATUS[str(spec.kind)][str(event)])
    return _(_FILE_STATUS[str(event)]).format(name=_file_name(spec))


def message_tips(spec: SourceSpec, pi_camera: bool = False) -> tuple[str, list[str]]:
    """Title and what-to-check lines of the "no picture" message for ``spec``.

    ``pi_camera`` says that a Raspberry Pi camera module is attached: a USB camera index that
    gives no pictures then gets the tip to use it instead.
    """
    if spec.kind.value == "camera":
        tips = [_("Check that the camera's USB cable is plugged in firmly."),
                _("Close any other program that is using the camera."),
                _("To use another camera or a video, start emojify with --source.")]
        if pi_camera:
            tips.insert(0, _("A Raspberry Pi camera module is attached: start emojify with --source picamera."))
        return _("No camera picture"), tips
    if spec.kind.value == "picamera":
        return _("No camera picture"), [
            _("Check that the camera module's ribbon cable is seated firmly at both ends."),
            _("Close any other program that is using the camera (rpicam-hello, another emojify)."),
            _("To use a USB camera or a video instead, start emojify with --source."),
        ]
    there = (_("Check that the folder {path} is still there and holds pictures emojify can read.")
             if spec.kind.value == "folder" else _("Check that {path} is still there and readable."))
    return _("No pictures from {name}").format(name=_file_name(spec)), [
        there.format(path=spec.target),
        _("To use a camera instead, start emojify with --source 0."),
    ]
