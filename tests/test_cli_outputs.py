"""The output files of ``tinygan sample`` and ``tinygan evaluate``: any suffix case, atomic."""

import numpy as np
import pytest

from tinygan.cli import main


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    """A finished 4-iteration ring run, shared by the tests below (none of them changes it)."""
    out = tmp_path_factory.mktemp("ring") / "run"
    assert main(["train", "--dataset", "ring", "--iterations", "4", "--out", str(out),
                 "--quiet"]) == 0
    return out


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
