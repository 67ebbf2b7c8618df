"""DDP with 2 real CPU processes (gloo): sharded data, reduced metrics, only rank 0 writes.

The processes are spawned by the test with the environment torchrun gives its workers;
``TRIALOG_TORCHRUN_TEST=1`` also runs the same job under a real ``torchrun --nproc_per_node 2``.
"""

from __future__ import annotations

import faulthandler
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


JOB = Path(__file__).with_name("ddp_job.py")

pytestmark = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(), reason="this torch build has no gloo backend"
)


def _worker(rank: int, rendezvous: str, out_dir: str) -> None:
    faulthandler.dump_traceback_later(60, exit=True)  # a hung collective ends the worker, not the suite
    # The ranks meet through a file: no port is picked by the test, so none can be taken by another process.
    os.environ.update(
        TRIALOG_DIST_INIT_METHOD=rendezvous, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2"
    )
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("ddp_job", JOB)
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    job.main(Path(out_dir))


def _check(out_dir: Path) -> None:
    ranks: list[dict[str, Any]] = [json.loads((out_dir / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2]
    full = [r["full"] for r in ranks]
    # each rank reads half of the 112 training samples: 7 batches of 8
    assert [r["train_batches"] for r in full] == [7, 7] and full[0]["global_step"] == 14
    # metrics are reduced over both shards: the confusion matrix counts each of the 49 validation samples once
    assert [r["val_count"] for r in full] == [49, 49]
    drop_time = lambda d: {k: v for k, v in d.items() if not k.startswith("time/")}  # noqa: E731
    assert drop_time(full[0]["final"]) == drop_time(full[1]["final"])
    assert {"val/roc_auc", "val/accuracy", "train/loss", "test/accuracy"} <= set(full[0]["final"])
    # the test used the best checkpoint, read by rank 0 and handed to rank 1 (equal finals above)
    assert full[0]["final"]["test/epoch"] in (0.0, 1.0)
    assert full[0]["weights"] == full[1]["weights"]  # gradients were averaged: the replicas agree

    # only rank 0 wrote: one folder per run, one record per epoch
    assert [r["run_dir"] for r in full] == [str(out_dir / "runs" / Path(full[0]["run_dir"]).name), None]
    assert len(list((out_dir / "runs").iterdir())) == 2  # "full" and "part" (resumed in place)
    records = [json.loads(line) for line in (Path(full[0]["run_dir"]) / "result" / "results.jsonl").open()]
    assert [r["epoch"] for r in records if (r["name"], r["tag"]) == ("accuracy", "val")] == [0, 1]
    assert (
        len(json.loads((Path(full[0]["run_dir"]) / "checkpoint" / "index.json").read_text())["entries"]) == 2
    )

    # 1 epoch, then a resume to 2: rank 0 restores the checkpoint and hands it to rank 1
    for rank in ranks:
        assert drop_time(rank["resumed"]["final"]) == drop_time(rank["full"]["final"])
        assert rank["resumed"]["weights"] == rank["full"]["weights"]
        assert rank["resumed"]["global_step"] == 14


def test_two_process_ddp_run(tmp_path: Path) -> None:
    # spawn, not fork: a process that has already run torch holds thread pools a forked child can hang on
    # each worker ends itself after 60 s of a hung collective (faulthandler), so join() always returns
    mp.start_processes(
        _worker, args=(_rendezvous(tmp_path), str(tmp_path)), nprocs=2, join=True, start_method="spawn"
    )
    _check(tmp_path)


def _rendezvous(tmp_path: Path) -> str:
    return (tmp_path / "rendezvous").as_uri()


@pytest.mark.skipif(
    os.environ.get("TRIALOG_TORCHRUN_TEST") != "1", reason="set TRIALOG_TORCHRUN_TEST=1 (10-15 s)"
)
def test_two_process_ddp_run_under_torchrun(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_PORT")
    }
    env["OMP_NUM_THREADS"] = "1"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = subprocess.run(
        [*cmd, str(JOB), str(tmp_path)], env=env, capture_output=True, text=True, timeout=HANG
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _check(tmp_path)


def test_loaders_are_sharded_unless_their_sampler_shards_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
    from trialog_torch import distributed
    from trialog_torch.data import ClassBalancedSampler

    monkeypatch.setattr(distributed, "is_distributed", lambda: True)
    monkeypatch.setattr(distributed, "rank", lambda: 1)
    monkeypatch.setattr(distributed, "world_size", lambda: 2)
    data = TensorDataset(torch.arange(10.0), torch.tensor([0, 1] * 5))
    plain = distributed.distributed_loader(DataLoader(data, batch_size=2, shuffle=True))
    assert isinstance(plain.sampler, DistributedSampler) and plain.sampler.rank == 1
    balanced = DataLoader(
        data, batch_size=2, sampler=ClassBalancedSampler([0, 1] * 5, num_replicas=2, rank=1)
    )
    assert distributed.distributed_loader(balanced) is balanced
