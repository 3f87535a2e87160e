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
# # Lesson 13 — The convolutional GAN: convolution and upsampling, backwards
#
# The Keras DCGAN tutorial replaces the MLP's Dense layers by **convolutions**:
# the discriminator slides small 3x3 filters over the image (stride 2 halves
# the resolution), the generator **upsamples** a 7x7 stack of feature maps
# twice and filters it. Two new layers need a backward pass:
#
# * `Conv2D`: `tinygan/layers/conv.py` (`Conv2D.forward`, `Conv2D.backward`,
#   `conv_output_size` for Keras's "same"/"valid" padding), on top of
#   `tinygan/kernels/conv.py` (`im2col_numpy`, `col2im_numpy` and their numba twins);
# * `UpSampling2D`: `tinygan/layers/upsampling.py`, kernels
#   `upsample_nearest_numpy` and `upsample_nearest_backward_numpy`.
#
# The preset is `mnist_dcgan` in `tinygan/presets.py`. Images are **NCHW**:
# `x[n, c, h, w]` (sample, channel, row, column), PyTorch's layout.
#
# We will see that (1) a convolution is a Dense layer applied to every window,
# which **im2col** turns into one matrix product; (2) its input gradient is a
# *full correlation* of the output gradient with the kernel rotated by 180°;
# (3) upsampling's backward sums the gradient over each block. Every claim is
# checked numerically and against the library.

# %%
import time

import numpy as np

from _common import QUICK, plt, save_figure
from tinygan import GAN
from tinygan.gradcheck import check_layer, numerical_grad, rel_error
from tinygan.kernels.conv import col2im_numpy, im2col_numpy, upsample_nearest_backward_numpy
from tinygan.layers import Conv2D, UpSampling2D
from tinygan.layers.conv import conv_output_size
from tinygan.presets import mnist_dcgan

rng = np.random.default_rng(0)

# %% [markdown]
# ## The definition, as loops
#
# A `Conv2D` with weights $W \in \mathbb{R}^{C_\text{out}\times C_\text{in}\times K\times K}$
# and bias $b$ computes, for stride $s$ and the zero-padded input $\tilde x$,
#
# $$y_{n,o,i,j} = b_o + \sum_{c}\sum_{k_h,k_w}
#   W_{o,c,k_h,k_w}\;\tilde x_{n,c,\,i s+k_h,\,j s+k_w}.$$
#
# (Deep-learning "convolution" is really cross-correlation: the kernel is not
# flipped. We will meet the flip in the backward pass.) Six nested loops say
# exactly that:

# %%
def conv_loops(x, W, b, stride, pad_top, pad_left, out_h, out_w):
    n, c_in, h, w = x.shape
    c_out, _, k, _ = W.shape
    y = np.zeros((n, c_out, out_h, out_w))
    for i in range(n):
        for o in range(c_out):
            for oh in range(out_h):
                for ow in range(out_w):
                    total = b[o]
                    for c in range(c_in):
                        for kh in range(k):
                            for kw in range(k):
                                ih, iw = oh * stride + kh - pad_top, ow * stride + kw - pad_left
                                if 0 <= ih < h and 0 <= iw < w:   # outside: a padding zero
                                    total += W[o, c, kh, kw] * x[i, c, ih, iw]
                    y[i, o, oh, ow] = total
    return y


# %% [markdown]
# **Padding, Keras's way.** With `padding="same"` the output has
# $\lceil H/s\rceil$ rows, and just enough zeros are added:
# $p = \max((H_\text{out}-1)s + K - H,\ 0)$, of which $\lfloor p/2\rfloor$ go on
# top and the rest at the bottom. For the discriminator's 28 → 14 (K = 3,
# s = 2) that is $p = 1$: *one zero row at the bottom only*. PyTorch's
# `padding=1` would put one on each side — a different layer.

