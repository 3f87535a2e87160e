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
# # Lesson 04 — BatchNorm, backwards step by step
#
# **Batch normalisation** (Ioffe and Szegedy, 2015) rescales every feature
# (column) of a batch to mean 0 and variance 1, then lets the network pick a
# scale $\gamma$ and a shift $\beta$ of its own. The seed generator puts one
# after each hidden layer. For a batch $x \in \mathbb{R}^{N\times C}$
# ($N$ samples, $C$ features), per feature $c$:
#
# $$\mu_c = \frac1N\sum_n x_{nc}, \quad
#   \sigma^2_c = \frac1N\sum_n (x_{nc}-\mu_c)^2, \quad
#   \hat x_{nc} = \frac{x_{nc}-\mu_c}{\sqrt{\sigma^2_c+\epsilon}}, \quad
#   y_{nc} = \gamma_c\,\hat x_{nc} + \beta_c.$$
#
# $\epsilon$ (here $10^{-3}$, Keras's default) keeps the division finite when a
# feature is constant over the batch. Unlike every layer so far, **each output
# row depends on every input row** (through $\mu$ and $\sigma^2$), so the
# backward pass has more than one term. We derive it the way Karpathy's
# "backprop ninja" exercise does: break the forward into atoms, backpropagate
# through each, check each against finite differences, then fuse.
#
# Library: `tinygan/layers/batchnorm.py` (`BatchNorm`) and
# `tinygan/kernels/batchnorm.py` (`batchnorm_train_forward_numpy`,
# `batchnorm_train_backward_numpy`, and the eval-mode pair).

# %%
import numpy as np

from _common import plt, save_figure
from tinygan import Sequential
from tinygan.gradcheck import check_layer, cmp, numerical_grad, rel_error
from tinygan.kernels.batchnorm import batchnorm_train_backward_numpy
from tinygan.layers import BatchNorm, Dense, LeakyReLU

rng = np.random.default_rng(0)
N, C, EPS = 8, 5, 1e-3
x = rng.normal(2.0, 3.0, size=(N, C))
gamma = rng.uniform(0.5, 1.5, size=C)
beta = rng.normal(size=C)
dy = rng.standard_normal((N, C))          # a random upstream gradient dL/dy

# %% [markdown]
# ## The forward pass, one atom per line
#
# Each line is one simple operation whose derivative we know. `given` lets us
# replace any intermediate by a value of our choosing and recompute everything
# *downstream* of it: that is how we will measure $\partial L/\partial(\text{that
# intermediate})$ numerically. The loss is $L = \sum_{n,c} y_{nc}\,dy_{nc}$, so
# $\partial L/\partial y = dy$.

# %%
def forward(x, gamma, beta, given=None):
    """BatchNorm (training mode) as a chain of atoms; returns every intermediate."""
    given = given or {}
    v = {}

    def node(name, value):
        v[name] = given.get(name, value)
        return v[name]

    n = x.shape[0]
    mu = node("mu", x.sum(axis=0) / n)                # (C,)
    xc = node("xc", x - mu)                           # (N, C) centred
    xc2 = node("xc2", xc ** 2)                        # (N, C)
    var = node("var", xc2.sum(axis=0) / n)            # (C,) biased variance
    var_eps = node("var_eps", var + EPS)              # (C,)
    inv_std = node("inv_std", var_eps ** -0.5)        # (C,)
    xhat = node("xhat", xc * inv_std)                 # (N, C)
    node("y", gamma * xhat + beta)                    # (N, C)
    return v


v = forward(x, gamma, beta)
layer = BatchNorm(C, eps=EPS, dtype=np.float64)
layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
y_lib = layer.forward(x)
print(cmp("y atoms vs lib", v["y"], y_lib))
assert rel_error(v["y"], y_lib) < 1e-12

