"""``tinygan evaluate`` on tiny real runs, and its bad-input paths."""

import json

import numpy as np
import pytest

import tinygan
from tinygan import backend
from tinygan.checkpoint import save_checkpoint
from tinygan.cli import main
from tinygan.config import TrainConfig
from tinygan.datasets import RING
from tinygan.build import build_gan


def make_run(directory, dataset, iterations):
    """A run directory with a checkpoint after a few training steps on the ring (no pictures)."""
    config = TrainConfig(dataset=dataset, iterations=max(iterations, 1), batch_size=32,
                         out=str(directory)).resolved()
    gan = build_gan(config, model_rng=0, gan_rng=0)
    for _ in range(iterations):
        gan.train_step(lambda: RING.sample(32, gan.rng))
    directory.mkdir()
    save_checkpoint(directory / "checkpoint.npz", config=config.to_dict(), iteration=iterations,
                    gan=gan, version=tinygan.__version__)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    before = backend.get_backend()
    backend.set_backend("numpy")   # a few steps only: compiling numba kernels would cost more
    try:
        make_run(root / "ring", "ring", 30)
        make_run(root / "mnist-embedded", "mnist-embedded", 0)   # an untrained generator
    finally:
        backend.set_backend(before)
    return root


def test_evaluate_ring_writes_metrics_json(runs, capsys):
    assert main(["evaluate", str(runs / "ring")]) == 0
    m = json.loads((runs / "ring" / "metrics.json").read_text())
    assert m["n"] == 2500 and m["n_modes"] == 8 and m["iteration"] == 30
    assert 0 <= m["modes"] <= 8 and 0.0 <= m["high_quality"] <= 1.0
    assert 0.0 <= m["reverse_kl"] <= np.log(8) + 1e-9
    assert "modes covered" in capsys.readouterr().out


def test_evaluate_images_to_chosen_file(runs, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["evaluate", str(runs / "mnist-embedded" / "checkpoint.npz"), "-n", "300",
                 "--out", str(out)]) == 0
    m = json.loads(out.read_text())
    assert m["n"] == 300 and len(m["histogram"]) == 10
    assert 1.0 <= m["classifier_score"] <= 10.0
    # an untrained generator: far from real digits, far above the floor
    assert m["frechet_ratio"] > 10 and m["real_classifier_score"] > 8.5
    assert "Frechet distance" in capsys.readouterr().out


def test_evaluate_bad_inputs(runs, tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nothing")]) == 2
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert main(["evaluate", str(bad)]) == 2
    assert main(["evaluate", str(runs / "ring"), "-n", "0"]) == 2
    assert "error" in capsys.readouterr().err


def test_metrics_callback_logs_and_keeps_the_best(runs, tmp_path):
    """on_eval returns eval_* numbers and saves best.npz only when the score improves."""
    from types import SimpleNamespace

    from tinygan.checkpoint import load_checkpoint
    from tinygan.history import History
    from tinygan.metrics.callback import MetricsCallback
    from tinygan.registry import get_preset
    from tinygan.build import load_gan

    gan, config = load_gan(load_checkpoint(runs / "ring"))
    saved = []
    trainer = SimpleNamespace(spec=get_preset(config.preset), config=config, gan=gan,
                              out=tmp_path, history=History(),
                              save_checkpoint=lambda path: saved.append(path))
    cb = MetricsCallback(n=500)
    cb.on_train_begin(trainer)
    first = cb.on_eval(trainer, 10)
    assert set(first) == {"eval_modes", "eval_high_quality", "eval_reverse_kl"}
    assert saved == [tmp_path / "best.npz"]
    cb.on_eval(trainer, 20)                      # same generator: not better, nothing saved
    assert len(saved) == 1 and cb.best[1] == 10
    cb.best = ((-9, 0.0), 5)                     # pretend an earlier evaluation was perfect
    cb.on_eval(trainer, 30)
    assert len(saved) == 1
    trainer.history.log(10, **first)
    trainer.history.log(20, **first)
    cb.on_train_end(trainer, None)
    assert (tmp_path / "metrics.png").stat().st_size > 1000
