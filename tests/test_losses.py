"""Binary cross-entropy from logits, and the GAN losses built on it."""

import numpy as np
import pytest

from tinygan.gradcheck import numerical_grad, rel_error, rel_error_norm
from tinygan.losses import bce, discriminator_loss, generator_loss


def _sigmoid(x):
    return 0.5 + 0.5 * np.tanh(0.5 * x)


@pytest.mark.parametrize("scale", [1.0, 30.0], ids=["moderate", "saturated"])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.9])
def test_bce_gradient(scale, target, backend):
    logits = np.random.default_rng(0).normal(size=(6, 1)) * scale
    _, grad = bce(logits, target)
    num = numerical_grad(lambda: bce(logits, target)[0], logits)
    # Saturated elements have gradients ~1e-14 that a difference of losses ~10 cannot
    # resolve element by element, so measure the error relative to the whole gradient.
    err = rel_error_norm(grad, num)
    print(f"BCE grad, scale {scale}, target {target}: rel error {err:.1e}")
    assert err < 1e-7
    np.testing.assert_allclose(grad, (_sigmoid(logits) - target) / logits.size, rtol=1e-9, atol=1e-18)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_is_finite_for_huge_logits(dtype, backend):
    logits = np.array([-1e4, -500.0, 500.0, 1e4], dtype)
    for t in (0.0, 1.0):
        loss, grad = bce(logits, t)
        assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # a confident, wrong D pays |logit|: mean of (1e4, 500, 0, 0) for target 1
    loss, _ = bce(logits, 1.0)
    assert loss == pytest.approx((1e4 + 500) / 4, rel=1e-6)


def test_bce_matches_the_textbook_formula_where_that_is_safe(backend):
    rng = np.random.default_rng(1)
    logits, t = rng.normal(size=50), rng.uniform(size=50)
    p = _sigmoid(logits)
    expected = np.mean(-t * np.log(p) - (1 - t) * np.log(1 - p))
    assert bce(logits, t)[0] == pytest.approx(expected, rel=1e-12)


def test_discriminator_loss_is_the_mean_of_both_halves(backend):
    rng = np.random.default_rng(2)
    lr, lf = rng.normal(size=(5, 1)), rng.normal(size=(5, 1))
    loss, d_real, d_fake = discriminator_loss(lr, lf, label_smoothing=0.1)
    assert loss == pytest.approx(0.5 * (bce(lr, 0.9)[0] + bce(lf, 0.0)[0]))
    f = lambda: discriminator_loss(lr, lf, label_smoothing=0.1)[0]  # noqa: E731
    errs = {"real": rel_error(d_real, numerical_grad(f, lr)),
            "fake": rel_error(d_fake, numerical_grad(f, lf))}
    print(errs)
    assert max(errs.values()) < 1e-6


@pytest.mark.parametrize("kind", ["non-saturating", "minimax"])
@pytest.mark.parametrize("scale", [1.0, 20.0], ids=["moderate", "saturated"])
def test_generator_loss_gradients(kind, scale, backend):
    logits = np.random.default_rng(3).normal(size=(8, 1)) * scale
    loss, grad = generator_loss(logits, kind)
    err = rel_error_norm(grad, numerical_grad(lambda: generator_loss(logits, kind)[0], logits))
    print(f"{kind} at scale {scale}: rel error {err:.1e}")
    assert err < 1e-7
    if scale == 1.0:  # where the textbook formulas are still safe to evaluate
        p = _sigmoid(logits)
        expected = np.mean(np.log1p(-p)) if kind == "minimax" else np.mean(-np.log(p))
        assert loss == pytest.approx(expected, rel=1e-9)


def test_minimax_gradient_vanishes_when_d_is_confident(backend):
    logits = np.full((4, 1), -15.0)  # D(G(z)) ~ 3e-7: D rejects every fake
    _, g_mm = generator_loss(logits, "minimax")
    _, g_ns = generator_loss(logits, "non-saturating")
    assert np.abs(g_mm).max() < 1e-6 * np.abs(g_ns).max()
    np.testing.assert_allclose(g_ns, -1 / 4, rtol=1e-6)  # d(-log D)/dl = D - 1, over N = 4


def test_bad_loss_arguments_are_rejected():
    with pytest.raises(ValueError, match="unknown generator loss 'wasserstein'"):
        generator_loss(np.zeros((2, 1)), "wasserstein")
    with pytest.raises(ValueError, match="label_smoothing"):
        discriminator_loss(np.zeros((2, 1)), np.zeros((2, 1)), label_smoothing=1.5)


@pytest.mark.parametrize("targets", [np.ones(4), np.ones((4, 2)), np.ones((1, 4)), np.ones(3)],
                         ids=lambda t: str(t.shape))
def test_bce_refuses_targets_that_do_not_fit_the_logits(targets, backend):
    # (4,) labels against (4, 1) logits would broadcast to 16 losses without a word
    with pytest.raises(ValueError, match=r"targets of shape .* do not fit logits of shape \(4, 1\)"):
        bce(np.zeros((4, 1)), targets)


@pytest.mark.parametrize("targets", [0.9, np.float32(1), np.ones((4, 1)), np.ones((1, 1)),
                                     np.ones(1)], ids=lambda t: str(np.shape(t)))
def test_bce_accepts_one_target_per_logit_or_one_for_all(targets, backend):
    loss, d = bce(np.zeros((4, 1)), targets)
    assert d.shape == (4, 1)
    assert loss == pytest.approx(np.log(2))   # at logit 0, p = 0.5 whatever the target