# %% [markdown]
# ## Backwards, atom by atom
#
# Read the forward from the bottom up; for each line `out = op(in)`, add
# $\partial L/\partial \text{out} \cdot \partial\text{out}/\partial\text{in}$ to
# $\partial L/\partial\text{in}$. Names: $x_c = x - \mu$ (`xc`),
# $v_\epsilon = \sigma^2 + \epsilon$ (`var_eps`), $s = v_\epsilon^{-1/2}$
# (`inv_std`), and $d\,\square$ means $\partial L/\partial\square$. Two rules
# do all the work:
#
# * a value used in several places receives the **sum** of the gradients from
#   each use ($x_c$ feeds both $x_c^2$ and $\hat x$; $x$ feeds both $x_c$ and $\mu$);
# * a **sum over $n$** in the forward becomes a **broadcast over $n$** in the
#   backward, and a broadcast becomes a sum (the two are each other's transpose).
#
# | forward | backward |
# |---|---|
# | $y = \gamma\hat x + \beta$ | $d\beta = \sum_n dy$, $d\gamma = \sum_n dy\,\hat x$, $d\hat x = \gamma\,dy$ |
# | $\hat x = x_c \cdot s$ ($s$ = inv_std, broadcast) | $ds = \sum_n d\hat x\,x_c$, $dx_c \mathrel{+}= s\,d\hat x$ |
# | $s = v_\epsilon^{-1/2}$ | $dv_\epsilon = -\tfrac12 v_\epsilon^{-3/2}\,ds$ |
# | $v_\epsilon = \sigma^2 + \epsilon$ | $d\sigma^2 = dv_\epsilon$ |
# | $\sigma^2 = \tfrac1N\sum_n x_c^2$ | $d(x_c^2) = \tfrac1N\,d\sigma^2$ (broadcast) |
# | $x_c^2 = x_c\cdot x_c$ | $dx_c \mathrel{+}= 2x_c\,d(x_c^2)$ |
# | $x_c = x - \mu$ (broadcast) | $d\mu = -\sum_n dx_c$, $dx \mathrel{+}= dx_c$ |
# | $\mu = \tfrac1N\sum_n x$ | $dx \mathrel{+}= \tfrac1N\,d\mu$ (broadcast) |

# %%
mu, xc, xc2, var = v["mu"], v["xc"], v["xc2"], v["var"]
var_eps, inv_std, xhat = v["var_eps"], v["inv_std"], v["xhat"]
g = {}
g["beta"] = dy.sum(axis=0)
g["gamma"] = (dy * xhat).sum(axis=0)
g["xhat"] = gamma * dy
g["inv_std"] = (g["xhat"] * xc).sum(axis=0)
g["var_eps"] = -0.5 * var_eps ** -1.5 * g["inv_std"]
g["var"] = g["var_eps"]
g["xc2"] = np.ones_like(xc2) * g["var"] / N
g["xc"] = inv_std * g["xhat"] + 2 * xc * g["xc2"]   # two paths: through xhat and through var
g["mu"] = -g["xc"].sum(axis=0)
g["x"] = g["xc"] + np.ones_like(x) * g["mu"] / N     # two paths: directly and through mu

# %% [markdown]
# Each atom's gradient, against central differences of $L$ with respect to that
# intermediate (`tinygan.gradcheck.numerical_grad`; the `cmp` line reads: equal
# bit for bit? equal to $10^{-5}$? largest difference):

# %%
def loss_given(name, value):
    """L as a function of one intermediate (or an input), everything downstream recomputed."""
    if name in ("x", "gamma", "beta"):
        args = {"x": x, "gamma": gamma, "beta": beta, name: value}
        return lambda: float(np.sum(forward(**args)["y"] * dy))
    return lambda: float(np.sum(forward(x, gamma, beta, given={name: value})["y"] * dy))


