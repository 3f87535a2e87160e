"""The ring and grid of Gaussians: right centres, right spread, every mode equally likely."""

import dataclasses

import numpy as np
import pytest

from tinygan.config import TrainConfig
from tinygan.datasets import GRID, RING, Mixture, get_mixture
from tinygan.feeds import make_feed
from tinygan.registry import PRESETS


def test_ring_centres():
    assert RING.n_modes == 8 and RING.std == 0.01
    k = np.arange(8)
    expected = np.stack([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)], axis=1)
    np.testing.assert_allclose(RING.centres, expected, atol=1e-15)


def test_grid_centres():
    assert GRID.n_modes == 25 and GRID.std == 0.05
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in GRID.centres.tolist()} == expected


@pytest.mark.parametrize("mixture, n", [(RING, 80_000), (GRID, 100_000)])
def test_sample_statistics(mixture, n):
    x = mixture.sample(n, np.random.default_rng(0))
    assert x.shape == (n, 2) and x.dtype == np.float32
    index, distance = mixture.nearest(x)
    # Modes are >= 0.76 apart and std <= 0.05: every sample sits by its own centre.
    assert distance.max() < 6 * mixture.std
    # Uniform over modes: each count is Binomial(n, 1/K); allow 5 standard deviations.
    counts = np.bincount(index, minlength=mixture.n_modes)
    p = 1 / mixture.n_modes
    assert np.abs(counts - n * p).max() < 5 * np.sqrt(n * p * (1 - p))
    # The noise has the advertised std per coordinate (relative s.e. ~ 0.3%).
    residual = x - mixture.centres[index]
    np.testing.assert_allclose(residual.std(axis=0), mixture.std, rtol=0.02)
    np.testing.assert_allclose(residual.mean(axis=0), 0, atol=5 * mixture.std / np.sqrt(n))


def test_sampling_is_seeded():
    a = RING.sample(100, np.random.default_rng(1))
    b = RING.sample(100, np.random.default_rng(1))
    c = RING.sample(100, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RING.std = 1.0
    with pytest.raises(ValueError):
        RING.centres[0, 0] = 5.0  # read-only array
    assert RING.centres[0, 0] == 1.0


def test_validation_and_lookup():
    with pytest.raises(ValueError, match=r"\(K, 2\)"):
        Mixture("bad", np.zeros((3, 3)), 0.1)
    with pytest.raises(ValueError, match="std"):
        Mixture("bad", np.zeros((3, 2)), 0.0)
    assert get_mixture("ring") is RING and get_mixture("grid") is GRID
    with pytest.raises(ValueError, match="unknown mixture 'spiral'"):
        get_mixture("spiral")
    assert repr(GRID) == "Mixture(name='grid', n_modes=25, std=0.05)"


def _draws(mixture, n, rng):
    """The points of ``mixture.sample(n, rng)`` worked out in float64, from the same draws."""
    k = rng.integers(mixture.n_modes, size=n)
    return mixture.centres[k] + mixture.std * rng.standard_normal((n, 2))


@pytest.mark.parametrize("dataset", ["ring", "grid"])
def test_a_runs_batches_are_drawn_in_its_dtype(dataset):
    """float64: the float64 points themselves, not float32 ones widened; float32: those
    points rounded once, as before.  The same random draws either way."""
    batches, references = {}, {}
    for dtype in ("float32", "float64"):
        c = TrainConfig(dataset=dataset, dtype=dtype).resolved()
        feed = make_feed(c, PRESETS[c.preset], np.random.default_rng(3))
        batches[dtype] = [feed.batches.next_batch() for _ in range(2)]
        references[dtype] = feed.reference      # the real points of the pictures
    rng = np.random.default_rng(3)
    expected = [_draws(get_mixture(dataset), c.batch_size, rng) for _ in range(2)]
    for b32, b64, x in zip(batches["float32"], batches["float64"], expected):
        assert b32.dtype == np.float32 and b64.dtype == np.float64
        np.testing.assert_array_equal(b32, x.astype(np.float32))
        np.testing.assert_array_equal(b64, x)
        assert not np.array_equal(b64, b32.astype(np.float64))   # more than float32's bits
    assert {k: v.dtype for k, v in references.items()} == {"float32": np.float32,
                                                           "float64": np.float64}


def test_sample_draws_in_the_dtype_asked_for():
    x = RING.sample(100, np.random.default_rng(1), dtype=np.float64)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, _draws(RING, 100, np.random.default_rng(1)))
    np.testing.assert_array_equal(RING.sample(100, np.random.default_rng(1)),
                                  x.astype(np.float32))   # float32 stays the default
