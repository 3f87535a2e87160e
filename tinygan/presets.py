"""The seed architectures, ready to train.

Each preset returns ``(G, D)``: two :class:`~tinygan.model.Sequential` models.
D always ends in a single *logit*; its sigmoid is fused into the loss.
"""

from __future__ import annotations

import numpy as np

from tinygan.layers import (BatchNorm, Conv2D, Dense, Dropout, Flatten, LeakyReLU, ReLU, Reshape,
                            Sigmoid, Tanh, UpSampling2D)
from tinygan.model import Sequential


def mnist_mlp(latent_dim: int = 100, *, pack: int = 1, minibatch_std: bool = False,
              d_dropout: float = 0.0, codes: int = 0, rng=None, dtype=np.float32):
    """The MLP GAN of the classic Keras MNIST tutorial.

    ::

        G: z (latent_dim) -> Dense 256  -> LeakyReLU(0.2) -> BatchNorm
                          -> Dense 512  -> LeakyReLU(0.2) -> BatchNorm
                          -> Dense 1024 -> LeakyReLU(0.2) -> BatchNorm
                          -> Dense 784  -> Sigmoid          (images in [0, 1])
        D: x (784)        -> Dense 512  -> LeakyReLU(0.2)
                          -> Dense 256  -> LeakyReLU(0.2)
                          -> Dense 1                        (logit)

    With ``latent_dim=100`` and the other defaults: G has 1,493,520 values
    (1,489,936 trainable plus 3,584 BatchNorm statistics), D has 533,505.

    The discriminator-side remedies for mode collapse (see
    :mod:`tinygan.recipes` for what each buys) change only D:

    pack : int
        PacGAN: D reads ``pack`` images side by side, (pack * 784) inputs; train
        with ``GAN(..., pack=pack)``.
    minibatch_std : bool
        Put :class:`~tinygan.layers.minibatch.MinibatchStd` before D's first layer.
    d_dropout : float
        Dropout with this rate after each of D's hidden activations.
    codes : int
        InfoGAN's categorical code (train with ``GAN(..., codes=codes)``): G reads
        z and a one-hot code, (latent_dim + codes) inputs, and D's last layer has
        ``1 + codes`` outputs, the real/fake logit then Q's code logits.
    """
    from tinygan.layers.minibatch import MinibatchStd
    rng = np.random.default_rng(rng)
    g_layers, width = [], latent_dim + codes
    for out in (256, 512, 1024):
        g_layers += [Dense(width, out, rng=rng, dtype=dtype), LeakyReLU(0.2),
                     BatchNorm(out, momentum=0.8, dtype=dtype)]
        width = out
    G = Sequential(*g_layers, Dense(width, 784, rng=rng, dtype=dtype), Sigmoid())
    width = pack * 784
    d_layers = [MinibatchStd(width)] if minibatch_std else []
    width += bool(minibatch_std)
    for out in (512, 256):
        d_layers += [Dense(width, out, rng=rng, dtype=dtype), LeakyReLU(0.2)]
        if d_dropout:  # its own generator, spawned from rng: masks follow from the seed
            d_layers.append(Dropout(d_dropout, rng=rng.spawn(1)[0]))
        width = out
    D = Sequential(*d_layers, Dense(width, 1 + codes, rng=rng, dtype=dtype))
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


