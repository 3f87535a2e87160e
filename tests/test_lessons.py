"""Every lesson runs top to bottom in quick mode, its assertions hold and its figures are written.

Lessons are found by glob (``lessons/[0-9][0-9]_*.py``), so a new lesson is
tested as soon as it exists. Each runs as a subprocess, exactly as a student
runs it (``python lessons/03_losses.py``), with ``TINYGAN_QUICK=1`` and
``TINYGAN_FIGURES`` pointing at a temporary directory. A lesson *declares*
figures by calling ``save_figure(fig, "name.png")`` (``lessons/_common.py``):
every literal name it declares must appear, and at least one file if it
calls ``save_figure`` at all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
TIMEOUT = 170  # seconds for one lesson in quick mode: a generous cap for a loaded machine;
#               all lessons together should take <= 3 minutes on 2 idle cores

FIGURE_CALL = re.compile(r"save_figure\(")
FIGURE_NAME = re.compile(r"""save_figure\([^,()]+,\s*["']([^"'{}]+)["']\s*\)""")


def test_lessons_exist():
    assert len(LESSONS) >= 6, f"expected lessons in {LESSONS_DIR}, found {LESSONS}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_quick_mode(lesson, tmp_path):
    figures = tmp_path / "figures"
    # One BLAS thread: the lessons' matrices are small, and a spin-waiting second
    # OpenBLAS thread makes them many times slower when the machine is busy.
    env = dict(os.environ, TINYGAN_QUICK="1", TINYGAN_FIGURES=str(figures), MPLBACKEND="Agg",
               OPENBLAS_NUM_THREADS="1")
    try:
        proc = subprocess.run([sys.executable, str(lesson)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode(errors="replace") if isinstance(err.stdout, bytes) else err.stdout
        pytest.fail(f"{lesson.name} took more than {TIMEOUT} s in quick mode (all lessons together "
                    f"should take <= 3 minutes); its output so far:\n{(out or '')[-3000:]}")
    assert proc.returncode == 0, (
        f"{lesson.name} exited with {proc.returncode}\n--- stdout (tail) ---\n"
        f"{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-6000:]}")

    source = lesson.read_text(encoding="utf-8")
    written = sorted(p.name for p in figures.glob("*")) if figures.exists() else []
    if FIGURE_CALL.search(source):
        assert written, f"{lesson.name} calls save_figure but wrote no figure to {figures}"
    missing = set(FIGURE_NAME.findall(source)) - set(written)
    assert not missing, f"{lesson.name} declared figures it did not write: {sorted(missing)}"
    assert not [n for n in written if n.startswith(".")], f"temporary files left: {written}"
