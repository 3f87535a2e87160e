"""The ``tinygan`` command line: ``tinygan train | sample | download ...``.

Each subcommand is a module of this package with two functions:
``add_parser(subparsers)`` declares its options and ``run(args) -> int``
does the work and returns the exit code.  Adding a subcommand means
writing such a module and adding its name to :data:`COMMANDS`.

Exit codes: 0 success, 1 failure while running (training diverged, a
download failed), 2 bad input (rejected before anything ran), 130 / 143
training stopped by Ctrl-C / SIGTERM after saving a checkpoint.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import tinygan

COMMANDS = ("train", "sample", "download", "evaluate")
COMPUTING = ("train", "sample", "evaluate")   # they read TINYGAN_BACKEND and _BLAS_THREADS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygan", description="Generative adversarial networks from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"tinygan {tinygan.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"tinygan.cli.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv=None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the subcommand, return its exit code.

    Ctrl-C anywhere in here -- also while the subcommands' modules, and with
    them NumPy, are imported, which takes a noticeable moment -- ends with one
    line and exit code 130.  (The package and this module import nothing heavy,
    so the console script reaches this function at once.)
    """
    command = "tinygan"
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        except SystemExit as exc:   # --help, or a usage error argparse has already printed
            return exc.code if isinstance(exc.code, int) else 2
        command = f"tinygan {args.command}"
        if args.command in COMPUTING:
            from tinygan.cli._environment import check_environment
            from tinygan.config import ConfigError
            try:
                check_environment()
            except ConfigError as exc:
                print(f"{command}: error: {exc}", file=sys.stderr)
                return 2
        return args._run(args)
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
