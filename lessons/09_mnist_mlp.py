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
# # Lesson 09 — The seed MLP GAN on MNIST
#
# Everything so far, at full size: the multilayer-perceptron GAN of the classic
# Keras MNIST tutorial, trained on real handwritten digits. Same two phases,
# same `GAN.train_step` (`tinygan/gan.py`) as on the ring; only the networks
# and the data are bigger: a sample is now a $28 \times 28$ grey image,
# flattened to a vector of $d = 784$ pixels in $[0, 1]$.
#
# Claims checked:
#
# 1. The architecture has the tutorial's parameter counts: $G$ 1,493,520 and
#    $D$ 533,505 (counting as Keras does).
# 2. Training moves the generated pixels' statistics towards the real data's:
#    within a few dozen steps the standard deviation; over the full run the mean
#    as well, which overshoots: $G$ ends a little too dark.
# 3. (Full mode.) The samples become digit-like, but mostly one digit: measured
#    with the shipped evaluation classifier (`tinygan.metrics`, lesson 12), the
#    Fréchet distance to real digits falls to about a third of the untrained
#    generator's, and most samples are 1s (mode collapse).

# %%
import time

import numpy as np

from _common import QUICK, plt, save_figure
from tinygan import GAN
from tinygan.datasets import Batches, load
from tinygan.metrics import evaluate_images, pixel_stats
from tinygan.metrics.evaluate import real_reference
from tinygan.presets import mnist_mlp

