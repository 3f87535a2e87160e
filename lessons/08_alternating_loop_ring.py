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
# # Lesson 08 — The alternating loop on the 2-D ring
#
# Lessons 06 and 07 took the two phases apart. Now we let them take turns:
#
# ```
# repeat:
#     phase 1: d_step(real batch)     D takes one step down L_D   (G fixed)
#     phase 2: g_step(fresh noise)    G takes one step down L_G   (D fixed)
# ```
#
# That is `GAN.train_step` in `tinygan/gan.py` (with `d_steps=1`; lesson 10
# varies it). Each player chases a target the other keeps moving: $D$ learns
# to separate the current fakes from the data, $G$ moves its fakes where $D$
# currently says "real". If $G$ matched the data exactly ($p_g = p_\text{data}$),
# the best $D$ would say $D^*(x) = \tfrac12$ everywhere (lesson 00): its accuracy
# would be 50% and $L_D = \log 2$.
#
# The data is the ring of lesson 06 (`tinygan.datasets.RING`: 8 Gaussians of
# standard deviation $\sigma = 0.01$ on the unit circle), small enough to *see*
# everything: the samples, and $D$'s decision surface $D(x)$ over the whole plane.
#
# Claims checked below (seeds pinned):
#
# 1. $G$ learns: the mean distance from a sample to its nearest ring centre
#    falls by a large factor.
# 2. $D$ never wins: unlike lesson 06, where $L_D \to 0$, its loss stays between
#    0.5 and $\log 2$, its mean outputs on real and fake stay within 0.1 of
#    $\tfrac12$, and its accuracy, after an early peak, falls back to about 73%
#    and stays there: $D$ keeps a modest edge, neither winning nor at 50%.
# 3. Convergence is fleeting: the measured quality goes *up and down*; a later
#    snapshot can be worse than an earlier one. A two-number game shows why.

# %%
import numpy as np

from _common import FIGURES, QUICK, plt, save_figure
from tinygan import GAN
from tinygan.datasets import RING
from tinygan.files import atomic_path
from tinygan.metrics import mode_coverage
from tinygan.optim import Adam
from tinygan.presets import toy_mlp

STEPS = 600 if QUICK else 4000      # alternating steps (one d_step + one g_step each)
EVERY = STEPS // 20                 # measure this often
BATCH = 128
LR = 5e-4

# %% [markdown]
# ## The run
#
# `toy_mlp` (`tinygan/presets.py`): $G$ maps $z \in \mathbb R^2$,
# $z \sim \mathcal N(0, I)$, through two hidden layers of 128 to a point in the
# plane; $D$ maps a point to a logit. Both use Adam with learning rate
# $5\cdot 10^{-4}$ and $\beta_1 = 0.5$.
#
# Every `EVERY` steps we record, from 2,500 samples of $G$
# (`tinygan.metrics.mode_coverage`, `tinygan/metrics/mixtures.py`; lesson 12
# explains it): the **mean distance** to the nearest centre, the share of
# **high-quality** samples (within $3\sigma = 0.03$ of a centre) and the number
# of **modes covered** (centres with at least one high-quality sample). From
# `train_step`'s return value we average, over the same stretch of steps:
# $D$'s accuracy on its training batches, $L_D$, and the mean $D(x)$ on real and
# $D(G(z))$ on fake samples. Six snapshots keep $D$'s surface and the samples
# for the picture.

# %%
G, D = toy_mlp(latent_dim=2, rng=0)
gan = GAN(G, D, latent_dim=2, g_optimizer=Adam(G.parameters(), lr=LR),
          d_optimizer=Adam(D.parameters(), lr=LR), rng=0)
data_rng = np.random.default_rng(1)
grid = np.linspace(-1.5, 1.5, 121, dtype=np.float32)
xx, yy = np.meshgrid(grid, grid)
plane = np.c_[xx.ravel(), yy.ravel()]
SNAPSHOTS = {int(round(f * STEPS)) for f in (0, 0.05, 0.15, 0.35, 0.65, 1.0)}


def measure():
    samples = gan.sample(2500, rng=123)
    cov = mode_coverage(samples, RING)
    dist = float(RING.nearest(samples)[1].mean())
    return samples, dist, cov["high_quality"], cov["modes"]