# %%
for size, k, s, padding in [(28, 3, 2, "same"), (14, 3, 2, "same"), (7, 3, 1, "same"),
                            (7, 3, 2, "valid")]:
    out, before = conv_output_size(size, k, s, padding)
    print(f"size {size:2d}, K={k}, stride {s}, {padding:5s}: out {out:2d}, pad before {before}")
assert conv_output_size(28, 3, 2, "same") == (14, 0)

# %% [markdown]
# ## im2col: a convolution is one matrix product
#
# Each output pixel is a dot product between the flattened kernel ($C_\text{in}K^2$
# numbers) and the window under it. Copy every window into a **column** of a
# matrix `cols` of shape $(C_\text{in}K^2,\ N H_\text{out} W_\text{out})$:
#
# `cols[(c*K + kh)*K + kw, (n*Ho + oh)*Wo + ow] = xpad[n, c, oh*s + kh, ow*s + kw]`
#
# Then, with $W_2$ = `W.reshape(C_out, C_in*K*K)`,
# $$Y = W_2\,\text{cols} + b \quad (C_\text{out}\times N H_\text{out}W_\text{out}),$$
# a Dense layer applied to every window at once, and one BLAS call does all the
# arithmetic. A 3x3 image, one 2x2 kernel, "valid": four windows, four columns.

# %%
img = np.arange(9.0).reshape(1, 1, 3, 3)
cols = im2col_numpy(img, 2, 1, 0, 0, 2, 2)
print("image:\n", img[0, 0], "\ncols (one column per window):\n", cols)
assert np.array_equal(cols[:, 0], [0, 1, 3, 4]) and np.array_equal(cols[:, 3], [4, 5, 7, 8])

# %% [markdown]
# Now a real case: odd sizes (7x5), 3 channels, stride 2, "same" — the im2col
# product, the six loops and the library's `Conv2D.forward` must agree.

# %%
N, C_IN, C_OUT, H, W, K, S = 2, 3, 4, 7, 5, 3, 2
layer = Conv2D(C_IN, C_OUT, K, stride=S, padding="same", rng=1, dtype=np.float64)
layer.params["b"][...] = rng.normal(size=C_OUT)
Wt, b = layer.params["W"], layer.params["b"]
x = rng.normal(size=(N, C_IN, H, W))
out_h, top = conv_output_size(H, K, S, "same")
out_w, left = conv_output_size(W, K, S, "same")

cols = im2col_numpy(x, K, S, top, left, out_h, out_w)
Y = Wt.reshape(C_OUT, -1) @ cols + b[:, None]
y_im2col = Y.reshape(C_OUT, N, out_h, out_w).transpose(1, 0, 2, 3)   # back to NCHW
y_loops = conv_loops(x, Wt, b, S, top, left, out_h, out_w)
y_lib = layer.forward(x)
print(f"cols {cols.shape}; |im2col - loops| = {np.abs(y_im2col - y_loops).max():.1e}, "
      f"|library - loops| = {np.abs(y_lib - y_loops).max():.1e}")
assert np.allclose(y_im2col, y_loops, atol=1e-12) and np.allclose(y_lib, y_loops, atol=1e-12)

# %% [markdown]
# The price is memory: every input value is copied up to $K^2 = 9$ times. For
# the generator's 28x28x128 input at batch 64, `cols` would be 231 MB, so
# `Conv2D` cuts the batch into chunks whose columns fit in the CPU cache
# (`CHUNK_BYTES` in `tinygan/layers/conv.py`): each chunk is still one product.
#
# ## Backward through the matrix product
#
# $Y = W_2\,\text{cols} + b$ is exactly the Dense layer of lesson 01 (transposed),
# so with $dY$ laid out like $Y$:
#
# $$dW_2 = dY\,\text{cols}^\top,\qquad db = \textstyle\sum_\text{columns} dY,\qquad
#   d\,\text{cols} = W_2^\top dY.$$
#
# The last step is new: `cols` is not the input, it is copies of it. A pixel
# copied into several windows influences the loss through each copy, so its
# gradient is the **sum** over its copies. That is **col2im**: the same loops as
# im2col with `+=` in place of `=`. In linear-algebra terms im2col is a matrix
# $P$ (0s and 1s, `cols = P x`) and col2im is $P^\top$: for any $x$ and $C$,
# $\langle Px, C\rangle = \langle x, P^\top C\rangle$.

