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
# # Lesson 11 — Speed: where a training step spends its time
#
# One training iteration of the `mnist_mlp` GAN at batch 64 does about
# 1.2 GFLOP of matrix products (seventeen forward products: G twice, D three
# times; twenty backward ones) and a lot of small element-wise work around
# them. A fast
# step does the products on an optimised BLAS and makes everything else
# nearly free. This lesson measures that claim piece by piece:
#
# 1. profile one step and sort the time by *where* it goes;
# 2. a one-line trap: `np.where` on random signs;
# 3. NumPy Adam vs a fused numba loop over all parameters;
# 4. float32 vs float64;
# 5. why a small call costs more inside a step than on its own.
#
# Library: `tinygan/backend.py` (`Kernel`, `set_backend`, `jit`), the kernels in
# `tinygan/kernels/` (each `*_numpy` twin beside its `*_numba` loop), and
# `tinygan/optim.py` (`Adam.step` calls `adam_update_all` once for all arrays).
# The full benchmarks are `benchmarks/step.py`, `benchmarks/kernels.py` and
# `benchmarks/startup.py`.
#
# Timings on a shared machine are noisy. Every comparison below times its
# candidates *round-robin* (A, B, A, B, ...) and compares **medians**, and
# every assertion asks for a wide margin, never a precise number.

# %%
import cProfile
import pstats
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info

from _common import QUICK, plt, save_figure
from tinygan import GAN, backend
from tinygan.kernels import ArrayGroup, adam_update_all
from tinygan.kernels.activations import leaky_relu_forward_numpy
from tinygan.presets import mnist_mlp

REPEATS = 5 if QUICK else 9
ITERS = 3 if QUICK else 30


def medians(candidates, iters=ITERS, repeats=REPEATS):
    """Median seconds per call of each candidate, timed round-robin."""
    for f in candidates.values():
        f()  # warm-up (and numba compilation)
    runs = {k: [] for k in candidates}
    for _ in range(repeats):
        for k, f in candidates.items():
            t0 = time.perf_counter()
            for _ in range(iters):
                f()
            runs[k].append((time.perf_counter() - t0) / iters)
    return {k: statistics.median(v) for k, v in runs.items()}


def make_gan(dtype=np.float32, seed=0):
    G, D = mnist_mlp(rng=seed, dtype=dtype)
    return GAN(G, D, latent_dim=100, rng=seed + 1)


real = np.random.default_rng(2).random((64, 784), dtype=np.float32)
print("active backend:", backend.get_backend(), "| numba available:", backend.numba_available())

# One BLAS thread for every measurement here (`_common` sets it for every lesson,
# with threadpoolctl, a tinygan dependency): with two, each matrix product ends
# in a barrier where one thread waits for the other, and on a machine shared with
# other processes that wait can be 100x the product itself.
print("BLAS:", [(i["internal_api"], i.get("architecture"), i["num_threads"])
                for i in threadpool_info() if i["user_api"] == "blas"])

# %% [markdown]
# ## 1. Profile one step
#
# `cProfile` records the time spent inside every Python function. We run a few
# steps on the **NumPy backend** and add the time up by where it was spent:
# the matrix products live in `Dense.forward` / `Dense.backward`
# (`tinygan/layers/dense.py`), the optimizer in `tinygan/kernels/optim.py`,
# the rest in the other kernels and in plain Python bookkeeping.

# %%
def profile_step(name, steps):
    backend.set_backend(name)
    gan = make_gan()
    gan.train_step(real)  # warm-up: compile numba kernels, touch all memory
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        gan.train_step(real)
    prof.disable()
    stats = pstats.Stats(prof).stats
    groups = {"matrix products (Dense)": 0.0, "optimizer (Adam)": 0.0,
              "activations, BatchNorm, loss": 0.0, "Python bookkeeping": 0.0}
    for (path, _, func), (_, _, tottime, _, _) in stats.items():
        if path.endswith("layers/dense.py"):
            groups["matrix products (Dense)"] += tottime
        elif "adam" in func or "_adam" in func:
            groups["optimizer (Adam)"] += tottime
        elif "/kernels/" in path:
            groups["activations, BatchNorm, loss"] += tottime
        else:
            groups["Python bookkeeping"] += tottime
    return {k: v / steps * 1e3 for k, v in groups.items()}  # ms per step


steps = 3 if QUICK else 20
profiles = {name: profile_step(name, steps) for name in ("numpy", "numba")}
for name, prof in profiles.items():
    total = sum(prof.values())
    print(f"{name} backend: {total:.1f} ms/step under the profiler")
    for k, v in prof.items():
        print(f"   {k:<30} {v:6.2f} ms  ({v / total:4.0%})")

