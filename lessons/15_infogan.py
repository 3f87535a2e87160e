# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 15 — InfoGAN: a code the generator must keep readable
#
# Without a code, the MNIST MLP recipe of `tinygan train --codes 0` (weight
# average and all, lesson 14) stops at a classifier score of 8.7 out of 10
# (README, Quality), and the samples the classifier is least sure of are
# hybrids: a 4 turning into a 9, a 3 into an 8. Here is why. $G$ is a continuous map and
# its input $z \in \mathbb{R}^{100}$ is connected, so its image is connected
# too: between the $z$ that draws a 4 and the $z$ that draws a 9 lies a path of
# $z$s whose images slide from one to the other. Ten separate classes cannot be
# the image of one connected space without some samples in between.
#
# InfoGAN (Chen et al. 2016, *InfoGAN: Interpretable Representation Learning
# by Information Maximizing GANs*) gives $G$ a second, discrete input: a code
# $c \in \{0, \dots, K-1\}$, one-hot, drawn uniformly. The input space becomes $K$
# separate pieces, and $G$ may draw each piece as its own kind of sample. To
# make $G$ *use* the code, a second head $Q$ on the discriminator must read $c$
# back from the image. No labels are used anywhere.

# %%
import numpy as np

from _common import QUICK, plt, save_figure
from tinygan import GAN, Sequential
from tinygan.build import build_gan
from tinygan.config import TrainConfig
from tinygan.datasets import Batches, load
from tinygan.gradcheck import numerical_grad, rel_error, rel_error_norm
from tinygan.layers import BatchNorm, Dense, LeakyReLU, Tanh
from tinygan.losses import generator_loss, info_loss
from tinygan.metrics.classifier import load_classifier
from tinygan.metrics.softmax import softmax
from tinygan.optim import Optimizer

# %% [markdown]
# ## 1. The loss, and the information it bounds
#
# The noise is $z$ followed by the one-hot code, $(N, 100 + K)$
# (`GAN.sample_noise`). $D$ has $1 + K$ outputs (`mnist_mlp(codes=K)`):
# column 0 is the real/fake logit, columns $1..K$ are $Q$'s logits $q$
# $(N, K)$, and $Q(c \mid x) = \mathrm{softmax}(q(x))_c$. So $Q$ shares all of
# $D$'s layers; only the last Dense layer is $K$ columns wider. The new loss is the
# cross-entropy of $Q$ against the code $G$ was given:
#
# $$L_I = -\frac1N \sum_i \log Q(c_i \mid G(z_i, c_i)).$$
#
# Why minimise it: $I(c; x) = H(c) - H(c \mid x)$, and a cross-entropy is
# never below the entropy it estimates, $E[-\log Q(c \mid x)] \ge H(c \mid x)$
# (the gap is a KL divergence), so with $H(c) = \log K$ a constant
#
# $$I(c; x) \;\ge\; \log K - L_I.$$
#
# $D$ (through $Q$) minimises $L_D + \lambda L_I$ and $G$ minimises
# $L_G + \lambda L_I$: on the real/fake column they pull against each other,
# on the code columns they *cooperate*.
#
# ## 2. The backward of the code's loss
#
# With $p_i = \mathrm{softmax}(q_i)$, one sample's loss is
# $-\log p_{i c_i} = \log\sum_k e^{q_{ik}} - q_{i c_i}$, whose derivative is
# $p_{ik} - [k = c_i]$; the batch mean adds $1/N$:
#
# $$\frac{\partial L_I}{\partial q} = \frac{\mathrm{softmax}(q) - \mathrm{onehot}(c)}{N}
# \qquad (N, K),$$
#
# prediction minus target, like the BCE of lesson 03. Check `info_loss`
# (`tinygan/losses.py`) against the formula and finite differences.

