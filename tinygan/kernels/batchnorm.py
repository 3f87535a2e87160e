"""Batch normalisation over the batch axis of a (N, C) array.

Training mode normalises with the batch's own statistics::

    mean = x.mean(0)            var = x.var(0)           (biased, as Keras)
    inv_std = 1 / sqrt(var + eps)
    xhat = (x - mean) * inv_std
    y = gamma * xhat + beta

Every output row depends on every input row through ``mean`` and ``var``, so
the backward pass has two extra terms (derived step by step in lesson 04)::

    dxhat = dy * gamma
    dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))

Eval mode uses the running statistics, constants with respect to x, so the
backward is a plain per-feature scaling: ``dx = dy * gamma * inv_std``.
"""

import numpy as np

from tinygan.backend import Kernel


def batchnorm_train_forward_numpy(x, gamma, beta, eps):
    """Returns ``(y, xhat, mean, var, inv_std)``; the last four feed backward and the running stats."""
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, xhat, mean, var, inv_std


def batchnorm_train_backward_numpy(dy, xhat, gamma, inv_std):
    """Returns ``(dx, dgamma, dbeta)`` for the training-mode forward."""
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    n = dy.shape[0]
    # mean(dxhat) = gamma * dbeta / n and mean(dxhat * xhat) = gamma * dgamma / n
    dx = (gamma * inv_std) * (dy - dbeta / n - xhat * (dgamma / n))
    return dx, dgamma, dbeta


def batchnorm_eval_forward_numpy(x, gamma, beta, running_mean, running_var, eps):
    """Returns ``(y, xhat, inv_std)`` using the running statistics."""
    inv_std = 1 / np.sqrt(running_var + x.dtype.type(eps))
    xhat = (x - running_mean) * inv_std
    return gamma * xhat + beta, xhat, inv_std


def batchnorm_eval_backward_numpy(dy, xhat, gamma, inv_std):
    """Returns ``(dx, dgamma, dbeta)`` for the eval-mode forward."""
    return dy * (gamma * inv_std), (dy * xhat).sum(axis=0), dy.sum(axis=0)


batchnorm_train_forward = Kernel(batchnorm_train_forward_numpy)
batchnorm_train_backward = Kernel(batchnorm_train_backward_numpy)
batchnorm_eval_forward = Kernel(batchnorm_eval_forward_numpy)
batchnorm_eval_backward = Kernel(batchnorm_eval_backward_numpy)
