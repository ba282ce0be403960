"""What the training tools' commands share: Ctrl-C and their output folders, each handled once here.

``emojify-train``, ``emojify-quantize`` and ``python -m emojify.training.camera_rule`` work for
minutes to hours. Ctrl-C ends each with one line saying that it stopped and how to go on, and exit
code :data:`~emojify.errors.EXIT_INTERRUPTED` (:func:`~emojify.errors.until_interrupted`); SIGTERM (``kill``, ``timeout``, a service
manager stopping a background run) does the same with exit code :data:`~emojify.errors.EXIT_TERMINATED`. Their files
are written whole or not at all. An output folder they could not write is one line before the work
(:func:`check_output_folder`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from emojify.errors import Terminated, raise_terminated
from emojify.fileio import MadeFolders, make_folder


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C (and SIGTERM under :func:`~emojify.errors.until_interrupted`) during the block, for writes that are
    not atomic (Keras's training backup): one received meanwhile raises its exception once the block
    is done, its files whole."""
    ours = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: raise_terminated}
    held = [signum for signum, handler in ours.items()
            if threading.current_thread() is threading.main_thread() and signal.getsignal(signum) is handler]
    received: list[int] = []
    for signum in held:
        signal.signal(signum, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for signum in held:
            signal.signal(signum, ours[signum])
    if received:
        raise Terminated if signal.SIGTERM in received else KeyboardInterrupt


def check_output_folder(folder: Path, given: str) -> MadeFolders:
    """Before the long work, make the parent of the output ``folder`` and try writing in it, and in
    ``folder`` if it exists (the tools write beside it or into it, then rename), so that a place that
    cannot be written is one line at once (:class:`OutputError`, naming the option as ``given``), not
    an error after the work. Nothing is left there but the parent folder; returns the folders made,
    for a refused or stopped run to take away again (:meth:`~emojify.fileio.MadeFolders.take_back`)."""
    folder = Path(folder)
    made: list[Path] = []
    for place in (folder.parent, folder) if folder.exists() else (folder.parent,):
        made += make_folder(place, given)  # a file in the way of either, or no writing there, is one line
    return MadeFolders(made, folder.parent, folder)  # the output goes into the parent, or into it
