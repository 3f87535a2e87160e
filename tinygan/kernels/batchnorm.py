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

The numba twins make two or three passes over the rows, each inner loop running
along a row (contiguous memory, so it vectorises).  Column sums are added row
after row in a fixed order -- the same order NumPy uses for ``sum(axis=0)`` --
so the result never depends on threads or timing.
"""

import numpy as np

from tinygan.backend import Kernel, jit


def batchnorm_train_forward_numpy(x, gamma, beta, eps):
    """Returns ``(y, xhat, mean, var, inv_std)``; the last four feed backward and the running stats."""
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, xhat, mean, var, inv_std


@jit
def batchnorm_train_forward_numba(x, gamma, beta, eps):
    n, c = x.shape
    mean = np.zeros(c, x.dtype)
    var = np.zeros(c, x.dtype)
    for i in range(n):                 # pass 1: column sums
        for j in range(c):
            mean[j] += x[i, j]
    mean /= x.dtype.type(n)
    for i in range(n):                 # pass 2: squared deviations (two-pass, like np.var)
        for j in range(c):
            d = x[i, j] - mean[j]
            var[j] += d * d
    var /= x.dtype.type(n)
    inv_std = x.dtype.type(1) / np.sqrt(var + x.dtype.type(eps))
    xhat = np.empty((n, c), x.dtype)
    y = np.empty((n, c), x.dtype)
    for i in range(n):                 # pass 3: normalise, scale, shift
        for j in range(c):
            h = (x[i, j] - mean[j]) * inv_std[j]
            xhat[i, j] = h
            y[i, j] = gamma[j] * h + beta[j]
    return y, xhat, mean, var, inv_std


def batchnorm_train_backward_numpy(dy, xhat, gamma, inv_std):
    """Returns ``(dx, dgamma, dbeta)`` for the training-mode forward."""
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    n = dy.shape[0]
    # mean(dxhat) = gamma * dbeta / n and mean(dxhat * xhat) = gamma * dgamma / n
    dx = (gamma * inv_std) * (dy - dbeta / n - xhat * (dgamma / n))
    return dx, dgamma, dbeta


@jit
def batchnorm_train_backward_numba(dy, xhat, gamma, inv_std):
    n, c = dy.shape
    _check_rows(dy, xhat, gamma, inv_std)
    dbeta = np.zeros(c, dy.dtype)
    dgamma = np.zeros(c, dy.dtype)
    for i in range(n):                 # pass 1: both column sums at once
        for j in range(c):
            dbeta[j] += dy[i, j]
            dgamma[j] += dy[i, j] * xhat[i, j]
    scale = gamma * inv_std
    mean_dy = dbeta / dy.dtype.type(n)
    mean_dyx = dgamma / dy.dtype.type(n)
    dx = np.empty((n, c), dy.dtype)
    for i in range(n):                 # pass 2: dx
        for j in range(c):
            dx[i, j] = scale[j] * (dy[i, j] - mean_dy[j] - xhat[i, j] * mean_dyx[j])
    return dx, dgamma, dbeta


@jit
def _check_rows(dy, xhat, gamma, inv_std):
    """numba does not check indices: a dy unlike the forward's xhat must stop here."""
    n, c = dy.shape
    if xhat.shape[0] != n or xhat.shape[1] != c or gamma.size != c or inv_std.size != c:
        raise ValueError("batchnorm backward: dy must have the shape of the forward's output")


def batchnorm_eval_forward_numpy(x, gamma, beta, running_mean, running_var, eps):
    """Returns ``(y, xhat, inv_std)`` using the running statistics."""
    inv_std = 1 / np.sqrt(running_var + x.dtype.type(eps))
    xhat = (x - running_mean) * inv_std
    return gamma * xhat + beta, xhat, inv_std


@jit
def batchnorm_eval_forward_numba(x, gamma, beta, running_mean, running_var, eps):
    n, c = x.shape
    inv_std = x.dtype.type(1) / np.sqrt(running_var + x.dtype.type(eps))
    xhat = np.empty((n, c), x.dtype)
    y = np.empty((n, c), x.dtype)
    for i in range(n):
        for j in range(c):
            h = (x[i, j] - running_mean[j]) * inv_std[j]
            xhat[i, j] = h
            y[i, j] = gamma[j] * h + beta[j]
    return y, xhat, inv_std


def batchnorm_eval_backward_numpy(dy, xhat, gamma, inv_std):
    """Returns ``(dx, dgamma, dbeta)`` for the eval-mode forward."""
    return dy * (gamma * inv_std), (dy * xhat).sum(axis=0), dy.sum(axis=0)


@jit
def batchnorm_eval_backward_numba(dy, xhat, gamma, inv_std):
    n, c = dy.shape
    _check_rows(dy, xhat, gamma, inv_std)
    scale = gamma * inv_std
    dx = np.empty((n, c), dy.dtype)
    dbeta = np.zeros(c, dy.dtype)
    dgamma = np.zeros(c, dy.dtype)
    for i in range(n):
        for j in range(c):
            g = dy[i, j]
            dx[i, j] = scale[j] * g
            dbeta[j] += g
            dgamma[j] += g * xhat[i, j]
    return dx, dgamma, dbeta


def running_average_numpy(average, value, momentum):
    """In place: ``average = momentum * average + (1 - momentum) * value`` (Keras's convention).

    What training-mode BatchNorm does to its running mean and variance after
    every batch, so that eval mode has statistics of the whole data to use.
    """
    average *= momentum
    average += (1 - momentum) * value


@jit
def running_average_numba(average, value, momentum):
    m, c = average.dtype.type(momentum), average.dtype.type(1 - momentum)
    for j in range(average.size):
        average[j] = m * average[j] + c * value[j]


batchnorm_train_forward = Kernel(batchnorm_train_forward_numpy, batchnorm_train_forward_numba)
batchnorm_train_backward = Kernel(batchnorm_train_backward_numpy, batchnorm_train_backward_numba)
batchnorm_eval_forward = Kernel(batchnorm_eval_forward_numpy, batchnorm_eval_forward_numba)
batchnorm_eval_backward = Kernel(batchnorm_eval_backward_numpy, batchnorm_eval_backward_numba)
running_average = Kernel(running_average_numpy, running_average_numba)
