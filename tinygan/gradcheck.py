"""Finite-difference gradient checks.

The analytic gradient from ``backward`` is compared with the slope measured by
central differences::

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)        error O(h^2)

Three habits make the check trustworthy:

* **float64.**  With h = 1e-6 the two function values agree in their first ~10
  digits; float32 keeps only 7, so its difference is mostly rounding noise.
* **A random upstream gradient.**  We check ``f(x) = sum(layer(x) * R)`` for a
  random R, not ``sum(layer(x))``: with all-ones R, a backward that forgets to
  multiply by ``dy`` (or sums the wrong axis) can still pass.
* **Relative error** ``|a - n| / max(|a| + |n|, tiny)``: ~1e-7 or smaller
  means right; 1e-2 means a bug.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def rel_error(a, b) -> float:
    """Largest element-wise relative error ``|a - b| / (|a| + |b|)`` (0 where both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0


def rel_error_norm(a, b) -> float:
    """Relative error of whole arrays, ``||a - b|| / (||a|| + ||b||)``.

    Use it for a whole network, where some gradient elements are legitimately
    ~1e-12 (a saturated unit) and a finite difference cannot resolve them one by
    one, though it resolves the gradient vector as a whole.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def cmp(name: str, analytic, reference) -> str:
    """One line saying whether two arrays are exactly equal, close, and how far apart.

    >>> cmp("dW", np.ones(3), np.ones(3))
    'dW             | exact: True  | approx: True  | max diff: 0.0'
    """
    a, r = np.asarray(analytic), np.asarray(reference)
    exact = bool(np.array_equal(a, r))
    approx = bool(np.allclose(a, r, rtol=1e-5, atol=1e-8))
    diff = float(np.max(np.abs(a.astype(np.float64) - r))) if a.size else 0.0
    return f"{name:<15}| exact: {exact!s:<5} | approx: {approx!s:<5} | max diff: {diff:.3g}"


def numerical_grad(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` w.r.t. array ``x``, perturbed in place."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def check_layer(layer, x: np.ndarray, *, rng=None, h: float = 1e-6) -> dict[str, float]:
    """Relative error of ``layer.backward`` for the input and every parameter.

    The layer must be float64.  Its training flag is used as set (so BatchNorm
    can be checked in both modes); a frozen layer is checked for ``dx`` only and
    must leave every ``grads`` array at zero.  Returns ``{"x": err, "W": err, ...}``.
    """
    single = [k for k, v in layer.params.items() if v.dtype != np.float64]
    if single:   # the layer would compute in its own dtype: differences of rounding noise
        raise ValueError(f"check_layer: {layer!r} holds {', '.join(single)} in "
                         f"{layer.params[single[0]].dtype}; finite differences need float64, "
                         "build the layer with dtype=np.float64")
    rng = np.random.default_rng(rng)
    x = np.array(x, dtype=np.float64)
    # Forward once to learn the output shape, then fix the random upstream gradient.
    snapshot = {k: v.copy() for k, v in layer.buffers.items()}
    R = rng.standard_normal(np.shape(layer.forward(x)))

    def restore():  # running statistics must not drift while we probe
        for k, v in snapshot.items():
            layer.buffers[k][...] = v

    def f():
        restore()
        return float(np.sum(layer.forward(x) * R))

    restore()
    layer.zero_grad()
    layer.forward(x)
    if not layer.trainable:
        for k, v in snapshot.items():
            if not np.array_equal(layer.buffers[k], v):
                raise AssertionError(f"frozen {layer!r} changed its buffer {k} in forward")
    dx = layer.backward(R)
    errors = {"x": rel_error(dx, numerical_grad(f, x, h))}
    for name, p in layer.params.items():
        analytic = layer.grads[name].copy()
        if layer.trainable:
            errors[name] = rel_error(analytic, numerical_grad(f, p, h))
        elif np.any(analytic):
            raise AssertionError(f"frozen {layer!r} computed a gradient for {name}")
    restore()
    return errors


def check_function(f: Callable[[], float], analytic: dict[str, np.ndarray],
                   wrt: dict[str, np.ndarray], h: float = 1e-6) -> dict[str, float]:
    """Relative error of each ``analytic[name]`` against finite differences of ``f`` w.r.t. ``wrt[name]``."""
    return {name: rel_error(analytic[name], numerical_grad(f, wrt[name], h)) for name in wrt}
