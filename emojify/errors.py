"""The one base type of the errors a user can fix: bad input, bad files, a missing library.

``emojify`` prints any :class:`EmojifyError` as one line on stderr and exits with code 2, as it does an
OSError of a path the user gave that cannot be looked at (:func:`path_problem`) or of the output on a
full disk; every other exception is a bug and keeps its traceback. Each stage derives its own error from it
(``ModelError``, ``ConfigError``, ``ImageError``, ...), so a caller can catch one stage's errors or
all of them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator


class EmojifyError(ValueError):
    """Something the user can fix; the message is one line naming the file or flag and the fix.

    A ``ValueError``, as the stage errors were before they shared this base, so existing
    ``except ValueError`` handlers keep catching them. A line break in it (a file name's) is written
    as an escape (:func:`one_line`).
    """

    def __str__(self) -> str:
        return one_line(super().__str__())


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only (for embedding in one of ours), or its type's name
    where it has none."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_CONTROL_ESCAPES = {code: repr(chr(code))[1:-1] if code < 128 else f"\\u{code:04x}"
                    for code in (*range(32), 127, 0x85, 0x2028, 0x2029) if code != ord("\t")}
"""The control characters and Unicode's line breaks (all that ``str.splitlines`` breaks at), each with
its escape; a tab stays. A backslash stays too: a name holding ``\\n`` itself reads the same."""


def one_line(text: str) -> str:
    """``text`` kept on one line for a reader of lines (a script reading stderr, or predict's output):
    the line breaks and other control characters a file name may hold are written as escapes
    (``\\n``, ``\\u2028``), as ``repr`` writes them."""
    return text.translate(_CONTROL_ESCAPES)


def reason_of(exc: BaseException) -> str:
    """Why an OSError happened, in one line for one of our messages: the system's words (its
    ``strerror``: "No space left on device") where it has them, else its message's first line (an
    OSError raised with a message only, or any other exception)."""
    return getattr(exc, "strerror", None) or first_line(exc)


EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C: 128 + SIGINT, what a shell reports for a command it interrupted."""
EXIT_TERMINATED = 128 + signal.SIGTERM
"""Exit code of a command stopped by SIGTERM, as a shell reports a command that SIGTERM ended."""


class Terminated(KeyboardInterrupt):
    """SIGTERM during a command's work, raised where Ctrl-C's KeyboardInterrupt would be, so that the same
    clean-up runs (temporary files removed, the swap undone; by default SIGTERM ends the process at
    once and leaves them)."""


def raise_terminated(signum, frame) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (``kill``, ``timeout``, a service manager) raises :class:`Terminated` during the block.
    Signals are handled on the main thread only; a SIGTERM ignored (nohup's parent's ``trap '' TERM``)
    or handled by someone else stays so."""
    ours = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    if ours:
        signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        if ours:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def print_error(prog: str, message: object) -> None:
    """``PROG: error: MESSAGE`` on stderr, on one line (:func:`one_line`): a tool's own error line."""
    print(one_line(f"{prog}: error: {message}"), file=sys.stderr)


def until_interrupted(prog: str, work: Callable[[], int], how_to_go_on: Callable[[], str] | None = None) -> int:
    """``work()``'s exit code; Ctrl-C or SIGTERM during it prints ``PROG: stopped`` on stderr (followed by
    ``; <how_to_go_on()>`` where given), instead of a traceback or nothing, and gives
    :data:`EXIT_INTERRUPTED` or :data:`EXIT_TERMINATED`. A path given that cannot be looked at
    (:func:`path_problem`) is one line and exit code 2. The training tools and ``packaging/``'s scripts
    run their work under it."""
    try:
        with sigterm_interrupts():
            return work()
    except KeyboardInterrupt as exc:
        print(f"{prog}: stopped" + (f"; {how_to_go_on()}" if how_to_go_on else ""), file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except OSError as exc:  # a path given that the checks before the work could not even look at
        problem = path_problem(exc)
        if problem is None:
            raise
        print_error(prog, problem)
        return 2


PATH_ERRORS = frozenset({errno.EACCES, errno.EPERM, errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR})
"""What looking at a path the user gave fails with: a folder on the way that cannot be entered, a name too
long, a link loop, a file where a folder should be."""


def path_problem(exc: OSError) -> str | None:
    """``PATH: cannot use it (REASON)`` for an OSError of looking at a path the user gave (:data:`PATH_ERRORS`),
    or None for any other (a bug, or a fault the caller reports itself)."""
    if exc.errno not in PATH_ERRORS or exc.filename is None:
        return None
    return one_line(f"{os.fsdecode(exc.filename)}: cannot use it ({exc.strerror})")


def write_problem(exc: OSError, folder: object) -> str:
    """One line for an OSError while a tool wrote its results into ``folder``: the file and the system's
    reason, or the folder where the error names no file (a full disk, as Keras and h5py report it)."""
    if exc.filename is not None:
        return one_line(f"{os.fsdecode(exc.filename)}: {reason_of(exc)}")
    return one_line(f"{folder}: {reason_of(exc)}")
