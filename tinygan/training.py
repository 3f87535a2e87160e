"""The training loop as a library: ``Trainer(config).fit()``.

One iteration is one call of :meth:`tinygan.GAN.train_step` (``d_steps``
discriminator updates, then one generator update).  Around it the loop:

* logs the mean D loss, G loss, D(x), D(G(z)) and D accuracy (and, with
  InfoGAN's code, Q's cross-entropy ``q_loss``) of every ``log_every`` steps
  into ``history.csv``, and shows the latest in a tqdm bar (off a terminal: in a
  plain line at every tenth of the run, see :mod:`tinygan.progress`);
* every ``sample_every`` steps draws the generator's output for one *fixed*
  noise batch (so the frames are comparable) as a grid, or for 2-D data a
  scatter over the real mixture, and records its mean and spread;
* every ``checkpoint_every`` steps writes ``checkpoint.npz`` -- but only if
  every weight is finite, so a good checkpoint is never replaced by a broken one;
* stops cleanly on Ctrl-C / SIGTERM (checkpoint first) and on a NaN or
  infinite loss (keeping the last good checkpoint);
* calls :class:`Callback` hooks: every step, and every ``eval_every`` steps
  (``on_eval``) for measurements such as the metrics of ``tinygan.metrics``.

At the end it draws ``losses.png``, ``stats.png``, ``real_vs_generated.png``
and ``progress.gif``.  Nothing in the loop draws from the random generators
except the GAN and the data feed, whose states are checkpointed, so a resumed
run computes the same bits as one that never stopped.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

import tinygan
from tinygan import plots
from tinygan.backend import arithmetic, get_backend
from tinygan.build import build_gan
from tinygan.checkpoint import CheckpointError, restore_feed, restore_gan, save_checkpoint
from tinygan.config import ConfigError, TrainConfig
from tinygan.datasets import DestinationError
from tinygan.datasets.folders import writable_folder
from tinygan.feeds import make_feed
from tinygan.files import atomic_write
from tinygan.history import History
from tinygan.optim import linear_decay
from tinygan.progress import Lines, counted, on_terminal
from tinygan.signals import catch_signals
from tinygan.state import saved_scalar
from tinygan.registry import get_preset
from tinygan.resuming import decay_note, resumed_config
from tinygan.run_folder import OUTPUTS, frames, holds_run, remove_stale_temps

LOGGED = ("d_loss", "g_loss", "d_x", "d_g_z", "d_acc")
INFO_LOGGED = ("q_loss",)   # also logged when the GAN has InfoGAN's code
EXIT_CODES = {"done": 0, "diverged": 1, "SIGINT": 130, "SIGTERM": 143}


class OutOfMemory(Exception):
    """Training needs more memory than there is; the message says what to make smaller.

    ``trained`` tells whether any step was done in this call of
    :meth:`Trainer.fit` (then the run failed while running, rather than being
    refused before it started).
    """

    def __init__(self, message: str, trained: bool = False):
        super().__init__(message)
        self.trained = trained


@dataclass
class TrainResult:
    """How :meth:`Trainer.fit` ended."""

    status: str            # "done", "diverged", "SIGINT" or "SIGTERM"
    iteration: int         # last iteration completed
    message: str
    stats: dict            # the last logged means of LOGGED (and INFO_LOGGED with codes)
    seconds: float         # wall time of this call of fit()
    logged: tuple[int, int] | None = None   # the first and last iteration ``stats`` average

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


class Trainer:
    """Build a GAN, its data and its output directory from a :class:`TrainConfig`.

    Parameters
    ----------
    config : TrainConfig
    callbacks : sequence of Callback
    progress : bool
        Show the progress: the tqdm bar if stderr is a terminal, else a plain
        line at every tenth of the run.
    overwrite : bool
        Allow training into a directory that already holds a run (its
        pictures and checkpoint are replaced).
    echo : callable
        Where messages go (default: stderr, without breaking the bar).

    Raises
    ------
    ConfigError, DatasetError, CheckpointError
        Before anything is written.
    """

    def __init__(self, config: TrainConfig, *, callbacks=(), progress: bool = True,
                 overwrite: bool = False, echo=None, _checkpoint=None):
        self.config = config.resolved()
        try:   # a bad $TINYGAN_BACKEND would otherwise surface at the first kernel call
            get_backend()
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.callbacks = list(callbacks)
        self.progress, self.echo = progress, echo or _echo
        self.out = Path(self.config.out)
        try:   # before the data is loaded; nothing is created yet
            writable_folder(self.out, create=False)
        except DestinationError as exc:
            raise ConfigError(f"--out {self.out}: {exc}") from None
        self.spec = get_preset(self.config.preset)
        self.checkpoint_path = self.out / "checkpoint.npz"
        if _checkpoint is None and not overwrite and holds_run(self.out):
            raise ConfigError(f"{self.out} already holds a run; continue it with --resume, "
                              "replace it with --overwrite, or choose another --out")
        self.overwrite = overwrite
        c = self.config
        seeds = np.random.SeedSequence(c.seed).spawn(4)   # independent streams per purpose
        model_rng, gan_rng, self.feed_rng, noise_rng = map(np.random.default_rng, seeds)
        self.resumed = _checkpoint is not None
        try:
            self.feed = make_feed(c, self.spec, self.feed_rng)   # may raise DatasetError
            self.gan = build_gan(c, model_rng, gan_rng)
            n_fixed = 100 if self.spec.data == "image" else 1000
            self.fixed_z = self.gan.sample_noise(n_fixed, rng=noise_rng)
        except MemoryError as exc:
            raise self._out_of_memory(exc) from None
        self.iteration, self.elapsed = 0, 0.0
        self.logged = LOGGED + (INFO_LOGGED if self.gan.codes else ())
        self._sums, self._count = np.zeros(len(self.logged)), 0
        self.history = History()
        self.last_stats: dict = {}
        self.last_logged: tuple[int, int] | None = None   # the iterations last_stats averages
        self.saved_iteration: int | None = None
        self.saved_path: Path | None = None   # the checkpoint holding saved_iteration's state
        self.branched = False      # resumed into another folder than its checkpoint's
        self._stop: str | None = None
        self.resumed_arithmetic: dict = {}   # the backend and BLAS threads of the checkpoint
        self._arithmetic_now: dict | None = None   # this run's, once fit() knows them
        if _checkpoint is not None:
            self._restore(_checkpoint)

    # -- resuming -------------------------------------------------------------------
    @classmethod
    def resume(cls, path, overrides: dict | None = None, **kwargs) -> Trainer:
        """A trainer continuing the run saved in ``path`` (a checkpoint or a run directory).

        ``overrides`` may change only the settings in
        :data:`tinygan.resuming.RESUMABLE`
        (e.g. ``{"iterations": 20000}``); any other difference from the
        checkpoint's config is an error, since it would not continue *that* run.
        (With ``lr_decay`` < 1 the schedule follows the planned total, so a
        larger ``iterations`` also stretches the rest of the decay.)
        """
        ckpt, config = resumed_config(path, overrides, kwargs.get("overwrite", False))
        trainer = cls(config, _checkpoint=ckpt, **kwargs)
        note = decay_note(ckpt, config)
        if note:
            trainer.echo(note)
        return trainer

    def _restore(self, ckpt):
        restore_gan(ckpt, self.gan)
        restore_feed(ckpt, self.feed.batches, self.feed_rng)
        extra = ckpt.group("extra")
        try:
            fixed_z, sums = extra["fixed_z"], extra["log_sums"]
            if sums.shape == (len(LOGGED),) and len(self.logged) > len(LOGGED):
                # saved before q_loss was logged: its first mean after the resume would
                # miss the steps before it, so that one row leaves the cell empty (NaN)
                sums = np.concatenate([sums, np.full(len(self.logged) - len(LOGGED), np.nan)])
            if fixed_z.shape != self.fixed_z.shape or sums.shape != self._sums.shape:
                raise ValueError("wrong shape of fixed_z or log_sums")
            self.fixed_z, self._sums = fixed_z.astype(self.fixed_z.dtype), sums.astype(float)
            self._count = saved_scalar(extra["log_count"], "extra/log_count")
            self.elapsed = saved_scalar(extra["elapsed"], "extra/elapsed", "iuf",
                                        "a number of seconds >= 0")
            # (a checkpoint from before they were recorded has neither: nothing to compare)
            if "backend" in extra:
                self.resumed_arithmetic["backend"] = saved_scalar(
                    extra["backend"], "extra/backend", "U", "a name")
            if "blas_threads" in extra:
                self.resumed_arithmetic["blas_threads"] = saved_scalar(
                    extra["blas_threads"], "extra/blas_threads")
        except (KeyError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{ckpt.path}: training state incomplete or damaged "
                                  f"({exc})") from None
        self.iteration = self.saved_iteration = ckpt.iteration
        self.saved_path = ckpt.path   # until this run writes its own checkpoint
        # The history of *this* run, which stays in the checkpoint's folder when the
        # resumed run goes to another --out (a branch: it starts with the same rows).
        self.branched = self.out.resolve() != ckpt.path.parent.resolve()
        # A branch leaves that history.csv as it is: no copy of a damaged one is needed.
        log = ckpt.path.parent / "history.csv"
        try:
            self.history = History.load(log, warn=self.echo, keep_damaged=not self.branched)
        except OSError as exc:   # going on would replace the rows it could not read
            raise CheckpointError(f"{log}: cannot read the run's history ({exc.strerror or exc});"
                                  " make it readable, or move it away to start a new one") from None
        self.history.truncate(ckpt.iteration)

    # -- pieces callbacks may use ---------------------------------------------------
    def generate(self, z: np.ndarray) -> np.ndarray:
        """G(z) for pictures and metrics: see :meth:`tinygan.gan.GAN.generate`."""
        return self.gan.generate(z)

    def save_checkpoint(self, path=None) -> Path:
        """Write a checkpoint of the current state (default ``<out>/checkpoint.npz``)."""
        path = Path(path or self.checkpoint_path)
        extra = {"fixed_z": self.fixed_z, "log_sums": self._sums, "log_count": self._count,
                 "elapsed": self.elapsed + self._session_time(), **self._arithmetic()}
        save_checkpoint(path, config=self.config.to_dict(), iteration=self.iteration,
                        gan=self.gan, feed=self.feed.batches, feed_rng=self.feed_rng,
                        extra=extra, version=tinygan.__version__)
        if path == self.checkpoint_path:
            self.saved_iteration, self.saved_path = self.iteration, path
        return path

    def weights_finite(self) -> bool:
        return all(np.isfinite(p.value).all()
                   for m in (self.gan.generator, self.gan.discriminator) for p in m.parameters())

    # -- the loop -------------------------------------------------------------------
    def fit(self) -> TrainResult:
        """Train to ``config.iterations``; returns how it ended (never raises on NaN or signals)."""
        self._t0, start = time.perf_counter(), self.iteration
        self._arithmetic_now = arithmetic()   # the caller may have limited BLAS for fit()
        self._note_other_arithmetic()
        try:
            return self._fit()
        except MemoryError as exc:
            trained = self.iteration > start
            if not trained and not self.resumed:
                self._discard_start()
            raise self._out_of_memory(exc, trained) from None

    def _fit(self) -> TrainResult:
        c, problem = self.config, None
        with catch_signals(self):
            self._prepare_out_dir()
            if self.saved_iteration is None:   # a fresh run
                self._sample(0)                # (fresh weights: finite)
                self.save_checkpoint()         # a good checkpoint exists from the start
            for cb in self.callbacks:
                cb.on_train_begin(self)
            bar = self._progress_bar()
            while self.iteration < c.iterations and not self._stop and not problem:
                problem = self._iteration(bar)
            bar.close()
            # stopped: save, unless this folder's checkpoint already holds this state (a
            # branch stopped before its first checkpoint saves one, so it can be resumed)
            if self._stop and not problem and (self.saved_iteration != self.iteration
                                               or self.saved_path != self.checkpoint_path):
                problem = self._checkpoint_if_finite()
        # a signal during the last step stops nothing: the run is complete (otherwise the
        # loop ended early without a problem, so a signal stopped it)
        finished = self.iteration >= c.iterations
        status = "diverged" if problem else "done" if finished else self._stop
        return self._finish(status, problem)

    def _discard_start(self):
        """Remove what a new run wrote before its first step (its config, frame 0 and
        the checkpoint of iteration 0): such a folder would only block the next try."""
        for path in (self.checkpoint_path, self.out / "config.json", *frames(self.out)):
            path.unlink(missing_ok=True)

    def _out_of_memory(self, exc: MemoryError, trained: bool = False) -> OutOfMemory:
        """The error to raise for ``exc``: what to make smaller, or what is kept."""
        c, detail = self.config, f" ({exc})" if str(exc) else ""
        if trained:
            return OutOfMemory(f"out of memory at iteration {self.iteration + 1:,}{detail}; "
                               f"the last good checkpoint (iteration {self.saved_iteration:,}) "
                               f"is kept in {self.saved_path}", trained=True)
        advice = ("free memory (other programs), or start a new run with a smaller "
                  "--batch-size or --latent-dim (a resumed run keeps its settings)"
                  if self.resumed else "use a smaller --batch-size or --latent-dim")
        return OutOfMemory(f"not enough memory to train {c.preset} on {c.dataset} with "
                           f"--batch-size {c.batch_size:,} and --latent-dim {c.latent_dim:,}"
                           f"{detail}; {advice}")

    def _arithmetic(self) -> dict:
        """The backend and BLAS threads of this run (see :func:`tinygan.backend.arithmetic`)."""
        return self._arithmetic_now or arithmetic()

    def _note_other_arithmetic(self):
        """Say so when a resumed run computes with another backend or BLAS thread count."""
        then, now = self.resumed_arithmetic, self._arithmetic()
        if then and {k: then.get(k) for k in now} != now:
            self.echo(f"note: the checkpoint was computed with backend {then.get('backend')} "
                      f"and {then.get('blas_threads')} BLAS thread(s), this run with "
                      f"{now['backend']} and {now['blas_threads']}: it goes on, but its results "
                      "will not be bit-identical to those of a run that never stopped "
                      "(set TINYGAN_BACKEND and TINYGAN_BLAS_THREADS as before for that)")

    def _progress_bar(self):
        """A tqdm bar on a terminal; elsewhere plain lines (:class:`tinygan.progress.Lines`).

        Both only display: the numbers of a run are the same with either, or with none.
        """
        c = self.config
        if self.progress and not on_terminal(sys.stderr):
            return Lines(c.iterations, self.iteration, self.echo)
        return tqdm(total=c.iterations, initial=self.iteration, disable=not self.progress,
                    unit="it", dynamic_ncols=True, desc=f"{c.preset} {c.dataset}",
                    file=sys.stderr)

    def _iteration(self, bar) -> str | None:
        """One training step and its bookkeeping; returns what went wrong, if anything."""
        c, it = self.config, self.iteration + 1
        # A diverging run overflows before its loss turns NaN; the check below
        # reports that in one line instead of a screen of RuntimeWarnings.
        if c.lr_decay != 1.0:   # set from the iteration alone, so a resumed run matches
            lr = c.lr * linear_decay(it, c.iterations, c.lr_decay)
            self.gan.g_optimizer.lr = self.gan.d_optimizer.lr = lr
        with np.errstate(over="ignore", invalid="ignore"):
            stats = self.gan.train_step(self.feed.batches.next_batch)
        bad = [k for k in ("d_loss", "g_loss") if not math.isfinite(stats[k])]
        if bad:
            return f"iteration {it:,}: {bad[0]} is {stats[bad[0]]}"
        self.iteration = it
        self._sums += [stats[k] for k in self.logged]
        self._count += 1
        if it % c.log_every == 0 or it == c.iterations:
            self._log(it)
            if self.progress:
                bar.set_postfix_str(_postfix(self.last_stats), refresh=False)
        if it % c.sample_every == 0 or it == c.iterations:
            if problem := self._sample(it):
                return problem
        # also at the end of a run whose length is no multiple of --eval-every, so that
        # its last stretch is measured (and may give best.npz)
        if c.eval_every and (it % c.eval_every == 0 or it == c.iterations):
            for cb in self.callbacks:
                self.history.log(it, **(cb.on_eval(self, it) or {}))
        if it % c.checkpoint_every == 0 or it == c.iterations:
            if problem := self._checkpoint_if_finite():
                return problem
        for cb in self.callbacks:
            cb.on_step_end(self, it, stats)
        bar.update(1)
        return None

    def _checkpoint_if_finite(self) -> str | None:
        """Save checkpoint and history, unless a weight is NaN or infinite (then say so)."""
        if not self.weights_finite():
            return f"iteration {self.iteration:,}: a weight is NaN or infinite"
        self.save_checkpoint()
        self.history.save(self.out / "history.csv")
        return None

    def _log(self, it):
        means = self._sums / max(self._count, 1)
        self.last_stats = {k: float(v) for k, v in zip(self.logged, means) if not np.isnan(v)}
        self.last_logged = (it - self._count + 1, it)   # (counted across a resume)
        self.history.log(it, **self.last_stats, time=round(self.elapsed + self._session_time(), 3))
        self._sums[:], self._count = 0.0, 0

    def _finite_samples(self) -> np.ndarray | None:
        """G(fixed_z), or None if a value is NaN or infinite (then nothing is drawn).

        The losses of a diverging run can still be finite when its weights no
        longer are; a picture of such samples would be garbage (and NumPy's
        warnings about it noise)."""
        with np.errstate(over="ignore", invalid="ignore"):
            x = self.generate(self.fixed_z)
        return x if np.isfinite(x).all() else None

    def _sample(self, it) -> str | None:
        """Draw frame ``it`` and record its statistics; what went wrong, if anything."""
        x = self._finite_samples()
        if x is None:
            return f"iteration {it:,}: the generator's samples are NaN or infinite"
        path = self.out / "samples" / f"iter_{it:06d}.png"
        if self.spec.data == "image":
            plots.save_grid(path, plots.to_unit(x[:25], self.spec.value_range))
        else:
            plots.save_scatter(path, x, self.feed.reference, f"iteration {it:,}")
        self.history.log(it, sample_mean=float(x.mean()), sample_std=float(x.std()))
        return None

    def _finish(self, status, message) -> TrainResult:
        # A run resumed into another folder may stop before its first checkpoint there:
        # its last good state is then still the checkpoint it was resumed from.
        c, ckpt = self.config, self.saved_path
        if status == "diverged":
            message = (f"training diverged at {message}; stopped. "
                       f"The last good checkpoint (iteration {self.saved_iteration:,}) is kept in "
                       f"{ckpt}. Try a smaller --lr (now {c.lr:g}) or another --seed.")
        elif status == "done":
            message = f"done: {counted(self.iteration, 'iteration')}; results in {self.out}/"
        else:   # stopped by a signal: the checkpoint is this folder's (see _fit)
            message = (f"{status}: stopped at iteration {self.iteration:,} of {c.iterations:,}; "
                       f"checkpoint saved to {ckpt}. Resume with:\n"
                       f"    tinygan train --resume {ckpt}")
        self._write_pictures()
        self.history.save(self.out / "history.csv")
        result = TrainResult(status, self.iteration, message, dict(self.last_stats),
                             time.perf_counter() - self._t0, self.last_logged)
        for cb in self.callbacks:
            cb.on_train_end(self, result)
        return result

    # -- files ----------------------------------------------------------------------
    def _prepare_out_dir(self):
        (self.out / "samples").mkdir(parents=True, exist_ok=True)
        self._remove_stale_temps()
        # Anything in --out that is not this run's is replaced: all of it for a new run
        # or a branch (the folder held another run, or nothing), and for a resumed run
        # what came after its checkpoint.
        fresh = self.saved_iteration is None or self.branched
        for frame in frames(self.out, after=-1 if fresh else self.saved_iteration):
            frame.unlink()
        if fresh and self.overwrite:
            for name in OUTPUTS:
                (self.out / name).unlink(missing_ok=True)
        config_json = self.config.to_json(version=tinygan.__version__, **self._arithmetic())
        with atomic_write(self.out / "config.json", "w") as f:
            f.write(config_json + "\n")

    def _remove_stale_temps(self):
        count, size = remove_stale_temps(self.out)
        if count:
            self.echo(f"removed {counted(count, 'temporary file')} ({size / 1e6:.1f} MB) "
                      f"that an interrupted run left in {self.out}")

    def _write_pictures(self):
        out, spec = self.out, self.spec
        plots.save_losses(out / "losses.png", self.history)
        plots.save_stats(out / "stats.png", self.history, self.feed.real_mean, self.feed.real_std)
        plots.save_gif(out / "progress.gif", frames(self.out), warn=self.echo)
        x = self._finite_samples() if self.weights_finite() else None
        if x is None:
            return   # diverged: real_vs_generated.png stays as the last good one
        title = f"{self.config.preset}, iteration {self.iteration:,}"
        if spec.data == "image":
            plots.save_real_vs_generated(out / "real_vs_generated.png", self.feed.reference,
                                         plots.to_unit(x[:8], spec.value_range), title)
        else:
            plots.save_real_vs_generated_points(out / "real_vs_generated.png",
                                                self.feed.reference, x, title)

    def _session_time(self) -> float:
        return time.perf_counter() - self._t0 if hasattr(self, "_t0") else 0.0


def _postfix(s: dict) -> str:
    if not s:
        return ""
    text = (f"D {s['d_loss']:.3f} G {s['g_loss']:.3f} "
            f"D(x) {s['d_x']:.2f} D(G(z)) {s['d_g_z']:.2f}")
    return text + (f" Q {s['q_loss']:.2f}" if "q_loss" in s else "")


def _echo(message: str):
    tqdm.write(message, file=sys.stderr)
