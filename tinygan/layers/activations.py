"""Activation layers: element-wise functions with no parameters.

The formulas live in :mod:`tinygan.kernels.activations`; these classes decide
what to remember between forward and backward.
"""

import math

from tinygan.kernels import (leaky_relu_backward, leaky_relu_forward, sigmoid_backward,
                             sigmoid_forward, tanh_backward, tanh_forward)
from tinygan.layers.base import Layer


class LeakyReLU(Layer):
    """``y = x`` for x > 0, ``alpha * x`` otherwise; keeps a small gradient for x < 0.

    Backward: ``dx = dy * (1 if x > 0 else alpha)``, so it caches the input x.
    """

    def __init__(self, alpha: float = 0.2):
        super().__init__()
        self.alpha = float(alpha)
        if not math.isfinite(self.alpha):
            raise ValueError(f"LeakyReLU: alpha must be a finite number (the slope for x < 0, "
                             f"0.2 in the MNIST models), got {alpha!r}")

    def forward(self, x):
        x = self._check_float(x)
        return self._remember(x, leaky_relu_forward(x, self.alpha))

    def backward(self, dy, input_grad=True):
        return leaky_relu_backward(self._take_cache(dy), dy, self.alpha)

    def __repr__(self):
        return f"LeakyReLU({self.alpha:g})"


class ReLU(LeakyReLU):
    """``y = max(x, 0)``: LeakyReLU with slope 0, so units with x < 0 get no gradient at all."""

    def __init__(self):
        super().__init__(alpha=0.0)

    def __repr__(self):
        return "ReLU()"


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))`` in (0, 1); backward ``dx = dy * y * (1 - y)`` caches y."""

    def forward(self, x):
        y = sigmoid_forward(self._check_float(x))
        return self._remember(y, y)

    def backward(self, dy, input_grad=True):
        return sigmoid_backward(self._take_cache(dy), dy)


class Tanh(Layer):
    """``y = tanh(x)`` in (-1, 1); backward ``dx = dy * (1 - y^2)`` caches y."""

    def forward(self, x):
        y = tanh_forward(self._check_float(x))
        return self._remember(y, y)

    def backward(self, dy, input_grad=True):
        return tanh_backward(self._take_cache(dy), dy)
