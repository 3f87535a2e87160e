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
# # Lesson 06 — Phase 1: the discriminator as a classifier of real vs fake
#
# A GAN's training loop alternates two phases (lesson 00). This lesson takes
# the first one apart: **train the discriminator while the generator stands
# still.** It is `GAN.d_step` in `tinygan/gan.py`.
#
# Symbols, used in every lesson from here on:
#
# * $x_1, \dots, x_N$: a batch of $N$ **real** samples (rows of an array of
#   shape $(N, d)$; $d = 2$ for the 2-D ring below, $d = 784$ for MNIST).
# * $z_1, \dots, z_N$: **noise** vectors, $z_j \sim \mathcal N(0, I)$, shape $(N, k)$
#   with $k$ the *latent dimension*.
# * $G$: the generator network, weights $\theta_G$; $G(z_j)$ is a **fake** sample.
# * $D$: the discriminator network, weights $\theta_D$. The network itself
#   outputs one real number per sample, the **logit** $\ell(x)$; its belief that
#   $x$ is real is $D(x) = \sigma(\ell(x))$ with $\sigma(t) = 1/(1+e^{-t})$.
#
# **The loss of phase 1.** $D$ is a binary classifier: real samples are class 1,
# fakes are class 0. Its loss is the binary cross-entropy (BCE, lesson 03),
# half on each batch:
#
# $$L_D = \tfrac12\Big[\underbrace{-\tfrac1N\sum_i \log \sigma(\ell(x_i))}_{\mathrm{BCE}(\ell_\text{real},\,1)}
#        \;\underbrace{-\tfrac1N\sum_j \log\big(1-\sigma(\ell(G(z_j)))\big)}_{\mathrm{BCE}(\ell_\text{fake},\,0)}\Big].$$
#
# This is $-\tfrac12 V(D, G)$ on a minibatch, so *minimising* $L_D$ over
# $\theta_D$ is the "$\max_D$" of the value function. `discriminator_loss` in
# `tinygan/losses.py` computes it. The derivative of BCE w.r.t. one logit is
# $(\sigma(\ell) - t)/N$ for target $t$ (lesson 03), so after the factor
# $\tfrac12$:
#
# $$\frac{\partial L_D}{\partial \ell(x_i)} = \frac{\sigma(\ell(x_i)) - 1}{2N}, \qquad
#   \frac{\partial L_D}{\partial \ell(G(z_j))} = \frac{\sigma(\ell(G(z_j)))}{2N}.$$
#
# From the logits back to $\theta_D$ it is ordinary backpropagation through
# $D$'s layers (lessons 01–02). $G$ does not appear in the gradient at all:
# in phase 1 the fakes are just a second batch of inputs.
#
# What we check in this lesson:
#
# 1. `d_step` computes exactly the gradient we assemble by hand from the atoms.
# 2. That gradient equals finite differences of $L_D$ w.r.t. every weight of $D$.
# 3. $G$ is bit-for-bit unchanged by `d_step` — weights *and* BatchNorm statistics.
# 4. With $G$ held fixed, $D$'s accuracy on fresh samples rises from about 50%
#    to nearly 100%: against a generator that does not learn, $D$ wins.

# %%
import numpy as np

from _common import QUICK, plt, save_figure
from tinygan import GAN
from tinygan.datasets import RING
from tinygan.gradcheck import check_function
from tinygan.losses import bce, discriminator_loss
from tinygan.optim import Adam
from tinygan.presets import mnist_mlp, toy_mlp

D_STEPS = 150 if QUICK else 600   # phase-1 steps against a fixed G in the last section
BATCH = 128

# %% [markdown]
# ## The data: eight Gaussians on a ring
#
# `tinygan.datasets.RING` (`tinygan/datasets/mixtures.py`) is the standard toy
# problem for GANs: 8 Gaussians with centres $(\cos 2\pi m/8, \sin 2\pi m/8)$,
# $m = 0..7$, and standard deviation 0.01. `RING.sample(n, rng)` draws $n$ points.
# `toy_mlp` (`tinygan/presets.py`) builds a small $G$ (2 → 128 → 128 → 2) and
# $D$ (2 → 128 → 128 → 1 logit), Dense layers with LeakyReLU(0.2) between them.

