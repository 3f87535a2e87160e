"""Milliseconds per training iteration of the mnist_mlp GAN, four ways.

One iteration = ``GAN.train_step``: one discriminator step (real batch and a
batch of fakes, forward and backward through D, Adam on D) and one generator
step (forward through G and D, backward through the frozen D and through G,
Adam on G), float32.  Columns:

* ``numba``   -- tinygan with the numba kernels (the default backend);
* ``numpy``   -- tinygan with the NumPy twins;
* ``matmul``  -- only the matrix products that same iteration performs, into
  preallocated arrays: the lower bound for any implementation that uses
  NumPy's BLAS for them;
* ``torch``   -- PyTorch eager on the CPU with the same architecture, phases,
  Adam settings, batch and thread count, if ``import torch`` works.  torch is
  not a dependency: ``pip install torch`` in a separate virtual environment
  and run this script with that interpreter and ``PYTHONPATH=<repo>``.

Everything runs in one process and is timed round-robin (see ``_common.py``),
so the ratios compare like with like even on a busy machine.  The first table's
ratios divide the medians; the second gives, for each pair, the median over
rounds of the ratio within a round, which a neighbour that slows the machine
for a few seconds (memory bandwidth shared with other VMs) disturbs less.

    python benchmarks/step.py                     # table
    python benchmarks/step.py --json out.json     # and the same figures as JSON
    python benchmarks/step.py --threads 1         # BLAS, numba and torch on 1 thread
    python benchmarks/step.py --dcgan             # then the convolutional GAN (step_dcgan.py)
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

from _common import machine_report, print_report, round_robin, write_json

from tinygan import GAN, backend
from tinygan.layers import Dense
from tinygan.presets import mnist_mlp

LATENT = 100


# -- tinygan -----------------------------------------------------------------------------
def make_gan(seed: int = 0) -> GAN:
    """The benchmarked GAN: mnist_mlp with the GAN's default Adam (lr 2e-4, betas 0.5, 0.999)."""
    G, D = mnist_mlp(LATENT, rng=seed)
    return GAN(G, D, latent_dim=LATENT, rng=seed + 1)


def tinygan_step(name: str, batch: int, seed: int = 0):
    """A zero-argument function running one train_step on backend ``name``."""
    gan = make_gan(seed)
    real = np.random.default_rng(seed + 2).random((batch, 784), dtype=np.float32)

    def step():
        backend.set_backend(name)
        gan.train_step(real)

    return step


# -- the matrix products alone -----------------------------------------------------------
def matmul_step(batch: int, seed: int = 0):
    """The products of one iteration, exactly as the engine does them, into fixed buffers.

    Per Dense layer (in -> out), with N = batch: forward ``x @ W`` (N, out);
    backward ``x.T @ dy`` (in, out) when the layer learns in that pass, and
    ``dy @ W.T`` (N, in) unless it is the network's first layer.
    """
    G, D = mnist_mlp(LATENT, rng=seed)
    rng = np.random.default_rng(seed)
    shapes_g = [(l.in_features, l.out_features) for l in G if isinstance(l, Dense)]
    shapes_d = [(l.in_features, l.out_features) for l in D if isinstance(l, Dense)]

    def buffers(shapes):
        W = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
        x = [rng.standard_normal((batch, i), dtype=np.float32) for i, _ in shapes]
        y = [np.empty((batch, o), np.float32) for _, o in shapes]
        dW = [np.empty(s, np.float32) for s in shapes]
        dx = [np.empty((batch, i), np.float32) for i, _ in shapes]
        return W, x, y, dW, dx

    g, d = buffers(shapes_g), buffers(shapes_d)

    def forward(net):
        W, x, y, _, _ = net
        for k in range(len(W)):
            np.matmul(x[k], W[k], out=y[k])

    def backward(net, weights: bool, input_grad: bool):
        W, x, y, dW, dx = net   # y[k] stands in for dy: same shape
        for k in reversed(range(len(W))):
            if weights:
                np.matmul(x[k].T, y[k], out=dW[k])
            if k > 0 or input_grad:
                np.matmul(y[k], W[k].T, out=dx[k])

    def step():
        forward(g)                                        # d_step: the fakes
        forward(d); backward(d, True, input_grad=False)   # D on the real batch
        forward(d); backward(d, True, input_grad=False)   # D on the fakes
        forward(g); forward(d)                            # g_step
        backward(d, False, input_grad=True)               # frozen D: dL/d(fake) only
        backward(g, True, input_grad=False)

    return step


# -- PyTorch -----------------------------------------------------------------------------
def torch_step(batch: int, threads: int, seed: int = 0):
    """The same iteration in PyTorch eager mode, or None when torch is not importable."""
    try:
        import torch
    except ImportError:
        return None
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(seed)

    def g_block(i, o):  # Keras momentum 0.8 is PyTorch momentum 0.2
        return [nn.Linear(i, o), nn.LeakyReLU(0.2), nn.BatchNorm1d(o, momentum=0.2, eps=1e-3)]

    G = nn.Sequential(*g_block(LATENT, 256), *g_block(256, 512), *g_block(512, 1024),
                      nn.Linear(1024, 784), nn.Sigmoid())
    D = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256),
                      nn.LeakyReLU(0.2), nn.Linear(256, 1))
    g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    bce = nn.functional.binary_cross_entropy_with_logits
    real = torch.from_numpy(np.random.default_rng(seed + 2).random((batch, 784), dtype=np.float32))
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step():
        # phase 1: D on the real batch, then on the fakes (G runs without gradients)
        with torch.no_grad():
            fake = G(torch.randn(batch, LATENT))
        d_opt.zero_grad()
        (0.5 * bce(D(real), ones)).backward()
        (0.5 * bce(D(fake), zeros)).backward()
        d_opt.step()
        # phase 2: G through the frozen D (no weight gradients for D)
        g_opt.zero_grad()
        for p in D.parameters():
            p.requires_grad_(False)
        bce(D(G(torch.randn(batch, LATENT))), ones).backward()
        for p in D.parameters():
            p.requires_grad_(True)
        g_opt.step()

    return step


