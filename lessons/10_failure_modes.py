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
# # Lesson 10 — Failure modes and remedies, measured
#
# Lesson 08 showed the alternating loop working, unsteadily. Here are the ways
# it fails, each with a number that shows it, and the standard remedies, each
# with the mechanism by which it works, checked:
#
# | failure | what is measured | remedy (option of `GAN`, `tinygan/gan.py`) |
# |---|---|---|
# | minimax saturation | $\lVert\partial L_G/\partial\theta_G\rVert$ when $D$ is confident | `loss="non-saturating"` |
# | $D$ overpowers $G$ | can $G$ fool a confident $D$ at all? | the non-saturating loss |
# | mode collapse | modes covered, reverse KL (ring, grid) | `pack`, `d_steps`, `label_smoothing` |
#
# Mode coverage is measured as in lesson 12 (`tinygan.metrics.mode_coverage`,
# `tinygan/metrics/mixtures.py`): from 2,500 samples, a sample is
# *high-quality* (HQ) if it lies within 3 standard deviations of its nearest
# centre; a mode is *covered* if at least one HQ sample is nearest to it; the
# *reverse KL* compares the share of HQ samples per mode, $q_k$, with the
# uniform $1/K$: $\sum_k q_k \log(K q_k)$ (0 when balanced, $\log K$ when all on
# one mode). Data: `RING` (8 Gaussians, $\sigma = 0.01$, unit circle) and `GRID`
# (25 Gaussians, $\sigma = 0.05$, on $\{-4,-2,0,2,4\}^2$) from
# `tinygan/datasets/mixtures.py`.

# %%
import numpy as np

from _common import QUICK, plt, save_figure
from tinygan import GAN, Sequential
from tinygan.datasets import GRID, RING
from tinygan.layers import Layer
from tinygan.metrics import mode_coverage
from tinygan.optim import SGD, Adam
from tinygan.presets import mixture_mlp

BATCH = 128
RUN_STEPS = 100 if QUICK else 2000    # steps per run in the comparison table at the end
RECOVER = 50                          # rounds G gets against an overpowering D


def make_gan(seed=0, lr_g=5e-4, lr_d=5e-4, pack=1, latent_dim=2, **options):
    """Toy G and D (mixture_mlp in tinygan/presets.py), Adam for both, GAN options passed on."""
    G, D = mixture_mlp(latent_dim, rng=seed, pack=pack)
    return GAN(G, D, latent_dim=latent_dim, g_optimizer=Adam(G.parameters(), lr=lr_g),
               d_optimizer=Adam(D.parameters(), lr=lr_d), pack=pack, rng=seed, **options)


def mean_distance(gan, mixture=RING):
    return float(mixture.nearest(gan.sample(2500, rng=9))[1].mean())


# %% [markdown]
# ## 1. Minimax saturation
#
# The original paper's generator minimises $\frac1N\sum_j\log(1 - D(G(z_j)))$
# ("minimax"); tinygan's default minimises $-\frac1N\sum_j\log D(G(z_j))$
# ("non-saturating"). Both push $D(G(z))$ up. Their derivatives w.r.t. a fake's
# logit $\ell_j$ (lesson 03) are
#
# $$\text{minimax: } -\frac{\sigma(\ell_j)}{N}, \qquad
#   \text{non-saturating: } \frac{\sigma(\ell_j) - 1}{N}.$$
#
# When $D$ confidently rejects the fakes, $\sigma(\ell_j) = D(G(z_j)) \approx 0$:
# the minimax gradient vanishes, the non-saturating one is about $-1/N$. All
# of $G$'s gradient is this factor times the same backward pass through $D$ and
# $G$ (lesson 07), so the whole gradient vector shrinks with it.
#
# We make $D$ confident as in lesson 06 (phase 1 only, against the untrained
# $G$), then compute $G$'s full gradient $\partial L_G/\partial\theta_G$ on the
# same noise with each loss (`g_step` leaves it in `G`'s `grads`; we restore
# $G$'s weights afterwards so both see the same $G$).

# %%
gan = make_gan(lr_d=1e-3)
data_rng = np.random.default_rng(1)
for _ in range(300):
    s = gan.d_step(RING.sample(BATCH, data_rng))
