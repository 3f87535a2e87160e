"""Helpers shared by the layer gradient-check tests."""

import numpy as np

TOL = 1e-6  # central differences in float64 agree to ~1e-8; a wrong formula gives ~1e-1


def nontrivial(layer, rng, mean=0.5):
    """Replace default parameters (zeros, ones) by random values, so no term can hide."""
    for p in layer.params.values():
        p[...] = rng.normal(mean, 0.7, size=p.shape)
    for name, b in layer.buffers.items():
        b[...] = rng.uniform(0.5, 2.0, size=b.shape) if "var" in name else rng.normal(size=b.shape)
    return layer


def report(layer, errors, tol=TOL):
    """Print every relative error, then bound the largest."""
    print(f"{layer!r}: " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()))
    assert max(errors.values()) < tol, errors
