"""tinygan.datasets.load: the embedded digits, finding MNIST / Fashion-MNIST, clear errors."""

import hashlib
import gzip
import time
from pathlib import Path

import numpy as np
import pytest

from tinygan import datasets
from tinygan.datasets import DATASETS, DatasetError, load, mnist
from tinygan.datasets.idx import write_idx

EMBEDDED_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
SHARED_T10K = Path("/work/shared/data/mnist-t10k")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No TINYGAN_DATA, an empty home, and no system directories: nothing to find."""
    monkeypatch.delenv("TINYGAN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {})
    return tmp_path


def make_set(directory, n_train=6, n_test=4, gz=True, seed=0):
    """Write a tiny fake MNIST (four IDX files) and return its arrays."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        for base, a in zip(mnist.SPLIT_FILES[split], (x, y)):
            write_idx(directory / (base + (".gz" if gz else "")), a)
        arrays[split] = (x, y)
    return arrays


# --- the embedded subset ------------------------------------------------------

def test_embedded_shapes_and_content():
    images, labels = load("mnist-embedded")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == EMBEDDED_COUNTS
    # Round-robin order (documented): the first 10 labels are 0..9.
    assert labels[:10].tolist() == list(range(10))
    # Real digits, not noise: MNIST's mean pixel is about 0.1307 * 255 = 33.3,
    # the border is blank and the centre is inked.
    assert 31 < images.mean() < 36
    assert images[:, :2, :].mean() < 1
    assert images[:, 10:18, 10:18].mean() > 80
    # All 10,000 are distinct images.
    assert len({img.tobytes() for img in images}) == 10000


def test_embedded_bytes_are_pinned():
    # sha256 of the decompressed IDX content, as recorded in data/README.md.
    expected = {
        "mnist-embedded-images-idx3-ubyte.gz": "68edd122f9dba5ef1238a0ef595ecb5792a26401bbe7f32c6df7471a8cdde908",
        "mnist-embedded-labels-idx1-ubyte.gz": "0c85ed9560e584ed1040888c010ff8daee9e3356d80be4ee42883d5e84dd5b14",
    }
    for name, digest in expected.items():
        raw = gzip.decompress((mnist.DATA_DIR / name).read_bytes())
        assert hashlib.sha256(raw).hexdigest() == digest, name
    assert "CC BY-SA 3.0" in (mnist.DATA_DIR / "README.md").read_text()


def test_embedded_loads_fast():
    load("mnist-embedded")  # warm the OS file cache
    t0 = time.perf_counter()
    for _ in range(3):
        load("mnist-embedded")
    per_load = (time.perf_counter() - t0) / 3
    print(f"load('mnist-embedded'): {per_load * 1e3:.1f} ms")
    assert per_load < 0.5


@pytest.mark.skipif(not SHARED_T10K.is_dir(), reason="no shared MNIST test set on this machine")
def test_embedded_digits_are_not_test_digits(isolated, monkeypatch):
    # Also exercises loading the un-renamed official t10k files from $TINYGAN_DATA.
    root = isolated / "data"
    (root / "mnist").mkdir(parents=True)
    for f in SHARED_T10K.glob("t10k-*.gz"):
        (root / "mnist" / f.name).symlink_to(f)
    monkeypatch.setenv("TINYGAN_DATA", str(root))
    test_images, test_labels = load("mnist", split="test")
    assert test_images.shape == (10000, 28, 28)
    assert np.bincount(test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    embedded, _ = load("mnist-embedded")
    test_set = {img.tobytes() for img in test_images}
    assert not any(img.tobytes() in test_set for img in embedded)


# --- finding the full sets ----------------------------------------------------

def test_load_from_tinygan_data(isolated, monkeypatch):
    arrays = make_set(isolated / "data" / "mnist")
    monkeypatch.setenv("TINYGAN_DATA", str(isolated / "data"))
    for split in ("train", "test"):
        x, y = load("mnist", split=split)
        np.testing.assert_array_equal(x, arrays[split][0])
        np.testing.assert_array_equal(y, arrays[split][1])


def test_load_raw_file_names(isolated, monkeypatch):
    arrays = make_set(isolated / "data" / "fashion-mnist", gz=False)
    monkeypatch.setenv("TINYGAN_DATA", str(isolated / "data"))
    np.testing.assert_array_equal(load("fashion-mnist", split="test")[1], arrays["test"][1])


def test_search_order(isolated, monkeypatch):
    # The home cache is used when TINYGAN_DATA has nothing; TINYGAN_DATA wins when it has.
    cached = make_set(isolated / "home" / ".cache" / "tinygan" / "mnist", seed=1)
    monkeypatch.setenv("TINYGAN_DATA", str(isolated / "data"))
    np.testing.assert_array_equal(load("mnist")[0], cached["train"][0])
    preferred = make_set(isolated / "data" / "mnist", seed=2)
    np.testing.assert_array_equal(load("mnist")[0], preferred["train"][0])


def test_system_directory_for_fashion(isolated, monkeypatch):
    arrays = make_set(isolated / "system")
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {"fashion-mnist": (isolated / "system",)})
    np.testing.assert_array_equal(load("fashion-mnist")[0], arrays["train"][0])
    with pytest.raises(DatasetError):  # a Fashion-MNIST directory is not MNIST
        load("mnist")


