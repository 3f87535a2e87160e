"""Nearest-neighbour upsampling: every pixel becomes a size x size block."""

from __future__ import annotations

from tinygan.kernels.conv import upsample_nearest, upsample_nearest_backward
from tinygan.layers.base import Layer


class UpSampling2D(Layer):
    """(N, C, H, W) -> (N, C, size*H, size*W), Keras's ``UpSampling2D`` (nearest) on NCHW.

    Forward copies: ``y[n, c, i, j] = x[n, c, i // size, j // size]``.

    Backward: each input pixel was copied to ``size**2`` outputs, so its
    gradient is the *sum* of theirs (the chain rule adds up every path)::

        dx[n, c, i, j] = sum_{a, b < size} dy[n, c, i*size + a, j*size + b]

    No parameters.  In the generator it doubles the resolution before a
    stride-1 convolution -- the "resize-convolution" that avoids the
    checkerboard artefacts of transposed convolutions (Odena et al. 2016).
    """

    def __init__(self, size: int = 2):
        super().__init__()
        if int(size) != size or size < 1:
            raise ValueError(f"UpSampling2D: size must be a positive integer, got {size!r}")
        self.size = int(size)

    def forward(self, x):
        if getattr(x, "ndim", None) != 4:
            raise ValueError(f"{self!r}: expected NCHW input of shape (batch, C, H, W), got "
                             f"{getattr(x, 'shape', type(x))}")
        return self._remember(x.shape, upsample_nearest(x, self.size))

    def backward(self, dy, input_grad=True):
        self._take_cache(dy)   # checks dy has the output's shape
        return upsample_nearest_backward(dy, self.size)

    def output_shape(self, input_shape):
        n, c, h, w = input_shape
        return (n, c, h * self.size, w * self.size)

    def __repr__(self):
        return f"UpSampling2D({self.size})"