# %%
dy = rng.normal(size=y_lib.shape)        # a random upstream gradient dL/dy
dY = dy.transpose(1, 0, 2, 3).reshape(C_OUT, -1)
dW = (dY @ cols.T).reshape(Wt.shape)
db = dY.sum(axis=1)
dx = col2im_numpy(Wt.reshape(C_OUT, -1).T @ dY, N, C_IN, H, W, K, S, top, left, out_h, out_w)

Cmat = rng.normal(size=cols.shape)
lhs, rhs = np.sum(cols * Cmat), np.sum(x * col2im_numpy(Cmat, N, C_IN, H, W, K, S, top, left,
                                                          out_h, out_w))
print(f"<im2col(x), C> = {lhs:.10f}   <x, col2im(C)> = {rhs:.10f}")
assert abs(lhs - rhs) < 1e-9

# Finite differences of L = sum(y * dy), and the library's backward
layer.zero_grad()
layer.forward(x)
dx_lib = layer.backward(dy)


def loss():
    return float(np.sum(conv_loops(x, Wt, b, S, top, left, out_h, out_w) * dy))


num_dx, num_dW = numerical_grad(loss, x, h=1e-4), numerical_grad(loss, Wt, h=1e-4)
print(f"dx: vs finite differences {rel_error(dx, num_dx):.1e}, vs Conv2D.backward "
      f"{rel_error(dx, dx_lib):.1e}")
print(f"dW: vs finite differences {rel_error(dW, num_dW):.1e}, vs Conv2D.backward "
      f"{rel_error(dW, layer.grads['W']):.1e}; db vs library "
      f"{rel_error(db, layer.grads['b']):.1e}")
assert rel_error(dx, num_dx) < 1e-7 and rel_error(dW, num_dW) < 1e-7
assert rel_error(dx, dx_lib) < 1e-12 and rel_error(dW, layer.grads["W"]) < 1e-12

# %% [markdown]
# (The loss is linear in $x$ and $W$, so central differences are exact up to
# rounding for any step; `h=1e-4` keeps the rounding small. See lesson 05.)
#
# ## The input gradient is a correlation with the rotated kernel
#
# Write the forward for one input pixel's influence. Pixel $\tilde x_{c,p,q}$
# meets weight $W_{o,c,k_h,k_w}$ in output $(i,j)$ exactly when
# $p = is + k_h$ and $q = js + k_w$. So
#
# $$\frac{\partial L}{\partial \tilde x_{c,p,q}} = \sum_o\sum_{k_h,k_w}
#   W_{o,c,k_h,k_w}\; dy_{o,\,(p-k_h)/s,\,(q-k_w)/s}$$
#
# over the terms whose indices are whole numbers inside the output. For stride
# 1 substitute $k_h \to K-1-k_h$: it becomes
# $\sum_o\sum W_{o,c,K-1-k_h,K-1-k_w}\,dy_{o,p-K+1+k_h,\,q-K+1+k_w}$ —
# a **cross-correlation of $dy$ (zero-padded by $K-1$) with the kernel rotated
# by 180°**, input and output channels swapped. This is the "full" correlation:
# every position where the rotated kernel overlaps $dy$ at all. For stride $s$,
# first spread $dy$ out with $s-1$ zeros between its pixels (the positions the
# strided forward skipped).
#
# So the backward of a convolution is another convolution. We can let the
# library compute it with its own `Conv2D`: channels swapped, kernel rotated,
# "same" padding (for K = 3, stride 1, "same" the full correlation cropped back
# to the input's size is exactly a "same" correlation).

