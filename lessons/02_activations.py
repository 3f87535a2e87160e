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
# # Lesson 02 — Activations and their derivatives
#
# A stack of Dense layers alone is one big linear map ($xW_1W_2 = x(W_1W_2)$).
# An **activation** $f$ applied element by element between them makes the
# network non-linear. Its backward pass is the chain rule for one variable:
#
# $$y = f(x) \text{ element-wise} \quad\Longrightarrow\quad dx = dy \odot f'(x),$$
#
# where $\odot$ is element-wise multiplication: each $y_k$ depends only on its
# own $x_k$, so no sums appear. The four activations of tinygan, formulas in
# `tinygan/kernels/activations.py` (forward beside backward), layers in
# `tinygan/layers/activations.py`:
#
# | name | $f(x)$ | $f'(x)$ | backward uses |
# |---|---|---|---|
# | LeakyReLU($\alpha$) | $x$ if $x>0$ else $\alpha x$ | $1$ if $x>0$ else $\alpha$ | input $x$ |
# | ReLU | $\max(x, 0)$ | $1$ if $x>0$ else $0$ | input $x$ |
# | Sigmoid $\sigma$ | $1/(1+e^{-x})$ | $\sigma(x)(1-\sigma(x)) = y(1-y)$ | output $y$ |
# | Tanh | $\tanh x$ | $1-\tanh^2 x = 1-y^2$ | output $y$ |
#
# The derivative of sigmoid: $\sigma' = e^{-x}/(1+e^{-x})^2
# = \frac{1}{1+e^{-x}}\cdot\frac{e^{-x}}{1+e^{-x}} = \sigma(1-\sigma)$. Sigmoid
# and tanh can compute $f'$ from their *output*, so their layers cache $y$;
# (leaky) ReLU needs the sign of the input, so it caches $x$.
#
# In the seed GAN, both networks use LeakyReLU(0.2) between Dense layers; the
# generator ends with a Sigmoid (pixels in $[0, 1]$); the discriminator's final
# sigmoid is fused into the loss (lesson 03).

# %%
import numpy as np

from _common import plt, save_figure
from tinygan.gradcheck import check_layer, cmp, rel_error
from tinygan import Sequential
from tinygan.layers import Dense, LeakyReLU, ReLU, Sigmoid, Tanh
from tinygan.optim import SGD

# %% [markdown]
# ## Each layer's backward equals $dy \odot f'(x)$
#
# We run each library layer forwards and backwards with a random $dy$, and
# compare with the formula in the table, written out here from scratch.

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 8)) * 3
dy = rng.standard_normal(x.shape)
sig = 1 / (1 + np.exp(-x))
derivatives = {   # f'(x) from the table
    "LeakyReLU(0.2)": (LeakyReLU(0.2), np.where(x > 0, 1.0, 0.2)),
    "ReLU": (ReLU(), np.where(x > 0, 1.0, 0.0)),
    "Sigmoid": (Sigmoid(), sig * (1 - sig)),
    "Tanh": (Tanh(), 1 - np.tanh(x) ** 2),
}
for name, (act, fprime) in derivatives.items():
    act.forward(x)
    dx = act.backward(dy)
    print(cmp(name, dx, dy * fprime))
    # 1e-9, not exact: the library's sigmoid (tanh form) rounds differently from exp's
    assert rel_error(dx, dy * fprime) < 1e-9, name

# %% [markdown]
# And numerically (`tinygan.gradcheck.check_layer`: central differences with a
# random upstream gradient, lesson 05). The (leaky) ReLU has a kink at 0 where
# $f'$ jumps; a finite difference straddling it would measure the average of
# the two slopes, so the check uses inputs at least $0.1$ away from 0.

# %%
x_check = rng.standard_normal((6, 5))
x_check = np.where(np.abs(x_check) < 0.1, 0.5, x_check)
for name, (act, _) in derivatives.items():
    errs = check_layer(act, x_check, rng=1)
    print(f"{name:15s} relative error of dx: {errs['x']:.1e}")
    assert errs["x"] < 1e-7, name

# %% [markdown]
# ## The functions and their derivatives
#
# Note the scale of the derivatives: $\sigma'$ is at most $1/4$ (at $x=0$) and
# $\tanh'$ at most 1, and both fall to almost nothing once $|x|$ is a few
# units: the unit is **saturated** and passes almost no gradient back.
# LeakyReLU's slope is $1$ or $\alpha$, whatever the size of $x$.

# %%
xs = np.linspace(-6, 6, 601)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for name, act in [("LeakyReLU(0.2)", LeakyReLU(0.2)), ("ReLU", ReLU()),
                  ("Sigmoid", Sigmoid()), ("Tanh", Tanh())]:
    y = act.forward(xs[:, None])
    d = act.backward(np.ones_like(y))   # dy = 1 gives dx = f'(x)
    style = "--" if name == "ReLU" else "-"   # ReLU coincides with LeakyReLU for x > 0
    axes[0].plot(xs, y.ravel(), style, label=name)
    axes[1].plot(xs, d.ravel(), style, label=name)
axes[0].set_ylim(-2, 4)
axes[0].set_title("f(x)")
axes[1].set_title("f'(x): what backward multiplies dy by")
for ax in axes:
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
save_figure(fig, "02_activations.png")

sigmoid_layer, tanh_layer = Sigmoid(), Tanh()
edge = np.array([[0.0, 10.0]])
sigmoid_layer.forward(edge)
tanh_layer.forward(edge)
ds, dt = sigmoid_layer.backward(np.ones((1, 2))), tanh_layer.backward(np.ones((1, 2)))
print(f"sigmoid'(0) = {ds[0, 0]:.3f}, sigmoid'(10) = {ds[0, 1]:.1e}; "
      f"tanh'(0) = {dt[0, 0]:.3f}, tanh'(10) = {dt[0, 1]:.1e}")
