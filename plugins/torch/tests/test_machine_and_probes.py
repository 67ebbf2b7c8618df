"""trialog-torch's describe_machine (run.json's machine: torch, CUDA, cuDNN, GPUs) and probe_resources hooks."""

from __future__ import annotations

import json

import pytest
import torch
from trialog_torch import hooks

import trialog


def test_run_json_has_torch_cuda_and_the_gpus(tmp_path):
    exp = trialog.Experiment(name="m", base_dir=tmp_path, loggers={})
    exp.close()
    machine = json.loads((exp.run_dir / "run.json").read_text())["machine"]
    assert machine["torch"] == torch.__version__ and machine["cuda"] == torch.version.cuda
    assert machine["cudnn"] == torch.backends.cudnn.version()
    expected = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert machine["gpu_count"] == expected == len(machine["gpus"])
    for gpu in machine["gpus"]:
        assert gpu["name"] and gpu["memory_gb"] > 0


def test_gpu_memory_probe_only_once_cuda_is_in_use(tmp_path):
    if not torch.cuda.is_available():
        assert hooks.probe_resources() is None  # no CUDA: the probe adds nothing (and starts nothing)
        return
    x = torch.ones(1024, 1024, device="cuda")  # 4 MiB
    exp = trialog.Experiment(name="p", base_dir=tmp_path, loggers={})
    m = trialog.Monitor(exp, probe="@1s")
    for _ in m(range(1)):
        pass
    exp.close()
    assert exp.results["sys/gpu_mem_peak_mb"] >= 4 and x.sum().item() == 1024 * 1024


class _Clock:
    """A clock the data and the model advance: the split is checked exactly, without measuring time."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


class _SlowData(torch.utils.data.Dataset):
    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(8, 4, generator=g), torch.randint(0, 2, (8,), generator=g)

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        self.clock.now += 1.0  # a slow read: one unit per sample
        return self.x[i], self.y[i]


class _Net(torch.nn.Module):
    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self.clock = clock
        self.lin = torch.nn.Linear(4, 2)

    def forward(self, x):
        self.clock.now += 0.25  # compute: a quarter unit per batch
        return self.lin(x)


def test_trainer_records_data_wait_compute_and_memory_per_epoch(tmp_path, monkeypatch):
    from trialog_torch import trainers

    clock = _Clock()
    monkeypatch.setattr(trainers, "time", clock)
    loader = torch.utils.data.DataLoader(_SlowData(clock), batch_size=4)
    config = {
        "name": "slow",
        "seed": 1,
        "trainer": {"type": "classification", "epochs": 2, "device": "cpu", "probes": True},
    }
    trainer = trainers.ClassificationTrainer(
        config, _Net(clock), loader, base_dir=tmp_path, loggers={}, quiet=True
    )
    final = trainer.fit()
    by_name: dict[str, list] = {}
    for line in (trainer.run_dir / "result" / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        key = f"{record['tag']}/{record['name']}" if record["tag"] else record["name"]  # the series key
        by_name.setdefault(key, []).append((record["epoch"], record["value"]))
    # 8 samples of one unit each wait for data, 2 batches of a quarter unit compute, in each epoch
    assert by_name["sys/data_wait_s"] == [(0, 8.0), (1, 8.0)]
    assert by_name["sys/compute_s"] == [(0, 0.5), (1, 0.5)]
    assert all(v > 0 for _, v in by_name["sys/rss_peak_mb"]) and len(by_name["sys/rss_peak_mb"]) == 2
    assert not any(k.startswith("sys/") for k in final)  # measurements stay out of the metrics


@pytest.mark.parametrize("probes", [False, None])
def test_probes_are_off_unless_asked_for(tmp_path, probes):
    from trialog_torch import trainers

    loader = torch.utils.data.DataLoader(_SlowData(_Clock()), batch_size=4)
    config = {"name": "off", "seed": 1, "trainer": {"type": "classification", "epochs": 1}}
    if probes is not None:
        config["trainer"]["probes"] = probes
    trainer = trainers.ClassificationTrainer(
        config, torch.nn.Linear(4, 2), loader, base_dir=tmp_path, loggers={}, quiet=True
    )
    trainer.fit()
    assert "sys/" not in (trainer.run_dir / "result" / "results.jsonl").read_text()
