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
# # Lesson 07 — Phase 2: backpropagation through two networks
#
# In phase 2 the generator learns. Its loss is computed by the *discriminator*,
# so its gradient has to travel backwards through $D$ first and then through
# $G$: two networks, one chain rule. $D$ is only a measuring instrument here; it
# must pass the gradient on and change nothing in itself. This is `GAN.g_step`
# in `tinygan/gan.py`.
#
# Symbols (as in lesson 06): noise $z_j$ ($j = 1..N$, shape $(N, k)$), fakes
# $x_j = G(z_j)$ (shape $(N, d)$), logits $\ell_j = \ell(x_j)$ (shape $(N, 1)$),
# $D(x) = \sigma(\ell(x))$, weights $\theta_G$ and $\theta_D$.
#
# **The loss of phase 2** (the "non-saturating" loss of lesson 03, the default):
#
# $$L_G = -\frac1N \sum_j \log \sigma(\ell_j) = \mathrm{BCE}(\ell_\text{fake}, 1),$$
#
# small when $D$ believes the fakes are real. (`generator_loss` in
# `tinygan/losses.py`; the "minimax" form $\frac1N\sum_j \log(1 - \sigma(\ell_j))$
# is lesson 10's subject.)
#
# **The chain rule across both networks.** For any weight $w$ of $G$:
#
# $$\frac{\partial L_G}{\partial w}
#   = \sum_j \underbrace{\frac{\partial L_G}{\partial \ell_j}}_{(\sigma(\ell_j)-1)/N}\;
#            \underbrace{\frac{\partial \ell_j}{\partial x_j}}_{\text{back through } D}\;
#            \underbrace{\frac{\partial x_j}{\partial w}}_{\text{back through } G}.$$
#
# The middle factor is what $D$'s backward pass computes when asked only for its
# *input* gradient: the vector $\partial L_G/\partial x_j$ of shape $(d,)$ for
# each fake, $(N, d)$ for the batch. $\theta_D$ enters the computation as a
# constant: nothing asks for $\partial L_G/\partial\theta_D$, so it is never
# computed, and nothing in $D$ changes.
#
# What we check:
#
# 1. Layer by layer, the shapes of the gradient as it flows back through $D$
#    and then $G$; our hand walk equals `g_step` bit for bit.
# 2. $D$ — weights, gradients, optimizer state — is bit-identical after `g_step`.
# 3. $\partial L_G/\partial x$ at $D$'s input, drawn as an image.
# 4. $G$'s gradient equals finite differences of $L_G$ *through* $D$.
# 5. What skipping $D$'s weight gradients saves.

# %%
import time

import numpy as np

from _common import QUICK, plt, save_figure
from tinygan import GAN, Sequential
from tinygan.datasets import Batches, load
from tinygan.gradcheck import numerical_grad, rel_error, rel_error_norm
from tinygan.layers import BatchNorm, Dense, LeakyReLU, Sigmoid
from tinygan.losses import generator_loss
from tinygan.presets import mnist_mlp

N = 64
PRE_STEPS = 30 if QUICK else 200      # phase-1 steps that give D an opinion before we ask it
REPEATS = 15 if QUICK else 100        # timing repetitions

# %% [markdown]
# ## The setting: the MNIST networks
#
# We use the seed MLP GAN (`mnist_mlp` in `tinygan/presets.py`, lesson 09):
# $G$: 100 → 256 → 512 → 1024 → 784 with LeakyReLU and BatchNorm, Sigmoid
# output (pixels in $[0, 1]$); $D$: 784 → 512 → 256 → 1 logit. So $k = 100$,
# $d = 784 = 28 \times 28$.
#
# An untrained $D$ has no opinion, and its gradient would be noise. So we first
# give it a few phase-1 steps (lesson 06) against the untrained $G$: real digits
# from `tinygan.datasets.load("mnist-embedded")`, batched by `Batches`.

