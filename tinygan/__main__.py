"""``python -m tinygan`` runs the same command line as ``tinygan``."""

import sys

from tinygan.cli import main

if __name__ == "__main__":
    sys.exit(main())
