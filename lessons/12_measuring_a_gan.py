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
# # Lesson 12 — Measuring a GAN
#
# A sample grid shows a generator improving, but the eye is bad at two things:
# noticing that a *class is missing* (a grid of 25 digits with no 7 looks fine)
# and comparing two runs that both "look OK". This lesson builds the numbers
# `tinygan evaluate` prints, each from its definition, and checks each on
# inputs where we know the answer:
#
# 1. **2-D mixtures** — modes covered, % high-quality, reverse KL (the VEEGAN /
#    PacGAN protocol, `tinygan/metrics/mixtures.py`);
# 2. **an evaluation classifier** — an MLP of tinygan's own layers, trained on
#    real data with softmax cross-entropy (`tinygan/metrics/classifier.py`);
# 3. **class coverage and the classifier score** (`tinygan/metrics/scores.py`);
# 4. **the Fréchet distance** between classifier features, and the
#    **real-vs-real floor** that says how small it can get (`tinygan/metrics/frechet.py`).

# %%
import numpy as np

from _common import QUICK, plt, save_figure
from tinygan.datasets import RING, load
from tinygan.metrics import (class_scores, frechet_distance, frechet_from_stats,
                             load_classifier, mode_coverage, real_floor)

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Mode coverage on the ring
#
# The ring is 8 Gaussians of standard deviation $\sigma = 0.01$ on the unit
# circle. Draw 2,500 samples; a sample is **high-quality** when it lies within
# $3\sigma$ of its nearest centre; a mode is **covered** when at least one
# high-quality sample is nearest to it; and with $q_k$ the share of the
# high-quality samples at mode $k$, the **reverse KL** to the uniform
# $u_k = 1/K$ is
#
# $$\mathrm{KL}(q \,\|\, u) = \sum_k q_k \log (K q_k) = \log K - H(q),$$
#
# 0 for a perfectly balanced generator, $\log 8 = 2.08$ for one that sits on a
# single mode. Three "generators" we can write down:

# %%
real = RING.sample(2500, rng)
collapsed = RING.centres[rng.integers(0, 3, 2500)] + 0.01 * rng.standard_normal((2500, 2))
blurry = RING.sample(2500, rng) + 0.05 * rng.standard_normal((2500, 2))
for name, s in [("real data", real), ("3 modes only", collapsed), ("blurry", blurry)]:
    m = mode_coverage(s, RING)
    print(f"{name:<13} modes {m['modes']}/8   high-quality {100 * m['high_quality']:5.1f}%   "
          f"reverse KL {m['reverse_kl']:.3f}")

# %% [markdown]
# Even the data itself is not 100% high-quality: in 2-D the squared distance
# to the centre over $\sigma^2$ is $\chi^2_2$, so
# $P(r \le 3\sigma) = 1 - e^{-9/2} = 98.9\%$. The collapsed generator is
# *perfectly* high-quality — each of its samples is a fine sample — and only
# the mode count and the KL give it away; the blurry one covers every mode but
# few of its samples are good. The two failures need two numbers.

# %%
m_real, m_col, m_blur = (mode_coverage(s, RING) for s in (real, collapsed, blurry))
assert m_real["modes"] == 8 and abs(m_real["high_quality"] - (1 - np.exp(-4.5))) < 0.01
assert m_col["modes"] == 3 and m_col["high_quality"] > 0.98
assert abs(m_col["reverse_kl"] - np.log(8 / 3)) < 0.02   # 3 equal modes: log(8/3)
assert m_blur["modes"] == 8 and m_blur["high_quality"] < 0.3

fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), sharex=True, sharey=True)
for ax, (name, s) in zip(axes, [("real", real), ("collapsed", collapsed), ("blurry", blurry)]):
    ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.4)
    ax.scatter(*RING.centres.T, marker="x", c="k")
    m = mode_coverage(s, RING)
    ax.set_title(f"{name}: {m['modes']}/8, {100 * m['high_quality']:.0f}% HQ")
    ax.set_aspect("equal")
save_figure(fig, "12_ring_metrics.png")

# %% [markdown]
# ## 2. An evaluation classifier
#
# For digits there is no "nearest centre". Instead we ask a classifier trained
# on real digits what it sees. tinygan ships one (784 → 256 → 128 → 10,
# LeakyReLU, trained by `scripts/train_classifier.py` with the softmax
# cross-entropy $L = -\frac1N\sum_i \log \mathrm{softmax}(l_i)_{y_i}$, whose
# gradient is simply $(\mathrm{softmax}(l) - \mathrm{onehot}(y))/N$). Its
# weights file records the 1,000 embedded digits it never saw in training:

# %%
images, labels = load("mnist-embedded")
clf = load_classifier("mnist-embedded")
held = clf.info["holdout"].astype(int)
acc = clf.accuracy(images[held], labels[held])
print(f"held-out accuracy {100 * acc:.1f}%  (official MNIST test set, measured when it was "
      f"trained: {100 * clf.info.get('mnist_test_accuracy', float('nan')):.2f}%)")
assert acc > 0.97

