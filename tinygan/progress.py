"""Progress on stderr: a tqdm bar on a terminal, a few plain lines anywhere else.

A tqdm bar redraws itself about ten times a second with a carriage return.
On a terminal that is one line that changes; in a file (``> log``, ``nohup``,
``| tee``, a CI job) every redraw stays, all on one "line": 170 KB for the
default 6,000-iteration run.  So, like pip or Keras' ``verbose=2``, tinygan
draws the bar only when stderr is a terminal and otherwise writes a plain
line now and then (:class:`Lines`).
"""

from __future__ import annotations

import math
import time


def on_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal, where a bar can redraw itself in place.

    False for anything without a working ``isatty`` (a closed file, a test's
    capture object), so the safe choice -- plain lines -- is the default.
    """
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):   # no isatty, or a closed file
        return False


class Lines:
    """What the training loop shows instead of a tqdm bar when stderr is no terminal.

    It takes the calls the loop makes on its bar (``update``,
    ``set_postfix_str``, ``close``) and writes, through ``echo``, one line
    at every tenth of the iterations this call of ``fit`` runs and one at
    the end::

        iteration   600 / 6,000 (10%): D 0.655 G 1.037 D(x) 0.49 D(G(z)) 0.41; 15 s, about 2 min 17 s left

    Tenths of the run rather than every so many seconds: ten lines at most are
    read at a glance, and a run writes them at the same iterations on any machine.
    A resumed run counts its tenths, its time and its rate from where it resumes,
    as the bar does.

    Parameters
    ----------
    total : int
        The iteration the run ends at.
    initial : int
        The iteration it starts from (more than 0 for a resumed run).
    echo : callable
        Where each line goes.
    """

    PARTS = 10

    def __init__(self, total: int, initial: int, echo):
        self.n, self.total, self.start, self.echo = initial, total, initial, echo
        self.every = max(1, math.ceil((total - initial) / self.PARTS))
        self.postfix = ""
        self._t0 = time.perf_counter()

    def set_postfix_str(self, s: str = "", refresh: bool = True):
        """Keep ``s`` (the latest losses) for the next line; the bar's signature."""
        self.postfix = s

    def update(self, n: int = 1):
        self.n += n
        if (self.n - self.start) % self.every == 0 or self.n >= self.total:
            self.echo(self.line(time.perf_counter() - self._t0))

    def close(self):
        """Nothing to clean up: there is no bar to leave on screen."""

    def line(self, seconds: float) -> str:
        """The line for the current iteration, ``seconds`` after the start."""
        width = len(f"{self.total:,}")   # the counts line up from one line to the next
        text = (f"iteration {self.n:>{width},} / {self.total:,} "
                f"({100 * self.n // self.total}%)")
        if self.postfix:
            text += f": {self.postfix}"
        text += f"; {duration(seconds)}"
        if self.n < self.total:
            left = seconds / max(self.n - self.start, 1) * (self.total - self.n)
            text += f", about {duration(left)} left"
        return text


def duration(seconds: float) -> str:
    """``seconds`` for people: ``"15 s"``, ``"2 min 15 s"``, ``"1 h 05 min"``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1: "1 sample", "1,000 samples"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
