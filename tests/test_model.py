"""Sequential: the stack, its switches, its summary and its saved state."""

import numpy as np
from _layer_checks import off_defaults
import pytest

from tinygan import Sequential
from tinygan.gradcheck import numerical_grad, rel_error_norm
from tinygan.layers import BatchNorm, Conv2D, Dense, Flatten, LeakyReLU, Sigmoid
from tinygan.presets import mnist_mlp, toy_mlp


def _small(dtype=np.float64, seed=0):
    return off_defaults(Sequential(Dense(4, 6, rng=seed, dtype=dtype), LeakyReLU(0.2),
                                   BatchNorm(6, dtype=dtype), Dense(6, 3, rng=seed + 1, dtype=dtype),
                                   Sigmoid()), seed=seed + 2)


def test_sequential_backward_matches_finite_differences(backend):
    rng = np.random.default_rng(0)
    net, x = _small(), rng.normal(size=(5, 4))
    R = rng.normal(size=(5, 3))
    f = lambda: float(np.sum(net.forward(x) * R))  # noqa: E731
    with net.frozen():  # probing must not move BatchNorm's running statistics
        f()
        dx = net.backward(R)
    net.zero_grad()
    net.forward(x)
    net.backward(R)
    # Whole-array relative errors: a unit whose batch sits on one side of LeakyReLU has a
    # bias gradient of exactly 0 (BatchNorm cancels the shift), which central differences
    # give as ~1e-10, 100% off element-wise but nothing against the array's size.
    errs = {"x": rel_error_norm(dx, numerical_grad(f, x))}
    errs.update({p.name: rel_error_norm(p.grad, numerical_grad(f, p.value))
                 for p in net.parameters()})
    print({k: f"{v:.1e}" for k, v in errs.items()})
    assert max(errs.values()) < 1e-7


def test_mnist_mlp_summary_counts_like_keras():
    G, D = mnist_mlp(rng=0)
    g_text = G.summary(print_fn=None)
    assert "Total params: 1,493,520" in g_text
    assert "Trainable params: 1,489,936" in g_text and "Non-trainable params: 3,584" in g_text
    assert "(None, 784)" in g_text
    assert "Total params: 533,505" in D.summary(print_fn=None)
    with D.frozen():
        assert "Trainable params: 0" in D.summary(print_fn=None)


def test_an_empty_sequential_is_refused():
    with pytest.raises(ValueError, match="Sequential needs at least one layer"):
        Sequential()


def test_train_eval_and_trainable_switches_reach_every_layer():
    net = _small()
    net.eval()
    assert not any(layer.training for layer in net) and not net.training
    net.train()
    assert net.training
    with net.frozen():
        assert not any(layer.trainable for layer in net)
    assert net.trainable
    net.trainable = False
    assert not net.trainable


def test_evaluating_restores_each_layers_own_mode_even_after_an_error():
    net = _small()
    net.layers[0].train(False)                 # a mixed model: one layer already in eval mode
    before = [layer.training for layer in net]
    with net.evaluating():
        assert not any(layer.training for layer in net)
    assert [layer.training for layer in net] == before
    with pytest.raises(RuntimeError), net.evaluating():
        raise RuntimeError("boom")
    assert [layer.training for layer in net] == before


def test_state_dict_round_trip_and_mismatch_errors():
    a, b = _small(seed=0), _small(seed=5)
    a.forward(np.random.default_rng(0).normal(size=(8, 4)))  # move running statistics
    b.load_state_dict({k: v.copy() for k, v in a.state_dict().items()})
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v, err_msg=k)
    G, _ = toy_mlp(rng=0)
    with pytest.raises(ValueError, match="missing"):
        G.load_state_dict(a.state_dict())
    bad = {k: v.copy() for k, v in a.state_dict().items()}
    bad["0.W"] = np.zeros((5, 6))
    with pytest.raises(ValueError, match=r"0\.W has shape \(5, 6\), the model expects \(4, 6\)"):
        b.load_state_dict(bad)
    bad["0.W"] = a.state_dict()["0.W"].astype(np.complex128)   # the right shape, not numbers
    with pytest.raises(ValueError, match=r"0\.W holds complex128 values, the model expects"):
        b.load_state_dict(bad)
    b.load_state_dict({k: v.astype(np.float64) for k, v in a.state_dict().items()})  # a rounding


def test_float32_forward_agrees_with_float64():
    G64, D64 = mnist_mlp(rng=0, dtype=np.float64)
    G32, D32 = mnist_mlp(rng=0, dtype=np.float32)
    z = np.random.default_rng(1).standard_normal((32, 100))
    x64 = G64.forward(z)
    x32 = G32.forward(z.astype(np.float32))
    assert x32.dtype == np.float32
    # pixels in [0, 1]: float32 keeps ~7 digits, four layers lose at most a few
    assert np.max(np.abs(x32 - x64)) < 1e-5
    l64, l32 = D64.forward(x64), D32.forward(x64.astype(np.float32))
    assert np.max(np.abs(l32 - l64)) < 1e-4 * max(1.0, np.abs(l64).max())


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="item 1 is int"):
        Sequential(Dense(2, 2), 3)


def _conv_net(seed=0):
    f64 = np.float64
    return Sequential(Conv2D(2, 3, 3, stride=2, rng=seed, dtype=f64), BatchNorm(3, dtype=f64),
                      LeakyReLU(0.2), Flatten(), Dense(3 * 3 * 3, 2, rng=seed + 1, dtype=f64))


@pytest.mark.parametrize("make, shape", [(_small, (5, 4)), (_conv_net, (4, 2, 5, 5))])
def test_backward_without_accumulate_is_zero_grad_then_backward(make, shape, backend):
    """accumulate=False writes every gradient: the same bits as zero_grad() + backward."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape)
    a, b = make(), make()
    y = a.forward(x)
    R1, R2 = rng.normal(size=y.shape), rng.normal(size=y.shape)
    for net in (a, b):                     # leave different garbage in both nets' grads
        for p in net.parameters():
            p.grad[...] = rng.normal(size=p.grad.shape)
        net.forward(x)
        net.backward(R1)
    a.zero_grad()
    a.forward(x)
    a.backward(R2)
    b.forward(x)
    b.backward(R2, accumulate=False)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert np.array_equal(pa.grad, pb.grad), pa.name
    a.forward(x)                           # and the next backward adds again, in both
    a.backward(R1)
    b.forward(x)
    b.backward(R1)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert np.array_equal(pa.grad, pb.grad), pa.name


def test_backward_without_accumulate_zeroes_what_it_does_not_write():
    net = _small()
    x = np.random.default_rng(2).normal(size=(5, 4))
    for p in net.parameters():
        p.grad[...] = 7.0
    net.layers[3].trainable = False        # a frozen layer writes no gradient...
    net.forward(x)
    net.backward(np.ones((5, 3)), accumulate=False)
    assert not np.any(net.layers[3].grads["W"]) and not np.any(net.layers[3].grads["b"])
    assert np.all(net.layers[0].grads["W"] != 7.0)
    for p in net.parameters():             # ...and a backward that fails leaves no stale value
        p.grad[...] = 7.0
    with pytest.raises(RuntimeError, match="without a matching forward"):
        net.backward(np.ones((5, 3)), accumulate=False)
    assert not any(np.any(p.grad) for p in net.parameters())
