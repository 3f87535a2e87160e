"""What a layer does with input it cannot use: a clear error naming it, never wrong numbers.

The numba kernels index their arrays without bounds checks, so a ``dy`` unlike
the forward's output must be refused before it reaches them; these tests run on
both backends.
"""

import numpy as np
import pytest

from tinygan import backend as _backend
from tinygan.kernels import activations as act
from tinygan.kernels import batchnorm as bn
from tinygan.layers import (BatchNorm, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MinibatchStd,
                            Reshape, Sigmoid, Tanh, UpSampling2D)

F32 = np.float32

# name -> (layer, an input it accepts)
LAYERS = {
    "dense": (lambda: Dense(5, 3, rng=0), (4, 5)),
    "leaky_relu": (lambda: LeakyReLU(0.2), (4, 5)),
    "sigmoid": (lambda: Sigmoid(), (4, 5)),
    "tanh": (lambda: Tanh(), (4, 5)),
    "batchnorm": (lambda: BatchNorm(5), (4, 5)),
    "batchnorm_eval": (lambda: BatchNorm(5).eval(), (4, 5)),
    "batchnorm_4d": (lambda: BatchNorm(3), (2, 3, 4, 4)),
    "dropout": (lambda: Dropout(0.5, rng=0), (4, 5)),
    "minibatch_std": (lambda: MinibatchStd(5), (4, 5)),
    "conv2d": (lambda: Conv2D(3, 2, 3, rng=0), (2, 3, 5, 5)),
    "upsampling": (lambda: UpSampling2D(2), (2, 3, 4, 4)),
    "reshape": (lambda: Reshape((2, 10)), (4, 20)),
    "flatten": (lambda: Flatten(), (2, 3, 4, 4)),
}


def _wrong_shapes(shape):
    """dy shapes that are not the output's: more rows, fewer rows, one more column."""
    return [(shape[0] * 50, *shape[1:]), (1, *shape[1:]), (*shape[:-1], shape[-1] + 1)]


@pytest.mark.parametrize("name", LAYERS)
def test_backward_refuses_a_dy_unlike_the_output(name, backend):
    make, in_shape = LAYERS[name]
    x = np.random.default_rng(0).standard_normal(in_shape).astype(F32)
    for bad in _wrong_shapes(make().forward(x).shape):
        layer = make()
        y = layer.forward(x)
        with pytest.raises(ValueError, match=r"backward got dy of shape .*forward before it "
                                             r"returned"):
            layer.backward(np.ones(bad, F32))
        # the refused dy consumed nothing: the right one still works, and only once
        assert layer.backward(np.ones(y.shape, F32)) is not None or name == "dense"


def test_numba_backward_kernels_refuse_mismatched_sizes_themselves():
    """Called directly (they are public), the kernels check too: no read past the end."""
    if not _backend.numba_available():
        pytest.skip("numba is not installed")
    x, dy = np.ones((2, 3), F32), np.ones((500, 3), F32)
    with pytest.raises(ValueError, match="same shape"):
        act.leaky_relu_backward.numba(x, dy, 0.2)
    with pytest.raises(ValueError, match="same shape"):
        act.sigmoid_backward.numba(x, dy)
    with pytest.raises(ValueError, match="same shape"):
        act.tanh_backward.numba(x, dy)
    gamma = np.ones(3, F32)
    for kernel in (bn.batchnorm_train_backward, bn.batchnorm_eval_backward):
        with pytest.raises(ValueError, match="shape of the forward's output"):
            kernel.numba(dy, x, gamma, gamma)


@pytest.mark.parametrize("layer", [LeakyReLU(0.2), Sigmoid(), Tanh()], ids=repr)
@pytest.mark.parametrize("dtype", [np.int64, np.float16, bool])
def test_activations_refuse_non_float_input(layer, dtype, backend):
    # integers would make alpha = 0.2 into 0 (a ReLU); float16 has no compiled kernel
    with pytest.raises(ValueError, match=r"expected a float32 or float64 array, got "):
        layer.forward(np.ones((2, 3), dtype))
    with pytest.raises(ValueError, match="got list"):
        layer.forward([[1.0, 2.0]])


def test_batchnorm_and_conv2d_compute_in_their_own_dtype(backend):
    """A float64 (or integer) batch given to a float32 layer, as Dense already handles it."""
    rng = np.random.default_rng(1)
    for layer, shape in ((BatchNorm(4), (6, 4)), (BatchNorm(3), (2, 3, 4, 4)),
                         (Conv2D(3, 2, 3, rng=0), (2, 3, 5, 5))):
        x64 = rng.standard_normal(shape) * 3 + 1
        y = layer.forward(x64)
        assert y.dtype == F32, layer
        dx = layer.backward(rng.standard_normal(y.shape).astype(F32))
        assert dx.dtype == F32, layer
        np.testing.assert_array_equal(y, layer.forward(x64.astype(F32)))
        layer.backward(np.ones(y.shape, F32))
        y_int = layer.forward(np.round(x64).astype(np.int64))
        assert y_int.dtype == F32 and np.all(np.isfinite(y_int))


@pytest.mark.parametrize("make,message", [
    (lambda: Dense(2.7, 3), "Dense needs positive integer sizes, got in=2.7"),
    (lambda: Dense(3, 0), "Dense needs positive integer sizes"),
    (lambda: BatchNorm(-2), "num_features must be a positive integer"),
    (lambda: BatchNorm(2.7), "num_features must be a positive integer"),
    (lambda: BatchNorm(4, eps=0.0), "eps must be a positive number"),
    (lambda: BatchNorm(4, eps=-1e-3), "eps must be a positive number"),
    (lambda: MinibatchStd(-1), "in_features must be a positive integer"),
    (lambda: MinibatchStd(4, eps=-1.0), "eps must be a number >= 0"),
])
def test_layer_settings_are_checked_when_built(make, message):
    with pytest.raises(ValueError, match=message):
        make()
