"""Which architecture fits which data: the table behind ``tinygan train --preset``.

A preset in :mod:`tinygan.presets` is a function returning ``(G, D)``.  To
train it the application also needs to know what the data must look like:
the range of the values the generator produces (a Sigmoid output means
[0, 1], a Tanh output [-1, 1]) and whether the networks read flattened
vectors (an MLP) or NCHW image tensors (a convolutional net).  This module
keeps those facts next to each builder, so adding a preset is one entry in
:data:`PRESETS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from tinygan import presets

IMAGE_DATASETS = ("mnist-embedded", "mnist", "fashion-mnist")
MIXTURE_DATASETS = ("ring", "grid")


@dataclass(frozen=True)
class PresetSpec:
    """How to build and feed one preset.

    Attributes
    ----------
    name : str
        The name on the command line, e.g. ``"mnist-mlp"``.
    builder : callable
        ``builder(latent_dim, rng=..., dtype=...) -> (G, D)``.
    data : {"image", "mixture"}
        28x28 images or points of a 2-D mixture.
    value_range : (float, float) or None
        The generator's output range for images; real pixels are scaled to
        the same range.  None for 2-D points, whose range is unbounded.
    flatten : bool
        True: images enter as (N, 784) vectors; False: as (N, 1, 28, 28) (NCHW).
    latent_dim : int
        Default width of the noise vector z.
    d_dropout_built_in : bool
        D has Dropout layers whatever the options (mnist-dcgan's Dropout(0.3));
        mnist-mlp's D has them only with the ``d_dropout`` option.  Dropout is
        the only layer of D that eval mode changes, so without it
        ``d_eval_in_g_step`` would do nothing.
    """

    name: str
    builder: Callable
    data: str
    value_range: tuple[float, float] | None
    flatten: bool
    latent_dim: int
    d_dropout_built_in: bool = False

    @property
    def datasets(self) -> tuple[str, ...]:
        """The data sets this preset can be trained on."""
        return IMAGE_DATASETS if self.data == "image" else MIXTURE_DATASETS

    def build(self, latent_dim: int, *, rng, dtype, **options):
        """``(G, D)``; ``options`` are architecture options (see :mod:`tinygan.recipes`)."""
        return self.builder(latent_dim, rng=rng, dtype=dtype, **options)


PRESETS: dict[str, PresetSpec] = {
    "mnist-mlp": PresetSpec("mnist-mlp", presets.mnist_mlp, "image", (0.0, 1.0), True, 100),
    "toy-mlp": PresetSpec("toy-mlp", presets.toy_mlp, "mixture", None, True, 2),
    # mixture_mlp as tuned for the ring and the grid: 3 hidden layers of 128, ReLU in G
    "mixture-mlp": PresetSpec("mixture-mlp", partial(presets.mixture_mlp, depth=3, g_alpha=0.0),
                              "mixture", None, True, 2),
    "mnist-dcgan": PresetSpec("mnist-dcgan", presets.mnist_dcgan, "image", (-1.0, 1.0), False,
                              100, d_dropout_built_in=True),
}

# The preset ``tinygan train --dataset X`` uses when --preset is not given.
DEFAULT_PRESET = {**{d: "mnist-mlp" for d in IMAGE_DATASETS},
                  **{d: "mixture-mlp" for d in MIXTURE_DATASETS}}


def get_preset(name: str) -> PresetSpec:
    """The :class:`PresetSpec` called ``name``; a ValueError lists the choices otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
