"""Every damaged run folder gets an answer, never a 500: the issue-19 fuzz over 20 corruptions (truncated, junk,
empty and non-object files, garbled logs, symlinks out of the run folder) and every endpoint that reads a run."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import httpx
import pytest
from browser_helpers import make_run
from trialog_browser.index import run_id
from trialog_browser.serve import BrowserServer

SECRET_LR = 987654.0
SECRET_VALUE = 13579.25


def _junk(path):
    path.write_bytes(b"\x00\xff\xfe junk \x80\x81" * 20)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path):
    path.write_bytes(b"")


def _not_object(path):
    path.write_text("[1, 2, 3]")


def _garble_middle(path):
    lines = path.read_bytes().splitlines(keepends=True)
    lines[len(lines) // 2] = b'{"name": "loss", "val\n'
    path.write_bytes(b"".join(lines))


def _binary_line(path):
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = b"\x00\xff\xfe\x80\n"
    path.write_bytes(b"".join(lines))


def _torn_last(path):
    with open(path, "ab") as fh:
        fh.write(b'{"name": "loss", "tag": "train", "va')


def _link(run, rel, outside):
    target = outside / rel
    entry = run / rel
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    else:
        entry.unlink()
    os.symlink(target, entry)


CORRUPTIONS = {
    "run.json truncated": lambda run, out: _truncate(run / "run.json"),
    "run.json junk": lambda run, out: _junk(run / "run.json"),
    "run.json empty": lambda run, out: _empty(run / "run.json"),
    "run.json not an object": lambda run, out: _not_object(run / "run.json"),
    "config.json truncated": lambda run, out: _truncate(run / "config" / "config.json"),
    "config.json junk": lambda run, out: _junk(run / "config" / "config.json"),
    "config.json empty": lambda run, out: _empty(run / "config" / "config.json"),
    "config.json not an object": lambda run, out: _not_object(run / "config" / "config.json"),
    "results.jsonl garbled line": lambda run, out: _garble_middle(run / "result" / "results.jsonl"),
    "results.jsonl binary line": lambda run, out: _binary_line(run / "result" / "results.jsonl"),
    "results.jsonl empty": lambda run, out: _empty(run / "result" / "results.jsonl"),
    "results.jsonl torn last line": lambda run, out: _torn_last(run / "result" / "results.jsonl"),
    "results.json junk": lambda run, out: _junk(run / "result" / "results.json"),
    "checkpoint manifest junk": lambda run, out: _junk(run / "checkpoint" / "index.json"),
    "sources.zip junk": lambda run, out: _junk(run / "save" / "sources.zip"),
    "run.json linked outside": lambda run, out: _link(run, "run.json", out),
    "config/ linked outside": lambda run, out: _link(run, "config", out),
    "result/ linked outside": lambda run, out: _link(run, "result", out),
    "results.jsonl linked outside": lambda run, out: _link(run, "result/results.jsonl", out),
    "plot/ linked outside": lambda run, out: _link(run, "plot", out),
}
#: The file /api/run names (``damaged``, with a 422) for each damage it reads; the overview's row names it too
#: when the index reads that file (run.json, the config, the results log).
NAMED = {
    **{k: "run.json" for k in CORRUPTIONS if k.startswith("run.json")},
    **{k: "config/config.json" for k in CORRUPTIONS if k.startswith("config")},
    "result/ linked outside": "result/results.jsonl",
    "results.jsonl linked outside": "result/results.jsonl",
    "checkpoint manifest junk": "checkpoint/index.json",
    "sources.zip junk": "save/sources.zip",
    "plot/ linked outside": "plot",
}
IN_ROW = {k for k, v in NAMED.items() if v in ("run.json", "config/config.json", "result/results.jsonl")}
#: The results log cannot be read: /series and /tail answer 422 naming it.
LOG_DAMAGED = {
    "results.jsonl garbled line",
    "results.jsonl binary line",
    "result/ linked outside",
    "results.jsonl linked outside",
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("pristine")
    good = make_run(base / "runs", "good", 0.01, seed=1, epochs=2, steps=20)
    with zipfile.ZipFile(good / "save" / "sources.zip", "w") as zf:
        zf.writestr("train.py", "print('hi')\n")
    outside = make_run(base / "elsewhere", "outside", SECRET_LR, seed=2, epochs=1, steps=5)
    with open(outside / "result" / "results.jsonl", "a") as fh:
        fh.write(
            json.dumps(
                {
                    "name": "loss",
                    "tag": "train",
                    "value": SECRET_VALUE,
                    "counter": 99,
                    "epoch": 0,
                    "time": 1.0,
                }
            )
            + "\n"
        )
    (outside / "plot" / "outside-secret.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return good, outside


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_no_endpoint_answers_500_for_a_damaged_run(tmp_path, pristine, kind):
    good, outside = pristine
    base = tmp_path / "runs"
    base.mkdir()
    run = base / good.name
    shutil.copytree(good, run, symlinks=True)
    other = make_run(base, "healthy", 0.02, seed=3, epochs=1, steps=5)
    CORRUPTIONS[kind](run, outside)
    rid, healthy = run_id(run), run_id(other)
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        with httpx.Client(base_url=server.url.rstrip("/"), timeout=600) as client:
            answers = {
                "overview": client.get("/api/runs"),
                "overview page": client.get("/"),
                "run page": client.get(f"/run/{rid}"),
                "run": client.get(f"/api/run/{rid}"),
                "series": client.get(f"/api/run/{rid}/series"),
                "tail": client.get(f"/api/run/{rid}/tail", params={"offset": 0}),
                "compare": client.get("/api/compare", params={"ids": f"{rid},{healthy}"}),
                "combine": client.get("/api/compare", params={"ids": f"{rid},{healthy}", "combine": "seed"}),
                "healthy run": client.get(f"/api/run/{healthy}", params={"diff": rid}),
            }
    for endpoint, answer in answers.items():
        assert answer.status_code < 500, (endpoint, answer.status_code, answer.text[:500])
        # nothing outside the run folder is ever shown
        text = answer.text
        assert str(SECRET_VALUE) not in text and "987654" not in text and "outside-secret" not in text, (
            endpoint
        )
        if endpoint not in ("overview page", "run page"):
            assert answer.headers["content-type"].startswith("application/json"), endpoint
    rows = {r["id"]: r for r in answers["overview"].json()["rows"]}
    assert healthy in rows and rid in rows  # a damaged run is listed, with the reason
    named = NAMED.get(kind)
    info = answers["run"]
    if named is None:
        assert info.status_code == 200, info.text[:500]
    else:
        assert info.status_code == 422, info.text[:500]
        body = info.json()
        assert body["damaged"] and any(d["file"] == named for d in body["damaged"]), body["damaged"]
        assert all(d["error"] for d in body["damaged"])
        assert body["row"]["id"] == rid  # what can still be read comes with it
    if kind in IN_ROW:
        assert any(d["file"] == named for d in rows[rid]["damaged"]), rows[rid]
    for endpoint in ("series", "tail"):
        answer = answers[endpoint]
        if kind in LOG_DAMAGED:
            assert answer.status_code == 422, (endpoint, answer.text[:300])
            assert answer.json()["file"] == "result/results.jsonl" and answer.json()["error"]
        elif not kind.startswith("run.json"):
            assert answer.status_code == 200, (endpoint, answer.text[:300])
