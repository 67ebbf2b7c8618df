"""The columnar sidecar never disagrees with results.jsonl: edits by hand, a replaced log, a resume (issue 19)."""

from __future__ import annotations

import json
import shutil
import zlib

import numpy as np
import pytest

from trialog.results import series
from trialog.results.log import ResultLog, results_by_name, results_by_series
from trialog.results.series import read_columns, sidecar_paths
from trialog.run.folder import Run

N = 2500  # more than two batches of sidecar rows


def _run(path, start=0.0):
    (path / "result").mkdir(parents=True)
    (path / "run.json").write_text(json.dumps({"name": path.name, "status": "finished"}))
    with ResultLog(path / "result") as log:
        for i in range(N):
            log.add("loss", start + float(i), counter=i, tag="train", epoch=i // 100)
            if i % 10 == 0:
                log.add("acc", i, counter=i, tag="val")
    return path / "result" / "results.jsonl"


def _assert_agree(path):
    run = Run(path)
    fast = run.results
    slow = results_by_series(run.records)
    assert fast.keys() == slow.keys()
    for name, cols in slow.items():
        for column in ("value", "counter", "epoch"):
            np.testing.assert_array_equal(fast[name][column], cols[column], err_msg=f"{name} {column}")
        assert fast[name]["tag"] == cols["tag"]
    return fast


def _remove_line(log, lineno):
    lines = log.read_bytes().split(b"\n")
    del lines[lineno]
    log.write_bytes(b"\n".join(lines))


def _change_value(log, old, new):
    data = log.read_bytes()
    needle = f'"value": {old}, '.encode()
    assert data.count(needle) == 1 and len(old) == len(new)
    log.write_bytes(data.replace(needle, f'"value": {new}, '.encode()))


def _edit(kind, log, tmp_path):
    if kind == "line removed":
        _remove_line(log, 1200)  # the line a corruption error pointed to, removed by hand
    elif kind == "value changed in place":
        _change_value(log, "2000.0", "4000.0")
    elif kind == "log replaced by another run's":
        other = _run(tmp_path / "other", start=0.5)
        shutil.copyfile(other, log)
    elif kind == "log cut short":
        data = log.read_bytes()
        log.write_bytes(data[: data.index(b"\n", len(data) // 2) + 1])


EDITS = ["line removed", "value changed in place", "log replaced by another run's", "log cut short"]


@pytest.mark.parametrize("kind", EDITS)
def test_a_sidecar_that_no_longer_matches_the_log_is_rebuilt_on_read(tmp_path, kind):
    log = _run(tmp_path / "run")
    _assert_agree(tmp_path / "run")
    _edit(kind, log, tmp_path)
    fast = _assert_agree(tmp_path / "run")
    if kind == "value changed in place":
        assert 4000.0 in fast["loss"]["value"] and 2000.0 not in fast["loss"]["value"]
    # rebuilt on disk: the next read trusts it again, and it agrees
    table = json.loads(sidecar_paths(log)[1].read_text())
    assert table["covered"] == log.stat().st_size
    _assert_agree(tmp_path / "run")


@pytest.mark.parametrize("kind", EDITS)
def test_a_writer_rebuilds_a_sidecar_that_does_not_match_before_it_appends(tmp_path, kind):
    log = _run(tmp_path / "run")
    _edit(kind, log, tmp_path)
    with ResultLog(tmp_path / "run" / "result") as writer:  # a resume: no reader came first
        for i in range(1500):
            writer.add("loss", -float(i), counter=10_000 + i, tag="train")
    fast = _assert_agree(tmp_path / "run")
    assert fast["loss"]["value"][-1] == -1499.0


def test_a_log_noted_as_verified_is_checked_again_once_it_changes(tmp_path, monkeypatch):
    # A settled log is noted (inode, size, mtime, ctime) so reads skip the CRC; an edit changes its ctime.
    monkeypatch.setattr(series, "_SETTLED_NS", 0)
    log = _run(tmp_path / "run")
    read_columns(log)
    assert "stamp" in json.loads(sidecar_paths(log)[1].read_text())
    _change_value(log, "2000.0", "4000.0")
    assert 4000.0 in _assert_agree(tmp_path / "run")["loss"]["value"]


def test_a_stamp_does_not_vouch_for_a_log_whose_identity_differs(tmp_path, monkeypatch):
    monkeypatch.setattr(series, "_SETTLED_NS", 0)
    log = _run(tmp_path / "run")
    read_columns(log)
    keys_path = sidecar_paths(log)[1]
    table = json.loads(keys_path.read_text())
    # the log is replaced by a file of the same size (another inode): the stamp no longer applies
    data = bytearray(log.read_bytes())
    data[data.index(b'"value": 7.0, ') + 9] = ord("8")
    log.unlink()
    log.write_bytes(bytes(data))
    keys_path.write_text(json.dumps(table))
    assert 8.0 in _assert_agree(tmp_path / "run")["loss"]["value"]


def test_rows_the_table_does_not_vouch_for_are_parsed_from_the_log(tmp_path):
    # a crash between a batch of rows and the table that vouches for them: the extra rows are not used
    log = _run(tmp_path / "run")
    rows_path, keys_path = sidecar_paths(log)
    table = json.loads(keys_path.read_text())
    covered = int(np.fromfile(rows_path, series.ROW)["end"][1023])
    crc = zlib.crc32(log.read_bytes()[:covered])
    keys_path.write_text(json.dumps({**table, "rows": 1024, "covered": covered, "crc": crc}))
    _assert_agree(tmp_path / "run")
    assert json.loads(keys_path.read_text())["rows"] == 1024  # it matched: not rebuilt


# -- counters and epochs beyond int64 (issue 19, item 5) ---------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs", [{"counter": 2**63}, {"counter": -(2**63) - 1}, {"epoch": 2**63}, {"counter": np.uint64(2**63)}]
)
def test_a_counter_or_epoch_beyond_int64_is_refused_before_anything_is_written(tmp_path, kwargs):
    from trialog.errors import ResultValueError

    with ResultLog(tmp_path) as log:
        log.add("x", 1.0, counter=0)
        size = log.position()
        with pytest.raises(
            ResultValueError, match=r"'x'.*(counter|epoch) .* outside the 64-bit integer range"
        ):
            log.add("x", 2.0, **kwargs)
        assert log.position() == size
        log.add("x", 3.0, counter=2**63 - 1, epoch=-(2**63) + 1)  # the edges are fine
    assert [r["value"] for r in _records(tmp_path)] == [1.0, 3.0]
    assert read_columns(tmp_path / "results.jsonl")[("x", None)]["counter"].tolist() == [0, 2**63 - 1]


def _records(result_dir):
    from trialog.results.log import read_results

    return read_results(result_dir / "results.jsonl")


def test_records_beyond_int64_already_on_disk_are_read(tmp_path):
    # written by a trialog that did not refuse them: every reader reads them, none crashes
    path = tmp_path / "run"
    _run(path)
    log = path / "result" / "results.jsonl"
    with open(log, "a") as fh:
        for rec in (
            {"name": "loss", "tag": "train", "value": 5.0, "counter": 2**63, "epoch": 2**64, "time": 1.0},
            {"name": "big", "tag": None, "value": 2**70, "counter": -(2**64), "epoch": None, "time": 1.0},
        ):
            fh.write(json.dumps(rec) + "\n")
    run = Run(path)
    assert run.records[-2]["counter"] == 2**63
    results = run.results
    assert results["loss"]["counter"][-1] == float(2**63)
    assert np.isnan(results["loss"]["epoch"][-1])
    assert results["big"]["value"].tolist() == [2**70]
    assert results["big"]["counter"].tolist() == [float(-(2**64))]
    slow = results_by_series(run.records)
    assert slow["loss"]["counter"][-1] == float(2**63)
    assert run.summary["loss"]["count"] == N + 1


def test_an_older_sidecar_without_a_crc_is_rebuilt_by_the_first_read(tmp_path):
    log = _run(tmp_path / "run")  # 2750 records
    with ResultLog(tmp_path / "run" / "result") as writer:
        for i in range(series._REBUILD_ROWS):
            writer.add("loss", float(i), counter=N + i, tag="train")
    keys_path = sidecar_paths(log)[1]
    table = json.loads(keys_path.read_text())
    keys_path.write_text(json.dumps({"format": 3, "keys": table["keys"]}))  # what trialog 0.1.0 wrote
    _assert_agree(tmp_path / "run")
    assert json.loads(keys_path.read_text())["format"] == 4  # rebuilt: the next read uses it
    _assert_agree(tmp_path / "run")


def test_a_live_log_reads_right_between_the_tables_vouches(tmp_path):
    # A writer still open: rows written but not yet vouched for are not trusted; the log past the vouched
    # rows is parsed. Every state of the writer reads the same as the log.
    from trialog.results.log import read_results

    writer = ResultLog(tmp_path)
    log = tmp_path / "results.jsonl"
    for i in range(3 * series._VOUCH_ROWS + 500):
        writer.add("loss", float(i), counter=i, tag="train" if i % 3 else "val")
        if i % 5000 == 4999:
            cols = read_columns(log)
            slow = results_by_name(read_results(log))
            fast = {
                name: np.concatenate([c["value"] for (n, _), c in cols.items() if n == name]) for name in slow
            }
            assert sorted(fast["loss"].tolist()) == sorted(slow["loss"]["value"].tolist())
    writer.close()
    table = json.loads(sidecar_paths(log)[1].read_text())
    assert table["rows"] == 3 * series._VOUCH_ROWS + 500 and table["covered"] == log.stat().st_size
