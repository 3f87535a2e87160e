"""Binary cross-entropy computed straight from logits, with its gradient.

For a logit l and a target t in [0, 1], with p = sigmoid(l)::

    BCE(l, t) = -t log p - (1 - t) log(1 - p)
              = max(l, 0) - l * t + log(1 + exp(-|l|))      (stable form)
    dBCE/dl   = p - t

The naive form takes log(sigmoid(l)): for l = -200 the sigmoid underflows to 0
and the log is -inf.  The stable form never exponentiates a positive number, so
it stays finite for logits of any size (tested up to +-1e4).
"""

import numpy as np

from tinygan.backend import Kernel


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


bce_with_logits = Kernel(bce_with_logits_numpy)
