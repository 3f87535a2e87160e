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
# # Lesson 03 — The losses of a GAN
#
# The discriminator ends in one number per sample, a **logit** $\ell \in \mathbb{R}$.
# Its belief that the sample is real is $p = D(x) = \sigma(\ell) = 1/(1+e^{-\ell})$.
# Everything the two networks learn comes from **binary cross-entropy** (BCE)
# between $p$ and a **target** $t \in [0, 1]$ (1 = real, 0 = fake):
#
# $$\mathrm{BCE}(\ell, t) = -t\log p - (1-t)\log(1-p).$$
#
# Library: `tinygan/kernels/loss.py` (`bce_with_logits_numpy`, the formula) and
# `tinygan/losses.py` (`bce`, `discriminator_loss`, `generator_loss`). Each
# returns the **mean** over the batch and its gradient w.r.t. the logits, with
# the $1/N$ of lesson 01 already inside.

# %%
import numpy as np

from _common import plt, save_figure
from tinygan.gradcheck import check_function, cmp, rel_error
from tinygan.losses import bce, discriminator_loss, generator_loss

# %% [markdown]
# ## The stable form, derived
#
# Use $\log\sigma(\ell) = -\log(1+e^{-\ell})$ and
# $\log(1-\sigma(\ell)) = \log\frac{e^{-\ell}}{1+e^{-\ell}} = -\ell - \log(1+e^{-\ell})$:
#
# $$\mathrm{BCE}(\ell, t) = t\log(1+e^{-\ell}) + (1-t)\big(\ell + \log(1+e^{-\ell})\big)
#   = \ell - t\ell + \log(1+e^{-\ell}).$$
#
# For $\ell < 0$, $e^{-\ell}$ can overflow; rewrite
# $\ell + \log(1+e^{-\ell}) = \log(e^{\ell} + 1)$. Both cases in one line:
#
# $$\mathrm{BCE}(\ell, t) = \max(\ell, 0) - t\ell + \log\!\big(1 + e^{-|\ell|}\big),$$
#
# which only ever exponentiates a number $\le 0$. Its derivative is
# remarkably simple: $\frac{d}{d\ell}\log(1+e^{-\ell}) = -(1-\sigma(\ell))$, so
#
# $$\frac{\partial\,\mathrm{BCE}}{\partial \ell} = 1 - t - (1 - \sigma(\ell)) = \sigma(\ell) - t = p - t.$$
#
# ## The naive form fails
#
# The naive recipe computes $p$ first, then takes logs. For a large $|\ell|$,
# $p$ rounds to exactly 0 or 1 and a log returns $-\infty$; $0 \cdot (-\infty)$
# is `nan`. In float32 this happens at $\ell \approx 17$ already, in the
# denominator of $p = 1/(1 + e^{-\ell})$: float32 numbers next to 1 are
# $2^{-23} \approx 1.2\cdot10^{-7}$ apart, so $1 + e^{-\ell}$ rounds to exactly 1
# once $e^{-\ell} < 2^{-24} \approx 6\cdot10^{-8}$, i.e. $\ell > 24 \log 2 \approx 16.6$
# ($e^{-17} \approx 4\cdot10^{-8}$). Then $p = 1$ exactly and $\log(1 - p) = -\infty$.
# A confident discriminator produces such logits routinely.

# %%
def naive_bce(logits, t):
    """-t log p - (1 - t) log(1 - p) with p = sigmoid(logits): the textbook, unstable."""
    with np.errstate(all="ignore"):   # we want to see the infs and nans, not warnings
        p = 1 / (1 + np.exp(-logits))
        return -t * np.log(p) - (1 - t) * np.log(1 - p)


logits = np.array([-1e4, -800, -100, -20, -5, 0, 5, 20, 100, 800, 1e4])
print(f"{'logit':>8} | {'t':>3} | {'naive f32':>10} | {'naive f64':>10} | "
      f"{'tinygan f32':>11} | exact")
rows = []
for t in (0.0, 1.0):
    for l in logits:
        exact = max(l, 0) - t * l + np.log1p(np.exp(-abs(l)))   # float64, stable
        n32 = naive_bce(np.float32(l), np.float32(t))
        n64 = naive_bce(np.float64(l), t)
        lib = bce(np.array([[l]], dtype=np.float32), t)[0]
        rows.append((l, t, n32, n64, lib, exact))
        print(f"{l:8g} | {t:3g} | {n32:10.4g} | {n64:10.4g} | {lib:11.4g} | {exact:.4g}")

naive32 = {(float(l), t): n32 for l, t, n32, *_ in rows}
naive64 = {(float(l), t): n64 for l, t, _, n64, *_ in rows}
print(f"naive float32 fails (inf/nan) at {sum(not np.isfinite(v) for v in naive32.values())} "
      f"of {len(rows)} points; naive float64 at {sum(not np.isfinite(v) for v in naive64.values())}")
