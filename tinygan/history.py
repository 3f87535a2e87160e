"""The training log: one row per logged iteration, kept in memory and in ``history.csv``.

Columns are whatever the rows hold: the loop logs ``iteration, d_loss,
g_loss, d_x, d_g_z, d_acc, time`` (and ``q_loss`` with InfoGAN's code) every
``log_every`` steps, adds ``sample_mean, sample_std`` at the iterations where
it draws a sample grid, and a callback (e.g. an evaluation every
``eval_every`` steps) may add its own.  A cell with no value is left empty.
The file is rewritten whole and atomically, so it always matches a
consistent moment of the run, and a resumed run reads it back and drops the
rows logged after its checkpoint.  A line damaged by hand or by a tool is
skipped on reading with one warning, and the file as it was is kept beside
it (``history.csv.damaged``) before the resumed run rewrites it.
"""

from __future__ import annotations

import csv
import io
import math
import sys
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
        # newline="": the csv module's own; UTF-8 whatever the locale, as load reads it
        with atomic_write(path, "w", encoding="utf-8", newline="") as f:
            f.write(self.to_csv())

    @classmethod
    def load(cls, path, warn=None, keep_damaged: bool = True) -> History:
        """Read a ``history.csv``; an absent file gives an empty history.

        A line that cannot be read (not UTF-8, a wrong number of fields, a
        value that is not a number, an iteration out of order) is skipped,
        never the good rows around it, and one warning names the file and
        the damaged lines.

        Parameters
        ----------
        path : str or os.PathLike
        warn : callable, optional
            Gets that one warning line; default: print it to stderr.
        keep_damaged : bool
            Keep a copy of a damaged file beside it, as ``history.csv.damaged``
            (or ``.damaged-2``, ... if that name holds something else): a run
            that resumes in this folder rewrites ``history.csv`` with the
            readable rows only, and the damaged lines must not be lost with it.

        Returns
        -------
        History
        """
        path = Path(path)
        if not path.is_file():
            return cls()
        data = path.read_bytes()
        rows, problems = _parse(data)
        if problems:
            kept = _keep_copy(path, data) if keep_damaged else "the file is left as it is"
            went = "its other rows go on" if rows else "no row can be read"
            (warn or _print)(f"warning: {path}: {_describe(problems)}; {went} ({kept})")
        return cls(rows)


# -- reading a history.csv that may be damaged ------------------------------------------
def _parse(data: bytes) -> tuple[list[dict], list[tuple[int, str]]]:
    """The readable rows of a history.csv's bytes, and ``(line number, why)`` of the others."""
    numbered, problems, header = [], [], None
    # Line by line, so that one undecodable line costs that line only.
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            fields = next(csv.reader([raw.decode("utf-8")]), [])
        except (UnicodeDecodeError, csv.Error) as exc:
            fields = exc
        if fields == []:
            continue   # a blank line
        if header is None:   # the first line names the columns; without it nothing is readable
            header = fields
            if isinstance(fields, Exception) or "iteration" not in fields \
                    or len(set(fields)) < len(fields):
                return [], [(number, "the header is not a list of column names with "
                                     "'iteration' among them")]
            continue
        try:
            if isinstance(fields, Exception):
                raise ValueError("not UTF-8 text" if isinstance(fields, UnicodeDecodeError)
                                 else f"not CSV ({fields})")
            numbered.append((number, _row(header, fields)))
        except ValueError as exc:
            problems.append((number, str(exc)))
    rows, out_of_order = _in_order(numbered)
    return rows, sorted(problems + out_of_order)


def _in_order(numbered: list[tuple[int, dict]]) -> tuple[list[dict], list[tuple[int, str]]]:
    """The rows whose iterations rise, and ``(line number, why)`` of those out of place.

    Rows are written in order, so a repeated or earlier iteration is not one of
    ours -- and neither is one *later* than the two rows after it (an iteration
    20 edited to 90 in front of 25 and 30): dropping that one row, rather than
    every row after it, is what leaves the most of the file.
    """
    its = [row["iteration"] for _, row in numbered]
    rows, problems = [], []
    for k, (number, row) in enumerate(numbered):
        it, last = its[k], rows[-1]["iteration"] if rows else -1
        following, after = (its[k + 1:k + 3] + [None, None])[:2]
        if it <= last:
            problems.append((number, f"iteration {it} after iteration {last}"))
        elif following is not None and last < following < it and (after is None or after <= it):
            problems.append((number, f"iteration {it} before iteration {following}"))
        else:
            rows.append(row)
    return rows, problems


def _row(header: list[str], fields: list[str]) -> dict:
    """One row as ``{column: number}``; ValueError saying what is wrong with it."""
    if len(fields) != len(header):
        raise ValueError(f"{len(fields)} fields where the header has {len(header)}")
    row = {}
    for name, text in zip(header, fields):
        if text == "":
            continue   # no value logged in this column at this iteration
        try:
            row[name] = float(text)
        except ValueError:
            raise ValueError(f"{name} is {text[:20]!r}, not a number") from None
    it = row.get("iteration")
    if it is None or not (it.is_integer() and it >= 0):
        raise ValueError(f"the iteration is {it}, not a whole number >= 0")
    row["iteration"] = int(it)
    return row


def _describe(problems: list[tuple[int, str]], shown: int = 3) -> str:
    """``line 5: why; line 9: why; and 4 more damaged lines``."""
    text = "; ".join(f"line {n}: {why}" for n, why in problems[:shown])
    more = len(problems) - shown
    return text + (f"; and {more} more damaged line{'s' * (more > 1)}" if more > 0 else "")


def _keep_copy(path: Path, data: bytes) -> str:
    """Copy ``data`` (the damaged file) to a free ``<name>.damaged[-k]`` beside ``path``."""
    for k in range(1, 100):
        copy = path.with_name(f"{path.name}.damaged" + (f"-{k}" if k > 1 else ""))
        if copy.is_file() and copy.read_bytes() == data:
            return f"a copy of it is kept as {copy}"   # kept by an earlier resume already
        if not copy.exists() and not copy.is_symlink():
            try:
                with atomic_write(copy) as f:
                    f.write(data)
            except OSError as exc:
                return f"a copy could not be kept as {copy}: {exc.strerror or exc}"
            return f"a copy of it is kept as {copy}"
    return f"no free name for a copy beside {path}; the damaged lines are not kept"


def _print(message: str):
    print(message, file=sys.stderr)

def _fmt(value) -> str:
    if isinstance(value, int):
        return str(value)
    value = float(value)
    return repr(value) if math.isfinite(value) else str(value)
