"""Every numba kernel computes what its NumPy twin computes.

Each kernel runs on float32 and float64, on odd shapes (sizes that are no
multiple of a SIMD width, one row, one column) and, where a layer can hand it
one, on a non-contiguous view.  float64 results agree to ~1e-15 relative; float32
to a few ulps (the numba loops may round in a different order).
"""

import numpy as np
import pytest

from tinygan import backend
from tinygan.kernels import activations as act
from tinygan.kernels import batchnorm as bn
from tinygan.kernels import loss, optim

pytestmark = pytest.mark.skipif(not backend.numba_available(), reason="numba is not installed")

DTYPES = [np.float32, np.float64]
SHAPES = [(1, 1), (1, 7), (5, 1), (7, 13), (64, 257)]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}


def _close(a, b, dtype):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype == dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, **TOL[dtype])


def _inputs(shape, dtype, contiguous, seed=0, count=2):
    """``count`` random arrays of ``shape``; non-contiguous ones are views of a transpose."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        if contiguous:
            a = rng.standard_normal(shape).astype(dtype)
        else:
            a = rng.standard_normal(shape[::-1]).astype(dtype).T
            assert not a.flags.c_contiguous or a.size <= max(shape)
        out.append(a * 3)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.2, 1.0, 1.5])
def test_leaky_relu(dtype, shape, contiguous, alpha):
    x, dy = _inputs(shape, dtype, contiguous)
    x[0, 0] = 0.0  # the kink: both twins must take the alpha branch at x == 0
    for k, args in ((act.leaky_relu_forward, (x, alpha)), (act.leaky_relu_backward, (x, dy, alpha))):
        _close(k.numba(*args), k.numpy(*args), dtype)
    # and they are the textbook formulas
    np.testing.assert_array_equal(act.leaky_relu_forward.numba(x, alpha),
                                  np.where(x > 0, x, x * dtype(alpha)))
    np.testing.assert_array_equal(act.leaky_relu_backward.numba(x, dy, alpha),
                                  np.where(x > 0, dy, dy * dtype(alpha)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("contiguous", [True, False])
def test_sigmoid_and_tanh(dtype, shape, contiguous):
    x, dy = _inputs(shape, dtype, contiguous)
    y = 1 / (1 + np.exp(-x.astype(np.float64)))
    _close(act.sigmoid_forward_numba(x), act.sigmoid_forward.numpy(x), dtype)
    # 0.5 + 0.5 tanh(x/2) is exact to an absolute ulp of 1 (not relative, near y = 0)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(act.sigmoid_forward_numba(x), y, rtol=4 * eps, atol=2 * eps)
    s = act.sigmoid_forward.numpy(x)
    _close(act.sigmoid_backward.numba(s, dy), act.sigmoid_backward.numpy(s, dy), dtype)
    t = act.tanh_forward(x)
    _close(act.tanh_backward.numba(t, dy), act.tanh_backward.numpy(t, dy), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 1), (3, 7), (64, 257)])
@pytest.mark.parametrize("contiguous", [True, False])
def test_batchnorm(dtype, shape, contiguous):
    rng = np.random.default_rng(1)
    x, dy = _inputs(shape, dtype, contiguous, seed=2)  # a user's (N, C) batch may be a view
    if contiguous:
        close = _close
    else:   # NumPy sums a column held contiguously pairwise, not row after row like the
        def close(a, b, dtype):   # kernel: the twins then differ by a few ulps of the data
            assert a.shape == b.shape and a.dtype == b.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=TOL[dtype]["rtol"],
                                       atol=32 * np.finfo(dtype).eps * np.abs(b).max())
    x += dtype(5.0)  # a mean far from 0 exposes a one-pass variance
    c = shape[1]
    gamma, beta = rng.normal(1, 0.5, c).astype(dtype), rng.normal(0, 0.5, c).astype(dtype)
    rmean, rvar = rng.normal(0, 1, c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    a = bn.batchnorm_train_forward.numpy(x, gamma, beta, 1e-3)
    b = bn.batchnorm_train_forward.numba(x, gamma, beta, 1e-3)
    for u, v in zip(a, b):
        close(u, v, dtype)
    _, xhat, _, _, inv_std = a
    for u, v in zip(bn.batchnorm_train_backward.numpy(dy, xhat, gamma, inv_std),
                    bn.batchnorm_train_backward.numba(dy, xhat, gamma, inv_std)):
        close(u, v, dtype)
    a = bn.batchnorm_eval_forward.numpy(x, gamma, beta, rmean, rvar, 1e-3)
    b = bn.batchnorm_eval_forward.numba(x, gamma, beta, rmean, rvar, 1e-3)
    for u, v in zip(a, b):
        close(u, v, dtype)
    for u, v in zip(bn.batchnorm_eval_backward.numpy(dy, a[1], gamma, a[2]),
                    bn.batchnorm_eval_backward.numba(dy, a[1], gamma, a[2])):
        close(u, v, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 7, 257])
@pytest.mark.parametrize("momentum", [0.0, 0.8, 0.99])
def test_running_average(dtype, size, momentum):
    rng = np.random.default_rng(5)
    start, value = (rng.standard_normal(size).astype(dtype) for _ in range(2))
    a, b = start.copy(), start.copy()
    bn.running_average.numpy(a, value, momentum)
    bn.running_average.numba(b, value, momentum)
    # the formula as BatchNorm used to write it, in the array's dtype
    want = momentum * start + (1 - momentum) * value
    assert a.dtype == b.dtype == want.dtype == dtype
    print(f"{dtype.__name__} momentum {momentum}: max |numba - formula| = {np.abs(b - want).max():.1e}")
    np.testing.assert_array_equal(a, want)
    _close(b, want, dtype)
    if momentum == 0.0:
        np.testing.assert_array_equal(b, value)   # nothing of the old average is left


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 1), (64, 1), (5, 3)])
@pytest.mark.parametrize("target", [1.0, 0.9, 0.0, "array"])
def test_bce_with_logits(dtype, shape, target):
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal(shape) * 10).astype(dtype)
    logits.flat[0] = 1e4 if logits.size > 1 else -1e4  # saturated: both must stay finite
    t = rng.uniform(0, 1, shape).astype(dtype) if target == "array" else target
    la, ga = loss.bce_with_logits.numpy(logits, t)
    lb, gb = loss.bce_with_logits.numba(logits, t)
    assert isinstance(lb, float) and np.isfinite(lb)
    assert la == pytest.approx(lb, rel=1e-6 if dtype == np.float32 else 1e-13)
    _close(ga, gb, dtype)
    # a strided column of logits, as a slice of a wider array
    wide = np.repeat(logits, 2, axis=1)[:, ::2]
    _close(loss.bce_with_logits.numba(wide, t)[1], ga, dtype)
    if target != "array":   # one target for every logit, given as a (1, 1) array
        lc, gc = loss.bce_with_logits.numba(logits, np.full((1, 1), target, dtype))
        assert lc == lb
        np.testing.assert_array_equal(gc, gb)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 1), (64, 1), (5, 3)])
@pytest.mark.parametrize("contiguous", [True, False])
def test_logit_stats(dtype, shape, contiguous):
    (logits,) = _inputs(shape, dtype, contiguous, seed=4, count=1)
    logits = logits * 10
    logits.flat[0] = 1e4 if logits.size > 1 else -1e4   # saturated: the mean stays finite
    if logits.size > 2:
        logits.flat[1] = 0.0                             # exactly 0 is not "> 0"
    mean_a, pos_a = loss.logit_stats.numpy(logits)
    mean_b, pos_b = loss.logit_stats.numba(logits)
    print(f"{shape}: mean sigmoid {mean_a:.6f} vs {mean_b:.6f}, positives {pos_a} vs {pos_b}")
    assert isinstance(mean_b, float) and isinstance(pos_b, int)
    assert pos_a == pos_b == int(np.sum(np.asarray(logits) > 0))
    assert mean_a == pytest.approx(mean_b, rel=1e-13)
    # the same figures from the definition, sigmoid taken the textbook way
    with np.errstate(over="ignore"):
        assert mean_b == pytest.approx(np.mean(1 / (1 + np.exp(-logits.astype(np.float64)))),
                                       rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("contiguous", [True, False])
def test_bias_grad(dtype, shape, contiguous):
    (dy,) = _inputs(shape, dtype, contiguous, count=1)
    a, b = optim.bias_grad.numba(dy), optim.bias_grad.numpy(dy)
    assert a.dtype == b.dtype == dtype and a.shape == b.shape == (shape[1],)
    # NumPy sums a strided axis pairwise, the kernel row by row: both are within the
    # classic bound n * eps * sum|dy| of the exact sum, so of each other.
    exact = dy.astype(np.float64).sum(axis=0)
    bound = shape[0] * np.finfo(dtype).eps * np.abs(dy).astype(np.float64).sum(axis=0)
    assert np.all(np.abs(a - exact) <= bound) and np.all(np.abs(b - exact) <= bound)
    if contiguous:  # same order: the same sum, bit for bit
        np.testing.assert_array_equal(a, b)


PARAM_SHAPES = [(100, 256), (256,), (3, 5), (1,), (70_001,), (1024, 40)]


def _state(dtype, seed=4):
    rng = np.random.default_rng(seed)
    p = [rng.standard_normal(s).astype(dtype) for s in PARAM_SHAPES]
    g = [rng.standard_normal(s).astype(dtype) for s in PARAM_SHAPES]
    m = [rng.standard_normal(s).astype(dtype) * 0.1 for s in PARAM_SHAPES]
    v = [rng.uniform(0, 0.01, s).astype(dtype) for s in PARAM_SHAPES]
    return p, g, m, v


def _copy(state):
    return [[a.copy() for a in arrays] for arrays in state]


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_single_and_fused_match_numpy(dtype):
    ref = _state(dtype)
    single, fused = _copy(ref), _copy(ref)
    for t in (1, 2, 7):  # t = 1: the first step, where bias correction matters most
        optim.adam_update_all.numpy(*ref, 2e-4, 0.5, 0.999, 1e-8, t)
        for p, g, m, v in zip(*single):
            optim.adam_update.numba(p, g, m, v, 2e-4, 0.5, 0.999, 1e-8, t)
        optim.adam_update_all.numba(*[optim.ArrayGroup(a) for a in fused],
                                    2e-4, 0.5, 0.999, 1e-8, t)
    for r, s, f in zip(sum(ref, []), sum(single, []), sum(fused, [])):
        _close(s, r, dtype)
        np.testing.assert_array_equal(f, s)  # the same loop, called once for all arrays
    moved = max(np.abs(a - b).max() for a, b in zip(ref[0], _state(dtype)[0]))
    assert moved > 1e-4  # the update did something


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_single_and_fused_match_numpy(dtype, momentum):
    p, g, _, vel = _state(dtype)
    ref, single, fused = _copy([p, g, vel]), _copy([p, g, vel]), _copy([p, g, vel])
    for _ in range(3):
        optim.sgd_update_all.numpy(*ref, 0.01, momentum)
        for a, b, c in zip(*single):
            optim.sgd_update.numba(a, b, c, 0.01, momentum)
        optim.sgd_update_all.numba(*[optim.ArrayGroup(a) for a in fused], 0.01, momentum)
    for r, s, f in zip(sum(ref, []), sum(single, []), sum(fused, [])):
        _close(s, r, dtype)
        np.testing.assert_array_equal(f, s)


def test_fused_update_handles_mixed_dtypes_and_strided_arrays():
    """Arrays a flat view cannot cover go array by array, through the same formulas."""
    def state():
        st = _state(np.float32)
        for arrays in st:
            arrays[1] = arrays[1].astype(np.float64)  # mixed dtypes in one group
        rng = np.random.default_rng(5)                # and one array that is a strided view
        for arrays, scale in zip(st, (1.0, 0.5, 0.1, 0.01)):
            base = np.abs(rng.standard_normal((8, 12)).astype(np.float32)) * np.float32(scale)
            arrays[2] = base[:, ::2]                   # every other column: not contiguous
        return st
    ref, other = state(), state()
    assert not any(arrays[2].flags.c_contiguous for arrays in other)
    optim.adam_update_all.numpy(*ref, 1e-3, 0.9, 0.999, 1e-8, 1)
    groups = [optim.ArrayGroup(a) for a in other]
    assert not groups[0].fusable
    optim.adam_update_all.numba(*groups, 1e-3, 0.9, 0.999, 1e-8, 1)
    for r, o in zip(sum(ref, []), sum(other, [])):
        np.testing.assert_allclose(o, r, rtol=2e-6, atol=1e-7)
    # a strided view alone: the numba kernels hand it to the NumPy formulas, in place
    for update, n in ((optim.adam_update, 4), (optim.sgd_update, 3)):
        arrays = [state()[k][2] for k in range(n)]
        want = [a.copy() for a in arrays]
        args = (1e-3, 0.9, 0.999, 1e-8, 1) if n == 4 else (1e-2, 0.9)
        update.numpy(*want, *args)
        update.numba(*arrays, *args)
        assert not arrays[0].flags.c_contiguous
        np.testing.assert_array_equal(arrays[0], want[0])


def test_array_group_views_share_memory_with_the_arrays():
    arrays = [np.zeros((3, 4), np.float32), np.zeros(5, np.float32)]
    grp = optim.ArrayGroup(arrays)
    assert grp.fusable and len(grp) == 2 and grp[1] is arrays[1]
    grp.flat[0][7] = 1.0
    assert arrays[0][1, 3] == 1.0
    assert not optim.ArrayGroup([arrays[0].T]).fusable
    assert not optim.ArrayGroup([arrays[1], arrays[1].astype(np.float64)]).fusable
