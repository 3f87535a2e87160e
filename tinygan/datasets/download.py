"""Download MNIST or Fashion-MNIST into the cache, verified and atomically.

``tinygan download mnist`` calls :func:`download`. Each of the four files is
fetched from the first mirror that works, streamed into a temporary file
next to its destination while its SHA-256 is computed, and renamed into
place only if the byte count and the hash are right. Whatever goes wrong --
a 404, a dropped connection, a wrong hash, Ctrl-C -- no partial file is
left behind, and the error says which file, which URLs and why.

Only the standard library's :mod:`urllib` is used, and the mirror and
checksum tables are parameters so that tests can serve their own files
from a local HTTP server.
"""

import hashlib
import http.client
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from tinygan.datasets import mnist
from tinygan.datasets.errors import DatasetError, DestinationError, DownloadError
from tinygan.datasets.folders import missing_folders, remove_if_empty, writable_folder
from tinygan.datasets.mnist import SPLIT_FILES, cache_dir
from tinygan.files import atomic_write
from tinygan.progress import on_terminal

FILES = tuple(f"{base}.gz" for pair in SPLIT_FILES.values() for base in pair)
# Images in each published split (both data sets): a readable copy with another count
# is not the data set, whatever else it is
IMAGES = {"train": 60_000, "test": 10_000}

# Tried in order. yann.lecun.com, the original home of MNIST, is often down
# or asks for a login, so it comes last.
MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

# SHA-256 of the published .gz files (as used by TensorFlow Datasets and
# torchvision-style loaders; Fashion-MNIST's are also the ones whose MD5s
# its README publishes). Sizes in bytes: MNIST 9912422, 28881, 1648877, 4542;
# Fashion-MNIST 26421880, 29515, 4422102, 5148.
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

_CHUNK = 1 << 16
_USER_AGENT = "tinygan-datasets (urllib)"


def sha256_of(path):
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(url, target, sha256, *, progress=True, timeout=30.0):
    """Download ``url`` to ``target`` if and only if it arrives whole with the right hash.

    Parameters
    ----------
    url : str
    target : pathlib.Path
        Final path. The data goes to a temporary file in the same directory
        first, renamed over ``target`` (atomic) after verification.
    sha256 : str
        Expected hex digest.
    progress : bool
        Show a tqdm progress bar on stderr, if stderr is a terminal (elsewhere
        its redraws would pile up in the log).
    timeout : float
        Seconds to wait for the connection or for any single read.

    Raises
    ------
    DownloadError
        The reason (HTTP status, network error, short body, hash mismatch);
        the temporary file has been removed.
    """
    try:
        # ".part": a file seen in the cache while the download runs says what it is.
        # atomic_write removes it whatever goes wrong, Ctrl-C included.
        with atomic_write(target, suffix=".part") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                h, got = hashlib.sha256(), 0
                with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                          desc=target.name, file=sys.stderr,
                          disable=not (progress and on_terminal(sys.stderr))) as bar:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        h.update(chunk)
                        got += len(chunk)
                        bar.update(len(chunk))
            # urllib does not complain when the server closes the connection
            # before Content-Length bytes arrived; count them ourselves.
            if total is not None and got != total:
                raise DownloadError(f"connection closed after {got} of {total} bytes")
            if h.hexdigest() != sha256:
                raise DownloadError(f"checksum mismatch: expected sha256 {sha256}, "
                                    f"got {h.hexdigest()} ({got} bytes)")
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DownloadError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"cannot connect ({exc.reason})") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if isinstance(exc, DownloadError):
            raise
        # Timeouts, resets, IncompleteRead, bad URLs: all "this mirror failed".
        raise DownloadError(f"transfer failed ({type(exc).__name__}: {exc})") from None


