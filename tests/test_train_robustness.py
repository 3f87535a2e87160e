"""A training run under unusual conditions: a branch that diverges, bad environment
variables, a folder left by a run that died early, too little memory, odd --out paths.
Each ends in one clear line, and nothing blocks the next run."""

import numpy as np
import pytest

from tinygan.callbacks import Callback
from tinygan.checkpoint import load_checkpoint
from tinygan.cli import main
from tinygan.config import TrainConfig
from tinygan.training import Trainer


def ring(tmp_path, name, **kw):
    kw = {"dataset": "ring", "iterations": 10, "sample_every": 5, "log_every": 5, **kw}
    return TrainConfig(out=str(tmp_path / name), **kw)


def quiet(**kw):
    return {"progress": False, "echo": lambda m: None, **kw}


class Poison(Callback):
    """Turn one generator weight into NaN after iteration ``at``."""

    def __init__(self, at):
        self.at = at

    def on_step_end(self, trainer, iteration, stats):
        if iteration == self.at:
            trainer.gan.generator[0].params["W"][0, 0] = np.nan


def test_a_branch_that_diverges_names_the_checkpoint_it_came_from(tmp_path):
    Trainer(ring(tmp_path, "a"), **quiet()).fit()
    branch = Trainer.resume(tmp_path / "a", {"iterations": 20, "out": str(tmp_path / "b"),
                                             "checkpoint_every": 5}, **quiet())
    branch.callbacks = [Poison(at=12)]
    result = branch.fit()
    assert result.status == "diverged"
    assert not (tmp_path / "b" / "checkpoint.npz").exists()
    assert (f"last good checkpoint (iteration 10) is kept in {tmp_path / 'a' / 'checkpoint.npz'}"
            in result.message)


def test_a_branch_stopped_before_its_first_checkpoint_says_how_to_continue_it(tmp_path):
    Trainer(ring(tmp_path, "a"), **quiet()).fit()
    branch = Trainer.resume(tmp_path / "a", {"iterations": 20, "out": str(tmp_path / "b")},
                            **quiet())
    branch._stop = "SIGINT"   # as if Ctrl-C came before the first step
    result = branch.fit()
    assert result.status == "SIGINT" and result.iteration == 10
    ckpt = tmp_path / "b" / "checkpoint.npz"   # the branch saves its own, with its settings
    command = f"tinygan train --resume {ckpt}"
    assert result.message.endswith(command)
    # ... and the command it prints continues the branch to its own --iterations
    assert main([*command.split()[1:], "--quiet"]) == 0
    assert load_checkpoint(ckpt).iteration == 20


@pytest.mark.parametrize("variable, value, message", [
    ("TINYGAN_BACKEND", "bogus", "TINYGAN_BACKEND must be numpy or numba (or unset, for numba), "
                                 "got 'bogus'"),
    ("TINYGAN_BLAS_THREADS", "99999999999999999999", "TINYGAN_BLAS_THREADS must be a positive "
                                                     "integer of at most"),
])
@pytest.mark.parametrize("command", ["train", "sample", "evaluate"])
def test_a_bad_environment_variable_is_one_line_before_anything_is_written(
        tmp_path, monkeypatch, capsys, ring_run, command, variable, value, message):
    monkeypatch.setenv(variable, value)
    out = tmp_path / "out"
    args = {"train": ["train", "--dataset", "ring", "--iterations", "2", "--out", str(out)],
            "sample": ["sample", "--checkpoint", str(ring_run), "--out", str(out) + ".png"],
            "evaluate": ["evaluate", str(ring_run), "--out", str(out) + ".json"]}[command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tinygan {command}: error: {message}") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_bad_backend_is_refused_by_the_trainer_before_anything_is_written(tmp_path,
                                                                             monkeypatch):
    from tinygan import backend
    from tinygan.config import ConfigError
    monkeypatch.setattr(backend, "_active", None)   # read the variable again
    monkeypatch.setenv("TINYGAN_BACKEND", "bogus")
    with pytest.raises(ConfigError, match="unknown backend 'bogus'"):
        Trainer(ring(tmp_path, "run"), **quiet(overwrite=True))
    assert not (tmp_path / "run").exists()


def test_a_folder_left_by_a_run_that_died_before_its_first_checkpoint_is_reused(tmp_path,
                                                                              capsys):
    out = tmp_path / "run"
    (out / "samples").mkdir(parents=True)
    (out / "config.json").write_text("{}\n")
    assert main(["train", "--resume", str(out), "--iterations", "3"]) == 2
    err = capsys.readouterr().err
    assert f"{out} holds no checkpoint.npz, so there is nothing to resume" in err
    assert main(["train", "--dataset", "ring", "--iterations", "2", "--out", str(out),
                 "--quiet"]) == 0
    assert (out / "checkpoint.npz").exists()


