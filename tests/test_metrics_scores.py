"""Class scores, the Frechet distance and softmax cross-entropy against known answers."""

import numpy as np
import pytest

from tinygan.gradcheck import numerical_grad, rel_error
from tinygan.metrics import (class_histogram, class_scores, classifier_score, frechet_distance,
                             frechet_from_stats, real_floor, softmax, softmax_cross_entropy)


def onehot(labels, k=10):
    return np.eye(k)[labels]


def test_perfect_balanced_confident_samples():
    probs = onehot(np.arange(1000) % 10)
    s = class_scores(probs)
    assert s["modes_present"] == 10
    assert s["kl_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert s["classifier_score"] == pytest.approx(10.0, rel=1e-6)
    assert s["confident"] == 1.0


def test_collapse_onto_one_class():
    s = class_scores(onehot(np.full(500, 7)))
    assert s["modes_present"] == 1
    assert s["kl_uniform"] == pytest.approx(np.log(10))
    assert s["classifier_score"] == pytest.approx(1.0, rel=1e-6)


def test_undecided_samples_score_one_and_are_not_confident():
    s = class_scores(np.full((100, 10), 0.1))
    assert s["classifier_score"] == pytest.approx(1.0)
    assert s["confident"] == 0.0


def test_modes_present_threshold_is_five_percent():
    labels = np.r_[np.zeros(50, int), np.ones(49, int), np.full(901, 2)]   # 5.0%, 4.9%, 90.1%
    s = class_scores(onehot(labels))
    assert s["modes_present"] == 2
    assert np.allclose(class_histogram(onehot(labels))[:3], [0.05, 0.049, 0.901])


def test_classifier_score_closed_form():
    # two classes, every sample p = (0.9, 0.1) or (0.1, 0.9), half each: p(y) = (0.5, 0.5)
    probs = np.array([[0.9, 0.1], [0.1, 0.9]] * 50)
    kl = 0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5)
    assert classifier_score(probs) == pytest.approx(np.exp(kl), rel=1e-9)


def test_logits_are_rejected():
    with pytest.raises(ValueError, match="summing to 1"):
        class_scores(np.random.default_rng(0).standard_normal((5, 10)))


def test_frechet_identical_sets_is_zero():
    f = np.random.default_rng(0).standard_normal((500, 16))
    assert frechet_distance(f, f) == pytest.approx(0.0, abs=1e-8)


def test_frechet_gaussians_closed_form():
    # N(m1, a^2 I) vs N(m2, b^2 I) in d dims: |m1 - m2|^2 + d (a - b)^2
    d = 5
    mu1, mu2 = np.zeros(d), np.arange(d, dtype=float)
    fd = frechet_from_stats(mu1, 4.0 * np.eye(d), mu2, 0.25 * np.eye(d))
    assert fd == pytest.approx(np.sum(mu2 ** 2) + d * (2.0 - 0.5) ** 2, rel=1e-10)


def test_frechet_non_commuting_covariances():
    # for commuting or not, tr((S1 S2)^1/2) from the eigenvalues of S1 S2 (real, >= 0)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 4, 4))
    s1, s2 = a @ a.T + np.eye(4), b @ b.T + np.eye(4)
    cross = np.sum(np.sqrt(np.linalg.eigvals(s1 @ s2).real))
    want = np.trace(s1) + np.trace(s2) - 2 * cross
    assert frechet_from_stats(np.zeros(4), s1, np.zeros(4), s2) == pytest.approx(want, rel=1e-8)


def test_frechet_sampled_gaussians_and_floor():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((4000, 8))
    shifted = rng.standard_normal((4000, 8)) + 1.0          # true distance 8 * 1^2 = 8
    assert frechet_distance(real, shifted) == pytest.approx(8.0, rel=0.05)
    floor = real_floor(real, rng=0)
    assert 0 < floor < 0.1                                   # finite-sample bias only


def test_frechet_shape_mismatch_raises():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    loss, d = softmax_cross_entropy(logits, labels)
    assert loss == pytest.approx(-np.mean(np.log(softmax(logits)[np.arange(6), labels])))
    R = rng.standard_normal()  # the loss is a scalar: scale it by a random upstream gradient
    num = numerical_grad(lambda: R * softmax_cross_entropy(logits, labels)[0], logits)
    err = rel_error(R * d, num)
    print("softmax cross-entropy rel error", err)
    assert err < 1e-6


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    loss, d = softmax_cross_entropy(logits, np.array([1, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(d))
    assert loss == pytest.approx(0.5 * 2e4)
    with pytest.raises(ValueError, match="labels must be in"):
        softmax_cross_entropy(logits, np.array([0, 3]))
