"""Element-wise activations and their derivatives.

Forward and backward sit side by side.  The backward of each activation needs
only what its forward saw or produced:

=========  ==========================  =====================================
name       forward                     backward (dx = dy * f'(x))
=========  ==========================  =====================================
LeakyReLU  y = x if x > 0 else a*x     dx = dy if x > 0 else a*dy
Sigmoid    y = 1 / (1 + exp(-x))       dx = dy * y * (1 - y)
Tanh       y = tanh(x)                 dx = dy * (1 - y**2)
=========  ==========================  =====================================
"""

import numpy as np

from tinygan.backend import Kernel


def leaky_relu_forward_numpy(x, alpha):
    """y = x where x > 0, alpha * x elsewhere (alpha = 0 gives ReLU)."""
    return np.where(x > 0, x, x * x.dtype.type(alpha))


def leaky_relu_backward_numpy(x, dy, alpha):
    """dx = dy where x > 0, alpha * dy elsewhere: the slope the forward used."""
    return np.where(x > 0, dy, dy * dy.dtype.type(alpha))


def sigmoid_forward_numpy(x):
    """y = 1 / (1 + exp(-x)), written as 0.5 * (1 + tanh(x / 2)).

    The tanh form is the same function but never overflows: exp(-x) for
    x = -100 in float32 is inf, tanh(-50) is simply -1.
    """
    half = x.dtype.type(0.5)
    return half + half * np.tanh(half * x)


def sigmoid_backward_numpy(y, dy):
    """dx = dy * y * (1 - y), using the forward's *output* y."""
    return dy * y * (1 - y)


def tanh_forward_numpy(x):
    """y = tanh(x)."""
    return np.tanh(x)


def tanh_backward_numpy(y, dy):
    """dx = dy * (1 - y^2), using the forward's output y."""
    return dy * (1 - y * y)


leaky_relu_forward = Kernel(leaky_relu_forward_numpy)
leaky_relu_backward = Kernel(leaky_relu_backward_numpy)
sigmoid_forward = Kernel(sigmoid_forward_numpy)
sigmoid_backward = Kernel(sigmoid_backward_numpy)
tanh_forward = Kernel(tanh_forward_numpy)
tanh_backward = Kernel(tanh_backward_numpy)
