"""Binary cross-entropy computed straight from logits, with its gradient.

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
    e = np.exp(-np.abs(logits))  # in (0, 1]: never overflows
    losses = np.maximum(logits, 0) - logits * targets + np.log1p(e)
    p = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))  # sigmoid, stable both ways
    n = logits.size
    return float(losses.sum() / n), ((p - targets) / n).astype(logits.dtype, copy=False)


@jit
def _bce_with_logits_flat(l, t, out):
    """The fused loop on flat arrays: ``out`` receives dlogits; returns the mean loss."""
    n = l.size
    total = 0.0  # float64 accumulator
    inv_n = 1.0 / n
    for i in range(n):
        li = np.float64(l[i])
        ti = np.float64(t[i])
        e = np.exp(-abs(li))
        total += max(li, 0.0) - li * ti + np.log1p(e)
        p = 1.0 / (1.0 + e) if li >= 0 else e / (1.0 + e)
        out[i] = (p - ti) * inv_n
    return total * inv_n


def bce_with_logits_numba(logits, targets):
    """Same contract as :func:`bce_with_logits_numpy`, one compiled pass."""
    logits = np.asarray(logits)
    t = np.ascontiguousarray(np.broadcast_to(np.asarray(targets, logits.dtype), logits.shape))
    out = np.empty(logits.shape, logits.dtype)
    loss = _bce_with_logits_flat(np.ascontiguousarray(logits).reshape(-1), t.reshape(-1),
                                 out.reshape(-1))
    return float(loss), out


bce_with_logits = Kernel(bce_with_logits_numpy,
                         bce_with_logits_numba if _bce_with_logits_flat is not None else None)
