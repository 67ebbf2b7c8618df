"""Caller cost of ``show_value`` through trialog to Visdom vs a direct ``viz.line(..., update="append")``.

Both run against a real Visdom server started here on 127.0.0.1 (and stopped at the end). trialog is
timed on the training thread in bursts of ``BURST`` calls (below the dispatcher's queue size); between
bursts the background sender catches up, untimed for the caller cost. The end-to-end rate (points on
the server per second, bursts and sends together) is printed too, and the points are read back to check
that every one arrived.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import warnings

import numpy as np
import requests

BURST = 500
BURSTS = 20
DIRECT_CALLS = 200


def direct_line(port: int) -> float:
    from visdom import Visdom

    viz = Visdom(
        server="http://127.0.0.1", port=port, env="direct", use_incoming_socket=False, raise_exceptions=True
    )
    start = time.perf_counter()
    for i in range(DIRECT_CALLS):
        viz.line(Y=np.array([0.5]), X=np.array([i]), win="loss", name="loss", update="append")
    return (time.perf_counter() - start) / DIRECT_CALLS * 1e6


def through_trialog(port: int, env: str) -> tuple[float, float]:
    from trialog.loggers.dispatch import CombinedLogger

    clog = CombinedLogger({"vis": {"type": "visdom", "server": "http://127.0.0.1", "port": port, "env": env}})
    elapsed = total = 0.0
    for burst in range(BURSTS):
        start = time.perf_counter()
        for i in range(BURST):
            clog.show_value(0.5, "loss", counter=burst * BURST + i)
        elapsed += time.perf_counter() - start
        if not (clog.wait_idle(30) and clog["vis"].wait_idle(30)):
            raise RuntimeError("the Visdom logger did not catch up within 30 s")
        total += time.perf_counter() - start
    summary = clog.close()["vis"]
    assert summary["failures"] == 0 and summary["dropped"] == 0, summary
    count = BURST * BURSTS
    return elapsed / count * 1e6, count / total


def arrived(port: int, env: str) -> int:
    response = requests.post(
        f"http://127.0.0.1:{port}/win_data", data=json.dumps({"eid": env, "win": "loss"})
    )
    return len(response.json()["content"]["data"][0]["y"])


def main() -> None:
    from trialog_visdom.server import start_server, stop_server

    warnings.simplefilter("ignore")
    logging.getLogger("visdom").setLevel(logging.ERROR)  # the stock client logs on every construction
    with tempfile.TemporaryDirectory() as tmp:
        process = start_server(0, tmp)  # a port the OS picks, bound before the server starts
        port = process.port
        try:
            through_trialog(port, "warmup")
            direct = direct_line(port)
            caller, rate = through_trialog(port, "trialog")
            count = arrived(port, "trialog")
        finally:
            stop_server(process)
    assert count == BURST * BURSTS, f"{count} of {BURST * BURSTS} points arrived"
    print(
        f"visdom show_value caller cost: {caller:.2f} us "
        f"({direct / caller:.0f}x vs direct viz.line append {direct:.0f} us, target <= 10 us)"
    )
    print(
        f"visdom end-to-end rate: {rate:,.0f} points/s "
        f"({rate * direct / 1e6:.0f}x vs direct viz.line append {1e6 / direct:,.0f} points/s, target n/a)"
    )


if __name__ == "__main__":
    main()