print(f"after 300 phase-1 steps: mean D(x) {s['d_x']:.4f}, mean D(G(z)) {s['d_g_z']:.4f}")
confident_D = {k: v.copy() for k, v in gan.discriminator.state_dict().items()}
G0 = {k: v.copy() for k, v in gan.generator.state_dict().items()}
z = gan.sample_noise(BATCH)


def g_grad_norm(gan, loss):
    """||dL_G/dtheta_G|| for this loss on the fixed z; G's weights are restored afterwards."""
    before = {k: v.copy() for k, v in gan.generator.state_dict().items()}
    gan.loss = loss
    gan.g_step(z)
    gan.generator.load_state_dict(before)
    return float(np.sqrt(sum(np.sum(p.grad.astype(np.float64) ** 2)
                             for p in gan.generator.parameters())))


norm_ns, norm_mm = g_grad_norm(gan, "non-saturating"), g_grad_norm(gan, "minimax")
print(f"||grad|| non-saturating {norm_ns:.3e}   minimax {norm_mm:.3e}   ratio {norm_ns / norm_mm:.0f}")
assert s["d_g_z"] < 0.05
assert norm_ns > 50 * norm_mm

# %% [markdown]
# ## 2. A discriminator that overpowers the generator
#
# Saturation matters because the situation above is the *normal* start of
# training: the fakes are obviously fake, and whenever $D$ learns faster than
# $G$ (a larger learning rate, several $D$ steps per $G$ step, an easier task)
# it stays confident. We start both players from the confident $D$ above and
# the untrained $G$, and let them play 50 rounds of `train_step`. $G$ uses plain
# gradient descent (`SGD`, learning rate 0.01, `tinygan/optim.py`), so the size
# of its step is the size of its gradient. We record $D(G(z))$: does $G$ ever
# manage to fool $D$ a little?

# %%
fooled = {}
for loss in ("minimax", "non-saturating"):
    G, D = mixture_mlp(2, rng=0)
    g = GAN(G, D, latent_dim=2, g_optimizer=SGD(G.parameters(), lr=0.01),
            d_optimizer=Adam(D.parameters(), lr=1e-3), loss=loss, rng=0)
    D.load_state_dict(confident_D)                  # start from the overpowering D ...
    G.load_state_dict(G0)                           # ... and the untrained G
    r = np.random.default_rng(2)
    fooled[loss] = np.mean([g.train_step(lambda: RING.sample(BATCH, r))["d_g_z"]
                            for _ in range(RECOVER)])
    print(f"{loss:>15}: mean D(G(z)) over {RECOVER} rounds {fooled[loss]:.4f}")
assert fooled["minimax"] < 0.05 and fooled["non-saturating"] > 0.2

# %% [markdown]
# With the minimax loss $G$ stays stuck where $D$ rejects it: $D(G(z))$ near
# 0 keeps its gradient near 0, and $D$ keeps improving. The non-saturating loss
# gets $G$ out of the trap from the same start.
#
# One caveat worth knowing: **Adam** (the default optimizer) divides each
# parameter's step by a running root-mean-square of its gradient, so a gradient
# that is uniformly 100 times smaller produces about the same step. With Adam
# the minimax GAN escapes this particular trap too; what remains is that the
# minimax gradient weights each fake by $D(G(z_j))$, i.e. it listens mostly to
# the fakes $D$ already half-believes and ignores the worst ones. Use the
# non-saturating loss (tinygan's default).