def test_missing_files_message(isolated, monkeypatch):
    monkeypatch.setenv("TINYGAN_DATA", str(isolated / "data"))
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {"fashion-mnist": (isolated / "sys",)})
    with pytest.raises(DatasetError) as err:
        load("fashion-mnist", split="test")
    message = str(err.value)
    for place in (isolated / "data" / "fashion-mnist", isolated / "home" / ".cache" / "tinygan" / "fashion-mnist",
                  isolated / "sys"):
        assert str(place) in message
    assert "tinygan download fashion-mnist" in message
    assert "$TINYGAN_DATA/fashion-mnist/" in message
    assert "t10k-images-idx3-ubyte" in message


def test_half_present_set_is_reported(isolated, monkeypatch):
    make_set(isolated / "data" / "mnist")
    (isolated / "data" / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("TINYGAN_DATA", str(isolated / "data"))
    with pytest.raises(DatasetError, match=r"no train-labels-idx1-ubyte\[\.gz\]\)"):
        load("mnist")
    load("mnist", split="test")  # the test split is still complete


def test_count_mismatch(isolated, monkeypatch):
    d = isolated / "data" / "mnist"
    make_set(d)
    write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))  # 6 images
    monkeypatch.setenv("TINYGAN_DATA", str(isolated / "data"))
    with pytest.raises(DatasetError, match="image/label counts differ.*6 images.*5 labels"):
        load("mnist")


def test_swapped_or_corrupt_files(isolated, monkeypatch):
    d = isolated / "data" / "mnist"
    make_set(d)
    monkeypatch.setenv("TINYGAN_DATA", str(isolated / "data"))
    write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros((6, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="expected \\(N,\\) uint8 labels"):
        load("mnist")
    (d / "t10k-images-idx3-ubyte.gz").write_bytes(b"<html>404</html>")
    with pytest.raises(DatasetError, match="not gzip"):
        load("mnist", split="test")


def test_bad_names():
    assert DATASETS == ("mnist-embedded", "mnist", "fashion-mnist", "ring", "grid")
    with pytest.raises(DatasetError, match="unknown data set 'cifar'"):
        load("cifar")
    with pytest.raises(DatasetError, match="only split='train'"):
        load("mnist-embedded", split="test")
    with pytest.raises(DatasetError, match="unknown split"):
        load("mnist", split="validation")


def test_mixtures_through_load():
    assert load("ring") is datasets.RING
    assert load("grid") is datasets.GRID


# --- the real Fashion-MNIST from Debian's dataset-fashion-mnist ---------------

@pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_real_fashion_mnist(isolated, monkeypatch, split, n):
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {"fashion-mnist": (FASHION_DIR,)})
    images, labels = load("fashion-mnist", split=split)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    # Fashion-MNIST is exactly balanced over its 10 classes.
    assert np.bincount(labels, minlength=10).tolist() == [n // 10] * 10
    assert images.max() == 255 and images.min() == 0


def test_images_of_another_size_are_refused_naming_the_file(isolated, monkeypatch):
    """32x32 images pass every IDX check but no 28x28 network: say so before training."""
    d = isolated / "data" / "fashion-mnist"
    make_set(d)
    write_idx(d / "train-images-idx3-ubyte.gz", np.zeros((6, 32, 32), np.uint8))
    monkeypatch.setenv("TINYGAN_DATA", str(isolated / "data"))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz: fashion-mnist images "
                                           r"are 28x28, this file holds 32x32 images"):
        load("fashion-mnist")
    assert load("fashion-mnist", split="test")[0].shape == (4, 28, 28)
