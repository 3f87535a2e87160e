"""im2col / col2im and nearest-neighbour upsampling, each a NumPy twin beside a numba kernel.

Memory layouts
--------------
Images are NCHW: ``x[n, c, h, w]``, C-contiguous, so one channel plane of one
sample (H x W values) is contiguous -- the layout PyTorch uses.

``im2col`` unrolls every K x K receptive field into a *column*.  Its output
``cols`` has shape ``(C*K*K, N*Ho*Wo)``::

    row    r = (c * K + kh) * K + kw          which input value of the window
    column j = (n * Ho + oh) * Wo + ow        which output pixel
    cols[r, j] = xpad[n, c, oh*s + kh, ow*s + kw]

where ``xpad`` is x with ``pad_top`` zero rows above, ``pad_left`` zero columns
to the left, and as many below / to the right as the last window needs (the
layer computes these with Keras's rules: :func:`tinygan.layers.conv.conv_output_size`).
A convolution is then one matrix product, ``W.reshape(C_out, C*K*K) @ cols``
(see :mod:`tinygan.layers.conv`).
For stride 1 each row of ``cols`` is a shifted copy of an image plane, so the
copies are contiguous runs of Wo values.

``col2im`` is the *adjoint* of ``im2col``: every entry of ``cols`` is added back
to the input pixel it was copied from.  A pixel that sat in several windows
(up to K*K of them) receives the sum of their gradients::

    dx[n, c, ih, iw] = sum over (kh, kw, oh, ow) with oh*s + kh - pad_top = ih
                                               and ow*s + kw - pad_left = iw
                       of dcols[(c*K + kh)*K + kw, (n*Ho + oh)*Wo + ow]

Nearest-neighbour upsampling by an integer factor s copies each pixel into an
s x s block; its backward sums the gradient over each block::

    y[n, c, i, j] = x[n, c, i // s, j // s]
    dx[n, c, i, j] = sum_{a, b < s} dy[n, c, i*s + a, j*s + b]
"""

import numpy as np

from tinygan.backend import Kernel

try:
    from numba import njit
except Exception:  # no numba: the Kernel objects below fall back to the NumPy twins
    njit = None


# -- NumPy twins: the readable reference ---------------------------------------------------------
def _padding(h, w, k, stride, pad_top, pad_left, out_h, out_w):
    """``((top, bottom), (left, right))`` zeros so every window lies inside the padded image."""
    return ((pad_top, max((out_h - 1) * stride + k - h - pad_top, 0)),
            (pad_left, max((out_w - 1) * stride + k - w - pad_left, 0)))


def _window(k, stride, out):
    """Slice of the ``out`` positions (padded coordinates) that kernel offset ``k`` reads."""
    return slice(k, k + stride * (out - 1) + 1, stride)


def im2col_numpy(x, k, stride, pad_top, pad_left, out_h, out_w):
    """Unroll the K x K windows of ``x`` (N, C, H, W) into ``cols`` (C*K*K, N*out_h*out_w).

    One strided slice per kernel offset (kh, kw): K*K copies, each of the whole batch.
    """
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), *_padding(h, w, k, stride, pad_top, pad_left, out_h, out_w)))
    cols = np.empty((c, k, k, n, out_h, out_w), dtype=x.dtype)
    for kh in range(k):
        for kw in range(k):
            window = xp[:, :, _window(kh, stride, out_h), _window(kw, stride, out_w)]
            cols[:, kh, kw] = window.transpose(1, 0, 2, 3)  # (N, C, ..) -> (C, N, ..)
    return cols.reshape(c * k * k, n * out_h * out_w)


def col2im_numpy(cols, n, c, h, w, k, stride, pad_top, pad_left, out_h, out_w):
    """Add every entry of ``cols`` (C*K*K, N*out_h*out_w) back where im2col took it from.

    Returns ``dx`` of shape (N, C, H, W): the exact mirror of :func:`im2col_numpy`,
    with ``+=`` in place of ``=`` because overlapping windows share pixels.
    """
    (top, bottom), (left, right) = _padding(h, w, k, stride, pad_top, pad_left, out_h, out_w)
    dxp = np.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    cols = cols.reshape(c, k, k, n, out_h, out_w)
    for kh in range(k):
        for kw in range(k):
            dxp[:, :, _window(kh, stride, out_h), _window(kw, stride, out_w)] += \
                cols[:, kh, kw].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(dxp[:, :, top:top + h, left:left + w])


def upsample_nearest_numpy(x, size):
    """(N, C, H, W) -> (N, C, H*size, W*size), each pixel repeated into a size x size block."""
    return x.repeat(size, axis=2).repeat(size, axis=3)


