"""download(): against a local HTTP server on 127.0.0.1 -- never the internet."""

import gzip
import hashlib
import io
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from tinygan.cli import main
from tinygan.datasets import DatasetError, DestinationError, DownloadError, load
from tinygan.datasets import download as dl
from tinygan.datasets import mnist
from tinygan.datasets.idx import encode_idx


def make_files(seed=0):
    """Four small, valid gzipped IDX files under the official names."""
    rng = np.random.default_rng(seed)
    files = {}
    for split, n in (("train", 5), ("test", 3)):
        images_name, labels_name = (b + ".gz" for b in mnist.SPLIT_FILES[split])
        files[images_name] = gzip.compress(encode_idx(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)))
        files[labels_name] = gzip.compress(encode_idx(rng.integers(0, 10, n, dtype=np.uint8)))
    return files


FILES = make_files()
CHECKSUMS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


class Handler(BaseHTTPRequestHandler):
    """Routes: /ok/F serves F, /missing/F is a 404, /drop/F promises more bytes
    than it sends then closes, /bad/F serves the wrong bytes."""

    def do_GET(self):
        self.server.requests.append(self.path)
        mode, _, name = self.path.strip("/").partition("/")
        body = FILES.get(name)
        if mode == "missing" or body is None:
            self.send_error(404, "Not Found")
            return
        if mode == "bad":
            body = body[:-1] + bytes([body[-1] ^ 1])
        length = len(body) + 1000 if mode == "drop" else len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if mode == "drop" else body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    host, port = httpd.server_address
    httpd.url = lambda mode: f"http://{host}:{port}/{mode}/"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def get(dest, mirrors, checksums=CHECKSUMS, name="mnist"):
    return dl.download(name, dest=dest, mirrors=mirrors, checksums=checksums,
                       progress=False, timeout=5)


@pytest.fixture(autouse=True)
def nowhere_else(tmp_path, monkeypatch):
    """No copy of the data sets but the tests' own: no system package's, none in ~/.cache."""
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {})
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TINYGAN_DATA", raising=False)
    monkeypatch.setattr(dl, "IMAGES", {"train": 5, "test": 3})   # the sizes of make_files()


