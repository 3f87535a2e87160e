"""The GAN: two networks, two phases, one loop.

Phase 1, ``d_step`` -- the discriminator learns to tell real from fake::

    fake = G(z)                        G runs but does not learn
    L_D  = 0.5 * (BCE(D(real), 1) + BCE(D(fake), 0))
    backward through D only; D's optimizer steps

Phase 2, ``g_step`` -- the generator learns *through* a frozen discriminator::

    fake = G(z);  L_G = -log D(fake)   (or log(1 - D(fake)), the minimax form)
    backward through D computing only dL/d(fake) -- no weight gradients for D
    backward through G; G's optimizer steps.  D's weights, statistics and
    optimizer state are bit-for-bit unchanged (only a Dropout layer's random
    generator moves on, when D runs in training mode).

Which BatchNorm mode does G use for the fakes of phase 1?  Training mode (batch
statistics), the same computation phase 2 will differentiate, so D learns to
reject exactly the samples G is being trained to improve.  G is frozen for that
forward pass, so its running statistics are not touched either: ``d_step``
leaves G bit-for-bit unchanged.  ``sample`` uses eval mode (running statistics),
so one sample does not depend on the others in its batch.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

from typing import Callable

import numpy as np

from tinygan.kernels import logit_stats
from tinygan.losses import GENERATOR_LOSSES, bce, generator_loss, info_loss
from tinygan.ema import WeightAverage
from tinygan.model import Sequential
from tinygan.optim import Adam

NOISES = ("normal", "uniform")
# The fixed noise batch that re-estimates BatchNorm statistics for G's weight
# average before it samples (see tinygan.ema); fixed, so sampling is repeatable.
CALIBRATION, CALIBRATION_SEED = 2048, 12345


class GAN:
    """A generator and a discriminator trained against each other.

    Parameters
    ----------
    generator, discriminator : Sequential
        G maps (N, latent_dim) noise to samples; D maps samples to (N, 1) logits.
    latent_dim : int
        Width of the noise vector z.
    g_optimizer, d_optimizer : Optimizer, optional
        Default: ``Adam(lr=2e-4, beta1=0.5)`` for each.
    loss : {"non-saturating", "minimax"}
        The generator's loss, see :mod:`tinygan.losses`.
    noise : {"normal", "uniform"}
        z ~ N(0, 1) or z ~ U(-1, 1), element-wise.
    d_steps : int
        Discriminator steps per generator step (k in Goodfellow et al. 2014).
    label_smoothing : float
        One-sided: real targets become ``1 - label_smoothing``.
    d_half_batch : bool
        The Keras DCGAN tutorial's schedule: ``train_step`` gives D half a batch
        of real and half a batch of fakes, and G a full batch.
    pack : int
        PacGAN (Lin et al. 2018): D judges ``pack`` samples at once, concatenated
        into one row -- (N, d) becomes (N / pack, pack * d) -- so D's first layer
        must be ``pack`` times as wide.  A collapsed G shows up as packs of
        look-alikes, which real packs never are.  N must be divisible by ``pack``.
    feature_matching : bool
        Salimans et al. (2016): G minimises ``||mean f(real) - mean f(G(z))||^2``
        where f is D's penultimate layer (everything but its last layer), instead
        of the loss chosen by ``loss``.  ``g_step`` then needs a real batch.
    g_batch_scale : int
        ``train_step`` gives G ``g_batch_scale`` times as many fakes as the real
        batch D saw.  G's gradient is a mean over its batch: a larger batch
        gives a less noisy direction from the same D, at the cost of a longer
        G step.
    d_eval_in_g_step : bool
        Phase 2 runs D in eval mode (no dropout; BatchNorm's running statistics):
        G follows the gradient of the whole D, not of one randomly thinned copy
        of it.  Phase 1 is unchanged, so dropout still regularises D.
    codes : int
        InfoGAN (Chen et al. 2016) with one categorical code: 0 (off) or K >= 2.
        The noise is z followed by a one-hot code c drawn uniformly from K
        values, so G reads ``latent_dim + K`` inputs; D has ``1 + K`` outputs,
        the real/fake logit then Q's logits for c.  D (on the fakes of phase 1)
        and G (phase 2) both minimise ``info_weight * CE(Q(G(z, c)), c)``: G
        must draw K kinds of sample that D can tell apart.  No labels are used;
        on MNIST the kinds become digits, and fewer samples fall between two.
    info_weight : float
        The weight lambda of that loss (positive).
    ema : float
        0 (off), or the decay of an exponential moving average of G's weights
        (:class:`tinygan.ema.WeightAverage`), updated after every ``train_step``;
        ``sample`` then draws with the averaged weights.  Training is unchanged.
    rng : numpy.random.Generator or int, optional
        Source of every z the GAN draws itself.
    """

    def __init__(self, generator: Sequential, discriminator: Sequential, *, latent_dim: int,
                 g_optimizer=None, d_optimizer=None, loss: str = "non-saturating",
                 noise: str = "normal", d_steps: int = 1, label_smoothing: float = 0.0,
                 d_half_batch: bool = False, pack: int = 1, feature_matching: bool = False,
                 g_batch_scale: int = 1, d_eval_in_g_step: bool = False, codes: int = 0,
                 info_weight: float = 1.0, ema: float = 0.0, rng=None):
        if loss not in GENERATOR_LOSSES:
            raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(GENERATOR_LOSSES)}")
        if noise not in NOISES:
            raise ValueError(f"unknown noise {noise!r}: choose one of {', '.join(NOISES)}")
        _positive_int("d_steps", d_steps, " (D steps per G step)")
        _positive_int("latent_dim", latent_dim, " (the length of z)")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(latent_dim)
        self.g_optimizer = g_optimizer or Adam(generator.parameters())
        self.d_optimizer = d_optimizer or Adam(discriminator.parameters())
        self.loss, self.noise = loss, noise
        self.d_steps, self.label_smoothing = int(d_steps), float(label_smoothing)
        self.d_half_batch = bool(d_half_batch)
        _positive_int("pack", pack, " (samples D judges together)")
        self.pack, self.feature_matching = int(pack), bool(feature_matching)
        _positive_int("g_batch_scale", g_batch_scale, " (G's batch as a multiple of D's)")
        self.g_batch_scale, self.d_eval_in_g_step = int(g_batch_scale), bool(d_eval_in_g_step)
        if int(codes) != codes or codes < 0 or codes == 1:
            raise ValueError(f"codes must be 0 (off) or the number of values of InfoGAN's "
                             f"categorical code, >= 2; got {codes!r}")
        if codes and (pack > 1 or feature_matching):
            raise ValueError("codes (InfoGAN) needs D to judge one sample per row with its own "
                             "loss: it cannot be combined with pack > 1 or feature_matching")
        if not info_weight > 0:
            raise ValueError(f"info_weight must be positive, got {info_weight!r}")
        self.codes, self.info_weight = int(codes), float(info_weight)
        if self.codes:   # the widths a code needs, where the end layers tell theirs
            g_in = getattr(generator.layers[0], "in_features", latent_dim + self.codes)
            d_out = getattr(discriminator.layers[-1], "out_features", 1 + self.codes)
            if (g_in, d_out) != (latent_dim + self.codes, 1 + self.codes):
                raise ValueError(f"codes={self.codes}: G must read latent_dim + codes = "
                                 f"{latent_dim + self.codes} inputs and D give 1 + codes = "
                                 f"{1 + self.codes} outputs, but G reads {g_in} and D gives "
                                 f"{d_out}; build them with the code, e.g. "
                                 f"mnist_mlp(latent_dim, codes={self.codes})")
        self.g_ema = WeightAverage(generator, ema) if ema else None
        self.rng = np.random.default_rng(rng)
        self.dtype = generator.parameters()[0].value.dtype

    # -- noise ---------------------------------------------------------------------
    def sample_noise(self, n: int, rng=None, code: int | None = None) -> np.ndarray:
        """n latent vectors in the generator's dtype: shape (n, latent_dim), or with
        ``codes`` (n, latent_dim + codes), z then a one-hot code -- drawn uniformly,
        or ``code`` in every row (the same z either way)."""
        if code is not None and not (self.codes and 0 <= code < self.codes):
            raise ValueError(f"code {code!r}: " + (f"this GAN's code has values 0..{self.codes - 1}"
                             if self.codes else "this GAN has no code (it was built with codes=0)"))
        _positive_int("the number of samples", n)
        rng = self.rng if rng is None else np.random.default_rng(rng)
        shape = (int(n), self.latent_dim)
        if self.noise == "normal":
            z = rng.standard_normal(shape, dtype=np.float64)
        else:
            z = rng.uniform(-1.0, 1.0, size=shape)
        if self.codes:
            c = rng.integers(0, self.codes, size=int(n)) if code is None else np.full(int(n), code)
            z = np.concatenate([z, np.eye(self.codes)[c]], axis=1)
        return z.astype(self.dtype)

    # -- phase 1 -------------------------------------------------------------------
    def d_step(self, real: np.ndarray, z: np.ndarray | None = None) -> dict:
        """One discriminator update on ``real`` and as many fakes G(z).

        Returns ``d_loss``, ``d_x`` (mean D(x)), ``d_g_z`` (mean D(G(z))) and
        ``d_acc`` (share of both batches D classifies right at threshold 0.5).
        """
        G, D = self.generator, self.discriminator
        if z is None:
            z = self.sample_noise(len(real))
        with G.frozen():  # G runs, but nothing in it changes
            fake = G.forward(z)
        # Real and fake go through D one after the other, each forward followed
        # by its own backward: the gradients add up in D's grads.  (Running both
        # forwards first would overwrite the real batch's cached activations.)
        # The first backward *replaces* last step's gradients (zero_grad() and
        # backward in one pass); the second adds to them.
        logits_real, _ = self._heads(D.forward(self._pack(real)))
        loss_real, d_real = bce(logits_real, 1.0 - self.label_smoothing)
        # Q learns the codes from the fakes only: real images have none
        D.backward(self._output_grad(0.5 * d_real), input_grad=False, accumulate=False)
        logits_fake, q_fake = self._heads(D.forward(self._pack(fake)))
        loss_fake, d_fake = bce(logits_fake, 0.0)
        _, d_q = self._info(q_fake, z)
        D.backward(self._output_grad(0.5 * d_fake, d_q), input_grad=False)
        self.d_optimizer.step()
        d_x, real_called_real = logit_stats(logits_real)
        d_g_z, fake_called_real = logit_stats(logits_fake)
        correct = real_called_real + (logits_fake.size - fake_called_real)
        return {"d_loss": 0.5 * (loss_real + loss_fake), "d_x": d_x, "d_g_z": d_g_z,
                "d_acc": float(correct / (logits_real.size + logits_fake.size))}

    # -- phase 2 -------------------------------------------------------------------
    def g_step(self, z: np.ndarray | None = None, batch_size: int | None = None,
               real: np.ndarray | None = None) -> dict:
        """One generator update through the frozen discriminator.

        ``real`` is used only with ``feature_matching`` (whose loss compares
        D's features of fakes with those of a real batch), and required then.

        Returns ``g_loss`` and ``d_g_z_after``: mean D(G(z)) seen by this step, after D's update;
        with ``codes``, also ``q_loss``: Q's cross-entropy on these fakes (``g_loss``
        includes ``info_weight`` times it), ln K while Q guesses, 0 when it reads every code.
        """
        G, D = self.generator, self.discriminator
        if z is None:
            if batch_size is None:
                raise ValueError("g_step needs z or batch_size")
            z = self.sample_noise(batch_size)
        fake = G.forward(z)
        # D passes the gradient to its input; its weights never move
        with D.frozen(), (D.evaluating() if self.d_eval_in_g_step else nullcontext()):
            if self.feature_matching:
                g_loss, logits, d_fake = self._feature_matching(fake, real)
            else:
                logits, q = self._heads(D.forward(self._pack(fake)))
                g_loss, d_logits = generator_loss(logits, self.loss)
                q_loss, d_q = self._info(q, z)
                g_loss += self.info_weight * q_loss
                # dL/d(fake): "what D tells G to change"
                d_fake = D.backward(self._output_grad(d_logits, d_q))
            d_fake = d_fake.reshape(fake.shape)    # unpack: each sample gets its own slice
        # nobody needs dL/dz; G's gradients are replaced, not added to (no zero_grad)
        G.backward(d_fake, input_grad=False, accumulate=False)
        self.g_optimizer.step()
        stats = {"g_loss": g_loss, "d_g_z_after": logit_stats(logits)[0]}
        if self.codes:
            stats["q_loss"] = q_loss   # how well Q reads the code back from G's samples
        return stats

    # -- the loop body -------------------------------------------------------------
    def train_step(self, real: np.ndarray | Callable[[], np.ndarray]) -> dict:
        """``d_steps`` discriminator steps, then one generator step.

        ``real`` is a batch, or a function returning a fresh batch each call
        (so each of the k discriminator steps sees new data, as in the paper).

        Returns the statistics of :meth:`d_step`, each the mean over the k
        discriminator steps (with k = 1, that step's own), and those of
        :meth:`g_step`.
        """
        next_real = real if callable(real) else (lambda: real)
        d_stats = []
        for _ in range(self.d_steps):
            batch = next_real()
            n = len(batch)
            d_stats.append(self.d_step(batch[: max(1, n // 2)] if self.d_half_batch else batch))
        stats = _mean_stats(d_stats)
        stats.update(self.g_step(batch_size=n * self.g_batch_scale,
                                 real=batch if self.feature_matching else None))
        if self.g_ema is not None:
            self.g_ema.update()
        return stats

    # -- InfoGAN's code -------------------------------------------------------------
    def _heads(self, out: np.ndarray):
        """D's output -> (real/fake logits (N, 1), Q's code logits (N, K) or None)."""
        return (out[:, :1], out[:, 1:]) if self.codes else (out, None)

    def _info(self, q: np.ndarray | None, z: np.ndarray):
        """Q's cross-entropy ``CE(q, code of z)`` and the gradient of ``info_weight * CE``
        w.r.t. q; (0, None) without codes.  The CE is ln K while Q guesses, 0 when it reads
        every code back."""
        if q is None:
            return 0.0, None
        loss, d_q = info_loss(q, z[:, self.latent_dim:])
        return loss, self.info_weight * d_q

    def _output_grad(self, d_logits: np.ndarray, d_q: np.ndarray | None = None) -> np.ndarray:
        """dL/d(D's output): the logits' gradient beside Q's (zero when Q has no loss)."""
        if not self.codes:
            return d_logits
        grad = np.zeros((len(d_logits), 1 + self.codes), d_logits.dtype)
        grad[:, :1] = d_logits
        if d_q is not None:
            grad[:, 1:] = d_q
        return grad

    # -- remedies for mode collapse ------------------------------------------------
    def _pack(self, x: np.ndarray) -> np.ndarray:
        """(N, d) -> (N / pack, pack * d): rows i*pack .. i*pack + pack - 1 become one row."""
        if self.pack == 1:
            return x
        if len(x) % self.pack:
            raise ValueError(f"pack={self.pack}: a batch of {len(x)} samples cannot be cut into "
                             f"packs of {self.pack}; use a batch size divisible by {self.pack}")
        return x.reshape(len(x) // self.pack, -1)

    def _feature_matching(self, fake: np.ndarray, real: np.ndarray | None):
        """Feature matching loss, D's logits for the fakes, and dL/d(fake) (packed shape).

        With f = D's penultimate layer (all layers but the last), h = f(fake) (M, H)::

            L     = sum_k (mean_i h_ik - mean_j f(real)_jk)^2
            dL/dh = 2 (mean_i h_i - mean_j f(real)_j) / M       the same for every row i
        """
        if real is None:
            raise ValueError("feature_matching: g_step needs the real batch (g_step(z, real=batch))")
        D = self.discriminator
        body, head = Sequential(*D.layers[:-1]), D.layers[-1]
        target = body.forward(self._pack(real)).mean(axis=0)   # its caches: overwritten next
        h = body.forward(self._pack(fake))
        diff = h.mean(axis=0) - target
        logits = head.forward(h)                                # only to report D(G(z))
        dh = np.broadcast_to((2.0 / len(h)) * diff, h.shape).astype(h.dtype)
        return float(np.sum(diff.astype(np.float64) ** 2)), logits, body.backward(dh)

    # -- using the generator -------------------------------------------------------
    @contextmanager
    def sampling(self):
        """``with gan.sampling() as G:`` G ready to draw samples, as ``G.forward(z)``.

        Eval mode (BatchNorm's running statistics) and, when ``ema`` is on, the
        averaged weights, with BatchNorm statistics re-estimated for them once,
        on a fixed noise batch.  G is exactly as before after the block.
        """
        G = self.generator
        averaged = (self.g_ema.applied(self.sample_noise(CALIBRATION, rng=CALIBRATION_SEED))
                    if self.g_ema else nullcontext())
        with G.frozen(), averaged, G.evaluating():
            yield G

    def generate(self, z: np.ndarray) -> np.ndarray:
        """G(z) for pictures and metrics, drawn as :meth:`sampling` says.  Changes nothing in G."""
        with self.sampling() as G:
            return G.forward(z)

    def sample(self, n: int, rng=None) -> np.ndarray:
        """n samples: :meth:`generate` on n fresh noise vectors."""
        return self.generate(self.sample_noise(n, rng))


def _mean_stats(steps: list[dict]) -> dict:
    """Each statistic's mean over ``steps``; a single step's dict as it is.

    Every statistic of :meth:`GAN.d_step` is itself a mean over one batch (a
    loss, a mean of D's outputs, a share of right answers), so when the k
    batches are the same size, as the training loop's are, the mean of the k
    values is the statistic of all k batches together.
    """
    if len(steps) == 1:
        return steps[0]
    return {key: sum(step[key] for step in steps) / len(steps) for key in steps[0]}


def _positive_int(name: str, value, why: str = ""):
    """ValueError unless ``value`` is a whole number >= 1 (2.0 is one; 2.5 and 0 are not)."""
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer{why}, got {value!r}")
