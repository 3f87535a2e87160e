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
# # Lesson 05 — Gradient checking: how we know a backward pass is right
#
# Every backward pass in tinygan was written by hand, and a wrong one rarely
# crashes: the network just learns badly. The only reliable test is to compare
# the analytic gradient with a **numerical** one, the slope measured by
# nudging each input. This lesson explains the four habits built into
# `tinygan/gradcheck.py` (`numerical_grad`, `rel_error`, `check_layer`):
# central differences, relative error, float64, and a random upstream gradient.

# %%
import numpy as np

from _common import plt, save_figure
from tinygan.gradcheck import check_layer, numerical_grad, rel_error, rel_error_norm
from tinygan.layers import BatchNorm, Dense, LeakyReLU, Sigmoid, Tanh

# %% [markdown]
# ## Forward vs central differences
#
# Taylor's theorem around $x$, for a step $h$:
# $f(x \pm h) = f(x) \pm h f'(x) + \tfrac{h^2}{2}f''(x) \pm \tfrac{h^3}{6}f'''(x) + O(h^4)$.
#
# * **Forward difference:** $\dfrac{f(x+h)-f(x)}{h} = f'(x) + \tfrac h2 f''(x) + O(h^2)$:
#   error $O(h)$.
# * **Central difference:** $\dfrac{f(x+h)-f(x-h)}{2h} = f'(x) + \tfrac{h^2}{6}f'''(x) + O(h^4)$:
#   the even terms cancel, error $O(h^2)$.
#
# That is the *truncation* error, which shrinks with $h$. But $f$ is computed
# with rounding error about $\varepsilon|f|$ ($\varepsilon$ = machine epsilon,
# $2.2\cdot10^{-16}$ in float64, $1.2\cdot10^{-7}$ in float32), and dividing by
# $h$ amplifies it to about $\varepsilon|f|/h$, which *grows* as $h$ shrinks.
# The best $h$ balances the two: about $\sqrt\varepsilon$ for forward and
# $\varepsilon^{1/3}$ for central differences. We measure it on
# $f(x) = \tanh(x)$ at $x = 0.7$, using tinygan's `Tanh` layer for both $f$
# and the exact $f'$ (its backward with $dy = 1$).

# %%
x0 = 0.7
hs = np.logspace(-12, -1, 45)
tanh = Tanh()
tanh.forward(np.array([[x0]]))
exact = float(tanh.backward(np.ones((1, 1)))[0, 0])   # f'(x0) = 1 - tanh(x0)^2, in float64
errors = {}
for dtype in (np.float64, np.float32):
    def f(v):
        return float(tanh.forward(np.array([[v]], dtype=dtype))[0, 0])

    for kind in ("forward", "central"):
        errs = []
        for h in hs:
            xp = dtype(x0) + dtype(h)
            xm = dtype(x0) - dtype(h) if kind == "central" else dtype(x0)
            step = float(xp) - float(xm)        # the step actually taken, after rounding x0 +- h
            errs.append(abs((f(xp) - f(xm)) / step - exact) if step else np.nan)  # nan: h lost
        errors[(np.dtype(dtype).name, kind)] = np.array(errs)


def slope(kind, dtype="float64", lo=1e-3, hi=1e-1):
    """Slope of log(error) vs log(h) where truncation dominates: the order of the method."""
    m = (hs >= lo) & (hs <= hi)
    return float(np.polyfit(np.log10(hs[m]), np.log10(errors[(dtype, kind)][m]), 1)[0])


best = {k: (hs[np.nanargmin(e)], np.nanmin(e)) for k, e in errors.items()}
for k, (h, e) in best.items():
    print(f"{k[0]:8s} {k[1]:8s}: best h = {h:.0e}, smallest error = {e:.1e}")
print(f"order (slope for h in [1e-3, 1e-1]): forward {slope('forward'):.2f}, "
      f"central {slope('central'):.2f}")
at_1e6 = {k: e[np.argmin(np.abs(hs - 1e-6))] for k, e in errors.items()}
print("error at h = 1e-6 (tinygan's choice):", {" ".join(k): f"{e:.0e}" for k, e in at_1e6.items()})
assert 0.8 < slope("forward") < 1.2 and 1.8 < slope("central") < 2.2
assert at_1e6[("float64", "central")] < 1e-9 < at_1e6[("float64", "forward")]
assert at_1e6[("float32", "central")] > 1e-3   # float32 at the same h: noise

