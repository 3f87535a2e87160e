"""An exponential moving average (EMA) of a model's weights.

A GAN's generator never settles: every step answers the discriminator's last
move, so its weights keep circling around a good solution.  Averaging them
over the last ~1 / (1 - decay) steps lands closer to the centre of that
circle, and samples drawn with the averaged weights are markedly cleaner
(Yazici et al. [1]_; ProGAN, StyleGAN and BigGAN all sample this way).  The
training itself is untouched: the average is a shadow copy that only
sampling uses.

After the t-th step (t = 1, 2, ...), for each parameter p and its shadow s::

    s <- s + r_t (p - s),        r_t = (1 - decay) / (1 - decay^t)

Once decay^t is small, r_t = 1 - decay and this is the textbook average
``s <- decay * s + (1 - decay) * p``.  The early steps take larger steps
(r_1 = 1: the shadow becomes the first trained weights), for the reason Adam
divides its moments by ``1 - beta^t``: the unrolled shadow is then exactly the
weighted mean of the weights after steps 1..t, step k weighing in
proportion to ``decay^(t-k)``.  Without the correction the shadow starts at
G's random initial weights and keeps a share ``decay^t`` of them: 74% after
300 steps at decay 0.999, 30% after 1,200, so a run's early samples would be
drawn from mostly untrained weights.

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
from tinygan.state import load_arrays, saved_scalar

COUNT = "updates"   # the update count's name in a state dict (parameters are "<i>.<name>")


class WeightAverage:
    """Shadow copies of ``model``'s trainable parameters, averaged step by step.

    Parameters
    ----------
    model : tinygan.model.Sequential
    decay : float in (0, 1)
        Weight of the old average in each update, once warmed up (see above).

    Attributes
    ----------
    shadows : list of ndarray
        The averaged weights, one per parameter of ``model``.
    updates : int or None
        Steps averaged so far, t in r_t (None: restored from an old checkpoint
        without the count; it then averages with r = 1 - decay).

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
        # Until the first update the "average" is the initial weights; the first
        # update replaces them (r_1 = 1).
        self.shadows = [p.value.copy() for p in self.params]
        self._groups = (ArrayGroup(self.shadows), ArrayGroup(p.value for p in self.params))
        # Updates so far (t).  None: unknown, for an average restored from a checkpoint
        # written before tinygan kept the count; it is treated as long warmed up.
        self.updates: int | None = 0

    def update(self):
        """Move every shadow the bias-corrected step r_t of the way to its parameter."""
        if self.updates is None:
            rate = 1.0 - self.decay
        else:
            self.updates += 1
            rate = (1.0 - self.decay) / (1.0 - self.decay ** self.updates)
        ema_update_all(*self._groups, rate)

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
        """The shadows by parameter name (``"<i>.<name>"``), and the update count."""
        state = {p.name: s for p, s in zip(self.params, self.shadows)}
        if self.updates is not None:
            state[COUNT] = np.array(self.updates, dtype=np.int64)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]):
        """Restore the shadows and the count.  A state without the count (a checkpoint
        from before it was kept) continues as a fully warmed-up average, as it ran."""
        state = dict(state)
        count = state.pop(COUNT, None)
        if count is not None:
            count = saved_scalar(count, COUNT, owner="weight average")
        load_arrays({p.name: s for p, s in zip(self.params, self.shadows)}, state,
                    "weight average")
        self.updates = count

