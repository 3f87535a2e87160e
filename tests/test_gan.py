"""The two phases against finite differences, what each leaves untouched, and learning."""

import numpy as np
from _layer_checks import off_defaults
import pytest

from tinygan import GAN, Sequential
from tinygan.gradcheck import numerical_grad, rel_error_norm
from tinygan.layers import BatchNorm, Dense, Dropout, LeakyReLU, Tanh
from tinygan.losses import discriminator_loss, generator_loss, info_loss
from tinygan.optim import Adam, Optimizer
from tinygan.presets import mnist_mlp, toy_mlp

F64 = np.float64


class Recorder(Optimizer):
    """An optimizer that keeps a copy of the gradients instead of stepping."""

    def step(self):
        self.seen = {p.name: p.grad.copy() for p in self.params}


def _nets(seed=0, codes=0):
    # BatchNorm in both: G's must use batch statistics in phase 1, and D's separate
    # real/fake passes must each see only their own batch.  With an InfoGAN code,
    # G reads z (3) and the code, and D gives the logit and Q's code logits.
    G = Sequential(Dense(3 + codes, 8, rng=seed, dtype=F64), LeakyReLU(0.2),
                   BatchNorm(8, dtype=F64), Dense(8, 5, rng=seed + 1, dtype=F64), Tanh())
    D = Sequential(Dense(5, 7, rng=seed + 2, dtype=F64), LeakyReLU(0.2), BatchNorm(7, dtype=F64),
                   Dense(7, 1 + codes, rng=seed + 3, dtype=F64))
    return off_defaults(G, D, seed=seed + 4)


def _snapshot(net):
    return {k: v.copy() for k, v in net.state_dict().items()}


def _assert_unchanged(net, before):
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def _assert_matches_finite_differences(phase, seen, loss, params):
    """Each recorded gradient against central differences of ``loss``; errors printed."""
    errs = {p.name: rel_error_norm(seen[p.name], numerical_grad(loss, p.value)) for p in params}
    print(f"{phase}:", {k: f"{v:.1e}" for k, v in errs.items()})
    assert max(errs.values()) < 1e-7


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_d_step_gradients_match_finite_differences_of_d_loss(smoothing, backend):
    G, D = _nets()
    rec = Recorder(D.parameters(), lr=1.0)
    gan = GAN(G, D, latent_dim=3, d_optimizer=rec, label_smoothing=smoothing, rng=0)
    rng = np.random.default_rng(1)
    real, z = rng.normal(size=(6, 5)), rng.normal(size=(6, 3))
    stats = gan.d_step(real, z)

    def d_loss():
        with G.frozen(), D.frozen():  # same computation as d_step, no side effects
            return discriminator_loss(D.forward(real), D.forward(G.forward(z)), smoothing)[0]

    assert stats["d_loss"] == pytest.approx(d_loss(), rel=1e-12)
    _assert_matches_finite_differences("D phase", rec.seen, d_loss,
                                       D.parameters())


@pytest.mark.parametrize("loss", ["non-saturating", "minimax"])
def test_g_step_gradients_match_finite_differences_through_d(loss, backend):
    G, D = _nets(seed=10)
    rec = Recorder(G.parameters(), lr=1.0)
    gan = GAN(G, D, latent_dim=3, g_optimizer=rec, loss=loss, rng=0)
    z = np.random.default_rng(2).normal(size=(6, 3))
    stats = gan.g_step(z)

    def g_loss():
        with G.frozen(), D.frozen():
            return generator_loss(D.forward(G.forward(z)), loss)[0]

    assert stats["g_loss"] == pytest.approx(g_loss(), rel=1e-12)
    _assert_matches_finite_differences("G phase through D", rec.seen, g_loss,
                                       G.parameters())


