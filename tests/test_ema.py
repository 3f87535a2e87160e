"""The average of G's weights (tinygan/ema.py): kernel, math, sampling, checkpoints."""

import numpy as np
import pytest

from tinygan import GAN
from tinygan.checkpoint import CheckpointError, load_checkpoint, restore_gan, save_checkpoint
from tinygan.config import ConfigError, TrainConfig
from tinygan.ema import WeightAverage
from tinygan.kernels import ArrayGroup, ema_update_all
from tinygan.presets import mnist_mlp, toy_mlp


def _pairs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(7, 5), (5,), (3, 4, 2), (1,)]
    shadows = [rng.standard_normal(s).astype(dtype) for s in shapes]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return shadows, params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ema_kernel_matches_numpy_twin(dtype):
    ref_s, params = _pairs(dtype)
    fused_s = [s.copy() for s in ref_s]
    for _ in range(3):
        ema_update_all.numpy(ref_s, params, 0.9)
        ema_update_all.numba(ArrayGroup(fused_s), ArrayGroup(params), 0.9)
    for r, f in zip(ref_s, fused_s):
        assert r.dtype == f.dtype == dtype
        np.testing.assert_allclose(f, r, rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert max(np.abs(r - s).max() for r, s in zip(ref_s, _pairs(dtype)[0])) > 0.1   # moved


def test_ema_kernel_non_contiguous_goes_array_by_array():
    shadows, params = _pairs(np.float64)
    params[0] = np.asfortranarray(params[0])          # not C-contiguous: no fused flat view
    ref = [s.copy() for s in shadows]
    ema_update_all.numpy(ref, params, 0.5)
    ema_update_all.numba(shadows, params, 0.5)
    for r, s in zip(ref, shadows):
        np.testing.assert_allclose(s, r, rtol=1e-14)


def test_average_is_the_bias_corrected_weighted_mean_of_the_trained_weights():
    """After t updates, s = sum_k (1 - b) b^(t-k) p_k / (1 - b^t) over the weights p_1..p_t
    the updates saw: the initial weights have no share, and the step weights sum to one."""
    G, _ = toy_mlp(rng=0, dtype=np.float64)
    decay, rng = 0.9, np.random.default_rng(1)
    avg = WeightAverage(G, decay)
    seen = []                                       # the weights at each update
    for t in range(1, 8):
        for p in G.parameters():                    # a training step moves every weight
            p.value[...] = rng.standard_normal(p.value.shape)
        seen.append([p.value.copy() for p in G.parameters()])
        avg.update()
        assert avg.updates == t
        w = np.array([(1 - decay) * decay ** (t - k) for k in range(1, t + 1)]) / (1 - decay ** t)
        for j, s in enumerate(avg.shadows):
            expected = sum(wk * step[j] for wk, step in zip(w, seen))
            np.testing.assert_allclose(s, expected, rtol=1e-12, atol=1e-14)
        if t == 1:                          # r_1 = 1: the first trained weights (to rounding)
            for p, s in zip(G.parameters(), avg.shadows):
                np.testing.assert_allclose(s, p.value, rtol=1e-15, atol=1e-16)


def test_average_restored_without_a_count_continues_fully_warmed():
    """A checkpoint written before the count was kept: the old rule, s += (1 - b)(p - s),
    so with p fixed, s = p + b^k (s0 - p) after k more updates, as such a run behaved."""
    G, _ = toy_mlp(rng=0, dtype=np.float64)
    avg = WeightAverage(G, 0.9)
    old_state = {k: v for k, v in avg.state_dict().items() if k != "updates"}
    avg.load_state_dict(old_state)
    assert avg.updates is None and "updates" not in avg.state_dict()
    s0 = [s.copy() for s in avg.shadows]
    for p in G.parameters():
        p.value[...] += 1.0
    for _ in range(5):
        avg.update()
    for p, s, s_init in zip(G.parameters(), avg.shadows, s0):
        np.testing.assert_allclose(s, p.value + 0.9 ** 5 * (s_init - p.value), rtol=1e-12)


@pytest.mark.parametrize("bad", [np.array(-1), np.array([3, 4]), np.array(2.5), np.array("7")])
def test_average_refuses_a_count_that_is_not_one_integer(bad):
    G, _ = toy_mlp(rng=0)
    avg = WeightAverage(G, 0.9)
    state = {**avg.state_dict(), "updates": bad}
    with pytest.raises(ValueError, match="'updates' must be a count"):
        avg.load_state_dict(state)
    assert avg.updates == 0


def test_bad_decay_is_refused():
    G, _ = toy_mlp(rng=0)
    for bad in (0.0, 1.0, -0.5):
        with pytest.raises(ValueError, match=r"decay must be in \(0, 1\)"):
            WeightAverage(G, bad)


def test_applied_swaps_weights_recalibrates_batchnorm_and_restores_everything():
    G, _ = mnist_mlp(latent_dim=8, rng=0, dtype=np.float64)
    avg = WeightAverage(G, 0.5)
    for p in G.parameters():
        p.value[...] *= 1.5             # live weights != averaged weights
    avg.update()
    before = {k: v.copy() for k, v in G.state_dict().items()}
    z = np.random.default_rng(1).standard_normal((256, 8))
    with avg.applied(z):
        for p, s in zip(G.parameters(), avg.shadows):
            np.testing.assert_array_equal(p.value, s)
        # The first BatchNorm (layer 2) now holds the statistics of its input for
        # this batch under the averaged weights: h = LeakyReLU(z W + b).
        a = z @ avg.shadows[0] + avg.shadows[1]
        h = np.where(a > 0, a, 0.2 * a)
        np.testing.assert_allclose(G.layers[2].running_mean, h.mean(axis=0), rtol=1e-10)
        np.testing.assert_allclose(G.layers[2].running_var, h.var(axis=0), rtol=1e-10)
        assert G.layers[2].momentum == 0.8 and G.layers[2].training   # flags restored
    after = G.state_dict()
    for k, v in before.items():
        np.testing.assert_array_equal(after[k], v, err_msg=k)


def _gan(ema, seed=0):
    G, D = mnist_mlp(latent_dim=8, rng=seed)
    return GAN(G, D, latent_dim=8, ema=ema, rng=seed)


def test_gan_samples_with_the_average_and_changes_nothing():
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    plain, averaged = _gan(0.0), _gan(0.9)
    for _ in range(5):
        plain.train_step(x)
        averaged.train_step(x)
    # Training is untouched by the average: the same live weights.
    for p, q in zip(plain.generator.parameters(), averaged.generator.parameters()):
        np.testing.assert_array_equal(p.value, q.value)
    state = {k: v.copy() for k, v in averaged.generator.state_dict().items()}
    z = plain.sample_noise(10, rng=3)
    a, b = averaged.generate(z), averaged.generate(z)
    np.testing.assert_array_equal(a, b)                        # repeatable
    assert np.abs(a - plain.generate(z)).max() > 1e-3         # and not the live weights'
    for k, v in averaged.generator.state_dict().items():
        np.testing.assert_array_equal(v, state[k], err_msg=k)  # G untouched


def test_checkpoint_keeps_the_average(tmp_path):
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    gan = _gan(0.9)
    for _ in range(3):
        gan.train_step(x)
    save_checkpoint(tmp_path / "c.npz", config={"preset": "mnist-mlp"}, iteration=3, gan=gan)
    fresh = _gan(0.9, seed=1)
    restore_gan(load_checkpoint(tmp_path / "c.npz"), fresh)
    for s, t in zip(gan.g_ema.shadows, fresh.g_ema.shadows):
        np.testing.assert_array_equal(s, t)
    assert fresh.g_ema.updates == gan.g_ema.updates == 3   # the bias correction goes on from t = 3
    for g in (gan, fresh):
        g.train_step(x)
    for s, t in zip(gan.g_ema.shadows, fresh.g_ema.shadows):
        np.testing.assert_array_equal(s, t)

    save_checkpoint(tmp_path / "plain.npz", config={"preset": "mnist-mlp"}, iteration=3,
                    gan=_gan(0.0))
    with pytest.raises(CheckpointError, match="average of G's weights is missing"):
        restore_gan(load_checkpoint(tmp_path / "plain.npz"), _gan(0.9))


@pytest.mark.parametrize("bad", [1.0, -0.1, "x"])
def test_config_refuses_bad_ema(bad):
    with pytest.raises(ConfigError, match="--ema must be in"):
        TrainConfig(ema=bad).resolved()


def test_sampling_block_sets_up_once_and_matches_generate():
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    gan = _gan(0.9)
    for _ in range(3):
        gan.train_step(x)
    state = {k: v.copy() for k, v in gan.generator.state_dict().items()}
    z = gan.sample_noise(12, rng=5)
    with gan.sampling() as G:           # chunks drawn inside one block, as `tinygan sample` does
        chunks = np.concatenate([G.forward(z[:5]), G.forward(z[5:])])
    # the same bits as setting up for each chunk (a BLAS product's bits can depend
    # on its row count, so compare chunk with chunk)
    np.testing.assert_array_equal(chunks, np.concatenate([gan.generate(z[:5]),
                                                          gan.generate(z[5:])]))
    assert all(layer.training for layer in gan.generator)
    for k, v in gan.generator.state_dict().items():
        np.testing.assert_array_equal(v, state[k], err_msg=k)


def test_a_run_whose_checkpoint_predates_the_count_resumes(tmp_path):
    """Checkpoints written before the average kept its count have no ``G_ema/updates``:
    they load, and the average goes on with the plain rate, as it did when written."""
    from tinygan.training import Trainer
    cfg = TrainConfig(dataset="ring", iterations=6, ema=0.9, out=str(tmp_path / "run"))
    Trainer(cfg, progress=False, echo=lambda m: None).fit()
    path = tmp_path / "run" / "checkpoint.npz"
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert int(arrays.pop("G_ema/updates")) == 6        # written by this tinygan: the count
    np.savez(path, **arrays)                           # as an older tinygan wrote it
    trainer = Trainer.resume(path, {"iterations": 8}, progress=False, echo=lambda m: None)
    assert trainer.gan.g_ema.updates is None
    assert trainer.fit().status == "done"
    assert "G_ema/updates" not in load_checkpoint(path).arrays    # and it stays that kind
