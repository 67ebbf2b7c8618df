"""``data.loader.num_workers > 0``: workers seeded from (run seed, epoch), exact resume, and no worker left behind
after an exception in a worker, Ctrl-C or SIGKILL of the trainer (checked by the workers' pids)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from trialog_torch.callbacks import Callback
from trialog_torch.trainers import ClassificationTrainer
from trialog_torch.workers import WorkerSeeder, loader_callbacks, worker_seed

from trialog.errors import TrialogWarning
from trialog.results.log import read_results

#: bounds only a hang (subprocesses, and waiting for orphaned workers to notice their parent is gone)
HANG = 600
TESTS = Path(__file__).resolve().parent


class Augmenting(Dataset):
    """48 samples, augmented with numpy, torch and python randomness; notes each worker's pid in ``pid_dir``."""

    def __init__(self, pid_dir: str | None = None, fail_at: int | None = None) -> None:
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(48, 6, generator=g), torch.randint(0, 3, (48,), generator=g)
        self.pid_dir, self.fail_at = pid_dir, fail_at

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.pid_dir is not None:
            Path(self.pid_dir, str(os.getpid())).touch()
        if index == self.fail_at:
            raise ValueError(f"bad sample {index}")
        noise = torch.from_numpy(np.random.randn(6).astype(np.float32)) * 0.1 + torch.rand(6) * 0.1
        return self.x[index] * (1 + 0.1 * random.random()) + noise, self.y[index]