fig, ax = plt.subplots(figsize=(7, 4.5))
for (dtype, kind), e in errors.items():
    ax.loglog(hs, e, "-" if dtype == "float64" else ":", label=f"{kind}, {dtype}")
ax.set_xlabel("step h")
ax.set_ylabel("|numerical - exact|")
ax.set_title("Error of finite differences for d tanh(x)/dx at x = 0.7")
ax.legend(fontsize=8)
save_figure(fig, "05_error_vs_h.png")

# %% [markdown]
# Read the plot from the right: the truncation error falls with slope 1
# (forward) or 2 (central) until rounding takes over and the error climbs back
# with slope $-1$. Central differences in float64 reach about $10^{-12}$
# near $h = 10^{-6}$, the step tinygan uses; forward differences bottom out
# around $10^{-9}$. In float32 the same $h = 10^{-6}$ gives an error of order
# $10^{-2}$: the function values differ only in their last few bits. (A
# larger $h$ helps float32 somewhat, at the price of truncation error; the
# lucky dips of the dotted curves are cancellations, not accuracy.)
#
# ## Relative error
#
# "The two gradients differ by $10^{-6}$" means nothing until we know their
# size: a perfect gradient of size $10^{4}$ and a wrong one of size $10^{-6}$
# can both differ by that much. `tinygan.gradcheck.rel_error(a, n)` reports
# the largest element-wise $\dfrac{|a-n|}{|a|+|n|}$, which does not change if
# the loss is multiplied by a constant. Rules of thumb in float64: below
# $10^{-7}$ right; $10^{-4}$ suspicious; above $10^{-2}$ wrong.

# %%
rng = np.random.default_rng(0)
dense = Dense(6, 4, rng=rng, dtype=np.float64)
dense.params["b"][...] = rng.standard_normal(4)
x = rng.standard_normal((5, 6))
R = rng.standard_normal((5, 4))
for scale in (1.0, 1e6):
    dense.zero_grad()
    dense.forward(x)
    dense.backward(scale * R)
    numeric = numerical_grad(lambda: float(np.sum(dense.forward(x) * R)) * scale, dense.params["W"])
    print(f"loss x {scale:g}: max |a - n| = {np.abs(dense.grads['W'] - numeric).max():.1e}, "
          f"relative error = {rel_error(dense.grads['W'], numeric):.1e}")
    assert rel_error(dense.grads["W"], numeric) < 1e-7

# %% [markdown]
# The absolute difference grew a million-fold, the relative error did not:
# only the latter can have a fixed threshold.
#
# ## float32 fails the check
#
# The same Dense layer in float32, the precision tinygan trains in. The
# analytic backward is just as correct, but the numerical gradient is noise:
# nudging a float32 weight of size ~0.5 by $h = 10^{-6}$ moves it by only ~17
# units in its last place, and the loss (accurate to about $10^{-7}$ relative)
# barely resolves the change.
# ("Whole array" is `rel_error_norm`, $\|a-n\|/(\|a\|+\|n\|)$, a softer
# measure for when single tiny entries cannot be resolved.) That is why every
# gradient check in tinygan runs in float64 (`check_layer` converts the input
# and expects a float64 layer).

# %%
rel = {}
for dtype in (np.float64, np.float32):
    layer = Dense(6, 4, rng=1, dtype=dtype)
    layer.params["b"][...] = rng.standard_normal(4)
    xd, Rd = x.astype(dtype), R.astype(dtype)
    layer.forward(xd)
    layer.backward(Rd)
    numeric = numerical_grad(lambda: float(np.sum(layer.forward(xd) * Rd)), layer.params["W"])
    name = np.dtype(dtype).name
    rel[name] = rel_error(layer.grads["W"], numeric), rel_error_norm(layer.grads["W"], numeric)
    print(f"{name}: relative error of dW: worst element {rel[name][0]:.1e}, "
          f"whole array {rel[name][1]:.1e}")
assert rel["float64"][0] < 1e-7 and rel["float32"][0] > 1e-2 and rel["float32"][1] > 1e-3

