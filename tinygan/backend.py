"""Which implementation of the hot loops runs: plain NumPy or numba.

Every kernel in :mod:`tinygan.kernels` exists twice: a NumPy *twin* that is the
readable reference, and a numba-compiled loop that computes the same thing
faster.  :class:`Kernel` bundles the two and calls the one selected here.

Choose with the environment variable ``TINYGAN_BACKEND=numpy|numba`` (default
``numba``) or in code with :func:`set_backend`.  If numba cannot be imported
the NumPy twins run and one warning says so.
"""

from __future__ import annotations

import os
import warnings

BACKENDS = ("numpy", "numba")

_active: str | None = None
_warned = False


def numba_available() -> bool:
    """True if ``import numba`` works on this machine."""
    try:
        import numba  # noqa: F401
    except Exception:  # ImportError, or a broken llvmlite install
        return False
    return True


def set_backend(name: str) -> str:
    """Select the backend for every kernel; returns the backend now active.

    Parameters
    ----------
    name : {"numpy", "numba"}
        ``"numba"`` falls back to ``"numpy"`` (with one warning) when numba
        is not installed.
    """
    global _active, _warned
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)} "
                         "(environment variable TINYGAN_BACKEND or tinygan.backend.set_backend)")
    if name == "numba" and not numba_available():
        if not _warned:
            warnings.warn("numba could not be imported; tinygan falls back to its NumPy kernels "
                          "(slower, same results). Install numba to get the fast path.",
                          RuntimeWarning, stacklevel=2)
            _warned = True
        name = "numpy"
    _active = name
    return name


def get_backend() -> str:
    """The active backend's name, reading ``TINYGAN_BACKEND`` on first use."""
    if _active is None:
        set_backend(os.environ.get("TINYGAN_BACKEND", "numba").strip().lower() or "numba")
    return _active


class Kernel:
    """One operation with two implementations: a NumPy twin and a numba kernel.

    Calling the object runs the implementation of the active backend, so layer
    code reads ``y = leaky_relu(x, alpha)`` whichever backend is chosen.  Tests
    call ``.numpy`` and ``.numba`` directly to hold one to the other.
    """

    def __init__(self, numpy_fn, numba_fn=None):
        self.numpy = numpy_fn
        self.numba = numba_fn if numba_fn is not None else numpy_fn
        self.__name__ = numpy_fn.__name__.removesuffix("_numpy")
        self.__doc__ = numpy_fn.__doc__

    def __call__(self, *args):
        if (_active or get_backend()) == "numba":
            return self.numba(*args)
        return self.numpy(*args)

    def __repr__(self):
        return f"<kernel {self.__name__}>"