# %%
conv1 = Conv2D(C_IN, C_OUT, K, stride=1, padding="same", rng=2, dtype=np.float64)
y1 = conv1.forward(x)
dy1 = rng.normal(size=y1.shape)
dx1 = conv1.backward(dy1)                                 # im2col -> W2.T @ dY -> col2im

back = Conv2D(C_OUT, C_IN, K, stride=1, padding="same", dtype=np.float64)
back.params["W"][...] = conv1.params["W"].transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]   # swap, rotate
dx_as_conv = back.forward(dy1)
print(f"stride 1: col2im path vs correlation with the rotated kernel: "
      f"{rel_error(dx1, dx_as_conv):.1e}")
assert rel_error(dx1, dx_as_conv) < 1e-12


def full_correlation_backward(dy, W, stride, pad_top, pad_left, h, w):
    """dx by the formula: dilate dy by the stride, pad by K-1, correlate with rot180(W)."""
    n, c_out, oh, ow = dy.shape
    k = W.shape[-1]
    dil = np.zeros((n, c_out, (oh - 1) * stride + 1, (ow - 1) * stride + 1))
    dil[:, :, ::stride, ::stride] = dy                     # zeros where the stride skipped
    full = np.pad(dil, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
    rot = W[:, :, ::-1, ::-1]
    hp, wp = full.shape[2] - k + 1, full.shape[3] - k + 1  # gradient w.r.t. the padded input
    dxp = np.zeros((n, W.shape[1], max(hp, h + pad_top), max(wp, w + pad_left)))
    for kh in range(k):
        for kw in range(k):
            window = full[:, :, kh:kh + hp, kw:kw + wp]    # (N, C_out, hp, wp)
            dxp[:, :, :hp, :wp] += np.einsum("nohw,oc->nchw", window, rot[:, :, kh, kw])
    return dxp[:, :, pad_top:pad_top + h, pad_left:pad_left + w]   # drop the padding's share


dx2 = full_correlation_backward(dy, Wt, S, top, left, H, W)
print(f"stride 2: col2im path vs dilated full correlation: {rel_error(dx_lib, dx2):.1e}")
assert rel_error(dx_lib, dx2) < 1e-12

# %% [markdown]
# Why does the library use col2im rather than this second convolution? Both
# cost about the same arithmetic; col2im reuses the forward's layout and
# handles every stride and padding with the same two loops, while the
# correlation form needs the dilation and the padding bookkeeping above.
#
# ## Upsampling: copy forward, sum backward
#
# `UpSampling2D(2)` copies each pixel into a 2x2 block:
# $y_{n,c,i,j} = x_{n,c,\lfloor i/2\rfloor,\lfloor j/2\rfloor}$. Every input
# pixel reaches the loss through its 4 copies, so
# $$dx_{n,c,i,j} = \sum_{a,b\in\{0,1\}} dy_{n,c,2i+a,2j+b}$$
# — in NumPy, a reshape that exposes each block and a sum over it
# (`upsample_nearest_backward_numpy`).

# %%
up = UpSampling2D(2)
xu = rng.normal(size=(2, 3, 4, 5))
yu = up.forward(xu)
dyu = rng.normal(size=yu.shape)
dxu = up.backward(dyu)
by_hand = np.zeros_like(xu)
for a in range(2):
    for bb in range(2):
        by_hand += dyu[:, :, a::2, bb::2]                   # the (a, b) corner of every block
num = numerical_grad(lambda: float(np.sum(up.forward(xu) * dyu)), xu, h=1e-4)
print(f"upsampling backward: library vs block sums {rel_error(dxu, by_hand):.1e}, "
      f"vs finite differences {rel_error(dxu, num):.1e}")
assert np.allclose(dxu, by_hand) and rel_error(dxu, num) < 1e-8
assert np.allclose(upsample_nearest_backward_numpy(dyu, 2), by_hand)
up_errors = check_layer(UpSampling2D(2), xu, rng=3, h=1e-4)
print("check_layer(UpSampling2D):", up_errors)
assert up_errors["x"] < 1e-7

# %% [markdown]
# ## A picture: im2col of a digit, and the gradient flowing back
#
# Left: one MNIST-sized image. Middle: the 9 rows of `cols` for a 3x3 kernel,
# each reshaped back to 28x28 — nine shifted copies of the image. Right: the
# input gradient of one 3x3 edge filter for $dy$ = a single 1 in the middle.
# Correlating a single spike with the *rotated* kernel stamps the kernel itself,
# unrotated, on the window that output pixel looked at: the backward pass is a
# true (flipped) convolution of $dy$ with $W$.

# %%
digit = np.zeros((1, 1, 28, 28))
digit[0, 0, 6:22, 12:16] = 1.0                             # a crude "1"
digit[0, 0, 6:9, 9:13] = 1.0
cols_d = im2col_numpy(digit, 3, 1, 1, 1, 28, 28)
edge = Conv2D(1, 1, 3, rng=0, dtype=np.float64)
edge.params["W"][0, 0] = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]   # Sobel x
edge.forward(digit)
spike = np.zeros((1, 1, 28, 28))
spike[0, 0, 14, 14] = 1.0
grad = edge.backward(spike)[0, 0]
assert np.allclose(grad[13:16, 13:16], edge.params["W"][0, 0])   # the kernel, on its window
assert np.count_nonzero(grad) == np.count_nonzero(edge.params["W"])

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1, 1.3, 1]})
axes[0].imshow(digit[0, 0], cmap="gray")
axes[0].set_title("input x (28x28)")
tiles = cols_d.reshape(3, 3, 28, 28).transpose(0, 2, 1, 3).reshape(84, 84)
axes[1].imshow(tiles, cmap="gray")
axes[1].set_title("the 9 rows of im2col(x), as images\n(kh down, kw across)")
lim = np.abs(grad).max()
axes[2].imshow(grad[9:20, 9:20], cmap="RdBu", vmin=-lim, vmax=lim)
axes[2].set_title("dx for dy = one spike:\nthe kernel, on its window")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
save_figure(fig, "13_im2col_and_backward.png")

