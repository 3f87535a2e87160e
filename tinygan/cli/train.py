"""``tinygan train``: train a GAN and leave its pictures, log and checkpoint in a run directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinygan.checkpoint import CheckpointError
from tinygan.cli._environment import blas_thread_count
from tinygan.cli._output import check_given
from tinygan.config import DEFAULT_ITERATIONS, FRAMES, ConfigError, TrainConfig
from tinygan.datasets import DATASETS, DatasetError
from tinygan.gan import NOISES
from tinygan.losses import GENERATOR_LOSSES
from tinygan.progress import counted
from tinygan.registry import PRESETS
from tinygan.callbacks import Callback
from tinygan.run_folder import holds_run
from tinygan.training import OutOfMemory, Trainer

# Command-line option -> TrainConfig field (argparse's dest is the same name).
OPTIONS = ("dataset", "preset", "iterations", "batch_size", "latent_dim", "lr", "lr_decay",
           "beta1", "beta2", "loss", "noise", "d_steps", "label_smoothing", "d_half_batch",
           "feature_matching", "g_batch_scale", "d_eval_in_g_step", "codes", "info_weight",
           "ema", "pack", "minibatch_std", "d_dropout", "seed", "sample_every",
           "checkpoint_every", "log_every", "eval_every", "dtype", "out")


def _recipe(text: str, example: str = "") -> str:
    """Help text for an option whose default comes from the preset's recipe."""
    return f"{text} (default: the preset's recipe, tinygan/recipes.py{example})"


def add_parser(subparsers):
    d = TrainConfig()
    p = subparsers.add_parser(
        "train", help="train a GAN (default: the MLP GAN on the embedded MNIST digits)",
        description="Train a GAN. With no options: the MLP GAN of the Keras tutorial on 10,000 "
                    "embedded MNIST digits, about 3 minutes on a 2-core CPU. Everything goes to "
                    "--out: config.json, history.csv, samples/, losses.png, stats.png, "
                    "real_vs_generated.png, progress.gif and checkpoint.npz.",
        argument_default=None)   # each help says its default; None = "not given"
    data = p.add_argument_group("data and model")
    data.add_argument("--dataset", choices=DATASETS, help=f"data to learn (default: {d.dataset})")
    data.add_argument("--preset", choices=tuple(PRESETS),
                      help="architecture (default: mnist-mlp for images, mixture-mlp for ring/grid)")
    data.add_argument("--latent-dim", type=int, help="width of the noise z (default: the "
                      "preset's: 100 for MNIST, 2 for the 2-D presets)")
    data.add_argument("--noise", choices=NOISES, help=f"distribution of z (default: {d.noise})")
    data.add_argument("--dtype", choices=("float32", "float64"), help="default: float32")
    data.add_argument("--pack", type=int, help=_recipe(
        "PacGAN: D judges PACK samples at once", "; 2 on the ring"))
    data.add_argument("--minibatch-std", action=argparse.BooleanOptionalAction,
                      help=_recipe("a minibatch standard-deviation feature in D"))
    data.add_argument("--d-dropout", type=float,
                      help=_recipe("dropout rate after D's hidden layers"))
    data.add_argument("--codes", type=int, help=_recipe(
        "InfoGAN: G also reads a one-hot code with this many values, which D learns to "
        "read back; 0: off"))
    data.add_argument("--info-weight", type=float,
                      help=_recipe("InfoGAN: weight of the code's loss"))
    opt = p.add_argument_group("optimisation")
    opt.add_argument("--iterations", type=int, help=_recipe(
        "total generator steps", f"; {DEFAULT_ITERATIONS} for mnist-mlp"))
    opt.add_argument("--batch-size", type=int, help=_recipe("real samples per discriminator step"))
    opt.add_argument("--lr", type=float, help=_recipe("Adam learning rate"))
    opt.add_argument("--lr-decay", type=float, help=_recipe(
        "final learning rate as a fraction of --lr, reached linearly over the second half "
        "of the run; 1: constant"))
    opt.add_argument("--beta1", type=float,
                     help=_recipe("Adam beta1, the decay of its running mean of the gradient"))
    opt.add_argument("--beta2", type=float,
                     help=_recipe("Adam beta2, the decay of its running mean of the squared "
                                  "gradient"))
    opt.add_argument("--loss", choices=GENERATOR_LOSSES,
                     help=f"generator loss (default: {d.loss})")
    opt.add_argument("--d-steps", type=int,
                     help=_recipe("discriminator steps per generator step"))
    opt.add_argument("--label-smoothing", type=float,
                     help=_recipe("one-sided: real targets become 1 - s"))
    opt.add_argument("--d-half-batch", action=argparse.BooleanOptionalAction,
                     help=_recipe("Keras DCGAN schedule: D sees half a batch of real and of fake"))
    opt.add_argument("--feature-matching", action=argparse.BooleanOptionalAction,
                     help=_recipe("G matches the mean of D's features of real data"))
    opt.add_argument("--g-batch-scale", type=int, help=_recipe(
        "G's batch as a multiple of --batch-size: G's step draws this many times as many fakes"))
    opt.add_argument("--d-eval-in-g-step", action=argparse.BooleanOptionalAction,
                     help=_recipe("G's step runs D in eval mode (no dropout)"))
    opt.add_argument("--ema", type=float, help=_recipe(
        "decay of a moving average of G's weights, which samples and pictures are drawn "
        "with; 0: off", "; 0.999 for mnist-mlp"))
    opt.add_argument("--seed", type=int, help=f"default: {d.seed}")
    out = p.add_argument_group("output")
    out.add_argument("--out", help="run directory (default: runs/<preset>-<dataset>, or a "
                     "numbered sibling if that already holds a run)")
    out.add_argument("--sample-every", type=int,
                     help=f"iterations between sample grids (default: iterations / {FRAMES})")
    out.add_argument("--checkpoint-every", type=int, help="default: --sample-every")
    out.add_argument("--log-every", type=int,
                     help=f"iterations averaged per history.csv row (default: {d.log_every})")
    out.add_argument("--eval-every", type=int,
                     help="iterations between evaluation callbacks (default: 0, never)")
    out.add_argument("--resume", nargs="?", const=True, metavar="CHECKPOINT",
                     help="continue a run: from CHECKPOINT (a .npz or a run directory), or "
                          "from --out's checkpoint.npz; only --iterations and the output "
                          "options may change")
    out.add_argument("--overwrite", action="store_true",
                     help="train into --out even if it holds a run (its files are replaced)")
    out.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return p


