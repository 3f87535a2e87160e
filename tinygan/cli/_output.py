"""The paths ``sample`` and ``evaluate`` are given: checked early, outputs written atomically.

:func:`check_out` runs before any expensive work, so a mistyped ``--out``
costs a second, not a finished evaluation thrown away.  The write itself can
still fail (a full disk, a directory that became read-only), and
:func:`cannot_write` turns that ``OSError`` into the usual one-line error.
The leading underscore: a helper of the subcommands, not a subcommand.
"""

from __future__ import annotations

import os
from pathlib import Path

from tinygan.config import ConfigError


def check_given(value: str | None, name: str, hint: str):
    """Raise :class:`ConfigError` if the path ``value`` of option ``name`` is empty.

    ``--checkpoint "$RUN"`` with ``RUN`` unset passes ``""``, which
    :class:`pathlib.Path` would read as ``.``, the current folder: refused,
    for every command (``train --resume``, ``sample``, ``evaluate``).  ``hint`` says
    what to give instead.
    """
    if value == "":
        raise ConfigError(f"{name} got an empty path; {hint}")


def check_out(out: Path, suffixes: tuple[str, ...]):
    """Raise :class:`ConfigError` unless ``out`` looks writable as a file ending in ``suffixes``.

    The suffix is compared case-insensitively (``X.PNG`` is a PNG).  An
    existing regular file is fine: it is replaced, atomically, at the end.
    """
    if out.suffix.lower() not in suffixes:
        raise ConfigError(f"--out {out}: the name must end in {' or '.join(suffixes)}")
    if out.is_dir():
        raise ConfigError(f"--out {out} is a directory: give a file name, "
                          f"e.g. {out / ('out' + suffixes[0])}")
    if out.exists() and not out.is_file():
        raise ConfigError(f"--out {out} exists and is not a regular file: choose another name")
    parent = out.parent
    if not parent.exists():
        raise ConfigError(f"--out {out}: directory {parent} does not exist: create it first")
    if not parent.is_dir():
        raise ConfigError(f"--out {out}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {out}: cannot create files in {parent} (permission denied)")


def cannot_write(command: str, out: Path, exc: OSError) -> str:
    """The one-line error for a failed write of ``out``, naming ``out``, not the temporary file."""
    return f"tinygan {command}: error: cannot write {out}: {exc.strerror or exc}"
