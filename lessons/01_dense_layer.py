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
# # Lesson 01 — The Dense layer, forwards and backwards
#
# Both networks of a GAN are mostly **Dense** (fully connected) layers. This
# lesson derives its backward pass from the chain rule, builds the three
# gradients from scalar sums, and checks them against the library
# (`tinygan/layers/dense.py`, `Dense.forward` and `Dense.backward`) and against
# finite differences (`tinygan/gradcheck.py`).
#
# **Notation.** A batch holds $N$ samples, each a row of $D_\text{in}$ numbers:
# $x \in \mathbb{R}^{N \times D_\text{in}}$. The layer has a weight matrix
# $W \in \mathbb{R}^{D_\text{in} \times D_\text{out}}$ and a bias
# $b \in \mathbb{R}^{D_\text{out}}$:
#
# $$y = xW + b, \qquad y_{nj} = \sum_i x_{ni} W_{ij} + b_j,
# \qquad y \in \mathbb{R}^{N \times D_\text{out}}.$$
#
# $L$ is a scalar loss computed from $y$ by whatever follows the layer. The
# layer never sees $L$; it receives the **upstream gradient**
# $dy = \partial L / \partial y$ (same shape as $y$) and must return
# $dx = \partial L / \partial x$ (same shape as $x$), and store
# $dW = \partial L/\partial W$ and $db = \partial L/\partial b$.

# %%
import numpy as np

import _common  # noqa: F401  (puts this checkout's tinygan on the path)
from tinygan.gradcheck import check_function, check_layer, cmp, rel_error
from tinygan.layers import Dense

rng = np.random.default_rng(0)
N, D_IN, D_OUT = 5, 4, 3
layer = Dense(D_IN, D_OUT, rng=rng, dtype=np.float64)   # float64 for exact comparisons
layer.params["b"][...] = rng.standard_normal(D_OUT)     # a non-zero bias: nothing trivial
x = rng.standard_normal((N, D_IN))
y = layer.forward(x)
W, b = layer.params["W"], layer.params["b"]
print("x", x.shape, " W", W.shape, " b", b.shape, " ->  y", y.shape)
assert y.shape == (N, D_OUT)
assert np.array_equal(y, x @ W + b)

# %% [markdown]
# ## The loss, and why $dy$ carries $1/N$
#
# A training loss is a **mean over the batch**: $L = \frac1N \sum_n \ell_n$,
# where $\ell_n$ depends only on row $n$ of $y$. So
#
# $$dy_{nj} = \frac{\partial L}{\partial y_{nj}} = \frac1N \frac{\partial \ell_n}{\partial y_{nj}}.$$
#
# The loss function (`tinygan/losses.py`) puts that $1/N$ into $dy$ once;
# every layer below it just applies the chain rule and *sums* over the batch.
#
# For this lesson we take $\ell_n = \sum_j R_{nj}\, y_{nj}$ with a fixed random
# matrix $R$, so $\partial \ell_n / \partial y_{nj} = R_{nj}$ and
# $dy = R / N$. (Any loss would do; a random $R$ makes every entry of $dy$
# different, which catches more bugs — lesson 05.)

# %%
R = rng.standard_normal((N, D_OUT))


def loss():
    """L = mean over the batch of sum_j R_nj * y_nj."""
    return float(np.sum(layer.forward(x) * R) / N)


dy = R / N

# %% [markdown]
# ## The chain rule, one entry at a time
#
# $L$ depends on $W_{ij}$ through every $y_{nj}$ (all samples $n$, one output
# $j$), and $\partial y_{nj} / \partial W_{ij} = x_{ni}$:
#
# $$dW_{ij} = \sum_n \frac{\partial L}{\partial y_{nj}} \frac{\partial y_{nj}}{\partial W_{ij}}
#           = \sum_n dy_{nj}\, x_{ni}.$$
#
# $b_j$ was added to every row: $\partial y_{nj}/\partial b_j = 1$, so
# $db_j = \sum_n dy_{nj}$.
#
# $x_{ni}$ feeds every output $j$ of its own row, with
# $\partial y_{nj} / \partial x_{ni} = W_{ij}$:
# $dx_{ni} = \sum_j dy_{nj} W_{ij}$.
#
# Written as loops, these are the "atoms":

# %%
dW_atoms = np.zeros_like(W)
db_atoms = np.zeros_like(b)
dx_atoms = np.zeros_like(x)
for n in range(N):
    for i in range(D_IN):
        for j in range(D_OUT):
            dW_atoms[i, j] += dy[n, j] * x[n, i]
            dx_atoms[n, i] += dy[n, j] * W[i, j]
    for j in range(D_OUT):
        db_atoms[j] += dy[n, j]

