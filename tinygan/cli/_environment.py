"""The environment variables of the computing subcommands, checked before any work.

``TINYGAN_BACKEND`` picks the kernels (:mod:`tinygan.backend`) and
``TINYGAN_BLAS_THREADS`` the BLAS threads of training.  A mistyped value is
bad input like a mistyped option: one line and exit 2, before a file is
touched -- not a traceback from the first kernel call, halfway into a run.
"""

from __future__ import annotations

import os

from tinygan.backend import BACKENDS, use_environment
from tinygan.config import ConfigError


def blas_thread_count() -> int:
    """``$TINYGAN_BLAS_THREADS`` (default 1, also when empty), from 1 to the CPU count.

    More threads than cores only wait for each other, and a huge number would
    overflow inside the BLAS library, so the CPU count is the upper bound.
    """
    n = os.environ.get("TINYGAN_BLAS_THREADS", "").strip() or "1"
    cores = os.cpu_count() or 1
    # isascii: int() refuses some characters isdigit() accepts, such as "²"
    if not (n.isascii() and n.isdigit()) or not 1 <= int(n) <= cores:
        raise ConfigError(f"TINYGAN_BLAS_THREADS must be a positive integer of at most {cores} "
                          f"(this machine's CPU count), got {n!r}")
    return int(n)


def select_backend() -> str:
    """Check ``$TINYGAN_BACKEND`` (default numba, also when empty) and select it.

    Returns the backend now active: ``numpy`` when numba was asked for but
    cannot be imported (:func:`tinygan.backend.set_backend` warns once).
    """
    try:
        return use_environment()
    except ValueError:   # said as the command line says a bad option
        raise ConfigError(f"TINYGAN_BACKEND must be {' or '.join(BACKENDS)} (or unset, for "
                          f"numba), got {os.environ.get('TINYGAN_BACKEND')!r}") from None


def check_environment():
    """Raise :class:`ConfigError` for a bad ``TINYGAN_BACKEND`` or ``TINYGAN_BLAS_THREADS``."""
    select_backend()
    blas_thread_count()
