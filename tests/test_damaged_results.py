"""A corrupt record in the middle of a results log: every surface says so, `runs repair` cuts the log back to
its checkpoint, and the resume then finishes with an uninterrupted run's records (issue 18, observation 6)."""

from __future__ import annotations

import json

import httpx
import pytest
from trialog_browser.serve import BrowserServer

from trialog import Experiment, Run
from trialog.cli import main
from trialog.errors import TrialogError

HANG = 600  # bounds a hang only


class Steps(Experiment):
    stop_at: int | None = None

    def setup(self):
        self.w = 0.0

    def train(self, epoch):
        for step in range(3):
            if (epoch, step) == (self.stop_at, 2):  # mid-epoch, after the checkpoint of epoch 1
                raise RuntimeError("the machine went away")
            self.w += 0.5
            self.add_result(self.w, "loss", counter=epoch * 3 + step, tag="train")

    def validate(self, epoch):
        self.add_result(self.w / 10, "accuracy", counter=epoch, tag="val")


class Interrupted(Steps):
    stop_at = 2


def _records(run_dir):
    return [
        (r["name"], r["tag"], r["value"], r["counter"], r["epoch"])
        for r in map(json.loads, (run_dir / "result" / "results.jsonl").read_text().splitlines())
    ]


def test_damage_is_shown_everywhere_repaired_and_resumed(tmp_path, capsys, monkeypatch):
    whole = Steps(config={}, name="whole", n_epochs=4, base_dir=tmp_path / "whole", loggers={})
    whole.run()
    whole.close()

    base = tmp_path / "runs"
    first = Interrupted(config={}, name="cut", n_epochs=4, base_dir=base, loggers={})
    with pytest.raises(RuntimeError):
        first.run()
    first.close()
    run_dir = first.run_dir
    log = run_dir / "result" / "results.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    lines.insert(len(lines) - 1, "this is no record\n")  # after the checkpoint, and a record follows it
    log.write_text("".join(lines))
    bad_line = len(lines) - 1

    where = f"line {bad_line}"
    assert where in next(iter(Run(run_dir).problems.values()))
    with pytest.raises(TrialogError, match=where):
        list(Run(run_dir).records)

    assert main(["runs", "ls", str(base)]) == 0
    out = capsys.readouterr().out
    assert "DAMAGED" in out and "results.jsonl" in out and where in out
    main(["runs", "ls", str(base), "--json"])
    (row,) = json.loads(capsys.readouterr().out)
    assert where in row["problems"]["result/results.jsonl"]
    main(["runs", "show", str(run_dir)])
    out = capsys.readouterr().out
    assert "result/results.jsonl DAMAGED" in out and where in out
    main(["runs", "show", str(run_dir), "--json"])
    assert where in json.loads(capsys.readouterr().out)["problems"]["result/results.jsonl"]
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        with httpx.Client(base_url=server.url.rstrip("/"), timeout=HANG) as client:
            (browsed,) = client.get("/api/runs").json()["rows"]

            assert where in browsed["problems"]["result/results.jsonl"]
            detail = client.get(f"/api/run/{browsed['id']}").json()
            assert where in detail["row"]["problems"]["result/results.jsonl"]

    with pytest.raises(TrialogError, match=where):  # the resume names the damage, it does not guess
        Steps(config={}, name="cut", n_epochs=4, base_dir=base, loggers={}, resume=run_dir)

    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    assert main(["runs", "repair", str(run_dir)]) == 1  # asked first: "n" leaves the log alone
    assert "left as it was" in capsys.readouterr().out and Run(run_dir).problems
    assert main(["runs", "repair", str(run_dir), "--yes"]) == 0
    assert "cut " in capsys.readouterr().out and not Run(run_dir).problems

    resumed = Steps(config={}, name="cut", n_epochs=4, base_dir=base, loggers={}, resume=run_dir)
    resumed.run()
    resumed.close()
    assert Run(run_dir).status == "finished"
    assert _records(run_dir) == _records(whole.run_dir)
