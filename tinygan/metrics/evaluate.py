"""Every metric for a set of generated samples, in one dict.

:func:`evaluate_images` is what ``tinygan evaluate`` and ``tinygan train
--eval-every`` report for image data; :func:`evaluate_mixture` is its 2-D
counterpart.  Both return plain numbers and lists, ready for ``json.dump``.
"""

from __future__ import annotations

import numpy as np

from tinygan.metrics.classifier import Classifier, as_inputs, load_classifier
from tinygan.metrics.frechet import frechet_distance, real_floor
from tinygan.metrics.mixtures import mode_coverage
from tinygan.metrics.scores import class_scores

MAX_REAL = 10_000  # real images used for the reference features, the floor and the real score


def pixel_stats(images, value_range=(0.0, 1.0)) -> dict:
    """Mean and standard deviation of all pixels, on the [0, 1] scale."""
    x = as_inputs(images, value_range).astype(np.float64)
    return {"mean": float(x.mean()), "std": float(x.std())}


def real_reference(dataset: str, classifier: Classifier | None = None, real=None,
                   rng=0) -> dict:
    """What generated samples are compared with: real features, floor, real scores.

    ``real`` defaults to the training images of ``dataset``; at most
    :data:`MAX_REAL` of them (a seeded random subset) are used.  The result can
    be reused across evaluations of the same data set (``tinygan train
    --eval-every`` computes it once).
    """
    clf = classifier or load_classifier(dataset)
    if real is None:
        from tinygan.datasets import load
        real, _ = load(dataset)
    real = np.asarray(real)
    rng = np.random.default_rng(rng)
    if len(real) > MAX_REAL:
        real = real[np.sort(rng.permutation(len(real))[:MAX_REAL])]
    features = clf.features(real)
    scores = class_scores(clf.predict_proba(real))
    return {"classifier": clf, "features": features, "n_real": int(len(real)),
            "floor": real_floor(features, rng), "pixels": pixel_stats(real),
            "real_classifier_score": scores["classifier_score"],
            "real_kl_uniform": scores["kl_uniform"], "real_confident": scores["confident"]}


def evaluate_images(samples, dataset: str, *, value_range=(0.0, 1.0), reference=None,
                    rng=0) -> dict:
    """Class coverage, classifier score and Frechet distance of generated images.

    Parameters
    ----------
    samples : ndarray, (N, 784), (N, 28, 28) or (N, 1, 28, 28)
        Generated images with pixels in ``value_range``.  The issue's protocol
        uses N = 10,000.
    dataset : {"mnist-embedded", "mnist", "fashion-mnist"}
        Picks the classifier and the real data.
    reference : dict, optional
        From :func:`real_reference`, to skip recomputing it.

    Returns
    -------
    dict
        ``n``, the :func:`~tinygan.metrics.scores.class_scores` keys
        (``histogram``, ``modes_present``, ``kl_uniform``, ``classifier_score``,
        ``confident``), ``frechet``, ``frechet_floor``, ``frechet_ratio``
        (frechet / floor), ``real_classifier_score``, ``n_real``, and pixel
        ``mean``/``std`` with ``real_mean``/``real_std``.
    """
    ref = reference or real_reference(dataset, rng=rng)
    clf = ref["classifier"]
    x = as_inputs(samples, value_range)
    out = {"n": int(len(x)), **class_scores(clf.predict_proba(x))}
    fd = frechet_distance(clf.features(x), ref["features"])
    out.update({"frechet": fd, "frechet_floor": ref["floor"],
                "frechet_ratio": fd / ref["floor"] if ref["floor"] > 0 else float("inf"),
                "real_classifier_score": ref["real_classifier_score"],
                "n_real": ref["n_real"]})
    px = pixel_stats(x)
    out.update({"mean": px["mean"], "std": px["std"],
                "real_mean": ref["pixels"]["mean"], "real_std": ref["pixels"]["std"]})
    return out


def evaluate_mixture(samples, mixture) -> dict:
    """:func:`~tinygan.metrics.mixtures.mode_coverage` of 2-D samples (use 2,500 of them)."""
    if isinstance(mixture, str):
        from tinygan.datasets import get_mixture
        mixture = get_mixture(mixture)
    return {"n": int(len(samples)), **mode_coverage(samples, mixture)}
