"""Inverted dropout (Srivastava et al., 2014), as Keras and PyTorch implement it."""

from __future__ import annotations

import numpy as np

from tinygan.layers.base import Layer


class Dropout(Layer):
    """Zero each value with probability ``rate`` in training mode; identity in eval mode.

    Training mode, with a fresh mask every forward pass::

        keep ~ Bernoulli(1 - rate)                 element-wise, drawn from ``self.rng``
        y  = x * keep / (1 - rate)                 "inverted": scaled up now, so that
        dx = dy * keep / (1 - rate)                eval mode needs no rescaling

    The expected value of y is x in both modes.  Backward uses the mask of the
    forward just before it.

    Dropout has no parameters, so ``trainable`` changes nothing here: a frozen
    Dropout in training mode still drops.  That matters in phase 2 of a GAN:
    Keras's combined model runs the frozen discriminator in training mode, so
    the generator is trained against a D *with* dropout -- and so is it here
    by default; ``GAN(d_eval_in_g_step=True)`` (the MNIST recipe) runs D in
    eval mode for G's step instead.

    Parameters
    ----------
    rate : float in [0, 1)
        Probability of dropping each value.
    rng : numpy.random.Generator or int, optional
        Source of the masks, kept as ``self.rng`` so that a checkpoint can save
        and restore its state (same seed, same masks).
    """

    def __init__(self, rate: float, *, rng=None):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.rng = np.random.default_rng(rng)

    def forward(self, x):
        if not self.training or self.rate == 0.0:
            return self._remember(True, x)  # no mask: backward passes dy through unchanged
        # Uniform draws in the input's precision (float32 draws are twice as fast).
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        u = self.rng.random(x.shape, dtype=dtype)
        scale = (u >= self.rate).astype(x.dtype)
        scale *= x.dtype.type(1.0 / (1.0 - self.rate))
        return self._remember(scale, x * scale)

    def backward(self, dy, input_grad=True):
        scale = self._take_cache(dy)
        return dy if scale is True else dy * scale

    def __repr__(self):
        return f"Dropout({self.rate:g})"
