"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file tinygan writes (checkpoints, ``history.csv``, pictures, samples,
``metrics.json``, downloads) goes through this module, so the recipe lives in
one place:

1. create a temporary file *in the target's directory* -- the final rename
   must stay within one file system, where :func:`os.replace` is atomic;
2. write it, then ``fsync`` it, so that after a crash the new name cannot
   point at data that never reached the disk;
3. :func:`os.replace` it onto the target: the old file (if any) is swapped
   for the new one in a single step, keeping the old file's permissions (a
   checkpoint someone made private stays private);
4. on *any* error -- a full disk, an exception in the caller, Ctrl-C --
   remove the temporary file and leave the target as it was.

Why not :func:`tempfile.mkstemp`?  It creates the file with mode 0600
(private), and the mode survives the rename, so every output would be
unreadable to other users.  We create the file ourselves with mode 0666 and
let the kernel subtract the umask (and apply any default ACL of the
directory), exactly as for a file opened with ``open(path, "w")``.  That
also avoids reading the umask, which can only be done by changing it.

>>> with atomic_write("notes.txt", "w") as f:        # doctest: +SKIP
...     f.write("all or nothing\\n")
>>> with atomic_path("grid.png") as tmp:              # doctest: +SKIP
...     image.save(tmp)                              # a library that wants a file name
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

# O_EXCL: fail rather than open a file (or follow a symlink) someone else put under our
# random name.  O_BINARY exists on Windows only: no newline translation there.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def create_temp(path, suffix: str = ".tmp") -> tuple[int, Path]:
    """Create a new, empty, hidden file beside ``path``; return its descriptor and name.

    The name is ``.<name>.<random><suffix>``: hidden, so a listing of the
    directory does not show a half-written file, and ending in ``suffix`` for
    writers that pick a format from the name.  The mode is what
    ``open(path, "w")`` would give a new file (0666 minus the umask).
    """
    path = Path(path)
    for _ in range(100):   # a clash of 64 random bits is practically impossible; be sure anyway
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{suffix}")
        try:
            return os.open(tmp, _CREATE_FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot find a free temporary name beside {path}")


# create_temp's names: "." + the target's name + "." + 16 hex digits + the suffix
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.[0-9a-f]{16}(\.[^.]*)?")


def stale_temps(folder, is_target) -> list[Path]:
    """Temporary files :func:`create_temp` made in ``folder`` for a target name that
    ``is_target(name)`` accepts: left behind by a writer that was killed (SIGKILL,
    a power cut) before it could remove its own.

    Only safe to delete when no other process is writing those targets.
    """
    found = []
    for p in Path(folder).glob(".*"):
        m = _TEMP_NAME.fullmatch(p.name)
        if m and is_target(m.group("target")) and p.is_file():
            found.append(p)
    return sorted(found)


def _fsync(path):
    """Flush ``path``'s data to the disk (a writer that took a name did not do it)."""
    # Read-write: Windows cannot flush through a read-only descriptor.  The writer
    # has just written the file by name, so we know we may open it for writing.
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(tmp: Path, path: Path):
    """Rename ``tmp`` onto ``path``; a regular file that was there leaves its permissions.

    Only the read/write/execute bits are kept, never set-user-ID and the like
    on new contents.  The owner is not kept: the new file belongs to whoever
    writes it (root rewriting another user's 0600 file leaves a 0600 file of
    root's).  A symbolic link is itself replaced by the new file (the rename
    acts on the name; the link's target is left alone), which gets the mode
    of a new file.
    """
    try:
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            os.chmod(tmp, stat.S_IMODE(st.st_mode) & 0o777)
    except OSError:   # nothing there (a new file), or unreadable: the new-file mode stays
        pass
    os.replace(tmp, path)


@contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; on success, rename it onto ``path``.

    For writers that insist on a file name (Pillow, matplotlib): they open
    the yielded path themselves.  Prefer :func:`atomic_write` otherwise.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (re)place.  Its directory must exist.
    suffix : str, optional
        The temporary name's ending; default ``path``'s own suffix, so a
        writer that picks the format from the name still sees ``.png``.

    Yields
    ------
    pathlib.Path
        The temporary file, created empty.  If the block raises, it is
        removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp = create_temp(path, path.suffix if suffix is None else suffix)
    os.close(fd)
    try:
        yield tmp
        _fsync(tmp)
        _replace(tmp, path)
    except BaseException:   # BaseException: Ctrl-C mid-write must not leave the file behind
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_write(path, mode: str = "wb", *, suffix: str = ".tmp", encoding=None, newline=None):
    """Yield an open file; on success, its contents replace ``path`` in one step.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (re)place.  Its directory must exist.
    mode : {"wb", "w"}
        Binary or text.
    suffix : str
        The temporary name's ending (e.g. ``".part"`` for a download).
    encoding, newline
        As for :func:`open`, text mode only.

    Yields
    ------
    file object
        Write to it; do not close it.  If the block raises, the temporary
        file is removed and ``path`` is left untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes a whole new file: mode 'w' or 'wb', got {mode!r}")
    path = Path(path)
    fd, tmp = create_temp(path, suffix)
    try:
        with open(fd, mode, encoding=encoding, newline=newline) as f:   # closes fd too
            yield f
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
