"""history.csv read back by a resumed run: a damaged line costs that line, never the others."""

import pytest

from tinygan.history import History
from tinygan.training import Trainer
from tinygan.config import TrainConfig

HEADER = "iteration,d_loss,g_loss\n"
GOOD = "0,,\n10,0.5,2.0\n20,0.25,4.0\n"


def load(tmp_path, text: bytes | str, **kw):
    """Load ``text`` as history.csv; returns (iterations, the warnings said)."""
    path = tmp_path / "history.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    said = []
    history = History.load(path, warn=said.append, **kw)
    return [r["iteration"] for r in history.rows], said


@pytest.mark.parametrize("bad, why", [
    ("15,1,2,3,4,5,6,7,8,9,10,11,12\n", "13 fields where the header has 3"),
    ("abc,1,2\n", "iteration is 'abc', not a number"),
    ("15,1\n", "2 fields where the header has 3"),
    ("15,x,2\n", "d_loss is 'x', not a number"),
    ("15.5,1,2\n", "the iteration is 15.5, not a whole number >= 0"),
    ("5,1,2\n", "iteration 5 after iteration 10"),
    ("90,1,2\n", "iteration 90 before iteration 20"),   # one iteration edited up
    (b"15,\xff\xfe,2\n", "not UTF-8 text"),
])
def test_a_damaged_line_costs_only_itself_and_is_named(tmp_path, bad, why):
    bad = bad if isinstance(bad, bytes) else bad.encode()
    text = (HEADER + "0,,\n10,0.5,2.0\n").encode() + bad + b"20,0.25,4.0\n"
    iterations, said = load(tmp_path, text)
    assert iterations == [0, 10, 20]
    path = tmp_path / "history.csv"
    assert said == [f"warning: {path}: line 4: {why}; its other rows go on "
                    f"(a copy of it is kept as {path}.damaged)"]
    assert (tmp_path / "history.csv.damaged").read_bytes() == text
    assert path.read_bytes() == text                       # the file itself is not touched


def test_a_good_file_loads_quietly_and_gets_no_copy(tmp_path):
    assert load(tmp_path, HEADER + GOOD + "\n") == ([0, 10, 20], [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv"]


def test_many_damaged_lines_make_one_warning(tmp_path):
    iterations, said = load(tmp_path, HEADER + "x\n" * 5 + GOOD)
    assert iterations == [0, 10, 20] and len(said) == 1
    assert said[0].count("line ") == 3 and "and 2 more damaged lines" in said[0]


def test_a_damaged_header_keeps_the_file_and_starts_empty(tmp_path):
    iterations, said = load(tmp_path, b"\xffiteration,d_loss\n" + GOOD.encode())
    assert iterations == [] and "line 1: the header is not" in said[0]
    assert "no row can be read" in said[0]
    assert (tmp_path / "history.csv.damaged").is_file()


def test_an_earlier_copy_is_neither_replaced_nor_duplicated(tmp_path):
    (tmp_path / "history.csv.damaged").write_bytes(b"an older damaged file")
    _, said = load(tmp_path, HEADER + "x\n" + GOOD)
    assert said[0].endswith(f"kept as {tmp_path / 'history.csv.damaged-2'})")
    assert (tmp_path / "history.csv.damaged").read_bytes() == b"an older damaged file"
    _, said = load(tmp_path, HEADER + "x\n" + GOOD)      # the same file again: the same copy
    assert said[0].endswith("damaged-2)") and not (tmp_path / "history.csv.damaged-3").exists()


def test_without_keep_damaged_the_folder_is_left_alone(tmp_path):
    _, said = load(tmp_path, HEADER + "x\n" + GOOD, keep_damaged=False)
    assert said[0].endswith("(the file is left as it is)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv"]


def ring(tmp_path, iterations):
    return TrainConfig(dataset="ring", iterations=iterations, sample_every=5, log_every=5,
                       checkpoint_every=10, lr_decay=1.0, seed=0, out=str(tmp_path / "run"))


def test_a_resumed_run_keeps_the_good_rows_and_drops_those_after_its_checkpoint(tmp_path):
    Trainer(ring(tmp_path, 20), progress=False, echo=lambda m: None).fit()
    path = tmp_path / "run" / "history.csv"
    before = path.read_text().splitlines()
    # a damaged row among those before the checkpoint's iteration, one after it
    damaged = "\n".join(before[:3] + ["abc,1,2"] + before[3:] + ["25,1,2"]) + "\n"
    path.write_text(damaged)
    said = []
    trainer = Trainer.resume(tmp_path / "run", {"iterations": 30}, progress=False,
                             echo=said.append)
    assert trainer.fit().status == "done"
    after = path.read_text().splitlines()
    assert after[:len(before)] == before                  # every earlier row goes on
    assert [r.split(",")[0] for r in after[len(before):]] == ["25", "30"]   # the new run's
    assert len(said) == 1 and f"{path}: line 4: " in said[0] and "line 8: " in said[0]
    assert (tmp_path / "run" / "history.csv.damaged").read_text() == damaged
