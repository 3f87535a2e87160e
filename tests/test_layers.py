"""Every layer's backward against finite differences, and the layer contract."""

import numpy as np
from _layer_checks import nontrivial as _nontrivial, report as _report
import pytest

from tinygan.gradcheck import check_layer
from tinygan.layers import BatchNorm, Dense, LeakyReLU, ReLU, Sigmoid, Tanh

F64 = np.float64


LAYERS = {
    "dense": lambda: Dense(5, 3, rng=0, dtype=F64),
    "leaky_relu": lambda: LeakyReLU(0.2),
    "relu": lambda: ReLU(),
    "sigmoid": lambda: Sigmoid(),
    "tanh": lambda: Tanh(),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_gradients(name, backend):
    rng = np.random.default_rng(1)
    layer = _nontrivial(LAYERS[name](), rng)
    x = rng.normal(size=(4, 5))
    x[np.abs(x) < 0.05] = 0.3  # keep kinks of (Leaky)ReLU away from the probes
    _report(layer, check_layer(layer, x, rng=2))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("trainable", [True, False], ids=["trainable", "frozen"])
def test_batchnorm_gradients(training, trainable, backend):
    rng = np.random.default_rng(3)
    bn = _nontrivial(BatchNorm(6, dtype=F64), rng)
    bn.train(training)
    bn.trainable = trainable
    errors = check_layer(bn, rng.normal(2.0, 3.0, size=(7, 6)), rng=4)
    assert set(errors) == ({"x", "gamma", "beta"} if trainable else {"x"})
    _report(bn, errors)


def test_frozen_dense_passes_gradient_but_computes_none(backend):
    rng = np.random.default_rng(5)
    layer = _nontrivial(Dense(4, 3, rng=0, dtype=F64), rng)
    layer.trainable = False
    x, dy = rng.normal(size=(2, 4)), rng.normal(size=(2, 3))
    layer.forward(x)
    dx = layer.backward(dy)
    np.testing.assert_allclose(dx, dy @ layer.params["W"].T)
    assert not np.any(layer.grads["W"]) and not np.any(layer.grads["b"])


def test_batchnorm_running_statistics_follow_keras_momentum(backend):
    rng = np.random.default_rng(6)
    bn = BatchNorm(3, momentum=0.8, dtype=F64)
    x = rng.normal(4.0, 2.0, size=(10, 3))
    bn.forward(x)
    np.testing.assert_allclose(bn.running_mean, 0.2 * x.mean(0))
    np.testing.assert_allclose(bn.running_var, 0.8 + 0.2 * x.var(0))


def test_frozen_batchnorm_in_training_mode_changes_nothing(backend):
    bn = BatchNorm(3, dtype=F64)
    before = {k: v.copy() for k, v in {**bn.params, **bn.buffers}.items()}
    bn.trainable = False
    x = np.random.default_rng(7).normal(size=(8, 3))
    y = bn.forward(x)
    bn.backward(np.ones_like(y))
    # still normalised with the batch's own statistics ...
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    # ... but nothing in the layer moved
    for k, v in {**bn.params, **bn.buffers}.items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_batchnorm_eval_uses_running_statistics(backend):
    bn = BatchNorm(2, dtype=F64).eval()
    bn.running_mean[...] = [1.0, -1.0]
    bn.running_var[...] = [4.0, 0.25]
    x = np.array([[3.0, 0.0]])
    # a batch of one is fine in eval mode: y = (x - mean) / sqrt(var + eps)
    np.testing.assert_allclose(bn.forward(x), [[2.0 / np.sqrt(4.001), 1.0 / np.sqrt(0.251)]])


def test_backward_never_changes_weights(backend):
    layer = Dense(3, 2, rng=0)
    W = layer.params["W"].copy()
    layer.forward(np.ones((4, 3), np.float32))
    layer.backward(np.ones((4, 2), np.float32))
    np.testing.assert_array_equal(layer.params["W"], W)
    assert np.any(layer.grads["W"])


def test_gradients_accumulate_until_zero_grad(backend):
    rng = np.random.default_rng(8)
    layer = Dense(3, 2, rng=0, dtype=F64)
    x, dy = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    for _ in range(2):
        layer.forward(x)
        layer.backward(dy)
    np.testing.assert_allclose(layer.grads["W"], 2 * x.T @ dy)
    layer.zero_grad()
    assert not np.any(layer.grads["W"])
    # after zero_grad the first backward writes the product straight into the
    # gradient (no temporary); the second must add to it, not overwrite it
    dy2 = rng.normal(size=(4, 2))
    layer.forward(x)
    layer.backward(dy)
    np.testing.assert_allclose(layer.grads["W"], x.T @ dy)
    layer.forward(x)
    layer.backward(dy2)
    np.testing.assert_allclose(layer.grads["W"], x.T @ dy + x.T @ dy2)
    # zeroing the arrays another way (an optimizer's zero_grad) is still honoured
    layer.grads["W"].fill(0)
    layer.forward(x)
    layer.backward(dy2)
    np.testing.assert_allclose(layer.grads["W"], x.T @ dy2)


@pytest.mark.parametrize("bad", [np.zeros((4, 5)), np.zeros(3), np.zeros((2, 3, 1))])
def test_dense_rejects_wrong_shape_naming_layer(bad):
    with pytest.raises(ValueError, match=r"Dense\(3 -> 2\).*expected input of shape \(batch, 3\)"):
        Dense(3, 2).forward(bad)


def test_layers_refuse_dtypes_the_kernels_do_not_take_and_a_slope_that_is_not_finite():
    with pytest.raises(ValueError, match="Dense: dtype int32 is not supported; use float32"):
        Dense(3, 2, dtype=np.int32)    # would silently truncate every weight to 0
    with pytest.raises(ValueError, match="BatchNorm: dtype float16 is not supported"):
        BatchNorm(3, dtype=np.float16)
    with pytest.raises(ValueError, match="LeakyReLU: alpha must be a finite number"):
        LeakyReLU(float("nan"))


def test_batchnorm_rejects_wrong_width_and_single_sample_training():
    with pytest.raises(ValueError, match=r"BatchNorm\(4\).*\(batch, 4\).*\(8, 3\)"):
        BatchNorm(4).forward(np.zeros((8, 3), np.float32))
    with pytest.raises(ValueError, match="at least 2"):
        BatchNorm(4).forward(np.zeros((1, 4), np.float32))


@pytest.mark.parametrize("name", [*LAYERS, "batchnorm"])
def test_backward_before_forward_is_a_clear_error(name):
    layer = BatchNorm(5) if name == "batchnorm" else LAYERS[name]()
    with pytest.raises(RuntimeError, match="without a matching forward"):
        layer.backward(np.ones((4, 3)))


def test_two_forwards_then_two_backwards_is_caught():
    """The real-then-fake cache bug: the second backward must not reuse stale activations."""
    layer = Dense(3, 2, rng=0)
    layer.forward(np.ones((2, 3), np.float32))
    layer.forward(np.zeros((2, 3), np.float32))
    layer.backward(np.ones((2, 2), np.float32))
    with pytest.raises(RuntimeError, match="without a matching forward"):
        layer.backward(np.ones((2, 2), np.float32))


def test_sigmoid_is_finite_and_exact_at_extremes(backend):
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    y = Sigmoid().forward(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_array_equal(y[[0, 2, 4]], [0.0, 0.5, 1.0])


def test_dense_initialisation_is_glorot_uniform():
    W = Dense(300, 200, rng=0, dtype=F64).params["W"]
    limit = np.sqrt(6 / 500)
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.99 * limit
    assert abs(W.std() - limit / np.sqrt(3)) < 0.01 * limit  # std of U(-a, a) is a / sqrt(3)


def test_check_layer_refuses_float32_and_catches_a_frozen_layer_that_moves_its_statistics():
    with pytest.raises(ValueError, match=r"holds W, b in float32; finite differences need float64"):
        check_layer(Dense(3, 2, rng=0), np.ones((2, 3)))

    class LeakyStatistics(BatchNorm):   # bug: updates running statistics even when frozen
        def forward(self, x):
            self.buffers["running_mean"] += 1.0
            return super().forward(x)

    layer = LeakyStatistics(3, dtype=F64)
    layer.trainable = False
    with pytest.raises(AssertionError, match="changed its buffer running_mean"):
        check_layer(layer, np.random.default_rng(0).normal(size=(4, 3)))
    layer = _nontrivial(BatchNorm(3, dtype=F64), np.random.default_rng(2))   # the real one passes
    layer.trainable = False
    _report(layer, check_layer(layer, np.random.default_rng(0).normal(size=(4, 3)), rng=1), tol=1e-7)
