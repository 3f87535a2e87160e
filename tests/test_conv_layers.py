"""Gradient checks and contracts of the convolutional GAN's layers, and the mnist_dcgan preset.

Gradient checks: float64, central differences, a random upstream gradient,
non-trivial parameters, on both backends (the ``backend`` fixture).
"""

import numpy as np
from _layer_checks import nontrivial, report as _report
import pytest

from tinygan import GAN
from tinygan.gradcheck import check_layer
from tinygan.layers import BatchNorm, Conv2D, Dropout, Flatten, Reshape, UpSampling2D
from tinygan.presets import mnist_dcgan

F64 = np.float64
# Conv2D, UpSampling2D, Reshape, Flatten and Dropout (with a fixed mask) are linear in x and in
# W, so central differences have no truncation error at any step h: a larger step than
# gradcheck's default 1e-6 only shrinks the rounding error, which would otherwise dominate for
# the few entries of dx that nearly cancel.
H_LINEAR = 1e-3






# -- Conv2D ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (3, 2, 6, 6)], ids=["7x5", "6x6"])
def test_conv2d_gradients(shape, padding, stride, backend):
    rng = np.random.default_rng(0)
    layer = nontrivial(Conv2D(shape[1], 4, 3, stride=stride, padding=padding, rng=1,
                               dtype=F64), rng, mean=0.3)
    errors = check_layer(layer, rng.standard_normal(shape), rng=2, h=H_LINEAR)
    assert set(errors) == {"x", "W", "b"}
    _report(layer, errors)


@pytest.mark.parametrize("k,stride", [(1, 1), (2, 2), (5, 3)])
def test_conv2d_gradients_other_kernels(k, stride, backend):
    rng = np.random.default_rng(3)
    layer = nontrivial(Conv2D(2, 3, k, stride=stride, rng=4, dtype=F64), rng, mean=0.3)
    _report(layer, check_layer(layer, rng.standard_normal((2, 2, 7, 5)), rng=5, h=H_LINEAR))


def test_frozen_conv2d_passes_gradient_but_computes_none(backend):
    rng = np.random.default_rng(6)
    layer = nontrivial(Conv2D(3, 2, 3, stride=2, rng=0, dtype=F64), rng, mean=0.3)
    layer.trainable = False
    # check_layer raises if a frozen layer computed any parameter gradient
    errors = check_layer(layer, rng.standard_normal((2, 3, 7, 5)), rng=7, h=H_LINEAR)
    assert set(errors) == {"x"}
    _report(layer, errors)


def test_conv2d_grads_accumulate_and_input_grad_false_skips_dx(backend):
    rng = np.random.default_rng(8)
    layer = nontrivial(Conv2D(3, 2, 3, rng=0, dtype=F64), rng, mean=0.3)
    x, dy = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 2, 5, 4))
    layer.forward(x)
    layer.backward(dy)
    once = layer.grads["W"].copy()
    layer.forward(x)
    assert layer.backward(dy, input_grad=False) is None
    np.testing.assert_allclose(layer.grads["W"], 2 * once, rtol=1e-12)


# -- UpSampling2D, Reshape, Flatten --------------------------------------------------------------
@pytest.mark.parametrize("size", [1, 2, 3])
def test_upsampling_gradients(size, backend):
    rng = np.random.default_rng(9)
    layer = UpSampling2D(size)
    x = rng.standard_normal((2, 3, 4, 5))
    assert layer.forward(x).shape == (2, 3, 4 * size, 5 * size) == layer.output_shape(x.shape)
    _report(layer, check_layer(layer, x, rng=10))


def test_upsampling_copies_and_backward_sums_blocks(backend):
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    layer = UpSampling2D(2)
    np.testing.assert_array_equal(layer.forward(x)[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2],
                                                           [3, 3, 4, 4], [3, 3, 4, 4]])
    dy = np.arange(16.0).reshape(1, 1, 4, 4)
    # block sums: [0+1+4+5, 2+3+6+7], [8+9+12+13, 10+11+14+15]
    np.testing.assert_array_equal(layer.backward(dy)[0, 0], [[10, 18], [42, 50]])