class Seeds(Dataset):
    """Item ``i`` is the torch seed of the worker that loaded it."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> int:
        return torch.initial_seed()


class At(Callback):
    """At optimizer step ``step``: raise, SIGKILL this process, or mark ``ready`` and wait for Ctrl-C."""

    def __init__(self, step: int, action: str, ready: str | None = None) -> None:
        self.step, self.action, self.ready = step, action, ready

    def on_batch_end(self, trainer: Any, step: int) -> None:
        if step != self.step:
            return
        if self.action == "raise":
            raise RuntimeError("simulated crash")
        if self.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        Path(str(self.ready)).touch()
        while True:  # the test sends SIGINT now; KeyboardInterrupt leaves from here
            time.sleep(0.01)


def build(
    base: Path, dataset: Dataset, resume: Any = None, extra: Callback | None = None
) -> ClassificationTrainer:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    config = {
        "name": "workers",
        "seed": 9,
        "trainer": {"type": "classification", "epochs": 3, "device": "cpu", "metrics": ["accuracy"]},
    }
    loader = DataLoader(dataset, batch_size=12, shuffle=True, num_workers=2)
    trainer = ClassificationTrainer(
        config, model, loader, name="workers", base_dir=base, loggers={}, resume=resume, quiet=True
    )
    if extra is not None:
        trainer.callbacks.append(extra)
    return trainer


def _alive(pid: int) -> bool:
    """Running (a zombie, finished but not yet reaped by its new parent, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + HANG
    while not condition():
        assert time.monotonic() < deadline, f"hang: {what}"
        time.sleep(0.05)


def _worker_pids(pid_dir: Path) -> list[int]:
    pids = [int(p.name) for p in pid_dir.iterdir()]
    assert pids, "no worker ever loaded a sample"
    return pids


def _trainer(loader: DataLoader, seed: int = 7) -> SimpleNamespace:
    """What ``loader_callbacks`` reads of a trainer."""
    return SimpleNamespace(train_loader=loader, val_loader=None, test_loader=None, seed=seed, epoch=0)


def test_workers_are_seeded_from_run_seed_epoch_and_worker_id() -> None:
    loader = DataLoader(Seeds(), batch_size=2, num_workers=2)
    trainer = _trainer(loader)
    assert loader_callbacks(trainer) == []  # nothing to checkpoint: a resumed trainer restores its epoch
    assert isinstance(loader.worker_init_fn, WorkerSeeder)
    first = [int(s) for batch in loader for s in batch]
    # batches go round-robin to the workers: batch b comes from worker b % 2
    assert first == [worker_seed(7, 0, 0, b // 2 % 2) for b in range(8)]
    trainer.epoch = 1
    second = [int(s) for batch in loader for s in batch]
    assert second == [worker_seed(7, 1, 0, b // 2 % 2) for b in range(8)] and set(second).isdisjoint(first)
    assert len({worker_seed(7, 1, rank, 0) for rank in range(4)}) == 4  # DDP ranks differ too


def test_user_worker_init_fn_still_runs_and_persistent_workers_warn() -> None:
    loader = DataLoader(Seeds(), batch_size=2, num_workers=1, worker_init_fn=_seed_42)
    loader_callbacks(_trainer(loader))
    assert {int(s) for batch in loader for s in batch} == {42}  # the user's function runs last
    with pytest.warns(TrialogWarning, match="persistent_workers"):
        loader_callbacks(_trainer(DataLoader(Seeds(), num_workers=1, persistent_workers=True)))


def _seed_42(worker_id: int) -> None:
    torch.manual_seed(42)


def test_a_crashed_run_with_workers_resumes_drawing_the_same_batches(tmp_path: Path) -> None:
    full = build(tmp_path / "full", Augmenting())
    full.fit()
    crashing = build(tmp_path / "crash", Augmenting(), extra=At(6, "raise"))  # inside epoch 1
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashing.fit()
    # At(-1) never fires: the checkpoint holds one state per callback
    resumed = build(tmp_path / "crash", Augmenting(), resume=crashing.run_dir, extra=At(-1, "raise"))
    assert [type(c).__name__ for c in resumed.callbacks] == ["At"]  # workers add no checkpoint state
    resumed.fit()
    records = [
        [
            (r["name"], r["value"], r["epoch"])
            for r in read_results(t.run_dir)
            if not r["name"].startswith("time/") and r.get("tag") not in ("sys", "time")
        ]
        for t in (full, resumed)
    ]
    assert records[0] == records[1]
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_an_exception_in_a_worker_names_it_and_leaves_no_worker(tmp_path: Path) -> None:
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    trainer = build(tmp_path, Augmenting(str(pid_dir), fail_at=5))
    with pytest.raises(
        ValueError, match=r"(?s)Caught ValueError in DataLoader worker process \d.*bad sample 5"
    ):
        trainer.fit()
    assert not [pid for pid in _worker_pids(pid_dir) if _alive(pid)]
    assert '"status": "error"' in (trainer.run_dir / "run.json").read_text()


def _child(base: Path, pid_dir: Path, action: str, ready: Path | None = None) -> subprocess.Popen[str]:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(TESTS)!r})
        from test_workers import At, Augmenting, build
        build(Path({str(base)!r}), Augmenting({str(pid_dir)!r}), extra=At(2, {action!r}, {str(ready)!r})).fit()
        """
    )
    return subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)


def test_sigkill_of_the_trainer_leaves_no_worker(tmp_path: Path) -> None:
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    child = _child(tmp_path / "runs", pid_dir, "kill")
    _, err = child.communicate(timeout=HANG)
    assert child.returncode == -signal.SIGKILL, err
    pids = _worker_pids(pid_dir)
    assert child.pid not in pids
    # orphaned, each worker's watchdog sees its parent gone and the worker exits by itself
    _wait_for(
        lambda: not [pid for pid in pids if _alive(pid)], f"workers {pids} outlived their SIGKILLed trainer"
    )


def test_ctrl_c_in_the_trainer_leaves_no_worker(tmp_path: Path) -> None:
    pid_dir, ready = tmp_path / "pids", tmp_path / "ready"
    pid_dir.mkdir()
    child = _child(tmp_path / "runs", pid_dir, "wait", ready)
    _wait_for(lambda: ready.exists() or child.poll() is not None, "the child never reached step 2")
    assert child.poll() is None, child.stderr.read() if child.stderr else ""
    pids = _worker_pids(pid_dir)
    os.kill(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=HANG)
    assert "KeyboardInterrupt" in err
    _wait_for(lambda: not [pid for pid in pids if _alive(pid)], f"workers {pids} outlived Ctrl-C")
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert '"status": "killed"' in (run_dir / "run.json").read_text()
