"""``tinygan evaluate``: measure a trained generator.

Image data: 10,000 samples are read by the evaluation classifier shipped for
the data set (see ``tinygan.metrics``): classes present, KL of the class
histogram to uniform, classifier score, confident share, Frechet distance of
penultimate-layer features to real data beside the real-vs-real floor, and
pixel mean/std.  2-D mixtures: 2,500 samples scored by the VEEGAN/PacGAN
protocol (modes covered, % high-quality, reverse KL).  Prints a table and
writes ``metrics.json`` beside the checkpoint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from tinygan.checkpoint import CheckpointError, load_checkpoint
from tinygan.cli._output import cannot_write, check_given, check_out
from tinygan.files import atomic_write
from tinygan.registry import get_preset

# The samples, and for images the classifier's features of them, are held in memory:
# 50,000 images (the sample count of the usual "FID-50k") take about 1.4 GB.
MAX_SAMPLES = 50_000


def add_parser(subparsers):
    p = subparsers.add_parser("evaluate", help="measure a trained generator (metrics.json)",
                              description=__doc__.split("\n\n", 1)[1])
    p.add_argument("checkpoint", metavar="RUN_DIR_OR_CHECKPOINT",
                   help="a checkpoint.npz, or the run directory that holds one")
    p.add_argument("-n", type=int, default=None,
                   help="samples to draw (default: 10,000 for images, 2,500 for 2-D mixtures)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    p.add_argument("--out", default=None,
                   help="where to write the JSON, a .json file (default: metrics.json beside "
                        "the checkpoint)")
    return p


def evaluate_gan(gan, dataset: str, preset: str, n: int | None = None, seed: int = 0,
                 reference=None) -> dict:
    """Every metric for ``n`` samples of ``gan`` trained on ``dataset`` with ``preset``."""
    from tinygan.cli.sample import generate
    from tinygan.metrics.evaluate import evaluate_images, evaluate_mixture
    spec = get_preset(preset)
    image = spec.data == "image"
    n = n or (10_000 if image else 2_500)
    x = generate(gan, n, seed, image=image)
    if not np.isfinite(x).all():
        raise FloatingPointError("the generator produces NaN or infinite samples")
    if image:
        return evaluate_images(x, dataset, value_range=spec.value_range, reference=reference)
    return evaluate_mixture(x, dataset)


def format_table(m: dict) -> str:
    """The metrics as aligned ``name  value`` lines."""
    if "modes" in m:
        rows = [("samples", f"{m['n']:,}"),
                ("modes covered", f"{m['modes']} / {m['n_modes']}"),
                ("high-quality", f"{100 * m['high_quality']:.1f} %"),
                ("reverse KL", f"{m['reverse_kl']:.4f}")]
    else:
        rows = [("samples", f"{m['n']:,}"),
                ("classes present (>= 5%)", f"{m['modes_present']} / {m['n_classes']}"),
                ("class histogram (%)", " ".join(f"{100 * h:.0f}" for h in m["histogram"])),
                ("KL(histogram || uniform)", f"{m['kl_uniform']:.4f}"),
                ("classifier score", f"{m['classifier_score']:.2f}  (real data: "
                                     f"{m['real_classifier_score']:.2f}, max {m['n_classes']})"),
                ("confident (max p >= 0.9)", f"{100 * m['confident']:.1f} %"),
                ("Frechet distance", f"{m['frechet']:.3f}"),
                ("real-vs-real floor", f"{m['frechet_floor']:.3f}  (ratio "
                                       f"{m['frechet_ratio']:.1f}x, {m['n_real']:,} real images "
                                       "in two halves)"),
                ("pixel mean / std", f"{m['mean']:.3f} / {m['std']:.3f}  (real: "
                                     f"{m['real_mean']:.3f} / {m['real_std']:.3f})")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def run(args) -> int:
    from tinygan.config import ConfigError
    from tinygan.build import load_gan
    try:
        check_given(args.checkpoint, "RUN_DIR_OR_CHECKPOINT", "give a checkpoint or a run "
                    "directory")
        check_given(args.out, "--out", "give a .json file name, or leave --out out for "
                    "metrics.json beside the checkpoint")
        if args.n is not None and args.n < 4:
            raise ConfigError(f"-n must be at least 4, got {args.n}")
        if args.n is not None and args.n > MAX_SAMPLES:
            raise ConfigError(f"-n {args.n:,} is too many: at most {MAX_SAMPLES:,} (the samples "
                              "and their features are held in memory); use a smaller -n")
        if args.seed < 0:
            raise ConfigError(f"--seed must be >= 0, got {args.seed}")
        ckpt = load_checkpoint(args.checkpoint)
        gan, config = load_gan(ckpt)
        out = Path(args.out) if args.out is not None else ckpt.path.parent / "metrics.json"
        check_out(out, (".json",))   # before the minutes of work, and never onto the checkpoint
        metrics = evaluate_gan(gan, config.dataset, config.preset, args.n, args.seed)
    except (ConfigError, CheckpointError, ValueError) as exc:
        print(f"tinygan evaluate: error: {exc}", file=sys.stderr)
        return 2
    except FloatingPointError as exc:
        print(f"tinygan evaluate: error: {ckpt.path}: {exc}", file=sys.stderr)
        return 1
    metrics = {"checkpoint": str(ckpt.path), "iteration": ckpt.iteration,
               "dataset": config.dataset, "preset": config.preset, "seed": args.seed, **metrics}
    print(f"{ckpt.path} (iteration {ckpt.iteration:,}, {config.dataset}, {config.preset})")
    print(format_table(metrics))
    try:
        with atomic_write(out, "w") as f:
            f.write(json.dumps(metrics, indent=2) + "\n")
    except OSError as exc:   # checked above, but a disk can fill up or a directory vanish
        print(cannot_write("evaluate", out, exc), file=sys.stderr)
        return 1
    print(f"wrote {out}", file=sys.stderr)
    return 0
