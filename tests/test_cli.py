"""The ``tinygan`` command line: train, sample, download, signals and bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygan
from tinygan.checkpoint import atomic_savez, load_checkpoint
from tinygan.cli import COMMANDS, main
from tinygan.datasets import DownloadError

ROOT = Path(tinygan.__file__).resolve().parents[1]


def run_cli(*args, timeout=120):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tinygan", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_help_lists_every_command():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for name in COMMANDS:
        assert name in proc.stdout
    assert main(["train", "--help"]) == 0


def test_train_then_sample_images(tmp_path, small_mnist, capsys):
    out = tmp_path / "run"
    assert main(["train", "--iterations", "3", "--sample-every", "3", "--out", str(out),
                 "--quiet"]) == 0
    assert "done: 3 iterations" in capsys.readouterr().err
    assert load_checkpoint(out).config["preset"] == "mnist-mlp"

    assert main(["sample", "--checkpoint", str(out), "-n", "7", "--out",
                 str(tmp_path / "s.npy"), "--seed", "3"]) == 0
    x = np.load(tmp_path / "s.npy", allow_pickle=False)
    assert x.shape == (7, 28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() < x.max() <= 1.0          # the Sigmoid's range: [0, 1]
    assert not np.array_equal(x[0], x[1])

    # Same seed, same samples; a grid of ceil(sqrt(7)) = 3 columns and 3 rows.
    assert main(["sample", "--checkpoint", str(out / "checkpoint.npz"), "-n", "7", "--out",
                 str(tmp_path / "again.npy"), "--seed", "3"]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "again.npy"), x)
    assert main(["sample", "--checkpoint", str(out), "-n", "7", "--out",
                 str(tmp_path / "s.png")]) == 0
    from PIL import Image
    with Image.open(tmp_path / "s.png") as im:
        assert im.format == "PNG" and im.size == (2 * (3 * 30 + 2),) * 2

    # The default recipe trains with InfoGAN's code: --code fixes it in every sample.
    from tinygan.build import load_gan
    gan, _ = load_gan(load_checkpoint(out))
    assert main(["sample", "--checkpoint", str(out), "-n", "7", "--out",
                 str(tmp_path / "c4.npy"), "--seed", "3", "--code", "4"]) == 0
    noise = gan.sample_noise(7, np.random.default_rng(3), code=4)
    assert np.all(noise[:, gan.latent_dim + 4] == 1)
    expected = gan.generate(noise).reshape(7, 28, 28)
    np.testing.assert_array_equal(np.load(tmp_path / "c4.npy"), expected)
    assert main(["sample", "--checkpoint", str(out), "--out", str(tmp_path / "c.npy"),
                 "--code", "10"]) == 2
    assert "trained with --codes 10: use 0..9" in capsys.readouterr().err


def test_sample_points(ring_run, tmp_path):
    assert main(["sample", "--checkpoint", str(ring_run), "-n", "50", "--out",
                 str(tmp_path / "p.npy")]) == 0
    x = np.load(tmp_path / "p.npy")
    assert x.shape == (50, 2) and np.isfinite(x).all() and x.std() > 0
    assert main(["sample", "--checkpoint", str(ring_run), "-n", "50", "--out",
                 str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_default_out_dir_is_never_overwritten(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["train", "--dataset", "ring", "--iterations", "2", "--quiet"]
    assert main(args) == 0
    first = (tmp_path / "runs/mixture-mlp-ring/checkpoint.npz").read_bytes()
    assert main([*args, "--seed", "1"]) == 0
    assert (tmp_path / "runs/mixture-mlp-ring/checkpoint.npz").read_bytes() == first
    assert load_checkpoint(tmp_path / "runs/mixture-mlp-ring-2").config["seed"] == 1
    # An explicit --out that holds a run is refused, not renamed.
    assert main([*args, "--out", "runs/mixture-mlp-ring"]) == 2
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--iterations", "-5"], "--iterations must be an integer >= 1, got -5"),
    (["--dataset", "cifar10"], "invalid choice: 'cifar10'"),
    (["--batch-size", "500"], "--batch-size 500 is larger than the 320 images"),
    (["--dataset", "ring", "--preset", "mnist-mlp"], "preset mnist-mlp is for image data"),
    (["--eval-every", "-1"], "--eval-every must be an integer >= 0"),
    (["--pack", "3", "--codes", "0"], "--pack 3: the batch size (64) must be divisible by it"),
    (["--pack", "2"], "--codes 10 (InfoGAN) cannot be combined with --pack 2"),
    (["--dataset", "ring", "--d-dropout", "0.3"], "--d-dropout is not an option of preset mixture-mlp"),
    (["--lr-decay", "0"], "--lr-decay must be in (0, 1]"),
    (["--ema", "1.5"], "--ema must be in [0, 1)"),
    (["--beta2", "1"], "--beta2 must be in [0, 1)"),
    (["--resume"], "no such checkpoint"),
    (["--resume", ""], "--resume got an empty path"),
    (["--batch-size", "3", "--d-half-batch"], "BatchNorm needs at least 2: use --batch-size 4"),
    # options that would do nothing in this run
    (["--dataset", "fashion-mnist", "--info-weight", "0.5"], "--info-weight weights InfoGAN's "
     "code loss, but this run has no code (preset mnist-mlp on fashion-mnist has codes 0); "
     "add --codes K (K >= 2) or drop --info-weight"),
    (["--codes", "0", "--info-weight", "0.5"], "this run has no code (--codes 0)"),
    (["--dataset", "ring", "--info-weight", "1"], "this run has no code (preset mixture-mlp "
     "takes no --codes; mnist-mlp does); drop --info-weight"),
    (["--dataset", "ring", "--d-eval-in-g-step"], "--d-eval-in-g-step turns off D's dropout in "
     "G's step, but preset mixture-mlp's D has none; drop --d-eval-in-g-step"),
    (["--d-dropout", "0", "--d-eval-in-g-step"], "but D has none here (--d-dropout 0); add "
     "--d-dropout P (0 < P < 1) or drop --d-eval-in-g-step"),
    # every recipe option spelled out: the command line still knows which were given
    (["--batch-size", "64", "--lr", "2e-4", "--beta1", "0.5", "--beta2", "0.999", "--d-steps",
      "1", "--label-smoothing", "0", "--no-d-half-batch", "--no-feature-matching", "--lr-decay",
      "1", "--g-batch-scale", "1", "--no-d-eval-in-g-step", "--codes", "0", "--info-weight", "5",
      "--ema", "0", "--pack", "1", "--no-minibatch-std", "--d-dropout", "0", "--iterations", "2"],
     "this run has no code (--codes 0)"),
    (["--codes", "0", "--feature-matching", "--loss", "non-saturating"],
     "--loss non-saturating does nothing with --feature-matching"),
    (["--feature-matching", "--codes", "0", "--loss", "minimax"], "--loss minimax does nothing "
     "with --feature-matching"),
])
def test_bad_train_options_are_rejected_before_anything_runs(tmp_path, small_mnist, capsys,
                                                             args, message):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("args, key, value", [
    (["--info-weight", "0.5"], "info_weight", 0.5),                 # with the recipe's code
    (["--d-dropout", "0.2", "--d-eval-in-g-step"], "d_dropout", 0.2),
    (["--preset", "mnist-dcgan", "--d-eval-in-g-step"], "d_eval_in_g_step", True),
])
def test_those_options_train_where_they_do_something(tmp_path, small_mnist, args, key, value):
    out = tmp_path / "run"
    assert main(["train", "--iterations", "1", "--out", str(out), "--quiet", *args]) == 0
    assert json.loads((out / "config.json").read_text())[key] == value


@pytest.mark.parametrize("value", ["two", "0", "-1"])
def test_a_bad_blas_thread_count_is_rejected_before_anything_runs(tmp_path, monkeypatch, capsys,
                                                                  value):
    monkeypatch.setenv("TINYGAN_BLAS_THREADS", value)
    out = tmp_path / "run"
    assert main(["train", "--dataset", "ring", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tinygan train: error: TINYGAN_BLAS_THREADS must be a positive "
                          "integer") and err.count("\n") == 1   # one line, before the summary
    assert not out.exists()


def test_resume_without_a_path_continues_the_out_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # no default run directory (runs/...) here
    out = tmp_path / "mine"
    assert main(["train", "--dataset", "ring", "--iterations", "2", "--out", str(out),
                 "--quiet"]) == 0
    assert main(["train", "--out", str(out), "--resume", "--iterations", "4", "--quiet"]) == 0
    with np.load(out / "checkpoint.npz", allow_pickle=False) as f:
        assert int(f["iteration"]) == 4


def test_bad_checkpoints_are_reported(ring_run, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(ring_run.joinpath("checkpoint.npz").read_bytes()[:5000])
    assert main(["sample", "--checkpoint", str(corrupt), "--out", str(tmp_path / "x.npy")]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err
    assert main(["train", "--resume", str(corrupt), "--iterations", "9"]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err

    # From another preset: the run was mixture-mlp on ring.
    assert main(["train", "--resume", str(ring_run), "--preset", "mnist-mlp",
                 "--iterations", "9", "--quiet"]) == 2
    assert "--preset mnist-mlp (checkpoint: mixture-mlp)" in capsys.readouterr().err

    # Shape mismatch: the config says latent 3, the arrays were trained with latent 2.
    with np.load(ring_run / "checkpoint.npz", allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    config = json.loads(str(arrays["config"]))
    arrays["config"] = np.array(json.dumps({**config, "latent_dim": 3}))
    atomic_savez(tmp_path / "wrong.npz", arrays)
    assert main(["sample", "--checkpoint", str(tmp_path / "wrong.npz"), "--out",
                 str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err
    assert "does not fit" in err and "shape" in err and "Traceback" not in err
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize("args, message", [
    (["-n", "0"], "-n must be at least 1"),
    (["--out", "samples.jpg"], "must end in .png or .npy"),
    (["--out", "no/such/dir/s.png"], "does not exist"),
    (["--code", "0"], "was trained without --codes"),
])
def test_bad_sample_options(ring_run, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    full = ["sample", "--checkpoint", str(ring_run), "--out", "s.npy", *args]
    assert main(full) == 2
    assert message in capsys.readouterr().err


def test_download_errors_are_printed_cleanly(monkeypatch, capsys):
    def fail(name, **kw):
        raise DownloadError(f"could not download train-images-idx3-ubyte.gz for {name}; "
                            "every mirror failed")

    monkeypatch.setattr("tinygan.cli.download.download", fail)
    assert main(["download", "mnist", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tinygan download: error: could not download") and "Traceback" not in err

    monkeypatch.setattr("tinygan.cli.download.download", lambda name, **kw: Path("/data") / name)
    assert main(["download", "fashion-mnist", "--quiet"]) == 0
    assert "fashion-mnist is in /data/fashion-mnist" in capsys.readouterr().err
    assert main(["download", "cifar"]) == 2


def test_nan_stops_with_a_clear_message(tmp_path, capsys, recwarn):
    out = tmp_path / "run"
    # An absurd learning rate: the first update throws the weights to ~1e30.
    assert main(["train", "--dataset", "ring", "--lr", "1e30", "--iterations", "50",
                 "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "training diverged at iteration 1: g_loss is nan" in err
    assert f"last good checkpoint (iteration 0) is kept in {out / 'checkpoint.npz'}" in err
    assert "Traceback" not in err
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    ckpt = load_checkpoint(out)
    assert ckpt.iteration == 0 and all(np.isfinite(v).all() for k, v in ckpt.arrays.items()
                                       if k.startswith(("G/", "D/")))
    assert (out / "losses.png").exists() and (out / "history.csv").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_a_checkpoint_and_exits_cleanly(tmp_path, sig, capsys):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinygan", "train", "--dataset", "ring", "--iterations",
         "1000000", "--checkpoint-every", "1", "--sample-every", "100000", "--out", str(out),
         "--quiet"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        # history.csv is first written after iteration 1: the loop is running by then.
        while not (out / "history.csv").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "training did not start"
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err and f"{sig.name}: stopped at iteration" in err
    ckpt = out / "checkpoint.npz"
    assert f"Resume with:\n    tinygan train --resume {ckpt}" in err
    done = load_checkpoint(ckpt).iteration
    assert done >= 1
    # ... and the printed command does resume it.
    assert main(["train", "--resume", str(ckpt), "--iterations", str(done + 2), "--quiet"]) == 0
    assert load_checkpoint(ckpt).iteration == done + 2


def test_eval_every_logs_metrics_and_keeps_the_best(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "ring", "--iterations", "20", "--eval-every", "10",
                 "--sample-every", "10", "--batch-size", "32", "--out", str(out), "--quiet"]) == 0
    header = (out / "history.csv").read_text().splitlines()[0].split(",")
    assert {"eval_modes", "eval_reverse_kl"} <= set(header), header
    assert (out / "best.npz").stat().st_size > 0
