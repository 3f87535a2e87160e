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


def off_defaults(*nets, seed=0):
    """Move every bias, gamma and beta of ``nets`` off its default (0, 1, 0), so a
    backward that drops one of them cannot pass a gradient check.  Weights keep their
    Glorot initialisation (large ones would saturate a sigmoid or tanh)."""
    rng = np.random.default_rng(seed)
    for net in nets:
        for p in net.parameters():
            if p.name.endswith((".b", "gamma", "beta")):
                p.value[...] = rng.normal(0.5, 0.5, size=p.value.shape)
    return nets if len(nets) > 1 else nets[0]
