"""The training loop end to end: outputs, exact resume, signals, NaN, and refusals.

Runs are tiny (a few iterations on 320 real MNIST digits or the ring) so the
whole file takes seconds; the CLI tests run the same code through ``tinygan``.
"""

import csv
import json
import os
import signal

import numpy as np
import pytest
from PIL import Image

import tinygan
from tinygan.checkpoint import atomic_savez, load_checkpoint
from tinygan.config import ConfigError, TrainConfig
from tinygan.history import BASE_COLUMNS
from tinygan.callbacks import Callback
from tinygan.training import INFO_LOGGED, LOGGED, Trainer

PNG, GIF = b"\x89PNG\r\n\x1a\n", (b"GIF87a", b"GIF89a")


def config(tmp_path, name="run", **kw):
    kw = {"iterations": 6, "sample_every": 3, "log_every": 2, **kw}
    return TrainConfig(out=str(tmp_path / name), **kw)


def fit(cfg, callbacks=(), **kw):
    return Trainer(cfg, callbacks=callbacks, progress=False, echo=lambda m: None, **kw).fit()


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def is_png(path):
    return path.read_bytes()[:8] == PNG


def test_image_run_leaves_every_output(tmp_path, small_mnist):
    cfg = config(tmp_path, checkpoint_every=6)
    result = fit(cfg)
    out = tmp_path / "run"
    assert result.status == "done" and result.exit_code == 0 and result.iteration == 6
    for name in ("losses.png", "stats.png", "real_vs_generated.png"):
        assert is_png(out / name), name
    frames = sorted(p.name for p in (out / "samples").iterdir())
    assert frames == ["iter_000000.png", "iter_000003.png", "iter_000006.png"]
    assert all(is_png(out / "samples" / f) for f in frames)
    with Image.open(out / "samples" / frames[0]) as im:
        assert im.size == (2 * (5 * 30 + 2),) * 2      # 5x5 grid of 28 px + 2 px gaps, x2
    assert (out / "progress.gif").read_bytes()[:6] in GIF
    with Image.open(out / "progress.gif") as im:
        assert im.n_frames == 3

    rows = read_csv(out / "history.csv")
    # the MNIST recipe has InfoGAN's code (10 values): Q's loss sits beside the others
    assert json.loads((out / "config.json").read_text())["codes"] == 10
    assert list(rows[0]) == [*BASE_COLUMNS[:-1], "q_loss", "time", "sample_mean", "sample_std"]
    assert [int(r["iteration"]) for r in rows] == [0, 2, 3, 4, 6]
    logged = [r for r in rows if r["d_loss"]]
    assert len(logged) == 3
    for r in logged:
        assert 0 < float(r["d_loss"]) < 5 and 0 < float(r["g_loss"]) < 20
        assert 0 <= float(r["d_x"]) <= 1 and 0 <= float(r["d_g_z"]) <= 1
        assert 0 <= float(r["d_acc"]) <= 1 and float(r["time"]) >= 0
        # Q guesses at first: its cross-entropy is near ln 10 = 2.30
        assert 1.5 < float(r["q_loss"]) < 3.5, r["q_loss"]
    assert float(rows[0]["sample_std"]) > 0

    saved = json.loads((out / "config.json").read_text())
    assert saved["version"] == tinygan.__version__
    # beside the settings: how the run computed (its last bits depend on it)
    assert saved.keys() - {"version", "backend", "blas_threads"} == TrainConfig().to_dict().keys()
    assert saved["backend"] in ("numpy", "numba") and saved["blas_threads"] >= 0
    assert saved["seed"] == 0 and saved["preset"] == "mnist-mlp" and saved["latent_dim"] == 100
    assert load_checkpoint(out).iteration == 6
    assert not [p for p in out.iterdir() if p.name.startswith(".")]   # no temp files left


