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
    assert exp.results.latest("sys/gpu_mem_peak_mb") >= 4 and x.sum().item() == 1024 * 1024


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


def _records(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "result" / "results.jsonl").read_text().splitlines()]


def _key(record: dict) -> str:
    """The series key (``sys/data_wait_s``: the name ``data_wait_s`` tagged ``sys``)."""
    return f"{record['tag']}/{record['name']}" if record.get("tag") else record["name"]


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
    for record in _records(trainer.run_dir):
        by_name.setdefault(_key(record), []).append((record["epoch"], record["value"]))
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
    assert [r for r in _records(trainer.run_dir) if _key(r).startswith("sys/")] == []


def test_probes_every_n_steps_record_the_steps_since_the_last_probe(tmp_path, monkeypatch):
    from trialog_torch import trainers

    clock = _Clock()
    monkeypatch.setattr(trainers, "time", clock)
    loader = torch.utils.data.DataLoader(_SlowData(clock), batch_size=2)  # 4 steps per epoch
    trainer_section = {"type": "classification", "epochs": 2, "device": "cpu", "probes": {"every_steps": 2}}
    config = {"name": "steps", "seed": 1, "trainer": trainer_section}
    trainer = trainers.ClassificationTrainer(
        config, _Net(clock), loader, base_dir=tmp_path, loggers={}, quiet=True
    )
    trainer.fit()
    by_name: dict[str, list] = {}
    for record in _records(trainer.run_dir):
        by_name.setdefault(_key(record), []).append((record["epoch"], record["counter"], record["value"]))
    # every 2nd optimizer step (global steps 2, 4 | 6, 8): 2 batches of 2 samples waited, 2 quarters computed
    assert by_name["sys/step_data_wait_s"] == [(0, 2, 4.0), (0, 4, 4.0), (1, 6, 4.0), (1, 8, 4.0)]
    assert by_name["sys/step_compute_s"] == [(0, 2, 0.5), (0, 4, 0.5), (1, 6, 0.5), (1, 8, 0.5)]
    assert [c for _, c, v in by_name["sys/step_rss_peak_mb"] if v > 0] == [2, 4, 6, 8]
    # the per-epoch probes stay as they were
    assert [(e, v) for e, _, v in by_name["sys/data_wait_s"]] == [(0, 8.0), (1, 8.0)]


@pytest.mark.parametrize(
    ("probes", "message"),
    [
        ("yes", r"'trainer.probes' must be true, false or \{'every_steps': N\}, got 'yes'"),
        ({"every_steps": 0}, r"'trainer.probes.every_steps' must be an integer >= 1, got 0"),
        ({"every_steps": "10"}, r"'trainer.probes.every_steps' must be an integer >= 1, got '10'"),
        ({"every_step": 10}, r"'trainer.probes' has unknown key\(s\) \['every_step'\]"),
    ],
)
def test_bad_probes_are_named_before_the_folder(tmp_path, probes, message):
    from trialog_torch import trainers

    loader = torch.utils.data.DataLoader(_SlowData(_Clock()), batch_size=4)
    config = {"name": "bad", "seed": 1, "trainer": {"type": "classification", "epochs": 1, "probes": probes}}
    with pytest.raises(trialog.ConfigError, match=message):
        trainers.ClassificationTrainer(config, torch.nn.Linear(4, 2), loader, base_dir=tmp_path, loggers={})
    assert list(tmp_path.iterdir()) == []
