"""An exponential moving average (EMA) of a model's weights.

A GAN's generator never settles: every step answers the discriminator's last
move, so its weights keep circling around a good solution.  Averaging them
over the last ~1 / (1 - decay) steps lands closer to the centre of that
circle, and samples drawn with the averaged weights are markedly cleaner
(Yazici et al. [1]_; ProGAN, StyleGAN and BigGAN all sample this way).  The
training itself is untouched: the average is a shadow copy that only
sampling uses.

After every step, for each parameter p and its shadow s::

    s <- decay * s + (1 - decay) * p

With ``decay = 0.999`` the shadow is a weighted mean over roughly the last
1,000 steps.  BatchNorm's running statistics cannot be averaged the same way:
they describe the activations of the *live* weights, and the averaged weights
produce different ones (sampling with the live statistics measured worse than
no average at all: Frechet 35x the floor against 15x).  So before sampling,
:meth:`WeightAverage.applied` re-estimates them: one forward pass of the
averaged generator in training mode over a fixed calibration batch, with each
BatchNorm's momentum at 0, sets every running mean and variance to that
batch's statistics (7x with the average and re-estimated statistics).

.. [1] Y. Yazici, C.-S. Foo, S. Winkler, K.-H. Yap, G. Piliouras and
   V. Chandrasekhar, "The Unusual Effectiveness of Averaging in GAN Training",
   ICLR 2019.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from tinygan.kernels import ArrayGroup, ema_update_all
from tinygan.state import load_arrays


class WeightAverage:
    """Shadow copies of ``model``'s trainable parameters, averaged step by step.

    Parameters
    ----------
    model : tinygan.model.Sequential
    decay : float in (0, 1)
        Weight of the old average in each update.

    Examples
    --------
    >>> avg = WeightAverage(G, 0.999)
    >>> for step in range(n):
    ...     gan.train_step(batch)
    ...     avg.update()
    >>> with avg.applied(z_calib):   # G holds the averaged weights
    ...     images = G.eval().forward(z)
    """

    def __init__(self, model, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"the weight average's decay must be in (0, 1), got {decay!r}")
        self.model, self.decay = model, float(decay)
        self.params = model.parameters()
        # The average starts at the initial weights.
        self.shadows = [p.value.copy() for p in self.params]
        self._groups = (ArrayGroup(self.shadows), ArrayGroup(p.value for p in self.params))

    def update(self):
        """Move every shadow a step of (1 - decay) towards its parameter."""
        ema_update_all(*self._groups, self.decay)

    @contextmanager
    def applied(self, calibration: np.ndarray | None = None):
        """``with avg.applied(z):`` the model holds the averaged weights.

        With a ``calibration`` input batch, BatchNorm running statistics are
        re-estimated for those weights from it.  Weights and statistics are
        the model's own again after the block.
        """
        saved = {k: v.copy() for k, v in self.model.state_dict().items()}
        for p, s in zip(self.params, self.shadows):
            p.value[...] = s
        try:
            if calibration is not None:
                self._recalibrate(calibration)
            yield self.model
        finally:
            self.model.load_state_dict(saved)

    def _recalibrate(self, x: np.ndarray):
        """Running statistics of every BatchNorm := those of this forward pass of ``x``."""
        norms = [layer for layer in self.model if "running_mean" in layer.buffers]
        before = [(n.training, n.trainable, n.momentum) for n in norms]
        for n in norms:
            # training: batch statistics; trainable: record them; momentum 0: keep only them
            n.training, n.trainable, n.momentum = True, True, 0.0
        try:
            self.model.forward(x)
        finally:
            for n, (training, trainable, momentum) in zip(norms, before):
                n.training, n.trainable, n.momentum = training, trainable, momentum

    # -- checkpoints ---------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        return {p.name: s for p, s in zip(self.params, self.shadows)}

    def load_state_dict(self, state: dict[str, np.ndarray]):
        load_arrays(self.state_dict(), state, "weight average")