def test_ring_run_draws_scatters(tmp_path):
    result = fit(config(tmp_path, dataset="ring", iterations=4, sample_every=2))
    out = tmp_path / "run"
    assert result.status == "done"
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "iter_000000.png", "iter_000002.png", "iter_000004.png"]
    assert is_png(out / "samples" / "iter_000004.png") and is_png(out / "real_vs_generated.png")
    assert json.loads((out / "config.json").read_text())["preset"] == "mixture-mlp"


REMEDIES = {"pack": 2, "minibatch_std": True, "d_dropout": 0.3, "lr_decay": 0.1, "ema": 0.9,
            "codes": 0}
INFOGAN = {"codes": 4, "info_weight": 0.5, "d_dropout": 0.3, "d_eval_in_g_step": True,
           "g_batch_scale": 2}


@pytest.mark.parametrize("recipe", [{}, REMEDIES, INFOGAN], ids=["plain", "remedies", "infogan"])
def test_resume_is_bit_exact(tmp_path, small_mnist, recipe):
    """8 iterations straight == 4, then resume to 8 (crossing an epoch of 5 batches).

    With the remedies, the dropout masks' generators and the learning-rate
    schedule must resume exactly too.  The schedule depends on the planned
    total, so that run is stopped at 4 of 8 (as by Ctrl-C) instead of being
    extended from 4 to 8.
    """
    fit(config(tmp_path, "straight", iterations=8, checkpoint_every=4, sample_every=8, **recipe))
    if recipe:
        fit(config(tmp_path, "halves", iterations=8, sample_every=8, **recipe),
            callbacks=[StopAt(4)])
    else:
        fit(config(tmp_path, "halves", iterations=4, sample_every=8))
    resumed = Trainer.resume(tmp_path / "halves", None if recipe else {"iterations": 8},
                             progress=False, echo=lambda m: None)
    assert resumed.iteration == 4
    assert resumed.fit().status == "done"

    a = load_checkpoint(tmp_path / "straight").arrays
    b = load_checkpoint(tmp_path / "halves").arrays
    assert a.keys() == b.keys()
    compared = [k for k in a if k not in ("config", "extra/elapsed")]
    assert any(k.startswith("G/") for k in compared) and "rng/feed" in compared
    assert "feed/perm" in compared and int(a["feed/epoch"]) == 1
    for k in compared:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k

    def losses(run):   # the logged means; time differs, and "halves" also sampled at 4
        rows = read_csv(tmp_path / run / "history.csv")
        return [[r.get(k) for k in ("iteration", *LOGGED, *INFO_LOGGED)]
                for r in rows if r["d_loss"]]

    assert len(losses("straight")) == 4 and losses("straight") == losses("halves")


def test_resuming_a_checkpoint_from_before_q_loss_leaves_one_cell_empty(tmp_path, small_mnist):
    """A run with codes saved by an older tinygan has 5 log sums, not 6: it resumes, and
    the one row whose window began before the resume has no q_loss instead of a wrong one."""
    fit(config(tmp_path, "old", iterations=8, log_every=3, sample_every=8), callbacks=[StopAt(4)])
    path = tmp_path / "old" / "checkpoint.npz"
    with np.load(path, allow_pickle=False) as f:
        arrays = dict(f)
    assert arrays["extra/log_sums"].shape == (len(LOGGED) + len(INFO_LOGGED),)
    arrays["extra/log_sums"] = arrays["extra/log_sums"][:len(LOGGED)]   # as written before
    atomic_savez(path, arrays)
    resumed = Trainer.resume(tmp_path / "old", progress=False, echo=lambda m: None)
    assert resumed.fit().status == "done"
    rows = {int(r["iteration"]): r for r in read_csv(tmp_path / "old" / "history.csv")
            if r["d_loss"]}
    assert sorted(rows) == [3, 6, 8]
    assert rows[3]["q_loss"] and rows[8]["q_loss"] and rows[6]["q_loss"] == ""
    assert all(rows[i]["d_loss"] for i in (3, 6, 8))