# %%
rng = np.random.default_rng(0)
G, D = toy_mlp(latent_dim=2, rng=1)
gan = GAN(G, D, latent_dim=2, rng=2)
real = RING.sample(BATCH, rng)
z = gan.sample_noise(BATCH)
print("real", real.shape, " z", z.shape, " G(z)", G.forward(z).shape, " logits", D.forward(real).shape)

# %% [markdown]
# ## One discriminator step, assembled from the atoms
#
# `d_step(real, z)` does, in order:
#
# 1. `fake = G.forward(z)` inside `with G.frozen():` — $G$ runs but nothing in it
#    may change (see below);
# 2. forward the real batch through $D$, `bce(logits_real, 1)`, backward
#    $\tfrac12\,\partial\mathrm{BCE}/\partial\ell$ with `accumulate=False`:
#    gradients accumulate (lesson 01), so last step's must go, and this first
#    backward *writes* $D$'s gradients instead of adding to them. That is
#    `D.zero_grad()` followed by an ordinary backward, without a pass of zeros
#    over every gradient first (`begin_overwrite` in `tinygan/layers/base.py`);
# 3. forward the fake batch, `bce(logits_fake, 0)`, an ordinary backward; the
#    two gradients **add up** in `D`'s `grads`;
# 4. `d_optimizer.step()` — the only moment $\theta_D$ changes.
#
# Each forward is followed by its own backward because a layer keeps only the
# cache of its latest forward (`tinygan/layers/base.py`). Both backward calls
# pass `input_grad=False`: nobody needs $\partial L_D/\partial x$ in phase 1.
#
# We build the same gradient by hand on one copy of the networks, the plain
# way (`D.zero_grad()`, then two accumulating backwards), and let `d_step` do it
# on an identical copy (same seeds), then compare.

# %%
def fresh(dtype=np.float32, hidden=128):
    """A new (G, D, GAN) with fixed seeds: calling it twice gives identical twins."""
    g, d = toy_mlp(latent_dim=2, hidden=hidden, rng=1, dtype=dtype)
    return g, d, GAN(g, d, latent_dim=2, rng=2)


G1, D1, gan1 = fresh()
with G1.frozen():
    fake = G1.forward(z)
D1.zero_grad()
loss_r, d_r = bce(D1.forward(real), 1.0)
D1.backward(0.5 * d_r, input_grad=False)
loss_f, d_f = bce(D1.forward(fake), 0.0)
D1.backward(0.5 * d_f, input_grad=False)
by_hand = {p.name: p.grad.copy() for p in D1.parameters()}
print(f"L_D by hand = 0.5 * ({loss_r:.4f} + {loss_f:.4f}) = {0.5 * (loss_r + loss_f):.4f}")

G2, D2, gan2 = fresh()
stats = gan2.d_step(real, z)
print("d_step returned", {k: round(v, 4) for k, v in stats.items()})
for p in D2.parameters():
    assert np.array_equal(p.grad, by_hand[p.name]), p.name
print("d_step's gradients are bit-identical to the hand-built ones for all",
      len(by_hand), "parameter arrays of D")
assert abs(stats["d_loss"] - 0.5 * (loss_r + loss_f)) < 1e-6

# %% [markdown]
# Before any training $D$ knows nothing, so $D(x) \approx \tfrac12$ for every
# input and $L_D \approx \tfrac12(\log 2 + \log 2) = \log 2 \approx 0.693$:
# the loss of a coin toss. That is the number to compare every later $L_D$ with.

# %%
print(f"L_D at initialisation: {stats['d_loss']:.4f}   log 2 = {np.log(2):.4f}")
assert abs(stats["d_loss"] - np.log(2)) < 0.1