def d_surface():
    return (1 / (1 + np.exp(-D.forward(plane)))).reshape(xx.shape)


log, window, snaps, frames = [], [], {}, []
for step in range(STEPS + 1):
    if step % EVERY == 0:
        samples, dist, hq, modes = measure()
        w = np.mean(window, axis=0) if window else [np.nan] * 4
        log.append((step, dist, hq, modes, *w))
        window = []
        if step in SNAPSHOTS:
            snaps[step] = (samples[:600], d_surface())
        if not QUICK:
            frames.append((step, samples[:600], d_surface()))
    if step < STEPS:
        s = gan.train_step(lambda: RING.sample(BATCH, data_rng))
        window.append((s["d_acc"], s["d_loss"], s["d_x"], s["d_g_z"]))

log = np.array(log)
steps_, dist_, hq_, modes_, acc_, dloss_, dx_, dgz_ = log.T
print(f"{'step':>5} {'mean dist':>9} {'HQ %':>6} {'modes':>5} {'D acc':>6} {'L_D':>6} "
      f"{'D(x)':>6} {'D(G(z))':>8}")
for r in log:
    print(f"{r[0]:5.0f} {r[1]:9.4f} {100 * r[2]:6.1f} {r[3]:5.0f} {r[4]:6.3f} {r[5]:6.3f} "
          f"{r[6]:6.3f} {r[7]:8.3f}")

# %% [markdown]
# ## Claim 1: the generator learns
#
# At the start $G$'s samples sit in a blob near the origin, at mean distance
# about 0.8 from the ring's centres (radius 1). The alternating loop pulls them
# onto the ring.

# %%
factor = dist_[0] / dist_[-1]
print(f"mean distance to the nearest centre: {dist_[0]:.3f} -> {dist_[-1]:.3f} ({factor:.1f}x smaller)")
assert factor > (2.5 if QUICK else 6)

# %% [markdown]
# ## Claim 2: the discriminator stops winning
#
# In lesson 06, against a fixed $G$, $D$ reached 100% accuracy and $L_D$ fell to
# 0.0003 in 600 steps (0.007 after the quick run's 150). Here $D$ gets nowhere
# near that: each time it finds a difference between real and fake, $G$'s next
# steps shrink it. $D$'s accuracy climbs to a peak early (81% at step 400 in the
# full run, 86% at step 300 in the quick one) while $G$ is still far from the
# ring, then falls back as $G$'s samples reach the modes and settles at about
# 72-74% over the last quarter of either run. It does not drift towards 50%:
# the ring's modes are so narrow ($\sigma = 0.01$) that $G$ keeps some samples
# between them, and $D$ can always call those fake. $L_D$ starts at
# $\log 2 = 0.693$ and falls slowly as $D$ sharpens around the modes: 0.66 at
# the end of the quick run, 0.59 after the full 4,000 steps (mean 0.60 over the
# second half). $D$'s mean outputs drift apart with it, from 0.52 and 0.48 at
# step 600 to 0.565 and 0.435 at step 4,000: the game is not at rest, but $D$'s
# edge stays small.