def test_reshape_and_flatten_gradients():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 24))
    _report(Reshape((2, 3, 4)), check_layer(Reshape((2, 3, 4)), x, rng=12))
    _report(Flatten(), check_layer(Flatten(), x.reshape(3, 2, 3, 4), rng=13))
    r = Reshape((2, 3, 4))
    assert r.forward(x).shape == (3, 2, 3, 4) == r.output_shape((3, 24))
    assert Flatten().output_shape((None, 2, 3, 4)) == (None, 24)
    with pytest.raises(ValueError, match="expected input of shape .* with 24 values per sample"):
        r.forward(np.zeros((3, 25)))
    with pytest.raises(ValueError, match="target_shape must be positive"):
        Reshape((0, 4))
    with pytest.raises(ValueError, match="expected input of shape"):
        Flatten().forward(np.zeros(5))


# -- Dropout ---------------------------------------------------------------------------------------
def test_dropout_drops_the_rate_and_keeps_the_mean():
    layer = Dropout(0.3, rng=0)
    x = np.ones((200, 500), dtype=np.float32)
    y = layer.forward(x)
    dropped = np.mean(y == 0)
    print(f"dropped {dropped:.4f} of 100,000 (rate 0.3); mean {y.mean():.4f}")
    assert abs(dropped - 0.3) < 0.01          # 10 standard deviations of a binomial share: ~0.0014
    np.testing.assert_allclose(np.unique(y), [0, 1 / 0.7], rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02          # inverted dropout: E[y] = x
    assert y.dtype == np.float32


def test_dropout_backward_uses_the_forward_mask():
    rng = np.random.default_rng(1)
    layer = Dropout(0.5, rng=2)
    x = rng.standard_normal((6, 7)) + 3.0      # never 0, so y == 0 marks exactly the drops
    y = layer.forward(x)
    dy = rng.standard_normal(x.shape)
    np.testing.assert_allclose(layer.backward(dy), np.where(y == 0, 0.0, dy / 0.5), rtol=1e-15)


def test_dropout_gradient_check_with_a_fixed_mask():
    """Finite differences need the same mask at every probe: rewind the rng before each forward."""
    layer = Dropout(0.4, rng=3)
    state = layer.rng.bit_generator.state
    forward = layer.forward

    def forward_same_mask(x):
        layer.rng.bit_generator.state = state
        return forward(x)

    layer.forward = forward_same_mask
    _report(layer, check_layer(layer, np.random.default_rng(4).standard_normal((5, 6)), rng=5))


def test_dropout_eval_is_identity_and_frozen_training_still_drops():
    x = np.random.default_rng(5).standard_normal((8, 9))
    layer = Dropout(0.3, rng=6).eval()
    assert layer.forward(x) is x
    dy = np.ones_like(x)
    assert layer.backward(dy) is dy
    layer.train()
    layer.trainable = False                   # frozen, as D in phase 2: dropout stays on
    assert np.count_nonzero(layer.forward(x) == 0) > 0


def test_dropout_same_seed_same_masks_and_bad_rate():
    x = np.ones((10, 10))
    a, b = Dropout(0.5, rng=7), Dropout(0.5, rng=7)
    for _ in range(3):
        np.testing.assert_array_equal(a.forward(x), b.forward(x))
        a.backward(x), b.backward(x)
    for rate in (-0.1, 1.0):
        with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
            Dropout(rate)


# -- BatchNorm over channels ----------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("trainable", [True, False], ids=["trainable", "frozen"])
def test_batchnorm_4d_gradients(training, trainable, backend):
    rng = np.random.default_rng(12)
    bn = nontrivial(BatchNorm(3, dtype=F64), rng, mean=0.3)
    bn.train(training)
    bn.trainable = trainable
    # eval mode is affine in x, gamma and beta: the linear layers' step applies
    errors = check_layer(bn, rng.normal(1.0, 2.0, size=(2, 3, 4, 5)), rng=13,
                         h=1e-6 if training else H_LINEAR)
    assert set(errors) == ({"x", "gamma", "beta"} if trainable else {"x"})
    _report(bn, errors)


def test_batchnorm_4d_normalises_each_channel_over_n_h_w(backend):
    rng = np.random.default_rng(14)
    bn = BatchNorm(3, momentum=0.9, dtype=F64)
    bn.params["gamma"][...] = [1.0, 2.0, 0.5]
    bn.params["beta"][...] = [0.0, -1.0, 3.0]
    x = rng.normal(size=(4, 3, 5, 6)) * np.array([1, 5, 0.1])[None, :, None, None] + 2.0
    y = bn.forward(x)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    ref = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-3)
    ref = ref * bn.params["gamma"][None, :, None, None] + bn.params["beta"][None, :, None, None]
    assert y.shape == x.shape and y.flags.c_contiguous
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * var, rtol=1e-12)
    bn.eval()
    ref_eval = ((x - bn.running_mean[None, :, None, None])
                / np.sqrt(bn.running_var[None, :, None, None] + 1e-3)
                * bn.params["gamma"][None, :, None, None] + bn.params["beta"][None, :, None, None])
    np.testing.assert_allclose(bn.forward(x), ref_eval, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3, \.\.\., \.\.\.\)"):
        bn.forward(np.zeros((4, 2, 5, 6)))


