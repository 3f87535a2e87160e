"""The 2-D convolution layer, computed as im2col + one matrix product."""

from __future__ import annotations

import numpy as np

from tinygan.kernels.conv import col2im, im2col
from tinygan.layers.base import Layer

PADDINGS = ("same", "valid")

# Each matrix product works on at most this many bytes of im2col columns.  The
# batch is cut into chunks of whole samples below this size, so the column
# matrix is written, multiplied and discarded while it is still in the CPU's
# (last-level) cache; for a 28x28x128 input at batch 64 the full matrix would be
# 231 MB.  Much smaller chunks mean many small BLAS calls, and each call wakes
# and synchronises BLAS's threads: 16 MB measured as well as 4 MB on one
# thread and clearly better on two (benchmarks/step_dcgan.py).
CHUNK_BYTES = 16 << 20


def conv_output_size(size: int, k: int, stride: int, padding: str) -> tuple[int, int]:
    """``(out, pad_before)`` along one axis, with TensorFlow/Keras's rules.

    ``"valid"``: no padding, ``out = floor((size - k) / stride) + 1``.

    ``"same"``: ``out = ceil(size / stride)``, and just enough zeros to get it::

        pad_total  = max((out - 1) * stride + k - size, 0)
        pad_before = pad_total // 2          (top / left)
        pad_after  = pad_total - pad_before  (bottom / right: gets the odd one)

    For stride 1 and odd k that is ``(k - 1) / 2`` on each side, as in PyTorch's
    ``padding=k // 2``.  For stride 2 on an even size (28 -> 14 with k = 3) the
    total is 1 and it goes to the bottom/right, where PyTorch's symmetric
    ``padding=1`` would put a zero on both sides -- the two are *not* the same
    layer then.
    """
    if padding == "valid":
        return (size - k) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + k - size, 0) // 2


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every deep-learning library) over NCHW input.

    Forward, for ``x`` of shape (N, C_in, H, W), weights ``W`` (C_out, C_in, K, K)
    and bias ``b`` (C_out,)::

        y[n, o, i, j] = b[o] + sum_{c, kh, kw} W[o, c, kh, kw] * xpad[n, c, i*s + kh, j*s + kw]

    With ``cols = im2col(x)`` of shape (C_in*K*K, N*Ho*Wo) (layout in
    :mod:`tinygan.kernels.conv`) and ``W2 = W.reshape(C_out, C_in*K*K)`` this is
    one matrix product, the same as a Dense layer applied to every window::

        Y = W2 @ cols + b[:, None]          (C_out, N*Ho*Wo) -> y (N, C_out, Ho, Wo)

    Backward, with ``dY`` = dy laid out like Y (C_out, N*Ho*Wo)::

        dW2   = dY @ cols.T                 (C_out, C_in*K*K): every window's outer product
        db    = dY.sum(axis=1)              b was added at every output pixel
        dcols = W2.T @ dY                   (C_in*K*K, N*Ho*Wo)
        dx    = col2im(dcols)               each pixel sums the gradients of all the
                                            windows it appeared in

    ``dx`` is therefore a *full* correlation of ``dy`` with the kernel rotated by
    180 degrees (with channels swapped and, for stride 2, zeros between the
    gradient pixels) -- lesson 13 checks this equivalence numerically.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int
        K: square K x K kernels.
    stride : int, default 1
    padding : {"same", "valid"}, default "same"
        Keras's meanings, see :func:`conv_output_size` (extra padding at the
        bottom/right when the total is odd).
    rng : numpy.random.Generator or int, optional
    dtype : numpy dtype, default float32

    Notes
    -----
    Memory layout: activations NCHW (PyTorch's), weights (C_out, C_in, K, K).
    Initialisation is Glorot uniform, Keras's default for Conv2D:
    ``W ~ U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))`` with
    ``fan_in = C_in*K*K`` and ``fan_out = C_out*K*K``; ``b = 0``.

    The batch is processed in chunks of whole samples so that each chunk's
    ``cols`` fits in the CPU cache (:data:`CHUNK_BYTES`); each chunk is one
    matrix product, and the backward pass recomputes ``cols`` chunk by chunk
    instead of keeping hundreds of megabytes alive between the two passes.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1,
                 padding: str = "same", rng=None, dtype=np.float32):
        super().__init__()
        sizes = {"in_channels": in_channels, "out_channels": out_channels,
                 "kernel_size": kernel_size, "stride": stride}
        for name, v in sizes.items():
            if int(v) != v or v < 1:
                raise ValueError(f"Conv2D: {name} must be a positive integer, got {v!r}")
        if padding not in PADDINGS:
            raise ValueError(f"Conv2D: padding must be one of {PADDINGS}, got {padding!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), padding
        k = self.kernel_size
        fan_in, fan_out = self.in_channels * k * k, self.out_channels * k * k
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        rng = np.random.default_rng(rng)
        W = rng.uniform(-limit, limit, size=(self.out_channels, self.in_channels, k, k))
        self._add_param("W", W.astype(dtype))
        self._add_param("b", np.zeros(self.out_channels, dtype=dtype))

    def geometry(self, h: int, w: int) -> tuple[int, int, int, int]:
        """``(out_h, out_w, pad_top, pad_left)`` for an input of H x W pixels."""
        k, s = self.kernel_size, self.stride
        if self.padding == "valid" and (h < k or w < k):
            raise ValueError(f"{self!r}: a {h}x{w} input is smaller than the {k}x{k} kernel "
                             "with padding='valid'; use padding='same' or a larger input")
        out_h, pad_top = conv_output_size(h, k, s, self.padding)
        out_w, pad_left = conv_output_size(w, k, s, self.padding)
        return out_h, out_w, pad_top, pad_left

    def _chunks(self, n: int, out_h: int, out_w: int, itemsize: int):
        """Sample ranges [i, j) whose im2col columns take at most CHUNK_BYTES each."""
        per_sample = self.in_channels * self.kernel_size ** 2 * out_h * out_w * itemsize
        step = max(1, CHUNK_BYTES // per_sample)
        return [(i, min(i + step, n)) for i in range(0, n, step)]

    def forward(self, x):
        self._check_input(x, self.in_channels, axis=1, ndims=(4,))
        n, _, h, w = x.shape
        out_h, out_w, pad_top, pad_left = self.geometry(h, w)
        W2 = self.params["W"].reshape(self.out_channels, -1)
        if x.dtype != W2.dtype:  # compute in the layer's own dtype, as Dense does
            x = x.astype(W2.dtype)
        b = self.params["b"][:, None]
        y = np.empty((n, self.out_channels, out_h, out_w), dtype=W2.dtype)
        for i, j in self._chunks(n, out_h, out_w, x.itemsize):
            cols = im2col(x[i:j], self.kernel_size, self.stride, pad_top, pad_left, out_h, out_w)
            Y = W2 @ cols
            Y += b
            # (C_out, n*Ho*Wo) -> (n, C_out, Ho, Wo): back to NCHW
            y[i:j] = Y.reshape(self.out_channels, j - i, out_h, out_w).transpose(1, 0, 2, 3)
        return self._remember(x, y)

    def backward(self, dy, input_grad=True):
        x = self._take_cache(dy)   # checks dy is (n, C_out, out_h, out_w)
        n, c, h, w = x.shape
        out_h, out_w, pad_top, pad_left = self.geometry(h, w)
        k, s = self.kernel_size, self.stride
        W2 = self.params["W"].reshape(self.out_channels, -1)
        dx = np.empty_like(x) if input_grad else None
        for i, j in self._chunks(n, out_h, out_w, x.itemsize):
            # (n, C_out, Ho, Wo) -> (C_out, n*Ho*Wo), the layout of Y in forward
            dY = dy[i:j].transpose(1, 0, 2, 3).reshape(self.out_channels, -1)
            if self.trainable:
                cols = im2col(x[i:j], k, s, pad_top, pad_left, out_h, out_w)
                self._add_matmul_to_grad("W", dY, cols.T)      # grads["W"] += dY @ cols.T
                self._add_to_grad("b", dY.sum(axis=1))
            if input_grad:
                dx[i:j] = col2im(W2.T @ dY, j - i, c, h, w, k, s, pad_top, pad_left,
                                 out_h, out_w)
        return dx

    def output_shape(self, input_shape):
        n, _, h, w = input_shape
        out_h, out_w, _, _ = self.geometry(h, w)
        return (n, self.out_channels, out_h, out_w)

    def __repr__(self):
        k = self.kernel_size
        return (f"Conv2D({self.in_channels} -> {self.out_channels}, {k}x{k}, "
                f"stride {self.stride}, {self.padding})")