# %% [markdown]
# ## 3. Mode collapse, and why packing helps $D$ see it
#
# A generator **collapses** when it covers only some of the data's modes: each
# sample may look perfect, only the *set* of samples is wrong. A discriminator
# that judges one sample at a time has a hard time seeing this. Take a stand-in
# generator that draws *exact* real samples, but from only 4 of the ring's 8
# modes. For one sample the best $D$ is (lesson 00)
# $D^*(x) = p_\text{data}(x)/(p_\text{data}(x) + p_g(x))$: on the 4 missing modes
# $p_g = 0$, so $D^* = 1$; on the 4 covered modes $p_\text{data} = \frac18$-share
# and $p_g = \frac14$-share of the same bump, so $D^* = \frac{1/8}{1/8+1/4} = \frac13$.
# Thresholding at $\frac12$, half the real samples (those on covered modes) are
# called fake: the best possible accuracy is $\frac12(\frac12 + 1) = 75\%$.
#
# **Packing** (PacGAN, Lin et al. 2018; `GAN(pack=m)`, `GAN._pack` in
# `tinygan/gan.py`) lets $D$ judge $m$ samples at once: a batch $(N, d)$ is
# reshaped to $(N/m, m\,d)$, so each row is $m$ samples side by side, all real
# or all fake; $D$'s first layer is $m$ times as wide (`mixture_mlp(pack=m)`).
# A pack of 4 fakes always lies on the covered modes; a pack of 4 reals does so
# only with probability $(1/2)^4 = 1/16$. The best accuracy rises to
# $\frac12(\frac{15}{16} + 1) \approx 97\%$. The collapse is now visible to $D$,
# so $G$ gets a gradient that pushes towards the missing modes.
#
# We check this by training $D$ alone (phase 1, `d_step`) against the stand-in,
# unpacked and packed, and measuring accuracy on 4,000 fresh real and 4,000
# fresh fake samples. (The packed $D$ has a harder function to learn — "are all
# 4 of these on the covered modes?" — and needs a few hundred steps of 128
# packs to get there.)

# %%
class HalfRing(Layer):
    """Stand-in generator: exact ring samples from modes 0, 2, 4, 6 only.

    z has 4 columns: the signs of z[:, 0] and z[:, 1] pick one of the 4 modes,
    z[:, 2:] is the Gaussian offset.  Its one parameter, the spread, is never trained;
    it exists because an optimizer needs something to hold.
    """

    def __init__(self):
        super().__init__()
        self._add_param("std", np.array([RING.std], dtype=np.float32))

    def forward(self, z):
        mode = 2 * (2 * (z[:, 0] > 0) + (z[:, 1] > 0))
        return (RING.centres[mode] + self.params["std"] * z[:, 2:4]).astype(np.float32)

    def backward(self, dy, input_grad=True):
        raise NotImplementedError("HalfRing is a fixed stand-in: it is never trained")