def test_g_step_with_d_in_eval_mode_follows_the_gradient_of_the_whole_d(backend):
    G, _ = _nets(seed=20)
    D = Sequential(Dense(5, 7, rng=22, dtype=F64), LeakyReLU(0.2), Dropout(0.5, rng=23),
                   BatchNorm(7, dtype=F64), Dense(7, 1, rng=24, dtype=F64))
    off_defaults(D, seed=25)
    D.layers[3].buffers["running_mean"][...] = 0.3   # eval mode must use these, not batch stats
    D.layers[3].buffers["running_var"][...] = 2.0
    z = np.random.default_rng(3).normal(size=(6, 3))

    def g_loss():  # the loss with D in eval mode: deterministic, so finite differences work
        with G.frozen(), D.frozen(), D.evaluating():
            return generator_loss(D.forward(G.forward(z)))[0]

    def recorded(**kwargs):
        rec = Recorder(G.parameters(), lr=1.0)
        GAN(G, D, latent_dim=3, g_optimizer=rec, rng=0, **kwargs).g_step(z)
        return rec.seen

    dropout_state = D.layers[2].rng.bit_generator.state
    seen = recorded(d_eval_in_g_step=True)
    assert D.layers[2].rng.bit_generator.state == dropout_state   # no mask was drawn
    assert [layer.training for layer in D] == [True] * 5          # modes restored
    _assert_matches_finite_differences("G phase through D in eval mode", seen, g_loss,
                                       G.parameters())
    # Without the option, G learns from D in training mode: another gradient.
    default = recorded()
    assert max(rel_error_norm(default[k], seen[k]) for k in seen) > 1e-2


def test_train_step_gives_g_a_batch_scaled_by_g_batch_scale(backend):
    G, D = toy_mlp(rng=0)
    gan = GAN(G, D, latent_dim=2, g_batch_scale=3, rng=0)
    sizes = []
    forward = G.forward
    G.forward = lambda z: sizes.append(len(z)) or forward(z)
    gan.train_step(np.zeros((8, 2), np.float32))
    assert sizes == [8, 24]    # phase 1: as many fakes as reals; phase 2: three times as many


K = 3  # values of the InfoGAN code in the tests below


def test_d_step_with_codes_matches_finite_differences_of_d_and_q_losses(backend):
    G, D = _nets(seed=30, codes=K)
    rec = Recorder(D.parameters(), lr=1.0)
    gan = GAN(G, D, latent_dim=3, d_optimizer=rec, label_smoothing=0.1, codes=K,
              info_weight=0.7, rng=0)
    real, z = np.random.default_rng(1).normal(size=(6, 5)), gan.sample_noise(6, rng=2)

    def loss():   # BCE on the logit column, plus lambda * CE of Q on the fakes only
        with G.frozen(), D.frozen():
            out_r, out_f = D.forward(real), D.forward(G.forward(z))
            d_loss = discriminator_loss(out_r[:, :1], out_f[:, :1], 0.1)[0]
            return d_loss + 0.7 * info_loss(out_f[:, 1:], z[:, 3:])[0]

    gan.d_step(real, z)
    _assert_matches_finite_differences("D phase with codes", rec.seen, loss,
                                       D.parameters())


def test_g_step_with_codes_matches_finite_differences_through_d(backend):
    G, D = _nets(seed=40, codes=K)
    rec = Recorder(G.parameters(), lr=1.0)
    gan = GAN(G, D, latent_dim=3, g_optimizer=rec, codes=K, info_weight=0.7, rng=0)
    z = gan.sample_noise(6, rng=3)

    def q_loss():
        with G.frozen(), D.frozen():
            return info_loss(D.forward(G.forward(z))[:, 1:], z[:, 3:])[0]

    def loss():
        with G.frozen(), D.frozen():
            out = D.forward(G.forward(z))
            return generator_loss(out[:, :1])[0] + 0.7 * info_loss(out[:, 1:], z[:, 3:])[0]

    stats = gan.g_step(z)
    assert stats["g_loss"] == pytest.approx(loss(), rel=1e-12)
    # the step reports Q's own cross-entropy, unweighted: ln 3 = 1.10 would be a guess
    print(f"q_loss {stats['q_loss']:.4f}")
    assert stats["q_loss"] == pytest.approx(q_loss(), rel=1e-12) and stats["q_loss"] > 0
    _assert_matches_finite_differences("G phase with codes", rec.seen, loss,
                                       G.parameters())


