"""trialog browse with many runs and long series: first scan, first overview page, a 1M-record run page; `trialog runs ls` alongside.

Run: python benchmarks/bench_browser.py [N_RUNS]  (default 10,000 runs of 1,000 records each; a few minutes on 2
cores). The runs are generated once: one real run written by trialog's Experiment/ResultLog, copied into
N folders with their own run.json and config (lr, seed, status vary). The browser is served for real on
127.0.0.1 and asked over HTTP, as a page would.

Under load (``python benchmarks/bench_browser.py load`` runs only this part): 2,000 runs, one live run whose
writer process appends 200 records/s, ``trialog browse`` in its own process, and 16 concurrent clients
(asyncio, keep-alive connections) that ask back to back, with no pause, for the overview API, a run page
(HTML + its /api/run data), a run's series and the live run's tail (from where that client's previous tail
ended, as the live page asks); p50 and p99 latency per kind. The
baseline is the same request asked by one client with the server otherwise idle. At a0e195c (issue 19)
this load gave p50 0.8-2.3 s, p99 5.7-9.1 s and 6-11 requests/s.
"""

from __future__ import annotations

import json
import os
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

from trialog.results.log import ResultLog

LOAD_ONLY = sys.argv[1:2] == ["load"]
N_RUNS = int(sys.argv[1]) if len(sys.argv) > 1 and not LOAD_ONLY else 10_000
LOAD_RUNS = 2000
LOAD_CLIENTS = 16
LOAD_SECONDS = 20.0
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


def _generate(base: Path, template: Path, n_runs: int = N_RUNS) -> None:
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
    for i in range(n_runs):
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
    if not LOAD_ONLY:
        sizes()
    load()


def sizes() -> None:
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


SERVER = r"""
import sys
from trialog_browser.serve import BrowserServer

server = BrowserServer([sys.argv[1]], cache_dir=sys.argv[2], refresh_every=1.0)
print(server.port, flush=True)
server.run()
"""

WRITER = r"""
import json, os, sys, time
from trialog.results.log import ResultLog
from trialog.run.folder import RunMeta, now_iso

run = sys.argv[1]
meta = RunMeta(run, {"name": "live", "status": "running", "start": now_iso(), "pid": os.getpid()}, heartbeat_interval=1.0)
meta.start_heartbeat()
log = ResultLog(os.path.join(run, "result"))
print("ready", flush=True)
i = 0
while True:
    for _ in range(20):
        log.add("loss", 1.0 / (i + 1), i, "train", i // 1000)
        i += 1
    time.sleep(0.1)
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> None:
    import asyncio
    import random

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = root / "runs"
        base.mkdir()
        _generate(base, _template(root), LOAD_RUNS)
        live = base / "20261123-000000_live"
        (live / "result").mkdir(parents=True)
        (live / "config").mkdir()
        (live / "config" / "config.json").write_text(json.dumps({"lr": 0.5, "seed": 0, "depth": 18}))
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(live)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"  # the live run exists before the server scans
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(base), str(root / "cache")], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            url = f"http://127.0.0.1:{port}"
            runs = sorted(p for p in base.iterdir() if p.name.endswith("_sweep"))
            ids = [run_id(p) for p in runs]
            live_id = run_id(live)
            with httpx.Client(base_url=url, timeout=600) as client:
                client.get("/api/runs").raise_for_status()  # the first scan
                first = client.get(f"/api/run/{live_id}/series")
                first.raise_for_status()
                offset = first.json()["offset"]
                kinds = {
                    "overview API": lambda rid: ("/api/runs", {"per": "50", "sort": "start"}),
                    "run page": lambda rid: (f"/run/{rid}", None),
                    "run data": lambda rid: (f"/api/run/{rid}", None),
                    "series": lambda rid: (f"/api/run/{rid}/series", None),
                    "live tail": lambda rid: (f"/api/run/{live_id}/tail", {"offset": str(offset)}),
                }
                offsets = {}  # per client: where its live page's last tail ended, as the page keeps it
                idle = {}
                for kind, make in kinds.items():
                    times = []
                    for i in range(20):
                        path, params = make(ids[i * 97 % len(ids)])
                        t0 = time.perf_counter()
                        client.get(path, params=params).raise_for_status()
                        times.append(time.perf_counter() - t0)
                    idle[kind] = statistics.median(times)

            async def client_loop(seed: int, latencies: dict[str, list[float]], stop: float) -> None:
                rng = random.Random(seed)
                names = list(kinds)
                async with httpx.AsyncClient(base_url=url, timeout=600) as aclient:
                    while time.perf_counter() < stop:
                        kind = rng.choice(names)
                        path, params = kinds[kind](rng.choice(ids))
                        if kind == "live tail":
                            params = {"offset": str(offsets.get(seed, offset))}
                        t0 = time.perf_counter()
                        answer = await aclient.get(path, params=params)
                        latencies[kind].append(time.perf_counter() - t0)
                        answer.raise_for_status()
                        if kind == "live tail":
                            offsets[seed] = answer.json()["offset"]

            async def run_clients() -> dict[str, list[float]]:
                latencies: dict[str, list[float]] = {k: [] for k in kinds}
                stop = time.perf_counter() + LOAD_SECONDS
                await asyncio.gather(*(client_loop(i, latencies, stop) for i in range(LOAD_CLIENTS)))
                return latencies

            cpu0 = _cpu_seconds(server.pid)
            t0 = time.perf_counter()
            latencies = asyncio.run(run_clients())
            elapsed = time.perf_counter() - t0
            cpu = _cpu_seconds(server.pid) - cpu0
            total = sum(len(v) for v in latencies.values())
            print(
                f"# load: {LOAD_RUNS} runs + 1 live (writer pid {writer.pid}), {LOAD_CLIENTS} clients for "
                f"{elapsed:.0f} s: {total} requests, {total / elapsed:.0f} requests/s; the server used "
                f"{cpu:.1f} s of CPU ({cpu / total * 1000:.1f} ms a request)"
            )
            for kind, times in latencies.items():
                times.sort()
                p50 = times[len(times) // 2]
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                target = "<= 0.1 s" if kind != "live tail" else "-"
                report(f"under load, {kind}: p50", p50, "s", "one idle client", idle[kind], target)
                target = "<= 1 s" if kind != "live tail" else "-"
                report(f"under load, {kind}: p99", p99, "s", "one idle client", idle[kind], target)
        finally:
            for proc in (server, writer):
                proc.terminate()
                proc.wait(timeout=600)
            os.sync()


if __name__ == "__main__":
    main()
