"""ResultLog (append-only JSONL + summary), read_results, read_trixi_results, results_by_name."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from trialog.errors import RunFolderError, TrialogError, TrialogWarning
from trialog.results.log import (
    ResultLog,
    read_results,
    read_trixi_results,
    results_by_name,
    write_atomic,
)

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_round_trip_exactly(tmp_path):
    values = [0.1 + 0.2, 1e-300, -0.0, 5e-324, 1.7976931348623157e308, 3, -12345678901234567890]
    with ResultLog(tmp_path) as log:
        for i, v in enumerate(values):
            log.add("x", v, counter=i, tag="t", epoch=0)
    recs = read_results(tmp_path / "results.jsonl")
    assert [r["value"] for r in recs] == values
    assert [type(r["value"]) for r in recs] == [type(v) for v in values]
    assert math.copysign(1, recs[2]["value"]) == -1.0
    assert set(recs[0]) == {"name", "tag", "value", "counter", "epoch", "time"}
    assert [r["counter"] for r in recs] == list(range(len(values)))


def test_numpy_torchlike_and_list_values_and_escaping(tmp_path):
    name = 'we"ird\\ näme\n'
    with ResultLog(tmp_path) as log:
        rec = log.add(name, np.float32(0.5), counter=np.int64(3), tag='ta"g', epoch=np.int32(1))
        assert rec == {
            "name": name,
            "tag": 'ta"g',
            "value": 0.5,
            "counter": 3,
            "epoch": 1,
            "time": rec["time"],
        }
        assert type(rec["value"]) is float and type(rec["counter"]) is int
        log.add("vec", np.arange(3))
        log.add("pair", (1.5, 2))
        log.add("flag", True)
        log.add("n", np.int64(7))
        log.add("mixed", [np.float32(0.5), 2])
    recs = read_results(tmp_path)
    assert [r["value"] for r in recs] == [0.5, [0, 1, 2], [1.5, 2], True, 7, [0.5, 2]]
    assert recs[0]["name"] == name and recs[0]["tag"] == 'ta"g'
    assert recs[1]["counter"] is None and recs[1]["epoch"] is None and recs[1]["tag"] is None


def test_nonfinite_values_are_readable(tmp_path):
    with ResultLog(tmp_path) as log:
        for v in (float("nan"), float("inf"), -float("inf"), np.float64("nan")):
            log.add("x", v)
        stats = log.stats["x"]
        assert stats.min == -math.inf and stats.max == math.inf and stats.count == 4
        assert math.isnan(stats.mean)
    values = [r["value"] for r in read_results(tmp_path)]
    assert math.isnan(values[0]) and values[1:3] == [math.inf, -math.inf] and math.isnan(values[3])


def test_bad_values_name_the_result(tmp_path):
    with ResultLog(tmp_path) as log:
        with pytest.raises(TrialogError, match=r"'loss'.*object"):
            log.add("loss", object())
        with pytest.raises(TrialogError, match=r"'loss'.*counter"):
            log.add("loss", 1.0, counter="3")
        with pytest.raises(TrialogError, match=r"'loss'.*counter.*finite"):
            log.add("loss", 1.0, counter=float("nan"))
        with pytest.raises(TrialogError, match="name must be a string"):
            log.add(3, 1.0)
        assert log.position() == 0  # nothing half-written


def test_one_write_per_record_reaching_the_os_at_once(tmp_path, monkeypatch):
    calls = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: calls.append(data) or real_write(fd, data))
    log = ResultLog(tmp_path)
    for i in range(50):
        log.add("loss", 1.0 / (i + 1), counter=i)
    assert len(calls) == 50 and all(c.endswith(b"\n") and c.count(b"\n") == 1 for c in calls)
    # Visible to another reader before close: nothing buffered in the process.
    assert len(lines(tmp_path / "results.jsonl")) == 50
    log.close()


def test_short_writes_still_give_whole_records(tmp_path, monkeypatch):
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    with ResultLog(tmp_path) as log:
        log.add("loss", 0.125, counter=1)
        log.add("loss", [1, 2], counter=2)
    monkeypatch.undo()
    assert [(r["value"], r["counter"]) for r in read_results(tmp_path)] == [(0.125, 1), ([1, 2], 2)]


def test_sigkill_loses_no_added_record(tmp_path):
    code = textwrap.dedent(
        f"""
        import os, signal
        from trialog.results.log import ResultLog
        log = ResultLog({str(tmp_path)!r})
        for i in range(2000):
            log.add("loss", i * 0.5, counter=i, tag="train", epoch=i // 100)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=HANG)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    recs = read_results(tmp_path)
    assert not recs.truncated
    assert [r["value"] for r in recs] == [i * 0.5 for i in range(2000)]


def test_summary_and_best(tmp_path):
    log = ResultLog(tmp_path)
    for i, v in enumerate([3.0, 1.0, 2.0, 5.0]):
        log.add("loss", v, counter=i, epoch=i // 2)
    log.add("loss_vec", [1, 2])
    assert log.summary()["loss"] == {"last": 5.0, "min": 1.0, "max": 5.0, "mean": 2.75, "count": 4}
    assert log.summary()["loss_vec"] == {"last": [1, 2], "min": None, "max": None, "mean": None, "count": 1}
    assert log.best("loss") == {"value": 1.0, "counter": 1, "epoch": 0}
    assert log.best("loss", mode="max") == {"value": 5.0, "counter": 3, "epoch": 1}
    assert log.best("loss_vec") is None
    assert log.last("loss") == 5.0
    with pytest.raises(KeyError, match=r"'acc'.*loss"):
        log.last("acc")
    with pytest.raises(TrialogError, match="mode"):
        log.best("loss", mode="median")
    path = log.save_summary()
    assert json.loads(path.read_text()) == log.summary()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "results.json",
        "results.jsonl",
        "results.series",
        "results.series.json",
    ]
    log.close()


def test_save_summary_failure_keeps_previous_summary(tmp_path, monkeypatch):
    log = ResultLog(tmp_path)
    log.add("loss", 1.0)
    log.save_summary()
    before = (tmp_path / "results.json").read_bytes()
    log.add("loss", 0.5)

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        log.save_summary()
    monkeypatch.undo()
    assert (tmp_path / "results.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "results.json",
        "results.jsonl",
        "results.series",
        "results.series.json",
    ]  # no temp left
    log.close()


def test_write_atomic_replaces(tmp_path):
    target = tmp_path / "a.json"
    write_atomic(target, b"1")
    write_atomic(target, b"22")
    assert target.read_bytes() == b"22" and [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_position_and_truncate_rebuild_summary(tmp_path):
    log = ResultLog(tmp_path)
    for i in range(5):
        log.add("loss", float(i), counter=i)
    pos = log.position()
    assert pos == (tmp_path / "results.jsonl").stat().st_size
    for i in range(5, 10):
        log.add("loss", float(i), counter=i)
        log.add("acc", 0.1 * i, counter=i)
    log.truncate(pos)
    assert log.summary() == {"loss": {"last": 4.0, "min": 0.0, "max": 4.0, "mean": 2.0, "count": 5}}
    log.add("loss", 100.0, counter=5)
    assert [r["value"] for r in read_results(tmp_path)] == [0.0, 1.0, 2.0, 3.0, 4.0, 100.0]
    with pytest.raises(TrialogError, match="not the end of a record"):
        log.truncate(pos - 3)
    with pytest.raises(TrialogError, match=r"has .* bytes"):
        log.truncate(10**9)
    log.close()
    with pytest.raises(TrialogError, match="closed"):
        log.add("loss", 1.0)


def test_reopen_rebuilds_summary_and_appends(tmp_path):
    with ResultLog(tmp_path) as log:
        log.add("loss", 2.0, counter=0)
        log.add("loss", 1.0, counter=1)
    with ResultLog(tmp_path) as log:
        assert log.summary()["loss"] == {"last": 1.0, "min": 1.0, "max": 2.0, "mean": 1.5, "count": 2}
        assert log.best("loss") == {"value": 1.0, "counter": 1, "epoch": None}
        log.add("loss", 0.5, counter=2)
    assert [r["value"] for r in read_results(tmp_path)] == [2.0, 1.0, 0.5]


def test_reopen_after_torn_record_cuts_it_and_warns(tmp_path):
    with ResultLog(tmp_path) as log:
        log.add("loss", 2.0)
    path = tmp_path / "results.jsonl"
    with open(path, "ab") as f:
        f.write(b'{"name": "loss", "tag": null, "val')
    with pytest.warns(TrialogWarning, match="incomplete record"):
        log = ResultLog(tmp_path)
    log.add("loss", 1.0)
    log.close()
    recs = read_results(path)
    assert not recs.truncated and [r["value"] for r in recs] == [2.0, 1.0]


def test_reader_tolerates_torn_or_garbled_last_line(tmp_path):
    path = tmp_path / "results.jsonl"
    good = b'{"name": "a", "tag": null, "value": 1, "counter": null, "epoch": null, "time": 1.0}\n'
    for tail in (b'{"name": "a", "ta', b"\x00\x00garbage\n"):
        path.write_bytes(good + tail)
        with pytest.warns(TrialogWarning, match="incomplete last record"):
            recs = read_results(path)
        assert recs.truncated and recs.valid_bytes == len(good) and recs.dropped_bytes == len(tail)
        assert [r["value"] for r in recs] == [1]
    path.write_bytes(good + b"garbage\n" + good)
    with pytest.raises(TrialogError, match="line 2"):
        read_results(path)
    with pytest.raises(TrialogError, match="line 2"):
        ResultLog(tmp_path)  # a corrupt log is not appended to


def test_reader_errors_name_the_path(tmp_path):
    with pytest.raises(RunFolderError, match="does not exist"):
        read_results(tmp_path / "nope.jsonl")
    with pytest.raises(RunFolderError, match="no results log"):
        read_results(tmp_path)
    (tmp_path / "result").mkdir()
    (tmp_path / "result" / "results.jsonl").write_bytes(b"")
    assert read_results(tmp_path) == []  # a run folder finds result/results.jsonl


TRIXI = """[
{"loss": {"data": 1.0, "label": "train", "epoch": 0, "counter": 0}},
{"loss": {"data": 0.7165313105737893, "label": "train", "epoch": 0, "counter": 1}},
{"acc": {"data": 0.5, "label": "val", "epoch": 0, "counter": 0}},
{"loss": {"data": 0.36787944117144233, "label": "train", "epoch": 1, "counter": 2}}
]
"""


def expected_trixi():
    return [
        {"name": "loss", "tag": "train", "value": 1.0, "counter": 0, "epoch": 0, "time": None},
        {"name": "loss", "tag": "train", "value": 0.7165313105737893, "counter": 1, "epoch": 0, "time": None},
        {"name": "acc", "tag": "val", "value": 0.5, "counter": 0, "epoch": 0, "time": None},
        {
            "name": "loss",
            "tag": "train",
            "value": 0.36787944117144233,
            "counter": 2,
            "epoch": 1,
            "time": None,
        },
    ]


@pytest.mark.parametrize(
    "text",
    [
        TRIXI,
        TRIXI.replace("]\n", ""),  # killed run: no closing bracket
        TRIXI.replace("}}\n]", "}},\n"),  # killed run: trailing comma
        TRIXI.replace("}}\n]", "}},\n]"),
        TRIXI.replace("\n", ""),  # one line: a complete JSON array
    ],
)
def test_trixi_results(tmp_path, text):
    (tmp_path / "result").mkdir()
    (tmp_path / "result" / "results-log.json").write_text(text)
    recs = read_trixi_results(tmp_path)
    assert recs == expected_trixi() and not recs.truncated


def test_trixi_torn_last_element(tmp_path):
    path = tmp_path / "results-log.json"
    path.write_text(TRIXI.split("\n]")[0].rsplit("\n", 1)[0] + ',\n{"loss": {"data": 0.36, "lab')
    with pytest.warns(TrialogWarning, match="incomplete last element"):
        recs = read_trixi_results(path)
    assert recs.truncated and recs == expected_trixi()[:3]
    path.write_text('[\n{"loss": 1.0},\nnot json,\n{"loss": 2.0}\n]')
    with pytest.raises(TrialogError, match="line 3"):
        read_trixi_results(path)


def test_trixi_fixture(trixi_run):
    recs = read_trixi_results(trixi_run)
    assert len(recs) == 12 and {r["name"] for r in recs} == {"loss", "acc"}
    assert recs[-1] == {"name": "acc", "tag": "val", "value": 0.7, "counter": 2, "epoch": 2, "time": None}


def test_results_by_name(tmp_path):
    with ResultLog(tmp_path) as log:
        for i in range(4):
            log.add("loss", 1.0 / (i + 1), counter=i, tag="train", epoch=i // 2)
        log.add("acc", 1, counter=None, tag="val")
        log.add("acc", 0.5, counter=3, tag="val")
        log.add("vec", [1.0, 2.0])
        log.add("vec", [3.0, 4.0])
        log.add("ragged", [1.0])
        log.add("ragged", [1.0, 2.0])
    arrays = results_by_name(read_results(tmp_path))
    loss = arrays["loss"]
    np.testing.assert_array_equal(loss["value"], [1.0, 0.5, 1 / 3, 0.25])
    assert loss["counter"].dtype == np.int64 and loss["counter"].tolist() == [0, 1, 2, 3]
    assert loss["epoch"].tolist() == [0, 0, 1, 1] and loss["tag"] == ["train"] * 4
    assert loss["time"].dtype == np.float64 and np.all(np.diff(loss["time"]) >= 0)
    acc = arrays["acc"]
    assert acc["value"].dtype == np.float64 and acc["counter"].dtype == np.float64
    assert np.isnan(acc["counter"][0]) and acc["counter"][1] == 3
    assert arrays["vec"]["value"].shape == (2, 2)
    assert arrays["ragged"]["value"].dtype == object and arrays["ragged"]["value"][1] == [1.0, 2.0]
    trixi = results_by_name(expected_trixi())
    assert np.isnan(trixi["loss"]["time"]).all() and trixi["acc"]["counter"].tolist() == [0]


def test_float_counters_are_stored_and_read_as_floats_int_counters_stay_ints(tmp_path):
    # trixi's documented call: add_result(value, name, counter=epoch + i / len(loader))
    n_batches = 4
    with ResultLog(tmp_path) as log:
        for epoch in range(2):
            for i in range(n_batches):
                log.add("loss", 1.0 / (i + 1), counter=epoch + i / n_batches, tag="train", epoch=epoch)
            log.add("acc", 0.5, counter=epoch, epoch=epoch)
        rec = log.add("loss", 0.1, counter=np.float32(2.5))
        assert type(rec["counter"]) is float and rec["counter"] == 2.5
        assert log.best("loss", mode="max", tag="train") == {"value": 1.0, "counter": 0.0, "epoch": 0}
        assert log.best("loss", mode="max") == {"value": 0.1, "counter": 2.5, "epoch": None}  # untagged
    recs = read_results(tmp_path)
    loss = [r["counter"] for r in recs if r["name"] == "loss"]
    assert loss == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.5]
    assert all(type(c) is float for c in loss)
    assert [r["counter"] for r in recs if r["name"] == "acc"] == [0, 1]
    assert all(type(r["counter"]) is int for r in recs if r["name"] == "acc")
    grouped = results_by_name(recs)
    assert grouped["loss"]["counter"].dtype == np.float64
    np.testing.assert_array_equal(grouped["loss"]["counter"], loss)
    assert grouped["acc"]["counter"].dtype == np.int64
    assert grouped["loss"]["epoch"].dtype == np.float64  # the last record has no epoch: NaN


def test_trixi_float_counters_read_as_floats(tmp_path):
    # trixi's own ResultLogDict counts with floats (0.0, 1.0, ...) and users pass fractional ones
    (tmp_path / "results-log.json").write_text(
        '[\n{"loss": {"data": 1.0, "label": "train", "epoch": 0, "counter": 0.5}},\n'
        '{"loss": {"data": 0.5, "label": "train", "epoch": 0, "counter": 1.0}}\n]'
    )
    grouped = results_by_name(read_trixi_results(tmp_path))
    assert grouped["loss"]["counter"].dtype == np.float64
    assert grouped["loss"]["counter"].tolist() == [0.5, 1.0]


def test_experiment_float_counters_end_to_end(tmp_path):
    from trialog import Experiment, Run

    exp = Experiment(name="fc", base_dir=tmp_path, loggers={}, checkpoint=False, save_sources=False)
    for i in range(4):
        exp.add_result(0.5 * i, "loss", counter=1 + i / 4, tag="train")
    exp.add_result(1.0, "acc", counter=3)
    exp.add_result(0.1, "lr", counter=0.5, tag="opt")
    exp.close()
    run = Run(exp.run_dir)
    assert run.results["loss"]["counter"].tolist() == [1.0, 1.25, 1.5, 1.75]
    assert run.results["loss"]["counter"].dtype == np.float64
    assert run.results["acc"]["counter"].dtype == np.int64
    assert [r["counter"] for r in run.records] == [1.0, 1.25, 1.5, 1.75, 3, 0.5]
    assert type(run.records[4]["counter"]) is int


def test_add_result_plot_running_mean_plots_the_mean_and_records_the_value(tmp_path):
    from trialog import Experiment, hookimpl

    class Values:
        def __init__(self):
            self.shown = []

        @hookimpl
        def show_value(self, value, name, counter, tag):
            self.shown.append((name, value, counter, tag))

    values = Values()
    exp = Experiment(
        name="rm", base_dir=tmp_path, loggers={"v": values}, checkpoint=False, save_sources=False
    )
    exp.running_mean_length = 3
    for i in range(5):
        exp.add_result(float(i), "loss", counter=i / 2, tag="train", plot_running_mean=True)
    exp.add_result(10.0, "loss", counter=9)  # without the flag: the value itself is plotted
    with pytest.raises(TrialogError, match=r"'loss'.*running mean needs a number"):
        exp.add_result([1, 2], "loss", plot_running_mean=True)
    exp.close()
    assert [v for _, v, _, _ in values.shown] == [0.0, 0.5, 1.0, 2.0, 3.0, 10.0]
    assert values.shown[1] == ("loss", 0.5, 0.5, "train")
    assert [r["value"] for r in read_results(exp.result_dir)] == [0.0, 1.0, 2.0, 3.0, 4.0, 10.0]
