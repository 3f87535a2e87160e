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
# # Lesson 00 — What a GAN is
#
# A **generative adversarial network** (Goodfellow et al., 2014) learns to
# produce samples that look like they were drawn from a data set, by pitting
# two networks against each other:
#
# * the **generator** $G$ turns a random *noise vector* $z$ (the *latent*
#   vector, $z \sim p_z$, here a standard normal) into a sample $G(z)$;
# * the **discriminator** $D$ looks at a sample $x$ and outputs $D(x) \in (0,1)$,
#   its belief that $x$ came from the data ("real") rather than from $G$ ("fake").
#
# Write $p_\text{data}$ for the distribution of the real data and $p_g$ for the
# distribution of $G(z)$. The two play a game with the **value function**
#
# $$V(D, G) = \mathbb{E}_{x \sim p_\text{data}}[\log D(x)]
#           + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))],
# \qquad \min_G \max_D V(D, G).$$
#
# * $D$ **maximises** $V$: $\log D(x)$ is large when it calls real data real,
#   $\log(1 - D(G(z)))$ is large when it calls fakes fake.
# * $G$ **minimises** $V$: it only appears in the second term, which falls when
#   $D$ is fooled, i.e. when $D(G(z))$ is close to 1.
#
# For a fixed $G$ the best discriminator is
# $D^*(x) = p_\text{data}(x) / (p_\text{data}(x) + p_g(x))$. Why: averaging
# over $z$ is averaging over the fakes $x = G(z)$, so
# $V = \int \big(p_\text{data}(x)\log D(x) + p_g(x)\log(1-D(x))\big)\,dx$, and
# $D$ can maximise the integrand at each $x$ separately; $a\log D + b\log(1-D)$
# has derivative $a/D - b/(1-D)$, zero at $D = a/(a+b)$. If $G$ wins completely,
# $p_g = p_\text{data}$, then $D^*(x) = 1/2$ everywhere: $D$ can do no better
# than a coin toss, and $V = \log\frac12 + \log\frac12 = -\log 4$.
#
# **The alternating loop.** Neither player is solved exactly; each takes a
# gradient step in turn, on a *minibatch* (a few samples) instead of the
# expectations:
#
# 1. *Phase 1, train $D$*: draw $N$ real samples and $N$ noise vectors, make $N$
#    fakes, take one step that increases $V$ w.r.t. $D$'s weights
#    (`GAN.d_step` in `tinygan/gan.py`).
# 2. *Phase 2, train $G$*: draw fresh noise, take one step that decreases $V$
#    w.r.t. $G$'s weights (in practice a stand-in with the same aim and stronger
#    early gradients, lesson 03), the gradient flowing *through* $D$ without
#    changing it (`GAN.g_step` in `tinygan/gan.py`).
#
# `GAN.train_step` does exactly these two phases. Lessons 01–05 build every
# piece needed to compute those gradients by hand; lessons 06–08 follow them
# through the two phases. Here we only watch the game play out on the simplest
# data there is: numbers drawn from one Gaussian.

# %%
import numpy as np

from _common import QUICK, plt, save_figure
from tinygan import GAN, Sequential
from tinygan.layers import Dense, LeakyReLU
from tinygan.losses import discriminator_loss
from tinygan.optim import Adam

# %% [markdown]
# ## The data and the two players
#
# Real data: $x \sim \mathcal{N}(\mu, \sigma^2)$ with $\mu = 3$, $\sigma = 0.5$,
# one number per sample, so a batch has shape $(N, 1)$.
#
# * $G$: noise $z \in \mathbb{R}^4$ $\to$ Dense(4→32) $\to$ LeakyReLU $\to$ Dense(32→1).
# * $D$: $x \in \mathbb{R}$ $\to$ Dense(1→32) $\to$ LeakyReLU $\to$ Dense(32→32)
#   $\to$ LeakyReLU $\to$ Dense(32→1). The last layer outputs a **logit**
#   $\ell$; $D(x) = \operatorname{sigmoid}(\ell) = 1/(1+e^{-\ell})$ is applied
#   inside the loss (lesson 03 shows why).
#
# `Dense` is lesson 01, `LeakyReLU` lesson 02; `Sequential` (`tinygan/model.py`)
# runs a list of layers forwards, then backwards. Each network has its own
# **Adam** optimizer (`tinygan/optim.py`): it turns the gradient of a loss into
# a small step of every weight, downhill; here only that matters.

# %%
MU, SIGMA = 3.0, 0.5
LATENT, HIDDEN, BATCH = 4, 32, 128
STEPS = 1000 if QUICK else 2000
LR = 2e-3

rng = np.random.default_rng(0)
G = Sequential(Dense(LATENT, HIDDEN, rng=rng), LeakyReLU(0.2), Dense(HIDDEN, 1, rng=rng))
D = Sequential(Dense(1, HIDDEN, rng=rng), LeakyReLU(0.2),
               Dense(HIDDEN, HIDDEN, rng=rng), LeakyReLU(0.2), Dense(HIDDEN, 1, rng=rng))
gan = GAN(G, D, latent_dim=LATENT, rng=1,
          g_optimizer=Adam(G.parameters(), lr=LR, beta1=0.5),
          d_optimizer=Adam(D.parameters(), lr=LR, beta1=0.5))
G.summary()
D.summary()
data_rng = np.random.default_rng(2)


def real_batch(n):
    """n samples of the real data, shape (n, 1)."""
    return (MU + SIGMA * data_rng.standard_normal((n, 1))).astype(np.float32)


