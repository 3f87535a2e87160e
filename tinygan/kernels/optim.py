"""Parameter updates and bias gradients.

The update rules (see :mod:`tinygan.optim` for where they are used)::

    SGD with momentum mu (PyTorch's form):  v = mu * v + g;  p -= lr * v

    Adam, step t = 1, 2, ...:
        m = b1 * m + (1 - b1) * g            (running mean of g)
        v = b2 * v + (1 - b2) * g^2          (running mean of g^2)
        m_hat = m / (1 - b1^t)               (bias correction: m and v start at 0,
        v_hat = v / (1 - b2^t)                so early averages are too small)
        p -= lr * m_hat / (sqrt(v_hat) + eps)

All updates are in place: a parameter array is never replaced, so every view of
it (a layer's ``params`` dict, the optimizer's list) keeps seeing the same data.

Fusing the update over *all* parameters
---------------------------------------
The NumPy twin of Adam makes about ten passes over memory per array (each
operator writes a temporary); for the 2 M parameters of ``mnist_mlp`` that is
more time than all the matrix products of a training step.  The numba twin
reads p, g, m, v once and writes p, m, v once, in one compiled call for the
whole model: :class:`ArrayGroup` holds the optimizer's arrays as a tuple of
flat views (``a.reshape(-1)`` shares memory with the layer's array), and a
tuple of same-typed arrays is something numba can index with a run-time integer.

Why no ``prange`` (multi-core) loop here: the update is bound by memory
bandwidth, not arithmetic, so a second core gains little; every parallel call
ends in a barrier that stalls whenever another process holds a core (measured
on a busy 2-core machine: 3x *slower* than one thread); and a parallel kernel
takes several times longer to compile and to load from the cache.  The second
core is BLAS's, for the matrix products.
"""

from __future__ import annotations

import numpy as np

from tinygan.backend import Kernel, jit


# -- Adam --------------------------------------------------------------------------------
def adam_update_numpy(p, g, m, v, lr, beta1, beta2, eps, t):
    """One Adam step on one parameter array, in place (``t`` is the 1-based step count)."""
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    p -= (lr * m_hat / (np.sqrt(v_hat) + eps)).astype(p.dtype, copy=False)


@jit
def _adam_flat(p, g, m, v, lr, beta1, beta2, eps, t):
    """Adam on flat arrays, arithmetic in p's dtype.

    ``m_hat / (sqrt(v_hat) + eps)`` is rewritten with the bias corrections
    folded into two scalars, so each element costs one sqrt and one division.
    """
    b1, b2 = p.dtype.type(beta1), p.dtype.type(beta2)
    c1, c2 = p.dtype.type(1 - beta1), p.dtype.type(1 - beta2)  # in float64 first:
    # float32(1) - float32(0.999) is 0.00099998713, 1.3e-5 off in relative terms
    step = p.dtype.type(lr / (1 - beta1 ** t))             # lr / (1 - b1^t)
    inv_bc2 = p.dtype.type(1 / np.sqrt(1 - beta2 ** t))    # 1 / sqrt(1 - b2^t)
    e = p.dtype.type(eps)
    # range(p.size): numba knows the index is never negative, drops its wrap-around
    # check and LLVM vectorises the loop (with range(start, stop) it does not: 3.5x slower)
    for i in range(p.size):
        gi = g[i]
        mi = b1 * m[i] + c1 * gi
        vi = b2 * v[i] + c2 * (gi * gi)
        m[i] = mi
        v[i] = vi
        p[i] -= step * mi / (np.sqrt(vi) * inv_bc2 + e)


def adam_update_numba(p, g, m, v, lr, beta1, beta2, eps, t):
    if not _contiguous(p, g, m, v):  # a strided view: let NumPy handle it
        return adam_update_numpy(p, g, m, v, lr, beta1, beta2, eps, t)
    _adam_flat(_flat(p), _flat(g), _flat(m), _flat(v), lr, beta1, beta2, eps, t)


def adam_update_all_numpy(params, grads, ms, vs, lr, beta1, beta2, eps, t):
    """Adam over every array of the lists (or :class:`ArrayGroup`), one after the other."""
    for p, g, m, v in zip(params, grads, ms, vs):
        adam_update_numpy(p, g, m, v, lr, beta1, beta2, eps, t)


@jit
def _adam_all(ps, gs, ms, vs, lr, beta1, beta2, eps, t):
    for k in range(len(ps)):  # ps: a tuple of flat float arrays
        _adam_flat(ps[k], gs[k], ms[k], vs[k], lr, beta1, beta2, eps, t)


def adam_update_all_numba(params, grads, ms, vs, lr, beta1, beta2, eps, t):
    """All arrays in one compiled call (groups of mixed dtypes go array by array)."""
    groups = [ArrayGroup.of(a) for a in (params, grads, ms, vs)]
    if not all(grp.fusable for grp in groups):
        for p, g, m, v in zip(params, grads, ms, vs):
            adam_update_numba(p, g, m, v, lr, beta1, beta2, eps, t)
        return
    _adam_all(*(grp.flat for grp in groups), lr, beta1, beta2, eps, t)


