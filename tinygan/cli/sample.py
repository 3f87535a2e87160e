"""``tinygan sample``: draw new samples from a trained generator.

``.png`` writes a picture (a grid of images, or for 2-D data a scatter over
the real mixture); ``.npy`` writes the raw samples: (N, 28, 28) images in the
preset's data range ([0, 1] for mnist-mlp, [-1, 1] for a Tanh generator), or
(N, 2) points.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from tinygan import plots
from tinygan.checkpoint import CheckpointError, load_checkpoint
from tinygan.cli._output import cannot_write, check_given, check_out
from tinygan.config import ConfigError
from tinygan.datasets import get_mixture
from tinygan.files import atomic_write
from tinygan.progress import counted
from tinygan.registry import get_preset
from tinygan.build import load_gan

SUFFIXES = (".png", ".npy")
CHUNK = 1000   # samples per forward pass: bounded memory for any N
# All samples are held in memory before they are written, so -n is bounded up front
# rather than by a MemoryError halfway: 100,000 images are 314 MB of float32, and a
# picture of 10,000 is already a 100 x 100 grid, 6,000 pixels a side.
MAX_SAMPLES = {".npy": 100_000, ".png": 10_000}


def add_parser(subparsers):
    p = subparsers.add_parser("sample", help="draw samples from a trained generator",
                              description=__doc__.split("\n\n", 1)[1])
    p.add_argument("--checkpoint", required=True,
                   help="a checkpoint.npz, or the run directory that holds one")
    p.add_argument("-n", type=int, default=25, help="number of samples (default: 25)")
    p.add_argument("--out", required=True, help="output file: .png (picture) or .npy (raw)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    p.add_argument("--code", type=int, default=None,
                   help="for a run trained with --codes: draw every sample with this value of "
                        "the code (default: random)")
    return p


def generate(gan, n: int, seed: int, *, image: bool, code: int | None = None) -> np.ndarray:
    """n samples in the data's range, images as (n, 28, 28), points as (n, 2)."""
    rng = np.random.default_rng(seed)
    with gan.sampling() as G:   # set up once (e.g. the weight average), then chunk by chunk
        parts = [G.forward(gan.sample_noise(min(CHUNK, n - i), rng, code))
                 for i in range(0, n, CHUNK)]
    x = np.concatenate(parts).astype(np.float32, copy=False)
    return x.reshape(n, 28, 28) if image else x


def check_args(args, out: Path):
    """Reject bad options before the checkpoint is even read (raises ConfigError)."""
    check_given(args.checkpoint, "--checkpoint", "give a checkpoint or a run directory")
    check_given(args.out, "--out", f"give a file name ending in {' or '.join(SUFFIXES)}")
    check_out(out, SUFFIXES)
    limit = MAX_SAMPLES[out.suffix.lower()]
    if args.n < 1:
        raise ConfigError(f"-n must be at least 1, got {args.n}")
    if args.n > limit:
        raise ConfigError(f"-n {args.n:,} is too many for a {out.suffix.lower()} file: at most "
                          f"{limit:,} (all samples are held in memory); use a smaller -n")
    if args.seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {args.seed}")


def write_samples(out: Path, x: np.ndarray, spec, config, n: int):
    """Write the samples ``x`` as ``.npy`` or as a picture, atomically."""
    if out.suffix.lower() == ".npy":
        # A file object, not a name: np.save would add ".npy" to a name that does
        # not end in lower-case ".npy" (X.NPY, or a temporary name).
        with atomic_write(out) as f:
            np.save(f, x)
    elif spec.data == "image":
        images = plots.to_unit(x, spec.value_range)
        plots.save_grid(out, images, ncols=math.ceil(math.sqrt(n)))
    else:
        reference = get_mixture(config.dataset).sample(2000, np.random.default_rng(0))
        plots.save_scatter(out, x, reference, f"{n:,} samples")


def run(args) -> int:
    out = Path(args.out)
    try:
        check_args(args, out)
        ckpt = load_checkpoint(args.checkpoint)
        gan, config = load_gan(ckpt)
        if args.code is not None and not (gan.codes and 0 <= args.code < gan.codes):
            raise ConfigError(f"--code {args.code}: " + (
                f"{ckpt.path} was trained with --codes {gan.codes}: use 0..{gan.codes - 1}"
                if gan.codes else f"{ckpt.path} was trained without --codes"))
    except (ConfigError, CheckpointError) as exc:
        print(f"tinygan sample: error: {exc}", file=sys.stderr)
        return 2
    spec = get_preset(config.preset)
    x = generate(gan, args.n, args.seed, image=spec.data == "image", code=args.code)
    if not np.isfinite(x).all():
        print(f"tinygan sample: error: {ckpt.path} produces NaN or infinite samples",
              file=sys.stderr)
        return 1
    try:
        write_samples(out, x, spec, config, args.n)
    except OSError as exc:   # checked above, but a disk can fill up or a directory vanish
        print(cannot_write("sample", out, exc), file=sys.stderr)
        return 1
    print(f"wrote {counted(args.n, 'sample')} of {ckpt.path} (iteration {ckpt.iteration:,}) to {out}",
          file=sys.stderr)
    return 0

