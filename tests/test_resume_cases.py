"""Resuming in the less common ways: from an older file, into another folder,
for longer than planned, with a best generator to keep.  Nothing of a run may
be lost or mixed with another's without being asked for (``overwrite``)."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from tinygan.callbacks import Callback
from tinygan.checkpoint import atomic_savez, load_checkpoint
from tinygan.cli import main
from tinygan.config import ConfigError, TrainConfig
from tinygan.metrics.callback import MetricsCallback
from tinygan.training import Trainer


def ring(tmp_path, name, **kw):
    kw = {"dataset": "ring", "iterations": 20, "sample_every": 5, "log_every": 5,
          "checkpoint_every": 10, **kw}
    return TrainConfig(out=str(tmp_path / name), **kw)


def fit(cfg, callbacks=(), **kw):
    return Trainer(cfg, callbacks=callbacks, progress=False, echo=lambda m: None, **kw).fit()


def resume(path, overrides=None, **kw):
    kw = {"progress": False, "echo": lambda m: None, **kw}
    return Trainer.resume(path, overrides, **kw)


def rows(path):
    with open(path, newline="") as f:
        return [{k: v for k, v in r.items() if k != "time"} for r in csv.DictReader(f)]


def frames(run):
    return sorted(p.name for p in (run / "samples").iterdir())


class SaveAt(Callback):
    """Keep a copy of the state at iteration ``at`` as ``name`` in the run's folder."""

    def __init__(self, at, name):
        self.at, self.name = at, name

    def on_step_end(self, trainer, iteration, stats):
        if iteration == self.at:
            trainer.save_checkpoint(trainer.out / self.name)


def test_an_older_checkpoint_does_not_silently_replace_the_newer_one(tmp_path):
    run = tmp_path / "run"
    fit(ring(tmp_path, "run"), callbacks=[SaveAt(10, "old.npz")])
    latest = (run / "checkpoint.npz").read_bytes()
    with pytest.raises(ConfigError, match=r"checkpoint.npz is at iteration 20, later than "
                                          r"old.npz \(10\).*--overwrite.*--out NEW"):
        resume(run / "old.npz", {"iterations": 30})
    assert (run / "checkpoint.npz").read_bytes() == latest and "iter_000020.png" in frames(run)
    # asked for, it continues from iteration 10 and replaces what came after it
    trainer = resume(run / "old.npz", {"iterations": 15}, overwrite=True)
    assert trainer.iteration == 10 and trainer.fit().status == "done"
    assert load_checkpoint(run).iteration == 15 and frames(run)[-1] == "iter_000015.png"
    assert "iter_000020.png" not in frames(run)
    # the newest file itself, or an older copy elsewhere, needs no permission
    assert resume(run, {"iterations": 25}).iteration == 15


def test_a_branch_into_another_folder_starts_with_its_runs_history(tmp_path):
    fit(ring(tmp_path, "a"))
    trainer = resume(tmp_path / "a", {"iterations": 30, "out": str(tmp_path / "b")})
    assert trainer.fit().status == "done"
    a, b = rows(tmp_path / "a" / "history.csv"), rows(tmp_path / "b" / "history.csv")
    assert [r["iteration"] for r in b] == [str(i) for i in range(0, 31, 5)]
    assert b[:len(a)] == a                       # the same rows up to the branch point
    assert frames(tmp_path / "b") == ["iter_000025.png", "iter_000030.png"]


def test_a_branch_with_overwrite_replaces_the_other_run_entirely(tmp_path):
    fit(ring(tmp_path, "a", iterations=10))
    fit(ring(tmp_path, "other", iterations=40, seed=3))
    (tmp_path / "other" / "best.npz").write_bytes(b"the other run's best")
    with pytest.raises(ConfigError, match="already holds another run"):
        resume(tmp_path / "a", {"iterations": 20, "out": str(tmp_path / "other")})
    trainer = resume(tmp_path / "a", {"iterations": 20, "out": str(tmp_path / "other")},
                     overwrite=True)
    assert trainer.fit().status == "done"
    other = tmp_path / "other"
    assert frames(other) == ["iter_000015.png", "iter_000020.png"]   # none of seed 3's
    assert not (other / "best.npz").exists()
    a = rows(tmp_path / "a" / "history.csv")
    assert rows(other / "history.csv")[:len(a)] == a
    assert load_checkpoint(other).config["seed"] == 0


