"""What a training run keeps in its ``--out`` folder, and how the folder is tidied.

A run folder holds the files named in :data:`OUTPUTS` and the sample grids
``samples/iter_NNNNNN.png``.  The trainer (:mod:`tinygan.training`) asks this
module three questions: does a folder already hold a run (:func:`holds_run`),
which frames does it have (:func:`frames`), and which files did an interrupted
run leave half-written (:func:`remove_stale_temps`).
"""

from __future__ import annotations

import re
from pathlib import Path

from tinygan.checkpoint import CheckpointError, load_checkpoint
from tinygan.files import stale_temps

OUTPUTS = ("checkpoint.npz", "config.json", "history.csv", "losses.png", "stats.png",
           "real_vs_generated.png", "progress.gif", "best.npz", "metrics.png", "metrics.json")
FRAME = re.compile(r"iter_(\d+)\.png$")   # a sample grid, named by its iteration


def holds_run(out: Path) -> bool:
    """Whether ``out`` holds a run that training there would replace.

    A run has a checkpoint from its start, and a history once it has logged.  A
    folder with only a ``config.json`` (and maybe the first frame) is a run that
    died before its first checkpoint: nothing in it can be continued or is worth
    keeping, so a new run may start there.
    """
    return (out / "checkpoint.npz").exists() or (out / "history.csv").exists()


def later_checkpoint(out: Path, ckpt) -> tuple[Path, int] | None:
    """``(path, iteration)`` of ``out/checkpoint.npz`` if it is another file than ``ckpt``
    and further on (resuming from ``best.npz`` in its own run folder would replace it)."""
    latest = out / "checkpoint.npz"
    if not latest.exists() or latest.resolve() == ckpt.path.resolve():
        return None
    try:
        iteration = load_checkpoint(latest).iteration
    except CheckpointError:
        return None   # unreadable: nothing of value is lost by replacing it
    return (latest, iteration) if iteration > ckpt.iteration else None


def frames(out: Path, after: int = -1) -> list[Path]:
    """The sample grids in ``out/samples`` of iterations after ``after``, in order."""
    found = []
    for p in (out / "samples").glob("iter_*.png"):
        m = FRAME.search(p.name)
        if m and int(m.group(1)) > after:
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]


def remove_stale_temps(out: Path) -> tuple[int, int]:
    """Delete the temporary files of a run's outputs that a killed run left in ``out``.

    A checkpoint's is as large as the checkpoint, and nothing else would ever
    remove them.  Only the temporary files of :data:`OUTPUTS` and of frames are
    touched.  Returns how many files, and how many bytes, were removed.
    """
    stale = (stale_temps(out, OUTPUTS.__contains__)
             + stale_temps(out / "samples", lambda name: FRAME.fullmatch(name)))
    size = sum(p.stat().st_size for p in stale)
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale), size
