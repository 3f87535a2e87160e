"""Progress on stderr: the tqdm bar on a terminal, a few plain lines in a log file."""

import io
import re

from tinygan.config import TrainConfig
from tinygan.progress import Lines, duration, on_terminal
from tinygan.training import Trainer, _postfix


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a tty does: tqdm draws its bar on it."""

    def isatty(self):
        return True


def ring(tmp_path, name="run", **kw):
    kw = {"dataset": "ring", "iterations": 20, "sample_every": 10, "log_every": 5,
          "checkpoint_every": 10, **kw}
    return TrainConfig(out=str(tmp_path / name), **kw)


LINE = re.compile(r"iteration +([\d,]+) / ([\d,]+) \((\d+)%\)")


def test_only_a_terminal_gets_the_bar(tmp_path):
    assert on_terminal(Terminal())
    assert not on_terminal(io.StringIO())      # a file, a pipe, pytest's capture
    with open(tmp_path / "log", "w") as closed:
        assert not on_terminal(closed)
    assert not on_terminal(closed)             # its isatty raises ValueError
    assert not on_terminal(object())           # no isatty at all


def test_off_a_terminal_a_run_prints_a_plain_line_every_tenth(tmp_path, capsys):
    result = Trainer(ring(tmp_path), progress=True).fit()
    err = capsys.readouterr().err
    assert "\r" not in err and "it/s" not in err          # no bar, not even once
    lines = [line for line in err.splitlines() if LINE.match(line)]
    assert [LINE.match(line).groups() for line in lines] == [
        (str(i), "20", str(5 * i)) for i in range(2, 21, 2)]
    assert lines[-1].startswith(f"iteration 20 / 20 (100%): {_postfix(result.stats)}; ")
    assert all(" left" in line for line in lines[:-1]) and " left" not in lines[-1]


def test_a_resumed_run_counts_its_tenths_from_where_it_resumes(tmp_path, capsys):
    Trainer(ring(tmp_path), progress=False).fit()
    assert capsys.readouterr().err == ""
    Trainer.resume(tmp_path / "run", {"iterations": 50}, progress=True).fit()
    counts = [int(m[1]) for m in LINE.finditer(capsys.readouterr().err)]
    assert counts == [23, 26, 29, 32, 35, 38, 41, 44, 47, 50]


def test_on_a_terminal_the_bar_is_drawn_as_before(tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    Trainer(ring(tmp_path), progress=True).fit()
    shown = terminal.getvalue()
    assert "\rmixture-mlp ring: 100%" in shown and "20/20" in shown
    assert not LINE.search(shown)


def test_lines_say_how_long_it_took_and_how_long_is_left():
    said = []
    lines = Lines(total=6000, initial=0, echo=said.append)
    lines.set_postfix_str("D 0.655 G 1.037")
    lines.n = 600
    assert lines.line(15.2) == ("iteration   600 / 6,000 (10%): D 0.655 G 1.037; 15 s, "
                                "about 2 min 17 s left")
    lines.n = 6000
    assert lines.line(151) == "iteration 6,000 / 6,000 (100%): D 0.655 G 1.037; 2 min 31 s"
    assert said == []                          # line() only formats; update() echoes
    assert [duration(s) for s in (0.4, 59.6, 135, 3600 + 5 * 60 + 29)] == [
        "0 s", "1 min 0 s", "2 min 15 s", "1 h 05 min"]