# %%
rng = np.random.default_rng(0)
K, N = 4, 5
q = rng.normal(size=(N, K))
onehot = np.eye(K)[rng.integers(0, K, N)]
loss, dq = info_loss(q, onehot)
assert np.allclose(dq, (softmax(q) - onehot) / N, atol=1e-15)
err = rel_error(dq, numerical_grad(lambda: info_loss(q, onehot)[0], q))
print(f"L_I = {loss:.4f}, dq {dq.shape}, relative error against finite differences {err:.1e}")
assert err < 1e-7

# %% [markdown]
# ## 3. Where it enters, and a check through both networks
#
# `GAN._info` computes $\lambda L_I$ and $\lambda\,\partial L_I/\partial q$
# (reading the code from the noise's last $K$ columns); `GAN._output_grad`
# puts that beside the logit's gradient: $\partial L/\partial\,\mathrm{out}_D$,
# $(N, 1 + K)$. In phase 1 the real batch fills column 0 only (real images
# carry no code: **zero** gradient for $Q$), the fakes fill all columns, and
# $D$'s body and $Q$'s head learn together. In phase 2 the same
# $\lambda\,\partial L_I/\partial q$ travels through the frozen $D$ into $G$.
#
# Check phase 2 as `tests/test_gan.py` does: tiny float64 nets (BatchNorm with
# random $\gamma$, $\beta$), an optimizer that records $G$'s gradients instead
# of stepping, and central differences of $L_G + \lambda L_I$.

# %%
class Recorder(Optimizer):
    """Keeps a copy of the gradients instead of stepping."""

    def step(self):
        self.seen = {p.name: p.grad.copy() for p in self.params}


F64 = np.float64
G = Sequential(Dense(3 + K, 8, rng=40, dtype=F64), LeakyReLU(0.2), BatchNorm(8, dtype=F64),
               Dense(8, 5, rng=41, dtype=F64), Tanh())       # z (3) + code (K) -> "image" (5)
D = Sequential(Dense(5, 7, rng=42, dtype=F64), LeakyReLU(0.2),
               Dense(7, 1 + K, rng=43, dtype=F64))           # logit + Q's K logits
for p in G.parameters():
    if p.name.endswith(("gamma", "beta")):
        p.value[...] = rng.normal(0.5, 0.5, size=p.value.shape)
rec = Recorder(G.parameters(), lr=1.0)
gan = GAN(G, D, latent_dim=3, g_optimizer=rec, codes=K, info_weight=0.7, rng=0)
z = gan.sample_noise(6, rng=3)

logits, q6 = gan._heads(D.forward(G.forward(z)))
d_logits, (_, d_q) = generator_loss(logits)[1], gan._info(q6, z)
grad = gan._output_grad(d_logits, d_q)
print(f"noise {z.shape} -> logits {logits.shape} and Q {q6.shape}; output gradient {grad.shape}")
assert np.array_equal(grad[:, 1:], d_q)
assert not gan._output_grad(d_logits)[:, 1:].any()   # no d_q, as for a real batch


def g_loss():
    with G.frozen(), D.frozen():                  # same computation, no side effects
        out = D.forward(G.forward(z))
        return generator_loss(out[:, :1])[0] + 0.7 * info_loss(out[:, 1:], z[:, 3:])[0]


gan.g_step(z)
errs = {p.name: rel_error_norm(rec.seen[p.name], numerical_grad(g_loss, p.value))
        for p in G.parameters()}
print("relative error of G's gradients:", ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))
assert max(errs.values()) < 1e-7

# %% [markdown]
# ## 4. Training with the recipe
#
# The MNIST MLP recipe of `tinygan train`, which is lesson 14's (weight average,
# dropout in $D$, label smoothing) plus one setting lesson 14 does not use: $D$ in
# eval mode during $G$'s step, so $G$ learns from $D$ without dropout. On top, a
# 10-valued code with $\lambda = 0.1$: what `tinygan train` does by default
# (`--codes 10 --info-weight 0.1`), here
# for 5,000 steps instead of its 6,000. Every $1/20$ of the run we
# measure how often $Q$ reads the code back from $G$'s current fakes, taking
# $\arg\max_k q_k$ (chance: $1/K = 10\%$).

