"""The folder a download (or a training run) writes to: checked first, tidied after a failure.

:func:`writable_folder` makes sure files can be created in the destination,
so that a folder that cannot hold them is one clear error rather than every
mirror failing in turn.  It creates the folder (and those above it) if need
be; :func:`missing_folders` says beforehand which those are, and
:func:`remove_if_empty` takes them away again when the download fails, so
that a failed ``tinygan download`` leaves no empty ``~/.cache/tinygan/<name>/``.
"""

import os
from pathlib import Path

from tinygan.datasets.errors import DestinationError
from tinygan.files import create_temp


def writable_folder(dest, *, create: bool = True) -> Path:
    """``dest``, created if missing, once a file could be created in it (and removed).

    Checked before anything is fetched: a destination that cannot hold the
    files is one clear error, instead of every mirror of every file failing
    with a PermissionError.  Trying is the only sure test: ``os.access``
    answers yes to root even where the file system refuses (a read-only
    mount, ``/sys``).  ``tinygan train`` checks its ``--out`` the same way.

    With ``create=False`` a missing ``dest`` is not created: the file is tried
    in the nearest folder that exists, where creating ``dest`` would begin.

    Raises
    ------
    DestinationError
        ``dest`` or the folder it would be made in is a file, or it cannot be
        created or written in; the message says which.
    """
    dest = Path(dest).expanduser()
    # Walk up to the nearest path that exists, which must be a folder: mkdir would only
    # say "File exists" -- also for a link to nothing on the way, so name that too.
    nearest = None
    for p in (dest, *dest.parents):
        if os.path.exists(p):
            nearest = p
            break
        if p.is_symlink():
            raise DestinationError(f"{p} is a symbolic link to {os.readlink(p)}, which does "
                                   "not exist; create that folder or choose another destination")
    if nearest == dest and not dest.is_dir():
        raise DestinationError(f"{dest} is a file, not a folder; choose another destination")
    if nearest is not None and not nearest.is_dir():
        raise DestinationError(f"cannot create the folder {dest}: {nearest} is a file, not a "
                               "folder; choose another destination")
    where = dest
    if not create:
        where = nearest if nearest is not None else Path(".")
    else:
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DestinationError(f"cannot create the folder {dest} ({exc.strerror or exc}); "
                                   "choose another destination") from None
    try:
        fd, probe = create_temp(where / "write-test")   # as fetch will create its files
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise DestinationError(f"cannot write in {where} ({exc.strerror or exc}); choose "
                               "another destination or make it writable") from None
    return dest


def missing_folders(dest: Path) -> list[Path]:
    """``dest`` and the folders above it that do not exist yet, deepest first."""
    missing = []
    for p in (dest, *dest.parents):
        if os.path.lexists(p):
            break
        missing.append(p)
    return missing


def remove_if_empty(folders: list[Path]):
    """Remove ``folders`` (deepest first) while they are empty: those a download made."""
    for p in folders:
        try:
            p.rmdir()
        except OSError:   # not empty (a file arrived), or gone: leave it and those above
            break
