"""Scores computed from a classifier's class probabilities p(y|x).

Given ``probs`` of shape (N, K) -- one row of class probabilities per
generated sample -- these say whether the generator makes *every* class
(coverage) and makes each sample *clearly one* class (sharpness):

* **class histogram** ``h_k``: share of samples whose most likely class is k;
* **modes present**: classes with ``h_k >= 5%`` (10% would be exact balance
  for K = 10, so 5% means "clearly made", not "one stray sample");
* **KL(h || uniform)** = ``sum_k h_k log(K h_k)``: 0 for perfect balance,
  ``log K`` (2.30 for K = 10) for total collapse onto one class;
* **classifier score** (the Inception Score of Salimans et al. 2016, with our
  own classifier in place of Inception)::

      CS = exp( E_x KL( p(y|x) || p(y) ) ),     p(y) = E_x p(y|x)

  It is high when each p(y|x) is sharp (low entropy) *and* the marginal p(y)
  is broad (high entropy): at most K, reached by confident, balanced samples;
  1 for a collapsed or an undecided generator.  Equivalently
  ``log CS = H(p(y)) - E_x H(p(y|x))``;
* **confident fraction**: share of samples with ``max_k p(k|x) >= 0.9``.
"""

from __future__ import annotations

import numpy as np

from tinygan.metrics.mixtures import kl_to_uniform

PRESENT = 0.05     # a class is present with at least this share of the samples
CONFIDENT = 0.9    # a sample is confident when its top class has at least this probability


def _check_probs(probs) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) == 0:
        raise ValueError(f"class probabilities must be a non-empty (N, K) array, got shape "
                         f"{probs.shape}")
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("class probabilities must be non-negative rows summing to 1 "
                         "(pass softmax outputs, not logits)")
    return probs


def class_histogram(probs) -> np.ndarray:
    """Share of samples predicted as each class (argmax), shape (K,), sums to 1."""
    probs = _check_probs(probs)
    return np.bincount(probs.argmax(axis=1), minlength=probs.shape[1]) / len(probs)


def classifier_score(probs, eps: float = 1e-12) -> float:
    """``exp(E_x KL(p(y|x) || p(y)))``, between 1 and K."""
    probs = _check_probs(probs)
    marginal = probs.mean(axis=0)
    # sum_k p log(p / m); terms with p = 0 contribute 0, eps keeps log finite
    kl = np.sum(probs * (np.log(probs + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(kl.mean()))


def class_scores(probs) -> dict:
    """Every score above in one dict.

    Returns
    -------
    dict
        ``histogram`` (list of K floats), ``modes_present`` (int),
        ``n_classes`` (K), ``kl_uniform``, ``classifier_score``, ``confident``.
    """
    probs = _check_probs(probs)
    hist = class_histogram(probs)
    return {"histogram": hist.round(6).tolist(),
            "modes_present": int(np.count_nonzero(hist >= PRESENT)),
            "n_classes": int(probs.shape[1]),
            "kl_uniform": kl_to_uniform(hist),
            "classifier_score": classifier_score(probs),
            "confident": float(np.mean(probs.max(axis=1) >= CONFIDENT))}
