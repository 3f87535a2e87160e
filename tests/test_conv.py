"""Convolution kernels and Conv2D's forward pass against plain references.

* the numba kernels (im2col, col2im, upsampling) equal their NumPy twins;
* col2im is the adjoint of im2col: <im2col(x), C> = <x, col2im(C)>;
* Keras's "same" / "valid" output sizes and padding, on hand-worked cases;
* Conv2D's forward equals a naive six-loop convolution in float64.
"""

import numpy as np
import pytest

from tinygan import backend as _backend
from tinygan.kernels import conv as K
from tinygan.layers import Conv2D
from tinygan.layers import conv as conv_module
from tinygan.layers.conv import conv_output_size

needs_numba = pytest.mark.skipif(not _backend.numba_available(), reason="numba is not installed")

# (N, C, H, W, k, stride, padding): odd sizes, both strides, both paddings, a 1x1 kernel
GEOMETRIES = [
    (2, 3, 7, 5, 3, 1, "same"),
    (2, 3, 7, 5, 3, 2, "same"),
    (3, 2, 7, 5, 3, 1, "valid"),
    (3, 2, 7, 5, 3, 2, "valid"),
    (2, 4, 6, 8, 3, 2, "same"),      # even sizes, stride 2: padding only at the bottom/right
    (1, 2, 5, 5, 5, 1, "same"),
    (2, 3, 4, 3, 1, 1, "valid"),
    (2, 1, 9, 6, 2, 3, "same"),      # even kernel, stride 3
]


def _geometry(n, c, h, w, k, s, padding):
    out_h, top = conv_output_size(h, k, s, padding)
    out_w, left = conv_output_size(w, k, s, padding)
    return out_h, out_w, top, left


@pytest.mark.parametrize("case", [
    # size, k, stride, padding -> (out, pad_before), worked out by hand from TF's rules
    ((28, 3, 2, "same"), (14, 0)),   # total padding (14-1)*2+3-28 = 1: it all goes after
    ((14, 3, 2, "same"), (7, 0)),
    ((7, 3, 2, "same"), (4, 1)),     # total 2: one before, one after
    ((7, 3, 1, "same"), (7, 1)),
    ((5, 5, 1, "same"), (5, 2)),
    ((8, 2, 1, "same"), (8, 0)),     # even kernel: total 1, after
    ((7, 3, 2, "valid"), (3, 0)),
    ((7, 3, 1, "valid"), (5, 0)),
    ((28, 3, 2, "valid"), (13, 0)),
])
def test_output_size_follows_keras(case):
    args, expected = case
    assert conv_output_size(*args) == expected


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geom", GEOMETRIES)
def test_im2col_col2im_numba_equal_numpy(geom, dtype):
    n, c, h, w, k, s, padding = geom
    out_h, out_w, top, left = _geometry(*geom)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    cols = K.im2col.numpy(x, k, s, top, left, out_h, out_w)
    assert cols.shape == (c * k * k, n * out_h * out_w) and cols.dtype == dtype
    np.testing.assert_array_equal(K.im2col.numba(x, k, s, top, left, out_h, out_w), cols)
    # non-contiguous input, as a strided view can be
    wide = np.zeros((n, c, h, 2 * w), dtype=dtype)
    wide[..., ::2] = x
    np.testing.assert_array_equal(K.im2col.numba(wide[..., ::2], k, s, top, left, out_h, out_w),
                                  cols)
    d = rng.standard_normal(cols.shape).astype(dtype)
    ref = K.col2im.numpy(d, n, c, h, w, k, s, top, left, out_h, out_w)
    got = K.col2im.numba(d, n, c, h, w, k, s, top, left, out_h, out_w)
    assert got.shape == x.shape and got.dtype == dtype
    # the same sums, possibly in another order: equal up to rounding
    np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("geom", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(geom, backend):
    n, c, h, w, k, s, padding = geom
    out_h, out_w, top, left = _geometry(*geom)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, h, w))
    cols = K.im2col(x, k, s, top, left, out_h, out_w)
    d = rng.standard_normal(cols.shape)
    lhs = float(np.sum(cols * d))
    rhs = float(np.sum(x * K.col2im(d, n, c, h, w, k, s, top, left, out_h, out_w)))
    print(f"<im2col(x), d> = {lhs:.12f}, <x, col2im(d)> = {rhs:.12f}")
    assert abs(lhs - rhs) < 1e-10 * max(1.0, abs(lhs))


def test_im2col_reads_the_right_pixels():
    # one sample, one channel, 3x3 image, 2x2 kernel, valid: four windows written out by hand
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    cols = K.im2col.numpy(x, 2, 1, 0, 0, 2, 2)
    # row (kh, kw) = (0, 0) for the windows at (0,0) (0,1) (1,0) (1,1), then (0, 1), ...
    expected = np.array([[0, 1, 3, 4],      # (0, 0)
                         [1, 2, 4, 5],      # (0, 1)
                         [3, 4, 6, 7],      # (1, 0)
                         [4, 5, 7, 8]])     # (1, 1)
    np.testing.assert_array_equal(cols, expected)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,size", [((2, 3, 7, 5), 2), ((1, 2, 3, 4), 3), ((3, 1, 1, 1), 1)])