def test_noise_with_codes_is_z_then_a_uniform_one_hot_code():
    G, D = _nets(seed=30, codes=K)
    z = GAN(G, D, latent_dim=3, codes=K, rng=0).sample_noise(3000, rng=5)
    assert z.shape == (3000, 3 + K)
    # z first, drawn exactly as without codes; then one 1 per row
    np.testing.assert_array_equal(z[:, :3], GAN(*_nets(), latent_dim=3).sample_noise(3000, rng=5))
    assert set(np.unique(z[:, 3:])) == {0.0, 1.0} and np.all(z[:, 3:].sum(axis=1) == 1)
    counts = z[:, 3:].sum(axis=0)
    assert counts.min() > 0.9 * 1000 and counts.max() < 1.1 * 1000   # ~1000 each
    # a fixed code: the same z, that code in every row; a code the GAN lacks is an error
    gan = GAN(G, D, latent_dim=3, codes=K, rng=0)
    fixed = gan.sample_noise(3000, rng=5, code=2)
    np.testing.assert_array_equal(fixed[:, :3], z[:, :3])
    assert np.all(fixed[:, 3 + 2] == 1) and fixed[:, 3:].sum() == 3000
    with pytest.raises(ValueError, match=r"code 3: this GAN's code has values 0..2"):
        gan.sample_noise(2, code=3)
    with pytest.raises(ValueError, match="has no code"):
        GAN(*_nets(), latent_dim=3).sample_noise(2, code=0)



def test_codes_with_networks_built_without_them_are_rejected():
    expected = (r"G must read latent_dim \+ codes = 6 inputs and D give 1 \+ codes = 4 outputs, "
                r"but G reads 3 and D gives 1")
    with pytest.raises(ValueError, match=expected):
        GAN(*_nets(), latent_dim=3, codes=K)
    G, D = _nets(seed=30, codes=K)
    GAN(G, D, latent_dim=3, codes=K)          # the right widths: accepted


def test_g_step_leaves_d_bit_identical_and_computes_no_d_gradients(backend):
    G, D = mnist_mlp(rng=0)
    gan = GAN(G, D, latent_dim=100, rng=1)
    D.zero_grad()
    before_d, before_g = _snapshot(D), _snapshot(G)
    stats = gan.g_step(batch_size=16)
    _assert_unchanged(D, before_d)
    assert all(not np.any(p.grad) for p in D.parameters())
    assert D.trainable  # frozen only for the duration of the step
    assert any(not np.array_equal(v, before_g[k]) for k, v in G.state_dict().items())
    assert np.isfinite(stats["g_loss"])


def test_d_step_leaves_g_bit_identical(backend):
    G, D = mnist_mlp(rng=0)
    gan = GAN(G, D, latent_dim=100, rng=1)
    before_g, before_d = _snapshot(G), _snapshot(D)
    real = np.random.default_rng(2).random((16, 784), dtype=np.float32)
    stats = gan.d_step(real)
    _assert_unchanged(G, before_g)  # running statistics included
    assert G.trainable
    assert any(not np.array_equal(v, before_d[k]) for k, v in D.state_dict().items())
    assert set(stats) == {"d_loss", "d_x", "d_g_z", "d_acc"} and 0 <= stats["d_acc"] <= 1


def test_same_seed_same_result_bit_for_bit(backend):
    def run():
        G, D = mnist_mlp(rng=3)
        gan = GAN(G, D, latent_dim=100, rng=4)
        real = np.random.default_rng(5).random((32, 784), dtype=np.float32)
        for _ in range(3):
            gan.train_step(real)
        return G.state_dict(), gan.sample(8, rng=6)

    (g1, s1), (g2, s2) = run(), run()
    np.testing.assert_array_equal(s1, s2)
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k], err_msg=k)


def test_sample_uses_eval_mode_and_restores_training(backend):
    G, D = mnist_mlp(rng=0)
    gan = GAN(G, D, latent_dim=100, rng=0)
    one = gan.sample(1, rng=7)  # a batch of one works only with running statistics
    assert one.shape == (1, 784) and 0 <= one.min() and one.max() <= 1
    # independent of the rest of the batch (up to BLAS rounding, which varies with batch size)
    np.testing.assert_allclose(gan.sample(5, rng=7)[:1], one, rtol=1e-5)
    assert G.training


def test_d_steps_and_half_batch_schedule_draw_fresh_real_batches(backend):
    G, D = toy_mlp(rng=0)
    gan = GAN(G, D, latent_dim=2, d_steps=3, d_half_batch=True, rng=0)
    sizes = []

    def next_real():
        sizes.append(8)
        return np.random.default_rng(len(sizes)).normal(size=(8, 2)).astype(np.float32)

    stats = gan.train_step(next_real)
    assert len(sizes) == 3
    assert {"d_loss", "g_loss", "d_x", "d_g_z", "d_acc"} <= set(stats)
    assert "q_loss" not in stats     # only a GAN with InfoGAN's code has Q