STEPS = 60 if QUICK else 5000        # generator steps (each after one discriminator step)
SNAPSHOT_AT = sorted({0, STEPS // 16, STEPS // 8, STEPS // 4, STEPS // 2, STEPS})
BATCH = 64
LATENT = 100

# %% [markdown]
# ## The architecture
#
# `mnist_mlp` in `tinygan/presets.py` returns the two networks, each a
# `Sequential` (`tinygan/model.py`):
#
# * $G$: $z \in \mathbb R^{100}$ → Dense 256 → LeakyReLU(0.2) → BatchNorm →
#   Dense 512 → LeakyReLU → BatchNorm → Dense 1024 → LeakyReLU → BatchNorm →
#   Dense 784 → Sigmoid, so every pixel lies in $(0, 1)$.
# * $D$: $x \in \mathbb R^{784}$ → Dense 512 → LeakyReLU(0.2) → Dense 256 →
#   LeakyReLU(0.2) → Dense 1, the logit $\ell(x)$.
#
# `Sequential.summary()` prints each layer's output shape and parameter count.
# A Dense layer $n_\text{in} \to n_\text{out}$ has $n_\text{in} n_\text{out}$
# weights plus $n_\text{out}$ biases. A BatchNorm layer over $C$ features has
# $2C$ learned values ($\gamma$, $\beta$) plus $2C$ running statistics (mean and
# variance), which Keras lists as *non-trainable parameters*; we count them the
# same way so the totals match the tutorial's.

# %%
G, D = mnist_mlp(LATENT, rng=0)
g_table = G.summary()
d_table = D.summary()


def count(model):
    """(trainable, non-trainable) over the layers, from Layer.num_params."""
    t, n = np.sum([layer.num_params() for layer in model], axis=0)
    return int(t), int(n)


by_hand_G = (100 * 256 + 256) + (256 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 784 + 784) \
    + 4 * (256 + 512 + 1024)
by_hand_D = (784 * 512 + 512) + (512 * 256 + 256) + (256 * 1 + 1)
print(f"G: {sum(count(G)):,} (trainable {count(G)[0]:,}), by hand {by_hand_G:,}")
print(f"D: {sum(count(D)):,}, by hand {by_hand_D:,}")
assert sum(count(G)) == by_hand_G == 1_493_520 and count(G)[1] == 2 * (256 + 512 + 1024)
assert sum(count(D)) == by_hand_D == 533_505
assert "Total params: 1,493,520" in g_table and "Total params: 533,505" in d_table

# %% [markdown]
# ## The data
#
# `tinygan.datasets.load("mnist-embedded")` returns the 10,000 MNIST training
# digits shipped inside the package: an array of shape (10000, 28, 28) of
# `uint8` pixels 0..255. `Batches` (`tinygan/datasets/batches.py`) shuffles them
# once per epoch with its own seeded generator, scales them to $[0, 1]$ (the
# range of $G$'s sigmoid) and flattens each to 784 values; `next_batch()` hands
# out the next $(64, 784)$ batch, forever.
#
# The statistic we track: the mean and standard deviation of *all* pixels of a
# set of images (`tinygan.metrics.pixel_stats`). Real digits are mostly black
# background, so the mean is low (about 0.13) and the standard deviation high
# (about 0.31).

# %%
images, labels = load("mnist-embedded")
batches = Batches(images, BATCH, rng=np.random.default_rng(0))
real_stats = pixel_stats(images)
print(f"{len(images):,} real images {images.shape[1:]}, pixel mean {real_stats['mean']:.3f}, "
      f"std {real_stats['std']:.3f}")

# %% [markdown]
# ## Training
#
# `GAN` with its defaults: Adam with learning rate $2 \cdot 10^{-4}$ and
# $\beta_1 = 0.5$ for both players (the DCGAN settings), the non-saturating
# generator loss, $z \sim \mathcal N(0, I)$. Each `train_step(batches.next_batch)`
# is one phase-1 step on a fresh real batch and one phase-2 step.
#
# To see *the same* fakes improve, we keep 16 fixed noise vectors and show what
# $G$ makes of them at a few moments (`gan.sample(16, rng=42)` draws the same 16
# $z$ every time, and runs $G$ in eval mode — lesson 04).

# %%
gan = GAN(G, D, latent_dim=LATENT, rng=1)
untrained = gan.sample(2000, rng=11)          # kept for the classifier comparison at the end
snapshots, history = {}, []
start = time.perf_counter()
for step in range(STEPS + 1):
    if step in SNAPSHOT_AT:
        snapshots[step] = gan.sample(16, rng=42)
        ps = pixel_stats(gan.sample(1000, rng=7))
        history.append((step, ps["mean"], ps["std"]))
        print(f"step {step:5d}  fake pixel mean {ps['mean']:.3f} std {ps['std']:.3f}   "
              f"({time.perf_counter() - start:.1f} s)")
    if step < STEPS:
        s = gan.train_step(batches.next_batch)
        if step % max(1, STEPS // 10) == 0:
            print(f"    step {step:5d}  L_D {s['d_loss']:.3f}  L_G {s['g_loss']:.3f}  "
                  f"D(x) {s['d_x']:.2f}  D(G(z)) {s['d_g_z']:.2f}  D acc {s['d_acc']:.2f}")
print(f"{STEPS} steps in {time.perf_counter() - start:.1f} s")

# %% [markdown]
# ## Samples over time
#
# Each row: the same 16 noise vectors at one moment of training. At step 0 the
# untrained $G$ maps every $z$ to grey noise around 0.5 (a sigmoid of small
# numbers). Within a few dozen steps $D$ separates real from fake almost
# perfectly (watch $D(G(z))$ fall towards 0 in the log above: the regime where
# the non-saturating loss matters, lesson 03). The first thing $G$ learns is
# contrast: its pixels spread towards 0 and 1 while their mean stays near 0.5, a
# black-and-white speckle. Then the background darkens, and strokes and digit
# shapes follow.

# %%
fig, axes = plt.subplots(len(snapshots), 16, figsize=(12, 0.85 * len(snapshots) + 0.4))
for r, (step, imgs) in enumerate(sorted(snapshots.items())):
    for c in range(16):
        ax = axes[r, c]
        ax.imshow(imgs[c].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[r, 0].set_ylabel(f"{step}", rotation=0, ha="right", va="center", fontsize=9)
fig.suptitle("G(z) for 16 fixed z, by training step")
save_figure(fig, "09_mnist_samples_over_time.png")

# %% [markdown]
# ## Pixel statistics, generated vs real
#
# At the start the generated pixels have mean about 0.5 and a tiny standard
# deviation (0.05 against the real 0.31). The standard deviation catches up
# first: after the 60 steps of the quick run it is 0.375, past the real 0.31,
# while the mean has hardly moved (0.49). In the full run the mean falls as the
# background turns black (0.26 at step 312, 0.18 at step 625), but it does not
# stop at the real 0.131: 0.11 at step 1,250, 0.084 at step 5,000. The standard
# deviation comes down with it, to 0.26 (real 0.31). $G$ ends *too dark*: its
# images carry less white ink than real digits. Both gaps shrink (the mean's
# about 8x, the standard deviation's 5x) but neither closes. The classifier
# below says why: most of $G$'s samples are 1s, the digit with the least ink.
# (Matching the mean and standard deviation is necessary, not sufficient: an
# image of random black and white pixels in the right proportion would match
# both. The pictures and the classifier below are the real test.)

# %%
steps_, means, stds = map(np.array, zip(*history))
gap, std_gap = np.abs(means - real_stats["mean"]), np.abs(stds - real_stats["std"])
print(f"|mean gap| {gap[0]:.3f} -> {gap[-1]:.3f},  |std gap| {std_gap[0]:.3f} -> "
      f"{std_gap[-1]:.3f}  (step 0 -> step {STEPS})")
assert std_gap[-1] < 0.4 * std_gap[0]                 # quick 4x smaller, full 5x
if QUICK:
    assert gap[-1] > 0.9 * gap[0]                       # the mean has not moved yet
else:
    assert gap[-1] < 0.25 * gap[0]                      # about 8x smaller
    assert means[-1] < real_stats["mean"] - 0.02        # overshot: too dark (0.084 vs 0.131)

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(steps_, means, "o-", label="fake pixel mean")
ax.plot(steps_, stds, "s-", label="fake pixel std")
ax.axhline(real_stats["mean"], color="C0", ls=":", label="real mean")
ax.axhline(real_stats["std"], color="C1", ls=":", label="real std")
ax.set_xlabel("step")
ax.legend(fontsize=8)
ax.set_title("Pixel statistics, generated vs real")
save_figure(fig, "09_mnist_pixel_stats.png")

# %% [markdown]
# ## Are they digits?
#
# Asserted only in full mode (60 quick steps make speckle, not digits). The
# evaluation classifier shipped with tinygan (`tinygan/metrics/classifier.py`,
# trained on the real digits; lesson 12) gives each image a probability for
# each class $0..9$. `tinygan.metrics.evaluate_images` turns 2,000 samples into:
#
# * the number of classes with at least 5% of the samples ("present");
# * the share of *confident* samples (top probability $\ge 0.9$);
# * the **Fréchet distance** (FD) between the classifier's internal features of
#   the samples and of real digits: it compares the two feature distributions'
#   means and covariances, 0 for identical distributions (lesson 12). Real
#   data against real data gives the "floor".
#
# The same numbers for the untrained generator are the baseline. A warning
# the quick run makes plain: the classifier's confidence alone proves nothing.
# Black-and-white speckle after 60 steps gets most of its samples "confidently"
# called 3 or 8. The Fréchet distance, which compares whole distributions with
# the real data's, is not fooled that way.
#
# Expect an honest, imperfect result from this seed recipe. After 5,000 steps
# the samples are strokes, most of them recognisably digits (figure above), and
# the Fréchet distance falls to about a third of the untrained generator's (288
# against 937), yet stays some 240x the floor. The class histogram says why:
# about three quarters of the samples are called 1, and only two classes (1 and
# 8) reach 5%. That is **mode collapse**, the subject of lesson 10: $G$ has
# found a kind of sample $D$ accepts and draws little else. It also explains the
# dark pixels above: real 1s have pixel mean 0.078, and real digits mixed in
# $G$'s class proportions have mean 0.093, not 0.131. Lesson 12 measures
# collapse properly; lesson 10 and the README's Quality section show remedies
# that reduce it.

# %%
reference = real_reference("mnist-embedded")
after = evaluate_images(gan.sample(2000, rng=11), "mnist-embedded", reference=reference)
before = evaluate_images(untrained, "mnist-embedded", reference=reference)
for name, m in (("untrained G", before), (f"after {STEPS} steps", after)):
    print(f"{name:<18} classes present {m['modes_present']:2d}/10  confident {m['confident']:6.1%}  "
          f"FD {m['frechet']:9.2f}  ({m['frechet_ratio']:.0f}x the real-vs-real floor "
          f"{m['frechet_floor']:.2f})")
print("class histogram after training:", np.round(after["histogram"], 3))
class_means = np.array([images[labels == k].mean() / 255 for k in range(10)])
hist = np.asarray(after["histogram"])
mix = float(hist @ class_means / hist.sum())
print(f"real pixel mean of 1s {class_means[1]:.3f}; of real digits in G's class "
      f"proportions {mix:.3f} (all real digits {real_stats['mean']:.3f})")
if not QUICK:
    assert after["frechet"] < 0.4 * before["frechet"]       # about a third
    assert after["frechet_ratio"] > 50                      # far from real, though
    assert hist.max() > 0.5        # collapse: one class holds most samples (1s, this seed)
    assert mix < real_stats["mean"] - 0.02                  # hence too dark

# %% [markdown]
# ## What to take away
#
# * The MNIST GAN is the ring GAN with wider layers: the same `train_step`, the
#   same two backward passes as lessons 06–07.
# * Parameter counts follow from the shapes: $n_\text{in} n_\text{out} + n_\text{out}$
#   per Dense layer, $4C$ per BatchNorm (half of it non-trainable statistics).
# * Generated pixel statistics approach the real ones early; digit shapes take a
#   few thousand steps (about two minutes on one core).
# * The plain recipe collapses: most samples are one digit. Look at the class
#   histogram, not only at the pictures or the classifier's confidence.
