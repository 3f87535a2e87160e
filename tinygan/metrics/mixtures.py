"""Mode coverage of 2-D mixtures: the VEEGAN / PacGAN protocol.

Srivastava et al. (VEEGAN, 2017) and Lin et al. (PacGAN, 2018) score a
generator trained on the ring (8 modes) or grid (25 modes) like this:

1. draw 2,500 samples;
2. a sample is **high-quality** if it lies within 3 standard deviations
   (the mixture components' std) of its nearest centre;
3. a mode is **covered** if at least one high-quality sample is nearest to it;
4. the **reverse KL** compares the histogram ``q`` of high-quality samples over
   the K modes with the uniform ``u_k = 1/K`` the data has::

       KL(q || u) = sum_k q_k log(q_k / u_k) = log K - H(q)      (0 log 0 = 0)

   It is 0 when every mode gets the same share and ``log K`` when all samples
   sit on one mode.  "Reverse" because the generator's distribution comes
   first: a missing mode (q_k = 0) costs only through the others' excess,
   never infinity.

"3 standard deviations" is a radius in the plane: a perfect sample from a
2-D isotropic Gaussian lands inside it with probability
``1 - exp(-3^2 / 2) = 98.9%``, so even the data itself scores ~98.9%.
"""

from __future__ import annotations

import numpy as np

N_SAMPLES = 2500  # the protocol's sample count


def kl_to_uniform(counts) -> float:
    """``KL(q || uniform)`` for the histogram ``q = counts / sum(counts)`` over K bins.

    Empty bins contribute 0 (``0 log 0 = 0``).  With no counts at all the
    histogram is undefined; we return ``log K``, the value for total collapse.
    """
    counts = np.asarray(counts, dtype=np.float64)
    k, total = counts.size, counts.sum()
    if total <= 0:
        return float(np.log(k))
    q = counts[counts > 0] / total
    return float(np.sum(q * np.log(q * k)))


def mode_coverage(samples, mixture, n_std: float = 3.0) -> dict:
    """Score 2-D samples against a :class:`tinygan.datasets.Mixture`.

    Parameters
    ----------
    samples : array_like, shape (n, 2)
        The protocol uses n = 2,500 (:data:`N_SAMPLES`).
    mixture : Mixture
        Has ``centres`` (K, 2) and ``std``.
    n_std : float
        A sample is high-quality within ``n_std * std`` of its nearest centre.

    Returns
    -------
    dict
        ``modes`` (int, covered modes), ``n_modes`` (K), ``high_quality``
        (fraction in [0, 1]), ``reverse_kl`` (float) and ``counts`` (list of K
        ints: high-quality samples per mode).
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise ValueError(f"mode_coverage: samples must be a non-empty (n, 2) array, "
                         f"got shape {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise ValueError("mode_coverage: samples contain NaN or infinity (did training diverge?)")
    centres = np.asarray(mixture.centres, dtype=np.float64)
    d2 = ((samples[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1)   # (n, K)
    nearest = d2.argmin(axis=1)
    dist = np.sqrt(d2[np.arange(len(samples)), nearest])
    good = dist <= n_std * mixture.std
    counts = np.bincount(nearest[good], minlength=len(centres))
    return {"modes": int(np.count_nonzero(counts)), "n_modes": int(len(centres)),
            "high_quality": float(good.mean()), "reverse_kl": kl_to_uniform(counts),
            "counts": counts.tolist()}
