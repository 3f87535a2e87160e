"""The seed architectures, ready to train.

Each preset returns ``(G, D)``: two :class:`~tinygan.model.Sequential` models.
D always ends in a single *logit*; its sigmoid is fused into the loss.
"""

from __future__ import annotations

import numpy as np

from tinygan.layers import BatchNorm, Dense, LeakyReLU, Sigmoid
from tinygan.model import Sequential


def mnist_mlp(latent_dim: int = 100, *, rng=None, dtype=np.float32):
    """The MLP GAN of the classic Keras MNIST tutorial.

    ::

        G: z (latent_dim) -> Dense 256  -> LeakyReLU(0.2) -> BatchNorm
                          -> Dense 512  -> LeakyReLU(0.2) -> BatchNorm
                          -> Dense 1024 -> LeakyReLU(0.2) -> BatchNorm
                          -> Dense 784  -> Sigmoid          (images in [0, 1])
        D: x (784)        -> Dense 512  -> LeakyReLU(0.2)
                          -> Dense 256  -> LeakyReLU(0.2)
                          -> Dense 1                        (logit)

    With ``latent_dim=100``: G has 1,493,520 values (1,489,936 trainable plus
    3,584 BatchNorm statistics), D has 533,505.
    """
    rng = np.random.default_rng(rng)
    g_layers, width = [], latent_dim
    for out in (256, 512, 1024):
        g_layers += [Dense(width, out, rng=rng, dtype=dtype), LeakyReLU(0.2),
                     BatchNorm(out, momentum=0.8, dtype=dtype)]
        width = out
    G = Sequential(*g_layers, Dense(width, 784, rng=rng, dtype=dtype), Sigmoid())
    D = Sequential(Dense(784, 512, rng=rng, dtype=dtype), LeakyReLU(0.2),
                   Dense(512, 256, rng=rng, dtype=dtype), LeakyReLU(0.2),
                   Dense(256, 1, rng=rng, dtype=dtype))
    return G, D


def toy_mlp(latent_dim: int = 2, hidden: int = 128, *, data_dim: int = 2, rng=None,
            dtype=np.float32):
    """A small G/D pair for 2-D data (the ring and grid mixtures).

    ::

        G: z (latent_dim) -> Dense h -> LeakyReLU -> Dense h -> LeakyReLU -> Dense 2
        D: x (2)          -> Dense h -> LeakyReLU -> Dense h -> LeakyReLU -> Dense 1
    """
    rng = np.random.default_rng(rng)

    def mlp(n_in, n_out):
        return Sequential(Dense(n_in, hidden, rng=rng, dtype=dtype), LeakyReLU(0.2),
                          Dense(hidden, hidden, rng=rng, dtype=dtype), LeakyReLU(0.2),
                          Dense(hidden, n_out, rng=rng, dtype=dtype))

    return mlp(latent_dim, data_dim), mlp(data_dim, 1)