# %% [markdown]
# ## The same sums as matrix products
#
# $\sum_n x_{ni}\, dy_{nj}$ is entry $(i, j)$ of $x^\top dy$, and
# $\sum_j dy_{nj} W_{ij}$ is entry $(n, i)$ of $dy\, W^\top$:
#
# | gradient | formula | shapes |
# |---|---|---|
# | $dW$ | $x^\top dy$ | $(D_\text{in}, N)(N, D_\text{out}) \to (D_\text{in}, D_\text{out})$ = shape of $W$ |
# | $db$ | $\sum_n dy_{n,:}$ | $(D_\text{out},)$ = shape of $b$ |
# | $dx$ | $dy\, W^\top$ | $(N, D_\text{out})(D_\text{out}, D_\text{in}) \to (N, D_\text{in})$ = shape of $x$ |
#
# A gradient always has the shape of the thing it differentiates; when unsure
# which matrix to transpose, the shapes decide. Now compare the atoms, the
# matrix form and the library's `Dense.backward`. `tinygan.gradcheck.cmp`
# prints one line per pair: equal bit for bit? equal to about $10^{-5}$? the
# largest difference. (Loops and matrix products add the same numbers in a
# different order, so they may differ in the last bit, ~$10^{-17}$.)

# %%
layer.zero_grad()
layer.forward(x)
dx_lib = layer.backward(dy)
print(cmp("dW atoms", dW_atoms, layer.grads["W"]))
print(cmp("db atoms", db_atoms, layer.grads["b"]))
print(cmp("dx atoms", dx_atoms, dx_lib))
print(cmp("dW = x.T @ dy", x.T @ dy, layer.grads["W"]))
print(cmp("dx = dy @ W.T", dy @ W.T, dx_lib))
for name, ours, lib in [("dW", dW_atoms, layer.grads["W"]), ("db", db_atoms, layer.grads["b"]),
                        ("dx", dx_atoms, dx_lib)]:
    assert ours.shape == lib.shape, name
    assert rel_error(ours, lib) < 1e-12, name   # same sums, different rounding order
assert np.array_equal(x.T @ dy, layer.grads["W"]) and np.array_equal(dy @ W.T, dx_lib)

# %% [markdown]
# ## Batch averaging, seen from one sample
#
# The batch gradient is the **average of per-sample gradients**: run each
# sample alone with its own $d\ell_n/dy = R_n$ (no $1/N$), collect its $dW$,
# and average. That is what "$dy$ carries $1/N$" buys: the layer's sum over
# $n$ becomes a mean.

# %%
per_sample = []
for n in range(N):
    layer.zero_grad()
    layer.forward(x[n:n + 1])
    layer.backward(R[n:n + 1])
    per_sample.append(layer.grads["W"].copy())
layer.zero_grad()
layer.forward(x)
layer.backward(dy)
print(cmp("mean per-sample", np.mean(per_sample, axis=0), layer.grads["W"]))
assert rel_error(np.mean(per_sample, axis=0), layer.grads["W"]) < 1e-12

# %% [markdown]
# ## Gradients accumulate until `zero_grad()`
#
# `backward` **adds** into `layer.grads` (see `tinygan/layers/base.py`): the
# discriminator step runs the real batch and then the fake batch through $D$,
# and their gradients must sum. The price: forget `zero_grad()` and the old
# gradient is still there.

# %%
g_once = layer.grads["W"].copy()
layer.forward(x)
layer.backward(dy)            # no zero_grad in between
print(cmp("2 backward = 2x", layer.grads["W"], 2 * g_once))
assert np.array_equal(layer.grads["W"], 2 * g_once)

# %% [markdown]
# ## Checked numerically
#
# Nudging one weight by $\pm h$ and measuring how $L$ moves gives the slope
# without any calculus (**central differences**, lesson 05):
# $\partial L/\partial W_{ij} \approx (L(W_{ij}+h) - L(W_{ij}-h)) / 2h$.
# `tinygan.gradcheck.check_function` does this for every entry and reports the
# largest **relative error** $|a-n| / (|a|+|n|)$; `check_layer` does the same
# for a layer with a random upstream gradient. In float64 a correct gradient
# gives $10^{-7}$ or less (here ~$10^{-8}$); a bug gives something near 1.

# %%
layer.zero_grad()
layer.forward(x)
dx = layer.backward(dy)
errors = check_function(loss, {"W": layer.grads["W"].copy(), "b": layer.grads["b"].copy()},
                        {"W": W, "b": b})
errors["x"] = check_function(loss, {"x": dx}, {"x": x})["x"]
print("finite differences of L:", {k: f"{v:.1e}" for k, v in errors.items()})
print("check_layer (random R) :", {k: f"{v:.1e}" for k, v in check_layer(layer, x, rng=1).items()})
assert max(errors.values()) < 1e-7
assert max(check_layer(layer, x, rng=1).values()) < 1e-7

# %% [markdown]
# ## One matrix product saved
#
# The first layer of a network receives the data (or the noise $z$); nobody
# needs $dx$ there. `backward(dy, input_grad=False)` skips $dy\,W^\top$ and
# returns `None` (`Dense.backward`; `Sequential.backward` passes it to the
# first layer only). Phase 2 of a GAN is where this matters (lesson 07).

# %%
layer.forward(x)
assert layer.backward(dy, input_grad=False) is None

# %% [markdown]
# **Summary.** $dW = x^\top dy$, $db = \sum_n dy_n$, $dx = dy\,W^\top$; the
# $1/N$ of the mean lives in $dy$. **Next:** lesson 02, the non-linearities
# between Dense layers.
