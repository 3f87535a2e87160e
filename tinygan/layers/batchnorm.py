"""Batch normalisation (Ioffe and Szegedy, 2015) with Keras's momentum convention."""

from __future__ import annotations

import numpy as np

from tinygan.kernels import (batchnorm_eval_backward, batchnorm_eval_forward,
                             batchnorm_train_backward, batchnorm_train_forward, running_average)
from tinygan.layers.base import Layer


class BatchNorm(Layer):
    """Normalise each feature over the batch, then scale and shift.

    ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` for input (N, C).
    For images (N, C, H, W) each *channel* is one feature, normalised over N, H
    and W (Keras's BatchNormalization on images, PyTorch's BatchNorm2d): the
    input is viewed as (N*H*W, C) and the same 2-D computation runs.

    * ``training=True``: mean and var are the batch's own; the running averages
      are updated as ``running = momentum * running + (1 - momentum) * batch``
      (the Keras convention: ``momentum=0.8`` keeps 80% of the old value).
    * ``training=False`` (eval): the running averages are used instead, so a
      sample no longer depends on the rest of its batch.
    * ``trainable=False``: gradients still flow to x, but gamma, beta and the
      running statistics stay exactly as they are.

    ``backward`` follows whichever mode ``forward`` ran in; the formulas are in
    :mod:`tinygan.kernels.batchnorm` and derived in lesson 04.

    Parameters
    ----------
    num_features : int
        C, the width of the input.
    momentum : float, default 0.8
    eps : float, default 1e-3
        Added to the variance before the square root (Keras's default).
    dtype : numpy dtype, default float32

    Notes
    -----
    The running variance is the biased batch variance, as in Keras.
    """

    def __init__(self, num_features: int, *, momentum: float = 0.8, eps: float = 1e-3,
                 dtype=np.float32):
        super().__init__()
        if int(num_features) != num_features or num_features < 1:
            raise ValueError(f"BatchNorm: num_features must be a positive integer (the width of "
                             f"the input), got {num_features!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"BatchNorm momentum must be in [0, 1), got {momentum}")
        if not 0.0 < eps < float("inf"):
            raise ValueError(f"BatchNorm eps must be a positive number (it keeps 1 / sqrt(var + "
                             f"eps) finite for a constant feature), got {eps}")
        self.num_features = int(num_features)
        self.momentum, self.eps = float(momentum), float(eps)
        self._add_param("gamma", np.ones(self.num_features, dtype=dtype))
        self._add_param("beta", np.zeros(self.num_features, dtype=dtype))
        self.buffers["running_mean"] = np.zeros(self.num_features, dtype=dtype)
        self.buffers["running_var"] = np.ones(self.num_features, dtype=dtype)

    @property
    def running_mean(self):
        return self.buffers["running_mean"]

    @property
    def running_var(self):
        return self.buffers["running_var"]

    def forward(self, x):
        if getattr(x, "ndim", None) == 4:  # NCHW -> (N*H*W, C): one row per pixel
            self._check_input(x, self.num_features, ndims=(4,))
            n, c, h, w = x.shape
            y, cache = self._forward_rows(x.transpose(0, 2, 3, 1).reshape(n * h * w, c))
            y = np.ascontiguousarray(y.reshape(n, h, w, c).transpose(0, 3, 1, 2))
        else:
            self._check_input(x, self.num_features)
            y, cache = self._forward_rows(x)
        return self._remember(cache, y)

    def _forward_rows(self, x):
        """The 2-D computation on (rows, C): ``(y, what backward needs)``."""
        gamma, beta = self.params["gamma"], self.params["beta"]
        if x.dtype != gamma.dtype:  # compute in the layer's own dtype, as Dense does
            x = x.astype(gamma.dtype)
        if self.training:
            if x.shape[0] < 2:
                raise ValueError(f"{self!r} in training mode needs a batch of at least 2 "
                                 f"(got {x.shape[0]}): batch statistics of one sample are "
                                 "meaningless. Call eval() to use the running statistics.")
            y, xhat, mean, var, inv_std = batchnorm_train_forward(x, gamma, beta, self.eps)
            if self.trainable:  # a frozen layer changes nothing in itself
                running_average(self.running_mean, mean, self.momentum)
                running_average(self.running_var, var, self.momentum)
        else:
            y, xhat, inv_std = batchnorm_eval_forward(x, gamma, beta, self.running_mean,
                                                      self.running_var, self.eps)
        return y, (self.training, xhat, inv_std)

    def backward(self, dy, input_grad=True):
        trained, xhat, inv_std = self._take_cache(dy)
        image = dy.ndim == 4
        if image:  # the same pixel-per-row view as forward
            n, c, h, w = dy.shape
            dy = dy.transpose(0, 2, 3, 1).reshape(n * h * w, c)
        step = batchnorm_train_backward if trained else batchnorm_eval_backward
        dx, dgamma, dbeta = step(dy, xhat, self.params["gamma"], inv_std)
        if self.trainable:
            self._add_to_grad("gamma", dgamma)
            self._add_to_grad("beta", dbeta)
        if image:  # and back to NCHW
            dx = np.ascontiguousarray(dx.reshape(n, h, w, c).transpose(0, 3, 1, 2))
        return dx

    def __repr__(self):
        return f"BatchNorm({self.num_features})"
