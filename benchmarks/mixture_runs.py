"""Train a GAN on a 2-D mixture with one recipe and score it (used by quality.py)."""

from __future__ import annotations

import time

import numpy as np

from tinygan import GAN
from tinygan.datasets import get_mixture
from tinygan.metrics import mode_coverage
from tinygan.optim import Adam, linear_decay
from tinygan.presets import mixture_mlp

# What every recipe starts from; a recipe overrides some of these.
BASE = dict(latent_dim=2, hidden=128, depth=2, batch_size=256, lr=1e-3, beta1=0.5,
            iterations=6000, lr_final=0.1, pack=1, minibatch_std=False, feature_matching=False,
            label_smoothing=0.0, d_steps=1, g_alpha=0.2, beta2=0.999, decay_start=0.5, ema=0.0,
            noise="normal")


def train_mixture(dataset: str, seed: int = 0, **recipe) -> dict:
    """Train on ``dataset`` ("ring" or "grid") and return mode coverage of 2,500 samples.

    The learning rate decays linearly from ``lr`` to ``lr * lr_final`` from step
    ``decay_start * iterations`` to the end (default: the second half): late small
    steps sharpen the modes.  ``beta2`` is Adam's for both networks; ``noise`` is
    the GAN's ("normal" or "uniform").  ``ema`` > 0 keeps an exponential moving
    average of G's weights, ``w_ema <- w_ema + (1 - ema) (w - w_ema)`` after every
    step, and samples from it (0: off, the last weights).
    """
    r = {**BASE, **recipe}
    unknown = set(recipe) - set(BASE)
    if unknown:
        raise ValueError(f"unknown recipe keys {sorted(unknown)}")
    mixture = get_mixture(dataset)
    rng = np.random.default_rng(seed)
    G, D = mixture_mlp(r["latent_dim"], r["hidden"], depth=r["depth"], pack=r["pack"],
                       minibatch_std=r["minibatch_std"], g_alpha=r["g_alpha"], rng=rng)
    g_opt = Adam(G.parameters(), lr=r["lr"], beta1=r["beta1"], beta2=r["beta2"])
    d_opt = Adam(D.parameters(), lr=r["lr"], beta1=r["beta1"], beta2=r["beta2"])
    gan = GAN(G, D, latent_dim=r["latent_dim"], g_optimizer=g_opt, d_optimizer=d_opt,
              pack=r["pack"], feature_matching=r["feature_matching"],
              label_smoothing=r["label_smoothing"], d_steps=r["d_steps"], noise=r["noise"],
              rng=rng)
    n, b = r["iterations"], r["batch_size"]
    t0, c0 = time.perf_counter(), time.process_time()
    params = G.parameters()
    shadow = [p.value.copy() for p in params] if r["ema"] else None
    for it in range(n):
        g_opt.lr = d_opt.lr = r["lr"] * linear_decay(it, n, r["lr_final"], r["decay_start"])
        gan.train_step(lambda: mixture.sample(b, rng))
        if shadow is not None:
            for s, p in zip(shadow, params):
                s += (1 - r["ema"]) * (p.value - s)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if shadow is not None:
        for s, p in zip(shadow, params):
            p.value[...] = s
    samples = gan.sample(2500, rng=np.random.default_rng(10_000 + seed))
    if not np.all(np.isfinite(samples)):
        return {"modes": 0, "n_modes": mixture.n_modes, "high_quality": 0.0,
                "reverse_kl": float(np.log(mixture.n_modes)), "seconds": seconds,
                "cpu_seconds": cpu, "diverged": True}
    return {**mode_coverage(samples, mixture), "seconds": seconds, "cpu_seconds": cpu}
