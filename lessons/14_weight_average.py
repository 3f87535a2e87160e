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
# # Lesson 14 — Sampling with an average of G's weights
#
# A GAN never settles. Each generator step answers the discriminator's last
# move, D answers back, and the weights keep *circling* around a good solution
# instead of landing on it. The cheapest cure does not touch training at all:
# keep an exponential moving average (EMA) of G's weights beside the live ones
# and draw samples with the average (Yazici et al., *The Unusual Effectiveness
# of Averaging in GAN Training*, ICLR 2019; ProGAN, StyleGAN and BigGAN sample
# this way). In `tinygan train` it is `--ema 0.999` (`tinygan/ema.py`), and on
# MNIST it halves the Fréchet distance (README, Quality).
#
# This lesson shows (1) why an average of a circling iterate is better than
# the iterate, on the smallest game there is; (2) the update and its memory;
# (3) the catch that costs most implementations their gain: BatchNorm's
# running statistics belong to the *live* weights, and must be re-estimated
# for the averaged ones.

# %%
import numpy as np

from _common import QUICK, plt, save_figure
from tinygan import GAN
from tinygan.datasets import Batches, load
from tinygan.ema import WeightAverage
from tinygan.gan import CALIBRATION, CALIBRATION_SEED
from tinygan.optim import Adam
from tinygan.presets import mnist_mlp

# %% [markdown]
# ## 1. A game whose players circle
#
# $\min_x \max_y\; x\,y$: the solution is $x = y = 0$. Simultaneous gradient
# steps, $x \leftarrow x - \eta y$ and $y \leftarrow y + \eta x$, rotate the
# point $(x, y)$ around the origin (and slowly outwards: each step multiplies
# its distance by $\sqrt{1+\eta^2}$). The iterate never arrives; the *average*
# of the iterates sits near the centre of the circle.

# %%
eta, steps, decay = 0.02, 5000, 0.999
point = np.array([1.0, 0.0])
average = point.copy()
path, averages = [], []
for t in range(1, steps + 1):
    x, y = point
    point = np.array([x - eta * y, y + eta * x])   # both players move at once
    average += (1 - decay) / (1 - decay ** t) * (point - average)   # the EMA update (section 2)
    path.append(point)
    averages.append(average.copy())
path, averages = np.array(path), np.array(averages)
last, avg = np.linalg.norm(path[-1]), np.linalg.norm(averages[-1])
print(f"distance from the solution after {steps} steps: iterate {last:.2f}, average {avg:.3f}")
assert avg < 0.1 * last   # the average is ten times nearer the solution

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.plot(*path.T, lw=0.6, label="iterate")
ax.plot(*averages.T, lw=1.5, label=f"EMA, decay {decay}")
ax.plot(0, 0, "k+", ms=12, label="solution")
ax.set_aspect("equal")
ax.legend(loc="upper right", fontsize=8)
ax.set_title(r"$\min_x \max_y\, xy$ with simultaneous steps")
save_figure(fig, "14_circling.png")

# %% [markdown]
# ## 2. The update, what it remembers, and its warm-up
#
# After each training step, for every parameter $p$ and its shadow $s$:
# $s \leftarrow s + (1-\beta)(p - s)$, the same as $\beta s + (1-\beta) p$.
# Unrolled, the shadow is a weighted sum of all past weights with weights
# $(1-\beta)\beta^{k}$ for the weights of $k$ steps ago, so it remembers roughly
# the last $1/(1-\beta)$ steps ($\beta = 0.999$: about 1,000).
#
# But where does the shadow start? At the initial, random weights, and after
# $t$ steps the shadow still holds a share $\beta^t$ of them: $0.999^{300} = 74\%$,
# $0.999^{1200} = 30\%$. A run's first sample grids would show mostly
# untrained weights. The cure is the one Adam uses for its running means
# (`tinygan/kernels/optim.py`, "bias correction"): the weights
# $(1-\beta)\beta^{t-k}$ of steps $k = 1..t$ sum to $1 - \beta^t$, so divide
# by it. Written as an update, step $t$ moves the shadow
#
# $$r_t = \frac{1-\beta}{1-\beta^t}$$
#
# of the way to $p$: $r_1 = 1$ (the shadow becomes the first trained weights, to rounding),
# and $r_t \to 1-\beta$ once $\beta^t$ is small. The shadow is then exactly
# the normalised weighted mean of the weights after steps $1..t$, and the
# initial weights have no share at all.
#
# `WeightAverage` (`tinygan/ema.py`) does this for all of a model's
# parameters in one fused kernel call (`ema_update_all` in
# `tinygan/kernels/optim.py`, beside its NumPy twin), counting its updates
# (the count is saved in checkpoints). Check it against the weighted mean,
# for weights that jump to new random values at every step.