# %% [markdown]
# ## 3. Classes present, KL to uniform, classifier score
#
# For N samples with class probabilities $p(y\mid x)$ from the classifier:
#
# * the **class histogram** $h_k$ (share of samples whose top class is $k$),
#   the **classes present** ($h_k \ge 5\%$) and $\mathrm{KL}(h\,\|\,u)$;
# * the **classifier score** (the Inception Score with our classifier):
#   $$\mathrm{CS} = \exp\Big(\mathbb{E}_x\, \mathrm{KL}\big(p(y\mid x) \,\|\, p(y)\big)\Big),
#     \qquad p(y) = \mathbb{E}_x\, p(y\mid x),$$
#   equivalently $\log \mathrm{CS} = H(p(y)) - \mathbb{E}_x H(p(y\mid x))$:
#   high when every sample is *clearly one digit* (low conditional entropy)
#   and *all digits appear* (high marginal entropy); at most 10.
#
# Real digits, a generator that only draws ones, and one that draws the same
# image every time (the *average* digit):

# %%
n = 1000 if QUICK else 3000   # section 4 takes 3n distinct digits: 3n <= the 10,000 embedded ones
real_x = images[:n]
ones = images[labels == 1][:n]
blur = np.repeat(images[:n].mean(axis=0, keepdims=True), 200, axis=0).round().astype(np.uint8)
scores = {name: class_scores(clf.predict_proba(x))
          for name, x in [("real", real_x), ("only ones", ones), ("mean digit", blur)]}
for name, s in scores.items():
    print(f"{name:<11} classes {s['modes_present']:2d}/10  KL {s['kl_uniform']:.3f}  "
          f"score {s['classifier_score']:.2f}  confident {100 * s['confident']:.0f}%")

# %%
assert scores["real"]["modes_present"] == 10 and scores["real"]["classifier_score"] > 8.5
assert scores["only ones"]["modes_present"] == 1 and scores["only ones"]["classifier_score"] < 1.2
assert abs(scores["only ones"]["kl_uniform"] - np.log(10)) < 0.05
assert scores["mean digit"]["classifier_score"] < 1.01   # one image: p(y|x) = p(y)
print("the classifier calls the average digit a", clf.predict(blur[:1])[0])

# %% [markdown]
# The classifier is *sure* about the average digit — confidence alone says
# nothing about diversity; the score, which divides by the marginal $p(y)$,
# falls to exactly 1 for any generator that repeats one image.
#
# Real data does not reach 10: the classifier is not sure of every real digit.
# That is why `tinygan evaluate` prints the real data's score beside the
# generator's — it is the ceiling this classifier can award.
#
# ## 4. The Fréchet distance and the real-vs-real floor
#
# The score looks at one sample at a time through the classifier's *output*.
# The Fréchet distance compares whole distributions in its *feature* space
# (the 128 activations before the last layer): fit a Gaussian to each set and
# take
#
# $$\mathrm{FD} = \|\mu_1 - \mu_2\|^2 + \mathrm{tr}\,\Sigma_1 + \mathrm{tr}\,\Sigma_2
#   - 2\,\mathrm{tr}\big(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}\big)^{1/2}.$$
#
# Every matrix under a square root is symmetric, so each square root is an
# eigendecomposition. A check on Gaussians we can do by hand: for
# $N(0, a^2 I_d)$ against $N(m, b^2 I_d)$ the distance is $\|m\|^2 + d(a-b)^2$.

# %%
d = 4
fd = frechet_from_stats(np.zeros(d), 4 * np.eye(d), np.ones(d), np.eye(d))
print(f"closed form {d * 1 + d * (2 - 1) ** 2}, computed {fd:.6f}")
assert abs(fd - 8.0) < 1e-9

# %% [markdown]
# Estimated from finite samples the distance is biased upwards: even two sets
# of *real* digits are not at 0. That **floor** — two disjoint halves of the
# real data — is the yardstick. Now corrupt real digits with more and more
# noise and watch the distance climb while the floor stays put:

# %%
feats_real = clf.features(images[:2 * n])
floor = real_floor(feats_real, rng=0)
other = images[2 * n:3 * n].astype(np.float32) / 255
noise_levels = [0.0, 0.1, 0.2, 0.3, 0.5]
fds = []
for s in noise_levels:
    noisy = np.clip(other + s * rng.standard_normal(other.shape), 0, 1)
    fds.append(frechet_distance(clf.features(noisy), feats_real))
    print(f"noise {s:.1f}: FD {fds[-1]:8.2f}  = {fds[-1] / floor:6.1f} x floor")

# %%
assert fds[0] < 2 * floor                  # unseen real digits sit at the floor
assert all(a < b for a, b in zip(fds, fds[1:])), "more noise must mean a larger distance"
assert fds[-1] > 10 * floor

fig, ax = plt.subplots(figsize=(5, 3.4))
ax.plot(noise_levels, fds, "o-", label="noisy real digits vs real")
ax.axhline(floor, color="k", ls="--", label="real-vs-real floor")
ax.set(xlabel="std of added pixel noise", ylabel="Fréchet distance", yscale="log")
ax.legend()
save_figure(fig, "12_frechet_vs_noise.png")

# %% [markdown]
# ## What to take away
#
# * Coverage and quality are different failures: report both (modes *and*
#   % high-quality; classes present *and* confidence or score).
# * A Fréchet distance means nothing alone — quote it as a multiple of the
#   real-vs-real floor computed with the same classifier and sample sizes.
# * All of these are in `tinygan.metrics`; `tinygan evaluate RUN_DIR` prints
#   them for a trained run, and `benchmarks/quality.py` holds tinygan's
#   recipes to the targets in the README's Quality section.
