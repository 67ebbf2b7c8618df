"""trialog browse with many runs and long series: first scan, first overview page, a 1M-record run page; `trialog runs ls` alongside.

Run: python benchmarks/bench_browser.py [N_RUNS]  (default 10,000 runs of 1,000 records each; a few minutes on 2
cores). The runs are generated once: one real run written by trialog's Experiment/ResultLog, copied into
N folders with their own run.json and config (lr, seed, status vary). The browser is served for real on
127.0.0.1 and asked over HTTP, as a page would.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import report
from trialog_browser.index import RunIndex, run_id
from trialog_browser.serve import BrowserServer

from trialog.results import ResultLog

N_RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
RECORDS = 1000
BIG = 1_000_000


def _template(root: Path) -> Path:
    run = root / "template"
    (run / "result").mkdir(parents=True)
    (run / "config").mkdir()
    log = ResultLog(run / "result")
    for i in range(RECORDS - RECORDS // 10):
        log.add("loss", 1.0 / (i + 1), i, "train", i // 100)
    for i in range(RECORDS // 10):
        log.add("acc", 0.5 + i / 200, i * 10, "val", i)
    log.save_summary()
    log.close()
    return run


def _generate(base: Path, template: Path) -> None:
    meta = dict(
        {
            "status": "finished",
            "start": "2026-11-21T10:15:00.000000+00:00",
            "end": "2026-11-21T11:15:00.000000+00:00",
            "heartbeat_interval": 30.0,
            "host": "bench",
            "pid": 1,
            "epoch": 9,
            "git": {"commit": "0" * 40, "branch": "main", "dirty": False},
        }
    )
    files = [p.relative_to(template) for p in template.rglob("*") if p.is_file()]
    for i in range(N_RUNS):
        run = base / f"20261121-{i:06d}_sweep"
        (run / "result").mkdir(parents=True)
        (run / "config").mkdir()
        for rel in files:
            shutil.copyfile(template / rel, run / rel)
        status = "finished" if i % 10 else ("error" if i % 20 else "killed")
        meta.update(name=f"sweep-{i}", seed=i % 5, status=status)
        (run / "run.json").write_text(json.dumps(meta))
        (run / "config" / "config.json").write_text(
            json.dumps({"lr": 10 ** -(1 + i % 4), "seed": i % 5, "depth": 18})
        )


def _big_run(base: Path) -> Path:
    run = base / "20261122-000000_big"
    (run / "config").mkdir(parents=True)
    (run / "config" / "config.json").write_text(json.dumps({"lr": 0.1, "seed": 0, "depth": 50}))
    (run / "run.json").write_text(
        json.dumps({"name": "big", "status": "finished", "start": "2026-11-22T00:00:00+00:00"})
    )
    log = ResultLog(run / "result")
    names = [f"metric_{j}" for j in range(10)]
    for i in range(BIG // 10):
        for j, name in enumerate(names):
            log.add(name, (i % 977) * 0.001 + j, i, "train" if j < 5 else "val", i // 10_000)
    log.close()
    return run


def _median_get(client: httpx.Client, url: str, params: dict | None = None, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(url, params=params)
        times.append(time.perf_counter() - t0)
        r.raise_for_status()
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = root / "runs"
        base.mkdir()
        t0 = time.perf_counter()
        _generate(base, _template(root))
        big = _big_run(root / "big")
        print(
            f"# generated {N_RUNS} runs of {RECORDS} records and one of {BIG} in {time.perf_counter() - t0:.0f} s"
        )

        # First scan: an empty cache, every run read.
        t0 = time.perf_counter()
        index = RunIndex([base], root / "cache")
        index.refresh()
        first_scan = time.perf_counter() - t0
        assert len(index) == N_RUNS
        t0 = time.perf_counter()
        unchanged = RunIndex([base], root / "cache")  # a restarted browser: the cache file, then stats only
        assert unchanged.refresh() == 0
        warm_scan = time.perf_counter() - t0

        ls_seconds = _runs_ls(base)
        report(f"first scan of {N_RUNS} runs", first_scan, "s", "trialog runs ls", ls_seconds, "<= 10 s")
        report(
            f"restart + rescan of {N_RUNS} unchanged runs (cache)",
            warm_scan,
            "s",
            "first scan",
            first_scan,
            "-",
        )

        with BrowserServer([base, root / "big"], cache_dir=root / "cache", refresh_every=1.0) as server:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                client.get("/api/runs").raise_for_status()
                page = _median_get(client, "/api/runs", {"per": "50"})
                report("first overview page (50 rows)", page, "s", "trialog runs ls", ls_seconds, "<= 1 s")
                filtered = _median_get(
                    client, "/api/runs", {"q": "lr<0.01 and status=finished", "sort": "result.loss"}
                )
                report(
                    "filtered + sorted overview page", filtered, "s", "trialog runs ls", ls_seconds, "<= 1 s"
                )
                t0 = time.perf_counter()
                server.browser.index.refresh()  # what the background refresh does every second
                rescan = time.perf_counter() - t0
                report(
                    f"background rescan of {N_RUNS + 1} unchanged runs",
                    rescan,
                    "s",
                    "first scan",
                    first_scan,
                    "-",
                )
                rid = run_id(big)
                series_first = _median_get(client, f"/api/run/{rid}/series", repeat=1)
                series = _median_get(client, f"/api/run/{rid}/series")
                data = client.get(f"/api/run/{rid}/series").json()
                points = max(len(s["x"]) for s in data["series"])
                report(
                    f"1M-record run page curves (10 lines, <= {points} points each)",
                    series,
                    "s",
                    "the first request",
                    series_first,
                    "<= 1 s",
                )
                html = _median_get(client, "/")
                report("overview HTML", html, "s", "first overview page data", page, "-")


def _runs_ls(base: Path) -> float:
    exe = Path(sys.executable).with_name("trialog")
    argv = [str(exe) if exe.exists() else "trialog", "runs", "ls", str(base), "--where", "lr<0.01"]
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"trialog runs ls failed: {done.stderr[-500:]}")
    print(
        f"# trialog runs ls {base.name} --where 'lr<0.01': {len(done.stdout.splitlines()) - 1} rows in {elapsed:.1f} s"
    )
    return elapsed


if __name__ == "__main__":
    main()
