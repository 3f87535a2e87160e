"""Plumbing shared by the benchmarks: timing, the BLAS report, the import path.

Not library code.  Timings on a shared machine are noisy, so every benchmark
here times its candidates *round-robin* (one block of A, one of B, one of A ...)
and reports medians: a burst of load from elsewhere then hits all candidates
alike, and their ratios stay meaningful.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "NUMBA_NUM_THREADS", "TINYGAN_BACKEND")


def round_robin(candidates: dict, iterations: int, repeats: int, warmup: int = 10) -> dict:
    """Median milliseconds per call of each zero-argument callable.

    Each candidate first runs ``warmup`` times; then ``repeats`` rounds, each
    timing ``iterations`` consecutive calls of every candidate in turn.
    Returns ``{name: {"median_ms", "min_ms", "runs_ms"}}``.
    """
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    runs = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            t0 = time.perf_counter()
            for _ in range(iterations):
                fn()
            runs[name].append((time.perf_counter() - t0) / iterations * 1e3)
    return {name: {"median_ms": statistics.median(r), "min_ms": min(r), "runs_ms": r}
            for name, r in runs.items()}


def blas_info() -> list[dict]:
    """What threadpoolctl sees: library, kernel (architecture) and thread count of each pool."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed: pip install threadpoolctl"}]
    keep = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads",
            "threading_layer")
    return [{k: info.get(k) for k in keep if k in info} for info in threadpool_info()]


def blas_threads() -> int:
    """Threads of NumPy's BLAS (1 when it cannot be told)."""
    for info in blas_info():
        if info.get("user_api") == "blas" and info.get("num_threads"):
            return int(info["num_threads"])
    return 1


def machine_report() -> dict:
    """Everything a reader needs to compare a table with their own."""
    import numpy as np
    report = {"python": platform.python_version(), "numpy": np.__version__,
              "cpu": _cpu_name(), "cores": os.cpu_count(),
              "env": {k: os.environ.get(k) for k in ENV_VARS},
              "blas": blas_info()}
    try:
        import numba
        report["numba"] = numba.__version__
        report["numba_threads"] = numba.get_num_threads()
        report["numba_threading_layer"] = numba.config.THREADING_LAYER
    except ImportError:
        report["numba"] = None
    try:
        with open("/proc/loadavg") as f:
            report["loadavg_1min"] = float(f.read().split()[0])
    except OSError:
        pass
    return report


def print_report(report: dict, file=sys.stdout):
    print(f"python {report['python']}, numpy {report['numpy']}, numba {report.get('numba')} "
          f"({report.get('numba_threads')} threads), {report['cores']} cores: {report['cpu']}",
          file=file)
    for b in report["blas"]:
        print("thread pool: " + ", ".join(f"{k}={v}" for k, v in b.items()), file=file)
    env = {k: v for k, v in report["env"].items() if v is not None}
    print("environment: " + (", ".join(f"{k}={v}" for k, v in env.items()) or "(none of "
                             + ", ".join(ENV_VARS) + " set)"), file=file)
    if "loadavg_1min" in report:
        print(f"load average (1 min) at start: {report['loadavg_1min']:.2f} "
              f"-- other processes compete for the {report['cores']} cores", file=file)


def write_json(path: str, data: dict):
    """Write ``data`` as JSON atomically (temp file in the same directory, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