# %% [markdown]
# ## The gradient of $L_D$, checked by finite differences
#
# Lesson 05's recipe: **float64**, central differences, relative error. We use a
# smaller $D$ (hidden width 8) so that perturbing every single weight is quick.
# The scalar function is $L_D(\theta_D)$ with the real batch, the noise and $G$
# fixed; `discriminator_loss` computes it from the two logit arrays.
#
# `d_step` also *updates* $D$. The gradient it leaves in `grads` belongs to the
# weights *before* the update, so we save the weights, run `d_step`, and put the
# old weights back (`load_state_dict`) before probing.

# %%
G3, D3, gan3 = fresh(np.float64, hidden=8)
real64, z64 = real[:32].astype(np.float64), z[:32].astype(np.float64)
before = {k: v.copy() for k, v in D3.state_dict().items()}
gan3.d_step(real64, z64)
D3.load_state_dict(before)                 # back to the weights the gradient belongs to
with G3.frozen():
    fake64 = G3.forward(z64)


def L_D():
    return discriminator_loss(D3.forward(real64), D3.forward(fake64))[0]


errors = check_function(L_D, {p.name: p.grad for p in D3.parameters()},
                        {p.name: p.value for p in D3.parameters()})
for name, err in errors.items():
    print(f"  dL_D/d{name:<4} relative error {err:.2e}")
assert max(errors.values()) < 1e-6

# %% [markdown]
# ## $G$ is bit-for-bit unchanged by phase 1
#
# The MNIST generator (`mnist_mlp`, lesson 09) has BatchNorm layers, and a
# BatchNorm layer in training mode updates its *running* mean and variance on
# every forward pass (lesson 04). `d_step` makes its fakes in training mode —
# the same computation phase 2 will differentiate, so $D$ learns to reject
# exactly the samples $G$ is trained to improve — but inside `G.frozen()`, and a
# frozen layer changes nothing in itself (`tinygan/layers/batchnorm.py`). We
# check every array of $G$'s `state_dict` (weights and running statistics) and
# $G$'s optimizer state, before and after.

# %%
Gm, Dm = mnist_mlp(rng=0)
mgan = GAN(Gm, Dm, latent_dim=100, rng=0)
snapshot = {k: v.copy() for k, v in Gm.state_dict().items()}
g_opt = {k: np.array(v, copy=True) for k, v in mgan.g_optimizer.state_dict().items()}
d_before = Dm.parameters()[0].value.copy()
mgan.d_step(np.random.default_rng(0).random((64, 784), dtype=np.float32))
same = all(np.array_equal(v, snapshot[k]) for k, v in Gm.state_dict().items())
same_opt = all(np.array_equal(v, g_opt[k]) for k, v in mgan.g_optimizer.state_dict().items())
print(f"G unchanged after d_step: {same} ({len(snapshot)} arrays, "
      f"{sum(v.size for v in snapshot.values()):,} numbers); G's Adam state unchanged: {same_opt}")
print("D's first weight matrix changed:", not np.array_equal(Dm.parameters()[0].value, d_before))
assert same and same_opt
assert not np.array_equal(Dm.parameters()[0].value, d_before)

# %% [markdown]
# Without the `frozen()` the same forward pass *would* have moved $G$: one
# training-mode forward shifts BatchNorm's running mean by $(1-0.8)$ of the gap
# to the batch mean.

# %%
bn = Gm.layers[2]
old = bn.running_mean.copy()
Gm.forward(mgan.sample_noise(64))          # not frozen: running statistics update
print(f"{bn!r} running mean moved by up to {np.max(np.abs(bn.running_mean - old)):.3g}")
assert not np.array_equal(bn.running_mean, old)

