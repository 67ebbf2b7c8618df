"""The overview, run, series, tail and compare endpoints, served for real on 127.0.0.1."""

from __future__ import annotations

import json
import os

import pytest
from browser_helpers import make_run
from trialog_browser.index import run_id

from trialog.api import machine_line


def test_overview_lists_filters_sorts_and_pages(served):
    _, client, _ = served
    data = client.get("/api/runs").json()
    assert data["total"] == 3 and {r["name"] for r in data["rows"]} == {"alpha", "beta", "gamma"}
    assert "lr" in data["config_columns"] and "seed" in data["config_columns"]
    assert "model.depth" not in data["config_columns"]  # equal in every run
    # one column per series (name, tag), named tag/name as everywhere
    assert {c["name"]: c["mode"] for c in data["result_columns"]} == {"val/acc": "max", "train/loss": "min"}
    rows = client.get("/api/runs", params={"q": "lr<0.01 and status=finished and tag:baseline"}).json()[
        "rows"
    ]
    assert {r["name"] for r in rows} == {"alpha", "gamma"}
    assert client.get("/api/runs", params={"search": "baseline purpose"}).json()["total"] == 0
    assert [r["name"] for r in client.get("/api/runs", params={"search": "the baseline"}).json()["rows"]] == [
        "alpha"
    ]
    names = [
        r["name"] for r in client.get("/api/runs", params={"sort": "config.lr", "desc": "0"}).json()["rows"]
    ]
    assert names[-1] == "beta"
    page = client.get("/api/runs", params={"per": 2, "page": 1, "sort": "name", "desc": "0"}).json()
    assert [r["name"] for r in page["rows"]] == ["gamma"] and page["total"] == 3
    bad = client.get("/api/runs", params={"q": "lr<"})
    assert bad.status_code == 400 and "filter" in bad.json()["error"]


def test_run_page_data(served):
    _, client, made = served
    rid = run_id(made["a"])
    (made["a"] / "log" / "default.log").write_text("<script>alert(1)</script>\n")
    info = client.get(f"/api/run/{rid}").json()
    assert info["row"]["name"] == "alpha" and info["registry"]["purpose"] == "the baseline"
    assert info["config"]["lr"] == 0.001 and info["files"]["log"][0]["name"] == "default.log"
    assert (
        info["machine"] == machine_line(info["meta"]["machine"]) and f"{os.cpu_count()} × " in info["machine"]
    )
    log = client.get(f"/api/run/{rid}/file/log/default.log")
    assert (
        log.headers["content-type"].startswith("text/plain")
        and log.headers["x-content-type-options"] == "nosniff"
    )
    diff = client.get(f"/api/run/{rid}", params={"diff": run_id(made["b"])}).json()["diff"]
    assert diff["keys"] == {"lr": [0.001, 0.1]}
    page = client.get(f"/run/{rid}")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    series = client.get(f"/api/run/{rid}/series").json()
    keys = {s["key"]: s for s in series["series"]}
    assert set(keys) == {"train/loss", "val/acc"} and keys["train/loss"]["total"] == 300
    assert len(keys["train/loss"]["x"]) == 300


def test_large_series_downsampled_and_zoom_is_full_resolution(tmp_path):
    import httpx
    from trialog_browser.serve import BrowserServer

    run = make_run(tmp_path / "runs", "big", 0.0001, epochs=1, steps=50_000)
    with (
        BrowserServer([tmp_path / "runs"], cache_dir=tmp_path / "c") as server,
        httpx.Client(base_url=server.url) as c,
    ):
        rid = run_id(run)
        s = c.get(f"/api/run/{rid}/series").json()["series"]
        loss = next(x for x in s if x["name"] == "loss")
        assert loss["total"] == 50_000 and 1000 <= len(loss["x"]) <= 2002
        assert loss["x"][0] == 0 and loss["x"][-1] == 49_999
        z = c.get(f"/api/run/{rid}/series", params={"name": "train/loss", "lo": 1000, "hi": 1999}).json()[
            "series"
        ]
        assert len(z) == 1 and len(z[0]["x"]) == 1002  # every sample in the window, plus one each side


def test_tail_reads_only_appended_records(tmp_path):
    import httpx
    from trialog_browser.serve import BrowserServer

    from trialog.api import Experiment

    exp = Experiment(
        config={"lr": 1}, name="live", base_dir=tmp_path / "runs", loggers={}, save_sources=False
    )
    exp.add_result(1.0, "loss", tag="train", counter=0)
    with (
        BrowserServer([tmp_path / "runs"], cache_dir=tmp_path / "c") as server,
        httpx.Client(base_url=server.url) as c,
    ):
        rid = run_id(exp.run_dir)
        series = c.get(f"/api/run/{rid}/series").json()
        assert series["status"] == "running"
        offset = series["offset"]
        exp.add_result(0.5, "loss", tag="train", counter=1)
        exp.add_result(0.25, "loss", tag="train", counter=2)
        tail = c.get(f"/api/run/{rid}/tail", params={"offset": offset}).json()
        assert [r["y"] for r in tail["records"]] == [0.5, 0.25] and tail["records"][0]["key"] == "train/loss"
        assert c.get(f"/api/run/{rid}/tail", params={"offset": tail["offset"]}).json()["records"] == []
        assert c.get(f"/api/run/{rid}/tail", params={"offset": 10**9}).status_code == 409
    exp.close()