def test_extending_a_decayed_run_says_the_schedule_changes(tmp_path):
    fit(ring(tmp_path, "run", lr_decay=0.1))
    said = []
    trainer = Trainer.resume(tmp_path / "run", {"iterations": 40}, progress=False,
                             echo=said.append)
    assert trainer.iteration == 20
    assert len(said) == 1 and said[0].startswith("note: the learning-rate decay")
    assert "planned over 20 iterations; over 40 its factor at iteration 20 becomes 1 instead " \
           "of 0.1" in said[0]
    said.clear()
    fit(ring(tmp_path, "flat", lr_decay=1.0))
    Trainer.resume(tmp_path / "flat", {"iterations": 40}, progress=False, echo=said.append)
    assert said == []                            # nothing to say without a decay


def test_the_best_generator_survives_a_resume(tmp_path, monkeypatch):
    """After a resume, best.npz is replaced only by a better generator, not by the first one."""
    import tinygan.cli.evaluate as evaluate
    scores = iter([(8, 0.5), (6, 0.2), (7, 0.1)])   # (modes, reverse KL) at 5, 10, 15

    def fake(gan, *args, **kw):
        modes, kl = next(scores)
        return {"modes": modes, "high_quality": 0.5, "reverse_kl": kl}

    monkeypatch.setattr(evaluate, "evaluate_gan", fake)
    run = tmp_path / "run"
    fit(ring(tmp_path, "run", eval_every=5, iterations=10), callbacks=[MetricsCallback()])
    assert load_checkpoint(run / "best.npz").iteration == 5      # 8 modes beat 6
    best_bytes = (run / "best.npz").read_bytes()
    callback = MetricsCallback()
    trainer = resume(run, {"iterations": 15}, callbacks=[callback])
    assert trainer.fit().status == "done"
    assert callback.best == ((-8.0, 0.5), 5)
    assert (run / "best.npz").read_bytes() == best_bytes         # 7 modes at 15 did not


def test_overwrite_also_removes_the_old_runs_best_and_metrics(tmp_path):
    fit(ring(tmp_path, "run", iterations=5))
    for name in ("best.npz", "metrics.png", "metrics.json"):
        (tmp_path / "run" / name).write_bytes(b"old")
    fit(ring(tmp_path, "run", iterations=5, seed=2), overwrite=True)
    assert not any((tmp_path / "run" / n).exists()
                   for n in ("best.npz", "metrics.png", "metrics.json"))
    assert np.isfinite(load_checkpoint(tmp_path / "run").arrays["G/0.W"]).all()


def test_a_run_without_a_code_resumes_with_its_stored_settings(tmp_path, monkeypatch):
    """Its config.json holds info_weight beside codes 0 (every setting is stored): that is
    no option given to do nothing, neither alone nor repeated on the command line."""
    monkeypatch.chdir(tmp_path)
    args = ["train", "--dataset", "ring", "--iterations", "2", "--quiet"]
    assert main(args) == 0
    run = tmp_path / "runs" / "mixture-mlp-ring"
    stored = json.loads((run / "config.json").read_text())
    assert (stored["codes"], stored["info_weight"], stored["d_eval_in_g_step"]) == (0, 1.0, False)
    assert main(["train", "--resume", str(run), "--iterations", "4", "--quiet"]) == 0
    assert main([*args, "--resume", "--iterations", "6", "--info-weight", "1",
                 "--no-d-eval-in-g-step"]) == 0
    assert load_checkpoint(run).iteration == 6


def test_a_run_an_older_tinygan_stored_with_options_that_did_nothing_resumes(tmp_path):
    fit(ring(tmp_path, "run", iterations=10))
    path = tmp_path / "run" / "checkpoint.npz"
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    config = {**json.loads(str(arrays["config"])), "info_weight": 0.5, "d_eval_in_g_step": True}
    arrays["config"] = np.array(json.dumps(config))
    atomic_savez(path, arrays)
    trainer = resume(tmp_path / "run", {"iterations": 15})
    assert (trainer.config.info_weight, trainer.config.d_eval_in_g_step) == (0.5, True)
    assert trainer.fit().status == "done" and load_checkpoint(path).iteration == 15