def wasserstein_1d(a, b):
    """Earth mover's distance between two equal-size 1-D samples: mean |sorted a - sorted b|."""
    return float(np.mean(np.abs(np.sort(a.ravel()) - np.sort(b.ravel()))))


# A fixed reference: 4000 real samples and 4000 noise vectors, reused at every snapshot.
reference = real_batch(4000)
z_fixed = gan.sample_noise(4000, rng=3)

# %% [markdown]
# ## The loop
#
# We write the two phases out instead of calling `train_step`. The learning
# rate decays linearly to 0, so the last steps are small: GAN training
# oscillates (lesson 08), and a shrinking step lets it settle.

# %%
snapshots = {0: G.forward(z_fixed).ravel().copy()}
w_start = wasserstein_1d(snapshots[0], reference)
d_acc = []
for step in range(STEPS):
    gan.g_optimizer.lr = gan.d_optimizer.lr = LR * (1 - step / STEPS)
    stats = gan.d_step(real_batch(BATCH))       # phase 1: D learns, G fixed
    stats.update(gan.g_step(batch_size=BATCH))  # phase 2: G learns through a frozen D
    d_acc.append(stats["d_acc"])
    if step + 1 in (STEPS // 10, STEPS // 2, STEPS):
        snapshots[step + 1] = G.forward(z_fixed).ravel().copy()
        print(f"step {step + 1:5d}  mean {snapshots[step + 1].mean():6.3f}  "
              f"std {snapshots[step + 1].std():5.3f}  D acc {stats['d_acc']:.2f}")

# %% [markdown]
# ## The two densities
#
# Histograms of $G(z)$ at a few moments, the target density, and the final
# $D(x)$ (right axis): where $p_g = p_\text{data}$, $D^*(x) = 1/2$.

# %%
xs = np.linspace(MU - 4, MU + 4, 400, dtype=np.float32)[:, None]
logit = D.forward(xs).ravel().astype(np.float64)
d_of_x = 1 / (1 + np.exp(-logit))

fig, ax = plt.subplots(figsize=(8, 4.5))
ax.plot(xs, np.exp(-0.5 * ((xs - MU) / SIGMA) ** 2) / (SIGMA * np.sqrt(2 * np.pi)),
        "k", lw=2, label=r"$p_\mathrm{data}$ = N(3, 0.5²)")
bins = np.linspace(-1.5, MU + 4, 120)
for (step, s), color in zip(snapshots.items(), ["tab:gray", "tab:orange", "tab:green", "tab:blue"]):
    ax.hist(s, bins=bins, density=True, alpha=0.45, color=color, label=f"$p_g$ after {step} steps")
ax.set_xlabel("x")
ax.set_ylabel("density")
ax2 = ax.twinx()
ax2.plot(xs, d_of_x, "r--", label="final D(x)")
ax2.axhline(0.5, color="r", lw=0.5)
ax2.set_ylim(0, 1)
ax2.set_ylabel("D(x)", color="r")
ax.legend(loc="upper left", fontsize=8)
ax.set_title("A GAN learns a 1-D Gaussian")
save_figure(fig, "00_gaussian_densities.png")

# %% [markdown]
# ## Claims, checked
#
# 1. $G$'s samples end with the target's mean and standard deviation (it
#    started near mean 0, std 0.3).
# 2. The distance between the two distributions fell by more than 10×. In 1-D
#    the earth mover's (Wasserstein-1) distance is the mean gap between the
#    sorted samples.
# 3. At the end $D$ is about as good as a coin: its accuracy on real + fake
#    batches is near 50%, and $V \approx -\log 4 \approx -1.386$ (estimated on
#    4000 samples of each).

# %%
final = snapshots[STEPS]
w_end = wasserstein_1d(final, reference)
acc_end = float(np.mean(d_acc[-100:]))
# V on 4000 real and 4000 fake samples. Lesson 03 shows the discriminator's loss is
# L_D = -V / 2, so V = -2 L_D, computed stably from D's logits.
value_end = -2 * discriminator_loss(D.forward(reference), D.forward(final[:, None]))[0]
print(f"start: mean {snapshots[0].mean():.3f}, std {snapshots[0].std():.3f}")
print(f"end:   mean {final.mean():.3f}, std {final.std():.3f}   (target {MU}, {SIGMA})")
print(f"W1 distance to the data: {w_start:.3f} -> {w_end:.3f}")
print(f"D accuracy over the last 100 steps: {acc_end:.3f}")
print(f"V = {value_end:.3f}   (-log 4 = {-np.log(4):.3f})")

assert abs(final.mean() - MU) < 0.2 * SIGMA, "the mean was not learned"
assert abs(final.std() / SIGMA - 1) < 0.25, "the spread was not learned"
assert w_end < w_start / 10, "the distributions did not get close"
assert abs(acc_end - 0.5) < 0.1, "D should be reduced to guessing"
assert abs(value_end + np.log(4)) < 0.1, "V should approach -log 4"

# %% [markdown]
# The spread is the last thing to settle and stays 10–20% off (about 0.58
# after the quick run, 0.42 after the full one). Where samples land is a strong
# signal for $D$; how *widely* they spread is a weak one, and the generator is
# rewarded for putting samples where $D$ is most fooled rather than for
# spreading them exactly. This mild *mode-seeking* is the 1-D shadow of mode
# collapse (lesson 10).
#
# **Next:** lesson 01 opens up the layer both networks are made of.
