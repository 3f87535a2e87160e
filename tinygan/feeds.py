"""Real data for the training loop: image batches or mixture samples, one interface.

The loop asks a *feed* for ``next_batch()`` at every discriminator step and
checkpoints it with ``state()`` / ``load_state()``.  Images come from
:class:`tinygan.datasets.Batches` (shuffled epochs); a 2-D mixture has no
fixed data set, so :class:`MixtureBatches` draws fresh points every call.
Either way the feed's randomness comes from one ``numpy.random.Generator``,
the feed's ``rng``, which the checkpoint saves too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinygan import datasets
from tinygan.config import ConfigError, TrainConfig
from tinygan.registry import PresetSpec


class MixtureBatches:
    """An endless stream of ``batch_size`` points drawn from a 2-D Gaussian mixture."""

    def __init__(self, mixture, batch_size: int, *, rng: np.random.Generator, dtype=np.float32):
        self.mixture, self.batch_size, self.rng = mixture, int(batch_size), rng
        self.dtype = np.dtype(dtype)

    def next_batch(self) -> np.ndarray:
        return self.mixture.sample(self.batch_size, self.rng, dtype=self.dtype)

    def state(self) -> dict:
        return {}  # everything lives in rng, which the checkpoint saves separately

    def load_state(self, state: dict):
        if state:
            raise ValueError(f"a mixture feed has no state, got keys {sorted(state)}")


@dataclass
class Feed:
    """The batches plus what the pictures need to know about the real data.

    Attributes
    ----------
    batches : Batches or MixtureBatches
    reference : numpy.ndarray
        Real examples for plots: 8 images (8, 28, 28) in [0, 1], or 2,000 points (2000, 2).
    real_mean, real_std : float
        Mean and standard deviation of the real data's values, in the model's range.
    n_samples : int or None
        Size of the data set (None for a mixture: unlimited).
    mixture : Mixture or None
    """

    batches: object
    reference: np.ndarray
    real_mean: float
    real_std: float
    n_samples: int | None = None
    mixture: object = None


def make_feed(config: TrainConfig, spec: PresetSpec, rng: np.random.Generator) -> Feed:
    """Load the data named in ``config`` and wrap it for ``spec``'s networks.

    Raises
    ------
    ConfigError
        If the batch size is larger than the data set.
    tinygan.datasets.DatasetError
        If the data files are missing or corrupt (the message says what to do).
    """
    dtype = np.dtype(config.dtype)
    if spec.data == "mixture":
        mixture = datasets.get_mixture(config.dataset)
        # Points for the scatter plots: their own generator, so drawing them
        # does not shift the training stream.
        reference = mixture.sample(2000, np.random.default_rng([config.seed, 7]), dtype=dtype)
        return Feed(MixtureBatches(mixture, config.batch_size, rng=rng, dtype=dtype),
                    reference, float(reference.mean()), float(reference.std()), None, mixture)

    images, _ = datasets.load(config.dataset)
    if config.batch_size > len(images):
        raise ConfigError(f"--batch-size {config.batch_size} is larger than the "
                          f"{len(images):,} images of {config.dataset}; use a smaller batch")
    batches = datasets.Batches(images, config.batch_size, rng=rng, value_range=spec.value_range,
                               flatten=spec.flatten, dtype=dtype)
    lo, hi = spec.value_range
    # Pixel statistics from the uint8 data: mean and std scale linearly with the range.
    pixels = images.astype(np.float64) / 255.0
    mean, std = float(pixels.mean()), float(pixels.std())
    return Feed(batches, pixels[:8], lo + (hi - lo) * mean, (hi - lo) * std, len(images))
