"""Every sentence the kiosk shows a visitor, in one place (so that they can be translated).

Plain module-level strings and small functions that fill in a source's name; nothing here draws,
reads a camera or decides when a sentence is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from emojify.sources import SourceSpec

SourceEvent = Literal["starting", "live", "absent", "lost", "stalled"]
"""What a source just did: "absent" = it cannot be opened, "lost" = a read failed."""

# --- the live screen and the panel ---------------------------------------------------------------
HINT = "Put your face inside the frame"
NO_FACE_YET = "No face yet"
NO_FACE_FOUND = "No face found"
WORKING = "..."
SNAPSHOT_BUTTON = "Snapshot"
GET_READY = "Get ready..."
SNAPSHOT_SAVED = "Snapshot saved"
KEEPS_TRYING = "emojify keeps trying and carries on by itself."


# --- the attract screen and the challenge game ---------------------------------------------------
ATTRACT_TITLE = "Make a face!"
ATTRACT_LINE = "Smile, frown or look surprised: an emoji mirrors your face."
ATTRACT_PLAY = "Press the button to play the face challenge."
NOTICE = "This kiosk reads facial expressions (not feelings) to choose an emoji."
NOTICE_NOTHING_KEPT = "It keeps nothing: no picture is stored."
NOTICE_SAVED = "Snapshots are saved when you take one; nothing else is kept."
PLAY = "Start the game"
PLAYING = "Playing..."
PLAY_AGAIN = "Play again"
MAKE_THIS_FACE = "Make this face: {name}"
TIME = "Time"
SECONDS = "{seconds} s"
HOLD = "Hold it"
TARGET_OF = "Face {number} of {total}"
SCORE = "Score {score}"
BEST_TODAY = "Best today {score}"
NEW_BEST = "New best today!"
MATCHED = "Matched! +{points}"
MISSED = "Time's up"
MATCHED_OF = "{matched} of {total} matched"


def back_to_live(seconds: int) -> str:
    """The panel's countdown while a snapshot is on screen."""
    return f"Back to live in {seconds}"


def could_not_save(reason: object) -> str:
    """The banner shown when a snapshot could not be written to the save folder."""
    return f"Could not save the snapshot: {reason}"


# --- the source's status and the "no picture" message ---------------------------------------------
_CAMERA_STATUS = {
    "starting": "Starting the camera...",
    "live": "Camera on.",
    "absent": "No camera found. Check the USB cable; still trying...",
    "lost": "Camera lost; reconnecting...",
    "stalled": "Camera stopped sending pictures; reconnecting...",
}
_PICAMERA_STATUS = {
    "starting": "Starting the camera module...",
    "live": "Camera module on.",
    "absent": "No camera module found. Check its ribbon cable; still trying...",
    "lost": "Camera module lost; reconnecting...",
    "stalled": "Camera module stopped sending pictures; reconnecting...",
}
_FILE_STATUS = {
    "starting": "Opening {name}...",
    "live": "Showing {name}.",
    "absent": "Cannot open {name}; still trying...",
    "lost": "Lost {name}; reopening...",
    "stalled": "{name} stopped sending pictures; reopening...",
}


def _file_name(spec: SourceSpec) -> str:
    """A file source as a visitor sees it: its file or folder name."""
    return Path(spec.target).name or str(spec.target)


def status_message(spec: SourceSpec, event: SourceEvent) -> str:
    """The sentence shown to a visitor for ``event`` of the source ``spec``."""
    if spec.kind == "camera":
        return _CAMERA_STATUS[event]
    if spec.kind == "picamera":
        return _PICAMERA_STATUS[event]
    return _FILE_STATUS[event].format(name=_file_name(spec))


def message_tips(spec: SourceSpec, pi_camera: bool = False) -> tuple[str, list[str]]:
    """Title and what-to-check lines of the "no picture" message for ``spec``.

    ``pi_camera`` says that a Raspberry Pi camera module is attached: a USB camera index that
    gives no pictures then gets the tip to use it instead.
    """
    if spec.kind == "camera":
        tips = ["Check that the camera's USB cable is plugged in firmly.",
                "Close any other program that is using the camera.",
                "To use another camera or a video, start emojify with --source."]
        if pi_camera:
            tips.insert(0, "A Raspberry Pi camera module is attached: start emojify with --source picamera.")
        return "No camera picture", tips
    if spec.kind == "picamera":
        return "No camera picture", [
            "Check that the camera module's ribbon cable is seated firmly at both ends.",
            "Close any other program that is using the camera (rpicam-hello, another emojify).",
            "To use a USB camera or a video instead, start emojify with --source.",
        ]
    return f"No pictures from {_file_name(spec)}", [
        f"Check that {spec.target} is still there and readable.",
        "To use a camera instead, start emojify with --source 0.",
    ]
