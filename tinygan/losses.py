"""The losses of a GAN, all computed from the discriminator's *logits*.

D outputs a logit ``l``; ``D(x) = sigmoid(l)`` is its belief that x is real.
The sigmoid is fused into the loss (:func:`tinygan.kernels.loss.bce_with_logits`)
because ``log(sigmoid(l))`` computed in two steps overflows for large |l|.

Discriminator (phase 1), real targets 1 (or ``1 - smoothing``), fake targets 0::

    L_D = 0.5 * (BCE(l_real, 1) + BCE(l_fake, 0))

Generator (phase 2), two choices with the same fixed point:

* ``"minimax"`` (Goodfellow et al. 2014): minimise ``log(1 - D(G(z)))``.
  Its gradient w.r.t. the logit is ``-D(G(z))``: when D confidently rejects
  the fakes early in training, D(G(z)) ~ 0 and G learns almost nothing.
* ``"non-saturating"``: minimise ``-log D(G(z))`` = ``BCE(l_fake, 1)``, what
  the Keras tutorials do by labelling the fakes "real" in phase 2.  Its
  gradient is ``D(G(z)) - 1`` ~ -1 exactly when the minimax one vanishes.

Every function returns ``(loss, gradient w.r.t. each logits array)``.
"""

from __future__ import annotations

import numpy as np

from tinygan.kernels import bce_with_logits
from tinygan.metrics.softmax import softmax_cross_entropy

GENERATOR_LOSSES = ("non-saturating", "minimax")


def bce(logits, targets):
    """Mean binary cross-entropy from logits and its gradient: ``(loss, dlogits)``."""
    return bce_with_logits(logits, targets)


def discriminator_loss(logits_real, logits_fake, label_smoothing: float = 0.0):
    """``0.5 * (BCE(real, 1 - label_smoothing) + BCE(fake, 0))``.

    One-sided label smoothing (Salimans et al. 2016) lowers only the real
    target, so D is never pushed to be infinitely sure a sample is real.

    Returns ``(loss, dlogits_real, dlogits_fake)``.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    loss_r, d_r = bce_with_logits(logits_real, 1.0 - label_smoothing)
    loss_f, d_f = bce_with_logits(logits_fake, 0.0)
    return 0.5 * (loss_r + loss_f), 0.5 * d_r, 0.5 * d_f


def generator_loss(logits_fake, kind: str = "non-saturating"):
    """The generator's loss on D's logits for its fakes: ``(loss, dlogits_fake)``."""
    if kind == "non-saturating":
        return bce_with_logits(logits_fake, 1.0)          # -log D(G(z))
    if kind == "minimax":
        loss, d = bce_with_logits(logits_fake, 0.0)       # -log(1 - D(G(z)))
        return -loss, -d                                  # so this is +log(1 - D(G(z)))
    raise ValueError(f"unknown generator loss {kind!r}: choose one of {', '.join(GENERATOR_LOSSES)}")


def info_loss(q_logits, codes_onehot):
    """InfoGAN's loss: softmax cross-entropy of Q's logits (N, K) against the one-hot
    codes (N, K) G was given, ``(loss, dq_logits)``; dq = (softmax(q) - code) / N.

    Minimising it maximises a lower bound on the mutual information between the
    code and the sample (Chen et al. 2016, eq. 4; the code's entropy is constant).
    """
    return softmax_cross_entropy(q_logits, np.argmax(codes_onehot, axis=1))
