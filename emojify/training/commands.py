"""What the training tools' commands share: Ctrl-C and their output folders, each handled once here.

``emojify-train``, ``emojify-quantize`` and ``python -m emojify.training.camera_rule`` work for
minutes to hours. Ctrl-C ends each with one line saying that it stopped and how to go on, and exit
code :data:`EXIT_INTERRUPTED` (:func:`until_interrupted`); their files are written whole or not at
all. An output folder they could not write is one line before the work (:func:`check_output_folder`).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from emojify.errors import EXIT_INTERRUPTED
from emojify.fileio import OutputError, make_folder


def until_interrupted(prog: str, work: Callable[[], int], how_to_go_on: Callable[[], str]) -> int:
    """``work()``'s exit code; Ctrl-C during it prints ``PROG: stopped; <how_to_go_on()>`` on stderr,
    instead of a traceback, and gives :data:`EXIT_INTERRUPTED`."""
    try:
        return work()
    except KeyboardInterrupt:
        print(f"{prog}: stopped; {how_to_go_on()}", file=sys.stderr)
        return EXIT_INTERRUPTED


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C during the block, for writes that are not atomic (Keras's training backup): a Ctrl-C
    pressed meanwhile raises :class:`KeyboardInterrupt` once the block is done, its files whole."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:  # no Ctrl-C here, or not ours
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


def check_output_folder(folder: Path, given: str) -> None:
    """Before the long work, make the parent of the output ``folder`` and try writing in it, and in
    ``folder`` if it exists (the tools write beside it or into it, then rename), so that a place that
    cannot be written is one line at once (:class:`OutputError`, naming the option as ``given``), not
    an error after the work. Nothing is left there but the parent folder."""
    folder = Path(folder)
    for place in (folder.parent, folder) if folder.exists() else (folder.parent,):
        make_folder(place, given)  # a file in the way of either is one line
        check_writable(place, given)


def check_writable(folder: Path, given: str) -> None:
    """:class:`OutputError` (naming the option as ``given``) unless a file can be made in ``folder``,
    which exists; nothing is left there."""
    try:
        Path(tempfile.mkdtemp(prefix=".write-check-", dir=folder)).rmdir()
    except OSError as exc:
        raise OutputError(f"{given}: cannot write in the folder {folder} ({exc.strerror or exc})") from None
