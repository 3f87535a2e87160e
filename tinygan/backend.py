"""Which implementation of the hot loops runs: plain NumPy or numba.

Every kernel in :mod:`tinygan.kernels` exists twice: a NumPy *twin* that is the
readable reference, and a numba-compiled loop that computes the same thing
faster.  :class:`Kernel` bundles the two and calls the one selected here.

Choose with the environment variable ``TINYGAN_BACKEND=numpy|numba`` (default
``numba``) or in code with :func:`set_backend`.  If numba cannot be imported
the NumPy twins run and one warning says so.

Numba kernels are declared with :func:`jit`, which is ``numba.njit(cache=True)``:
each kernel is compiled the first time it is called with a new combination of
argument types (float32 and float64 are compiled separately), and the machine
code is written to ``__pycache__`` so the next Python process loads it instead
of compiling again (see ``benchmarks/startup.py``).
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


def jit(fn=None):
    """Compile ``fn`` with ``numba.njit(cache=True, error_model="numpy")``; None without numba.

    Used as a decorator on the numba twin of a kernel.  Compilation is lazy
    (first call), so importing tinygan stays cheap.  When numba cannot be
    imported the decorator returns ``None`` and :class:`Kernel` falls back to
    the NumPy twin.

    ``error_model="numpy"``: a division by zero gives inf or nan, as in the NumPy
    twins, instead of numba's default Python-style exception -- whose check in
    every iteration also stops LLVM from vectorising a loop with a division.

    No kernel uses ``parallel=True``: :mod:`tinygan.kernels.optim` says why the
    second core is left to BLAS.
    """
    def wrap(f):
        if not numba_available():
            return None
        import numba
        return numba.njit(cache=True, error_model="numpy")(f)

    return wrap if fn is None else wrap(fn)


def set_backend(name: str) -> str:
    """Select the backend for every kernel; returns the backend now active.

    Parameters
    ----------
    name : {"numpy", "numba"}
        ``"numba"`` falls back to ``"numpy"`` (with one warning) when numba
        is not installed.
    """
    global _active, _warned
    name = str(name).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)} "
                         "(environment variable TINYGAN_BACKEND or tinygan.backend.set_backend)")
    if name == "numba" and not numba_available():
        if not _warned:
            warnings.warn("numba could not be imported; tinygan falls back to its NumPy kernels "
                          "(slower; the same results to rounding, not bit for bit). Install "
                          "numba to get the fast path.", RuntimeWarning, stacklevel=2)
            _warned = True
        name = "numpy"
    _active = name
    return name


def get_backend() -> str:
    """The active backend's name, reading ``TINYGAN_BACKEND`` on first use."""
    if _active is None:
        use_environment()
    return _active


def use_environment() -> str:
    """Select the backend ``TINYGAN_BACKEND`` names (numba when unset or empty); returns
    the backend now active, as :func:`set_backend` does (ValueError for another name)."""
    return set_backend(os.environ.get("TINYGAN_BACKEND", "").strip() or "numba")


class Kernel:
    """One operation with two implementations: a NumPy twin and a numba kernel.

    Calling the object runs the implementation of the active backend, so layer
    code reads ``y = leaky_relu(x, alpha)`` whichever backend is chosen.  Tests
    call ``.numpy`` and ``.numba`` directly to hold one to the other.  Without
    numba (``numba_fn is None``) both names refer to the NumPy twin.
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


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses now (0 if threadpoolctl finds no BLAS library)."""
    from threadpoolctl import threadpool_info
    return max((p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"),
               default=0)


def arithmetic() -> dict:
    """What decides the last bits of a result, beside the seed and the settings.

    The numba kernels and the NumPy twins round differently (fused multiply-adds,
    another order of summation), and so does BLAS with another number of
    threads: each is deterministic, but a run continued under another of them
    is no longer bit-identical to one that never stopped.  Training records
    this dict so a resume can say so.
    """
    return {"backend": get_backend(), "blas_threads": blas_threads()}