def mixture_mlp(latent_dim: int = 2, hidden: int = 128, *, depth: int = 2, pack: int = 1,
                minibatch_std: bool = False, g_alpha: float = 0.2, data_dim: int = 2, rng=None,
                dtype=np.float32):
    """:func:`toy_mlp` with the discriminator-side remedies for mode collapse built in.

    ::

        G: z (latent_dim)      -> [Dense h -> LeakyReLU(g_alpha)] x depth -> Dense data_dim
        D: x (pack * data_dim) -> [MinibatchStd] -> [Dense h -> LeakyReLU(0.2)] x depth -> Dense 1

    ``pack`` widens D's input for PacGAN (train with ``GAN(..., pack=pack)``);
    ``minibatch_std`` appends the batch's spread as one more input feature
    (:class:`tinygan.layers.minibatch.MinibatchStd`).  ``g_alpha=0`` makes G's
    activations ReLUs: their flat regions let G map whole regions of z onto one
    point, so its modes come out tight and the streaks of samples between modes
    thin (on the ring: 91% high-quality samples against 71% with slope 0.2,
    same seed and budget).  With the defaults it is exactly :func:`toy_mlp`.
    """
    from tinygan.layers.minibatch import MinibatchStd
    rng = np.random.default_rng(rng)

    def mlp(n_in, n_out, head=(), alpha=0.2):
        layers, width = list(head), n_in + len(head)
        for _ in range(depth):
            layers += [Dense(width, hidden, rng=rng, dtype=dtype), LeakyReLU(alpha)]
            width = hidden
        return Sequential(*layers, Dense(width, n_out, rng=rng, dtype=dtype))

    d_in = pack * data_dim
    G = mlp(latent_dim, data_dim, alpha=g_alpha)
    D = mlp(d_in, 1, head=(MinibatchStd(d_in),) if minibatch_std else ())
    return G, D


def mnist_dcgan(latent_dim: int = 100, *, rng=None, dtype=np.float32):
    """The convolutional GAN of the Keras DCGAN tutorial, on NCHW images in [-1, 1].

    ::

        G: z (latent_dim) -> Dense 128*7*7 -> ReLU -> Reshape (128, 7, 7) -> BatchNorm
                          -> UpSampling2D -> Conv2D 128, 3x3, same -> LeakyReLU(0.2)   14x14
                          -> UpSampling2D -> Conv2D 64, 3x3, same  -> LeakyReLU(0.2)   28x28
                          -> Conv2D 1, 3x3, same -> Tanh                 (N, 1, 28, 28)
        D: x (N, 1, 28, 28) -> Conv2D 64, 3x3, stride 2, same  -> LeakyReLU(0.2) -> Dropout(0.3)
                            -> Conv2D 128, 3x3, stride 2, same -> LeakyReLU(0.2) -> Dropout(0.3)
                            -> Flatten -> Dense 1                        (logit)

    Train it with ``GAN(G, D, latent_dim=..., d_half_batch=True)``: the tutorial's
    schedule, D on half a batch of real and half a batch of fakes, G on a full batch.

    Parameter counts with ``latent_dim=100`` (Keras's summary gives the same)::

        G  Dense 100 -> 6272          100*6272 + 6272 = 633,472
           BatchNorm(128)             2*128 learned + 2*128 running stats = 512
           Conv2D 128 -> 128, 3x3     128*128*9 + 128 = 147,584
           Conv2D 128 -> 64, 3x3      128*64*9 + 64   =  73,792
           Conv2D 64 -> 1, 3x3        64*9 + 1        =     577
           total 855,937 (855,681 trainable, 256 non-trainable)
        D  Conv2D 1 -> 64, 3x3        9*64 + 64       =     640
           Conv2D 64 -> 128, 3x3      64*128*9 + 128  =  73,856
           Dense 6272 -> 1            6272 + 1        =   6,273
           total 80,769

    BatchNorm uses Keras's default momentum, 0.99 (the architecture names no other).
    Each Dropout gets its own generator spawned from ``rng``, so masks are
    reproducible from the seed and a checkpoint can save their state.
    """
    rng = np.random.default_rng(rng)

    def conv(c_in, c_out, stride=1):
        return Conv2D(c_in, c_out, 3, stride=stride, padding="same", rng=rng, dtype=dtype)

    G = Sequential(Dense(latent_dim, 128 * 7 * 7, rng=rng, dtype=dtype), ReLU(),
                   Reshape((128, 7, 7)), BatchNorm(128, momentum=0.99, dtype=dtype),
                   UpSampling2D(2), conv(128, 128), LeakyReLU(0.2),
                   UpSampling2D(2), conv(128, 64), LeakyReLU(0.2),
                   conv(64, 1), Tanh())
    D = Sequential(conv(1, 64, stride=2), LeakyReLU(0.2), Dropout(0.3, rng=rng.spawn(1)[0]),
                   conv(64, 128, stride=2), LeakyReLU(0.2), Dropout(0.3, rng=rng.spawn(1)[0]),
                   Flatten(), Dense(128 * 7 * 7, 1, rng=rng, dtype=dtype))
    return G, D
