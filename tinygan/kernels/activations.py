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

Why the NumPy twins of LeakyReLU avoid ``np.where``: ``np.where(x > 0, x, a*x)``
is the textbook line, but NumPy runs it as a loop with a branch per element,
and on the random signs of a hidden layer the CPU mispredicts half of them.
On a 64 x 1024 float32 array it costs ~20x more than ``np.maximum(x, a*x)``,
which gives the same numbers for 0 <= a <= 1 without a single branch.

The numba twins write one loop per formula: one pass over memory, no
temporaries.  Inside them ``alpha`` is cast to the array's dtype so float32
stays float32 (a Python float would promote every product to float64).
"""

import numpy as np

from tinygan.backend import Kernel, jit


# -- LeakyReLU (ReLU is alpha = 0) -----------------------------------------------------
def leaky_relu_forward_numpy(x, alpha):
    """y = x where x > 0, alpha * x elsewhere (alpha = 0 gives ReLU).

    Same as ``np.where(x > 0, x, alpha * x)``; for 0 <= alpha <= 1 the larger of
    x and alpha * x is exactly that, and ``np.maximum`` has no branches.
    """
    a = x.dtype.type(alpha)
    if 0 <= alpha <= 1:
        return np.maximum(x, x * a)
    return np.where(x > 0, x, x * a)


@jit
def leaky_relu_forward_numba(x, alpha):
    y = np.empty(x.shape, x.dtype)
    a = x.dtype.type(alpha)
    xf, yf = x.ravel(), y.reshape(-1)  # ravel: a view if contiguous, else one copy
    for i in range(xf.size):
        v = xf[i]
        yf[i] = v if v > 0 else a * v
    return y


def leaky_relu_backward_numpy(x, dy, alpha):
    """dx = dy where x > 0, alpha * dy elsewhere: the slope the forward used.

    Written as ``dy * slope`` with ``slope = max(x > 0, alpha)`` (the boolean
    counts as 1 where x > 0 and 0 elsewhere, so the slope is 1 or alpha) to stay
    branch-free like the forward.
    """
    a = dy.dtype.type(alpha)
    if 0 <= alpha <= 1:
        return dy * np.maximum(x > 0, a)
    return np.where(x > 0, dy, dy * a)


@jit
def leaky_relu_backward_numba(x, dy, alpha):
    if x.size != dy.size:  # numba does not check indices: refuse before the loop reads past x
        raise ValueError("leaky_relu_backward: x and dy must have the same shape")
    dx = np.empty(dy.shape, dy.dtype)
    a = dy.dtype.type(alpha)
    xf, dyf, dxf = x.ravel(), dy.ravel(), dx.reshape(-1)
    for i in range(dxf.size):
        dxf[i] = dyf[i] if xf[i] > 0 else a * dyf[i]
    return dx


# -- Sigmoid -----------------------------------------------------------------------------
def sigmoid_forward_numpy(x):
    """y = 1 / (1 + exp(-x)), written as 0.5 * (1 + tanh(x / 2)).

    The tanh form is the same function but never overflows: exp(-x) for
    x = -100 in float32 is inf, tanh(-50) is simply -1.
    """
    half = x.dtype.type(0.5)
    y = np.multiply(x, half)     # = half + half * tanh(half * x), computed in place
    np.tanh(y, out=y)            # in one array: the output is 64 x 784 for mnist_mlp's G,
    y *= half                    # and each temporary costs a pass over it
    y += half
    return y


@jit
def sigmoid_forward_numba(x):
    y = np.empty(x.shape, x.dtype)
    half = x.dtype.type(0.5)
    xf, yf = x.ravel(), y.reshape(-1)
    for i in range(xf.size):
        yf[i] = half + half * np.tanh(half * xf[i])
    return y


def sigmoid_backward_numpy(y, dy):
    """dx = dy * y * (1 - y), using the forward's *output* y."""
    return dy * y * (1 - y)


@jit
def sigmoid_backward_numba(y, dy):
    if y.size != dy.size:
        raise ValueError("sigmoid_backward: y and dy must have the same shape")
    dx = np.empty(dy.shape, dy.dtype)
    one = dy.dtype.type(1)
    yf, dyf, dxf = y.ravel(), dy.ravel(), dx.reshape(-1)
    for i in range(dxf.size):
        dxf[i] = dyf[i] * yf[i] * (one - yf[i])
    return dx


# -- Tanh --------------------------------------------------------------------------------
def tanh_forward_numpy(x):
    """y = tanh(x)."""
    return np.tanh(x)


def tanh_backward_numpy(y, dy):
    """dx = dy * (1 - y^2), using the forward's output y."""
    return dy * (1 - y * y)


@jit
def tanh_backward_numba(y, dy):
    if y.size != dy.size:
        raise ValueError("tanh_backward: y and dy must have the same shape")
    dx = np.empty(dy.shape, dy.dtype)
    one = dy.dtype.type(1)
    yf, dyf, dxf = y.ravel(), dy.ravel(), dx.reshape(-1)
    for i in range(dxf.size):
        dxf[i] = dyf[i] * (one - yf[i] * yf[i])
    return dx


leaky_relu_forward = Kernel(leaky_relu_forward_numpy, leaky_relu_forward_numba)
leaky_relu_backward = Kernel(leaky_relu_backward_numpy, leaky_relu_backward_numba)
# sigmoid_forward_numba is correct (tests hold it to the twin) but loses: without Intel's
# SVML numba calls the scalar libm tanh per element, while np.tanh is a SIMD loop.
# benchmarks/kernels.py shows both, and both backends use NumPy here.
sigmoid_forward = Kernel(sigmoid_forward_numpy)
sigmoid_backward = Kernel(sigmoid_backward_numpy, sigmoid_backward_numba)
# tanh itself: np.tanh is one SIMD pass already; a numba loop cannot beat it (see above).
tanh_forward = Kernel(tanh_forward_numpy)
tanh_backward = Kernel(tanh_backward_numpy, tanh_backward_numba)