def test_compare_and_combine(served):
    _, client, made = served
    ids = ",".join(run_id(p) for p in made.values())
    data = client.get("/api/compare", params={"ids": ids}).json()
    assert len(data["series"]) == 3 and data["diff"]["lr"] == [0.001, 0.1, 0.001]
    combined = client.get("/api/compare", params={"ids": ids, "combine": "seed"}).json()
    groups = combined["groups"]
    assert sorted(len(v) for v in groups.values()) == [1, 2]  # alpha + gamma differ only in seed
    two = next(label for label, members in groups.items() if len(members) == 2)
    loss = combined["combined"][two]["train/loss"]
    assert loss["n"] == 2 and all(s >= 0 for s in loss["std"]) and max(loss["std"]) > 0
    by_lr = client.get("/api/compare", params={"ids": ids, "combine": "lr"}).json()["groups"]
    assert sorted(by_lr) == ["seed=1", "seed=2"] and len(by_lr["seed=1"]) == 2


def test_registry_changes_through_post(served):
    server, client, made = served
    rid = run_id(made["b"])
    page = client.get(f"/run/{rid}")
    token = page.text.split('name="trialog-token" content="')[1].split('"')[0]
    headers = {"X-Trialog-Token": token, "Origin": server.url.rstrip("/")}
    r = client.post(
        f"/api/run/{rid}/registry", json={"action": "note", "text": "from the page"}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert (
        client.post(
            f"/api/run/{rid}/registry", json={"action": "tag", "add": ["best"]}, headers=headers
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/run/{rid}/registry", json={"action": "rename", "name": "beta*"}, headers=headers
        ).status_code
        == 200
    )
    stored = json.loads((made["b"] / "run.json").read_text())
    assert (
        stored["notes"][0]["text"] == "from the page"
        and stored["tags"] == ["best"]
        and stored["display_name"] == "beta*"
    )
    assert [x["name"] for x in client.get("/api/runs", params={"q": "tag:best"}).json()["rows"]] == ["beta*"]
    # what the page wrote, `trialog runs ls --where` finds
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trialog.cli",
            "runs",
            "ls",
            str(made["b"].parent),
            "--where",
            "tag:best",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [r["name"] for r in json.loads(done.stdout)] == ["beta*"]
    assert (
        client.post(f"/api/run/{rid}/registry", json={"action": "remove"}, headers=headers).status_code == 200
    )
    assert client.get("/api/runs").json()["total"] == 2
    assert client.get("/api/runs", params={"all": "1"}).json()["total"] == 3
    bad = client.post(
        f"/api/run/{rid}/registry", json={"action": "tag", "add": ["no spaces"]}, headers=headers
    )
    assert bad.status_code == 400 and "tag" in bad.json()["error"]


def test_index_cache_rereads_only_changed_runs(runs, tmp_path):
    from trialog_browser.index import RunIndex

    base, made = runs
    index = RunIndex([base], tmp_path / "cache")
    assert index.refresh() == 3
    assert index.refresh() == 0
    again = RunIndex([base], tmp_path / "cache")  # a restarted browser starts from the cache file
    assert len(again) == 3 and again.refresh() == 0
    from trialog_runs import registry

    registry.add_note(made["a"], "touch")
    assert again.refresh() == 1
    make_run(base, "delta", 0.01)
    assert again.refresh() == 1 and len(again) == 4


def test_trixi_runs_are_listed(tmp_path):
    import shutil
    from pathlib import Path

    from trialog_browser.index import RunIndex

    src = Path(__file__).parents[3] / "core" / "tests" / "data" / "trixi-run-example"
    base = tmp_path / "runs"
    shutil.copytree(src, base / "trixi-run")
    index = RunIndex([base], tmp_path / "cache")
    index.refresh()
    (entry,) = index.entries()
    assert entry["kind"] == "trixi" and entry["results"]
    import httpx
    from trialog_browser.serve import BrowserServer

    with BrowserServer([base], cache_dir=tmp_path / "c") as server, httpx.Client(base_url=server.url) as c:
        info = c.get(f"/api/run/{entry['id']}").json()
        assert info["row"]["kind"] == "trixi" and info["registry"] is None  # read-only
        series = c.get(f"/api/run/{entry['id']}/series").json()["series"]
        assert series and all(len(s["x"]) == len(s["y"]) for s in series)
        page = c.get(f"/run/{entry['id']}")
        token = page.text.split('name="trialog-token" content="')[1].split('"')[0]
        r = c.post(
            f"/api/run/{entry['id']}/registry",
            json={"action": "note", "text": "x"},
            headers={"Origin": server.url.rstrip("/"), "X-Trialog-Token": token},
        )
        assert r.status_code == 400 and "read-only" in r.json()["error"]


def test_trixi_exp_info_gives_the_name_star_and_removal(tmp_path):
    """A trixi run renamed, starred or removed in trixi's browser (``.exp_info``) shows so here."""
    import shutil
    from pathlib import Path

    import httpx
    from trialog_browser.index import RunIndex
    from trialog_browser.serve import BrowserServer

    src = Path(__file__).parents[3] / "core" / "tests" / "data" / "trixi-run-example"
    base = tmp_path / "runs"
    shutil.copytree(src, base / "trixi-run")
    (base / "trixi-run" / ".exp_info").write_text(json.dumps({"name": "renamed in trixi", "star": True}))
    index = RunIndex([base], tmp_path / "cache")
    index.refresh()
    (entry,) = index.entries()
    assert entry["meta"]["display_name"] == "renamed in trixi" and entry["meta"]["starred"] is True
    with BrowserServer([base], cache_dir=tmp_path / "c", refresh_every=0) as server:
        with httpx.Client(base_url=server.url) as c:
            (row,) = c.get("/api/runs").json()["rows"]
            assert row["name"] == "renamed in trixi" and row["starred"] and not row["removed"]
            (base / "trixi-run" / ".exp_info").write_text(json.dumps({"star": False, "ignore": True}))
            assert c.get("/api/runs").json()["total"] == 0  # trixi's "ignore" is a removal
            (row,) = c.get("/api/runs", params={"all": "1"}).json()["rows"]
            assert row["removed"] and not row["starred"] and row["name"] == "trixi_example"
    (base / "trixi-run" / ".exp_info").write_text("{not json")
    assert index.refresh() == 1 and "display_name" not in index.entries()[0]["meta"]


def test_server_serves_a_browser_made_before_the_port_was_known(runs, tmp_path):
    import httpx
    from trialog_browser.app import Browser
    from trialog_browser.serve import BrowserServer

    base, _ = runs
    browser = Browser([base], "127.0.0.1", 5000, cache_dir=tmp_path / "cache")
    with BrowserServer([], browser=browser) as server:
        assert server.browser is browser and f"127.0.0.1:{server.port}" in browser.hosts
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/api/runs").json()["total"] == 3
    with pytest.raises(TypeError, match="cache_dir"):
        BrowserServer([], browser=browser, cache_dir=tmp_path / "other")


def test_tail_from_far_behind_matches_the_log_and_a_stale_offset_resets(tmp_path):
    # offset 0 or more than 1 MB behind: answered from the series columns (no JSON re-parse each time), the
    # same records the log holds; an offset that is not a record's end (the log was replaced) is a reset.
    import httpx
    from trialog_browser.serve import BrowserServer

    from trialog.api import Experiment

    exp = Experiment(
        config={"lr": 1}, name="long", base_dir=tmp_path / "runs", loggers={}, save_sources=False
    )
    for i in range(30_000):
        exp.add_result(i * 0.5, "loss", tag="train", counter=i)
        if i % 3 == 0:
            exp.add_result(i, "acc", tag="val", counter=i)
    exp.add_result([1, 2], "vector", counter=0)  # not a curve: never in a tail
    log = exp.run_dir / "result" / "results.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    expected = [json.loads(line) for line in lines]
    expected = [
        {"key": f"{r['tag']}/{r['name']}" if r["tag"] else r["name"], "x": r["counter"], "y": r["value"]}
        for r in expected
        if not isinstance(r["value"], list)
    ]
    with BrowserServer([tmp_path / "runs"], cache_dir=tmp_path / "c") as server:
        with httpx.Client(base_url=server.url, timeout=600) as c:
            rid = run_id(exp.run_dir)
            whole = c.get(f"/api/run/{rid}/tail", params={"offset": 0}).json()
            assert whole["records"] == expected[-50_000:] and whole["offset"] == log.stat().st_size
            cut = sum(len(line) for line in lines[:1000])  # ~2 MB behind
            behind = c.get(f"/api/run/{rid}/tail", params={"offset": cut}).json()
            assert behind["records"] == expected[1000:][-50_000:]
            near = sum(len(line) for line in lines[:-10])
            assert c.get(f"/api/run/{rid}/tail", params={"offset": near}).json()["records"] == expected[-9:]
            stale = c.get(f"/api/run/{rid}/tail", params={"offset": cut + 7})
            assert stale.status_code == 409 and stale.json()["reset"] is True
    exp.close()


def test_at_best_values_are_result_columns_and_filterable(tmp_path):
    import httpx
    from trialog_browser.serve import BrowserServer

    base = tmp_path / "runs"
    make_run(
        base, "watched", 0.01, epochs=3, steps=10, monitor="acc"
    )  # acc rises: its best is the last epoch
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        with httpx.Client(base_url=server.url.rstrip("/"), timeout=600) as client:
            data = client.get("/api/runs").json()
            # keyed per series like every summary: the monitor "acc" is the series val/acc
            assert {"at_best/val/acc", "at_best/train/loss"} <= {c["name"] for c in data["result_columns"]}
            rows = client.get("/api/runs", params={"q": "at_best/val/acc.last > 0.7"}).json()["rows"]
            assert [r["name"] for r in rows] == ["watched"]
