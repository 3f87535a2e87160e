"""Find and load the 28x28 image sets: embedded MNIST, full MNIST, Fashion-MNIST.

The full sets are not shipped (MNIST alone is 11 MB gzipped). They are
looked for, in order, in

1. ``$TINYGAN_DATA/<name>/``             (if the variable is set)
2. ``~/.cache/tinygan/<name>/``          (where ``tinygan download`` puts them)
3. system directories, e.g. ``/usr/share/datasets/fashion-mnist/`` from
   Debian's ``dataset-fashion-mnist`` package

each holding the four standard files under their standard names, gzipped
or not. The embedded subset always exists: it lives inside the package.
"""

import os
from pathlib import Path

import numpy as np

from tinygan.datasets.errors import DatasetError
from tinygan.datasets.idx import read_idx

DATA_DIR = Path(__file__).resolve().parent / "data"
EMBEDDED_FILES = ("mnist-embedded-images-idx3-ubyte.gz", "mnist-embedded-labels-idx1-ubyte.gz")

IMAGE_SETS = ("mnist", "fashion-mnist")

# split -> (images, labels) base names; ".gz" is tried first, then the raw name.
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Directories that a system package fills (Debian: dataset-fashion-mnist).
# A module-level table so tests can point it elsewhere.
SYSTEM_DIRS = {
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}


def cache_dir(name):
    """The directory ``tinygan download`` writes to: ``$TINYGAN_DATA/<name>`` or ``~/.cache/tinygan/<name>``."""
    root = os.environ.get("TINYGAN_DATA")
    if root:
        return Path(root).expanduser() / name
    return Path.home() / ".cache" / "tinygan" / name


def search_dirs(name):
    """Every directory :func:`load_image_set` looks in for ``name``, in order."""
    dirs = []
    root = os.environ.get("TINYGAN_DATA")
    if root:
        dirs.append(Path(root).expanduser() / name)
    dirs.append(Path.home() / ".cache" / "tinygan" / name)
    dirs.extend(Path(d) for d in SYSTEM_DIRS.get(name, ()))
    return dirs


def _find(directory, base):
    """The path of ``base`` in ``directory``, gzipped or raw, or None."""
    for candidate in (directory / f"{base}.gz", directory / base):
        if candidate.is_file():
            return candidate
    return None


def read_images_labels(images_path, labels_path):
    """Read and cross-check an (images, labels) pair of IDX files.

    Returns
    -------
    images : numpy.ndarray
        (N, H, W) uint8.
    labels : numpy.ndarray
        (N,) uint8, every value in 0..9.

    Raises
    ------
    DatasetError
        If either file is unreadable, has the wrong shape or dtype, or the
        two files disagree on N.
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DatasetError(f"{images_path}: expected (N, H, W) uint8 images, "
                           f"got shape {images.shape} {images.dtype}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DatasetError(f"{labels_path}: expected (N,) uint8 labels, "
                           f"got shape {labels.shape} {labels.dtype}")
    if len(images) != len(labels):
        raise DatasetError(f"image/label counts differ: {images_path} has {len(images)} "
                           f"images, {labels_path} has {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{labels_path}: label {int(labels.max())} outside 0..9")
    return images, labels


def load_embedded():
    """The 10,000 MNIST training digits shipped inside tinygan (see ``data/README.md``).

    Returns
    -------
    images : numpy.ndarray
        (10000, 28, 28) uint8.
    labels : numpy.ndarray
        (10000,) uint8.
    """
    return read_images_labels(*(DATA_DIR / f for f in EMBEDDED_FILES))


def read_image_files(name, images_path, labels_path):
    """:func:`read_images_labels`, and the check that the images are 28x28.

    Raises
    ------
    DatasetError
        As :func:`read_images_labels`, or for images of another size.
    """
    images, labels = read_images_labels(images_path, labels_path)
    if images.shape[1:] != (28, 28):   # the networks are built for 28x28 inputs
        h, w = images.shape[1:]
        raise DatasetError(f"{images_path}: {name} images are 28x28, this file holds "
                           f"{h}x{w} images; put the original files there (`tinygan "
                           f"download {name}`)")
    return images, labels


def _locate(name, split):
    """``(images_path, labels_path)`` that :func:`load_image_set` reads, or None; and,
    for the message that they are missing, one line per directory looked in."""
    image_base, label_base = SPLIT_FILES[split]
    looked = []
    for directory in search_dirs(name):
        images_path, labels_path = _find(directory, image_base), _find(directory, label_base)
        if images_path and labels_path:
            return (images_path, labels_path), looked
        missing = [b for b, p in ((image_base, images_path), (label_base, labels_path)) if p is None]
        looked.append(f"  {directory}/  (no {' or '.join(m + '[.gz]' for m in missing)})")
    return None, looked


def load_image_set(name, split="train"):
    """Load the ``split`` of MNIST or Fashion-MNIST from the first directory that has it.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    split : {"train", "test"}
        60,000 training or 10,000 test images.

    Returns
    -------
    images : numpy.ndarray
        (N, 28, 28) uint8.
    labels : numpy.ndarray
        (N,) uint8.

    Raises
    ------
    DatasetError
        If no directory holds both files; the message lists every place
        looked and how to get the files.
    """
    if name not in IMAGE_SETS:
        raise DatasetError(f"unknown image set {name!r}; choose one of {IMAGE_SETS}")
    if split not in SPLIT_FILES:
        raise DatasetError(f"unknown split {split!r} for {name}; choose 'train' or 'test'")
    found, looked = _locate(name, split)
    if found:
        return read_image_files(name, *found)
    raise DatasetError(
        f"{name} ({split}) not found. Looked in:\n" + "\n".join(looked) + "\n"
        f"Either run `tinygan download {name}`, or copy the four files "
        f"({', '.join(b + '.gz' for pair in SPLIT_FILES.values() for b in pair)}) "
        f"into $TINYGAN_DATA/{name}/ (set TINYGAN_DATA to a directory of your choice)."
    )


def available(name) -> list[Path]:
    """The directories :func:`load_image_set` reads every split of ``name`` from.

    Empty if a split is missing or cannot be read: then loading fails.
    Reading the files (a second for Fashion-MNIST) is the only sure test.
    """
    dirs = []
    for split in SPLIT_FILES:
        found, _ = _locate(name, split)
        if found is None:
            return []
        try:
            read_image_files(name, *found)
        except DatasetError:
            return []
        if found[0].parent not in dirs:   # both files of a split are in one directory
            dirs.append(found[0].parent)
    return dirs