# %%
late = slice(len(log) // 2, None)             # the second half of the run
last = slice(3 * len(log) // 4, None)         # its last quarter
peak = int(np.nanargmax(acc_))
print(f"D accuracy: peak {acc_[peak]:.3f} at step {steps_[peak]:.0f}, "
      f"mean over the last quarter {np.mean(acc_[last]):.3f}, last {acc_[-1]:.3f}")
print(f"L_D: {dloss_[1]:.3f} over the first {EVERY} steps, {dloss_[-1]:.3f} over the last "
      f"(log 2 = {np.log(2):.3f})")
print(f"second half: mean L_D {np.mean(dloss_[late]):.3f}, "
      f"mean D(x) {np.mean(dx_[late]):.3f}, mean D(G(z)) {np.mean(dgz_[late]):.3f}")
assert 0.5 < np.mean(dloss_[late]) < np.log(2) - 0.015     # an edge, far from 06's ~0
assert dloss_[-1] < dloss_[1] - 0.015                       # L_D falls, slowly
assert abs(np.mean(dx_[late]) - 0.5) < 0.1 and abs(np.mean(dgz_[late]) - 0.5) < 0.1
assert np.mean(dx_[late]) > np.mean(dgz_[late])             # D still tells them apart
assert 0.75 < acc_[peak] < 0.95 and steps_[peak] <= 600      # an early peak,
assert np.mean(acc_[last]) < acc_[peak] - 0.05              # then a fall back
assert 0.65 < np.mean(acc_[last]) < 0.8                     # to ~73%, not to 50%

# %% [markdown]
# The picture: six moments of the game. Colour is $D(x)$ (red: "real", blue:
# "fake", white: $\tfrac12$), black dots the real data, white dots $G$'s
# samples. Compare with the best response of lesson 00,
# $D^*(x) = p_\text{data}(x) / (p_\text{data}(x) + p_g(x))$: where only fakes
# lie (the "bridges" $G$ still draws between modes) $D$ says fake; on the modes,
# where real and fake samples now mix, $D$ is unsure, close to $\tfrac12$; far
# from all samples nothing constrains $D$ at all. Over time the unsure islands
# shrink around the modes as $G$'s samples tighten.

# %%
real_pts = RING.sample(400, np.random.default_rng(5))
fig, axes = plt.subplots(2, 3, figsize=(11, 7.4), sharex=True, sharey=True)
for ax, step in zip(axes.ravel(), sorted(snaps)):
    samples, surface = snaps[step]
    ax.contourf(xx, yy, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
    ax.scatter(*real_pts.T, s=3, c="k")
    ax.scatter(*samples.T, s=2, c="w", edgecolors="none")
    i = int(np.argmin(np.abs(steps_ - step)))
    ax.set_title(f"step {step}: {modes_[i]:.0f}/8 modes, {100 * hq_[i]:.0f}% HQ", fontsize=9)
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
    ax.set_aspect("equal")
fig.suptitle("D's decision surface (colour) and G's samples (white) over time")
save_figure(fig, "08_ring_over_time.png")

# %% [markdown]
# ## Claim 3: convergence is fleeting
#
# Plot the measurements against time: they do not settle. The share of
# high-quality samples and the number of modes covered rise, fall back and rise
# again. A snapshot taken at an arbitrary step can be clearly worse than an
# earlier one, which is why `tinygan train --eval-every` keeps the *best*
# checkpoint, not only the last (lesson 12).

# %%
fall = np.maximum.accumulate(hq_) - hq_      # how far below the best so far
i = int(np.argmax(fall))
j = int(np.argmax(hq_[:i + 1]))
print(f"largest setback: {100 * hq_[i]:.1f}% high-quality at step {steps_[i]:.0f}, "
      f"after {100 * hq_[j]:.1f}% at step {steps_[j]:.0f}")
drops = [(steps_[i], modes_[i]) for i in range(1, len(modes_)) if modes_[i] < modes_[:i].max()]
print(f"snapshots covering fewer modes than some earlier one: {len(drops)} of {len(modes_) - 1}")
assert len(drops) >= 1                   # mode coverage is not monotone in time
assert np.any(np.diff(hq_) < -0.02)      # quality falls back at least once

fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
a1.plot(steps_, dist_, "o-", ms=3, label="mean distance to nearest centre")
a1.plot(steps_, hq_, "s-", ms=3, label="high-quality share")
a1.plot(steps_, modes_ / 8, "^-", ms=3, label="modes covered / 8")
a1.set_xlabel("step")
a1.legend(fontsize=8)
a1.set_title("G's samples")
a2.plot(steps_, acc_, "o-", ms=3, label="D accuracy (training batches)")
a2.plot(steps_, dloss_ / np.log(2), label=r"$L_D / \log 2$")
a2.plot(steps_, dx_, label="mean D(x), real")
a2.plot(steps_, dgz_, label="mean D(G(z)), fake")
a2.axhline(0.5, color="gray", lw=0.8, ls=":")
a2.set_xlabel("step")
a2.legend(fontsize=8)
a2.set_title(f"D, averaged over {EVERY} steps")
save_figure(fig, "08_ring_curves.png")

# %% [markdown]
# ### Why: a game of two numbers
#
# Strip the GAN down to two scalars: $G$ controls $a$, $D$ controls $b$, and
# the value is $V(a, b) = a\,b$; $G$ minimises it, $D$ maximises it. The only
# equilibrium is $a = b = 0$ (if $a \ne 0$, $D$ can make $V$ as large as it
# likes). Take alternating gradient steps of size $\eta$, as `train_step` does:
#
# $$b \leftarrow b + \eta\, \partial V/\partial b = b + \eta a, \qquad
#   a \leftarrow a - \eta\, \partial V/\partial a = a - \eta b .$$
#
# Each player's step is right *for the current position of the other*, yet
# together they rotate around the equilibrium instead of approaching it: the
# vector field $(-b, a)$ of the game has no component towards $(0, 0)$. With
# simultaneous updates (both computed from the old values) the orbit even
# spirals outwards, since one step multiplies the radius by $\sqrt{1+\eta^2}$.

# %%
eta, T = 0.1, 2000
a, b = 1.0, 1.0
alt = []
for _ in range(T):
    b = b + eta * a
    a = a - eta * b
    alt.append((a, b))
a, b = 1.0, 1.0
sim = []
for _ in range(T // 10):
    a, b = a - eta * b, b + eta * a
    sim.append((a, b))
alt, sim = np.array(alt), np.array(sim)
r_alt, r_sim = np.hypot(*alt.T), np.hypot(*sim.T)
print(f"alternating: radius {np.sqrt(2):.3f} at start, between {r_alt.min():.3f} and "
      f"{r_alt.max():.3f} over {T} steps")
print(f"simultaneous: radius {np.sqrt(2):.3f} -> {r_sim[-1]:.3f} after {T // 10} steps "
      f"(predicted {np.sqrt(2) * (1 + eta ** 2) ** (len(sim) / 2):.3f})")
assert r_alt.min() > 0.8 * np.sqrt(2)    # never approaches the equilibrium
assert r_sim[-1] > 2 * np.sqrt(2)

fig, ax = plt.subplots(figsize=(4.6, 4.6))
ax.plot(*sim.T, lw=0.8, label="simultaneous")
ax.plot(*alt.T, lw=0.8, label="alternating")
ax.plot(0, 0, "k*", ms=10, label="equilibrium")
ax.set_xlabel("a (G's parameter)")
ax.set_ylabel("b (D's parameter)")
ax.set_aspect("equal")
ax.legend(fontsize=8)
ax.set_title("min_a max_b a*b by gradient steps")
save_figure(fig, "08_bilinear_game.png")

# %% [markdown]
# A GAN is not bilinear, but near an equilibrium the two players' gradients
# have exactly this rotational part, and the ring run above shows its symptom:
# the measured quality oscillates instead of converging. Remedies aim at damping
# the rotation or at making it harmless: smaller or unequal learning rates,
# several $D$ steps (lesson 10), keeping the best checkpoint.

# %% [markdown]
# ### An animation (full mode only)
#
# Run the lesson without `TINYGAN_QUICK=1` and it also writes
# `08_ring_training.gif`: 21 frames of $D$'s surface and $G$'s samples.

# %%
if frames:
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig, ax = plt.subplots(figsize=(4.8, 4.8))

    def draw(k):
        ax.clear()
        step, samples, surface = frames[k]
        ax.contourf(xx, yy, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
        ax.scatter(*real_pts.T, s=3, c="k")
        ax.scatter(*samples.T, s=2, c="w", edgecolors="none")
        ax.set_title(f"step {step}")
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.set_aspect("equal")

    anim = FuncAnimation(fig, draw, frames=len(frames))
    FIGURES.mkdir(parents=True, exist_ok=True)
    with atomic_path(FIGURES / "08_ring_training.gif") as tmp:   # all or nothing
        anim.save(tmp, writer=PillowWriter(fps=4))
    plt.close(fig)
    print("animation:", FIGURES / "08_ring_training.gif")

# %% [markdown]
# ## What to take away
#
# * `train_step` alternates phase 1 and phase 2; neither player ever sees a
#   fixed opponent.
# * The generator learns (samples move onto the ring), and the discriminator
#   *never wins*: $L_D$ between 0.5 and $\log 2$, outputs near $\tfrac12$,
#   accuracy back from its early peak to about 73% — the opposite of lesson 06's
#   100%.
# * The game does not settle: quality and mode coverage oscillate, because
#   alternating gradient steps rotate around an equilibrium rather than descend
#   into it. Measure as you train and keep the best snapshot.