# the cliff: 1 + e^-17 is exactly 1 in float32 (1 + e^-16 is not), so p = 1 exactly
one = np.float32(1)
assert one + np.exp(np.float32(-17)) == one and one + np.exp(np.float32(-16)) > one
assert 1 / (one + np.exp(np.float32(-17))) == one
# a logit of 20 breaks float32; float64 only postpones the failure
assert naive32[(20.0, 0.0)] == np.inf and np.isnan(naive32[(20.0, 1.0)])
assert np.isfinite(naive64[(20.0, 1.0)]) and np.isnan(naive64[(800.0, 1.0)])
for l, t, _, _, lib, exact in rows:   # tinygan: finite everywhere, and right
    assert np.isfinite(lib) and abs(lib - exact) <= 1e-6 * max(1.0, exact), (l, t)

# %% [markdown]
# Note the `nan` at $\ell = 20$, $t = 1$ in float32: the sample is confidently
# and *correctly* called real, the true loss is $2\cdot10^{-9}$, and the naive
# form computes $p = 1$ exactly, then $-1 \cdot \log 1 - 0 \cdot \log 0 =
# 0 \cdot (-\infty)$ = `nan`. float64 moves the cliff out (to
# $|\ell| \approx 37$ for $p \to 1$, $|\ell| > 709$ for overflow of $e^{-\ell}$),
# it does not remove it. One `nan` in
# a loss poisons every weight at the next step. This is why the discriminator
# ends in a logit, not a Sigmoid layer: the sigmoid is **fused** into the loss.
#
# The gradient of `bce` is $(p - t)/N$ for a batch of $N$ logits (lesson 01's
# $1/N$); checked against finite differences:

# %%
rng = np.random.default_rng(0)
l_batch = rng.normal(0, 3, size=(8, 1))
t_batch = rng.uniform(0, 1, size=(8, 1))
loss, dl = bce(l_batch, t_batch)
p = 1 / (1 + np.exp(-l_batch))
print(cmp("dl = (p - t)/N", dl, (p - t_batch) / 8))
err = check_function(lambda: bce(l_batch, t_batch)[0], {"l": dl}, {"l": l_batch})["l"]
print(f"finite differences: relative error {err:.1e}")
assert rel_error(dl, (p - t_batch) / 8) < 1e-12 and err < 1e-7

# %% [markdown]
# ## The discriminator loss
#
# Phase 1 gives $D$ a real batch (target 1, logits $\ell_r$) and a fake batch
# (target 0, logits $\ell_f$), each of size $N$:
#
# $$L_D = \tfrac12\big(\mathrm{BCE}(\ell_r, 1) + \mathrm{BCE}(\ell_f, 0)\big)
#      = -\tfrac12\Big(\tfrac1N\sum_n \log D(x_n) + \tfrac1N\sum_n \log(1 - D(G(z_n)))\Big)
#      = -\tfrac12\,\hat V(D, G),$$
#
# where $\hat V$ is the minibatch estimate of lesson 00's value function.
# Minimising $L_D$ is maximising $V$. Gradients:
# $\partial L_D/\partial \ell_r = \tfrac12(p_r - 1)/N$ and
# $\partial L_D/\partial \ell_f = \tfrac12\,p_f/N$.

# %%
l_real, l_fake = rng.normal(1, 2, (8, 1)), rng.normal(-1, 2, (8, 1))
L_D, d_real, d_fake = discriminator_loss(l_real, l_fake)
p_r, p_f = 1 / (1 + np.exp(-l_real)), 1 / (1 + np.exp(-l_fake))
V_hat = np.mean(np.log(p_r)) + np.mean(np.log(1 - p_f))
print(f"L_D = {L_D:.6f},  -V/2 = {-V_hat / 2:.6f}")
print(cmp("dL_D/dl_real", d_real, 0.5 * (p_r - 1) / 8))
print(cmp("dL_D/dl_fake", d_fake, 0.5 * p_f / 8))
assert abs(L_D + V_hat / 2) < 1e-12
assert rel_error(d_real, 0.5 * (p_r - 1) / 8) < 1e-12 and rel_error(d_fake, 0.5 * p_f / 8) < 1e-12

