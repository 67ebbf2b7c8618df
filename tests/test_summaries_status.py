"""Summaries per (name, tag) and one status, the same in Run, ``trialog runs``, the filter language and the
browser (issue 18: observations 4 and 5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from trialog_browser.index import RunIndex, run_id, status_of
from trialog_browser.serve import BrowserServer

from trialog import Experiment, Run
from trialog.cli import main
from trialog.errors import AmbiguousResultError

HANG = 600  # bounds a hang only; every wait below ends on its event
TRIXI_RUN = Path(__file__).resolve().parents[1] / "core" / "tests" / "data" / "trixi-run-example"


class Accuracies(Experiment):
    """The README's convention: one name, one tag per phase; train accuracy runs above val accuracy."""

    def train(self, epoch):
        self.add_result(0.99 + epoch / 1000, "accuracy", counter=epoch, tag="train")
        self.add_result(1.0 / (epoch + 1), "loss", counter=epoch, tag="train")

    def validate(self, epoch):
        self.add_result(0.9 + epoch / 100, "accuracy", counter=epoch, tag="val")


@pytest.fixture
def base(tmp_path):
    exp = Accuracies(config={"lr": 0.1}, name="acc", n_epochs=6, base_dir=tmp_path / "runs", loggers={})
    exp.run()
    assert exp.get_result("accuracy", tag="val") == pytest.approx(0.95)
    assert exp.get_result("accuracy", tag="train") == pytest.approx(0.995)
    assert exp.get_result("val/accuracy") == pytest.approx(0.95) and exp.get_result("loss") == 1 / 6
    with pytest.raises(AmbiguousResultError, match=r"'train'.*'val'"):
        exp.get_result("accuracy")
    exp.close()
    return tmp_path / "runs"


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_summaries_are_per_name_and_tag_in_every_reader(base, capsys, tmp_path):
    (run_dir,) = base.iterdir()
    stored = json.loads((run_dir / "result" / "results.json").read_text())
    assert set(stored) == {"train/accuracy", "val/accuracy", "train/loss"}
    assert stored["val/accuracy"]["max"] == pytest.approx(0.95) and stored["val/accuracy"]["count"] == 6
    assert stored["train/accuracy"]["max"] == pytest.approx(0.995)

    run = Run(run_dir)
    assert run.summary["val/accuracy"]["max"] == pytest.approx(0.95)
    assert run.summary["loss"]["last"] == 1 / 6  # a bare name logged under one tag finds its series
    with pytest.raises(AmbiguousResultError, match="val/accuracy"):
        run.summary["accuracy"]
    assert run.results["val/accuracy"]["tag"] == ["val"] * 6
    assert max(run.results["val/accuracy"]["value"]) == pytest.approx(0.95)

    code, out, _ = cli(capsys, "runs", "ls", str(base), "--json", "-m", "val/accuracy:max", "-m", "loss")
    (row,) = json.loads(out)
    assert code == 0 and row["metrics"]["val/accuracy"]["best"] == pytest.approx(0.95)
    assert row["metrics"]["loss"]["last"] == 1 / 6
    code, _, err = cli(capsys, "runs", "ls", str(base), "-m", "accuracy:max")
    assert code != 0 and "'train/accuracy' or 'val/accuracy'" in err
    code, out, _ = cli(capsys, "runs", "show", str(run_dir), "--json")
    assert json.loads(out)["summary"]["val/accuracy"]["max"] == pytest.approx(0.95)

    filters = {
        "val/accuracy.max>0.99": 0,
        "train/accuracy.max>0.99": 1,
        "val/accuracy>0.94": 1,
        "loss<0.2": 1,
    }
    for where, expected in filters.items():
        code, out, _ = cli(capsys, "runs", "ls", str(base), "--json", "--where", where)
        assert len(json.loads(out)) == expected, where
    assert main(["runs", "ls", str(base), "--where", "accuracy.max>0.99"]) != 0
    assert "ambiguous" in capsys.readouterr().err

    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        with httpx.Client(base_url=server.url.rstrip("/"), timeout=HANG) as client:
            data = client.get("/api/runs").json()
            columns = {c["name"]: c["mode"] for c in data["result_columns"]}
            assert columns == {"train/accuracy": "max", "val/accuracy": "max", "train/loss": "min"}
            results = data["rows"][0]["results"]
            assert results["val/accuracy"]["best"] == pytest.approx(0.95)
            assert results["train/accuracy"]["best"] == pytest.approx(0.995)
            for where, expected in filters.items():
                assert client.get("/api/runs", params={"q": where}).json()["total"] == expected, where
            bad = client.get("/api/runs", params={"q": "accuracy.max>0.99"})
            assert bad.status_code == 400 and "val/accuracy.max" in bad.json()["error"]
            rows = client.get("/api/runs", params={"sort": "result.val/accuracy"}).json()["rows"]
            assert rows[0]["id"] == run_id(run_dir)


