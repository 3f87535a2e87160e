"""The Frechet distance between two sets of features (FID, with our own classifier).

Fit a Gaussian to each set -- mean ``mu`` and covariance ``S`` of the
classifier's penultimate-layer features -- and take the Frechet (2-Wasserstein)
distance between the two Gaussians (Dowson and Landau 1982; Heusel et al. 2017)::

    FD = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr( (S1^(1/2) S2 S1^(1/2))^(1/2) )

Only symmetric matrices appear, so every square root is an eigendecomposition
(``numpy.linalg.eigh``): for symmetric PSD ``A = V diag(w) V^T``,
``A^(1/2) = V diag(sqrt(w)) V^T`` and ``tr(A^(1/2)) = sum sqrt(w)``.
(``tr((S1 S2)^(1/2))``, the usual way to write the last term, has the same
eigenvalues as the symmetric ``S1^(1/2) S2 S1^(1/2)``.)  Tiny negative
eigenvalues from rounding are clipped to 0.

The distance of a finite sample is biased upwards, so a number alone means
little: compare it with the **real-vs-real floor**, the distance between two
disjoint halves of real data (:func:`real_floor`).  A generator cannot be
told apart from the data by this measure when it reaches the floor.
"""

from __future__ import annotations

import numpy as np


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of ``features`` (N, D), in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must be an (N, D) array with N >= 2, got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or infinity (did the generator diverge?)")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix, by ``eigh``."""
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_from_stats(mu1, s1, mu2, s2) -> float:
    """Frechet distance between N(mu1, s1) and N(mu2, s2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(f"Frechet distance: shapes do not match: mu {mu1.shape} vs {mu2.shape}, "
                         f"cov {s1.shape} vs {s2.shape}")
    r1 = _sqrtm_psd((s1 + s1.T) / 2)
    m = r1 @ s2 @ r1
    w = np.linalg.eigvalsh((m + m.T) / 2)
    cross = np.sqrt(np.clip(w, 0.0, None)).sum()
    fd = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * cross
    return float(max(fd, 0.0))  # rounding can leave a tiny negative for equal inputs


def frechet_distance(features1, features2) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N1, D) and (N2, D)."""
    return frechet_from_stats(*gaussian_stats(features1), *gaussian_stats(features2))


def real_floor(features, rng=None) -> float:
    """The real-vs-real floor: Frechet distance between two disjoint random halves of ``features``.

    The Frechet distance of finite samples is biased upwards by roughly
    ``c (1/N1 + 1/N2)``, so the floor of two halves of N real rows (N/2 each)
    sits about twice as high as the floor of N vs N would: state the sizes
    beside the numbers.
    """
    f = np.asarray(features)
    if len(f) < 4:
        raise ValueError(f"real_floor needs at least 4 feature rows, got {len(f)}")
    perm = np.random.default_rng(rng).permutation(len(f))
    half = len(f) // 2
    return frechet_distance(f[perm[:half]], f[perm[half:2 * half]])