class StopAt(Callback):
    """Ask the trainer to stop after iteration ``at``, as a SIGINT would."""

    def __init__(self, at):
        self.at = at

    def on_step_end(self, trainer, iteration, stats):
        if iteration == self.at:
            trainer._stop = "SIGINT"


class Poison(Callback):
    """Turn one generator weight into NaN at a chosen iteration (a test hook)."""

    def __init__(self, at, hook="on_step_end"):
        self.at, self.hook = at, hook

    def _poison(self, trainer, iteration):
        if iteration == self.at:
            trainer.gan.generator[0].params["W"][0, 0] = np.nan

    def on_step_end(self, trainer, iteration, stats):
        if self.hook == "on_step_end":
            self._poison(trainer, iteration)

    def on_eval(self, trainer, iteration):
        if self.hook == "on_eval":
            self._poison(trainer, iteration)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    cfg = config(tmp_path, dataset="ring", iterations=20, checkpoint_every=2, sample_every=5)
    result = fit(cfg, [Poison(at=5)])
    assert result.status == "diverged" and result.exit_code == 1
    assert "iteration 6" in result.message and "d_loss is nan" in result.message
    assert "last good checkpoint (iteration 4)" in result.message
    ckpt = load_checkpoint(tmp_path / "run")
    assert ckpt.iteration == 4
    assert all(np.isfinite(v).all() for k, v in ckpt.arrays.items() if k.startswith("G/"))
    assert read_csv(tmp_path / "run" / "history.csv")   # the log up to the stop is written


def test_non_finite_weights_are_never_checkpointed(tmp_path):
    # Poisoned just before the iteration-4 checkpoint: that save must not happen.
    cfg = config(tmp_path, dataset="ring", iterations=20, checkpoint_every=2, eval_every=4,
                 sample_every=20)
    result = fit(cfg, [Poison(at=4, hook="on_eval")])
    assert result.status == "diverged" and "a weight is NaN or infinite" in result.message
    assert load_checkpoint(tmp_path / "run").iteration == 2


def test_signal_saves_a_checkpoint_and_stops(tmp_path, sig=signal.SIGTERM):
    # In-process, so the handlers can be inspected; tests/test_cli.py sends real
    # SIGINT and SIGTERM to a training subprocess.
    class Sender(Callback):
        def on_step_end(self, trainer, iteration, stats):
            if iteration == 3:
                os.kill(os.getpid(), sig)

    messages = []
    before = signal.getsignal(sig)
    trainer = Trainer(config(tmp_path, dataset="ring", iterations=1000, sample_every=1000),
                      callbacks=[Sender()], progress=False, echo=messages.append)
    result = trainer.fit()
    assert result.status == sig.name and result.exit_code == 128 + sig
    assert result.iteration == 3 and load_checkpoint(tmp_path / "run").iteration == 3
    assert f"tinygan train --resume {tmp_path / 'run' / 'checkpoint.npz'}" in result.message
    notice = next(m for m in messages if sig.name in m)
    # stderr is no terminal under pytest: no newline to break a bar's line, which in
    # a log would only leave an empty line
    assert notice.startswith(f"{sig.name} received: saving a checkpoint")
    assert signal.getsignal(sig) is before   # handlers are put back


def test_a_signal_during_the_last_step_does_not_report_an_unfinished_run(tmp_path):
    class Sender(Callback):
        def on_step_end(self, trainer, iteration, stats):
            if iteration == 4:
                os.kill(os.getpid(), signal.SIGINT)

    result = Trainer(config(tmp_path, dataset="ring", iterations=4), callbacks=[Sender()],
                     progress=False, echo=lambda m: None).fit()
    assert result.status == "done" and result.exit_code == 0 and "--resume" not in result.message
    assert load_checkpoint(tmp_path / "run").iteration == 4