# %%
STEPS = 300 if QUICK else 5000
config = TrainConfig(codes=10, info_weight=0.1, iterations=STEPS, seed=0).resolved()
gan = build_gan(config, model_rng=config.seed, gan_rng=config.seed)
G, D, K = gan.generator, gan.discriminator, gan.codes
images, _ = load("mnist-embedded")
batches = Batches(images, config.batch_size, rng=np.random.default_rng(config.seed))
print(f"G reads {G.layers[0].params['W'].shape[0]} inputs ({gan.latent_dim} + {K}); "
      f"D gives {D.layers[-1].params['W'].shape[1]} outputs (1 + {K})")


def q_reads(x, codes):
    """Share of samples whose code Q recovers (D in eval mode: no dropout)."""
    with D.evaluating():
        return float(np.mean(D.forward(x)[:, 1:].argmax(axis=1) == codes))


probe = gan.sample_noise(500, rng=99)               # fixed noise for the measurements
curve = []
for step in range(1, STEPS + 1):                    # (one BLAS thread: _common sets it)
    gan.train_step(batches.next_batch)
    if step % (STEPS // 20) == 0:
        with G.frozen():                            # the fakes Q learns from (batch statistics)
            curve.append((step, q_reads(G.forward(probe), probe[:, -K:].argmax(axis=1))))
print("Q's accuracy on G's fakes:", " ".join(f"{s}:{a:.2f}" for s, a in curve[1::2]))

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(*zip(*curve), marker="o", ms=3)
ax.axhline(1 / K, color="gray", ls="--", lw=1, label="chance, 1/K")
ax.set(xlabel="training step", ylabel="Q recovers the code", ylim=(0, 1.02))
ax.legend(loc="lower right", fontsize=8)
save_figure(fig, "15_q_accuracy.png")

# %% [markdown]
# In the full run $Q$ stays near chance for most of the first 1,000 steps:
# $G$'s early blobs all look alike, so there is nothing to read, and
# $\lambda = 0.1$ is small next to the adversarial loss. Once $G$ draws
# distinct shapes, $Q$ and $G$ agree on a code within a few hundred steps
# (above 95% from step ~1,750). Quick mode stops before that: its samples
# below are blobs, and $Q$ reads them at chance.
#
# ## 5. One row per code
#
# The weight average draws (`gan.generate`, lesson 14). In the figure each row
# sets the code and each column keeps its $z$. Then 200 samples per code, read
# by the shipped classifier: which digit does each code draw, and how often is
# the classifier unsure (top probability below 0.9)?

# %%
def noise_for(z, codes):
    """z (n, latent_dim) then the one-hot codes (n, K), as GAN.sample_noise lays them out."""
    return np.concatenate([z, np.eye(K)[codes]], axis=1).astype(gan.dtype)


z8 = np.random.default_rng(5).standard_normal((8, gan.latent_dim))
grid = gan.generate(noise_for(np.tile(z8, (K, 1)), np.repeat(np.arange(K), 8)))

PER_CODE = 200
codes = np.repeat(np.arange(K), PER_CODE)
z = np.random.default_rng(1).standard_normal((len(codes), gan.latent_dim))
x = gan.generate(noise_for(z, codes))
probs = load_classifier("mnist").predict_proba(x)
assert grid.shape == (K * 8, 784) and probs.shape == (K * PER_CODE, 10)
digit, unsure = probs.argmax(axis=1), probs.max(axis=1) < 0.9
accuracy = q_reads(x, codes)
with D.evaluating():
    l_info = info_loss(D.forward(x)[:, 1:], np.eye(K)[codes])[0]
majority, purity, unsure_share = [], [], []
for k in range(K):
    counts = np.bincount(digit[codes == k], minlength=10)
    majority.append(int(counts.argmax()))
    purity.append(counts.max() / PER_CODE)
    unsure_share.append(unsure[codes == k].mean())
    print(f"code {k}: digit {majority[k]} in {purity[k]:4.0%} of its samples, unsure {unsure_share[k]:4.0%}")
print(f"Q recovers the code of {accuracy:.1%}; I(c; x) >= log K - L_I = {np.log(K):.3f} - "
      f"{l_info:.3f} = {np.log(K) - l_info:.3f} nats (a negative bound says nothing)")
print(f"classifier sure of {1 - unsure.mean():.1%} of the samples; the rarest digit: "
      f"{np.bincount(digit, minlength=10).min() / len(digit):.1%} of them")

fig, ax = plt.subplots(figsize=(6, 7.5))
ax.imshow(grid.reshape(K, 8, 28, 28).transpose(0, 2, 1, 3).reshape(K * 28, 8 * 28),
          cmap="gray", vmin=0, vmax=1)
ax.set_yticks(14 + 28 * np.arange(K),
              [f"code {k}: {majority[k]} ({purity[k]:.0%})" for k in range(K)], fontsize=8)
ax.set_xticks([])
ax.set_title(f"one code per row, one z per column ({STEPS} steps)", fontsize=9)
save_figure(fig, "15_codes.png")

# %% [markdown]
# ## 6. Where the hybrids went, and what the code does not promise
#
# Inside one code $G$ is again a continuous map of a connected space: a code
# that draws a single digit needs no in-between samples, a code that covers
# two or three digits draws hybrids on the way from one to the other. In the
# full run the classifier is sure of 89% of the samples, against 85.6% for the
# same recipe without the code (seed 0, 2,000 samples, measured for this
# lesson), and the unsure ones sit in the mixed codes:

# %%
order = np.argsort(purity)
pure, mixed = (np.mean([unsure_share[k] for k in ks]) for ks in (order[-3:], order[:3]))
print(f"unsure samples: {pure:.1%} in the 3 purest codes, {mixed:.1%} in the 3 least pure")
shared = sorted({d for d in majority if majority.count(d) > 1})
print(f"digits that are the majority of several codes: {shared or 'none'}; "
      f"of none: {sorted(set(range(10)) - set(majority)) or 'none'}")
if not QUICK:
    assert accuracy > 0.8                     # Q reads the code back from the averaged G
    assert len(set(majority)) >= 6            # the codes became digits, with no labels
    assert np.bincount(digit, minlength=10).min() >= 0.03 * len(digit)   # all ten drawn
    assert pure < mixed                       # the hybrids live in the codes that share

# %% [markdown]
# $L_I$ asks only that the $K$ kinds of sample be easy to tell apart, not that
# they be the ten digits: two codes sharing the 1s, or one code for 4s and 9s,
# can be as readable to $Q$ as one code per digit, and which partition
# training finds depends on the seed. Measured at 5,000 steps, seeds 0 and 1
# each give 8 distinct majority digits, 1 and 4 twice; no code of its own for
# 2 and 8 (seed 0), 8 and 9 (seed 1). Another machine's BLAS rounds
# differently and may find another map. The samples still cover all ten
# digits, because $z$ varies within a code.
#
# ## What to take away
#
# * A continuous $G$ on a connected $z$ space must draw samples between the
#   classes; a discrete code splits the input into $K$ pieces that need not
#   be joined.
# * InfoGAN makes $G$ use the code: $D$ grows a head $Q$, both minimise
#   $\lambda L_I = \lambda\,\mathrm{CE}(Q(G(z, c)), c)$, and $\log K - L_I$
#   bounds the information $I(c; G(z, c))$ from below.
# * Its gradient, $(\mathrm{softmax}(q) - \mathrm{onehot}(c))/N$, fills $D$'s
#   output columns $1..K$ (`info_loss`, `GAN._info`, `GAN._output_grad`);
#   real images give $Q$ none: they carry no code.
# * No labels: the codes become digits because digits are what $Q$ tells
#   apart most easily. Which code draws which digit, and whether every digit
#   gets a code of its own, is up to the seed.
