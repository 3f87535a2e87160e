"""Time to the first training iteration, with an empty and with a warm numba cache.

    python benchmarks/startup.py [--json out.json]

Each case is a fresh Python process that imports tinygan, builds the
``mnist_mlp`` GAN and runs one ``train_step`` at batch 64.  The numba kernels
are compiled on first use and saved (``cache=True``); ``NUMBA_CACHE_DIR``
points both runs at one new temporary directory, so the first run starts from
an empty cache and the second finds everything compiled.  Seconds from process
start; the breakdown comes from inside the process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from _common import ROOT, machine_report, print_report, write_json

CHILD = r"""
import json, time
t0 = time.perf_counter()
import numpy as np
from tinygan import GAN, backend
from tinygan.presets import mnist_mlp
backend.set_backend(BACKEND)
t1 = time.perf_counter()
G, D = mnist_mlp(rng=0)
gan = GAN(G, D, latent_dim=100, rng=1)
real = np.random.default_rng(2).random((64, 784), dtype=np.float32)
t2 = time.perf_counter()
gan.train_step(real)
t3 = time.perf_counter()
gan.train_step(real)
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "build_s": t2 - t1, "first_step_s": t3 - t2,
                  "second_step_s": t4 - t3}))
"""


def run(backend_name: str, cache_dir: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": cache_dir}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD.replace("BACKEND", repr(backend_name))],
                          env=env, capture_output=True, text=True, check=True)
    total = time.perf_counter() - start
    return {"total_s": total, **json.loads(proc.stdout.strip().splitlines()[-1])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    report = machine_report()
    print_report(report)
    results = {}
    with tempfile.TemporaryDirectory(prefix="tinygan-numba-cache-") as cache:
        results["numba, empty cache"] = run("numba", cache)
        results["numba, warm cache"] = run("numba", cache)
        results["numpy backend"] = run("numpy", cache)
    print(f"\n{'seconds from process start':<28}{'total':>8}{'import':>8}{'build':>8}"
          f"{'1st step':>10}{'2nd step':>10}{'compile/load':>14}")
    for name, r in results.items():
        print(f"{name:<28}{r['total_s']:>8.2f}{r['import_s']:>8.2f}{r['build_s']:>8.2f}"
              f"{r['first_step_s']:>10.2f}{r['second_step_s']:>10.3f}"
              f"{r['first_step_s'] - r['second_step_s']:>14.2f}")
    print("(total includes the interpreter's own start; compile/load = 1st step - 2nd step)")
    if args.json:
        write_json(args.json, {"machine": report, "results": results})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