def _two_d_gan(d_steps):
    G, D = toy_mlp(rng=0)
    return GAN(G, D, latent_dim=2, d_steps=d_steps, rng=1)


def test_d_steps_report_the_mean_of_their_discriminator_steps(backend):
    """k = 3: the D statistics of train_step are the means over its three D steps, made
    here by hand on an identically seeded GAN -- not the last step's alone."""
    batches = [np.random.default_rng(i).normal(size=(8, 2)).astype(np.float32) for i in range(3)]
    fed = iter(batches)
    stats = _two_d_gan(3).train_step(lambda: next(fed))
    by_hand = _two_d_gan(1)
    steps = [by_hand.d_step(batch) for batch in batches]
    g = by_hand.g_step(batch_size=8)
    assert set(stats) == {*steps[0], *g}
    assert stats["g_loss"] == g["g_loss"]                 # the same draws, the same G step
    for key in steps[0]:
        assert type(stats[key]) is float
        assert stats[key] == pytest.approx(sum(s[key] for s in steps) / 3, rel=1e-12), key
    assert stats["d_loss"] != steps[-1]["d_loss"]


def test_one_d_step_reports_that_steps_statistics_exactly(backend):
    batch = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    stats = _two_d_gan(1).train_step(batch)
    by_hand = _two_d_gan(1)
    expected = {**by_hand.d_step(batch), **by_hand.g_step(batch_size=8)}
    assert stats == expected
    assert [type(v) for v in stats.values()] == [type(v) for v in expected.values()]


def test_bad_gan_settings_are_rejected():
    G, D = toy_mlp(rng=0)
    for kwargs, msg in [({"loss": "hinge"}, "unknown loss 'hinge'"),
                        ({"noise": "cauchy"}, "unknown noise 'cauchy'"),
                        ({"d_steps": 0}, "d_steps must be a positive integer"),
                        ({"d_steps": 1.5}, "d_steps must be a positive integer"),
                        ({"latent_dim": 0}, "latent_dim must be a positive integer"),
                        ({"latent_dim": 2.5}, "latent_dim must be a positive integer"),
                        ({"label_smoothing": -0.1}, "label_smoothing"),
                        ({"g_batch_scale": 0}, "g_batch_scale must be a positive integer"),
                        ({"g_batch_scale": 1.5}, "g_batch_scale must be a positive integer"),
                        ({"codes": 1}, "codes must be 0 \\(off\\) or"),
                        ({"codes": 4, "pack": 2}, "cannot be combined with pack"),
                        ({"codes": 4, "feature_matching": True}, "feature_matching"),
                        ({"codes": 4, "info_weight": 0.0}, "info_weight must be positive")]:
        with pytest.raises(ValueError, match=msg):
            GAN(G, D, **{"latent_dim": 2, **kwargs})
    gan = GAN(G, D, latent_dim=2, rng=0)
    for n in (0, -1, 2.5):   # numpy's "negative dimensions" or a silent truncation before
        with pytest.raises(ValueError, match="number of samples must be a positive integer"):
            gan.sample(n)
    with pytest.raises(ValueError, match=r"Dense\(2 -> 128\).*expected input of shape \(batch, 2\)"):
        gan.d_step(np.zeros((4, 3), np.float32))


def _ring(n, rng):
    k = rng.integers(0, 8, size=n)
    centres = np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], 1)
    return (centres[k] + 0.02 * rng.standard_normal((n, 2))).astype(np.float32), centres


def test_a_seeded_2d_gan_learns_the_ring_in_seconds(backend):
    rng = np.random.default_rng(0)
    _, centres = _ring(1, rng)
    G, D = toy_mlp(latent_dim=2, hidden=64, rng=1)
    gan = GAN(G, D, latent_dim=2, g_optimizer=Adam(G.parameters(), 1e-3),
              d_optimizer=Adam(D.parameters(), 1e-3), rng=2)

    def distance():
        x = gan.sample(500, rng=3).astype(np.float64)
        return float(np.mean(np.min(np.linalg.norm(x[:, None] - centres[None], axis=2), axis=1)))

    start = distance()
    for _ in range(1000):
        gan.train_step(_ring(64, rng)[0])
    end = distance()
    print(f"mean distance to nearest mode: {start:.3f} -> {end:.3f}")
    # samples start ~0.5 from the nearest centre (near the origin); learnt, they sit on the ring
    assert end < 0.3 * start and end < 0.25
