"""Minibatch standard deviation: let the discriminator see a whole batch at once.

A collapsed generator makes batches of near-identical samples.  A
discriminator that judges one sample at a time cannot notice that -- each
fake, alone, may look perfectly real.  This layer (Karras et al. 2018,
"Progressive Growing of GANs", section 3; a simpler cousin of the minibatch
discrimination of Salimans et al. 2016) appends one feature to every row: how
much the batch varies, averaged over features::

    mu_f  = (1/N) sum_i x_if                          per feature f, over the batch
    std_f = sqrt( (1/N) sum_i (x_if - mu_f)^2 + eps )
    s     = (1/F) sum_f std_f                          one number per batch
    y     = [x, s * ones(N, 1)]                        (N, F) -> (N, F + 1)

Real batches are diverse, collapsed fake batches are not: s tells them apart,
and the generator can only fool D on it by making its batches as varied as
the data.  D judges the real and the fake batch in separate forward passes
(see :meth:`tinygan.GAN.d_step`), so each batch gets its own s.

Backward, with ``dy`` (N, F + 1)::

    ds     = sum_i dy[i, F]                            s was copied to every row
    dx_if  = dy[i, f] + ds * (1/F) * (x_if - mu_f) / (N * std_f)

(The dependence of mu_f on x drops out: ``sum_i (x_if - mu_f) = 0``.)
"""

from __future__ import annotations

import numpy as np

from tinygan.layers.base import Layer


class MinibatchStd(Layer):
    """Append the batch's mean standard deviation as one extra feature.

    Parameters
    ----------
    in_features : int
        F, the width of the input; the output is F + 1 wide.
    eps : float
        Keeps the square root differentiable when a feature is constant.
    """

    def __init__(self, in_features: int, eps: float = 1e-8):
        super().__init__()
        if int(in_features) != in_features or in_features < 1:
            raise ValueError(f"MinibatchStd: in_features must be a positive integer, "
                             f"got {in_features!r}")
        if not 0.0 <= eps < float("inf"):
            raise ValueError(f"MinibatchStd: eps must be a number >= 0, got {eps}")
        self.in_features, self.eps = int(in_features), float(eps)

    def forward(self, x):
        self._check_input(x, self.in_features)
        if len(x) < 2:
            raise ValueError(f"{self!r} needs a batch of at least 2 samples (got {len(x)}): "
                             "the spread of one sample is meaningless")
        centred = x - x.mean(axis=0)
        std = np.sqrt((centred * centred).mean(axis=0) + self.eps)       # (F,)
        s = std.mean()
        return self._remember((centred, std),
                              np.concatenate([x, np.full((len(x), 1), s, dtype=x.dtype)], axis=1))

    def backward(self, dy, input_grad=True):
        centred, std = self._take_cache(dy)
        n, f = centred.shape
        ds = dy[:, f].sum()
        return dy[:, :f] + (ds / (f * n)) * centred / std

    def output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def __repr__(self):
        return f"MinibatchStd({self.in_features} -> {self.in_features + 1})"
