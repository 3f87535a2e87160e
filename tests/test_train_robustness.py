"""A training run under unusual conditions: a branch that diverges, bad environment
variables, a folder left by a run that died early, too little memory, odd --out paths.
Each ends in one clear line, and nothing blocks the next run."""

import numpy as np
import pytest

from tinygan.callbacks import Callback
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
    ckpt = tmp_path / "a" / "checkpoint.npz"
    assert f"tinygan train --resume {ckpt} --out {tmp_path / 'b'}" in result.message
