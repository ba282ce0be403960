"""The one base type of the errors a user can fix: bad input, bad files, a missing library.

``emojify`` prints any :class:`EmojifyError` as one line on stderr and exits with code 2; every
other exception is a bug and keeps its traceback. Each stage derives its own error from it
(``ModelError``, ``ConfigError``, ``ImageError``, ...), so a caller can catch one stage's errors or
all of them.
"""

from __future__ import annotations


class EmojifyError(ValueError):
    """Something the user can fix; the message is one line naming the file or flag and the fix.

    A ``ValueError``, as the stage errors were before they shared this base, so existing
    ``except ValueError`` handlers keep catching them.
    """


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only (for embedding in one of ours), or its type's name
    where it has none."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C: 128 + SIGINT, what a shell reports for a command it interrupted."""