# %%
images, _ = load("mnist-embedded")
batches = Batches(images, N, rng=np.random.default_rng(0))
G, D = mnist_mlp(rng=0)
gan = GAN(G, D, latent_dim=100, rng=1)
for _ in range(PRE_STEPS):
    s = gan.d_step(batches.next_batch())
print(f"after {PRE_STEPS} phase-1 steps: mean D(real) = {s['d_x']:.3f}, "
      f"mean D(fake) = {s['d_g_z']:.3f}")

# %% [markdown]
# ## Following the gradient, layer by layer
#
# We do by hand what `g_step` does: forward through $G$ and $D$, the loss, then
# backward through $D$'s layers (last to first) inside `with D.frozen():`, then
# through $G$'s. Each layer's `backward(dy)` receives $dy = \partial L/\partial(\text{its output})$
# and returns $\partial L/\partial(\text{its input})$. For a Dense layer
# $y = xW + b$ (lesson 01) that is $dx = dy\,W^\top$; when the layer is trainable
# it also adds $dW = x^\top dy$ and $db = \sum_n dy_n$ to its `grads`.
#
# We save $G$'s state first: the hand walk's training-mode forward moves
# $G$'s BatchNorm statistics, and `g_step` must later start from the same place.

# %%
z = gan.sample_noise(N)
g_state = {k: v.copy() for k, v in G.state_dict().items()}


def row(where, layer, dy_in, dx, grads):
    shape = "-" if dx is None else str(dx.shape)
    print(f"{where:<2} {layer!r:<22} {str(dy_in.shape):<12} -> {shape:<12} {grads}")


G.zero_grad()
fake = G.forward(z)
with D.frozen():
    logits = D.forward(fake)
    loss, dy = generator_loss(logits, "non-saturating")
    print(f"z {z.shape} -> G -> fake {fake.shape} -> D -> logits {logits.shape};  L_G = {loss:.4f}")
    print(f"dL/dlogits = (sigmoid(l) - 1)/N, shape {dy.shape}\n")
    print(f"{'':<2} {'layer':<22} {'dy (in)':<12} -> {'dx (out)':<12} weight gradients")
    for layer in reversed(D.layers):
        dx = layer.backward(dy)
        row("D", layer, dy, dx, "none: D is frozen" if layer.params else "")
        dy = dx
d_fake = dy                                    # dL/dx at D's input = at G's output
for i in reversed(range(len(G.layers))):
    layer = G.layers[i]
    dx = layer.backward(dy, input_grad=i > 0)  # nobody needs dL/dz
    names = ", ".join(f"d{k} {layer.grads[k].shape}" for k in layer.params)
    row("G", layer, dy, dx, names)
    dy = dx
by_hand = {p.name: p.grad.copy() for p in G.parameters()}

# %% [markdown]
# The gradient enters $D$ at the top as one number per sample $(N, 1)$, widens
# to $(N, 256)$, $(N, 512)$ and leaves $D$ as $(N, 784)$: one value per pixel of
# each fake. That array is handed to $G$'s last layer and walks down to
# $(N, 256)$; $G$'s first Dense layer returns nothing, since $z$ is not learned.
#
# Now the library's `g_step` on the same $z$ from the same state. We also record
# everything in $D$: its `state_dict`, its `grads` (still holding phase 1's last
# gradient) and its Adam state.

# %%
G.load_state_dict(g_state)
d_arrays = {k: v.copy() for k, v in D.state_dict().items()}
d_grads = {p.name: p.grad.copy() for p in D.parameters()}
d_opt = {k: np.array(v, copy=True) for k, v in gan.d_optimizer.state_dict().items()}

gan.g_step(z)

for p in G.parameters():
    assert np.array_equal(p.grad, by_hand[p.name]), p.name
print("g_step's generator gradients equal the hand walk's, bit for bit:", len(by_hand), "arrays")
unchanged = (all(np.array_equal(v, d_arrays[k]) for k, v in D.state_dict().items())
             and all(np.array_equal(p.grad, d_grads[p.name]) for p in D.parameters())
             and all(np.array_equal(v, d_opt[k]) for k, v in gan.d_optimizer.state_dict().items()))
