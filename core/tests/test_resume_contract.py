"""The loggers' resume contract (issue 18): call numbers as default counters, checkpointed and continued;
``on_checkpoint`` before every checkpoint (waited for, background loggers too); ``on_resume`` with where
the run continues; a logger without ``on_resume`` named once in a warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import trialog
from trialog import hookimpl
from trialog.errors import TrialogWarning
from trialog.loggers.dispatch import CombinedLogger


class Steps:
    """Records the counter it would use by default: the dispatcher's call number."""

    def __init__(self) -> None:
        self.points: list[tuple[str, str | None, int | None, int | None]] = []
        self.events: list[tuple] = []

    @hookimpl
    def show_value(self, value, name, counter, tag, call=None):
        self.points.append((name, tag, counter, call))

    @hookimpl
    def show_text(self, text, call=None):
        self.events.append(("text", call))


class Contract(Steps):
    """A third-party logger implementing the contract (here: in the background, as network loggers are)."""

    background = True

    @hookimpl
    def on_checkpoint(self, step, epoch, position):
        self.events.append(("checkpoint", step, epoch, position))

    @hookimpl
    def on_resume(self, step, epoch, position, results, source):
        self.events.append(("resume", step, epoch, position, results, source))


def test_default_counters_are_call_numbers_counting_every_call():
    clog = CombinedLogger({"a": {"type": Steps, "every": 10}, "b": Steps})
    for i in range(25):
        clog.show_value(float(i), "loss")
        clog.show_value(float(i), "loss", tag="val")
    clog.show_value(1.0, "loss", counter=7)  # a counter given: no call number
    every_ten, every_call = clog["a"], clog["b"]
    # TB's steps with every=10: 0, 10, 20
    assert [c for _, tag, _, c in every_ten.points if tag is None] == [0, 10, 20]
    assert [c for *_, c in every_call.points[:6]] == [0, 0, 1, 1, 2, 2]  # per (name, tag)
    assert every_call.points[-1] == ("loss", None, 7, None)
    clog.show_text("a")  # per (hook, name, tag): show_text's name None counts on its own
    clog.show_text("b")
    clog.show_text("c", counter=3)
    assert every_call.events == [("text", 0), ("text", 1), ("text", None)]
    clog.close()


def test_call_numbers_are_state_that_continues():
    first = CombinedLogger({"a": {"type": Steps, "every": 10}})
    for _ in range(13):
        first.show_value(1.0, "loss", tag="train")
    state = first.counter_state()
    assert state == [["show_value", "loss", "train", 13]]
    second = CombinedLogger({"a": {"type": Steps, "every": 10}})
    second.restore_counters(state)
    for _ in range(10):
        second.show_value(1.0, "loss", tag="train")
    # calls 13..22: the one due is call 20, as in an uninterrupted run
    assert second["a"].points == [("loss", "train", None, 20)]


class Counting(trialog.Experiment):
    def train(self, epoch):
        for _ in range(3):
            self.add_result(1.0, "loss")

    def validate(self, epoch):
        pass


def test_resume_tells_every_logger_where_the_run_continues(tmp_path):
    first = Counting(name="c", n_epochs=2, base_dir=tmp_path, loggers={"x": Contract}, save_sources=False)
    first.run()
    first.close()
    marks = [e for e in first.loggers["x"].events if e[0] == "checkpoint"]
    assert [(step, epoch) for _, step, epoch, _ in marks] == [(0, 0), (1, 1)]
    assert marks[0][3] < marks[1][3]  # the results log's position at each checkpoint
    with pytest.warns(TrialogWarning, match=r"'plain' \(Steps\) do not implement on_resume") as caught:
        resumed = Counting(
            n_epochs=3,
            base_dir=tmp_path,
            resume=first.run_dir,
            loggers={"x": Contract, "plain": Steps},
            save_sources=False,
        )
        resumed.run()
        resumed.close()
    assert sum("on_resume" in str(w.message) for w in caught) == 1
    contract = resumed.loggers["x"]
    resume = [e for e in contract.events if e[0] == "resume"]
    results = str(first.run_dir / "result" / "results.jsonl")
    assert resume == [("resume", 1, 1, marks[1][3], results, str(first.run_dir))]
    assert contract.events.index(resume[0]) < len(contract.events) - 1  # before the next checkpoint
    # the default counters continued: calls 6, 7, 8 of "loss" (3 per epoch, two epochs before)
    assert [c for *_, c in contract.points] == [6, 7, 8]


def test_resume_before_the_first_checkpoint_says_so(tmp_path):
    first = Counting(
        name="c", n_epochs=1, base_dir=tmp_path, loggers={}, checkpoint=False, save_sources=False
    )
    first.run()
    first.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every logger implements on_resume: no warning
        resumed = Counting(
            n_epochs=1, base_dir=tmp_path, resume=first.run_dir, loggers={"x": Contract}, save_sources=False
        )
        resumed.run()
        resumed.close()
    resume = [e for e in resumed.loggers["x"].events if e[0] == "resume"]
    assert resume == [
        ("resume", None, None, 0, str(first.run_dir / "result" / "results.jsonl"), str(first.run_dir))
    ]


def _readme_logger() -> type:
    """The README's example of a logger implementing the contract, run as written."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("```python\nimport json, os\nfrom trialog import hookimpl\n\nclass LinesLogger")
    code = readme[start + len("```python\n") : readme.index("```\n", start + 10)]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace["LinesLogger"]


def test_the_readmes_logger_ends_as_if_there_had_been_no_kill(tmp_path):
    lines = _readme_logger()
    whole = Counting(name="w", n_epochs=3, base_dir=tmp_path / "w", loggers={"l": lines}, save_sources=False)
    whole.run()
    whole.close()
    first = Counting(name="k", n_epochs=2, base_dir=tmp_path / "k", loggers={"l": lines}, save_sources=False)
    first.run()
    first.close()
    with open(first.run_dir / "lines.txt", "a") as handle:
        handle.write("loss 6 99.0\n")  # what a killed process logged after its last checkpoint
    resumed = Counting(
        n_epochs=3, base_dir=tmp_path / "k", resume=first.run_dir, loggers={"l": lines}, save_sources=False
    )
    resumed.run()
    resumed.close()
    expected = (whole.run_dir / "lines.txt").read_text()
    assert expected.count("\n") == 9
    assert (first.run_dir / "lines.txt").read_text() == expected
