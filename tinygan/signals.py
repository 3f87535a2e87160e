"""Ctrl-C and SIGTERM as a polite request: finish the step, save, then stop."""

from __future__ import annotations

import signal
import sys
import threading

from tinygan.progress import on_terminal


class catch_signals:
    """Turn the first SIGINT/SIGTERM into a request to stop after the current step.

    The loop then writes a checkpoint and returns normally.  A second signal
    acts as usual (KeyboardInterrupt / termination); files stay whole because
    every write is atomic.  Handlers can only be installed from the main thread.
    """

    def __init__(self, trainer):
        self.trainer, self.saved = trainer, {}

    def _handle(self, signum, frame):
        name = signal.Signals(signum).name
        self.trainer._stop = name
        # On a terminal the message starts a line of its own, after the bar and the "^C"
        # echoed into it; in a log that newline would only leave an empty line.
        lead = "\n" if on_terminal(sys.stderr) else ""
        self.trainer.echo(f"{lead}{name} received: saving a checkpoint after this step "
                          "(send it again to abort at once)")
        for sig, old in self.saved.items():
            signal.signal(sig, old)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, old in self.saved.items():
            signal.signal(sig, old)
        return False