inputs = {"x": x, "gamma": gamma, "beta": beta}
for name in ("beta", "gamma", "xhat", "inv_std", "var_eps", "var", "xc2", "xc", "mu", "x"):
    probe = np.array(inputs.get(name, v.get(name)), dtype=np.float64, copy=True)
    numeric = numerical_grad(loss_given(name, probe), probe)
    err = rel_error(g[name], numeric)
    print(cmp(f"d{name}", g[name], numeric), f"| rel err {err:.1e}")
    assert err < 1e-6, name

# %% [markdown]
# ## Fusing the atoms into one formula
#
# Ten lines of backward is slow (many passes over an $N\times C$ array) and
# hides the structure. Work out $dx$ directly. Write $s = (\sigma^2+\epsilon)^{-1/2}$
# and consider one feature (drop $c$). Then
# $\partial\mu/\partial x_i = 1/N$, and
# $\partial\sigma^2/\partial x_i = \frac2N (x_i - \mu)$ (the term through $\mu$ is
# $-\frac2N\sum_j (x_j-\mu)\cdot\frac1N = 0$, since centred values sum to 0), so
#
# $$\frac{\partial s}{\partial x_i} = -\tfrac12 s^3 \cdot \tfrac2N(x_i-\mu) = -\frac{s^2\,\hat x_i}{N},
# \qquad
# \frac{\partial \hat x_j}{\partial x_i}
#  = s\Big(\delta_{ij} - \frac1N\Big) + (x_j - \mu)\frac{\partial s}{\partial x_i}
#  = s\Big(\delta_{ij} - \frac1N - \frac{\hat x_i\hat x_j}{N}\Big),$$
#
# where $\delta_{ij}$ is 1 if $i=j$ and 0 otherwise. The chain rule sums over
# every output $j$ that $x_i$ touches:
#
# $$dx_i = \sum_j d\hat x_j\,\frac{\partial\hat x_j}{\partial x_i}
#        = s\Big(d\hat x_i - \frac1N\sum_j d\hat x_j - \hat x_i\,\frac1N\sum_j d\hat x_j\,\hat x_j\Big),
# \qquad d\hat x = \gamma\,dy.$$
#
# Read it: the gradient of a plain scaling ($s\,d\hat x_i$), minus its mean
# (shifting all inputs together does not change $\hat x$), minus its component
# along $\hat x$ (scaling all centred inputs together does not change $\hat x$
# either). Since $\sum_j d\hat x_j = \gamma\,d\beta$ and
# $\sum_j d\hat x_j\hat x_j = \gamma\,d\gamma$, the library reuses the parameter
# gradients: `batchnorm_train_backward_numpy` computes
# `dx = gamma * inv_std * (dy - dbeta / n - xhat * dgamma / n)`.

# %%
dxhat = gamma * dy
dx_fused = inv_std * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0))
layer.zero_grad()
layer.forward(x)
dx_lib = layer.backward(dy)
dx_kernel, dgamma_kernel, dbeta_kernel = batchnorm_train_backward_numpy(dy, xhat, gamma, inv_std)
print(cmp("fused vs atoms", dx_fused, g["x"]))
print(cmp("lib dx vs atoms", dx_lib, g["x"]))
print(cmp("kernel dx", dx_kernel, g["x"]))
print(cmp("lib dgamma", layer.grads["gamma"], g["gamma"]))
print(cmp("lib dbeta", layer.grads["beta"], g["beta"]))
for name, ours, lib in [("fused", dx_fused, g["x"]), ("dx", dx_lib, g["x"]),
                        ("kernel", dx_kernel, g["x"]), ("dgamma", layer.grads["gamma"], g["gamma"]),
                        ("dbeta", layer.grads["beta"], g["beta"])]:
    assert rel_error(ours, lib) < 1e-10, name
errs = check_layer(layer, x, rng=1)   # and the layer itself, with its own random upstream gradient
print("check_layer, training mode:", {k: f"{e:.1e}" for k, e in errs.items()})
# 1e-6, not 1e-7: dx is a difference of nearly equal terms, so its smallest entries
# are resolved less precisely by finite differences (a wrong formula gives ~1e-1).
assert max(errs.values()) < 1e-6