def test_a_damaged_frame_costs_that_frame_only(tmp_path):
    run = tmp_path / "run"
    fit(ring(tmp_path, "run", lr_decay=1.0))
    (run / "samples" / "iter_000005.png").write_bytes(b"junk")
    before = (run / "real_vs_generated.png").read_bytes()
    said = []
    result = resume(run, {"iterations": 25}, echo=said.append).fit()
    assert result.status == "done" and result.exit_code == 0
    assert said == [f"warning: {run / 'samples' / 'iter_000005.png'} left out of the "
                    "animation: not a picture"]
    with Image.open(run / "progress.gif") as im:
        assert im.n_frames == 5                      # 0, 10, 15, 20, 25
    assert (run / "real_vs_generated.png").read_bytes() != before   # drawn at iteration 25


def tamper(path, change):
    """Rewrite the checkpoint ``path`` with ``change(arrays)`` applied."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    change(arrays)
    atomic_savez(path, arrays)


def test_the_backend_and_blas_threads_are_recorded_and_a_change_is_noted(tmp_path,
                                                                          monkeypatch):
    from tinygan import backend, training
    fit(ring(tmp_path, "run", iterations=10))
    run = tmp_path / "run"
    now = backend.arithmetic()
    assert {k: json.loads((run / "config.json").read_text())[k] for k in now} == now
    extra = load_checkpoint(run).group("extra")
    assert {k: extra[k][()].item() for k in now} == now
    said = []
    assert resume(run, {"iterations": 12}, echo=said.append).fit().status == "done"
    assert not [m for m in said if "bit-identical" in m]        # the same: nothing to say
    other = {"backend": now["backend"], "blas_threads": now["blas_threads"] + 1}
    monkeypatch.setattr(training, "arithmetic", lambda: other)
    assert resume(run, {"iterations": 14}, echo=said.append).fit().status == "done"
    note, = [m for m in said if "bit-identical" in m]
    assert note.startswith(f"note: the checkpoint was computed with backend {now['backend']} "
                           f"and {now['blas_threads']} BLAS thread")
    # a checkpoint from before they were recorded resumes without a note
    tamper(run / "checkpoint.npz", lambda a: [a.pop(f"extra/{k}") for k in now])
    said.clear()
    assert resume(run, {"iterations": 16}, echo=said.append).fit().status == "done"
    assert not [m for m in said if "bit-identical" in m]


def set_config(**settings):
    def change(arrays):
        arrays["config"] = np.array(json.dumps({**json.loads(str(arrays["config"])),
                                                **settings}))
    return change


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update({"extra/log_count": np.array([1, 2])}),
     r"training state incomplete or damaged \(extra/log_count must be a count \(one integer "
     r">= 0\), got int64 array\(\[1, 2\]\)\)"),
    (lambda a: a.update({"extra/elapsed": np.array(np.nan)}),
     r"extra/elapsed must be a number of seconds >= 0"),
    (lambda a: a.update({"G_opt/step": np.array(-1)}),
     r"the generator .*'step' must be a count \(one integer >= 0\), got int64 array\(-1\)"),
    (set_config(extra=[1]),
     r"its config is not usable \(extra must be a mapping \(the callbacks' settings\), "
     r"got \[1\]\)"),
])
def test_damaged_training_state_is_a_checkpoint_error(tmp_path, change, message):
    from tinygan.checkpoint import CheckpointError
    fit(ring(tmp_path, "run", iterations=10))
    tamper(tmp_path / "run" / "checkpoint.npz", change)
    with pytest.raises(CheckpointError, match=message):
        resume(tmp_path / "run", {"iterations": 20})


def test_a_history_that_cannot_be_read_stops_the_resume_before_it_is_replaced(tmp_path,
                                                                               monkeypatch):
    from pathlib import Path
    from tinygan.checkpoint import CheckpointError
    fit(ring(tmp_path, "run"))
    log = tmp_path / "run" / "history.csv"
    before = log.read_bytes()
    real_read = Path.read_bytes

    def refuse(self):   # as an unreadable file would (chmod does not stop root)
        if self == log:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(CheckpointError, match=r"history.csv: cannot read the run's history "
                                              r"\(Permission denied\); make it readable"):
        resume(tmp_path / "run", {"iterations": 30})
    monkeypatch.undo()
    assert log.read_bytes() == before
