"""The output files of ``tinygan sample`` and ``tinygan evaluate``: any suffix case, atomic."""

import os

import numpy as np
import pytest

from tinygan.cli import main


def test_upper_case_npy_suffix_holds_the_samples(ring_run, tmp_path, capsys):
    # np.save(name) appends ".npy" unless the name ends in lower-case ".npy": the samples
    # went to a stray file and X.NPY stayed empty.
    out = tmp_path / "S.NPY"
    assert main(["sample", "--checkpoint", str(ring_run), "-n", "5", "--out", str(out)]) == 0
    x = np.load(out, allow_pickle=False)
    assert x.shape == (5, 2) and np.isfinite(x).all()
    assert [p.name for p in tmp_path.iterdir()] == ["S.NPY"]
    assert f"to {out}" in capsys.readouterr().err


def test_upper_case_png_suffix_is_a_png(ring_run, tmp_path):
    out = tmp_path / "S.PNG"
    assert main(["sample", "--checkpoint", str(ring_run), "-n", "5", "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["S.PNG"]


# -- an output that cannot be written: one line, exit 2, before any work -------------
def one_error_line(capsys, command):
    """The captured stderr, checked to be exactly one ``tinygan <command>: error:`` line."""
    err = capsys.readouterr().err
    assert err.startswith(f"tinygan {command}: error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture
def no_evaluation(monkeypatch):
    """Fail the test if evaluate gets as far as computing metrics."""
    def refuse(*args, **kwargs):
        raise AssertionError("the metrics were computed before --out was checked")
    monkeypatch.setattr("tinygan.cli.evaluate.evaluate_gan", refuse)


def test_sample_out_is_a_directory(ring_run, tmp_path, capsys):
    (tmp_path / "adir.png").mkdir()
    assert main(["sample", "--checkpoint", str(ring_run), "--out",
                 str(tmp_path / "adir.png")]) == 2
    assert "is a directory" in one_error_line(capsys, "sample")
    assert list((tmp_path / "adir.png").iterdir()) == []


def test_sample_out_under_a_regular_file(ring_run, tmp_path, capsys):
    (tmp_path / "afile").write_text("keep me")
    assert main(["sample", "--checkpoint", str(ring_run), "--out",
                 str(tmp_path / "afile" / "s.npy")]) == 2
    assert "afile is not a directory" in one_error_line(capsys, "sample")
    assert (tmp_path / "afile").read_text() == "keep me"


def test_evaluate_out_is_a_directory_refused_before_the_metrics(ring_run, tmp_path, capsys,
                                                                 no_evaluation):
    (tmp_path / "m.json").mkdir()
    assert main(["evaluate", str(ring_run), "--out", str(tmp_path / "m.json")]) == 2
    assert "is a directory" in one_error_line(capsys, "evaluate")


def test_evaluate_will_not_write_json_over_the_checkpoint(ring_run, capsys, no_evaluation):
    checkpoint = ring_run / "checkpoint.npz"
    before = checkpoint.read_bytes()
    assert main(["evaluate", str(ring_run), "--out", str(checkpoint)]) == 2
    assert "must end in .json" in one_error_line(capsys, "evaluate")
    assert checkpoint.read_bytes() == before


def test_evaluate_out_in_a_missing_directory(ring_run, tmp_path, capsys, no_evaluation):
    assert main(["evaluate", str(ring_run), "--out", str(tmp_path / "no" / "m.json")]) == 2
    assert "does not exist" in one_error_line(capsys, "evaluate")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write in any directory")
def test_sample_into_a_read_only_directory(ring_run, tmp_path, capsys):
    (tmp_path / "ro").mkdir(mode=0o555)
    assert main(["sample", "--checkpoint", str(ring_run), "--out",
                 str(tmp_path / "ro" / "s.npy")]) == 2
    assert "permission denied" in one_error_line(capsys, "sample")


@pytest.fixture
def disk_full(monkeypatch):
    """Make every atomic write fail at the rename, as a full disk would fail the write."""
    import errno
    from tinygan import files

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(files.os, "replace", full)


@pytest.mark.parametrize("name", ["s.npy", "s.png"])
def test_sample_write_failure_is_one_line_and_keeps_the_old_file(ring_run, tmp_path, capsys,
                                                                 disk_full, name):
    out = tmp_path / name
    out.write_bytes(b"earlier samples")
    assert main(["sample", "--checkpoint", str(ring_run), "-n", "5", "--out", str(out)]) == 1
    err = one_error_line(capsys, "sample")
    assert err == f"tinygan sample: error: cannot write {out}: No space left on device\n"
    assert out.read_bytes() == b"earlier samples"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_evaluate_write_failure_is_one_line(ring_run, tmp_path, capsys, disk_full):
    out = tmp_path / "m.json"
    assert main(["evaluate", str(ring_run), "-n", "100", "--out", str(out)]) == 1
    err = one_error_line(capsys, "evaluate")
    assert err == f"tinygan evaluate: error: cannot write {out}: No space left on device\n"
    assert list(tmp_path.iterdir()) == []


# -- -n is bounded: the samples are held in memory -----------------------------------
@pytest.mark.parametrize("n, name, limit", [
    (300_000_000, "big.npy", "100,000"), (100_001, "big.npy", "100,000"),
    (10_001, "big.png", "10,000"),
])
def test_sample_refuses_a_huge_n(ring_run, tmp_path, capsys, n, name, limit):
    assert main(["sample", "--checkpoint", str(ring_run), "-n", str(n), "--out",
                 str(tmp_path / name)]) == 2
    assert f"at most {limit}" in one_error_line(capsys, "sample")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [300_000_000, 50_001])
def test_evaluate_refuses_a_huge_n(ring_run, tmp_path, capsys, no_evaluation, n):
    assert main(["evaluate", str(ring_run), "-n", str(n), "--out",
                 str(tmp_path / "m.json")]) == 2
    assert "at most 50,000" in one_error_line(capsys, "evaluate")


@pytest.mark.parametrize("args, message", [
    (["sample", "--checkpoint", "", "--out", "s.npy"], "--checkpoint got an empty path; give a "
                                                       "checkpoint or a run directory"),
    (["sample", "--checkpoint", "RUN", "--out", ""], "--out got an empty path; give a file "
                                                     "name ending in .png or .npy"),
    (["evaluate", ""], "RUN_DIR_OR_CHECKPOINT got an empty path; give a checkpoint or a run "
                       "directory"),
    (["evaluate", "RUN", "--out", ""], "--out got an empty path; give a .json file name"),
])
def test_an_empty_path_is_refused_as_such(ring_run, tmp_path, monkeypatch, capsys,
                                          no_evaluation, args, message):
    """``"$RUN"`` with RUN unset: not the current folder (nor, for evaluate --out, the default)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "checkpoint.npz").write_bytes(ring_run.joinpath("checkpoint.npz").read_bytes())
    args = [str(ring_run) if a == "RUN" else a for a in args]
    assert main(args) == 2
    assert message in one_error_line(capsys, args[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]   # nothing written
