"""tinygan.files: atomic writes with the mode of a normal new file, and every writer using them."""

import os
import stat

import numpy as np
import pytest

from tinygan import files
from tinygan.files import atomic_path, atomic_write

# A umask that differs from the usual 022 in the group bits, so that a writer which
# hard-codes 0o644 (or keeps mkstemp's 0o600) fails the mode check.
UMASK = 0o027


@pytest.fixture
def umask():
    """Run the test with umask 027 (new files rw-r-----); restore the old umask afterwards."""
    before = os.umask(UMASK)
    try:
        yield UMASK
    finally:
        os.umask(before)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def write_with(writer, path, data: bytes):
    """Write ``data`` to ``path`` through ``atomic_write`` or ``atomic_path``, by name."""
    if writer == "atomic_write":
        with atomic_write(path) as f:
            f.write(data)
    else:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)


def test_atomic_write_binary_and_text(tmp_path):
    with atomic_write(tmp_path / "a.bin") as f:
        f.write(b"\x00\x01")
    with atomic_write(tmp_path / "b.csv", "w", newline="") as f:
        f.write("x\r\ny\n")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.csv").read_bytes() == b"x\r\ny\n"   # newline="": written as given
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.csv"]


@pytest.mark.parametrize("writer", ["atomic_write", "atomic_path"])
def test_new_file_gets_the_mode_open_would_give(tmp_path, umask, writer):
    path = tmp_path / "out.dat"
    write_with(writer, path, b"data")
    with open(tmp_path / "plain.dat", "w"):   # the reference: an ordinary new file
        pass
    assert mode(path) == 0o666 & ~umask == mode(tmp_path / "plain.dat") == 0o640


@pytest.mark.parametrize("writer", ["atomic_write", "atomic_path"])
@pytest.mark.parametrize("before", [0o600, 0o644])
def test_replaced_file_keeps_its_permissions(tmp_path, umask, writer, before):
    """A checkpoint the user made private (0600) stays private when a run rewrites it,
    as an editor keeps a file's mode; the umask (027 here) applies to new files only."""
    path = tmp_path / "out.dat"
    path.write_bytes(b"old")
    path.chmod(before)
    write_with(writer, path, b"new")
    assert path.read_bytes() == b"new" and mode(path) == before


def test_only_permission_bits_are_kept_and_a_symlink_is_replaced_as_a_name(tmp_path, umask):
    setuid = tmp_path / "tool"
    setuid.write_bytes(b"old")
    setuid.chmod(0o4755)
    with atomic_write(setuid) as f:
        f.write(b"new")
    assert mode(setuid) == 0o755                     # no set-user-ID on new contents
    target, link = tmp_path / "target.dat", tmp_path / "link.dat"
    target.write_bytes(b"old")
    target.chmod(0o600)
    link.symlink_to(target)
    with atomic_write(link) as f:
        f.write(b"new")
    assert not link.is_symlink() and link.read_bytes() == b"new" and mode(link) == 0o640
    assert target.read_bytes() == b"old" and mode(target) == 0o600
    loop = tmp_path / "loop"
    loop.symlink_to(loop)                            # stat() fails on it: still written
    with atomic_write(loop) as f:
        f.write(b"new")
    assert loop.read_bytes() == b"new"


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("writer", ["atomic_write", "atomic_path"])
def test_error_in_the_block_keeps_the_old_file_and_no_temp(tmp_path, writer, error):
    path = tmp_path / "out.dat"
    path.write_bytes(b"old contents")
    with pytest.raises(error):
        if writer == "atomic_write":
            with atomic_write(path) as f:
                f.write(b"half")
                raise error()
        else:
            with atomic_path(path) as tmp:
                tmp.write_bytes(b"half")
                raise error()
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.dat"]


def test_failed_rename_leaves_no_temp(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        with atomic_write(tmp_path / "out.dat") as f:
            f.write(b"data")
    assert list(tmp_path.iterdir()) == []


def test_data_is_synced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(files.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(files.os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b)))
    with atomic_write(tmp_path / "a") as f:
        f.write(b"1")
    with atomic_path(tmp_path / "b") as tmp:
        tmp.write_bytes(b"2")
    assert events == ["fsync", "replace"] * 2


def test_temp_file_is_hidden_beside_the_target_with_the_suffix(tmp_path):
    with atomic_path(tmp_path / "grid.png") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".grid.png.")
        assert tmp.suffix == ".png"   # Pillow / matplotlib may pick the format from it
        tmp.write_bytes(b"x")
    with atomic_write(tmp_path / "f.gz", suffix=".part") as f:
        [tmp] = [p for p in tmp_path.iterdir() if p.name != "grid.png"]
        assert tmp.name.startswith(".f.gz.") and tmp.suffix == ".part"
        f.write(b"y")


def test_missing_directory_and_bad_mode(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_write(tmp_path / "no" / "such.dat") as f:
            f.write(b"x")
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "a.dat", "ab"):
            pass
    assert list(tmp_path.iterdir()) == []


# -- every writer of tinygan goes through the helper --------------------------------
def write_checkpoint_arrays(path):
    from tinygan.checkpoint import atomic_savez
    atomic_savez(path, {"x": np.arange(3)})


def write_history(path):
    from tinygan.history import History
    History([{"iteration": 1, "d_loss": 0.5}]).save(path)


def write_grid(path):
    from tinygan import plots
    plots.save_grid(path, np.zeros((4, 28, 28)), ncols=2)


def write_chart(path):
    from tinygan import plots
    from tinygan.datasets import RING
    rng = np.random.default_rng(0)
    plots.save_scatter(path, RING.sample(50, rng), RING.sample(50, rng))


def write_idx_file(path):
    from tinygan.datasets.idx import write_idx
    write_idx(path, np.zeros((2, 3), np.uint8))


def write_download(path):
    from tinygan.datasets.download import fetch, sha256_of
    source = path.with_name("source.bin")
    source.write_bytes(b"0123456789" * 100)
    fetch(source.as_uri(), path, sha256_of(source), progress=False)   # urllib reads file://
    source.unlink()


def write_classifier(path):
    from tinygan.metrics.classifier import Classifier, build_classifier
    Classifier(build_classifier((4,), 3), "test", {}).save(path)


@pytest.mark.parametrize("write, name", [
    (write_checkpoint_arrays, "checkpoint.npz"), (write_history, "history.csv"),
    (write_grid, "grid.png"), (write_chart, "scatter.png"), (write_idx_file, "x-idx1-ubyte.gz"),
    (write_download, "train-labels-idx1-ubyte.gz"), (write_classifier, "weights.npz"),
])
def test_every_writer_makes_a_normal_file(tmp_path, umask, write, name):
    write(tmp_path / name)
    assert mode(tmp_path / name) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == [name]   # no temporary file left
