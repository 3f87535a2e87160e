"""Where the numba step's time goes, round by round, and why it moves with the host.

    python benchmarks/step_breakdown.py                  # 16 rounds of 100 iterations
    python benchmarks/step_breakdown.py --rounds 30 --json out.json

``benchmarks/step.py`` gives medians; this script shows the rounds behind them.
Each round times 100 training iterations of ``mnist_mlp`` (numba backend,
batch 64, float32) with the two Adam updates timed *inside* the step, then 100
iterations of the matrix products alone (``step.py``'s bound).  Columns:
step, Adam inside it, the rest (layers, losses, Python), the products alone,
and step / products.  The summary splits the rounds into the faster and the
slower half.

Then two measurements that explain the slow rounds:

* Adam on its own, over the same 2 M parameters: inside the step it takes
  several times longer, because the matrix products and the host's other
  tenants have pushed its 32 MB of p, g, m and v out of the shared L3 cache;
* a few small calls "hot" (repeated back to back, as a micro-benchmark
  times them) and "cold" (each after a 64 MB sweep, as after Adam): a call
  that touches little memory costs many times more when its code and data
  must come back from DRAM, which is why a step avoids small calls.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _common import machine_report, print_report, write_json
from step import LATENT, matmul_step

from tinygan import GAN, backend
from tinygan.kernels import leaky_relu_forward, logit_stats
from tinygan.presets import mnist_mlp


def timed_gan(batch: int, seed: int = 0):
    """(one training step, a dict accumulating the seconds spent in the optimizers)."""
    G, D = mnist_mlp(LATENT, rng=seed)
    gan = GAN(G, D, latent_dim=LATENT, rng=seed + 1)
    real = np.random.default_rng(seed + 2).random((batch, 784), dtype=np.float32)
    spent = {"adam": 0.0}
    for opt in (gan.g_optimizer, gan.d_optimizer):
        def step(inner=opt.step):
            t0 = time.perf_counter()
            inner()
            spent["adam"] += time.perf_counter() - t0
        opt.step = step
    return (lambda: gan.train_step(real)), spent, gan


def per_call_us(fn, before=None, calls: int = 200) -> float:
    """Median microseconds of ``fn()``, each call after ``before()`` when given."""
    times = []
    for _ in range(calls):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=16)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    backend.set_backend("numba")
    report = machine_report()
    print_report(report)
    step, spent, gan = timed_gan(args.batch)
    products = matmul_step(args.batch)
    for _ in range(20):
        step(), products()

    n = args.iterations
    rows = []
    print(f"\nms per iteration, {n} iterations per round\n"
          f"{'round':>5}{'step':>8}{'adam':>8}{'rest':>8}{'matmul':>8}{'step/matmul':>13}")
    for r in range(args.rounds):
        spent["adam"] = 0.0
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        total = (time.perf_counter() - t0) / n * 1e3
        t0 = time.perf_counter()
        for _ in range(n):
            products()
        mm = (time.perf_counter() - t0) / n * 1e3
        adam = spent["adam"] / n * 1e3
        rows.append({"step": total, "adam": adam, "rest": total - adam, "matmul": mm})
        print(f"{r + 1:>5}{total:>8.2f}{adam:>8.2f}{total - adam:>8.2f}{mm:>8.2f}"
              f"{total / mm:>12.2f}x", flush=True)

    ranked = sorted(rows, key=lambda row: row["step"])
    halves = {"faster half": ranked[: len(ranked) // 2], "slower half": ranked[len(ranked) // 2:]}
    print("\nmedians" + "".join(f"{c:>8}" for c in ("step", "adam", "rest", "matmul")))
    summary = {}
    for name, part in halves.items():
        med = {c: statistics.median(row[c] for row in part) for c in ("step", "adam", "rest",
                                                                       "matmul")}
        med["step/matmul"] = statistics.median(row["step"] / row["matmul"] for row in part)
        summary[name] = med
        print(f"{name:<12}" + "".join(f"{med[c]:>8.2f}" for c in ("step", "adam", "rest",
                                                                  "matmul"))
              + f"   step/matmul {med['step/matmul']:.2f}x")

    opt = gan.g_optimizer, gan.d_optimizer
    adam_alone = per_call_us(lambda: [o.step() for o in opt], calls=100) / 1e3
    sweep = np.ones(16 * 2**20, np.float32)          # 64 MB: more than the 32 MB L3
    logits = np.random.default_rng(0).standard_normal((args.batch, 1)).astype(np.float32)
    h = np.random.default_rng(1).standard_normal((args.batch, 1024)).astype(np.float32)
    calls = {"logit_stats, NumPy twin (6 NumPy calls)": lambda: logit_stats.numpy(logits),
             "logit_stats, numba (1 call)": lambda: logit_stats.numba(logits),
             "leaky_relu_forward, numba (N,1024)": lambda: leaky_relu_forward.numba(h, 0.2)}
    print(f"\nAdam (G + D, 2 M parameters) on its own: {adam_alone:.2f} ms per iteration")
    print(f"\nmicroseconds per call{'hot':>36}{'cold':>8}")
    cold = {}
    for name, fn in calls.items():
        hot_us, cold_us = per_call_us(fn), per_call_us(fn, before=sweep.sum)
        cold[name] = {"hot_us": hot_us, "cold_us": cold_us}
        print(f"{name:<49}{hot_us:>8.1f}{cold_us:>8.1f}")
    if args.json:
        write_json(args.json, {"machine": report, "iterations": n, "rounds": rows,
                               "summary": summary, "adam_alone_ms": adam_alone,
                               "calls": cold})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
