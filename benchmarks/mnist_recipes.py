"""Screen training recipes for mnist-mlp: train, then score 2,000 samples every N steps.

The figures in ``tinygan/recipes.py`` (the mnist-mlp notes) come from this
script.  It trains in-process, exactly as ``tinygan train`` builds the GAN
(``tinygan.build.build_gan``), with any ``TrainConfig`` settings given as
``name=value``, and prints classes present, KL to uniform, classifier score
and Frechet distance (as a multiple of the real-vs-real floor) on 2,000
samples: cheaper than ``tinygan evaluate``'s 10,000, and so a little higher
on the Frechet ratio.  One BLAS thread, as ``tinygan train`` uses.

    python benchmarks/mnist_recipes.py                        # the default recipe, seed 0
    python benchmarks/mnist_recipes.py lr=2e-4 pack=2 ema=0   # another recipe
    python benchmarks/mnist_recipes.py --seed 1 --every 1000 lr=8e-4
"""

from __future__ import annotations

import argparse
import ast
import time

import numpy as np

import _common  # noqa: F401  (puts the repository on sys.path)
from threadpoolctl import threadpool_limits

from tinygan.build import build_gan
from tinygan.config import TrainConfig
from tinygan.datasets import Batches, load
from tinygan.metrics.classifier import load_classifier
from tinygan.metrics.evaluate import evaluate_images, real_reference
from tinygan.optim import linear_decay

SHOWN = ("modes_present", "kl_uniform", "classifier_score", "frechet_ratio")


def setting(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(f"{text!r}: expected name=value, e.g. lr=8e-4") from None


def flatten(metrics: dict) -> dict:
    flat = {}
    for k, v in metrics.items():
        flat.update(v if isinstance(v, dict) else {k: v})
    return flat


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("settings", nargs="*", type=setting, help="TrainConfig settings, name=value")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iterations", type=int, default=5000)
    p.add_argument("--every", type=int, default=2500, help="score every N iterations")
    args = p.parse_args(argv)
    c = TrainConfig(iterations=args.iterations, seed=args.seed, **dict(args.settings)).resolved()
    print({k: getattr(c, k) for k in ("lr", "beta1", "beta2", "d_dropout", "label_smoothing",
                                      "pack", "ema", "batch_size", "lr_decay", "g_batch_scale",
                                      "d_eval_in_g_step", "codes", "info_weight")}, flush=True)
    gan = build_gan(c, model_rng=c.seed, gan_rng=c.seed)
    images, _ = load(c.dataset)
    batches = Batches(images, c.batch_size, rng=np.random.default_rng(c.seed))
    reference = real_reference(c.dataset, load_classifier("mnist"))
    start = time.perf_counter()
    with threadpool_limits(1):
        for it in range(1, c.iterations + 1):
            if c.lr_decay != 1.0:
                gan.g_optimizer.lr = gan.d_optimizer.lr = c.lr * linear_decay(
                    it, c.iterations, c.lr_decay)
            gan.train_step(batches.next_batch)
            if it % args.every == 0 or it == c.iterations:
                m = flatten(evaluate_images(gan.sample(2000, rng=1), c.dataset,
                                            reference=reference))
                print(f"seed {c.seed} iteration {it} ({time.perf_counter() - start:.0f} s): "
                      + "  ".join(f"{k} {m[k]:.3f}" if isinstance(m[k], float) else f"{k} {m[k]}"
                                  for k in SHOWN), flush=True)


if __name__ == "__main__":
    main()
