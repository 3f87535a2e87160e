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
"""

import numpy as np

from tinygan.backend import Kernel


def adam_update_numpy(p, g, m, v, lr, beta1, beta2, eps, t):
    """One Adam step on one parameter array, in place (``t`` is the 1-based step count)."""
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    p -= (lr * m_hat / (np.sqrt(v_hat) + eps)).astype(p.dtype, copy=False)


def sgd_update_numpy(p, g, velocity, lr, momentum):
    """One SGD step on one parameter array, in place."""
    if momentum:
        velocity *= momentum
        velocity += g
        g = velocity
    p -= (lr * g).astype(p.dtype, copy=False)


def bias_grad_numpy(dy):
    """db = sum of dy over the batch: every row added the same bias."""
    return dy.sum(axis=0)


adam_update = Kernel(adam_update_numpy)
sgd_update = Kernel(sgd_update_numpy)
bias_grad = Kernel(bias_grad_numpy)