def test_an_interrupt_while_the_command_line_starts_is_one_line(monkeypatch, capsys):
    import importlib

    def interrupted(name):
        raise KeyboardInterrupt
    monkeypatch.setattr(importlib, "import_module", interrupted)
    assert main(["train", "--help"]) == 130
    assert capsys.readouterr().err == "tinygan: interrupted\n"


def test_the_entry_point_imports_no_numpy():
    import os
    import subprocess
    import sys
    from pathlib import Path
    import tinygan
    env = {**os.environ, "PYTHONPATH": str(Path(tinygan.__file__).resolve().parents[1])}
    code = "import sys, tinygan.cli; print('numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env).stdout == "False\n"
    # ... while a plain `import tinygan` still reaches every subpackage, as before
    code = ("import tinygan; print(tinygan.layers.Dense.__name__, tinygan.backend.__name__, "
            "tinygan.GAN.__name__, hasattr(tinygan, 'no_such_thing'))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env).stdout == "Dense tinygan.backend GAN False\n"


@pytest.mark.parametrize("case, message", [
    ("file", "--out {out}: {out} is a file, not a folder"),
    ("broken link", "--out {out}: {out} is a symbolic link to {tmp}/gone, which does not exist"),
    ("under a file", "--out {out}: cannot create the folder {out}: {tmp}/file is a file"),
])
def test_an_out_that_cannot_be_a_folder_is_refused_up_front(tmp_path, capsys, case, message):
    (tmp_path / "file").write_text("keep me")
    out = {"file": tmp_path / "file", "under a file": tmp_path / "file" / "run",
           "broken link": tmp_path / "link"}[case]
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    assert main(["train", "--dataset", "ring", "--iterations", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tinygan train: error: " + message.format(out=out, tmp=tmp_path))
    assert err.count("\n") == 1 and (tmp_path / "file").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "link"]


def test_weights_that_turn_nan_with_finite_losses_draw_no_sample(tmp_path, recwarn):
    trainer = Trainer(ring(tmp_path, "run", checkpoint_every=10), **quiet())
    step = trainer.gan.train_step

    def breaking_step(batches):   # the losses of step 5 are finite, the weights after it not
        stats = step(batches)
        if trainer.iteration == 4:
            trainer.gan.generator[0].params["W"][0, 0] = np.inf
        return stats
    trainer.gan.train_step = breaking_step
    result = trainer.fit()
    assert result.status == "diverged"
    assert result.message.startswith("training diverged at iteration 5: the generator's samples "
                                     "are NaN or infinite")
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == [
        "iter_000000.png"]
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert not [r for r in rows if "nan" in r.lower()]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_too_little_memory_to_build_is_one_line_and_writes_nothing(tmp_path, monkeypatch,
                                                                   capsys):
    def too_big(*args):
        raise MemoryError("Unable to allocate 191. GiB")
    monkeypatch.setattr("tinygan.training.build_gan", too_big)
    out = tmp_path / "run"
    assert main(["train", "--dataset", "ring", "--latent-dim", "100000000", "--out",
                 str(out)]) == 2
    assert capsys.readouterr().err == (
        "tinygan train: error: not enough memory to train mixture-mlp on ring with --batch-size "
        "128 and --latent-dim 100,000,000 (Unable to allocate 191. GiB); use a smaller "
        "--batch-size or --latent-dim\n")
    assert not out.exists()


@pytest.mark.parametrize("at, code", [(1, 2), (3, 1)])
def test_too_little_memory_for_a_step_is_one_line_and_blocks_no_rerun(tmp_path, monkeypatch,
                                                                      capsys, at, code):
    from tinygan.gan import GAN
    from tinygan.run_folder import holds_run
    step, calls = GAN.train_step, []

    def step_until(self, batches):
        calls.append(1)
        if len(calls) == at:
            raise MemoryError("Unable to allocate 47.7 GiB")
        return step(self, batches)
    monkeypatch.setattr(GAN, "train_step", step_until)
    out = tmp_path / "run"
    args = ["train", "--dataset", "ring", "--iterations", "4", "--checkpoint-every", "2",
            "--out", str(out), "--quiet"]
    assert main(args) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    if at == 1:   # nothing trained: refused, and the folder holds no run
        assert "not enough memory to train mixture-mlp on ring with --batch-size 128" in err
        assert not holds_run(out)
    else:         # failed while running: the checkpoint of iteration 2 stays
        assert err == ("tinygan train: error: out of memory at iteration 3 (Unable to allocate "
                       f"47.7 GiB); the last good checkpoint (iteration 2) is kept in "
                       f"{out / 'checkpoint.npz'}\n")
    monkeypatch.setattr(GAN, "train_step", step)
    assert main([*args, "--overwrite"] if at == 3 else args) == 0


def test_more_blas_threads_than_cores_are_refused(tmp_path, monkeypatch, capsys):
    import os
    monkeypatch.setenv("TINYGAN_BLAS_THREADS", str((os.cpu_count() or 1) + 1))
    assert main(["train", "--dataset", "ring", "--iterations", "2", "--out",
                 str(tmp_path / "run")]) == 2
    assert "this machine's CPU count" in capsys.readouterr().err


class Evals(Callback):
    def __init__(self):
        self.at = []

    def on_eval(self, trainer, iteration):
        self.at.append(iteration)


def test_eval_every_also_evaluates_at_the_end_and_is_refused_where_it_never_would(tmp_path,
                                                                                  capsys):
    from tinygan.config import ConfigError
    evals = Evals()
    Trainer(ring(tmp_path, "run", iterations=15, eval_every=10), callbacks=[evals],
            **quiet()).fit()
    assert evals.at == [10, 15]
    assert main(["train", "--dataset", "ring", "--iterations", "20", "--eval-every", "500",
                 "--out", str(tmp_path / "other")]) == 2
    assert capsys.readouterr().err == (
        "tinygan train: error: --eval-every 500 is longer than the run (--iterations 20), so "
        "no evaluation would run; use --eval-every 20 or less\n")
    with pytest.raises(ConfigError, match="--eval-every 500 is longer than the run"):
        Trainer.resume(tmp_path / "run", {"iterations": 30, "eval_every": 500}, **quiet())


def test_the_final_numbers_say_which_iterations_they_average(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "ring", "--iterations", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "done: 1 iteration; results in" in err and "\nmean of iteration 1: D loss" in err
    assert main(["train", "--resume", str(out), "--iterations", "13"]) == 0
    assert "\nmean of iterations 11-13: D loss" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(out), "-n", "1", "--out",
                 str(tmp_path / "x.npy")]) == 0
    assert "wrote 1 sample of" in capsys.readouterr().err


def test_a_stopped_run_reports_the_iterations_of_its_last_log(tmp_path):
    class Stop(Callback):
        def on_step_end(self, trainer, iteration, stats):
            if iteration == 9:
                trainer._stop = "SIGINT"
    result = Trainer(ring(tmp_path, "run", iterations=20), callbacks=[Stop()], **quiet()).fit()
    assert result.status == "SIGINT" and result.iteration == 9 and result.logged == (1, 5)


def test_resume_refuses_bad_overrides_and_takes_a_path(tmp_path):
    from pathlib import Path
    from tinygan.config import ConfigError
    Trainer(ring(tmp_path, "run"), **quiet()).fit()
    with pytest.raises(ConfigError, match=r"--iterations must be an integer >= 1, got -1"):
        Trainer.resume(tmp_path / "run", {"iterations": -1}, **quiet())
    with pytest.raises(ConfigError, match=r"unknown settings \['bogus'\] in the overrides"):
        Trainer.resume(tmp_path / "run", {"bogus": 1}, **quiet())
    trainer = Trainer.resume(tmp_path / "run", {"iterations": 12, "out": tmp_path / "b"},
                             **quiet())
    assert trainer.config.out == str(tmp_path / "b") and trainer.fit().status == "done"
    assert TrainConfig(out=Path("x"), dataset="ring").resolved().out == "x"


@pytest.mark.parametrize("how", ["resume", "overwrite"])
def test_temporary_files_a_killed_run_left_are_removed(tmp_path, how):
    Trainer(ring(tmp_path, "run"), **quiet()).fit()
    run = tmp_path / "run"
    stale = [run / ".checkpoint.npz.0123456789abcdef.tmp", run / ".best.npz.00000000000000ff.tmp",
             run / "samples" / ".iter_000010.png.fedcba9876543210.png"]
    kept = [run / ".notes.txt.0123456789abcdef.tmp", run / ".checkpoint.npz.mine.tmp"]
    for p in stale + kept:
        p.write_bytes(b"x" * 1000)
    said = []
    if how == "resume":
        Trainer.resume(run, {"iterations": 12}, **quiet(echo=said.append)).fit()
    else:
        Trainer(ring(tmp_path, "run"), **quiet(echo=said.append, overwrite=True)).fit()
    assert [p.exists() for p in stale + kept] == [False] * 3 + [True] * 2
    assert f"removed 3 temporary files (0.0 MB) that an interrupted run left in {run}" in said


def test_too_little_memory_on_a_resume_gives_advice_a_resume_can_follow(tmp_path, monkeypatch,
                                                                        capsys):
    from tinygan.gan import GAN
    out = tmp_path / "run"
    assert main(["train", "--dataset", "ring", "--iterations", "2", "--out", str(out),
                 "--quiet"]) == 0

    def too_big(self, batches):
        raise MemoryError("Unable to allocate 47.7 GiB")
    monkeypatch.setattr(GAN, "train_step", too_big)
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--iterations", "4", "--quiet"]) == 2
    err = capsys.readouterr().err
    # not "use a smaller --batch-size": a resume refuses to change it
    assert err.endswith("; free memory (other programs), or start a new run with a smaller "
                        "--batch-size or --latent-dim (a resumed run keeps its settings)\n")
    assert (out / "checkpoint.npz").exists()
