"""Data for tinygan: MNIST-style image sets, 2-D mixtures, and batches of them.

>>> import numpy as np
>>> from tinygan.datasets import load, Batches
>>> images, labels = load("mnist-embedded")      # shipped inside tinygan, no network
>>> images.shape, images.dtype
((10000, 28, 28), dtype('uint8'))
>>> batches = Batches(images, 64, rng=np.random.default_rng(0), value_range=(-1, 1))

Modules, one idea each:

* ``idx``       -- the IDX file format: strict reader, atomic writer
* ``mnist``     -- where the image sets live and how they are loaded
* ``download``  -- fetching MNIST / Fashion-MNIST, verified by SHA-256
* ``folders``   -- the folder a download goes to: checked first, tidied after a failure
* ``mixtures``  -- the ring and grid of Gaussians (mode-collapse benchmarks)
* ``batches``   -- shuffled, scaled, checkpointable mini-batches
* ``errors``    -- ``DatasetError``, raised for every bad or missing file
"""

from tinygan.datasets.batches import Batches
from tinygan.datasets.errors import DatasetError, DestinationError, DownloadError
from tinygan.datasets.mixtures import GRID, RING, Mixture, get_mixture
from tinygan.datasets.mnist import IMAGE_SETS, load_embedded, load_image_set

DATASETS = ("mnist-embedded", "mnist", "fashion-mnist", "ring", "grid")


def load(name, split="train"):
    """Load a data set by name.

    Parameters
    ----------
    name : {"mnist-embedded", "mnist", "fashion-mnist", "ring", "grid"}
    split : {"train", "test"}
        For "mnist" and "fashion-mnist". "mnist-embedded" has only "train"
        (it is 10,000 MNIST training digits); the mixtures have no split.

    Returns
    -------
    (images, labels) or Mixture
        For the image sets, (N, 28, 28) uint8 images and (N,) uint8 labels.
        The 2-D mixtures have no fixed data: their :class:`Mixture` is
        returned, to be sampled with ``.sample(n, rng)``.

    Raises
    ------
    DatasetError
        For an unknown name or split, or files that are missing or corrupt;
        the message says what to do.
    """
    if name == "mnist-embedded":
        if split != "train":
            raise DatasetError("mnist-embedded has only split='train' (10,000 MNIST training "
                               "digits); for the test set use load('mnist', split='test')")
        return load_embedded()
    if name in IMAGE_SETS:
        return load_image_set(name, split)
    if name in ("ring", "grid"):
        return get_mixture(name)
    raise DatasetError(f"unknown data set {name!r}; choose one of {DATASETS}")


__all__ = ["load", "DATASETS", "DatasetError", "DownloadError", "Batches",
           "Mixture", "RING", "GRID", "get_mixture"]
