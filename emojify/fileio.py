"""Write files so that a crash, a full disk or a power cut never leaves half of one.

:func:`atomic_path` is the one way emojify writes a file that someone may read while it is being
written, or that must survive a crash whole: snapshots, the kiosk's state file, training
checkpoints and history, the data-set cache and the rendered emoji.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from emojify.errors import EmojifyError, reason_of

NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})
"""What link(2) fails with where the file system has no hard links (FAT, exFAT, some network shares)."""
TEMP_NAME_BYTES = 100
"""The bytes of a file's name that its temporary file's name begins with (plus about 30 of its own)."""


@contextmanager
def atomic_path(path: Path, *, exclusive: bool = False, durable: bool = False,
                mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; when the block ends without error it becomes ``path``.

    The temporary file is hidden, in the same folder, and ends with ``path``'s suffix (so Keras,
    Matplotlib and numpy, which go by the suffix, write the right format). It then replaces
    ``path`` in one step (``os.replace``), so readers see the old file or the new one; with
    ``exclusive`` an existing ``path`` is never replaced: FileExistsError instead (a hard link,
    or a check and rename where the file system has no hard links). ``durable`` flushes the file
    to the disk first; ``mode`` is its permission bits. On any error the temporary file is removed
    and the error propagates.
    """
    path = Path(path)
    # a name near the system's 255 bytes fits too; cut between letters (a FAT stick refuses half a letter)
    short = os.fsencode(path.name)[:TEMP_NAME_BYTES].decode("utf-8", "ignore")
    fd, name = tempfile.mkstemp(prefix=f".{short}.", suffix=f".tmp{path.suffix}", dir=real_folder(path.parent))
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if exclusive:
            _link_new(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _link_new(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the name ``path`` unless that exists (FileExistsError), even against other processes."""
    try:
        os.link(tmp, path)
    except OSError as exc:  # FileExistsError (EEXIST) included: somebody else's file stays
        if exc.errno not in NO_HARD_LINKS:
            raise
        if path.exists():
            raise FileExistsError(f"{path}: already exists") from None
        os.replace(tmp, path)


class OutputError(EmojifyError):
    """An output folder that cannot be made: a file in the way, no permission, no such place."""


def make_folder(folder: Path, given: str) -> list[Path]:
    """Make an output ``folder`` (and its parents) and try writing in it, before any work, so that one
    that cannot be made or written (read-only, ``/proc``) is one line at once (:class:`OutputError`,
    naming the option as ``given``, e.g. ``--out DIR``), not an error after the work. Returns the folders it made, deepest first, by their whole paths
    (for a refused run to take away again): every folder the path as typed passes through that was
    not there (``new/../kept/run`` makes ``new/`` and ``kept/run/``; ``kept/`` is the user's)."""
    folder = Path(folder)
    # the folders as the system walks them: a link on the way (link/../run) leads to its target's parent
    passed = {Path(os.path.realpath(Path(*folder.parts[:end]))) for end in range(1, len(folder.parts) + 1)}
    made: list[Path] = []
    try:  # exists() too fails where a folder on the way cannot be entered, or a name is too long
        made = sorted((path for path in passed if not path.exists()), key=lambda path: len(path.parts), reverse=True)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        remove_empty(made)  # mkdir stops where it fails: the folders it made before stay otherwise
        in_the_way = isinstance(exc, FileExistsError | NotADirectoryError)
        reason = "a file is in the way" if in_the_way else reason_of(exc)
        raise OutputError(f"{given}: cannot make the folder {folder} ({reason})") from None
    try:
        check_writable(folder, given)
    except BaseException:  # made, but no file can go in it (or Ctrl-C): it is taken away again
        remove_empty(made)
        raise
    return made


def real_folder(folder: str | Path) -> str:
    """``folder`` as the system reaches it, links followed before ``..``: where to make a temporary file
    in it. From Python 3.12 on, tempfile takes a ``..`` away by its letters first, so that in
    ``link/../run`` it looked for ``./run``, not the ``run`` beside the link's target."""
    return os.path.realpath(folder)


def check_writable(folder: Path, given: str) -> None:
    """:class:`OutputError` (naming the option as ``given``) unless a file can be made in ``folder``,
    which exists; nothing is left there."""
    try:
        Path(tempfile.mkdtemp(prefix=".write-check-", dir=real_folder(folder))).rmdir()
    except OSError as exc:
        raise OutputError(f"{given}: cannot write in the folder {folder} ({reason_of(exc)})") from None


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, a file or a pipe (``<(...)``), but at most ``limit + 1`` of them: more than
    ``limit`` tells the caller it is too long, without reading an endless stream to its end.

    A named pipe is opened without waiting for a writer, so one that nobody writes to gives ``b""`` at
    once instead of waiting for ever in silence; the data of a writer there is are then waited for.
    OSError propagates."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    chunks: list[bytes] = []
    got = 0
    with os.fdopen(fd, "rb", buffering=0) as stream:
        os.set_blocking(fd, True)
        # read(n) reserves n bytes at once, so a few MB at a time
        while got <= limit and (chunk := stream.read(min(2**22, limit + 1 - got))):
            chunks.append(chunk)
            got += len(chunk)
    return b"".join(chunks)


def stat_or_none(path: Path) -> os.stat_result | None:
    """``path``'s ``stat`` (a link followed), or None where it cannot be looked at now: gone, a memory
    stick pulled out, a folder on the way shut."""
    try:
        return os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL character in the name
        return None


def path_argument(text: str) -> Path:
    """A command-line argument that names a file or folder (argparse's ``type``): an empty one (an unset
    shell variable) is refused, not taken for the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text)


def remove_empty(folders: Iterable[Path]) -> None:
    """Remove each of ``folders`` (deepest first) that is empty: those a refused or stopped run made
    for its output and left unused (:func:`make_folder`); a folder something was put in stays."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def folder_entries(folder: str | Path) -> frozenset[tuple[str, int]] | None:
    """The names in ``folder`` with when each last changed (none where it is not there yet), None where
    it cannot be listed: what a run put there, new or written over, is what differs. An entry gone
    between the listing and its look (another program's temporary file) is left out, not the folder."""
    found = set()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    found.add((entry.name, entry.stat(follow_symlinks=False).st_mtime_ns))
        return frozenset(found)
    except FileNotFoundError:
        return frozenset()
    except OSError:
        return None


class MadeFolders:
    """The folders made for a run's output (:func:`make_folder`), and what its ``outputs`` (the folders
    it writes in) held once they were made (:func:`folder_entries`)."""

    def __init__(self, made: list[Path], *outputs: Path) -> None:
        self.made, self.outputs = made, outputs
        self.before = [folder_entries(folder) for folder in outputs]

    def take_back(self) -> None:
        """Remove the folders made (:func:`remove_empty`), for a refused or stopped run, unless it put
        something in its outputs (a new file, or one written over), or that cannot be told: then they
        all stay, for the path as typed leads through them to what it wrote (``new/`` of
        ``new/../kept/run``)."""
        now = [folder_entries(folder) for folder in self.outputs]
        if all(after is not None and before is not None and after <= before
               for after, before in zip(now, self.before, strict=True)):
            remove_empty(self.made)


def make_file_folder(path: Path, given: str, suffix: str = ".png") -> list[Path]:
    """Check an output file's name (it ends in ``suffix`` and is no folder), make its folder and try
    writing there, before any work, as :func:`make_folder` does (:class:`OutputError`); returns the
    folders it made."""
    path = Path(path)
    try:
        is_folder = path.is_dir()
    except OSError as exc:  # a folder on the way that cannot be entered, a name too long
        raise OutputError(f"{given}: cannot use {path} ({reason_of(exc)})") from None
    if is_folder:
        raise OutputError(f"{given}: a folder; give a file name ending in {suffix}")
    if path.suffix.lower() != suffix:
        raise OutputError(f"{given}: give a file name ending in {suffix}")
    return make_folder(path.parent, given)