# -- the preset ------------------------------------------------------------------------------
def test_mnist_dcgan_shapes_and_parameter_counts():
    G, D = mnist_dcgan(100, rng=0)
    # Keras's summary of the same models (counts derived in the preset's docstring):
    #   G: Dense 100*6272 + 6272 = 633,472; BatchNorm 4*128 = 512 (256 of them running
    #      statistics, non-trainable); Conv 128->128: 9*128*128 + 128 = 147,584;
    #      Conv 128->64: 9*128*64 + 64 = 73,792; Conv 64->1: 9*64 + 1 = 577.
    #   D: Conv 1->64: 9*64 + 64 = 640; Conv 64->128: 9*64*128 + 128 = 73,856;
    #      Dense 6272 + 1 = 6,273.
    g_counts = [layer.num_params() for layer in G]
    d_counts = [layer.num_params() for layer in D]
    assert sum(t for t, _ in g_counts) == 633_472 + 256 + 147_584 + 73_792 + 577 == 855_681
    assert sum(n for _, n in g_counts) == 256
    assert sum(t for t, _ in d_counts) == 640 + 73_856 + 6_273 == 80_769
    assert sum(n for _, n in d_counts) == 0
    text = G.summary((None, 100), print_fn=None)
    assert "Total params: 855,937" in text and "(None, 1, 28, 28)" in text
    assert "Total params: 80,769" in D.summary((None, 1, 28, 28), print_fn=None)
    assert G.output_shape((None, 100)) == (None, 1, 28, 28)
    assert D.output_shape((None, 1, 28, 28)) == (None, 1)

    z = np.random.default_rng(1).standard_normal((4, 100)).astype(np.float32)
    fake = G.forward(z)
    assert fake.shape == (4, 1, 28, 28) and fake.dtype == np.float32
    assert np.all(np.abs(fake) < 1)                                     # Tanh: [-1, 1] images
    assert D.forward(fake).shape == (4, 1)


def test_mnist_dcgan_same_seed_same_models_and_masks():
    (G1, D1), (G2, D2) = mnist_dcgan(rng=5), mnist_dcgan(rng=5)
    for a, b in zip((*G1.parameters(), *D1.parameters()), (*G2.parameters(), *D2.parameters())):
        np.testing.assert_array_equal(a.value, b.value)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(D1.forward(x), D2.forward(x))        # same dropout masks
    dropouts = [layer for layer in D1 if isinstance(layer, Dropout)]
    assert len(dropouts) == 2 and dropouts[0].rng is not dropouts[1].rng


def _snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_dcgan_d_bit_identical_after_g_step_and_g_after_d_step(backend):
    G, D = mnist_dcgan(100, rng=0)
    gan = GAN(G, D, latent_dim=100, d_half_batch=True, rng=1)
    real = np.random.default_rng(2).uniform(-1, 1, (8, 1, 28, 28)).astype(np.float32)
    gan.train_step(real)                      # non-zero Adam state, running statistics moved
    d_before, g_before = _snapshot(D), _snapshot(G)
    stats = gan.g_step(batch_size=8)
    assert np.isfinite(stats["g_loss"])
    for k, v in D.state_dict().items():
        np.testing.assert_array_equal(v, d_before[k], err_msg=f"D's {k} changed in g_step")
    assert any(not np.array_equal(v, g_before[k]) for k, v in G.state_dict().items())
    g_before, d_before = _snapshot(G), _snapshot(D)
    gan.d_step(real[:4])
    for k, v in G.state_dict().items():
        np.testing.assert_array_equal(v, g_before[k], err_msg=f"G's {k} changed in d_step")
    assert any(not np.array_equal(v, d_before[k]) for k, v in D.state_dict().items())
