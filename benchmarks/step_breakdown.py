"""Where the numba step's time goes, round by round, and why it moves between rounds.

    python benchmarks/step_breakdown.py                  # 16 rounds of 100 iterations
    python benchmarks/step_breakdown.py --rounds 30 --json out.json

``benchmarks/step.py`` gives medians; this script shows the rounds behind them.
Each round times 100 training iterations of ``mnist_mlp`` (numba backend,
batch 64, float32, the BLAS threads as they are), then 100 iterations of the
matrix products alone (``step.py``'s bound).  Columns:

* ``step``   -- one iteration;
* ``adam``   -- the step's two Adam updates, timed inside it;
* ``adam'``  -- right after them, inside the same step, an Adam update of the
  same size over the arrays of a second GAN that only this thread ever
  touches (not counted in ``step``);
* ``rest``   -- step - adam: layers, losses, Python;
* ``matmul`` -- the products alone, and ``step/matmul``.

In some rounds ``adam`` is several times ``adam'``: the same work on other
arrays, at the same moment.  The difference is where the step's own arrays
have been.  The matrix products run on two BLAS threads, so the other core
has read the weights; before Adam can write them, every one of those cache
lines must be taken back from it, and how long that takes depends on where
the host runs the VM's two virtual CPUs at the time.  With one BLAS thread
(``--threads 1`` here and in ``step.py``; the default of ``tinygan train``)
nothing is shared and ``adam`` stays with ``adam'``.

Then a few small calls, timed "hot"
(repeated back to back, as a micro-benchmark times them) and "cold" (each
after a 64 MB sweep, as after Adam): a call that touches little memory costs
many times more when its code and data must come back from DRAM, which is
why a step avoids small calls.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _common import machine_report, print_report, write_json
from step import make_gan, matmul_step

from tinygan import backend
from tinygan.kernels import leaky_relu_forward, logit_stats


def timed_gan(batch: int, seed: int = 0):
    """(one training step, a dict of the seconds spent in its Adam and in the bystander's).

    The bystander is a second GAN's pair of optimizers, stepped right after the
    step's own: the same amount of work on arrays the BLAS threads never read.
    """
    gan, bystander = make_gan(seed), make_gan(seed + 10)
    real = np.random.default_rng(seed + 2).random((batch, 784), dtype=np.float32)
    spent = {"adam": 0.0, "adam'": 0.0}
    for opt, other in ((gan.g_optimizer, bystander.g_optimizer),
                       (gan.d_optimizer, bystander.d_optimizer)):
        def step(inner=opt.step, other=other.step):
            t0 = time.perf_counter()
            inner()
            t1 = time.perf_counter()
            other()
            spent["adam"] += t1 - t0
            spent["adam'"] += time.perf_counter() - t1
        opt.step = step
    return (lambda: gan.train_step(real)), spent


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
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS threads (default: what BLAS has now)")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.iterations < 1:
        ap.error("--rounds and --iterations must be at least 1")
    if args.threads is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    backend.set_backend("numba")
    report = machine_report()
    print_report(report)
    step, spent = timed_gan(args.batch)
    products = matmul_step(args.batch)
    for _ in range(20):
        step()
        products()

    n = args.iterations
    cols = ("step", "adam", "adam'", "rest", "matmul")
    rows = []
    print(f"\nms per iteration, {n} iterations per round\n{'round':>5}"
          + "".join(f"{c:>8}" for c in cols) + f"{'step/matmul':>13}")
    for r in range(args.rounds):
        spent["adam"] = spent["adam'"] = 0.0
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        wall = (time.perf_counter() - t0) / n * 1e3
        t0 = time.perf_counter()
        for _ in range(n):
            products()
        mm = (time.perf_counter() - t0) / n * 1e3
        adam, other = spent["adam"] / n * 1e3, spent["adam'"] / n * 1e3
        total = wall - other                       # the bystander is not part of the step
        row = {"step": total, "adam": adam, "adam'": other, "rest": total - adam, "matmul": mm}
        rows.append(row)
        print(f"{r + 1:>5}" + "".join(f"{row[c]:>8.2f}" for c in cols)
              + f"{total / mm:>12.2f}x", flush=True)

    ranked = sorted(rows, key=lambda row: row["step"])
    half = len(ranked) // 2
    halves = ({"faster half": ranked[:half], "slower half": ranked[half:]} if half
              else {"all rounds": ranked})
    print("\nmedians     " + "".join(f"{c:>8}" for c in cols))
    summary = {}
    for name, part in halves.items():
        med = {c: statistics.median(row[c] for row in part) for c in cols}
        med["step/matmul"] = statistics.median(row["step"] / row["matmul"] for row in part)
        summary[name] = med
        print(f"{name:<12}" + "".join(f"{med[c]:>8.2f}" for c in cols)
              + f"   step/matmul {med['step/matmul']:.2f}x")

    sweep = np.ones(16 * 2**20, np.float32)          # 64 MB: more than the 32 MB L3
    logits = np.random.default_rng(0).standard_normal((args.batch, 1)).astype(np.float32)
    h = np.random.default_rng(1).standard_normal((args.batch, 1024)).astype(np.float32)
    calls = {"logit_stats, NumPy twin (6 NumPy calls)": lambda: logit_stats.numpy(logits),
             "logit_stats, numba (1 call)": lambda: logit_stats.numba(logits),
             "leaky_relu_forward, numba (N,1024)": lambda: leaky_relu_forward.numba(h, 0.2)}
    print(f"\nmicroseconds per call{'hot':>36}{'cold':>8}")
    cold = {}
    for name, fn in calls.items():
        hot_us, cold_us = per_call_us(fn), per_call_us(fn, before=sweep.sum)
        cold[name] = {"hot_us": hot_us, "cold_us": cold_us}
        print(f"{name:<49}{hot_us:>8.1f}{cold_us:>8.1f}")
    if args.json:
        write_json(args.json, {"machine": report, "iterations": n, "rounds": rows,
                               "summary": summary, "calls": cold})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
