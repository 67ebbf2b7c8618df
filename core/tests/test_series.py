"""The columnar sidecar of results.jsonl (trialog.results.series): same values as the JSON reader, in every state."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from trialog.errors import TrialogError
from trialog.results.log import ResultLog, read_results, results_by_name
from trialog.results.series import SERIES_NAME, read_appended, read_columns, read_series, sidecar_paths


def _fill(log, n=3000):
    for i in range(n):
        log.add("loss", 1.0 / (i + 1), counter=i, tag="train", epoch=i // 100)
        if i % 10 == 0:
            log.add("acc", i // 10, counter=i, tag="val", epoch=i // 100)
    log.add("loss", float("nan"), counter=n, tag="val")
    log.add("hist", [1, 2, 3], counter=None)


def _same(a, b):
    assert a.keys() == b.keys()
    for name in a:
        for col in ("value", "counter", "epoch", "time"):
            np.testing.assert_array_equal(a[name][col], b[name][col])
            assert a[name][col].dtype == b[name][col].dtype, (name, col)
        assert a[name]["tag"] == b[name]["tag"]


def test_sidecar_reads_what_json_reads(tmp_path):
    log = ResultLog(tmp_path)
    _fill(log)
    slow = results_by_name(read_results(tmp_path / "results.jsonl"))
    _same(read_series(tmp_path / "results.jsonl"), slow)  # while open: part of it still buffered
    log.close()
    _same(read_series(tmp_path / "results.jsonl"), slow)
    cols = read_columns(tmp_path / "results.jsonl")
    assert set(cols) == {("loss", "train"), ("loss", "val"), ("acc", "val"), ("hist", None)}


@pytest.mark.parametrize("damage", ["missing", "torn_row", "garbage_keys", "behind"])
def test_sidecar_missing_or_stale_is_rebuilt(tmp_path, damage):
    log = ResultLog(tmp_path)
    _fill(log, 500)
    log.close()
    rows, keys = sidecar_paths(tmp_path / "results.jsonl")
    if damage == "missing":
        rows.unlink()
    elif damage == "torn_row":
        with open(rows, "ab") as fh:
            fh.write(b"\x01\x02\x03")
    elif damage == "garbage_keys":
        keys.write_text("{not json")
    else:  # a record the sidecar never saw (e.g. a crash between the two writes)
        with open(tmp_path / "results.jsonl", "a") as fh:
            fh.write(
                json.dumps(
                    {"name": "loss", "tag": "train", "value": 9.0, "counter": 7, "epoch": 0, "time": 1.0}
                )
                + "\n"
            )
    slow = results_by_name(read_results(tmp_path / "results.jsonl"))
    _same(read_series(tmp_path / "results.jsonl"), slow)
    reopened = ResultLog(tmp_path)  # the writer brings the sidecar in line again
    reopened.add("loss", 0.5, counter=1, tag="train")
    reopened.close()
    _same(read_series(tmp_path / "results.jsonl"), results_by_name(read_results(tmp_path / "results.jsonl")))


def test_truncate_drops_rows(tmp_path):
    log = ResultLog(tmp_path)
    for i in range(2000):
        log.add("x", float(i), counter=i)
    pos = log.position()
    for i in range(2000, 3000):
        log.add("x", float(i), counter=i)
    log.truncate(pos)
    log.add("x", -1.0, counter=2000)
    log.close()
    values = read_series(tmp_path / "results.jsonl")["x"]["value"]
    assert values.shape == (2001,) and values[-1] == -1.0 and values[1999] == 1999.0


def test_corrupt_middle_line_is_an_error(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(
        '{"name": "a", "tag": null, "value": 1, "counter": 0, "epoch": 0, "time": 1.0}\n{oops\n{"name": "a"}\n'
    )
    with pytest.raises(TrialogError, match="corrupt"):
        read_series(path)
    assert not (tmp_path / SERIES_NAME).exists()


def test_read_appended_reads_only_new_complete_lines(tmp_path):
    log = ResultLog(tmp_path)
    log.add("a", 1.0, counter=0)
    records, offset = read_appended(tmp_path / "results.jsonl", 0)
    assert [r["value"] for r in records] == [1.0] and offset == os.path.getsize(tmp_path / "results.jsonl")
    log.add("a", 2.0, counter=1)
    with open(tmp_path / "results.jsonl", "a") as fh:
        fh.write('{"name": "a", "tag"')  # a line still being written stays for next time
    records, offset2 = read_appended(tmp_path / "results.jsonl", offset)
    assert [r["value"] for r in records] == [2.0]
    assert read_appended(tmp_path / "results.jsonl", offset2) == ([], offset2)
    with pytest.raises(TrialogError, match="past the end"):
        read_appended(tmp_path / "results.jsonl", 10**9)
    log.close()


def test_reader_rebuilds_a_missing_sidecar_of_a_long_log(tmp_path):
    log = ResultLog(tmp_path)
    for i in range(12_000):
        log.add("x", float(i), counter=i)
    log.close()
    rows, keys = sidecar_paths(tmp_path / "results.jsonl")
    rows.unlink()
    keys.unlink()
    first = read_series(tmp_path / "results.jsonl")
    assert rows.is_file() and keys.is_file()
    again = read_series(tmp_path / "results.jsonl")
    np.testing.assert_array_equal(first["x"]["value"], again["x"]["value"])
    assert again["x"]["value"].size == 12_000


def test_a_full_disk_on_the_sidecar_never_fails_add(tmp_path, monkeypatch):
    log = ResultLog(tmp_path)
    real_write = os.write
    sidecar_fd = log._series._fd

    def full(fd, data):
        if fd == sidecar_fd:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    for i in range(3000):  # several sidecar flushes fail
        log.add("x", float(i), counter=i)
    monkeypatch.undo()
    log.close()
    values = read_series(tmp_path / "results.jsonl")["x"]["value"]
    np.testing.assert_array_equal(values, np.arange(3000.0))
    reopened = ResultLog(tmp_path)  # rebuilds the sidecar
    reopened.close()
    np.testing.assert_array_equal(read_series(tmp_path / "results.jsonl")["x"]["value"], np.arange(3000.0))


@pytest.mark.parametrize("state", ["written", "rebuilt", "tail-from-json"])
def test_float_counters_through_the_sidecar(tmp_path, state):
    with ResultLog(tmp_path) as log:
        for i in range(6):
            log.add("loss", float(i), counter=i / 4, tag="train")
            log.add("acc", i, counter=i, tag="val")
        log.add("loss", 9.0, counter=-0.0)  # a float whose bits equal the "no counter" marker
        log.add("loss", 9.5, counter=None)
    log_path = tmp_path / "results.jsonl"
    rows_path, keys_path = sidecar_paths(log_path)
    if state == "rebuilt":
        rows_path.unlink()
    elif state == "tail-from-json":
        # the sidecar covers the first records only; the rest is parsed from the log
        rows = np.fromfile(rows_path, dtype=np.uint8)
        rows[: 48 * 5].tofile(rows_path)
    assert json.loads(keys_path.read_text())["format"] == 4
    series = read_series(log_path)
    loss = series["loss"]["counter"]
    assert loss.dtype == np.float64
    assert loss[:7].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, -0.0]
    assert np.signbit(loss[6]) and np.isnan(loss[7])
    assert series["acc"]["counter"].dtype == np.int64
    assert series["acc"]["counter"].tolist() == list(range(6))
    by_json = results_by_name(read_results(log_path))
    for name in ("loss", "acc"):
        np.testing.assert_array_equal(series[name]["counter"], by_json[name]["counter"])
        assert series[name]["counter"].dtype == by_json[name]["counter"].dtype


def test_a_format_2_sidecar_without_a_crc_is_read_and_rebuilt(tmp_path):
    with ResultLog(tmp_path) as log:
        log.add("x", 1.0, counter=0)
    keys_path = sidecar_paths(tmp_path / "results.jsonl")[1]
    table = json.loads(keys_path.read_text())
    keys_path.write_text(json.dumps({**table, "format": 2}))  # what the previous trialog wrote
    assert read_series(tmp_path / "results.jsonl")["x"]["counter"].tolist() == [0]
    with ResultLog(tmp_path) as log:
        log.add("x", 2.0, counter=0.5)
    assert json.loads(keys_path.read_text())["format"] == 4
    assert read_series(tmp_path / "results.jsonl")["x"]["counter"].tolist() == [0.0, 0.5]


def test_a_counter_that_is_no_number_in_a_foreign_log_is_an_error(tmp_path):
    (tmp_path / "results.jsonl").write_text(
        '{"name": "a", "tag": null, "value": 1, "counter": "three", "epoch": 0, "time": 1.0}\n'
    )
    with pytest.raises(TrialogError, match="counter 'three'"):
        read_columns(tmp_path / "results.jsonl")


EXIT_WITHOUT_CLOSE = """
import sys
from trialog import Experiment

class E(Experiment):
    def train(self, epoch):
        for i in range(3):
            self.add_result(float(i), "y", tag="train")

exp = E(name="x", n_epochs=2, base_dir=sys.argv[1])  # alive until exit, never closed
exp.run()
"""


def test_interpreter_exit_writes_the_sidecar_while_it_still_can(tmp_path):
    """The sidecar's last rows are written by an exit hook, not by __del__ during interpreter teardown."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", EXIT_WITHOUT_CLOSE, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr
    (log,) = tmp_path.glob("*/result/results.jsonl")
    table = json.loads(sidecar_paths(log)[1].read_text())
    assert table["covered"] == log.stat().st_size and table["rows"] == 6