def test_upsampling_numba_equals_numpy(shape, size, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    y = K.upsample_nearest.numpy(x, size)
    assert y.shape == (*shape[:2], shape[2] * size, shape[3] * size)
    np.testing.assert_array_equal(K.upsample_nearest.numba(x, size), y)
    np.testing.assert_array_equal(K.upsample_nearest.numba(x.transpose(0, 1, 3, 2), size),
                                  K.upsample_nearest.numpy(x.transpose(0, 1, 3, 2), size))
    dy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(K.upsample_nearest_backward.numba(dy, size),
                               K.upsample_nearest_backward.numpy(dy, size), rtol=1e-6, atol=1e-6)


def naive_conv(x, W, b, stride, pad_top, pad_left, out_h, out_w):
    """The definition, loop by loop (float64): y = b + sum W * window of the zero-padded x."""
    n, c, h, w = x.shape
    c_out, _, k, _ = W.shape
    y = np.zeros((n, c_out, out_h, out_w))
    for i in range(n):
        for o in range(c_out):
            for oh in range(out_h):
                for ow in range(out_w):
                    total = b[o]
                    for ci in range(c):
                        for kh in range(k):
                            for kw in range(k):
                                ih, iw = oh * stride + kh - pad_top, ow * stride + kw - pad_left
                                if 0 <= ih < h and 0 <= iw < w:
                                    total += W[o, ci, kh, kw] * x[i, ci, ih, iw]
                    y[i, o, oh, ow] = total
    return y


@pytest.mark.parametrize("geom", GEOMETRIES)
def test_conv2d_forward_equals_naive_loops(geom, backend):
    n, c, h, w, k, s, padding = geom
    rng = np.random.default_rng(3)
    layer = Conv2D(c, 4, k, stride=s, padding=padding, rng=0, dtype=np.float64)
    layer.params["b"][...] = rng.standard_normal(4)
    x = rng.standard_normal((n, c, h, w))
    out_h, out_w, top, left = _geometry(*geom)
    y = layer.forward(x)
    assert y.shape == (n, 4, out_h, out_w) == layer.output_shape(x.shape)
    ref = naive_conv(x, layer.params["W"], layer.params["b"], s, top, left, out_h, out_w)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


def test_keras_same_stride2_pads_bottom_right_only():
    # 4x4 input, 3x3 kernel of ones, stride 2, "same": out 2x2, one zero row/column after.
    layer = Conv2D(1, 1, 3, stride=2, padding="same", dtype=np.float64)
    layer.params["W"][...] = 1.0
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y = layer.forward(x)[0, 0]
    # window at (0, 0) covers rows 0-2, cols 0-2; at (1, 1) rows 2-3 and cols 2-3 (+ padding)
    expected = np.array([[x[0, 0, 0:3, 0:3].sum(), x[0, 0, 0:3, 2:4].sum()],
                         [x[0, 0, 2:4, 0:3].sum(), x[0, 0, 2:4, 2:4].sum()]])
    np.testing.assert_array_equal(y, expected)


def test_chunked_batch_equals_one_chunk(monkeypatch, backend):
    """Cutting the batch into chunks (to stay in cache) changes nothing but rounding."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3, 7, 5))
    dy = rng.standard_normal((5, 2, 4, 3))
    results, n_chunks = [], []
    for chunk_bytes in (1 << 40, 1):  # everything in one product; one sample per product
        monkeypatch.setattr(conv_module, "CHUNK_BYTES", chunk_bytes)
        layer = Conv2D(3, 2, 3, stride=2, rng=0, dtype=np.float64)
        y = layer.forward(x)
        dx = layer.backward(dy)
        results.append((y, dx, layer.grads["W"].copy(), layer.grads["b"].copy()))
        n_chunks.append(len(layer._chunks(5, 4, 3, x.itemsize)))
    assert n_chunks == [1, 5]
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_conv2d_glorot_uniform_init():
    layer = Conv2D(64, 128, 3, rng=0)
    limit = np.sqrt(6.0 / (64 * 9 + 128 * 9))
    W = layer.params["W"]
    assert W.shape == (128, 64, 3, 3) and W.dtype == np.float32
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.99 * limit
    assert abs(W.std() - limit / np.sqrt(3)) < 0.01 * limit   # the std of U(-a, a)
    assert not layer.params["b"].any()


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 3, 7)), r"expected input of shape \(batch, 3, \.\.\., \.\.\.\)"),
    (np.zeros((2, 4, 7, 5)), r"got \(2, 4, 7, 5\)"),
    (np.zeros((2, 3, 2, 5)), "smaller than the 3x3 kernel"),
])
def test_conv2d_rejects_bad_input(bad, match):
    layer = Conv2D(3, 2, 3, padding="valid")
    with pytest.raises(ValueError, match=match):
        layer.forward(bad)


def test_conv2d_rejects_bad_arguments():
    with pytest.raises(ValueError, match="padding must be one of"):
        Conv2D(3, 2, 3, padding="full")
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        Conv2D(3, 2, 3, stride=0)
    with pytest.raises(ValueError, match="kernel_size must be a positive integer"):
        Conv2D(3, 2, 2.5)
    layer = Conv2D(3, 2, 3)
    layer.forward(np.zeros((2, 3, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="backward got dy of shape"):
        layer.backward(np.zeros((2, 2, 4, 4), dtype=np.float32))
    with pytest.raises(RuntimeError, match="without a matching forward"):
        Conv2D(3, 2, 3).backward(np.zeros((2, 2, 5, 5)))