# %% [markdown]
# ## Two generator losses
#
# $G$ only sees the fake logits $\ell = \ell_f$; write $D = \sigma(\ell)$.
#
# * **Minimax** (the value function itself): minimise $\log(1 - D(G(z)))$.
#   By the derivation above, $\log(1-\sigma(\ell)) = -\mathrm{BCE}(\ell, 0)$,
#   so the gradient is $-(\sigma(\ell) - 0) = -D$.
# * **Non-saturating** (Goodfellow et al. 2014, Sec. 3): minimise
#   $-\log D(G(z)) = \mathrm{BCE}(\ell, 1)$, gradient $D - 1$.
#
# Both push $\ell$ up (negative gradient: increasing $\ell$ lowers the loss)
# and both are smallest when $D$ is fooled. But look at the size of the push
# **early in training**, when $G$ is bad and $D$ confidently rejects its fakes
# ($D(G(z)) \to 0$, $\ell \ll 0$):
#
# * minimax: $|{-D}| \to 0$. The gradient **vanishes**; $G$ learns nothing
#   exactly when it most needs to. (The loss $\log(1-D)$ is flat near $D=0$:
#   it *saturates*.)
# * non-saturating: $D - 1 \to -1$. Full strength.
#
# We evaluate both with `tinygan.losses.generator_loss` on a range of logits,
# one per sample; multiplying the returned gradient by $N$ undoes the batch
# mean and gives the per-sample derivative $\partial(\text{loss})/\partial\ell$.

# %%
l_grid = np.linspace(-12, 12, 241)[:, None]
N = l_grid.shape[0]
curves = {}
for kind in ("minimax", "non-saturating"):
    loss_k, d_k = generator_loss(l_grid, kind)
    curves[kind] = d_k.ravel() * N
d_of_l = 1 / (1 + np.exp(-l_grid.ravel()))
print(cmp("MM = -D", curves["minimax"], -d_of_l))
print(cmp("NS = D - 1", curves["non-saturating"], d_of_l - 1))
assert rel_error(curves["minimax"], -d_of_l) < 1e-9
assert rel_error(curves["non-saturating"], d_of_l - 1) < 1e-9

confident = l_grid.ravel() <= -10          # D(G(z)) <= 4.5e-5: D is sure these are fake
print(f"where D(G(z)) <= {d_of_l[confident].max():.1e}: "
      f"|minimax grad| <= {np.abs(curves['minimax'][confident]).max():.1e}, "
      f"non-saturating grad in [{curves['non-saturating'][confident].min():.6f}, "
      f"{curves['non-saturating'][confident].max():.6f}]")
assert np.all(np.abs(curves["minimax"][confident]) < 1e-4)          # vanishes
assert np.all(np.abs(curves["non-saturating"][confident] + 1) < 1e-4)  # stays ~ -1

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(d_of_l, np.log(1 - d_of_l), label="minimax: log(1 - D)")
axes[0].plot(d_of_l, -np.log(d_of_l), label="non-saturating: -log D")
axes[0].set_xlabel("D(G(z))")
axes[0].set_ylabel("generator loss")
axes[0].set_ylim(-5, 5)
axes[0].set_title("The two losses (both fall as D is fooled)")
axes[1].semilogy(d_of_l, np.abs(curves["minimax"]), label="minimax: |dL/dl| = D")
axes[1].semilogy(d_of_l, np.abs(curves["non-saturating"]), label="non-saturating: |dL/dl| = 1 - D")
axes[1].set_xscale("log")
axes[1].set_xlabel("D(G(z))  (left: D confident the sample is fake)")
axes[1].set_ylabel("|gradient w.r.t. the logit|")
axes[1].set_title("Gradient size: minimax vanishes where G is worst")
for ax in axes:
    ax.legend(fontsize=8)
save_figure(fig, "03_generator_losses.png")

# %% [markdown]
# ## Why the tutorials label the fakes "real" in phase 2
#
# The Keras GAN tutorials train the generator with
# `combined.train_on_batch(noise, ones)`: the fakes go through the frozen
# discriminator with **target 1**. That is $\mathrm{BCE}(\ell_f, 1) = -\log D(G(z))$,
# the non-saturating loss, not a trick of its own. Both losses have the same
# fixed point ($D(G(z))$ as high as possible); only the gradient's size far
# from it differs. tinygan's `generator_loss(logits, "non-saturating")` is
# literally `bce(logits, 1)`; the minimax one is `-bce(logits, 0)`:

# %%
l_fake = rng.normal(-4, 2, (16, 1))
ns, ns_grad = generator_loss(l_fake, "non-saturating")
mm, mm_grad = generator_loss(l_fake, "minimax")
ones, ones_grad = bce(l_fake, 1.0)
zeros, zeros_grad = bce(l_fake, 0.0)
print(cmp("NS = BCE(l, 1)", ns_grad, ones_grad))
print(cmp("MM = -BCE(l, 0)", mm_grad, -zeros_grad))
assert ns == ones and np.array_equal(ns_grad, ones_grad)
assert mm == -zeros and np.array_equal(mm_grad, -zeros_grad)

# %% [markdown]
# **Summary.** BCE from logits: $\max(\ell,0) - t\ell + \log(1+e^{-|\ell|})$,
# gradient $p - t$. $L_D = -\hat V/2$. The generator minimises $-\log D(G(z))$
# (gradient $D-1$) rather than $\log(1-D(G(z)))$ (gradient $-D$, which vanishes
# when $D$ is confident). **Next:** lesson 04, BatchNorm, the one layer whose
# backward mixes the samples of a batch.