def test_success_then_load(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGAN_DATA", str(tmp_path))
    out = dl.download("mnist", mirrors=[server.url("ok")], checksums=CHECKSUMS, progress=False)
    assert out == tmp_path / "mnist"  # default destination: $TINYGAN_DATA/<name>
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    for name, data in FILES.items():
        assert (out / name).read_bytes() == data
    images, labels = load("mnist", split="test")
    assert images.shape == (3, 28, 28) and labels.shape == (3,)


def test_default_destination_is_home_cache(server, tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGAN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    out = dl.download("fashion-mnist", mirrors=[server.url("ok")], checksums=CHECKSUMS, progress=False)
    assert out == tmp_path / ".cache" / "tinygan" / "fashion-mnist"
    assert len(list(out.iterdir())) == 4


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a tty does: tqdm draws its bar on it."""

    def isatty(self):
        return True


def test_progress_bar_runs_on_a_terminal(server, tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    dl.download("mnist", dest=tmp_path, mirrors=[server.url("ok")], checksums=CHECKSUMS,
                progress=True, timeout=5)
    shown = terminal.getvalue()
    for name in FILES:
        assert f"\r{name}: 100%" in shown
    assert "bytes from" not in shown


def test_off_a_terminal_each_file_gets_one_line(server, tmp_path, capsys):
    dl.download("mnist", dest=tmp_path, mirrors=[server.url("missing"), server.url("ok")],
                checksums=CHECKSUMS, progress=True, timeout=5)
    err = capsys.readouterr().err
    assert "\r" not in err
    assert err.splitlines() == [f"{tmp_path / name}: {len(data):,} bytes from "
                                f"{server.url('ok')}, checksum ok" for name, data in FILES.items()]


def test_404_falls_back_to_next_mirror(server, tmp_path):
    get(tmp_path, [server.url("missing"), server.url("ok")])
    assert len(list(tmp_path.iterdir())) == 4
    first = "train-images-idx3-ubyte.gz"
    assert server.requests[:2] == [f"/missing/{first}", f"/ok/{first}"]


def test_present_files_are_not_fetched_again(server, tmp_path):
    get(tmp_path, [server.url("ok")])
    n = len(server.requests)
    get(tmp_path, [server.url("ok")])
    assert len(server.requests) == n


def test_corrupt_existing_file_is_replaced(server, tmp_path):
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"junk")
    get(tmp_path, [server.url("ok")])
    assert (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes() == FILES["t10k-labels-idx1-ubyte.gz"]


def only_one(name="train-labels-idx1-ubyte.gz"):
    return {name: CHECKSUMS[name]}


def test_checksum_mismatch(server, tmp_path):
    name = "train-labels-idx1-ubyte.gz"
    with pytest.raises(DownloadError) as err:
        get(tmp_path, [server.url("bad")], checksums=only_one(name))
    message = str(err.value)
    got = hashlib.sha256(FILES[name][:-1] + bytes([FILES[name][-1] ^ 1])).hexdigest()
    assert name in message and server.url("bad") + name in message
    assert f"expected sha256 {CHECKSUMS[name]}, got {got}" in message
    assert list(tmp_path.iterdir()) == []  # no partial or unverified file


def test_connection_dropped_mid_file(server, tmp_path):
    name = "train-images-idx3-ubyte.gz"
    with pytest.raises(DownloadError) as err:
        get(tmp_path, [server.url("drop")], checksums=only_one(name))
    n = len(FILES[name])
    assert re.search(rf"connection closed after {n // 2} of {n + 1000} bytes|IncompleteRead", str(err.value))
    assert list(tmp_path.iterdir()) == []


def test_all_mirrors_fail(server, tmp_path):
    mirrors = [server.url("missing"), server.url("drop"), server.url("bad")]
    with pytest.raises(DownloadError) as err:
        get(tmp_path, mirrors)
    message = str(err.value)
    assert "every mirror failed" in message
    for mirror in mirrors:
        assert mirror + "train-images-idx3-ubyte.gz" in message
    assert "HTTP 404" in message and "checksum mismatch" in message
    assert isinstance(err.value, DatasetError) and isinstance(err.value, ValueError)
    assert list(tmp_path.iterdir()) == []


def test_connection_refused(tmp_path):
    with socket.socket() as s:  # find a free port, then close it: nobody listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="cannot connect"):
        get(tmp_path, [f"http://127.0.0.1:{port}/"], checksums=only_one())
    assert list(tmp_path.iterdir()) == []


def test_interrupt_leaves_no_partial_file(server, tmp_path, monkeypatch):
    class InterruptingBar:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            raise KeyboardInterrupt  # Ctrl-C after the first chunk was written

    monkeypatch.setattr(dl, "tqdm", InterruptingBar)
    with pytest.raises(KeyboardInterrupt):
        get(tmp_path, [server.url("ok")], checksums=only_one("train-images-idx3-ubyte.gz"))
    assert list(tmp_path.iterdir()) == []


def test_unknown_name(tmp_path):
    with pytest.raises(DownloadError, match="cannot download 'cifar10'"):
        dl.download("cifar10", dest=tmp_path)


def test_main_usage_needs_no_network(capsys):
    assert dl.main([]) == 2
    assert dl.main(["cifar10"]) == 2
    assert "usage: tinygan download" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_official_tables(name):
    assert set(dl.SHA256[name]) == set(dl.FILES) == set(FILES)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in dl.SHA256[name].values())
    assert dl.MIRRORS[name] and all(m.startswith(("http://", "https://")) and m.endswith("/")
                                    for m in dl.MIRRORS[name])


# -- a destination that cannot hold the files: one error, before anything is fetched --
@pytest.fixture
def no_network(monkeypatch):
    def fetch(url, *args, **kwargs):
        raise AssertionError(f"{url} was fetched")
    monkeypatch.setattr(dl, "fetch", fetch)


def _not_a_folder(tmp_path, case):
    """``(dest, message)``: an existing file, or a folder that would have to be made in one."""
    a_file = tmp_path / "a-file"
    a_file.write_bytes(b"not a folder")
    if case == "a file":
        return a_file, f"{a_file} is a file, not a folder; choose another destination"
    dest = a_file / "mnist"
    return dest, f"cannot create the folder {dest}: {a_file} is a file, not a folder"


def _writable(folder):
    try:
        folder.joinpath(".tinygan-probe").touch()
    except OSError:
        return False
    folder.joinpath(".tinygan-probe").unlink()
    return True


SYS = Path("/sys")   # sysfs: no one, root included, may create a file there
needs_sys = pytest.mark.skipif(not SYS.is_dir() or _writable(SYS),
                               reason="no /sys that refuses new files")


@pytest.mark.parametrize("case", ["a file", "under a file"])
def test_a_destination_that_is_no_folder_is_refused_before_any_download(tmp_path, no_network,
                                                                        case):
    dest, message = _not_a_folder(tmp_path, case)
    with pytest.raises(DestinationError, match=re.escape(message)):
        get(dest, ["http://127.0.0.1:9/"])
    assert (tmp_path / "a-file").read_bytes() == b"not a folder"
    assert isinstance(DestinationError("x"), DownloadError)   # old handlers still catch it


@needs_sys
def test_a_folder_even_root_cannot_write_in_is_refused_before_any_download(no_network):
    with pytest.raises(DestinationError, match=r"^cannot write in /sys \(.+\); choose another "
                                                r"destination or make it writable$"):
        get(SYS, ["http://127.0.0.1:9/"])
    with pytest.raises(DestinationError, match=r"^cannot create the folder /sys/tinygan-data "):
        get(SYS / "tinygan-data", ["http://127.0.0.1:9/"])


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write in any directory")
def test_a_read_only_folder_is_refused_before_any_download(tmp_path, no_network):
    (tmp_path / "ro").mkdir(mode=0o555)
    with pytest.raises(DestinationError, match=r"cannot write in .*ro \(Permission denied\)"):
        get(tmp_path / "ro", ["http://127.0.0.1:9/"])


@pytest.mark.parametrize("case", ["a file", "under a file", "/sys"])
def test_the_cli_says_so_in_one_line_and_exits_2(tmp_path, no_network, capsys, case):
    if case == "/sys":
        if not SYS.is_dir() or _writable(SYS):
            pytest.skip("no /sys that refuses new files")
        dest, message = SYS, "cannot write in /sys ("
    else:
        dest, message = _not_a_folder(tmp_path, case)
    assert main(["download", "mnist", "--dest", str(dest), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tinygan download: error: ") and err.count("\n") == 1, err
    assert message in err and "mirror" not in err


def test_a_complete_copy_in_a_folder_that_takes_no_files_is_used(tmp_path, no_network,
                                                                 monkeypatch):
    """A read-only shared copy (a mount, another user's folder) that already holds every
    file with the right checksum needs no write test; one missing file does."""
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)

    def read_only(dest):
        raise DestinationError(f"cannot write in {dest} (Read-only file system)")
    monkeypatch.setattr(dl, "writable_folder", read_only)   # as if mounted read-only
    assert get(tmp_path, ["http://127.0.0.1:9/"]) == tmp_path
    (tmp_path / next(iter(FILES))).unlink()
    with pytest.raises(DestinationError, match="Read-only file system"):
        get(tmp_path, ["http://127.0.0.1:9/"])


def test_an_empty_destination_is_refused(no_network, capsys):
    """``--dest "$UNSET"`` would otherwise download into the current folder."""
    with pytest.raises(DestinationError, match="the destination is empty"):
        get("", ["http://127.0.0.1:9/"])
    assert main(["download", "mnist", "--dest", "", "--quiet"]) == 2
    assert "the destination is empty" in capsys.readouterr().err


def test_a_broken_symbolic_link_is_named(tmp_path, no_network):
    link = tmp_path / "data"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(DestinationError, match=re.escape(
            f"{link} is a symbolic link to {tmp_path / 'gone'}, which does not exist")):
        get(link / "mnist", ["http://127.0.0.1:9/"])
    assert not (tmp_path / "gone").exists()


def test_the_modules_own_main_exits_2_for_a_bad_destination(tmp_path, monkeypatch, capsys,
                                                              no_network):
    a_file = tmp_path / "a-file"
    a_file.write_bytes(b"")
    monkeypatch.setattr(dl, "cache_dir", lambda name: a_file)
    assert dl.main(["mnist"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


# -- a copy that tinygan already reads: never replaced, and no download needed ---------
def recompressed(folder, names=FILES):
    """The files of ``names`` in ``folder``, same contents, other .gz bytes (as Debian ships)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        data = gzip.compress(gzip.decompress(FILES[name]), compresslevel=1, mtime=0)
        assert hashlib.sha256(data).hexdigest() != CHECKSUMS[name]
        (folder / name).write_bytes(data)
    return {name: (folder / name).read_bytes() for name in names}


def test_a_data_set_load_already_finds_is_not_downloaded_again(tmp_path, monkeypatch,
                                                               no_network, capsys):
    system = tmp_path / "usr-share" / "fashion-mnist"
    recompressed(system)
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {"fashion-mnist": (system,)})
    assert main(["download", "fashion-mnist"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"fashion-mnist is already available in {system} (a system package's copy), where "
        "`tinygan train` finds it; nothing to download (--dest FOLDER downloads a copy there "
        "all the same)", f"fashion-mnist is in {system}"]
    assert not (tmp_path / "home").exists()                  # no empty cache folder either


def test_a_complete_readable_copy_in_dest_is_kept_as_it_is(tmp_path, no_network, capsys):
    """``--dest /usr/share/datasets/fashion-mnist``: the package's files are not replaced."""
    before = recompressed(tmp_path / "debian")
    assert get(tmp_path / "debian", ["http://127.0.0.1:9/"]) == tmp_path / "debian"
    assert {n: (tmp_path / "debian" / n).read_bytes() for n in FILES} == before
    dl.download("mnist", dest=tmp_path / "debian", mirrors=["http://127.0.0.1:9/"],
                checksums=CHECKSUMS, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{tmp_path / 'debian' / n}: already present, readable but not the "
                   "published file (recompressed?): kept as it is" for n in FILES]


def test_a_readable_split_of_another_size_is_not_kept(server, tmp_path):
    """A subset (or the other data set's split of another size) is not the data set."""
    other = make_files(seed=1)
    rng = np.random.default_rng(2)
    train_images, train_labels = (b + ".gz" for b in mnist.SPLIT_FILES["train"])
    (tmp_path / train_images).write_bytes(gzip.compress(encode_idx(
        rng.integers(0, 256, (4, 28, 28), dtype=np.uint8))))      # 4 images where 5 are published
    (tmp_path / train_labels).write_bytes(gzip.compress(encode_idx(
        rng.integers(0, 10, 4, dtype=np.uint8))))
    for name in mnist.SPLIT_FILES["test"]:
        (tmp_path / (name + ".gz")).write_bytes(other[name + ".gz"])   # 3 images: kept
    get(tmp_path, [server.url("ok")])
    assert sorted(server.requests) == [f"/ok/{train_images}", f"/ok/{train_labels}"]
    assert (tmp_path / train_images).read_bytes() == FILES[train_images]


def test_only_the_split_that_cannot_be_read_is_fetched(server, tmp_path):
    train = [b + ".gz" for b in mnist.SPLIT_FILES["train"]]
    before = recompressed(tmp_path, train)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"junk")   # the test split: unreadable
    get(tmp_path, [server.url("ok")])
    assert sorted(server.requests) == sorted(f"/ok/{b}.gz" for b in mnist.SPLIT_FILES["test"])
    assert {n: (tmp_path / n).read_bytes() for n in train} == before
    assert (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes() == \
        FILES["t10k-labels-idx1-ubyte.gz"]


def test_a_failed_download_leaves_no_folder_it_made(server, tmp_path):
    with pytest.raises(DownloadError, match="every mirror failed"):
        dl.download("mnist", mirrors=[server.url("missing")], checksums=CHECKSUMS,
                    progress=False)                           # into $HOME/.cache/tinygan/mnist
    assert not (tmp_path / "home").exists()
    (tmp_path / "data").mkdir()
    with pytest.raises(DownloadError):
        get(tmp_path / "data" / "a" / "b", [server.url("missing")])
    assert list((tmp_path / "data").iterdir()) == []         # the folder that was there stays
    # a file that did arrive keeps its folder: the next try goes on from there
    with pytest.raises(DownloadError):
        get(tmp_path / "data" / "a", [server.url("ok")],
            checksums={**only_one(), "t10k-labels-idx1-ubyte.gz": "0" * 64})
    assert [p.name for p in (tmp_path / "data" / "a").iterdir()] == ["train-labels-idx1-ubyte.gz"]


def test_a_failed_download_says_where_the_data_set_already_is(server, tmp_path, monkeypatch):
    system = tmp_path / "system"
    recompressed(system)
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {"fashion-mnist": (system,)})
    with pytest.raises(DownloadError) as err:
        get(tmp_path / "mine", [server.url("missing")], name="fashion-mnist")
    assert str(err.value).endswith(f"\nfashion-mnist is already available in {system} (a "
                                   "system package's copy), where `tinygan train` finds it.")
    assert not (tmp_path / "mine").exists()
