"""Hooks into the training loop: subclass :class:`Callback`, pass it to ``Trainer``.

The metrics of :mod:`tinygan.metrics` plug in this way
(:class:`tinygan.metrics.callback.MetricsCallback`), so the loop itself knows
nothing about classifiers or Frechet distances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotations: training.py imports this module
    from tinygan.training import TrainResult, Trainer


class Callback:
    """Hooks into :meth:`Trainer.fit`; override the ones you need.

    ``on_eval`` runs every ``config.eval_every`` iterations; the numbers it
    returns go into that iteration's row of ``history.csv`` (and so can be
    plotted).  ``trainer.save_checkpoint(path)`` and ``trainer.generate(z)``
    are there for callbacks that keep a best model or draw samples.
    """

    def on_train_begin(self, trainer: Trainer):
        pass

    def on_step_end(self, trainer: Trainer, iteration: int, stats: dict):
        pass

    def on_eval(self, trainer: Trainer, iteration: int) -> dict | None:
        return None

    def on_train_end(self, trainer: Trainer, result: TrainResult):
        pass