# %% [markdown]
# A consequence worth seeing: the rows of $dx$ sum to zero per feature
# ($\sum_i dx_i = s(\sum d\hat x - \sum d\hat x - 0) = 0$, because
# $\sum_i\hat x_i = 0$). Adding a constant to every input of a feature changes
# nothing after normalisation, so the loss cannot care about it.

# %%
print("column sums of dx:", np.abs(dx_lib.sum(axis=0)).max())
assert np.abs(dx_lib.sum(axis=0)).max() < 1e-12

# %% [markdown]
# ## Training mode and eval mode
#
# In **training mode** the layer uses the batch's $\mu$, $\sigma^2$ and also
# updates **running averages** of them, with `momentum` $m = 0.8$ (tinygan's
# default, the Keras MNIST tutorial's setting; Keras's own default is 0.99).
# The convention is Keras's: $m$ weights the *old* value, not the new batch:
#
# $$\mu_\text{run} \leftarrow m\,\mu_\text{run} + (1-m)\,\mu, \qquad
#   \sigma^2_\text{run} \leftarrow m\,\sigma^2_\text{run} + (1-m)\,\sigma^2.$$
#
# In **eval mode** (`layer.eval()`) it uses $\mu_\text{run}$, $\sigma^2_\text{run}$
# instead: constants, so each output row depends only on its own input row,
# and the backward is a plain per-feature scaling
# $dx = \gamma\,(\sigma^2_\text{run}+\epsilon)^{-1/2}\,dy$
# (`batchnorm_eval_backward_numpy`).

# %%
bn = BatchNorm(C, eps=EPS, dtype=np.float64)
before_mean, before_var = bn.running_mean.copy(), bn.running_var.copy()
bn.forward(x)
print(cmp("running_mean", bn.running_mean, 0.8 * before_mean + 0.2 * x.mean(axis=0)))
print(cmp("running_var", bn.running_var, 0.8 * before_var + 0.2 * x.var(axis=0)))
assert rel_error(bn.running_mean, 0.8 * before_mean + 0.2 * x.mean(axis=0)) < 1e-12
assert rel_error(bn.running_var, 0.8 * before_var + 0.2 * x.var(axis=0)) < 1e-12

bn.eval()
bn.params["gamma"][...] = gamma
y_eval = bn.forward(x)
dx_eval = bn.backward(dy)
scale = gamma / np.sqrt(bn.running_var + EPS)
print(cmp("eval y", y_eval, (x - bn.running_mean) * scale + bn.params["beta"]))
print(cmp("eval dx", dx_eval, dy * scale))
errs = check_layer(bn, x, rng=2)
print("check_layer, eval mode:", {k: f"{e:.1e}" for k, e in errs.items()})
assert rel_error(dx_eval, dy * scale) < 1e-12 and max(errs.values()) < 1e-7

# %% [markdown]
# ## Sampling in the wrong mode
#
# A generator with BatchNorm, run in training mode, makes each sample depend
# on **the other samples in its batch**. That is fine while training (it is
# what phase 1 and phase 2 use, see `tinygan/gan.py`), but a sample drawn for
# use must depend on its own $z$ only. `GAN.sample` therefore switches the
# generator to eval mode. Here is what goes wrong otherwise, with a small
# generator $G$: Dense(2→32), LeakyReLU, BatchNorm(32), Dense(32→2), whose
# running statistics have been filled by 50 training-mode batches.

# %%
G = Sequential(Dense(2, 32, rng=5, dtype=np.float64), LeakyReLU(0.2),
               BatchNorm(32, dtype=np.float64), Dense(32, 2, rng=6, dtype=np.float64))
z_rng = np.random.default_rng(7)
for _ in range(50):             # training-mode forwards fill the running statistics (no optimizer:
    G.forward(z_rng.standard_normal((64, 2)))   # the weights stay as initialised)
z0 = np.array([[0.5, -1.0]])    # the one latent vector we care about


