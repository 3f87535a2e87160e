"""What every lesson shares: the quick switch, the figures directory, matplotlib set-up.

Not library code -- only the plumbing that lets a lesson run as a script, in a
notebook and under ``tests/test_lessons.py`` alike.

* ``QUICK``: True when the environment sets ``TINYGAN_QUICK=1``; lessons shrink
  their loops (the tests run every lesson this way).
* ``FIGURES``: where figures go: ``$TINYGAN_FIGURES`` or ``lessons/figures/``.
* ``save_figure(fig, name)``: writes ``FIGURES / name`` atomically and closes the figure
  (in a notebook it is shown inline first).
* ``plt``: matplotlib.pyplot, on the non-interactive Agg backend outside Jupyter.
* BLAS (NumPy's matrix products) is limited to one thread for every lesson.
* The repository root goes first on ``sys.path``, so ``import tinygan`` finds
  this checkout's package without installing it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy  # noqa: E402,F401  (loads NumPy's BLAS, so the limit below reaches it)
from threadpoolctl import threadpool_limits  # noqa: E402

# One BLAS thread. A lesson's matrices are small (a training step is a few ms of
# products), so a second BLAS thread gains little, and it spin-waits at the end of
# every product, competing for a core with the thread that has work: on a busy
# 2-core machine lesson 09 ran ~11x slower with two threads (the top-level
# README's Performance section shows where the time goes). The timings in
# lessons/README.md assume one thread.
BLAS_LIMIT = threadpool_limits(1)

from tinygan.files import atomic_path  # noqa: E402

import matplotlib  # noqa: E402

IN_NOTEBOOK = "ipykernel" in sys.modules
if not IN_NOTEBOOK:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

QUICK = os.environ.get("TINYGAN_QUICK", "0").strip() not in ("", "0")
FIGURES = Path(os.environ.get("TINYGAN_FIGURES") or ROOT / "lessons" / "figures")


def save_figure(fig, name: str) -> Path:
    """Save ``fig`` as ``FIGURES / name`` atomically (:mod:`tinygan.files`) and close it."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / name
    with atomic_path(path) as tmp:   # keeps the suffix: matplotlib picks the format by it
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    if IN_NOTEBOOK:
        plt.show()
    plt.close(fig)
    print(f"figure: {path}")
    return path


__all__ = ["QUICK", "FIGURES", "ROOT", "plt", "save_figure"]
