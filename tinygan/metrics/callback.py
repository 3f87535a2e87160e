"""Measure while training: ``tinygan train --eval-every N``.

Convergence of a GAN is fleeting: a run can reach its best samples and then
drift or collapse.  :class:`MetricsCallback` scores the generator every
``eval_every`` iterations, puts the numbers into ``history.csv`` (so they can
be plotted next to the losses) and keeps the best generator so far as
``best.npz`` beside the latest checkpoint:

* images: the lowest Frechet distance to the real data's classifier features;
* 2-D mixtures: the most modes covered, then the lowest reverse KL.

Samples come from one fixed noise seed, so successive evaluations differ only
because the generator changed.
"""

from __future__ import annotations

import math

from tinygan.callbacks import Callback

IMAGE_KEYS = ("modes_present", "kl_uniform", "classifier_score", "confident", "frechet",
              "frechet_ratio")
MIXTURE_KEYS = ("modes", "high_quality", "reverse_kl")


class MetricsCallback(Callback):
    """Evaluate every ``config.eval_every`` iterations; keep ``best.npz``.

    Parameters
    ----------
    n : int, optional
        Samples per evaluation: default 5,000 for images (half the 10,000 of
        ``tinygan evaluate``, to keep training fast) and 2,500 for mixtures.
    seed : int
        Noise seed of the evaluation samples.
    """

    def __init__(self, n: int | None = None, seed: int = 0):
        self.n, self.seed = n, seed
        self.reference = None
        self.best = None          # (key, iteration); a smaller key is better

    def on_train_begin(self, trainer):
        if trainer.spec.data == "image" and self.reference is None:
            from tinygan.metrics.evaluate import real_reference
            self.reference = real_reference(trainer.config.dataset)
        if self.best is None and (trainer.out / "best.npz").exists():
            self.best = self._best_in(trainer.history)   # a resumed run: beat *that* one

    @staticmethod
    def _key(m: dict) -> tuple:
        """Smaller is better: the Frechet distance for images; for mixtures the most
        modes covered, then the lowest reverse KL."""
        return (m["frechet"],) if "frechet" in m else (-m["modes"], m["reverse_kl"])

    @classmethod
    def _best_in(cls, history):
        """``(key, iteration)`` of the best evaluation ``history`` holds (None without any)."""
        found = []
        for row in history.rows:
            m = {k[len("eval_"):]: v for k, v in row.items()
                 if k.startswith("eval_") and v is not None and math.isfinite(v)}
            if "frechet" in m or {"modes", "reverse_kl"} <= m.keys():
                found.append((cls._key(m), row["iteration"]))
        return min(found, default=None)

    def on_eval(self, trainer, iteration: int) -> dict | None:
        from tinygan.cli.evaluate import evaluate_gan
        c = trainer.config
        try:
            m = evaluate_gan(trainer.gan, c.dataset, c.preset, self.n or (
                5_000 if trainer.spec.data == "image" else 2_500), self.seed, self.reference)
        except FloatingPointError:
            return None            # the NaN check of the training loop reports this
        keys = IMAGE_KEYS if "frechet" in m else MIXTURE_KEYS
        key = self._key(m)
        if self.best is None or key < self.best[0]:
            self.best = (key, iteration)
            trainer.save_checkpoint(trainer.out / "best.npz")
        return {f"eval_{k}": float(m[k]) for k in keys}

    def on_train_end(self, trainer, result):
        """Plot every ``eval_*`` column of the history into ``metrics.png``."""
        from tinygan.plots import _figure, _save
        columns = [c for c in trainer.history.columns() if c.startswith("eval_")]
        series = {c: trainer.history.series(c) for c in columns}
        series = {c: s for c, s in series.items() if s[0]}
        if not series:
            return
        fig = _figure(4.0 * len(series), 3.0, wspace=0.35, left=0.08, bottom=0.16)
        for i, (column, (its, values)) in enumerate(series.items()):
            ax = fig.add_subplot(1, len(series), i + 1)
            ax.plot(its, values, "o-", ms=3)
            ax.set_title(column[len("eval_"):].replace("_", " "))
            ax.set_xlabel("iteration")
        if self.best is not None:
            fig.suptitle(f"best.npz: iteration {self.best[1]:,}")
        _save(fig, trainer.out / "metrics.png")