print("D's weights, gradients and optimizer state bit-identical after g_step:", unchanged)
assert unchanged

# %% [markdown]
# ## What $D$ tells $G$ to change
#
# $\partial L_G/\partial x_j$ has one entry per pixel of fake $j$: how much the
# loss would rise per unit of brightness added to that pixel. Gradient descent
# moves against it, so $-\partial L_G/\partial x_j$ is the change $D$ "asks
# for": red where a pixel should get brighter, blue where darker. $G$ cannot
# paint pixels directly; the rest of the chain rule turns this request into
# changes of $\theta_G$.
#
# After a few phase-1 steps, $D$ has learned mostly *where* ink belongs in
# digits. So the average request over the batch should resemble the difference
# between the average real digit and the average fake: we check that their
# cosine similarity is clearly positive.

# %%
real_mean = batches.next_batch().mean(axis=0)
request = -d_fake
mean_request = request.mean(axis=0)
target = real_mean - fake.mean(axis=0)
cosine = float(mean_request @ target / (np.linalg.norm(mean_request) * np.linalg.norm(target)))
print(f"cosine(mean of -dL/dx, mean real - mean fake) = {cosine:.3f}")
assert cosine > 0.3

fig, axes = plt.subplots(3, 6, figsize=(10, 5.4))
for c in range(5):
    lim = np.abs(request[c]).max()
    axes[0, c].imshow(fake[c].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
    axes[1, c].imshow(request[c].reshape(28, 28), cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[2, c].axis("off")
lim = np.abs(mean_request).max()
axes[0, 5].imshow(real_mean.reshape(28, 28), cmap="gray")
axes[0, 5].set_title("mean real", fontsize=9)
axes[1, 5].imshow(mean_request.reshape(28, 28), cmap="RdBu_r", vmin=-lim, vmax=lim)
axes[1, 5].set_title("mean -dL/dx", fontsize=9)
lim = np.abs(target).max()
axes[2, 5].imshow(target.reshape(28, 28), cmap="RdBu_r", vmin=-lim, vmax=lim)
axes[2, 5].set_title("real - fake (means)", fontsize=9)
axes[0, 0].set_ylabel("fake G(z)")
axes[1, 0].set_ylabel("-dL/dx")
for a in axes.ravel():
    a.set_xticks([])
    a.set_yticks([])
fig.suptitle(f"What D tells G to change (red: brighter, blue: darker); cosine {cosine:.2f}")
save_figure(fig, "07_what_d_tells_g.png")

# %% [markdown]
# ## $G$'s gradient, checked by finite differences through $D$
#
# The check of lesson 05, but the function now spans both networks:
# $w \mapsto L_G(D(G(z; w)))$ for each weight $w$ of $G$, with $z$ and $\theta_D$
# fixed. Finite differences know nothing about phases or frozen layers: if
# $\partial L_G/\partial w$ from the two backward passes matches them, every
# link of the chain above is right.
#
# Float64, and small networks with the same layer types as `mnist_mlp` (Dense,
# LeakyReLU, BatchNorm in training mode, Sigmoid in $G$), so that every weight
# can be perturbed. As in lesson 06, `g_step` also updates $G$; we restore the
# weights its gradient belongs to before probing. Inside the loss function both
# networks are frozen, so the probes do not move BatchNorm's running statistics
# (they do not enter a training-mode forward anyway). Both generator losses are
# checked.
#
# One change from lesson 05: each gradient is compared as a whole array,
# $\lVert a - n\rVert / (\lVert a\rVert + \lVert n\rVert)$ (`rel_error_norm`).
# The bias of the Dense layer in front of BatchNorm has an almost-zero gradient
# (BatchNorm subtracts the batch mean, so shifting a unit matters only where
# LeakyReLU bends it); the finite difference's rounding, about $10^{-10}$, is then
# a large share of such an element, though nothing against the array.

# %%
def small_pair(seed):
    r = np.random.default_rng(seed)
    g = Sequential(Dense(3, 6, rng=r, dtype=np.float64), LeakyReLU(0.2),
                   BatchNorm(6, dtype=np.float64), Dense(6, 5, rng=r, dtype=np.float64), Sigmoid())
    d = Sequential(Dense(5, 7, rng=r, dtype=np.float64), LeakyReLU(0.2),
                   Dense(7, 1, rng=r, dtype=np.float64))
    for p in g.parameters() + d.parameters():   # biases, gamma, beta off 0, 1, 0:
        if p.name.endswith((".b", "gamma", "beta")):   # a dropped term cannot hide
            p.value[...] = r.normal(0.5, 0.5, size=p.value.shape)
    return g, d


for kind in ("non-saturating", "minimax"):
    g, d = small_pair(3)
    small = GAN(g, d, latent_dim=3, loss=kind, rng=4)
    zs = small.sample_noise(16)
    before = {k: v.copy() for k, v in g.state_dict().items()}
    d_before = {k: v.copy() for k, v in d.state_dict().items()}
    small.g_step(zs)
    g.load_state_dict(before)

    def L_G():
        with g.frozen(), d.frozen():
            return generator_loss(d.forward(g.forward(zs)), kind)[0]

    errors = {p.name: rel_error_norm(p.grad, numerical_grad(L_G, p.value))
              for p in g.parameters()}
    print(f"{kind:>15}: " + "  ".join(f"{k} {e:.1e}" for k, e in errors.items()))
    assert max(errors.values()) < 1e-7
    assert all(np.array_equal(v, d_before[k]) for k, v in d.state_dict().items())

# %% [markdown]
# The real thing as well: `mnist_mlp` in float64, a few entries of $G$'s first
# weight matrix (100 × 256), each perturbed by $\pm h$ and pushed through all
# seven Dense layers of both networks.

# %%
G64, D64 = mnist_mlp(rng=0, dtype=np.float64)
big = GAN(G64, D64, latent_dim=100, rng=5)
z64 = big.sample_noise(N)
before = {k: v.copy() for k, v in G64.state_dict().items()}
big.g_step(z64)
G64.load_state_dict(before)
W, dW = G64.layers[0].params["W"], G64.layers[0].grads["W"]
h = 1e-6
for i, j in np.random.default_rng(6).integers(0, [100, 256], size=(4, 2)):
    def L_G():
        with G64.frozen(), D64.frozen():
            return generator_loss(D64.forward(G64.forward(z64)), "non-saturating")[0]
    old = W[i, j]
    W[i, j] = old + h
    up = L_G()
    W[i, j] = old - h
    down = L_G()
    W[i, j] = old
    numeric = (up - down) / (2 * h)
    err = rel_error(dW[i, j], numeric)
    print(f"dL_G/dW0[{i:3d},{j:3d}]: backward {dW[i, j]: .6e}  finite diff {numeric: .6e}  rel err {err:.1e}")
    assert err < 1e-5

# %% [markdown]
# ## What freezing $D$ saves
#
# Count the matrix products, the bulk of the work. For one Dense layer
# $(n_\text{in} \to n_\text{out})$ on a batch of $N$, each of forward $xW$,
# input gradient $dy\,W^\top$ and weight gradient $x^\top dy$ costs
# $2 N n_\text{in} n_\text{out}$ floating-point operations (one multiply and
# one add per term).
#
# In phase 2 a trainable $D$ would do both products per layer in its backward
# pass; frozen, it does only $dy\,W^\top$. `Dense.backward` in
# `tinygan/layers/dense.py` skips $x^\top dy$ and the bias sum when
# `trainable` is False. We count the products, and time $D$'s backward pass both
# ways (median of repeated runs; timings on a shared machine are noisy, the
# count is exact).

# %%
dense = [layer for layer in D.layers if isinstance(layer, Dense)]
flops = [2 * N * layer.in_features * layer.out_features for layer in dense]
print(f"{'layer':<18} {'dx = dy W^T':>14} {'dW = x^T dy':>14}")
for layer, f in zip(dense, flops):
    print(f"{layer!r:<18} {f:>14,} {f:>14,}")
frozen_flops, full_flops = sum(flops), 2 * sum(flops)
print(f"D's backward: frozen {len(dense)} products, {frozen_flops:,} FLOPs; "
      f"trainable {2 * len(dense)} products, {full_flops:,} FLOPs")


def time_backward():
    """Median time of D.backward, trainable and frozen, measured alternately."""
    times = {True: [], False: []}
    dlog = np.full((N, 1), -1.0 / N, dtype=np.float32)
    for r in range(REPEATS + 1):
        for trainable in (True, False):
            D.trainable = trainable
            D.zero_grad()
            D.forward(fake)
            t = time.perf_counter()
            D.backward(dlog)
            if r:                                   # the first round is a warm-up
                times[trainable].append(time.perf_counter() - t)
    D.trainable = True
    return float(np.median(times[True])), float(np.median(times[False]))


t_full, t_frozen = time_backward()
print(f"D.backward median: trainable {t_full * 1e3:.2f} ms, frozen {t_frozen * 1e3:.2f} ms "
      f"(ratio {t_full / t_frozen:.2f}; the FLOP count predicts 2)")
D.trainable = False
D.zero_grad()
D.forward(fake)
D.backward(np.ones((N, 1), dtype=np.float32))
D.trainable = True
assert all(not p.grad.any() for p in D.parameters()), "a frozen D accumulated a weight gradient"
print("frozen backward left every D gradient at exactly zero")

# %% [markdown]
# In a whole generator step the saving is smaller than 2×, since $G$'s forward
# and backward and $D$'s forward cost the same either way; for `mnist_mlp` it
# is $D$'s three weight products out of the step's matrix products:

# %%
g_dense = [layer for layer in G.layers if isinstance(layer, Dense)]
g_flops = [2 * N * layer.in_features * layer.out_features for layer in g_dense]
step = (sum(g_flops)                 # G forward
        + sum(flops)                 # D forward
        + sum(flops)                 # D backward, input gradients only
        + sum(g_flops)               # G backward: weight gradients
        + sum(g_flops[1:]))          # G backward: input gradients, except the first layer
print(f"one generator step: {step:,} FLOPs; a trainable D would add {sum(flops):,} "
      f"(+{sum(flops) / step:.0%})")

# %% [markdown]
# ## What to take away
#
# * Phase 2 is one chain rule across two networks: $\partial L_G/\partial\ell$
#   → back through $D$ (input gradients only) → $\partial L_G/\partial x$,
#   shape $(N, 784)$ → back through $G$ (weight gradients) → $\partial L_G/\partial\theta_G$.
# * `D.frozen()` (`tinygan/model.py`) makes $D$ a fixed function during
#   phase 2: it passes gradients on, computes no weight gradients and comes out
#   bit-identical.
# * $\partial L_G/\partial x$ is $D$'s instruction to $G$, in pixel space.
# * Finite differences *through* $D$ confirm $G$'s gradient: whole-array
#   relative errors of $5\cdot10^{-8}$ or better on the small networks
#   (asserted: $< 10^{-7}$), $3\cdot10^{-7}$ or better on entries of the
#   full-size $G$ (asserted: $< 10^{-5}$: those entries are only about
#   $10^{-4}$, so they feel the finite difference's rounding more).
# * *Frozen* is not *eval mode*. `frozen()` keeps $D$'s weights still; the
#   layers still run as in training, so a $D$ with dropout hands $G$ the
#   gradient of a randomly thinned copy of itself. `D.evaluating()` switches
#   dropout off (and BatchNorm to its running statistics);
#   `GAN(d_eval_in_g_step=True)` does both in phase 2, so $G$ follows the
#   gradient of the whole $D$. The MNIST recipe uses it (`tinygan/recipes.py`
#   says what it buys); phase 1 keeps dropout, which is what regularises $D$.
