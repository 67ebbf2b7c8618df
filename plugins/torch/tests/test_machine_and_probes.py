"""trialog-torch's describe_machine (run.json's machine: torch, CUDA, cuDNN, GPUs) and probe_resources hooks."""

from __future__ import annotations

import json

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
