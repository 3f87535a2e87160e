"""The fully connected layer: ``y = x @ W + b``."""

from __future__ import annotations

import numpy as np

from tinygan.kernels import bias_grad
from tinygan.layers.base import Layer


class Dense(Layer):
    """Fully connected layer.

    Forward, for a batch ``x`` of shape (N, in)::

        y = x @ W + b                 W: (in, out), b: (out,), y: (N, out)

    Backward, by the chain rule (``dy = dL/dy``, shape (N, out))::

        dW = x.T @ dy                 (in, N) @ (N, out) -> (in, out)
        db = dy.sum(axis=0)           b was added to every row
        dx = dy @ W.T                 (N, out) @ (out, in) -> (N, in)

    The loss is already a batch *mean*, so ``dy`` carries the 1/N and the sums
    above need no further division.

    Parameters
    ----------
    in_features, out_features : int
    rng : numpy.random.Generator or int, optional
        Source of the initial weights (a seed or a Generator).
    dtype : numpy dtype, default float32

    Notes
    -----
    Initialisation is Glorot (Xavier) uniform, Keras's default:
    ``W ~ U(-a, a)`` with ``a = sqrt(6 / (in + out))``, which keeps the variance
    of activations and gradients roughly equal from layer to layer [1]_; ``b = 0``.

    .. [1] X. Glorot and Y. Bengio, "Understanding the difficulty of training deep
       feedforward neural networks", AISTATS 2010.
    """

    def __init__(self, in_features: int, out_features: int, *, rng=None, dtype=np.float32):
        super().__init__()
        if any(int(n) != n or n < 1 for n in (in_features, out_features)):
            raise ValueError(f"Dense needs positive integer sizes, got in={in_features!r}, "
                             f"out={out_features!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = np.random.default_rng(rng)
        limit = np.sqrt(6.0 / (self.in_features + self.out_features))
        W = rng.uniform(-limit, limit, size=(self.in_features, self.out_features))
        self._add_param("W", W.astype(dtype))
        self._add_param("b", np.zeros(self.out_features, dtype=dtype))

    def forward(self, x):
        self._check_input(x, self.in_features)
        W = self.params["W"]
        if x.dtype != W.dtype:
            # A float64 batch (np.random.rand, a float64 dataset) would promote every
            # product downstream to float64: twice the memory traffic, a slower BLAS
            # kernel.  The layer computes in its own dtype.
            x = x.astype(W.dtype)
        y = x @ W
        y += self.params["b"]  # in place: one (N, out) array instead of two
        return self._remember(x, y)

    def backward(self, dy, input_grad=True):
        x = self._take_cache(dy)
        if self.trainable:
            self._add_matmul_to_grad("W", x.T, dy)    # grads["W"] += x.T @ dy
            self._add_to_grad("b", bias_grad(dy))     # grads["b"] += dy.sum(axis=0)
        # The first layer of a network need not compute dx: nobody uses it.
        return dy @ self.params["W"].T if input_grad else None

    def output_shape(self, input_shape):
        return (*input_shape[:-1], self.out_features)

    def __repr__(self):
        return f"Dense({self.in_features} -> {self.out_features})"