def g_of_z0(batch_mates, train):
    """G(z0) when z0 shares a batch with `batch_mates`, G in train or eval mode; changes nothing."""
    G.train(train)
    with G.frozen():            # frozen: running statistics stay as they are
        out = G.forward(np.vstack([z0, batch_mates]))[0]
    G.train(True)
    return out


# 1. z0 in 100 different batches of 16.
outs_train = np.array([g_of_z0(z_rng.standard_normal((15, 2)), True) for _ in range(100)])
outs_eval = np.array([g_of_z0(z_rng.standard_normal((15, 2)), False) for _ in range(100)])
eval_diff = np.abs(outs_eval - outs_eval[0]).max()
print("G(z0) over 100 batches: train-mode standard deviation", outs_train.std(axis=0),
      f"; eval mode, largest difference from the first: {eval_diff}")
assert outs_train.std(axis=0).min() > 1e-2   # the batch changes the sample
assert eval_diff < 1e-12                     # the same whatever the batch (here bit for bit; a
#                                              BLAS may in principle round rows differently)

# %% [markdown]
# 2. **A batch whose statistics differ** from the training batches: 16 latent
# vectors close together ($z_0$ plus noise of standard deviation 0.1). Their
# samples should be close together too. In training mode BatchNorm divides by
# the batch's own (small) standard deviation and inflates the differences, so
# the batch looks nearly as diverse as an ordinary one. ($\epsilon$ caps the
# inflation: the divisor is never below $\sqrt\epsilon \approx 0.03$.)

# %%
near = z0 + 0.1 * z_rng.standard_normal((16, 2))
ordinary = z_rng.standard_normal((16, 2))
G.train(True)
with G.frozen():
    near_train = G.forward(near)
G.eval()
with G.frozen():
    near_eval, ordinary_eval = G.forward(near), G.forward(ordinary)
G.train(True)
spread = {name: out.std(axis=0).mean() for name, out in
          [("near, train mode", near_train), ("near, eval mode", near_eval),
           ("ordinary batch, eval mode", ordinary_eval)]}
for name, value in spread.items():
    print(f"spread of outputs, {name:26s}: {value:.3f}")
assert spread["near, train mode"] > 3 * spread["near, eval mode"]

# %% [markdown]
# 3. **A batch of one.** Its mean is itself, its variance 0, so $\hat x = 0$ and
# the output is $\beta$ whatever the input: every sample would come out the
# same. tinygan refuses instead of silently returning garbage:

# %%
try:
    G.forward(z0)
    raise AssertionError("a batch of 1 in training mode should be refused")
except ValueError as err:
    print("ValueError:", err)
one = forward(np.array([[3.0, -7.0]]), np.ones(2), np.zeros(2))   # our atoms: xhat is 0
assert np.all(one["xhat"] == 0)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2))
axes[0].scatter(*outs_train.T, s=10, label="train mode, 100 batches")
axes[0].scatter(*outs_eval[0], s=80, marker="x", color="r", label="eval mode (all 100 identical)")
axes[0].set_title("G(z0) changes with its batch-mates")
axes[1].scatter(*near_train.T, s=10, label="train mode")
axes[1].scatter(*near_eval.T, s=10, color="r", label="eval mode")
axes[1].set_title("16 nearby z: train mode spreads them out")
for ax in axes:
    ax.legend(fontsize=8)
    ax.set_xlabel("output 1")
    ax.set_ylabel("output 2")
fig.tight_layout()
save_figure(fig, "04_batchnorm_modes.png")

# %% [markdown]
# **Summary.** BatchNorm's backward, fused:
# $dx = s\,(d\hat x - \overline{d\hat x} - \hat x\,\overline{d\hat x\,\hat x})$
# with $d\hat x = \gamma\,dy$ and bars meaning batch means. Train with batch
# statistics; sample in eval mode. **Next:** lesson 05, how we know all these
# gradients are right.
