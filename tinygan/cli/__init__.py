"""The ``tinygan`` command line (placeholder until the training application lands)."""

import sys


def main(argv=None) -> int:
    print("tinygan: the command line is not written yet", file=sys.stderr)
    return 2