def test_eval_hook_results_go_into_the_history(tmp_path):
    class Score(Callback):
        def on_eval(self, trainer, iteration):
            return {"score": iteration / 10}

    fit(config(tmp_path, dataset="ring", iterations=6, eval_every=3, sample_every=6), [Score()])
    rows = read_csv(tmp_path / "run" / "history.csv")
    assert [(r["iteration"], r["score"]) for r in rows if r["score"]] == [("3", "0.3"),
                                                                          ("6", "0.6")]


def test_refuses_to_overwrite_a_run(tmp_path):
    fit(config(tmp_path, dataset="ring", iterations=2, sample_every=1))
    before = (tmp_path / "run" / "checkpoint.npz").read_bytes()
    with pytest.raises(ConfigError, match="already holds a run.*--resume.*--overwrite"):
        Trainer(config(tmp_path, dataset="ring", iterations=2), progress=False)
    assert (tmp_path / "run" / "checkpoint.npz").read_bytes() == before
    # --overwrite replaces it, old frames included
    fit(config(tmp_path, dataset="ring", iterations=2, sample_every=2, seed=1), overwrite=True)
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == [
        "iter_000000.png", "iter_000002.png"]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["seed"] == 1


def test_batch_larger_than_the_data_is_rejected_before_writing(tmp_path, small_mnist):
    with pytest.raises(ConfigError, match="--batch-size 500 is larger than the 320 images"):
        Trainer(config(tmp_path, batch_size=500), progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("bad, pattern", [
    ({"iterations": -5}, "--iterations must be an integer >= 1"),
    ({"dataset": "cifar"}, "unknown dataset 'cifar'"),
    ({"preset": "toy-mlp"}, "preset toy-mlp is for mixture data"),
    ({"batch_size": 1}, "--batch-size must be an integer >= 2"),
    ({"lr": -1.0}, "--lr must be a positive number"),
    ({"label_smoothing": 1.0}, "--label-smoothing must be in"),
    ({"g_batch_scale": 0}, "--g-batch-scale must be an integer >= 1"),
    ({"d_eval_in_g_step": "yes"}, "d_eval_in_g_step must be true or false"),
    ({"codes": 1}, "--codes must be 0 \\(off\\) or at least 2"),
    ({"codes": 10, "pack": 2}, "--codes 10 \\(InfoGAN\\) cannot be combined with --pack 2"),
    ({"info_weight": 0.0}, "--info-weight must be a positive number"),
    ({"dataset": "ring", "codes": 4}, "--codes is not an option of preset mixture-mlp"),
    ({"batch_size": 3, "d_half_batch": True}, "--d-half-batch with --batch-size 3 gives D and G "
                                              "1 sample per step"),
    ({"dataset": "ring", "batch_size": 2, "pack": 2, "minibatch_std": True},
     "--minibatch-std needs at least 2 rows .* give 1; use --batch-size 4 or more"),
    ({"dataset": "ring", "batch_size": 4, "pack": 2, "d_half_batch": True, "minibatch_std": True},
     "--batch-size 4 with --d-half-batch and --pack 2 give 1; use --batch-size 8 or more"),
])
def test_bad_settings_are_rejected(tmp_path, bad, pattern):
    with pytest.raises(ConfigError, match=pattern):
        Trainer(config(tmp_path, **bad), progress=False)
    assert not (tmp_path / "run").exists()


def test_resume_refuses_other_settings_and_finished_runs(tmp_path):
    fit(config(tmp_path, dataset="ring", iterations=2))
    with pytest.raises(ConfigError, match=r"--lr 0.1 \(checkpoint: 0.001\)"):
        Trainer.resume(tmp_path / "run", {"lr": 0.1, "iterations": 4})
    with pytest.raises(ConfigError, match=r"--preset mnist-mlp \(checkpoint: mixture-mlp\)"):
        Trainer.resume(tmp_path / "run", {"preset": "mnist-mlp", "iterations": 4})
    with pytest.raises(ConfigError, match="already at iteration 2 of 2"):
        Trainer.resume(tmp_path / "run")