def packed_accuracy(pack, steps=500 if QUICK else 1000):
    G, D = Sequential(HalfRing()), mixture_mlp(2, pack=pack, rng=3)[1]
    g = GAN(G, D, latent_dim=4, d_optimizer=Adam(D.parameters(), lr=1e-3), pack=pack, rng=4)
    r = np.random.default_rng(5)
    for _ in range(steps):
        g.d_step(RING.sample(512, r))      # 512 samples: 128 packs of 4 per step
    real, fake = RING.sample(4000, r), G.forward(g.sample_noise(4000))
    right = np.count_nonzero(D.forward(g._pack(real)) > 0) + np.count_nonzero(D.forward(g._pack(fake)) <= 0)
    return right / (2 * len(real) // pack)


acc1, acc4 = packed_accuracy(1), packed_accuracy(4)
print(f"D vs a half-collapsed G, held-out accuracy: one sample at a time {acc1:.1%} "
      f"(best possible 75%), packs of 4 {acc4:.1%} (best possible 96.9%)")
assert acc1 < 0.8 and acc4 > 0.9

# %% [markdown]
# ## 4. Label smoothing: a cap on $D$'s confidence
#
# One-sided label smoothing (Salimans et al. 2016; `GAN(label_smoothing=s)`,
# `discriminator_loss` in `tinygan/losses.py`) trains $D$ with target $1 - s$
# for real samples instead of 1 (fakes keep target 0). With $a$ the real and $b$
# the fake density at $x$, $D$'s best response becomes $D^*(x) = (1-s)\,a/(a+b)$:
# never above $1 - s$. A discriminator that is never certain keeps its logits,
# and the gradients it passes to $G$, moderate. Checked against the fixed,
# untrained generator of lesson 06:

# %%
for s_ in (0.0, 0.2):
    g = make_gan(lr_d=1e-3, label_smoothing=s_)
    r = np.random.default_rng(6)
    for _ in range(200):
        out = g.d_step(RING.sample(BATCH, r))
    if s_ == 0.0:
        dx_plain = out["d_x"]
    else:
        dx_smooth = out["d_x"]
    print(f"label_smoothing {s_}: mean D(x) on real {out['d_x']:.3f}, on fake {out['d_g_z']:.3f}")
assert dx_plain > 0.95 and dx_smooth < 0.85

# %% [markdown]
# ## 5. The measurements: vanilla and remedies on the ring and the grid
#
# Now whole runs, `RUN_STEPS` alternating steps each (2,000 in full mode, 100 in
# quick mode), same seed and settings except the option under test:
#
# * **vanilla**: `d_steps=1`, no smoothing, no packing;
# * **k = 5**: `d_steps=5`, five discriminator steps per generator step (the
#   original paper's $k$): $D$ stays closer to its best response, so its
#   gradient to $G$ is more informative, at 3× the cost per step;
# * **smoothing 0.2**: `label_smoothing=0.2`;
# * **pack 4**: `pack=4`.
#
# For each: modes covered, HQ share and reverse KL, and $D$'s mean loss over the
# second half of the run. For comparison, the PacGAN paper's vanilla GAN covers
# 6.3/8 ring and 17.3/25 grid modes, PacGAN4 7.8 and 24.8 (their networks and
# budgets). One seed and a short budget say little about which remedy is best:
# `benchmarks/quality.py` measures the means over 5 seeds (README, Quality). Quick mode's
# 100 steps show only that the runs work; its numbers are not a ranking.

# %%
VARIANTS = {"vanilla": {}, "k = 5": {"d_steps": 5}, "smoothing 0.2": {"label_smoothing": 0.2},
            "pack 4": {"pack": 4}}
results, final_samples = {}, {}
for mixture in (RING, GRID):
    for name, options in VARIANTS.items():
        g = make_gan(**options)
        r = np.random.default_rng(7)
        losses = [g.train_step(lambda: mixture.sample(BATCH, r))["d_loss"] for _ in range(RUN_STEPS)]
        samples = g.sample(2500, rng=9)
        cov = mode_coverage(samples, mixture)
        results[(mixture.name, name)] = (cov["modes"], cov["n_modes"], cov["high_quality"],
                                         cov["reverse_kl"], float(np.mean(losses[RUN_STEPS // 2:])))
        final_samples[(mixture.name, name)] = samples
print(f"{'data':<5} {'variant':<14} {'modes':>7} {'HQ %':>6} {'rev KL':>7} {'L_D (2nd half)':>15}")
for (data, name), (m, k, hq, kl, dl) in results.items():
    print(f"{data:<5} {name:<14} {m:>3}/{k:<3} {100 * hq:6.1f} {kl:7.3f} {dl:15.3f}")
assert all(np.isfinite(v[3]) for v in results.values())
# k = 5 keeps D nearer its best response: its loss is lower than vanilla's on both data sets.
assert all(results[(d, "k = 5")][4] < results[(d, "vanilla")][4] for d in ("ring", "grid"))

fig, axes = plt.subplots(2, 4, figsize=(13, 6.6))
for row, mixture in enumerate((RING, GRID)):
    for col, name in enumerate(VARIANTS):
        ax = axes[row, col]
        pts = final_samples[(mixture.name, name)]
        ax.scatter(*pts[:1000].T, s=2, alpha=0.5)
        ax.scatter(*mixture.centres.T, marker="x", c="k", s=15)
        m, k, hq, kl, _ = results[(mixture.name, name)]
        ax.set_title(f"{mixture.name}, {name}\n{m}/{k} modes, {100 * hq:.0f}% HQ, KL {kl:.2f}",
                     fontsize=9)
        lim = 1.4 if mixture is RING else 5.5
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
fig.suptitle(f"Samples after {RUN_STEPS} steps (x: the modes)")
save_figure(fig, "10_remedies.png")

# %% [markdown]
# ## What to take away
#
# * **Minimax saturation** is measurable: with a confident $D$, $G$'s gradient
#   under the minimax loss is tens to hundreds of times smaller than under the
#   non-saturating loss, and a $G$ trained with it from there hardly moves.
# * **Mode collapse** is invisible sample by sample; count modes and compare
#   their shares (reverse KL). Packing makes it visible to $D$ itself: against
#   a half-collapsed generator, the best single-sample $D$ is 75% accurate, a
#   $D$ judging packs of 4 can reach 97% (the trained one above: about 96% in
#   full mode, 93% in quick mode).
# * **Label smoothing** caps $D(x)$ at $1 - s$; **k discriminator steps** keep
#   $D$ near its best response (lower $L_D$) at $k$ times the discriminator cost.
# * Which remedy buys most is an empirical question, answered with several
#   seeds: `python benchmarks/quality.py` and lesson 12.
