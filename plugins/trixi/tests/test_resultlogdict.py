"""trixi's standalone ResultLogDict and LogDict (trialog.resultdict): the file, reopening, corruption, close."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from trialog_trixi import LogDict, ResultLogDict

from trialog.api import Run
from trialog.errors import ConfigError, CorruptFileError, TrialogError, TrialogWarning
from trialog.results.log import read_trixi_results


def test_result_log_dict_writes_trixi_elements_and_closes_a_json_array(tmp_path):
    d = ResultLogDict("results-log.json", base_dir=tmp_path / "out", running_mean_length=3)
    for i in range(5):
        d["loss"] = 1.0 / (i + 1)
    d["acc"] = {"data": np.float32(0.5), "label": "val", "epoch": 2, "counter": 1.5}
    d["acc"] = {"data": 0.75, "label": "val", "epoch": 2}
    assert d["loss"] == 0.2 and d["acc"] == 0.75 and set(d) == {"loss", "acc"}
    assert list(d.running_mean_dict["loss"]) == [1 / 3, 0.25, 0.2]
    assert d.file_name == str(tmp_path / "out" / "results-log.json")
    d.close()
    d.close()  # idempotent
    elements = json.loads((tmp_path / "out" / "results-log.json").read_text())
    assert elements[0] == {"loss": {"data": 1.0, "counter": 0}}
    assert [e["loss"]["counter"] for e in elements if "loss" in e] == [0, 1, 2, 3, 4]
    assert elements[5] == {"acc": {"data": 0.5, "label": "val", "epoch": 2, "counter": 1.5}}
    assert elements[6] == {"acc": {"data": 0.75, "label": "val", "epoch": 2, "counter": 2.5}}
    with pytest.raises(TrialogError, match="closed"):
        d["loss"] = 0.1


def test_result_log_dict_file_reads_as_a_trixi_results_log_before_and_after_close(tmp_path):
    d = ResultLogDict("results-log.json", base_dir=tmp_path / "result")
    d["loss"] = {"data": 0.5, "label": "train", "epoch": 0, "counter": 0.25}
    d["loss"] = {"data": 0.4, "label": "train", "epoch": 0}
    unclosed = read_trixi_results(tmp_path / "result" / "results-log.json")
    assert [(r["name"], r["value"], r["counter"], r["tag"]) for r in unclosed] == [
        ("loss", 0.5, 0.25, "train"),
        ("loss", 0.4, 1.25, "train"),
    ]
    d.close()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "exp.json").write_text(json.dumps({"name": "x", "state": "Finished", "epoch": 0}))
    results = Run(tmp_path).results  # a trixi run folder
    assert results["loss"]["counter"].tolist() == [0.25, 1.25]
    assert results["loss"]["value"].tolist() == [0.5, 0.4]


def test_result_log_dict_without_base_dir_and_print_to_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with ResultLogDict("log.json") as d:
        d.print_to_file('{"note": {"data": "text"}},')
        d["x"] = [1, 2]
    assert json.loads((tmp_path / "log.json").read_text()) == [
        {"note": {"data": "text"}},
        {"x": {"data": [1, 2], "counter": 0}},
    ]


def test_result_log_dict_appends_to_a_closed_file_and_mode_w_overwrites(tmp_path):
    with ResultLogDict("r.json", tmp_path) as d:
        d["a"] = 1
    with ResultLogDict("r.json", tmp_path) as d:  # mode "a": the array is reopened, not broken
        d["a"] = 2
    assert json.loads((tmp_path / "r.json").read_text()) == [
        {"a": {"data": 1, "counter": 0}},
        {"a": {"data": 2, "counter": 0}},
    ]
    with ResultLogDict("r.json", tmp_path, mode="w") as d:
        d["b"] = 3
    assert json.loads((tmp_path / "r.json").read_text()) == [{"b": {"data": 3, "counter": 0}}]
    with ResultLogDict("empty.json", tmp_path):
        pass
    with ResultLogDict("empty.json", tmp_path) as d:
        d["c"] = 4
    assert json.loads((tmp_path / "empty.json").read_text()) == [{"c": {"data": 4, "counter": 0}}]


def test_a_killed_writer_loses_nothing_and_the_torn_element_is_cut_on_reopen(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, signal
        from trialog_trixi import ResultLogDict
        d = ResultLogDict("r.json", {str(tmp_path)!r})
        for i in range(100):
            d["loss"] = float(i)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ}, check=False)
    assert proc.returncode == -9
    path = tmp_path / "r.json"
    assert len(read_trixi_results(path)) == 100
    with open(path, "ab") as fh:
        fh.write(b'{"loss": {"data": 1')  # torn by a crash mid-write
    with pytest.warns(TrialogWarning, match="incomplete element"):
        d = ResultLogDict("r.json", tmp_path)
    d["loss"] = 100.0
    d.close()
    values = [e["loss"]["data"] for e in json.loads(path.read_text())]
    assert values == [float(i) for i in range(101)]


@pytest.mark.parametrize(
    "content, match",
    [
        (b'{"loss": 1}\n', "does not start with"),
        (b'[\n{"loss": {"data": 1}},\n{garbage\n{"loss": {"data": 2}},\n', "corrupt"),
        (b"\x00\xff\xfe junk", "does not start with"),
    ],
)
def test_a_corrupt_file_is_refused_and_left_untouched(tmp_path, content, match):
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=match) as info:
        ResultLogDict("r.json", tmp_path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content


def test_load_fills_the_dict_and_continues_the_counters_without_writing(tmp_path):
    d = ResultLogDict("r.json", tmp_path)
    size = os.path.getsize(tmp_path / "r.json")
    d.load({"loss": {"data": 0.3, "label": "train", "epoch": 4, "counter": 7}, "lr": 0.1})
    assert d["loss"] == 0.3 and d["lr"] == 0.1
    assert os.path.getsize(tmp_path / "r.json") == size
    d["loss"] = 0.2
    d["lr"] = 0.05
    d.close()
    elements = json.loads((tmp_path / "r.json").read_text())
    assert elements == [{"loss": {"data": 0.2, "counter": 8}}, {"lr": {"data": 0.05, "counter": 1}}]
    with pytest.raises(TrialogError, match="mapping"):
        ResultLogDict("s.json", tmp_path).load([("loss", 1)])


def test_bad_input_names_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="mode"):
        ResultLogDict("r.json", tmp_path, mode="r")
    with pytest.raises(ConfigError, match="running_mean"):
        ResultLogDict("r.json", tmp_path, running_mean=3)
    d = ResultLogDict("r.json", tmp_path)
    with pytest.raises(TrialogError, match=r"'loss'.*JSON"):
        d["loss"] = object()
    with pytest.raises(TrialogError, match=r"'loss'.*counter"):
        d["loss"] = {"data": 1.0, "label": None, "epoch": 0, "counter": "x"}
    with pytest.raises(TrialogError, match="string"):
        d[3] = 1.0
    d.close()
    assert json.loads((tmp_path / "r.json").read_text()) == []  # nothing half-written


def test_log_dict_logs_its_complete_content(tmp_path, capsys):
    d = LogDict("log.txt", base_dir=tmp_path, to_console=True)
    d["a"] = 1
    assert (tmp_path / "log.txt").read_text() == ""  # assigning writes nothing, as in trixi
    d["b"] = "two"
    d.log_complete_content()
    d.close()
    assert (tmp_path / "log.txt").read_text() == "{'a': 1, 'b': 'two'}\n"
    assert capsys.readouterr().out == "{'a': 1, 'b': 'two'}\n"
    with LogDict("log.txt", tmp_path) as again:  # mode "a" appends
        again["c"] = 3
        again.log_complete_content()
    assert (tmp_path / "log.txt").read_text().splitlines() == ["{'a': 1, 'b': 'two'}", "{'c': 3}"]
    with LogDict("log.txt", tmp_path, mode="w") as fresh:
        fresh.log_complete_content()
    assert (tmp_path / "log.txt").read_text() == "{}\n"
    assert capsys.readouterr().out == ""  # to_console is off by default


def test_log_dict_refuses_to_write_through_a_symlink(tmp_path):
    (tmp_path / "real.txt").write_text("")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    with pytest.raises(TrialogError, match="symbolic link"):
        LogDict("link.txt", tmp_path)


def test_a_write_cut_short_by_a_full_disk_leaves_no_partial_line(tmp_path, monkeypatch):
    import errno

    from trialog.errors import DiskFullError

    d = ResultLogDict("r.json", tmp_path)
    d["loss"] = 1.0
    real_write = os.write

    def half_then_full(fd, data):
        if len(data) > 10:
            return real_write(fd, data[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(DiskFullError, match=r"r\.json"):
        d["loss"] = 2.0
    monkeypatch.setattr(os, "write", real_write)
    d["loss"] = 3.0
    d.close()
    assert [e["loss"]["data"] for e in json.loads((tmp_path / "r.json").read_text())] == [1.0, 3.0]