# %% [markdown]
# On the NumPy backend the optimizer alone costs about as much as all the
# matrix products (typically 1-1.3x as much): `adam_update_numpy` writes a
# temporary array for every operator, ten passes over 2 million numbers. On the
# numba backend the same update is one pass (`_adam_flat` in
# `tinygan/kernels/optim.py`) and the matrix products dominate, over half of
# the step under the profiler (which inflates the Python bookkeeping): what a
# fast step should look like, since the products are the work that cannot be
# avoided. The checks below leave room for a noisy, shared machine.

# %%
mm, adam = "matrix products (Dense)", "optimizer (Adam)"
assert profiles["numpy"][adam] > 0.5 * profiles["numpy"][mm], profiles["numpy"]
if backend.numba_available():
    prof = profiles["numba"]
    assert prof[mm] == max(prof.values()) and prof[mm] > 0.4 * sum(prof.values()), prof
    assert prof[adam] < 0.25 * profiles["numpy"][adam], profiles   # one pass, not ten
fig, ax = plt.subplots(figsize=(7, 2.8))
left = np.zeros(2)
for k in profiles["numpy"]:
    vals = np.array([profiles[n][k] for n in ("numpy", "numba")])
    ax.barh(["NumPy backend", "numba backend"], vals, left=left, label=k)
    left += vals
ax.set_xlabel("ms per training step (under cProfile)")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
ax.set_title("Where one mnist_mlp step spends its time (batch 64, float32)")
save_figure(fig, "11_step_profile.png")

# %% [markdown]
# ## 2. A one-line trap: `np.where`
#
# The textbook LeakyReLU is `np.where(x > 0, x, alpha * x)`. NumPy runs
# `np.where` as a loop with a *branch* per element, and the signs of a hidden
# layer are random, so the CPU's branch predictor guesses wrong half the time.
# For `0 <= alpha <= 1` the same numbers come out of `np.maximum(x, alpha * x)`
# with no branch at all -- that is what `leaky_relu_forward_numpy` in
# `tinygan/kernels/activations.py` does.

# %%
x = np.random.default_rng(0).standard_normal((64, 1024)).astype(np.float32)
a = np.float32(0.2)
assert np.array_equal(np.where(x > 0, x, a * x), leaky_relu_forward_numpy(x, 0.2))
t = medians({"where": lambda: np.where(x > 0, x, a * x),
             "maximum": lambda: np.maximum(x, a * x)}, iters=20)
print(f"np.where {t['where'] * 1e6:.0f} us, np.maximum {t['maximum'] * 1e6:.0f} us "
      f"({t['where'] / t['maximum']:.1f}x)")
assert t["where"] > 1.5 * t["maximum"], t  # typically 5-20x

# %% [markdown]
# ## 3. Adam: NumPy, then one fused loop
#
# `adam_update_numpy` is the formula as written in the paper, one NumPy
# operator at a time. `adam_update_all` on the numba backend runs
# `_adam_all`: one compiled call that walks every parameter array of the model
# (held by an `ArrayGroup`, a tuple of flat views that share memory with the
# layers' arrays) and updates p, m and v element by element, with the bias
# corrections folded into two scalars. Each number is read once and written
# once, and the loop is vectorised (8 float32 lanes per instruction).

# %%
gan = make_gan()
params = [p for net in (gan.generator, gan.discriminator) for p in net.parameters()]


def adam_state():
    rng = np.random.default_rng(1)  # both copies start from the same numbers
    return [ArrayGroup([p.value.copy() for p in params]),
            ArrayGroup([rng.standard_normal(p.value.shape).astype(np.float32) for p in params]),
            ArrayGroup([np.zeros_like(p.value) for p in params]),
            ArrayGroup([np.zeros_like(p.value) for p in params])]


s_np, s_nb = adam_state(), adam_state()
n_params = sum(p.value.size for p in params)
candidates = {"numpy": lambda: adam_update_all.numpy(*s_np, 2e-4, 0.5, 0.999, 1e-8, 5)}
if backend.numba_available():
    candidates["numba"] = lambda: adam_update_all.numba(*s_nb, 2e-4, 0.5, 0.999, 1e-8, 5)
t = medians(candidates, iters=2 if QUICK else 10)
print(f"Adam over {n_params / 1e6:.2f} M parameters: " +
      ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in t.items()))
