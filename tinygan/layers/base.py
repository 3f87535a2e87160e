"""What every layer has in common.

A layer is a function ``y = f(x; params)`` that can also run backwards:
given ``dy = dL/dy`` it returns ``dx = dL/dx`` and *adds* ``dL/dparam`` into
``grads``.  It never changes its own weights: only an optimizer's ``step()``
does that.

Two switches, with the meanings Keras and PyTorch users know:

``training``
    Which computation the forward pass does (BatchNorm: batch or running
    statistics; Dropout: on or off).  ``train()`` / ``eval()`` set it.
``trainable``
    Whether the layer learns.  A frozen layer (``trainable = False``) still
    passes the gradient to its input -- the generator learns *through* a frozen
    discriminator -- but computes no parameter gradients and changes nothing in
    itself, running statistics included.

Gradients accumulate (``+=``) across ``backward`` calls until ``zero_grad()``,
as in PyTorch: the discriminator step runs the real batch forward and backward,
then the fake batch, and the two gradients add up.  ``Sequential.backward(dy,
accumulate=False)`` is ``zero_grad()`` and ``backward(dy)`` in one: each
gradient is *written* rather than added, which saves a pass over memory.

Each ``backward`` consumes the cache of the ``forward`` just before it, and
checks that ``dy`` has the shape that forward's output had.  A second
``backward`` without a new ``forward`` raises.  Two forwards and then one
backward cannot be told from a legitimate pattern (a forward whose output
nobody differentiates, such as the frozen G's in phase 1), so the backward
uses the *second* forward's activations: run each forward right before its
backward, as ``GAN.d_step`` does for the real and the fake batch.
"""

from __future__ import annotations

import numpy as np


class Layer:
    """Base class: ``params``/``grads`` dicts, ``buffers``, ``training``, ``trainable``."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}   # learned by the optimizer
        self.grads: dict[str, np.ndarray] = {}    # same keys and shapes as params
        self.buffers: dict[str, np.ndarray] = {}  # state that is saved but not learned
        self.training = True
        self.trainable = True
        self._cache = None
        self._out_shape: tuple | None = None   # the output's shape: the dy backward must get
        self._fresh: set[str] = set()   # grads the next contribution overwrites (see _add_to_grad)

    # -- the two passes -------------------------------------------------------------
    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):  # pragma: no cover - every layer overrides it
        raise NotImplementedError

    def backward(self, dy, input_grad=True):  # pragma: no cover
        raise NotImplementedError

    def _remember(self, cache, y):
        """Keep ``cache`` for backward and the shape of the output ``y``; returns y."""
        self._cache = cache
        self._out_shape = y.shape
        return y

    def _take_cache(self, dy=None):
        """Hand the forward's cache to backward, exactly once.

        With ``dy``, also check it has the shape of that forward's output (see
        :meth:`_remember`): the numba kernels index dy and the cache together
        and do not check bounds, so a wrong dy must stop here.
        """
        cache = self._cache
        if cache is None:
            raise RuntimeError(
                f"{self!r}: backward() called without a matching forward(). Run forward(x) "
                "first, and call backward once per forward (forward real -> backward, "
                "then forward fake -> backward).")
        if dy is not None and self._out_shape is not None:
            shape = getattr(dy, "shape", None)
            if shape != self._out_shape:
                raise ValueError(
                    f"{self!r}: backward got dy of shape {shape if shape is not None else type(dy)}"
                    f", but the forward before it returned {self._out_shape}; dy = dL/d(output) "
                    "must have the output's shape")
        self._cache = None
        return cache

    # -- switches ------------------------------------------------------------------
    def train(self, mode: bool = True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        # Zeros, still marked fresh: writing the next contribution is adding it.
        self.begin_overwrite()
        self.end_overwrite()

    def begin_overwrite(self):
        """The next backward *writes* every gradient instead of adding to it.

        The same result as ``zero_grad()`` then backward, without first filling
        the gradients with zeros: for mnist_mlp that fill is a pass over 2 M
        values per step, about 0.3 ms of a 14 ms step.  ``end_overwrite()``
        must follow the backward (``Sequential.backward(accumulate=False)``
        does both).
        """
        self._fresh = set(self.grads)

    def end_overwrite(self):
        """Zero the gradients the backward did not write (a frozen layer writes none)."""
        for name in self._fresh:
            self.grads[name].fill(0)

    # -- helpers for subclasses ----------------------------------------------------
    def _add_to_grad(self, name: str, value: np.ndarray):
        """``grads[name] += value``, or ``=`` when the gradient is fresh (zero, or to be overwritten)."""
        if name in self._fresh:
            self.grads[name][...] = value
            self._fresh.discard(name)
        else:
            self.grads[name] += value

    def _add_matmul_to_grad(self, name: str, a: np.ndarray, b: np.ndarray):
        """``grads[name] += a @ b``, written straight into the gradient when it is fresh.

        Writing with ``np.matmul(a, b, out=grad)`` skips a temporary the size of
        the weight matrix and one more pass over memory: about 0.5 ms of a 14 ms
        mnist_mlp training step.  The second backward of the discriminator step
        (real, then fake) finds the gradient no longer fresh and adds.  The
        gradient is viewed as (rows of a, columns of b): Conv2D's 4-D kernel
        gradient as the (C_out, C_in*k*k) matrix its products fill.
        """
        grad = self.grads[name].reshape(a.shape[0], b.shape[1])   # a view, never a copy
        if name in self._fresh:
            np.matmul(a, b, out=grad)
            self._fresh.discard(name)
        else:
            grad += a @ b

    def _check_float(self, x):
        """``x`` itself if it is a float32 or float64 array, else a ValueError naming this layer.

        Integers would turn ``alpha = 0.2`` into 0 and ``eps`` into 0, and float16
        has no compiled kernels: layers without weights of their own (whose dtype
        they could cast to, as Dense does) refuse them.
        """
        dtype = getattr(x, "dtype", None)
        if dtype not in (np.float32, np.float64):
            got = dtype if dtype is not None else type(x).__name__
            raise ValueError(f"{self!r}: expected a float32 or float64 array, got {got}; "
                             "convert it first, e.g. x.astype(np.float32)")
        return x

    def _add_param(self, name: str, value: np.ndarray):
        if value.dtype not in (np.float32, np.float64):   # the kernels and BLAS take these two
            raise ValueError(f"{type(self).__name__}: dtype {value.dtype} is not supported; use "
                             "float32 (the default) or float64 (for gradient checks)")
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def _check_input(self, x, features: int, axis: int = 1, ndims=(2,)):
        """Raise a ValueError naming this layer if ``x`` has the wrong rank or width."""
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) not in ndims or shape[axis] != features:
            want = " or ".join(
                "(" + ", ".join(["batch"] + [str(features) if i == axis else "..."
                                             for i in range(1, n)]) + ")" for n in ndims)
            got = shape if shape is not None else type(x).__name__
            raise ValueError(f"{self!r}: expected input of shape {want}, got {got}")

    def output_shape(self, input_shape: tuple) -> tuple:
        """Shape of the output for an input of ``input_shape`` (batch axis included)."""
        return input_shape

    def num_params(self) -> tuple[int, int]:
        """(trainable, non-trainable) number of values, counting buffers as Keras does."""
        learned = sum(p.size for p in self.params.values())
        fixed = sum(b.size for b in self.buffers.values())
        return (learned, fixed) if self.trainable else (0, learned + fixed)

    def __repr__(self):
        return f"{type(self).__name__}()"
