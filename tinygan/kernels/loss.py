"""Binary cross-entropy computed straight from logits, with its gradient, and the
figures a training step reports about D's logits.

For a logit l and a target t in [0, 1], with p = sigmoid(l)::

    BCE(l, t) = -t log p - (1 - t) log(1 - p)
              = max(l, 0) - l * t + log(1 + exp(-|l|))      (stable form)
    dBCE/dl   = p - t

The naive form takes log(sigmoid(l)): for l = -200 the sigmoid underflows to 0
and the log is -inf.  The stable form never exponentiates a positive number, so
it stays finite for logits of any size (tested up to +-1e4).

The numba twin does the sigmoid, the loss and the gradient in one pass over
the logits (the NumPy twin needs six temporaries) and adds the losses up in
float64, in index order.
"""

import numpy as np

from tinygan.backend import Kernel, jit


def check_targets(logits, targets):
    """Raise a ValueError unless ``targets`` broadcasts to the shape of ``logits`` itself.

    Labels of shape (N,) against D's (N, 1) logits would broadcast to (N, N):
    N^2 losses and a gradient of the wrong shape, without an error.
    """
    if np.ndim(targets) == 0:   # one target for every logit: what a GAN passes
        return
    shape, t_shape = np.shape(logits), np.shape(targets)
    try:
        ok = np.broadcast_shapes(t_shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"bce_with_logits: targets of shape {t_shape} do not fit logits of "
                         f"shape {shape}; give one target per logit (shape {shape}, e.g. "
                         f"labels.reshape({shape})) or one number for all")


def bce_with_logits_numpy(logits, targets):
    """Mean BCE over all elements and its gradient w.r.t. the logits.

    Parameters
    ----------
    logits : ndarray, any shape
    targets : ndarray or float, broadcastable to ``logits``

    Returns
    -------
    loss : float
        ``mean(BCE(logits, targets))``.
    dlogits : ndarray, shape of ``logits``
        ``(sigmoid(logits) - targets) / logits.size``.
    """
    check_targets(logits, targets)
    e = np.exp(-np.abs(logits))  # in (0, 1]: never overflows
    losses = np.maximum(logits, 0) - logits * targets + np.log1p(e)
    p = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))  # sigmoid, stable both ways
    n = logits.size
    return float(losses.sum() / n), ((p - targets) / n).astype(logits.dtype, copy=False)


@jit
def _bce_with_logits_flat(l, t, out):
    """The fused loop on flat arrays: ``out`` receives dlogits; returns the mean loss.

    ``t`` holds one target per logit, or a single target for all of them (what
    a GAN passes: 1, 0 or a smoothed 0.9), which spares a broadcast copy.
    """
    n = l.size
    t_step = 1 if t.size == n else 0
    total = 0.0  # float64 accumulator
    inv_n = 1.0 / n
    for i in range(n):
        li = np.float64(l[i])
        ti = np.float64(t[i * t_step])
        e = np.exp(-abs(li))
        total += max(li, 0.0) - li * ti + np.log1p(e)
        p = 1.0 / (1.0 + e) if li >= 0 else e / (1.0 + e)
        out[i] = (p - ti) * inv_n
    return total * inv_n


def bce_with_logits_numba(logits, targets):
    """Same contract as :func:`bce_with_logits_numpy`, one compiled pass."""
    logits = np.asarray(logits)
    check_targets(logits, targets)
    l = np.ascontiguousarray(logits).reshape(-1)  # a view of D's (N, 1) output, no copy
    t = np.asarray(targets, logits.dtype)
    t = t.reshape(1) if t.size == 1 else np.ascontiguousarray(
        np.broadcast_to(t, logits.shape)).reshape(-1)
    out = np.empty(l.shape, logits.dtype)
    loss = _bce_with_logits_flat(l, t, out)
    return float(loss), out.reshape(logits.shape)


# -- what D believes: the figures a training step reports -------------------------------
def logit_stats_numpy(logits):
    """``(mean of sigmoid(logits), how many logits are > 0)`` for a batch of D's logits.

    The first is the mean D(x) a step reports; the second counts the samples D
    calls real (D(x) > 0.5).  sigmoid is taken as ``0.5 + 0.5 * tanh(l / 2)`` in
    float64, which never overflows.
    """
    l = np.asarray(logits, np.float64)
    return float(np.mean(0.5 + 0.5 * np.tanh(0.5 * l))), int(np.count_nonzero(l > 0))


@jit
def _logit_stats_flat(l):
    if l.size == 0:
        return np.nan, 0
    total = 0.0
    positive = 0
    for i in range(l.size):
        li = np.float64(l[i])
        total += 0.5 + 0.5 * np.tanh(0.5 * li)
        if li > 0:
            positive += 1
    return total / l.size, positive


def logit_stats_numba(logits):
    """One pass instead of six NumPy calls: each call of a training step costs far more
    than in a micro-benchmark, because the optimizer has just swept the caches."""
    mean, positive = _logit_stats_flat(np.ascontiguousarray(logits).reshape(-1))
    return float(mean), int(positive)


bce_with_logits = Kernel(bce_with_logits_numpy,
                         bce_with_logits_numba if _bce_with_logits_flat is not None else None)
logit_stats = Kernel(logit_stats_numpy,
                     logit_stats_numba if _logit_stats_flat is not None else None)
