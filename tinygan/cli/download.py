"""``tinygan download``: fetch MNIST or Fashion-MNIST into the cache (verified by SHA-256)."""

from __future__ import annotations

import sys

from tinygan.datasets import DatasetError, DestinationError
from tinygan.datasets.download import MIRRORS, download


def add_parser(subparsers):
    p = subparsers.add_parser(
        "download", help="download MNIST or Fashion-MNIST",
        description="Download the four files of a data set, check their SHA-256 and store them "
                    "where 'tinygan train --dataset NAME' finds them: $TINYGAN_DATA/NAME/ or "
                    "~/.cache/tinygan/NAME/. Files already present are not fetched again, nor "
                    "replaced if tinygan reads them (a system package's recompressed copy); "
                    "without --dest, nothing is fetched if 'tinygan train' already finds the "
                    "data set (e.g. Debian's dataset-fashion-mnist).")
    p.add_argument("name", choices=tuple(MIRRORS), help="the data set")
    p.add_argument("--dest", help="directory to write to instead of the cache (also when "
                                  "'tinygan train' finds the data set elsewhere)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def run(args) -> int:
    try:
        path = download(args.name, dest=args.dest, progress=not args.quiet)
    except DestinationError as exc:   # bad input, found before anything was fetched
        print(f"tinygan download: error: {exc}", file=sys.stderr)
        return 2
    except DatasetError as exc:
        print(f"tinygan download: error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.name} is in {path}", file=sys.stderr)
    return 0
