"""Softmax cross-entropy from logits: the loss of the evaluation classifier.

For logits ``l`` of shape (N, K) and integer labels ``y`` (N,)::

    p_ik   = softmax(l_i)_k = exp(l_ik - max_k l_ik) / sum_j exp(l_ij - max_k l_ik)
    loss   = -(1/N) sum_i log p_{i, y_i}
           = (1/N) sum_i [ logsumexp(l_i) - l_{i, y_i} ]
    dl_ik  = (p_ik - [k == y_i]) / N

Subtracting the row maximum before exponentiating changes nothing
mathematically (it cancels in the ratio) but keeps ``exp`` from overflowing:
the largest exponent is exactly 0.  The gradient has the same shape as the
binary one in :mod:`tinygan.losses` -- prediction minus target -- because the
softmax and the log cancel each other's derivatives.
"""

from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``log softmax`` along the last axis, computed without overflow."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities along the last axis; each row sums to 1."""
    return np.exp(log_softmax(logits))


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy of integer ``labels`` under ``softmax(logits)``, and its gradient.

    Parameters
    ----------
    logits : ndarray, shape (N, K)
    labels : ndarray of int, shape (N,), values in 0..K-1

    Returns
    -------
    loss : float
    dlogits : ndarray, shape (N, K), dtype of ``logits``
        ``(softmax(logits) - onehot(labels)) / N``.
    """
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    if logits.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be (N, K), got shape {logits.shape}")
    n, k = logits.shape
    if labels.shape != (n,):
        raise ValueError(f"softmax_cross_entropy: labels must have shape ({n},) to match the "
                         f"logits, got {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"softmax_cross_entropy: labels must be in 0..{k - 1}, got values "
                         f"{labels.min()}..{labels.max()}")
    logp = log_softmax(logits)
    rows = np.arange(n)
    loss = float(-logp[rows, labels].astype(np.float64).sum() / n)
    d = np.exp(logp)
    d[rows, labels] -= 1.0
    return loss, (d / n).astype(logits.dtype, copy=False)