# -- the table ---------------------------------------------------------------------------
PAIRS = {"numba/torch": ("numba", "torch"), "numba/matmul": ("numba", "matmul"),
         "numpy/numba": ("numpy", "numba")}


def paired_ratio(a_runs: list, b_runs: list) -> float:
    """Median over rounds of a/b: both timed in the same round, under the same load."""
    return statistics.median(a / b for a, b in zip(a_runs, b_runs))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--iterations", type=int, default=100, help="iterations per timed block")
    ap.add_argument("--repeats", type=int, default=9,
                    help="timed blocks per candidate (median; with 9, a few slow rounds on "
                         "a shared host do not move it)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for BLAS, numba and torch (default: what BLAS has now)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    ap.add_argument("--dcgan", action="store_true",
                    help="then time the convolutional GAN too (benchmarks/step_dcgan.py, same "
                         "threads; a few more minutes)")
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits
    threads = args.threads
    if threads is not None:
        threadpool_limits(threads)
        if backend.numba_available():
            import numba
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    report = machine_report()
    threads = threads or next((b["num_threads"] for b in report["blas"]
                               if b.get("user_api") == "blas"), 1)
    print_report(report)
    if backend.set_backend("numba") != "numba":
        print("numba is not installed: the numba column shows the NumPy fallback")

    results = {}
    for batch in args.batches:
        candidates = {"numba": tinygan_step("numba", batch), "numpy": tinygan_step("numpy", batch),
                      "matmul": matmul_step(batch)}
        ts = None if args.no_torch else torch_step(batch, threads)
        if ts is not None:
            import torch
            candidates["torch"] = ts
            report["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads(),
                               "interop_threads": torch.get_num_interop_threads()}
            print(f"torch {torch.__version__}: {torch.get_num_threads()} threads "
                  "(torch.set_num_threads), torch.optim.Adam with its CPU defaults", file=sys.stderr)
        print(f"batch {batch}: timing {args.repeats} x {args.iterations} iterations of "
              f"{', '.join(candidates)} ...", file=sys.stderr, flush=True)
        results[batch] = round_robin(candidates, args.iterations, args.repeats)

    cols = ["numba", "numpy", "matmul", "torch"]
    print(f"\nms per iteration (median of {args.repeats} x {args.iterations}), mnist_mlp, float32, "
          f"{threads} thread(s)")
    head = f"{'batch':>5} " + "".join(f"{c:>9}" for c in cols)
    head += f"{'numba/torch':>13}{'numba/matmul':>14}{'numpy/numba':>13}{'matmul share':>14}"
    print(head)
    summary = {}
    for batch, r in results.items():
        ms = {c: r[c]["median_ms"] for c in cols if c in r}
        ratios = {"numba/torch": ms["numba"] / ms["torch"] if "torch" in ms else None,
                  "numba/matmul": ms["numba"] / ms["matmul"],
                  "numpy/numba": ms["numpy"] / ms["numba"],
                  "matmul share of numba": ms["matmul"] / ms["numba"]}
        summary[batch] = {"ms": ms, "ratios": ratios, "runs_ms": {c: r[c]["runs_ms"] for c in r}}
        summary[batch]["paired_ratios"] = {
            name: paired_ratio(r[a]["runs_ms"], r[b]["runs_ms"])
            for name, (a, b) in PAIRS.items() if a in r and b in r}
        cells = "".join(f"{ms[c]:>9.2f}" if c in ms else f"{'-':>9}" for c in cols)
        rt = ratios["numba/torch"]
        print(f"{batch:>5} {cells}{(f'{rt:.2f}x' if rt else '-'):>13}"
              f"{ratios['numba/matmul']:>13.2f}x{ratios['numpy/numba']:>12.2f}x"
              f"{ratios['matmul share of numba']:>13.0%}")
    print("\nthe same ratios per round (each round times every candidate back to back), median "
          "over rounds:\nless sensitive to a neighbour that slows the machine for a few seconds")
    for batch, s in summary.items():
        print(f"{batch:>5} "
              + "  ".join(f"{name} {x:.2f}x" for name, x in s["paired_ratios"].items()))
    if "torch" not in results[args.batches[0]] and not args.no_torch:
        print("(no torch column: `pip install torch` in a separate venv and run this script "
              "with it, PYTHONPATH=<repo>)")
    if args.json:
        write_json(args.json, {"machine": report, "threads": threads, "iterations": args.iterations,
                               "repeats": args.repeats,
                               "results": {str(b): s for b, s in summary.items()}})
        print(f"wrote {args.json}")
    if args.dcgan:
        import step_dcgan
        print("\n-- mnist_dcgan " + "-" * 60)
        step_dcgan.main(["--threads", str(threads)]
                        + (["--json", str(Path(args.json).with_suffix(".dcgan.json"))]
                           if args.json else []))


if __name__ == "__main__":
    main()
