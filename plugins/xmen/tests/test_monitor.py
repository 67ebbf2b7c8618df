"""trialog.Monitor: spec parsing, nested-loop counting, firing steps, limit, hooks, and exact resume after SIGKILL."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from trialog_xmen import Spec

import trialog
from trialog.errors import ConfigError, TrialogWarning
from trialog.results.log import read_results

HANG = 1800

SCRIPT = Path(__file__).with_name("monitor_script.py")


def test_spec_parse():
    spec = Spec.parse("^loss$@10s")
    assert (spec.modulo, spec.trigger, spec.target) == (10, "step", None)
    assert spec.matches("loss") and not spec.matches("val/loss")
    assert Spec.parse("a|b->X@2eo").target == "X" and Spec.parse("a|b->X@2eo").trigger == "eon"
    assert Spec.parse("acc").trigger is None and Spec.parse("@1epoch").regex is None
    # fullmatch, not search: xmen's unanchored 'loss' would also take 'val_loss'
    assert not Spec.parse("loss@1s").matches("val_loss")


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"log": "loss@0s"}, ["loss@0s", "at least 1"]),
        ({"log": "loss@3x"}, ["loss@3x", "unknown monitor trigger 'x'"]),
        ({"log": "loss@s"}, ["loss@s", "count and a trigger"]),
        ({"log": "(loss@1s"}, ["(loss@1s", "not a regular expression"]),
        ({"time": "loss@1s"}, ["time", "only a period"]),
        ({"limit": "x@3e"}, ["limit", "only a period"]),
        ({"checkpoint": "@1e"}, ["checkpoint", "needs an Experiment"]),
        ({"log": 3}, ["log must be a spec string"]),
        ({"hooks": [object()]}, ["MonitorHook"]),
    ],
)
def test_bad_specs_are_named(kw, words):
    with pytest.raises(ConfigError) as info:
        trialog.Monitor(**kw)
    for word in words:
        assert word in str(info.value)


class Record(trialog.MonitorHook):
    def __init__(self, spec):
        super().__init__(spec)
        self.calls = []

    def __call__(self, monitor, values, trigger, count):
        self.calls.append((trigger, count, dict(values)))


def test_nested_loops_count_and_fire(capsys):
    steps, epochs, manual = Record("x@4s"), Record("y@1e"), Record("z")
    m = trialog.Monitor(log="x@5s", hooks=[steps, epochs, manual])
    for e in m(range(3)):
        for i in m(range(3)):
            m.log(x=10 * e + i)
        m.log({"y": e})
    assert (m.step, m.epoch, m.s, m.e, m.era) == (9, 3, 9, 3, 0)
    assert steps.calls == [("step", 4, {"x": 10}), ("step", 8, {"x": 21})]
    assert epochs.calls == [("epoch", 1, {"y": 0}), ("epoch", 2, {"y": 1}), ("epoch", 3, {"y": 2})]
    assert capsys.readouterr().out == "[step 5] x: 11\n"
    m.to_hooks(z=1, other=2)
    assert manual.calls == [(None, 0, {"z": 1})]
    assert m.modulo("e", 3) and not m.modulo("s", 2) and m.modulo("era", 1) and not m.modulo("era", 1, True)
    assert "step=9, epoch=3" in m.summary() and "hook: x@4s" in m.summary(verbose=1)


def test_a_value_is_passed_once_and_three_levels_count():
    rec = Record("v@1s")
    m = trialog.Monitor(hooks=[rec])
    with pytest.warns(
        TrialogWarning, match=r"'v@1s' matched no value by its first firing \(values given: none\)"
    ):
        run_three_levels(m)
    assert (m.step, m.epoch, m.era) == (8, 4, 2)
    assert [c[1] for c in rec.calls] == [3, 5, 7]


def run_three_levels(m):
    for _ in m(range(2)):
        for _ in m(range(2)):
            for _ in m(range(2)):
                pass
            m.log(v=1)  # given once per epoch: the step firings after it do not repeat it


def test_limit_stops_every_loop_and_inc_counts():
    m = trialog.Monitor(limit="@7s")
    seen = [(e, i) for e in m(range(5)) for i in m(range(3))]
    assert len(seen) == 7 and m.step == 7 and m.epoch == 3  # the epoch in progress completes, then all stop
    assert m.stopped and list(m(range(3))) == []
    m2 = trialog.Monitor(hooks=[rec := Record("a@2er")])
    m2.log(a=1)
    m2.inc("er")
    m2.inc("era")
    assert m2.era == 2 and rec.calls == [("era", 2, {"a": 1})]
    with pytest.raises(ConfigError, match="unknown monitor trigger"):
        m2.inc("hour")


def test_a_spec_without_period_is_checked_at_the_first_epoch():
    m = trialog.Monitor(log="acc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for e in m(range(2)):
            for _ in m(range(2)):
                m.log(loss=1.0)
            m.log(acc=e)
    m = trialog.Monitor(log="accuracy")
    with pytest.warns(TrialogWarning, match=r"'accuracy' matched no value by the first epoch"):
        for e in m(range(2)):
            for _ in m(range(2)):
                pass
            m.log(acc=e)


def test_a_regex_that_matches_nothing_is_named():
    m = trialog.Monitor(log="los@2s")
    with pytest.warns(TrialogWarning, match=r"'los@2s' matched no value.*\['loss'\]"):
        for _ in m(range(4)):
            m.log(loss=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once only
        for _ in m(range(4)):
            m.log(loss=1.0)


def test_experiment_results_loggers_time_and_probe(tmp_path):
    exp = trialog.Experiment(name="m", base_dir=tmp_path, loggers={})
    m = trialog.Monitor(exp, log=("loss@2s", "acc"), time="@2s", probe="@1e", sca="loss@4s")
    shown = []
    exp.clog.show_value = lambda value, name, counter=None, **kw: shown.append((name, value, counter))
    for _ in m(range(2)):
        for i in m(range(2)):
            m.log(loss=float(i))
        m.log(acc=0.5)
    exp.close()
    records = read_results(exp.run_dir)
    by = {}
    for r in records:
        by.setdefault(r["name"], []).append(r["counter"])
    assert by["loss"] == [2, 4] and by["acc"] == [None, None]
    assert by["time/step_s"] == [2, 4] and by["time/data_wait_s"] == [2, 4] and by["time/compute_s"] == [2, 4]
    assert by["sys/rss_peak_mb"] == [1, 2]
    assert all(r["value"] > 0 for r in records if r["name"] == "sys/rss_peak_mb")
    assert shown == [("loss", 1.0, 4)]


def _run(base: Path, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(base), mode], capture_output=True, text=True, timeout=HANG
    )


def _fired(base: Path) -> dict[str, list]:
    (run,) = [p for p in base.iterdir() if (p / "run.json").is_file()]
    out: dict[str, list] = {}
    for r in read_results(run):
        out.setdefault(r["name"], []).append((r["counter"], r["value"]))
    return out


EXPECTED = {
    "loss": [(3, 2), (6, 100), (9, 103), (12, 201), (15, 204), (18, 302)],
    "acc": [(2, 1.0), (4, 3.0)],
    "hooked": [(4, 4), (8, 8), (12, 12), (16, 16), (20, 20)],
}


def test_specs_fire_at_the_same_steps_across_a_kill_and_resume(tmp_path):
    full = _run(tmp_path / "full", "full")
    assert full.returncode == 0, full.stderr
    assert _fired(tmp_path / "full") == EXPECTED
    killed = _run(tmp_path / "kill", "kill")
    assert killed.returncode == -9, killed.stderr
    partial = _fired(tmp_path / "kill")
    assert partial["loss"][-1] == (12, 201)  # fired after the checkpoint at step 10, lost to the resume
    resumed = _run(tmp_path / "kill", "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert _fired(tmp_path / "kill") == EXPECTED


class WithRun(trialog.Experiment):
    """The Monitor inside Experiment.run(): made in setup(), the epoch counted at the end of validate()."""

    def setup(self):
        self.m = trialog.Monitor(self, log=("loss@4s", "acc@2e"))

    def train(self, epoch):
        for i in self.m(range(3)):
            self.m.log(loss=float(10 * epoch + i))

    def validate(self, epoch):
        self.m.log(acc=float(epoch))
        self.m.inc("epoch")


def test_inside_experiment_run_resumed_in_the_same_steps(tmp_path):
    warnings.simplefilter("error", TrialogWarning)  # the Monitor attribute is stored by its state part
    full = WithRun(name="w", n_epochs=4, base_dir=tmp_path / "full", loggers={})
    full.run()
    full.close()
    first = WithRun(name="w", n_epochs=2, base_dir=tmp_path / "part", loggers={})
    first.run()
    first.close()
    resumed = WithRun(n_epochs=4, base_dir=tmp_path / "part", loggers={}, resume=first.run_dir)
    resumed.run()
    resumed.close()

    def fired(run_dir):
        return [(r["name"], r["counter"], r["value"]) for r in read_results(run_dir)]

    assert (
        fired(full.run_dir)
        == fired(resumed.run_dir)
        == [
            ("loss", 4, 10.0),
            ("acc", 2, 1.0),
            ("loss", 8, 21.0),
            ("loss", 12, 32.0),
            ("acc", 4, 3.0),
        ]
    )


def test_an_explicit_trigger_keeps_a_validation_loop_out_of_the_steps():
    m = trialog.Monitor()
    for _ in m(range(2)):
        for _ in m(range(3)):
            pass
        for _ in m(range(4), trigger="eo"):  # validation batches, counted as eons here
            pass
    assert (m.step, m.epoch, m.eon) == (6, 2, 8)
    with pytest.raises(ConfigError, match="unknown monitor trigger 'x'"):
        m(range(2), trigger="x")
