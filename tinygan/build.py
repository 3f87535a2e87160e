"""From a config, or a checkpoint, to a ready :class:`~tinygan.gan.GAN`.

``tinygan train`` builds its GAN here; ``tinygan sample`` and ``tinygan
evaluate`` rebuild one from a checkpoint without touching any data.
"""

from __future__ import annotations

import numpy as np

from tinygan.checkpoint import Checkpoint, CheckpointError, restore_gan
from tinygan.config import ConfigError, TrainConfig
from tinygan.gan import GAN
from tinygan.optim import Adam
from tinygan.recipes import ARCH_OPTIONS
from tinygan.registry import get_preset


def build_gan(config: TrainConfig, model_rng=None, gan_rng=None) -> GAN:
    """The GAN a (resolved) config describes: its preset, Adam optimizers, loss and noise."""
    c = config
    arch = {name: getattr(c, name) for name in ARCH_OPTIONS[c.preset]}
    G, D = get_preset(c.preset).build(c.latent_dim, rng=model_rng, dtype=np.dtype(c.dtype),
                                      **arch)
    return GAN(G, D, latent_dim=c.latent_dim,
               g_optimizer=Adam(G.parameters(), lr=c.lr, beta1=c.beta1, beta2=c.beta2),
               d_optimizer=Adam(D.parameters(), lr=c.lr, beta1=c.beta1, beta2=c.beta2),
               loss=c.loss, noise=c.noise, d_steps=c.d_steps, label_smoothing=c.label_smoothing,
               d_half_batch=c.d_half_batch, pack=c.pack, feature_matching=c.feature_matching,
               g_batch_scale=c.g_batch_scale, d_eval_in_g_step=c.d_eval_in_g_step,
               codes=c.codes, info_weight=c.info_weight, ema=c.ema, rng=gan_rng)


def load_gan(ckpt: Checkpoint) -> tuple[GAN, TrainConfig]:
    """The GAN saved in a checkpoint, rebuilt from its config (no data needed)."""
    try:
        config = TrainConfig.from_dict(ckpt.config).resolved()
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{ckpt.path}: its config is not usable ({exc})") from None
    gan = build_gan(config)
    restore_gan(ckpt, gan)
    return gan, config