def make_callbacks(config: TrainConfig) -> list[Callback]:
    """The callbacks a run gets: the one place to plug in e.g. evaluation every --eval-every."""
    callbacks: list[Callback] = []
    if config.eval_every:
        from tinygan.metrics.callback import MetricsCallback  # loads the classifier: only if asked
        callbacks.append(MetricsCallback())
    return callbacks


def run(args) -> int:
    given = {k: getattr(args, k) for k in OPTIONS if getattr(args, k, None) is not None}
    say = (lambda *a: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        blas_threads = blas_thread_count()   # checked by tinygan.cli.main already
        # e.g. --resume "$RUN" with RUN unset: not a fresh run
        check_given(args.resume, "--resume", "give a checkpoint or a run directory, or "
                                             "--resume alone for --out's run")
        if args.resume:
            path = args.resume if isinstance(args.resume, str) else _default_out(given)
            trainer = Trainer.resume(path, given, progress=not args.quiet,
                                     overwrite=args.overwrite)
            trainer.callbacks = make_callbacks(trainer.config)
        else:
            config = TrainConfig(**given).resolved(given=given)
            if "out" not in given and not args.overwrite:
                config.out = _free_dir(config.out, say)
            trainer = Trainer(config, callbacks=make_callbacks(config), progress=not args.quiet,
                              overwrite=args.overwrite)
    except (ConfigError, CheckpointError, DatasetError, OutOfMemory) as exc:
        print(f"tinygan train: error: {exc}", file=sys.stderr)
        return 2
    say(_summary(trainer, bool(args.resume)))
    try:
        with _blas_threads(blas_threads):
            result = trainer.fit()
    except OutOfMemory as exc:   # refused (2) unless it failed after training started (1)
        print(f"tinygan train: error: {exc}", file=sys.stderr)
        return 1 if exc.trained else 2
    except OSError as exc:
        print(f"tinygan train: error: cannot write {exc.filename or trainer.out}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    print(result.message, file=sys.stderr)
    if result.stats:
        s, (first, last) = result.stats, result.logged
        span = f"iteration {last:,}" if first == last else f"iterations {first:,}-{last:,}"
        say(f"mean of {span}: D loss {s['d_loss']:.3f}, G loss "
            f"{s['g_loss']:.3f}, D(x) {s['d_x']:.3f}, D(G(z)) {s['d_g_z']:.3f}, "
            f"D accuracy {s['d_acc']:.1%}"
            + (f", Q's code loss {s['q_loss']:.3f}" if "q_loss" in s else "")
            + f"; {result.seconds:.0f} s")
    return result.exit_code


def _blas_threads(n: int):
    """Limit BLAS to ``n`` threads (``$TINYGAN_BLAS_THREADS``, default 1) while training.

    The matrices of a GAN step are small (64 x 1024): a second OpenBLAS thread
    saves little on an idle machine (14 -> ~18 ms a step with one), but its
    spin-waiting makes a step 5-10x slower as soon as anything else wants a core
    (measured 35 ms with one thread, 171 ms with two, on a busy 2-core machine),
    and Adam must take back from the second core every weight it read, which on
    some hosts costs 5 ms a step (``benchmarks/step_breakdown.py``).
    """
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=n, user_api="blas")


def _default_out(given: dict) -> str:
    """The run directory ``--resume`` without a path continues: --out, else the default.

    Only --dataset and --preset name the default; the other options are compared
    with the checkpoint's settings by :meth:`Trainer.resume`.
    """
    named = {k: given[k] for k in ("dataset", "preset") if k in given}
    return given.get("out") or TrainConfig(**named).resolved().out


def _free_dir(base: str, say) -> str:
    """``base``, or ``base-2``, ``base-3``, ... -- the first that holds no run."""
    candidate, k = Path(base), 1
    while holds_run(candidate):
        k += 1
        candidate = Path(f"{base}-{k}")
    if k > 1:
        say(f"{base} already holds a run (continue it with --resume); this run goes to "
            f"{candidate}")
    return str(candidate)


def _summary(trainer: Trainer, resumed: bool) -> str:
    c, feed = trainer.config, trainer.feed
    data = f"{feed.n_samples:,} images" if feed.n_samples else "a 2-D mixture"
    g = sum(p.value.size for p in trainer.gan.generator.parameters())
    d = sum(p.value.size for p in trainer.gan.discriminator.parameters())
    start = f"resuming at iteration {trainer.iteration:,}, " if resumed else ""
    return (f"tinygan: {c.preset} on {c.dataset} ({data}); G {g:,} and D {d:,} trainable "
            f"parameters; {start}{counted(c.iterations, 'iteration')} of batch {c.batch_size}, "
            f"seed {c.seed} -> {c.out}/")