# %% [markdown]
# ## Why a random upstream gradient
#
# To check a layer $y = \text{layer}(x)$ we need a scalar function of its
# output. The obvious choice, $L = \sum y$, has $dy = \partial L/\partial y = 1$
# everywhere, and a gradient of all ones hides bugs: any backward that
# *forgets to multiply by $dy$*, or *sums over the wrong axis before
# multiplying*, gives the same answer when $dy$ is constant. A fixed random
# $R$ and $L = \sum y \odot R$ (so $dy = R$) exposes them; `check_layer`
# always does this.
#
# Two realistic bugs, each a subclass of a library layer with a broken `backward`:

# %%
class LeakyReLUForgotDy(LeakyReLU):
    """Bug: returns the slope f'(x) instead of dy * f'(x)."""

    def backward(self, dy, input_grad=True):
        x = self._take_cache()
        return np.where(x > 0, 1.0, self.alpha) * np.ones_like(dy)


class DenseBatchCollapsed(Dense):
    """Bug: dW from the batch-summed input and the batch-mean dy, i.e. sum(x) outer mean(dy) * N."""

    def backward(self, dy, input_grad=True):
        x = self._take_cache()
        self.grads["W"] += np.outer(x.sum(axis=0), dy.mean(axis=0))
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


def check_with_ones(layer, x):
    """The naive check: L = sum(layer(x)), so dy = 1. Relative errors, like check_layer's."""
    layer.zero_grad()
    dx = layer.backward(np.ones_like(layer.forward(x)))
    analytic = {"x": dx, **{name: g.copy() for name, g in layer.grads.items()}}
    wrt = {"x": x, **layer.params}
    f = lambda: float(np.sum(layer.forward(x)))  # noqa: E731
    return {name: rel_error(analytic[name], numerical_grad(f, wrt[name])) for name in wrt}


x_bug = np.random.default_rng(2).standard_normal((5, 6))
x_bug[np.abs(x_bug) < 0.1] = 0.5           # away from LeakyReLU's kink
for buggy in (LeakyReLUForgotDy(0.2), DenseBatchCollapsed(6, 4, rng=3, dtype=np.float64)):
    ones = max(check_with_ones(buggy, x_bug).values())
    random = max(check_layer(buggy, x_bug, rng=4).values())
    print(f"{type(buggy).__name__:20s} sum(out): rel error {ones:.1e} (passes)   "
          f"sum(out * R): rel error {random:.1e} (caught)")
    assert ones < 1e-7 and random > 1e-2

# %% [markdown]
# Both bugs pass the all-ones check with flying colours and fail the random
# one by many orders of magnitude. The correct library layers, checked the
# same way, pass:

# %%
layers = {"Dense": Dense(6, 4, rng=5, dtype=np.float64), "LeakyReLU": LeakyReLU(0.2),
          "Sigmoid": Sigmoid(), "Tanh": Tanh(),
          "BatchNorm (train)": BatchNorm(6, dtype=np.float64),
          "BatchNorm (eval)": BatchNorm(6, dtype=np.float64).eval()}
for name, layer in layers.items():
    for p in layer.params.values():              # non-trivial parameters: no term can hide
        p[...] = rng.normal(0.5, 0.7, size=p.shape)
    for key, b in layer.buffers.items():         # and running statistics (eval mode uses them)
        b[...] = rng.uniform(0.5, 2.0, size=b.shape) if "var" in key else rng.normal(size=b.shape)
    errs = check_layer(layer, x_bug, rng=6)
    print(f"{name:18s}", ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))
    assert max(errs.values()) < 1e-6, name

# %% [markdown]
# ## The checklist
#
# 1. float64 layer and inputs; $h \approx 10^{-6}$; central differences.
# 2. A random upstream gradient $R$: check $\sum \text{layer}(x) \odot R$.
# 3. Non-trivial parameters and inputs (no zeros or ones that make a term vanish),
#    inputs away from kinks.
# 4. Relative error, bounded: $< 10^{-7}$ (a BatchNorm $dx$, a difference of
#    nearly equal terms, $< 10^{-6}$).
#
# `tinygan.gradcheck.check_layer` does 1, 2 and 4 for a layer; 3 is the
# caller's part (it chooses the parameters and the input). The layer tests in
# `tests/test_layers.py` and `tests/test_conv_layers.py` call it on layers
# with random parameters; the loss and GAN tests (`tests/test_losses.py`,
# `tests/test_gan.py`) use `numerical_grad` directly, each on a random $R$ or
# a scalar loss. **Next:** lesson 06 puts the pieces together in the
# discriminator's training step.
