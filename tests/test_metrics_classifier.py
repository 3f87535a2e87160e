"""The shipped evaluation classifiers: they load, they read digits and clothes, they round-trip."""

from pathlib import Path

import numpy as np
import pytest

from tinygan.datasets import DatasetError, load
from tinygan.metrics import Classifier, build_classifier, load_classifier
from tinygan.metrics.classifier import WEIGHTS, WEIGHTS_DIR, as_inputs
from tinygan.metrics.evaluate import evaluate_images, real_reference


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_weights_are_shipped_small_and_float32(name):
    path = WEIGHTS_DIR / WEIGHTS[name]
    assert path.stat().st_size < 1.5e6
    clf = load_classifier(name)
    assert all(p.value.dtype == np.float32 for p in clf.model.parameters())


def test_mnist_classifier_on_held_out_embedded_digits():
    images, labels = load("mnist-embedded")
    clf = load_classifier("mnist-embedded")
    held = clf.info["holdout"].astype(np.int64)
    assert len(held) == 1000 and len(np.unique(held)) == 1000
    acc = clf.accuracy(images[held], labels[held])
    print("held-out accuracy", acc)
    assert acc >= 0.97
    assert acc == pytest.approx(clf.info["heldout_accuracy"], abs=1e-9)  # same weights as trained


def test_fashion_classifier_on_the_test_set():
    try:
        images, labels = load("fashion-mnist", "test")
    except DatasetError:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    clf = load_classifier("fashion-mnist")
    acc = clf.accuracy(images, labels)
    print("fashion test accuracy", acc)
    assert acc >= 0.86   # an MLP on Fashion-MNIST: ~87-89%; the shirt/T-shirt/pullover confusions
    assert acc == pytest.approx(clf.info["test_accuracy"], abs=1e-9)


def test_real_digits_score_near_the_top_and_sit_at_the_floor():
    images, _ = load("mnist-embedded")
    ref = real_reference("mnist-embedded", real=images[:4000])
    m = evaluate_images(images[4000:8000], "mnist-embedded", reference=ref)
    assert m["modes_present"] == 10 and m["kl_uniform"] < 0.01
    assert m["classifier_score"] > 8.5 and m["confident"] > 0.9
    assert m["frechet_ratio"] < 1.5        # real vs other real: at the floor
    assert abs(m["mean"] - m["real_mean"]) < 0.01
    # one digit repeated: one class, score 1, far above the floor
    bad = evaluate_images(np.repeat(images[:1], 500, axis=0), "mnist-embedded", reference=ref)
    assert bad["modes_present"] == 1 and bad["classifier_score"] < 1.01
    assert bad["frechet_ratio"] > 20


def test_generator_value_ranges_map_to_unit_pixels():
    x = np.array([[-1.0] * 392 + [1.0] * 392])
    np.testing.assert_array_equal(as_inputs(x, (-1, 1)), as_inputs(np.array(
        [[0] * 392 + [255] * 392], np.uint8)))
    with pytest.raises(ValueError, match="28x28"):
        as_inputs(np.zeros((3, 100)))


def test_save_load_round_trip_and_bad_files(tmp_path: Path):
    clf = Classifier(build_classifier((16, 8), rng=0), "mnist")
    x = np.random.default_rng(0).random((5, 784)).astype(np.float32)
    clf.save(tmp_path / "c.npz", heldout_accuracy=0.5, holdout=np.arange(3, dtype=np.uint16))
    back = Classifier.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(back.logits(x), clf.logits(x))
    assert back.features(x).shape == (5, 8)
    assert back.info["heldout_accuracy"] == 0.5 and back.info["holdout"].tolist() == [0, 1, 2]
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot read classifier weights"):
        Classifier.load(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="no evaluation classifier"):
        load_classifier("ring")