# %% [markdown]
# ## Against a fixed generator, the discriminator wins
#
# Now we run only phase 1, many times, with a new real batch and new noise
# each step, and never train $G$. Every few steps we measure $D$'s **accuracy**
# on 1,000 fresh real and 1,000 fresh fake samples that it never trained on: a
# sample counts as classified "real" when $D(x) > \tfrac12$, i.e. $\ell(x) > 0$.
#
# For a fixed $G$ the best possible discriminator is
# $D^*(x) = p_\text{data}(x) / (p_\text{data}(x) + p_g(x))$ (lesson 00), with
# $p_g$ the density of $G(z)$. The untrained $G$ puts its samples in a small
# blob near the origin, far from the ring, so $D^*$ is 1 on the ring and 0 on
# the blob: perfect accuracy is reachable, and $D$ gets there.

# %%
G, D = toy_mlp(latent_dim=2, rng=1)
gan = GAN(G, D, latent_dim=2, d_optimizer=Adam(D.parameters(), lr=1e-3), rng=2)
held_real, held_fake = RING.sample(1000, np.random.default_rng(7)), gan.sample(1000, rng=8)


def accuracy():
    """Share of held-out real and fake samples D puts on the right side of 1/2."""
    right = np.count_nonzero(D.forward(held_real) > 0) + np.count_nonzero(D.forward(held_fake) <= 0)
    return right / 2000


g_before = {k: v.copy() for k, v in G.state_dict().items()}
curve = [(0, accuracy(), np.nan)]
for step in range(1, D_STEPS + 1):
    s = gan.d_step(RING.sample(BATCH, rng))
    if step % 10 == 0:
        curve.append((step, accuracy(), s["d_loss"]))
steps, accs, losses = map(np.array, zip(*curve))
print(f"held-out accuracy: {accs[0]:.1%} before, {accs[-1]:.1%} after {D_STEPS} steps; "
      f"L_D fell to {losses[-1]:.4f}")
assert accs[-1] > 0.95 and accs[-1] > accs[0] + 0.2
assert losses[-1] < 0.25 * np.log(2)
assert all(np.array_equal(v, g_before[k]) for k, v in G.state_dict().items())

# %% [markdown]
# The picture: $D(x)$ over the plane, with the real ring (black) and the fixed
# fakes (red). $D$ has carved out "real" around the ring and "fake" around the
# generator's blob; far from both it says whatever its weights happen to
# extrapolate, because no sample ever taught it anything there.

# %%
grid = np.linspace(-1.6, 1.6, 161, dtype=np.float32)
xx, yy = np.meshgrid(grid, grid)
surface = 1 / (1 + np.exp(-D.forward(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)))

fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2))
a1.plot(steps, accs, "o-", ms=3, label="held-out accuracy")
a1.plot(steps[1:], losses[1:] / np.log(2), label=r"$L_D / \log 2$ (training batch)")
a1.axhline(0.5, color="gray", lw=0.8, ls=":")
a1.set_xlabel("discriminator steps (G fixed)")
a1.legend()
a1.set_title("Phase 1 alone: D learns to classify")
im = a2.contourf(xx, yy, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
fig.colorbar(im, ax=a2, label="D(x)")
a2.scatter(*held_real[:300].T, s=2, c="k", label="real")
a2.scatter(*held_fake[:300].T, s=2, c="r", label="fake G(z)")
a2.set_aspect("equal")
a2.legend(loc="upper right", fontsize=8)
a2.set_title(f"D(x) after {D_STEPS} steps")
save_figure(fig, "06_phase1_discriminator.png")

# %% [markdown]
# ## What to take away
#
# * Phase 1 is plain supervised learning: a binary classifier trained with BCE
#   on a batch of reals (label 1) and a batch of fakes (label 0), `GAN.d_step`.
# * Its gradient is checked like any other: finite differences of $L_D$ agree
#   with `d_step`'s gradients to $2\cdot10^{-7}$ or better (asserted: $< 10^{-6}$).
# * $G$ is only a source of inputs here; `G.frozen()` guarantees it leaves the
#   step bit-for-bit as it entered, BatchNorm statistics included.
# * Left alone, phase 1 wins: $L_D \to 0$ and accuracy $\to 100\%$. Lesson 07
#   gives $G$ its turn, lesson 08 alternates the two.
