"""The VEEGAN/PacGAN mode-coverage protocol on samples with known answers."""

import numpy as np
import pytest

from tinygan.datasets import GRID, RING
from tinygan.metrics import kl_to_uniform, mode_coverage


def test_samples_exactly_on_three_of_eight_centres():
    samples = np.repeat(RING.centres[[0, 3, 5]], [1000, 1000, 500], axis=0)
    r = mode_coverage(samples, RING)
    assert r["modes"] == 3 and r["n_modes"] == 8
    assert r["high_quality"] == 1.0
    assert r["counts"] == [1000, 0, 0, 1000, 0, 500, 0, 0]
    q = np.array([0.4, 0.4, 0.2])
    assert r["reverse_kl"] == pytest.approx(np.sum(q * np.log(q * 8)), rel=1e-12)


def test_all_modes_uniform_has_zero_kl():
    samples = np.tile(GRID.centres, (100, 1))
    r = mode_coverage(samples, GRID)
    assert (r["modes"], r["high_quality"]) == (25, 1.0)
    assert r["reverse_kl"] == pytest.approx(0.0, abs=1e-12)


def test_collapse_onto_one_mode_gives_log_k():
    r = mode_coverage(np.tile(RING.centres[2], (2500, 1)), RING)
    assert r["modes"] == 1
    assert r["reverse_kl"] == pytest.approx(np.log(8), rel=1e-12)


def test_high_quality_radius_is_three_std():
    std = RING.std
    inside = RING.centres[0] + [2.99 * std, 0.0]
    outside = RING.centres[1] + [0.0, 3.01 * std]
    r = mode_coverage(np.array([inside, outside]), RING)
    assert r["high_quality"] == 0.5
    assert r["modes"] == 1 and r["counts"][0] == 1   # the low-quality sample covers nothing


def test_real_data_scores_like_the_gaussian_says():
    # P(|noise| <= 3 std) for a 2-D isotropic Gaussian is 1 - exp(-9/2) = 0.9889
    r = mode_coverage(GRID.sample(2500, np.random.default_rng(0)), GRID)
    assert r["modes"] == 25
    assert abs(r["high_quality"] - (1 - np.exp(-4.5))) < 0.01
    assert r["reverse_kl"] < 0.02      # sampling noise of a multinomial with 100 per bin


def test_kl_to_uniform_edge_cases():
    assert kl_to_uniform([0, 0, 0, 0]) == pytest.approx(np.log(4))
    assert kl_to_uniform([5, 5]) == pytest.approx(0.0)


@pytest.mark.parametrize("bad", [np.zeros((3, 3)), np.zeros((0, 2)), np.array([[np.nan, 0.0]])])
def test_bad_samples_raise_value_error(bad):
    with pytest.raises(ValueError, match="mode_coverage"):
        mode_coverage(bad, RING)
