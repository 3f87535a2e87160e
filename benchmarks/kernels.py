"""Each kernel: its numba twin against its NumPy twin, at the shapes of mnist_mlp.

    python benchmarks/kernels.py [--batch 64] [--dtype float32] [--json out.json]

Microseconds per call (median of round-robin blocks, see ``_common.py``) and
the speed-up.  ``sigmoid_forward`` shows the numba loop that the library does
*not* use (numba calls the scalar libm tanh; ``np.tanh`` is a SIMD loop).
"""

from __future__ import annotations

import argparse

import numpy as np

from _common import machine_report, print_report, round_robin, write_json

from tinygan import backend
from tinygan.kernels import activations as act
from tinygan.kernels import batchnorm as bn
from tinygan.kernels import loss, optim
from tinygan.presets import mnist_mlp


def cases(batch: int, dtype):
    """(name, numpy callable, numba callable) at the sizes one training step uses."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 1024)).astype(dtype)
    dy = rng.standard_normal((batch, 1024)).astype(dtype)
    img = rng.standard_normal((batch, 784)).astype(dtype)
    dimg = rng.standard_normal((batch, 784)).astype(dtype)
    g, b = np.ones(1024, dtype), np.zeros(1024, dtype)
    rm, rv = np.zeros(1024, dtype), np.ones(1024, dtype)
    _, xhat, _, _, inv = bn.batchnorm_train_forward.numpy(x, g, b, 1e-3)
    logits = rng.standard_normal((batch, 1)).astype(dtype)
    G, D = mnist_mlp(rng=0, dtype=dtype)
    params = [p for net in (G, D) for p in net.parameters()]

    def state():
        return [optim.ArrayGroup(a) for a in
                ([p.value.copy() for p in params], [rng.standard_normal(p.value.shape).astype(dtype)
                                                    for p in params],
                 [np.zeros_like(p.value) for p in params], [np.zeros_like(p.value) for p in params])]

    s_np, s_nb = state(), state()
    n_params = sum(p.value.size for p in params)
    out = [
        ("leaky_relu_forward (N,1024)", act.leaky_relu_forward, (x, 0.2)),
        ("leaky_relu_backward (N,1024)", act.leaky_relu_backward, (x, dy, 0.2)),
        ("sigmoid_backward (N,784)", act.sigmoid_backward, (img, dimg)),
        ("tanh_backward (N,1024)", act.tanh_backward, (x, dy)),
        ("batchnorm_train_forward (N,1024)", bn.batchnorm_train_forward, (x, g, b, 1e-3)),
        ("batchnorm_train_backward (N,1024)", bn.batchnorm_train_backward, (dy, xhat, g, inv)),
        ("batchnorm_eval_forward (N,1024)", bn.batchnorm_eval_forward, (x, g, b, rm, rv, 1e-3)),
        ("batchnorm_eval_backward (N,1024)", bn.batchnorm_eval_backward, (dy, xhat, g, inv)),
        ("bce_with_logits (N,1)", loss.bce_with_logits, (logits, 1.0)),
        ("logit_stats (N,1)", loss.logit_stats, (logits,)),
        ("running_average (1024), in place", bn.running_average, (rm.copy(), g, 0.8)),
        ("bias_grad (N,1024)", optim.bias_grad, (dy,)),
    ]
    rows = [(name, (lambda k=k, a=a: k.numpy(*a)), (lambda k=k, a=a: k.numba(*a)))
            for name, k, a in out]
    rows.append(("sigmoid_forward (N,784) [numba loop unused]",
                 lambda: act.sigmoid_forward_numpy(img), lambda: act.sigmoid_forward_numba(img)))
    rows.append((f"adam_update_all ({n_params / 1e6:.2f} M params)",
                 lambda: optim.adam_update_all.numpy(*s_np, 2e-4, 0.5, 0.999, 1e-8, 10),
                 lambda: optim.adam_update_all.numba(*s_nb, 2e-4, 0.5, 0.999, 1e-8, 10)))
    rows.append((f"sgd_update_all ({n_params / 1e6:.2f} M params, momentum)",
                 lambda: optim.sgd_update_all.numpy(*s_np[:3], 1e-3, 0.9),
                 lambda: optim.sgd_update_all.numba(*s_nb[:3], 1e-3, 0.9)))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    if not backend.numba_available():
        raise SystemExit("numba is not installed: there is nothing to compare")
    report = machine_report()
    print_report(report)
    print(f"\nmicroseconds per call, batch {args.batch}, {args.dtype} "
          f"(median of {args.repeats} x {args.iterations})")
    print(f"{'kernel':<52}{'numpy':>10}{'numba':>10}{'speed-up':>10}")
    results = {}
    for name, f_np, f_nb in cases(args.batch, np.dtype(args.dtype).type):
        r = round_robin({"numpy": f_np, "numba": f_nb}, args.iterations, args.repeats, warmup=3)
        us_np, us_nb = r["numpy"]["median_ms"] * 1e3, r["numba"]["median_ms"] * 1e3
        results[name] = {"numpy_us": us_np, "numba_us": us_nb, "speedup": us_np / us_nb}
        print(f"{name:<52}{us_np:>10.1f}{us_nb:>10.1f}{us_np / us_nb:>9.1f}x", flush=True)
    if args.json:
        write_json(args.json, {"machine": report, "batch": args.batch, "dtype": args.dtype,
                               "results": results})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