def upsample_nearest_backward_numpy(dy, size):
    """(N, C, H*size, W*size) -> (N, C, H, W): the gradient summed over each block."""
    n, c, hs, ws = dy.shape
    return dy.reshape(n, c, hs // size, size, ws // size, size).sum(axis=(3, 5))


# -- numba kernels: the same numbers, as explicit loops -------------------------------------------
# They read a zero-padded copy of x (and add into a padded dx), so the inner loop is a plain
# branch-free copy of one output row that LLVM vectorises; the loop order (channel, sample,
# output row, then kh, kw) reads each input row once for all K values of kw.
def _im2col_loops(xp, k, stride, out_h, out_w, cols):
    n_img, c_in = xp.shape[:2]
    per_img = out_h * out_w
    for c in range(c_in):
        for n in range(n_img):
            for oh in range(out_h):
                j = n * per_img + oh * out_w
                for kh in range(k):
                    src = xp[n, c, oh * stride + kh]
                    for kw in range(k):
                        dst = cols[(c * k + kh) * k + kw, j:j + out_w]
                        if stride == 1:
                            for ow in range(out_w):
                                dst[ow] = src[ow + kw]
                        else:
                            for ow in range(out_w):
                                dst[ow] = src[ow * stride + kw]


def _col2im_loops(cols, k, stride, out_h, out_w, dxp):
    n_img, c_in = dxp.shape[:2]
    per_img = out_h * out_w
    dxp[...] = 0
    for c in range(c_in):
        for n in range(n_img):
            for oh in range(out_h):
                j = n * per_img + oh * out_w
                for kh in range(k):
                    dst = dxp[n, c, oh * stride + kh]
                    for kw in range(k):
                        src = cols[(c * k + kh) * k + kw, j:j + out_w]
                        if stride == 1:
                            for ow in range(out_w):
                                dst[ow + kw] += src[ow]
                        else:
                            for ow in range(out_w):
                                dst[ow * stride + kw] += src[ow]


def _upsample_loops(x, size, y):
    n_img, c_in, h, w = x.shape
    for n in range(n_img):
        for c in range(c_in):
            for i in range(h):
                for a in range(size):
                    for j in range(w):
                        for b in range(size):
                            y[n, c, i * size + a, j * size + b] = x[n, c, i, j]


def _upsample_backward_loops(dy, size, dx):
    n_img, c_in, h, w = dx.shape
    for n in range(n_img):
        for c in range(c_in):
            for i in range(h):
                for j in range(w):
                    total = dy[n, c, i * size, j * size] * 0  # zero of dy's dtype
                    for a in range(size):
                        for b in range(size):
                            total += dy[n, c, i * size + a, j * size + b]
                    dx[n, c, i, j] = total


# The numba twins allocate their outputs with NumPy (which asks the kernel for huge pages on
# large arrays: far fewer page faults than numba's own allocator) and let the loops fill them.
def im2col_numba(x, k, stride, pad_top, pad_left, out_h, out_w):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), *_padding(h, w, k, stride, pad_top, pad_left, out_h, out_w)))
    cols = np.empty((c * k * k, n * out_h * out_w), dtype=x.dtype)
    _im2col_jit(xp, k, stride, out_h, out_w, cols)
    return cols


def col2im_numba(cols, n, c, h, w, k, stride, pad_top, pad_left, out_h, out_w):
    (top, bottom), (left, right) = _padding(h, w, k, stride, pad_top, pad_left, out_h, out_w)
    dxp = np.empty((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    _col2im_jit(np.ascontiguousarray(cols), k, stride, out_h, out_w, dxp)
    return np.ascontiguousarray(dxp[:, :, top:top + h, left:left + w])


def upsample_nearest_numba(x, size):
    n, c, h, w = x.shape
    y = np.empty((n, c, h * size, w * size), dtype=x.dtype)
    _upsample_jit(np.ascontiguousarray(x), size, y)
    return y


def upsample_nearest_backward_numba(dy, size):
    n, c, hs, ws = dy.shape
    dx = np.empty((n, c, hs // size, ws // size), dtype=dy.dtype)
    _upsample_backward_jit(np.ascontiguousarray(dy), size, dx)
    return dx


if njit is not None:
    _im2col_jit = njit(cache=True)(_im2col_loops)
    _col2im_jit = njit(cache=True)(_col2im_loops)
    _upsample_jit = njit(cache=True)(_upsample_loops)
    _upsample_backward_jit = njit(cache=True)(_upsample_backward_loops)
    im2col = Kernel(im2col_numpy, im2col_numba)
    col2im = Kernel(col2im_numpy, col2im_numba)
    upsample_nearest = Kernel(upsample_nearest_numpy, upsample_nearest_numba)
    upsample_nearest_backward = Kernel(upsample_nearest_backward_numpy,
                                       upsample_nearest_backward_numba)
else:  # pragma: no cover - only on machines without numba: the NumPy twins run
    im2col = Kernel(im2col_numpy)
    col2im = Kernel(col2im_numpy)
    upsample_nearest = Kernel(upsample_nearest_numpy)
    upsample_nearest_backward = Kernel(upsample_nearest_backward_numpy)