assert ds[0, 0] == 0.25 and ds[0, 1] < 1e-4 and dt[0, 0] == 1.0 and dt[0, 1] < 1e-8

# %% [markdown]
# ### An aside on computing sigmoid
#
# $1/(1+e^{-x})$ computes $e^{-x}$, which overflows for $x \ll 0$ (in float32
# already at $x < -88$): NumPy warns and returns `inf`, and $1/\infty = 0$
# happens to be right. tinygan computes the same function as
# $\tfrac12 + \tfrac12\tanh(x/2)$, which never overflows
# (`sigmoid_forward_numpy` in `tinygan/kernels/activations.py`). The price:
# in float32, $\tfrac12 + \tfrac12\tanh(x/2)$ is a difference of two numbers
# near $\tfrac12$, so it is accurate to about $10^{-7}$ *absolutely*, not
# relatively: $\sigma(-20) = 2\cdot10^{-9}$ comes out as exactly 0. For pixel
# values in $[0,1]$ that is harmless. Lesson 03 meets the case where the naive
# form is not merely noisy but wrong.

# %%
x_big = np.array([-100.0, -10.0, 0.0, 10.0, 100.0], dtype=np.float32)
with np.errstate(over="raise"):
    try:
        1 / (1 + np.exp(-x_big))
        raise AssertionError("expected an overflow")
    except FloatingPointError as err:
        print("naive sigmoid in float32:", err)
y_lib = Sigmoid().forward(x_big)
print("tinygan sigmoid:         ", y_lib)
exact = 1 / (1 + np.exp(-x_big.astype(np.float64)))   # float64 has room for exp(100)
print("exact (float64):         ", exact)
assert np.all(np.isfinite(y_lib)) and np.max(np.abs(y_lib - exact)) < 1e-7

# %% [markdown]
# ## Dead units
#
# A ReLU unit whose pre-activation $h = xW_{:,j} + b_j$ is negative for
# **every** input it ever sees outputs 0 and, since $f'(h) = 0$ there, sends
# back $dh = 0$. Then $dW_{:,j} = x^\top dh_{:,j} = 0$ and $db_j = 0$: no
# gradient step can ever move it again. It is **dead**. It typically happens
# after one large update pushes $b_j$ far negative (a big learning rate, an
# exploding gradient early in GAN training).
#
# We build that situation: a Dense(16→32) layer whose first 12 units had their
# bias knocked to $-20$ (no input of this data reaches it), followed by ReLU
# or by LeakyReLU(0.2). We look at the gradients that reach the weights, then
# take one plain gradient-descent step $W \leftarrow W - 0.1\,dW$
# (`SGD` in `tinygan/optim.py`) and see which weights moved.

# %%
x_data = np.random.default_rng(4).standard_normal((256, 16))
dy_data = np.random.default_rng(5).standard_normal((256, 32)) / 256
DEAD = slice(0, 12)
grad_norms = {}
for name, act in [("ReLU", ReLU()), ("LeakyReLU(0.2)", LeakyReLU(0.2))]:
    net = Sequential(Dense(16, 32, rng=3, dtype=np.float64), act)
    net[0].params["b"][DEAD] = -20.0
    h = net[0].forward(x_data)                  # pre-activations, to count who fires
    net.forward(x_data)
    net.backward(dy_data)
    grad_norms[name] = np.linalg.norm(net[0].grads["W"], axis=0)   # one norm per unit
    W_before = net[0].params["W"].copy()
    SGD(net.parameters(), lr=0.1).step()
    moved = np.any(net[0].params["W"] != W_before, axis=0)
    print(f"{name:15s} units that never fire: {np.sum(np.all(h <= 0, axis=0)):2d}/32, "
          f"zero weight gradient: {np.sum(grad_norms[name] == 0):2d}/32, "
          f"weights moved by SGD: {np.sum(moved):2d}/32")
    if name == "ReLU":   # the 12 knocked-out units are dead: exactly zero gradient, frozen forever
        assert np.all(h[:, DEAD] <= 0) and np.all(grad_norms[name][DEAD] == 0)
        assert not np.any(moved[DEAD]) and np.all(moved[12:])
    else:                # LeakyReLU passes alpha * dy: every unit still learns
        assert np.all(grad_norms[name] > 0) and np.all(moved)

# %% [markdown]
# With LeakyReLU the same units receive $0.2\,dy$ and their weights keep
# moving, so they can come back. This is one reason the DCGAN recipe (and the
# seed MLP GAN) uses LeakyReLU in the discriminator: a dead unit in $D$ is
# also a unit through which no gradient reaches $G$ in phase 2.

# %%
fig, ax = plt.subplots(figsize=(8, 3.5))
units = np.arange(32)
ax.bar(units - 0.2, grad_norms["ReLU"], width=0.4, label="ReLU")
ax.bar(units + 0.2, grad_norms["LeakyReLU(0.2)"], width=0.4, label="LeakyReLU(0.2)")
ax.axvspan(-0.5, 11.5, color="k", alpha=0.08, label="bias knocked to -20")
ax.set_xlabel("unit j")
ax.set_ylabel("|dW[:, j]|")
ax.set_title("Dead units get no gradient under ReLU, a small one under LeakyReLU")
ax.legend(fontsize=8)
save_figure(fig, "02_dead_units.png")

# %% [markdown]
# **Summary.** An element-wise activation's backward is $dy \odot f'(x)$.
# Sigmoid and tanh saturate (tiny $f'$ for large $|x|$); ReLU units can die;
# LeakyReLU keeps a slope $\alpha$ everywhere. **Next:** lesson 03, the loss
# that turns D's logit into a number to minimise.
