"""The training log: one row per logged iteration, kept in memory and in ``history.csv``.

Columns are whatever the rows hold: the loop logs ``iteration, d_loss,
g_loss, d_x, d_g_z, d_acc, time`` (and ``q_loss`` with InfoGAN's code) every
``log_every`` steps, adds ``sample_mean, sample_std`` at the iterations where
it draws a sample grid, and a callback (e.g. an evaluation every
``eval_every`` steps) may add its own.  A cell with no value is left empty.
The file is rewritten whole and atomically, so it always matches a
consistent moment of the run, and a resumed run reads it back and drops the
rows logged after its checkpoint.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from tinygan.files import atomic_write

BASE_COLUMNS = ("iteration", "d_loss", "g_loss", "d_x", "d_g_z", "d_acc", "time")
# Where the loop's optional column goes when a run has it: beside its kin, before time.
_ORDER = (*BASE_COLUMNS[:-1], "q_loss", BASE_COLUMNS[-1])


class History:
    """Rows of ``{column: number}``, in iteration order."""

    def __init__(self, rows=None):
        self.rows: list[dict] = list(rows or [])

    def log(self, iteration: int, **values):
        """Add values for ``iteration``; merged into the last row if it is the same iteration."""
        if self.rows and self.rows[-1]["iteration"] == iteration:
            self.rows[-1].update(values)
        else:
            self.rows.append({"iteration": int(iteration), **values})

    def columns(self) -> list[str]:
        """BASE_COLUMNS (and q_loss when logged) in their order, then others as first seen."""
        seen = {}
        for row in self.rows:
            seen.update(dict.fromkeys(row))
        first = [c for c in _ORDER if c in BASE_COLUMNS or c in seen]
        return first + [c for c in seen if c not in first]

    def series(self, column: str) -> tuple[list[int], list[float]]:
        """(iterations, values) of the rows that have ``column``."""
        pairs = [(r["iteration"], r[column]) for r in self.rows if r.get(column) is not None]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def truncate(self, iteration: int):
        """Forget rows logged after ``iteration`` (they belong to a run that was not kept)."""
        self.rows = [r for r in self.rows if r["iteration"] <= iteration]

    # -- the CSV file ----------------------------------------------------------------
    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns(), restval="", lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _fmt(v) for k, v in row.items()})
        return out.getvalue()

    def save(self, path):
        """Write ``history.csv`` atomically."""
        with atomic_write(path, "w", newline="") as f:   # newline="": the csv module's own
            f.write(self.to_csv())

    @classmethod
    def load(cls, path) -> History:
        """Read a ``history.csv``; an absent file gives an empty history."""
        path = Path(path)
        if not path.is_file():
            return cls()
        rows = []
        with open(path, newline="") as f:
            for i, raw in enumerate(csv.DictReader(f), start=2):
                try:
                    row = {k: float(v) for k, v in raw.items() if v not in ("", None)}
                    row["iteration"] = int(row["iteration"])
                except (KeyError, ValueError) as exc:
                    raise ValueError(f"{path}, line {i}: not a history row ({exc})") from None
                rows.append(row)
        return cls(rows)


def _fmt(value) -> str:
    if isinstance(value, int):
        return str(value)
    value = float(value)
    return repr(value) if math.isfinite(value) else str(value)
