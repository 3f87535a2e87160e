"""2-D Gaussian mixtures: the standard toy benchmarks for mode collapse.

A GAN that collapses puts all its samples on one or a few of the modes;
with well separated 2-D modes that is visible in a scatter plot and easy
to count. The two settings used by VEEGAN (Srivastava et al., 2017) and
PacGAN (Lin et al., 2018):

* ``RING``: 8 Gaussians on the unit circle, centres (cos 2*pi*k/8, sin 2*pi*k/8), std 0.01
* ``GRID``: 25 Gaussians on {-4, -2, 0, 2, 4}^2, std 0.05

There is no data file: every batch is drawn fresh from the caller's
:class:`numpy.random.Generator`, so a run is reproducible from its seed.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Mixture:
    """An equal-weight mixture of isotropic 2-D Gaussians.

    Parameters
    ----------
    name : str
    centres : numpy.ndarray
        (K, 2) mode centres. Stored read-only.
    std : float
        Standard deviation of every component, per coordinate.
    """

    name: str
    centres: np.ndarray
    std: float

    def __post_init__(self):
        centres = np.array(self.centres, dtype=np.float64)
        if centres.ndim != 2 or centres.shape[1] != 2 or len(centres) == 0:
            raise ValueError(f"centres must be (K, 2) with K >= 1, got shape {centres.shape}")
        if not self.std > 0:
            raise ValueError(f"std must be positive, got {self.std}")
        centres.setflags(write=False)  # frozen all the way down
        object.__setattr__(self, "centres", centres)

    def __repr__(self):
        return f"Mixture(name={self.name!r}, n_modes={self.n_modes}, std={self.std})"

    @property
    def n_modes(self):
        """Number of components K."""
        return len(self.centres)

    def sample(self, n, rng, dtype=np.float32):
        """Draw ``n`` points: a uniformly chosen centre plus Gaussian noise.

        Parameters
        ----------
        n : int
        rng : numpy.random.Generator
        dtype : numpy dtype
            Of the points returned.  They are worked out in float64 and rounded
            once, so every dtype gets the same draws.

        Returns
        -------
        numpy.ndarray
            (n, 2) of ``dtype``.
        """
        k = rng.integers(self.n_modes, size=n)
        noise = rng.standard_normal((n, 2))
        return (self.centres[k] + self.std * noise).astype(dtype, copy=False)

    def nearest(self, points):
        """The closest centre to each point and the distance to it.

        Useful for mode-collapse statistics: a sample within a few ``std``
        of a centre "hits" that mode.

        Parameters
        ----------
        points : array_like
            (n, 2).

        Returns
        -------
        index : numpy.ndarray
            (n,) int, index into ``centres``.
        distance : numpy.ndarray
            (n,) float64, Euclidean distance to that centre.
        """
        points = np.asarray(points, dtype=np.float64)
        d2 = ((points[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=-1)
        index = d2.argmin(axis=1)
        return index, np.sqrt(d2[np.arange(len(points)), index])


def _ring(k=8):
    angle = 2 * np.pi * np.arange(k) / k
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _grid(values=(-4, -2, 0, 2, 4)):
    xx, yy = np.meshgrid(values, values, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


RING = Mixture("ring", _ring(), 0.01)
GRID = Mixture("grid", _grid(), 0.05)
MIXTURES = {m.name: m for m in (RING, GRID)}


def get_mixture(name):
    """The mixture called ``name`` (``"ring"`` or ``"grid"``)."""
    try:
        return MIXTURES[name]
    except KeyError:
        raise ValueError(f"unknown mixture {name!r}; choose one of {tuple(MIXTURES)}") from None
