"""Layers that only rearrange values: ``Reshape`` and ``Flatten``.

Neither computes anything, so neither has a gradient of its own: backward
reshapes ``dy`` back to the shape the input had.  A reshape of a C-contiguous
array is a view, so both passes are free.
"""

from __future__ import annotations

import numpy as np

from tinygan.layers.base import Layer


class Reshape(Layer):
    """Give every sample a new shape: (N, *in_shape) -> (N, *target_shape).

    Keras's ``Reshape``: ``target_shape`` excludes the batch axis, and the number
    of values per sample must stay the same.  The convolutional generator uses
    ``Reshape((128, 7, 7))`` to turn Dense's 6272 outputs into an NCHW image
    stack.  Backward: ``dx = dy.reshape(x.shape)``.
    """

    def __init__(self, target_shape):
        super().__init__()
        shape = tuple(int(d) for d in np.atleast_1d(target_shape))
        if not shape or min(shape) < 1:
            raise ValueError(f"Reshape: target_shape must be positive sizes, got {target_shape!r}")
        self.target_shape = shape
        self.size = int(np.prod(shape))

    def forward(self, x):
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) < 2 or int(np.prod(shape[1:])) != self.size:
            raise ValueError(f"{self!r}: expected input of shape (batch, ...) with {self.size} "
                             f"values per sample, got {shape if shape is not None else type(x)}")
        return self._remember(shape, x.reshape(shape[0], *self.target_shape))

    def backward(self, dy, input_grad=True):
        return dy.reshape(self._take_cache(dy))

    def output_shape(self, input_shape):
        return (input_shape[0], *self.target_shape)

    def __repr__(self):
        return f"Reshape({self.target_shape})"


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), in C order.

    For NCHW input the flattened index is ``(c * H + h) * W + w``: channel
    first, unlike Keras's NHWC ``(h * W + w) * C + c``.  The Dense layer that
    follows learns whichever order it is given, so the two networks compute
    the same family of functions; only a weight import from Keras would need
    the permutation.
    """

    def forward(self, x):
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) < 2:
            raise ValueError(f"{self!r}: expected input of shape (batch, ...), got "
                             f"{shape if shape is not None else type(x)}")
        return self._remember(shape, x.reshape(shape[0], -1))

    def backward(self, dy, input_grad=True):
        return dy.reshape(self._take_cache(dy))

    def output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], int(np.prod(rest)) if all(d is not None for d in rest) else None)