# %% [markdown]
# ## The whole convolutional GAN
#
# `mnist_dcgan()` builds the tutorial's G (Dense → Reshape → BatchNorm over
# channels → UpSampling2D → Conv2D 128 → UpSampling2D → Conv2D 64 → Conv2D 1 →
# Tanh) and D (two stride-2 Conv2D with LeakyReLU and Dropout, then Dense 1).
# `GAN(..., d_half_batch=True)` is the tutorial's schedule: D sees half a batch
# of real and half a batch of fakes, G a full batch. Almost all the time goes
# into the generator's two big convolutions (measured in
# `benchmarks/step_dcgan.py`).

# %%
G, D = mnist_dcgan(100, rng=0)
G.summary((None, 100))
D.summary((None, 1, 28, 28))
gan = GAN(G, D, latent_dim=100, d_half_batch=True, rng=1)
batch, steps = (16, 2) if QUICK else (64, 5)
real = rng.uniform(-1, 1, (batch, 1, 28, 28)).astype(np.float32)  # stand-in data: timing only
gan.train_step(real)                                               # first call compiles kernels
t = time.perf_counter()
for _ in range(steps):
    stats = gan.train_step(real)
print(f"{(time.perf_counter() - t) / steps * 1000:.0f} ms per iteration at batch {batch}; "
      f"D loss {stats['d_loss']:.3f}, G loss {stats['g_loss']:.3f}")
assert np.isfinite(stats["d_loss"]) and np.isfinite(stats["g_loss"])

# %% [markdown]
# To train it on MNIST: `tinygan train --preset mnist-dcgan`.