def _as_trialog_010(run_dir: Path, records: list[dict]) -> None:
    """Make ``run_dir`` look written by trialog 0.1.0: no result_keys mark, a summary per name (tags merged)."""
    meta = json.loads((run_dir / "run.json").read_text())
    meta.pop("result_keys")
    (run_dir / "run.json").write_text(json.dumps(meta))
    for name in ("results.series", "results.series.keys"):
        (run_dir / "result" / name).unlink(missing_ok=True)
    (run_dir / "result" / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    merged: dict = {}
    for r in records:
        m = merged.setdefault(r["name"], {"last": None, "min": r["value"], "max": r["value"], "count": 0})
        m.update(last=r["value"], min=min(m["min"], r["value"]), max=max(m["max"], r["value"]))
        m["count"] += 1
    (run_dir / "result" / "results.json").write_text(json.dumps(merged))


def test_old_run_folders_read_per_series(base, tmp_path):
    (run_dir,) = base.iterdir()
    rec = {"counter": 0, "epoch": 0, "time": 1.0}
    _as_trialog_010(
        run_dir,
        [
            {"name": "accuracy", "tag": "train", "value": 0.999, **rec},
            {"name": "accuracy", "tag": "val", "value": 0.9, **rec},
            # trialog-torch 0.1.0: the phase in the name, the metric as tag
            {"name": "val/loss", "tag": "loss", "value": 0.3, **rec},
        ],
    )
    summary = Run(run_dir).summary  # the merged results.json of 0.1.0 is not shown: the records are
    assert set(summary) == {"train/accuracy", "val/accuracy", "val/loss"}
    assert summary["val/accuracy"]["max"] == 0.9 and summary["val/loss"]["last"] == 0.3
    trixi = Run(TRIXI_RUN).summary  # trixi's label is the tag
    assert {"train/loss", "val/acc"} <= set(trixi) and trixi["acc"] is trixi["val/acc"]
    index = RunIndex([base], cache_dir=tmp_path / "cache")
    index.refresh()
    assert index.get(run_id(run_dir))["results"]["val/accuracy"]["max"] == 0.9


SCRIPT = textwrap.dedent(
    """
    import sys
    from trialog import Experiment

    exp = Experiment(config={}, name=sys.argv[2], base_dir=sys.argv[1], loggers={}, save_sources=False,
                     heartbeat_interval=float(sys.argv[3]))
    exp.add_result(1.0, "loss", tag="train")
    print(exp.run_dir, flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)
    exp.close()
    """
)


def _start(tmp_path: Path, base: Path, name: str) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "hold.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(base), name, "3600"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    run_dir = Path(proc.stdout.readline().strip())  # the event: the run folder exists and has a result
    return proc, run_dir


def _statuses(capsys, base: Path, client: httpx.Client) -> dict[str, dict[str, str]]:
    code, out, _ = cli(capsys, "runs", "ls", str(base), "--json")
    assert code == 0
    by_cli = {Path(r["path"]).name: r["status"] for r in json.loads(out)}
    rows = client.get("/api/runs", params={"per": 500}).json()["rows"]
    by_browser = {r["folder"]: r["status"] for r in rows}
    by_run = {p.name: Run(p).status for p in base.iterdir()}
    return {"cli": by_cli, "browser": by_browser, "run": by_run}


def test_one_status_for_cli_browser_and_filters(tmp_path, capsys):
    base = tmp_path / "runs"
    base.mkdir()
    healthy, healthy_dir = _start(tmp_path, base, "healthy")
    doomed, doomed_dir = _start(tmp_path, base, "doomed")
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        with httpx.Client(base_url=server.url.rstrip("/"), timeout=HANG) as client:
            seen = _statuses(capsys, base, client)
            assert all(
                s == {healthy_dir.name: "running", doomed_dir.name: "running"} for s in seen.values()
            ), seen

            # A cached index entry that still says "running" while the run finishes: never "killed" between
            index = RunIndex([base], cache_dir=tmp_path / "cache2")
            index.refresh()
            cached = index.get(run_id(healthy_dir))
            healthy.stdin.close()
            assert healthy.wait(HANG) == 0
            assert cached["meta"]["status"] == "running" and status_of(cached) == "finished"

            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait(
                HANG
            )  # the event: the process is gone (heartbeat interval is an hour: no beat decides)
            seen = _statuses(capsys, base, client)
            expected = {healthy_dir.name: "finished", doomed_dir.name: "killed"}
            assert all(s == expected for s in seen.values()), seen
            _, out, _ = cli(capsys, "runs", "ls", str(base), "--json", "--where", "status=killed")
            assert [Path(r["path"]).name for r in json.loads(out)] == [doomed_dir.name]
            rows = client.get("/api/runs", params={"q": "status=killed"}).json()["rows"]
            assert [r["folder"] for r in rows] == [doomed_dir.name]


def test_flat_metric_dicts_name_series_and_unambiguous_bare_names():
    from trialog.api import series_values

    flat = series_values({("error", "val"): 1.0, ("accuracy", "train"): 0.9, ("accuracy", "val"): 0.8})
    assert flat == {"val/error": 1.0, "error": 1.0, "train/accuracy": 0.9, "val/accuracy": 0.8}