def download(name, *, dest=None, mirrors=None, checksums=None, progress=True, timeout=30.0):
    """Fetch the four files of MNIST or Fashion-MNIST into the cache.

    Files already present with the right hash are not fetched again, and
    neither are files that tinygan reads as a whole split where they are: a
    system package's copy (Debian's ``dataset-fashion-mnist``) is recompressed,
    so its hashes differ, and its files must not be replaced.  Without
    ``dest``, nothing is fetched if :func:`tinygan.datasets.load` already
    finds the whole data set somewhere (it says where).

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    dest : str or os.PathLike, optional
        Directory to write to. Default: ``$TINYGAN_DATA/<name>/`` if the
        variable is set, else ``~/.cache/tinygan/<name>/`` -- where
        ``tinygan.datasets.load`` looks.
    mirrors : sequence of str, optional
        Base URLs tried in order for every file; default ``MIRRORS[name]``.
    checksums : dict, optional
        File name -> expected hex SHA-256; default ``SHA256[name]``. Only
        the files named here are downloaded.
    progress : bool
        Show a progress bar per file; if stderr is not a terminal, one line
        per file instead, once it is in place.
    timeout : float
        Network timeout in seconds.

    Returns
    -------
    pathlib.Path
        The directory holding the files.

    Raises
    ------
    DestinationError
        Before anything is fetched, if ``dest`` is empty, or if a file must be
        fetched and ``dest`` cannot hold it (:func:`writable_folder`).
    DownloadError
        If some file could not be fetched from any mirror; the message
        lists every URL tried and what went wrong there.  Folders made for
        the download are removed again if they are left empty.
    """
    if name not in MIRRORS:
        raise DownloadError(f"cannot download {name!r}; choose one of {tuple(MIRRORS)}")
    mirrors = tuple(MIRRORS[name] if mirrors is None else mirrors)
    checksums = dict(SHA256[name] if checksums is None else checksums)
    # Path("") is ".": an empty destination is more likely an unset shell variable than a choice
    if dest is not None and not str(dest).strip():
        raise DestinationError("the destination is empty; name a folder (or leave --dest out "
                               "for the default)")
    chosen = dest is not None
    dest = Path(cache_dir(name) if dest is None else dest).expanduser()
    present = {f for f, sha in checksums.items()
               if (dest / f).is_file() and sha256_of(dest / f) == sha}
    if len(present) < len(checksums) and not chosen and (found := mnist.available(name)):
        if progress:
            print(f"{_available_in(name, found)}; nothing to download (--dest FOLDER downloads "
                  "a copy there all the same)", file=sys.stderr)
        return found[0]
    readable = _readable_files(name, dest, checksums.keys() - present)
    if len(present) + len(readable) == len(checksums):
        _fetch_missing(name, dest, checksums, present, readable, mirrors, progress, timeout)
        return dest   # a complete copy, read-only or not: no write test, nothing written
    made = missing_folders(dest)
    try:
        dest = writable_folder(dest)
        _fetch_missing(name, dest, checksums, present, readable, mirrors, progress, timeout)
    except BaseException as exc:   # a failure, Ctrl-C too: no empty folder left behind
        remove_if_empty(made)
        if isinstance(exc, DestinationError) or not isinstance(exc, DownloadError):
            raise
        found = mnist.available(name)   # the files were wanted here, but they exist elsewhere
        if not found:
            raise
        raise DownloadError(f"{exc}\n{_available_in(name, found)}.") from None
    return dest


def _fetch_missing(name, dest, checksums, present, readable, mirrors, progress, timeout):
    """Fetch every file of ``checksums`` into ``dest`` but those ``present`` or ``readable``."""
    for filename, sha256 in checksums.items():
        target = dest / filename
        if filename in present or filename in readable:
            if progress:
                print(f"{target}: already present, " + (
                    "checksum ok" if filename in present else
                    "readable but not the published file (recompressed?): kept as it is"),
                    file=sys.stderr)
            continue
        failures = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + filename
            try:
                fetch(url, target, sha256, progress=progress, timeout=timeout)
                if progress and not on_terminal(sys.stderr):   # no bar was drawn
                    print(f"{target}: {target.stat().st_size:,} bytes from {base}, "
                          "checksum ok", file=sys.stderr)
                break
            except DownloadError as exc:
                failures.append(f"  {url}: {exc}")
        else:
            raise DownloadError(f"could not download {filename} for {name}; every mirror failed:\n"
                                + "\n".join(failures) + f"\n{target} was not written.")


def _readable_files(name, dest: Path, wanted) -> set[str]:
    """The files of ``wanted`` in ``dest`` whose split tinygan reads from there as it is,
    with as many images as the published split (:data:`IMAGES`).

    They are kept, whatever their hash: the same images and labels, maybe
    compressed otherwise, and perhaps a system package's files.  A split with
    another count (a subset, a truncated copy) is fetched again.
    """
    keep = set()
    for split, pair in SPLIT_FILES.items():
        files = [f"{base}.gz" for base in pair]
        if not wanted & set(files):
            continue
        try:
            _, labels = mnist.read_image_files(name, *(dest / f for f in files))
        except DatasetError:
            continue
        if len(labels) == IMAGES[split]:
            keep.update(f for f in files if f in wanted)
    return keep


def _available_in(name, found) -> str:
    """``fashion-mnist is already available in DIR (...), where tinygan train finds it``."""
    system = set(mnist.SYSTEM_DIRS.get(name, ()))
    where = " and ".join(f"{d}" + (" (a system package's copy)" if d in system else "")
                         for d in found)
    return f"{name} is already available in {where}, where `tinygan train` finds it"


def main(argv=None):
    """``python -m tinygan.datasets.download NAME``: download, print any error, return an exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in MIRRORS:
        print(f"usage: tinygan download {{{'|'.join(MIRRORS)}}}", file=sys.stderr)
        return 2
    try:
        path = download(argv[0])
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, DestinationError) else 1   # bad input, as the CLI says
    print(f"{argv[0]} is in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