if "numba" in t:
    print(f"fused numba loop is {t['numpy'] / t['numba']:.1f}x faster")
    assert t["numba"] * 3 < t["numpy"], t  # typically ~10x
    # same numbers, to float32 rounding
    for a_, b_ in zip(s_np[0], s_nb[0]):
        np.testing.assert_allclose(a_, b_, rtol=1e-5, atol=1e-6)

# %% [markdown]
# ## 4. float32 vs float64
#
# float64 doubles every array's bytes and halves the numbers a SIMD
# instruction handles, so BLAS does the same products at roughly half the
# speed. GANs train happily in float32 (so does every deep learning
# framework by default). One careless `np.random.rand` batch -- float64 --
# would promote a float32 network to float64 from its first layer on;
# `Dense.forward` therefore casts its input to the layer's dtype.

# %%
backend.set_backend("numba" if backend.numba_available() else "numpy")
g32, g64 = make_gan(np.float32), make_gan(np.float64)
real64 = real.astype(np.float64)
bytes32 = sum(p.value.nbytes for p in g32.generator.parameters())
bytes64 = sum(p.value.nbytes for p in g64.generator.parameters())
assert bytes64 == 2 * bytes32
t = medians({"float32": lambda: g32.train_step(real), "float64": lambda: g64.train_step(real64)})
print(f"train_step: float32 {t['float32'] * 1e3:.1f} ms, float64 {t['float64'] * 1e3:.1f} ms "
      f"({t['float64'] / t['float32']:.2f}x)")
assert t["float64"] > 1.1 * t["float32"], t  # typically 1.5-2x

# A float64 batch fed to the float32 GAN: the network still computes in float32.
d_first = g32.discriminator[0]
d_first.forward(real64)
assert d_first._take_cache().dtype == np.float32

# %% [markdown]
# ## 5. A small call costs more inside a step than in a micro-benchmark
#
# A micro-benchmark calls a function back to back, so its code and data stay
# in the CPU's caches. Inside a training step they do not: Adam has just
# streamed 56 MB (p, g, m and v of 2 M parameters) through caches of a few MB,
# and the next call must fetch what it needs from memory again. We imitate
# that with a sweep over an array larger than any cache before each call.
#
# The figures a step reports about D's logits -- the mean D(x) and how many
# samples D calls real -- take six NumPy calls in their NumPy twin
# (`logit_stats_numpy` in `tinygan/kernels/loss.py`) and one compiled loop in
# their numba kernel.

# %%
from tinygan.kernels import logit_stats  # noqa: E402  (the lesson's own section)

sweep = np.ones(256 * 2**20 // 4, np.float32)   # 256 MB: more than any CPU cache
logits = np.random.default_rng(3).standard_normal((64, 1)).astype(np.float32)


def per_call(fn, before=None, calls=15 if QUICK else 101):
    """Median seconds of one call of ``fn``, each after ``before()`` when given."""
    fn()
    times = []
    for _ in range(calls):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


twins = {"numpy": logit_stats.numpy}
if backend.numba_available():
    twins["numba"] = logit_stats.numba
cost = {(name, when): per_call(lambda f=f: f(logits), before)
        for name, f in twins.items() for when, before in (("hot", None), ("cold", sweep.sum))}
for name in twins:
    print(f"logit_stats, {name:5s}: {cost[name, 'hot'] * 1e6:6.1f} us hot, "
          f"{cost[name, 'cold'] * 1e6:6.1f} us after the sweep")
assert cost["numpy", "cold"] > 2 * cost["numpy", "hot"], cost  # typically 5-10x
if "numba" in twins:
    assert cost["numba", "cold"] < cost["numpy", "cold"], cost  # one call, not six

# %% [markdown]
# Inside a step, then, the number of calls matters as much as the work in
# each. `benchmarks/step_breakdown.py` times them both ways and shows the step
# round by round. It also shows a second way memory costs time: with two BLAS
# threads, the other core has read the weights during the products, and in
# some rounds Adam spends 5-7 ms instead of 1.5 taking those cache lines back
# before it can write them (with one BLAS thread it never has to).

# %% [markdown]
# ## What to take away
#
# * Measure before optimising: here the optimizer cost the NumPy engine about
#   as much as all the matrix products.
# * Memory passes are the currency of element-wise code: a fused loop that
#   reads and writes each number once beats a chain of NumPy operators.
# * Branches on random data are slow; `np.maximum` beats `np.where`.
# * Stay in float32.
# * Inside a step every call starts with cold caches: fewer, fused calls beat
#   many small ones that each look fast in a micro-benchmark.
#
# `python benchmarks/step.py` puts the whole step side by side with the
# matrix-products-only bound and with PyTorch on the same machine.
