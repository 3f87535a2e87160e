"""Remedies for mode collapse (pack, minibatch std, feature matching): gradients, side effects."""

import numpy as np
from _layer_checks import off_defaults
import pytest

from tinygan import GAN, Sequential
from tinygan.gradcheck import check_layer, numerical_grad, rel_error_norm
from tinygan.layers import BatchNorm, Dense, LeakyReLU, Tanh
from tinygan.layers.minibatch import MinibatchStd
from tinygan.losses import discriminator_loss, generator_loss
from tinygan.optim import Optimizer

F64 = np.float64


class Recorder(Optimizer):
    """Keeps a copy of the gradients instead of stepping."""

    def step(self):
        self.seen = {p.name: p.grad.copy() for p in self.params}


def nets(pack=1, mbstd=False, seed=0):
    """A small G (3 -> 4) and a D for packs of ``pack`` samples, BatchNorm in both."""
    G = Sequential(Dense(3, 8, rng=seed, dtype=F64), LeakyReLU(0.2), BatchNorm(8, dtype=F64),
                   Dense(8, 4, rng=seed + 1, dtype=F64), Tanh())
    d_in = 4 * pack
    first = [MinibatchStd(d_in), Dense(d_in + 1, 7, rng=seed + 2, dtype=F64)] if mbstd else \
        [Dense(d_in, 7, rng=seed + 2, dtype=F64)]
    D = Sequential(*first, LeakyReLU(0.2), BatchNorm(7, dtype=F64), Dense(7, 6, rng=seed + 4,
                   dtype=F64), LeakyReLU(0.2), Dense(6, 1, rng=seed + 3, dtype=F64))
    return off_defaults(G, D, seed=seed + 5)


def data(n=8, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.normal(size=(n, 3))


def test_minibatch_std_gradient_check():
    layer = MinibatchStd(5)
    x = np.random.default_rng(0).normal(size=(6, 5)) * [1, 2, 0.5, 3, 1]
    errors = check_layer(layer, x, rng=1)
    print("MinibatchStd", errors)
    assert errors["x"] < 1e-7


def test_minibatch_std_forward_value():
    x = np.array([[0.0, 1.0], [2.0, 5.0]])           # stds 1 and 2 -> mean 1.5
    y = MinibatchStd(2, eps=0.0).forward(x)
    np.testing.assert_allclose(y, [[0, 1, 1.5], [2, 5, 1.5]])
    with pytest.raises(ValueError, match="at least 2"):
        MinibatchStd(2).forward(x[:1])
    with pytest.raises(ValueError, match="MinibatchStd"):
        MinibatchStd(3).forward(x)


@pytest.mark.parametrize("pack,mbstd", [(2, False), (1, True), (4, True)])
def test_d_step_gradients_with_remedies(pack, mbstd, backend):
    G, D = nets(pack, mbstd)
    rec = Recorder(D.parameters(), lr=1.0)
    gan = GAN(G, D, latent_dim=3, d_optimizer=rec, pack=pack, label_smoothing=0.1, rng=0)
    real, z = data()
    stats = gan.d_step(real, z)

    def d_loss():
        with G.frozen(), D.frozen():
            fake = G.forward(z)
            return discriminator_loss(D.forward(real.reshape(8 // pack, -1)),
                                      D.forward(fake.reshape(8 // pack, -1)), 0.1)[0]

    assert stats["d_loss"] == pytest.approx(d_loss(), rel=1e-12)
    for p in D.parameters():
        err = rel_error_norm(rec.seen[p.name], numerical_grad(d_loss, p.value))
        print(pack, mbstd, p.name, err)
        assert err < 1e-6, p.name


@pytest.mark.parametrize("pack,mbstd,fm", [(2, False, False), (1, True, False), (1, False, True),
                                           (2, True, True)])
def test_g_step_gradients_with_remedies(pack, mbstd, fm, backend):
    G, D = nets(pack, mbstd)
    rec = Recorder(G.parameters(), lr=1.0)
    gan = GAN(G, D, latent_dim=3, g_optimizer=rec, pack=pack, feature_matching=fm, rng=0)
    real, z = data()
    stats = gan.g_step(z, real=real)

    def g_loss():
        with G.frozen(), D.frozen():
            fake = G.forward(z).reshape(8 // pack, -1)
            if not fm:
                return generator_loss(D.forward(fake))[0]
            body = Sequential(*D.layers[:-1])
            target = body.forward(real.reshape(8 // pack, -1)).mean(axis=0)
            return float(np.sum((body.forward(fake).mean(axis=0) - target) ** 2))

    assert stats["g_loss"] == pytest.approx(g_loss(), rel=1e-12)
    for p in G.parameters():
        err = rel_error_norm(rec.seen[p.name], numerical_grad(g_loss, p.value))
        print(pack, mbstd, fm, p.name, err)
        assert err < 1e-6, p.name


@pytest.mark.parametrize("pack,mbstd,fm", [(2, False, False), (1, True, False), (1, False, True),
                                           (4, True, True)])
def test_d_bit_identical_after_g_step_and_train_step_moves_both(pack, mbstd, fm):
    G, D = nets(pack, mbstd)
    gan = GAN(G, D, latent_dim=3, pack=pack, feature_matching=fm, rng=0)
    real, _ = data()
    before = {k: v.copy() for k, v in D.state_dict().items()}
    g_before = {k: v.copy() for k, v in G.state_dict().items()}
    gan.g_step(batch_size=8, real=real)
    for k, v in D.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert any(not np.array_equal(v, g_before[k]) for k, v in G.state_dict().items())
    stats = gan.train_step(real)
    assert np.isfinite(stats["g_loss"]) and np.isfinite(stats["d_loss"])
    assert any(not np.array_equal(v, before[k]) for k, v in D.state_dict().items())


def test_bad_remedy_settings_raise_clear_errors():
    G, D = nets(pack=3)
    with pytest.raises(ValueError, match="pack must be a positive integer"):
        GAN(G, D, latent_dim=3, pack=0)
    gan = GAN(G, D, latent_dim=3, pack=3, rng=0)
    with pytest.raises(ValueError, match="divisible by 3"):
        gan.d_step(np.zeros((8, 4)))
    G, D = nets()
    gan = GAN(G, D, latent_dim=3, feature_matching=True, rng=0)
    with pytest.raises(ValueError, match="needs the real batch"):
        gan.g_step(batch_size=8)