# %%
G, D = mnist_mlp(latent_dim=16, rng=0, dtype=np.float64)
beta, rng = 0.9, np.random.default_rng(0)
avg = WeightAverage(G, beta)
seen = []                                   # G's weights at each update
for t in range(1, 11):
    for p in G.parameters():
        p.value[...] = rng.standard_normal(p.value.shape)   # a "training step"
    seen.append([p.value.copy() for p in G.parameters()])
    avg.update()
w = np.array([(1 - beta) * beta ** (t - k) for k in range(1, t + 1)]) / (1 - beta ** t)
print(f"weights of steps 1..{t} in the average: {np.round(w, 3)} (sum {w.sum():.6f})")
worst = max(np.abs(s - sum(wk * step[j] for wk, step in zip(w, seen))).max()
            for j, s in enumerate(avg.shadows))
print(f"largest difference from the weighted mean after {t} updates: {worst:.1e}")
assert avg.updates == 10 and abs(w.sum() - 1) < 1e-12 and worst < 1e-12

# %% [markdown]
# ## 3. The BatchNorm catch
#
# The generator of `mnist_mlp` has three BatchNorm layers. At sampling time
# (eval mode) each one normalises with its *running* mean and variance, which
# training has been collecting from the activations of the **live** weights.
# The averaged weights produce different activations, so the averaged
# generator, run with the live statistics, normalises with the wrong numbers.
# `WeightAverage.applied(z)` fixes this: it puts the averaged weights in, runs
# them once in training mode on a fixed noise batch with each BatchNorm's
# momentum at 0, so the running statistics become exactly that batch's, and
# puts everything back afterwards.
#
# Train the MNIST MLP GAN briefly with the default recipe's learning rate and
# dropout, and measure how far each BatchNorm's running mean is from the mean
# its input really has under the averaged weights (on fresh noise, not the
# calibration batch).

# %%
STEPS = 300 if QUICK else 3000
DECAY = 0.99 if QUICK else 0.999
images, _ = load("mnist-embedded")
batches = Batches(images, 64, rng=np.random.default_rng(0))
G, D = mnist_mlp(rng=0, d_dropout=0.3)
gan = GAN(G, D, latent_dim=100, g_optimizer=Adam(G.parameters(), lr=1.6e-3),
          d_optimizer=Adam(D.parameters(), lr=1.6e-3), label_smoothing=0.1, ema=DECAY, rng=0)
for _ in range(STEPS):
    gan.train_step(batches.next_batch)
norms = [i for i, layer in enumerate(G) if "running_mean" in layer.buffers]
fresh = gan.sample_noise(2048, rng=7)


def true_input_means(model, z):
    """The batch mean of each BatchNorm's input when ``model`` runs on z (no state changed)."""
    means, h = {}, z
    for i, layer in enumerate(model):
        if i in norms:
            means[i] = h.mean(axis=0)
        layer.eval()                     # eval: nothing is recorded, batch size does not matter
        h = layer.forward(h)
        layer.train()
    return means


def mismatch(model, z):
    truth = true_input_means(model, z)
    return max(float(np.abs(model.layers[i].running_mean - truth[i]).max()) for i in norms)


with gan.g_ema.applied():                # averaged weights, live statistics
    live = mismatch(G, fresh)
calibration = gan.sample_noise(CALIBRATION, rng=CALIBRATION_SEED)
with gan.g_ema.applied(calibration):     # averaged weights, statistics re-estimated
    recal = mismatch(G, fresh)
print(f"largest |running mean - true mean| over G's BatchNorms, averaged weights:\n"
      f"  with the live statistics:     {live:.3f}\n"
      f"  with re-estimated statistics: {recal:.3f}")
assert recal < 0.5 * live

# %% [markdown]
# What the three ways of sampling look like, on the same noise: the live
# weights; the average with the live statistics; the average with
# re-estimated statistics (what `GAN.generate` does when `ema` is on).

# %%
z = gan.sample_noise(16, rng=3)
plain = GAN(G, D, latent_dim=100, rng=0)          # the same networks, no average
grids = {"live weights": plain.generate(z)}
G.eval()
with gan.g_ema.applied():
    grids["average, live BatchNorm statistics"] = G.forward(z)
G.train()
grids["average, statistics re-estimated"] = gan.generate(z)
assert not np.array_equal(grids["live weights"], grids["average, statistics re-estimated"])

fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
for ax, (title, x) in zip(axes, grids.items()):
    tiles = x.reshape(4, 4, 28, 28).transpose(0, 2, 1, 3).reshape(4 * 28, 4 * 28)
    ax.imshow(tiles, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.suptitle(f"after {STEPS} steps, EMA decay {DECAY}")
save_figure(fig, "14_three_ways.png")

# %% [markdown]
# Measured at the full budget (5,000 steps, decay 0.999, 2,000 samples, the
# shipped classifier; `tinygan/recipes.py`): Fréchet distance 14.5x the
# real-vs-real floor with the live weights, **35x** with the average and the
# live statistics, **7.2x** with the average and re-estimated statistics.
# The average only pays once its BatchNorm statistics are its own.
