"""Optimizers: exact update rules, bias correction, saved and restored state."""

import numpy as np
import pytest

from tinygan.layers import Dense, LeakyReLU
from tinygan.model import Parameter, Sequential
from tinygan.optim import SGD, Adam, linear_decay


def _param(value, grad):
    return Parameter("p", np.array(value, dtype=np.float64), np.array(grad, dtype=np.float64))


def test_adam_first_step_is_lr_times_sign_of_gradient(backend):
    g = np.array([3.0, -0.002, 1e-3, -50.0])
    p = _param(np.zeros(4), g)
    Adam([p], lr=0.01).step()
    # bias correction makes m_hat = g and sqrt(v_hat) = |g|, whatever beta1 and beta2 are
    np.testing.assert_allclose(p.value, -0.01 * np.sign(g), rtol=1e-5)


def test_adam_two_step_trace_matches_hand_computation(backend):
    p = _param([1.0], [2.0])
    opt = Adam([p], lr=0.1, beta1=0.5, beta2=0.999, eps=1e-8)
    opt.step()
    # t=1: m = 0.5*2 = 1, v = 0.001*4 = 0.004, m_hat = 1/0.5 = 2, v_hat = 0.004/0.001 = 4
    #      p = 1 - 0.1 * 2 / (2 + 1e-8)
    p1 = 1 - 0.1 * 2 / (2 + 1e-8)
    np.testing.assert_allclose(p.value, [p1], rtol=1e-12)
    p.grad[...] = -3.0
    opt.step()
    # t=2: m = 0.5*1 + 0.5*(-3) = -1, v = 0.999*0.004 + 0.001*9 = 0.012996
    #      m_hat = -1 / (1 - 0.25) = -4/3, v_hat = 0.012996 / (1 - 0.999**2) = 0.012996 / 0.001999
    v_hat = 0.012996 / 0.001999
    np.testing.assert_allclose(p.value, [p1 + 0.1 * (4 / 3) / (np.sqrt(v_hat) + 1e-8)], rtol=1e-12)
    assert opt.t == 2


def test_sgd_with_momentum_trace(backend):
    p = _param([1.0, -1.0], [0.5, 2.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()   # v = g; p -= 0.1 * g
    opt.step()   # v = 0.9 * g + g = 1.9 g; p -= 0.1 * 1.9 g
    np.testing.assert_allclose(p.value, np.array([1.0, -1.0]) - 0.1 * 2.9 * np.array([0.5, 2.0]))


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, lr=0.05), lambda ps: SGD(ps, 0.05, 0.5)],
                         ids=["adam", "sgd"])
def test_restored_state_continues_bit_for_bit(make, backend):
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(6, 5)).astype(np.float32)

    def run(steps, opt, p):
        for g in grads[steps]:
            p.grad[...] = g
            opt.step()

    straight = Parameter("p", np.ones(5, np.float32), np.zeros(5, np.float32))
    run(slice(0, 6), make([straight]), straight)

    first = Parameter("p", np.ones(5, np.float32), np.zeros(5, np.float32))
    opt = make([first])
    run(slice(0, 3), opt, first)
    saved = {k: v.copy() for k, v in opt.state_dict().items()}
    resumed = Parameter("p", first.value.copy(), np.zeros(5, np.float32))
    opt2 = make([resumed])
    opt2.load_state_dict(saved)
    run(slice(3, 6), opt2, resumed)
    np.testing.assert_array_equal(resumed.value, straight.value)


def test_optimizer_rejects_bad_settings():
    p = _param([0.0], [0.0])
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        Adam([p], lr=-1)
    with pytest.raises(ValueError, match="beta1"):
        Adam([p], beta1=1.0)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        Adam([p]).load_state_dict({"step": np.array(1), "m.p": np.zeros(3), "v.p": np.zeros(3)})


def test_optimizer_rejects_more_bad_settings():
    p = _param([0.0], [0.0])
    with pytest.raises(ValueError, match="learning rate must be a positive number, got inf"):
        SGD([p], lr=float("inf"))
    with pytest.raises(ValueError, match="SGD momentum must be in"):
        SGD([p], lr=0.1, momentum=1.5)
    for eps in (0.0, -1e-8):   # eps = 0 makes 0 / 0 for a gradient that has always been 0
        with pytest.raises(ValueError, match="Adam eps must be a positive number"):
            Adam([p], eps=eps)


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, lr=0.01),
                                  lambda ps: SGD(ps, lr=0.01, momentum=0.9)],
                         ids=["adam", "sgd"])
def test_frozen_layers_keep_their_weights_and_state(make, backend):
    """Keras's meaning of trainable = False: the optimizer leaves the layer alone, even
    though its moments (or velocity) would otherwise keep moving it with a zero gradient."""
    net = Sequential(Dense(3, 4, rng=0), LeakyReLU(0.2), Dense(4, 2, rng=1))
    opt = make(net.parameters())
    rng = np.random.default_rng(2)
    x, dy = rng.standard_normal((5, 3), np.float32), rng.standard_normal((5, 2), np.float32)

    def step():
        net.forward(x)
        net.backward(dy, accumulate=False)
        opt.step()

    step()                                   # everything learns once: the moments are set
    net[0].trainable = False
    frozen = {k: v.copy() for k, v in net[0].params.items()}
    state = {k: v.copy() for k, v in opt.state_dict().items()
             if k.split(".")[1:2] == ["0"]}          # the first layer's: "m.0.W", "v.0.b" ...
    last = net[2].params["W"].copy()
    step()
    step()
    for k, v in frozen.items():
        np.testing.assert_array_equal(net[0].params[k], v)   # not moved by the moments
    for k, v in state.items():
        np.testing.assert_array_equal(opt.state_dict()[k], v)  # and its state waited
    assert not np.array_equal(net[2].params["W"], last)      # the rest still learns
    net[0].trainable = True
    step()
    assert not np.array_equal(net[0].params["W"], frozen["W"])  # thawed, it learns again


def test_linear_decay_holds_its_final_factor_past_the_end():
    assert linear_decay(0, 100, 0.1) == 1.0
    assert linear_decay(100, 100, 0.1) == pytest.approx(0.1)
    assert linear_decay(250, 100, 0.1) == pytest.approx(0.1)   # never below: no negative rate