# -- SGD ---------------------------------------------------------------------------------
def sgd_update_numpy(p, g, velocity, lr, momentum):
    """One SGD step on one parameter array, in place."""
    if momentum:
        velocity *= momentum
        velocity += g
        g = velocity
    p -= (lr * g).astype(p.dtype, copy=False)


@jit
def _sgd_flat(p, g, vel, lr, momentum):
    mu, rate = p.dtype.type(momentum), p.dtype.type(lr)
    if momentum != 0:
        for i in range(p.size):
            vi = mu * vel[i] + g[i]
            vel[i] = vi
            p[i] -= rate * vi
    else:
        for i in range(p.size):
            p[i] -= rate * g[i]


def sgd_update_numba(p, g, velocity, lr, momentum):
    if not _contiguous(p, g, velocity):
        return sgd_update_numpy(p, g, velocity, lr, momentum)
    _sgd_flat(_flat(p), _flat(g), _flat(velocity), lr, momentum)


def sgd_update_all_numpy(params, grads, velocities, lr, momentum):
    """SGD over every array of the lists, one after the other."""
    for p, g, vel in zip(params, grads, velocities):
        sgd_update_numpy(p, g, vel, lr, momentum)


@jit
def _sgd_all(ps, gs, vels, lr, momentum):
    for k in range(len(ps)):
        _sgd_flat(ps[k], gs[k], vels[k], lr, momentum)


def sgd_update_all_numba(params, grads, velocities, lr, momentum):
    """All arrays in one compiled call."""
    groups = [ArrayGroup.of(a) for a in (params, grads, velocities)]
    if not all(grp.fusable for grp in groups):
        for p, g, vel in zip(params, grads, velocities):
            sgd_update_numba(p, g, vel, lr, momentum)
        return
    _sgd_all(*(grp.flat for grp in groups), lr, momentum)


# -- exponential moving average of weights -----------------------------------------------
def ema_update_all_numpy(shadows, params, rate):
    """``s += rate * (p - s)`` for every pair: s follows p, smoothed.

    ``rate`` is the fraction of the way to p, ``1 - decay`` for a plain moving
    average (:class:`tinygan.ema.WeightAverage` passes a bias-corrected one).
    Written as a step towards p so that a shadow equal to its parameter stays
    exactly equal.
    """
    for s, p in zip(shadows, params):
        s += s.dtype.type(rate) * (p - s)


@jit
def _ema_all(ss, ps, rate):
    for k in range(len(ss)):
        s, p = ss[k], ps[k]
        c = s.dtype.type(rate)
        for i in range(s.size):
            s[i] += c * (p[i] - s[i])


def ema_update_all_numba(shadows, params, rate):
    """All arrays in one compiled call, one pass over memory."""
    groups = [ArrayGroup.of(a) for a in (shadows, params)]
    if not all(grp.fusable for grp in groups):
        ema_update_all_numpy(shadows, params, rate)
        return
    _ema_all(*(grp.flat for grp in groups), rate)


# -- bias gradient -----------------------------------------------------------------------
def bias_grad_numpy(dy):
    """db = sum of dy over the batch: every row added the same bias."""
    return dy.sum(axis=0)


@jit
def bias_grad_numba(dy):
    db = np.zeros(dy.shape[1], dy.dtype)
    for i in range(dy.shape[0]):  # row after row: the inner loop runs along memory
        for j in range(dy.shape[1]):
            db[j] += dy[i, j]
    return db


# -- the arrays a fused update walks over ------------------------------------------------
class ArrayGroup:
    """A fixed sequence of arrays, plus the flat views a fused numba update walks.

    Iterating gives the original arrays (what the NumPy twins use).  ``flat`` is
    a tuple of 1-D views sharing their memory.  ``fusable`` is False when the
    arrays differ in dtype or one is not contiguous (its flat view would be a
    copy): the fused kernels then go array by array instead.
    """

    def __init__(self, arrays):
        self.arrays = tuple(arrays)
        self.fusable = (len(self.arrays) > 0
                        and len({a.dtype for a in self.arrays}) == 1
                        and all(a.flags.c_contiguous for a in self.arrays))
        self.flat = tuple(a.reshape(-1) for a in self.arrays) if self.fusable else None

    @classmethod
    def of(cls, arrays):
        return arrays if isinstance(arrays, cls) else cls(arrays)

    def __iter__(self):
        return iter(self.arrays)

    def __len__(self):
        return len(self.arrays)

    def __getitem__(self, i):
        return self.arrays[i]


def _contiguous(*arrays):
    return all(a.flags.c_contiguous for a in arrays)


def _flat(a):
    """A 1-D view of a C-contiguous array: updating it updates ``a``."""
    return a.reshape(-1)


_have_numba = _adam_flat is not None
adam_update = Kernel(adam_update_numpy, adam_update_numba if _have_numba else None)
adam_update_all = Kernel(adam_update_all_numpy, adam_update_all_numba if _have_numba else None)
sgd_update = Kernel(sgd_update_numpy, sgd_update_numba if _have_numba else None)
ema_update_all = Kernel(ema_update_all_numpy, ema_update_all_numba if _have_numba else None)
sgd_update_all = Kernel(sgd_update_all_numpy, sgd_update_all_numba if _have_numba else None)
bias_grad = Kernel(bias_grad_numpy, bias_grad_numba)
