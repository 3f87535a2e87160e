"""Milliseconds per training iteration of the convolutional GAN (``mnist_dcgan``).

One iteration is the Keras DCGAN tutorial's schedule at batch B (default 64):
a discriminator step on B/2 real images and B/2 fakes, then a generator step
on a full batch of B -- ``GAN(..., d_half_batch=True).train_step``.

Rows (median over ``--repeats`` blocks of ``--iterations`` iterations, after
warm-up; the blocks of the different rows are interleaved, so a machine
shared with other jobs slows them alike and the *ratios* stay meaningful):

* tinygan, numba backend
* tinygan, NumPy backend
* PyTorch eager on CPU, the same architecture (Keras "same" padding, i.e. the
  odd zero at the bottom/right for stride 2), Adam(2e-4, 0.5), the same
  schedule and the same number of threads -- when ``torch`` is importable.
  It is not a dependency; to include it::

      python3 -m venv /tmp/torch-venv && /tmp/torch-venv/bin/pip install torch numpy numba \
          tqdm matplotlib threadpoolctl
      PYTHONPATH=. /tmp/torch-venv/bin/python benchmarks/step_dcgan.py

The real batch is random data in [-1, 1]: the time of a step does not depend
on what the pixels show.  The BLAS library, its kernel and thread count are
printed (threadpoolctl); OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are reported as
found in the environment and never changed here.

Usage::

    python benchmarks/step_dcgan.py [--batch 64] [--iterations 10] [--repeats 5] [--threads N]
                                    [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinygan import GAN, backend  # noqa: E402
from tinygan.presets import mnist_dcgan  # noqa: E402


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed"}]
    return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                   "filepath")} for d in threadpool_info()
            if d.get("user_api") == "blas"]


def blas_threads() -> int:
    counts = [d.get("num_threads") for d in blas_info() if d.get("num_threads")]
    return int(counts[0]) if counts else (os.cpu_count() or 1)


# -- tinygan -------------------------------------------------------------------------------------
def tinygan_runner(batch: int, which: str):
    backend.set_backend(which)
    G, D = mnist_dcgan(100, rng=0)
    gan = GAN(G, D, latent_dim=100, d_half_batch=True, rng=1)
    real = np.random.default_rng(2).uniform(-1, 1, (batch, 1, 28, 28)).astype(np.float32)

    def run(n):
        backend.set_backend(which)
        for _ in range(n):
            gan.train_step(real)
    return run


# -- PyTorch -------------------------------------------------------------------------------------
def torch_runner(batch: int, threads: int):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)

    def same_s2(c_in, c_out):  # Keras "same" for stride 2 on an even size: pad bottom/right only
        return nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(c_in, c_out, 3, stride=2))

    G = nn.Sequential(nn.Linear(100, 128 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
                      nn.BatchNorm2d(128, eps=1e-3, momentum=0.01),
                      nn.Upsample(scale_factor=2), nn.Conv2d(128, 128, 3, padding=1),
                      nn.LeakyReLU(0.2),
                      nn.Upsample(scale_factor=2), nn.Conv2d(128, 64, 3, padding=1),
                      nn.LeakyReLU(0.2),
                      nn.Conv2d(64, 1, 3, padding=1), nn.Tanh())
    D = nn.Sequential(same_s2(1, 64), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                      same_s2(64, 128), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                      nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(batch, 1, 28, 28) * 2 - 1
    half = batch // 2
    ones_h, zeros_h, ones = torch.ones(half, 1), torch.zeros(half, 1), torch.ones(batch, 1)

    def step():
        with torch.no_grad():  # phase 1: G runs but is not trained
            fake = G(torch.randn(half, 100))
        opt_d.zero_grad()
        loss_d = 0.5 * (bce(D(real[:half]), ones_h) + bce(D(fake), zeros_h))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()  # phase 2: through a frozen D
        D.requires_grad_(False)
        bce(D(G(torch.randn(batch, 100))), ones).backward()
        D.requires_grad_(True)
        opt_g.step()

    def run(n):
        for _ in range(n):
            step()
    return run, torch.__version__


# -- measuring ------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=10, help="iterations per timed block")
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks per row")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, help="BLAS and torch threads (default: BLAS's own)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads, user_api="blas")  # stays in force for this process
    threads = blas_threads()
    print("BLAS:", json.dumps(blas_info()))
    print("environment: " + ", ".join(f"{k}={os.environ.get(k, '(unset)')}"
                                      for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")))
    runners = {}
    if backend.numba_available():
        runners["tinygan numba"] = tinygan_runner(args.batch, "numba")
    runners["tinygan numpy"] = tinygan_runner(args.batch, "numpy")
    torch_version = None
    try:
        runners["pytorch eager"], torch_version = torch_runner(args.batch, threads)
    except ImportError:
        print("torch not importable: PyTorch row skipped (see this file's docstring)")

    for run in runners.values():  # compile numba kernels, fault in buffers, settle Adam
        run(args.warmup)
    times = {name: [] for name in runners}
    cpu = {name: [] for name in runners}
    for _ in range(args.repeats):
        for name, run in runners.items():
            t, c = time.perf_counter(), time.process_time()
            run(args.iterations)
            times[name].append((time.perf_counter() - t) * 1000 / args.iterations)
            cpu[name].append((time.process_time() - c) * 1000 / args.iterations)

    ms = {name: statistics.median(v) for name, v in times.items()}
    cpu_ms = {name: statistics.median(v) for name, v in cpu.items()}
    ref = ms.get("pytorch eager")
    print(f"\nmnist_dcgan, batch {args.batch} (D on {args.batch // 2} real + {args.batch // 2} "
          f"fake, G on {args.batch}), float32, {threads} thread(s); median of {args.repeats} x "
          f"{args.iterations} iterations" + (f"; torch {torch_version}" if torch_version else ""))
    # CPU time (all threads of this process) is less disturbed by other jobs than wall time,
    # but it counts a waiting thread's spinning as work: quote wall time, use CPU as a check.
    ref_cpu = cpu_ms.get("pytorch eager")
    print(f"{'':<16}{'ms/iter':>10}{'min':>10}{'max':>10}{'x PyTorch':>11}"
          f"{'cpu ms/iter':>13}{'x PyTorch':>11}")
    for name, v in times.items():
        ratio = f"{ms[name] / ref:>11.2f}" if ref else f"{'-':>11}"
        ratio_cpu = f"{cpu_ms[name] / ref_cpu:>11.2f}" if ref_cpu else f"{'-':>11}"
        print(f"{name:<16}{ms[name]:>10.1f}{min(v):>10.1f}{max(v):>10.1f}{ratio}"
              f"{cpu_ms[name]:>13.1f}{ratio_cpu}")
    if args.json:
        out = {"batch": args.batch, "threads": threads, "blas": blas_info(),
               "torch": torch_version, "ms_per_iteration": ms, "all": times,
               "cpu_ms_per_iteration": cpu_ms,
               "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}
        tmp = Path(args.json).with_suffix(".tmp")
        tmp.write_text(json.dumps(out, indent=2))
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
