"""A tiny classification job for test_distributed.py, run by 2 CPU processes.

Usage: ``torchrun --standalone --nproc_per_node 2 ddp_job.py OUT_DIR`` (or forked workers with torchrun's
environment). It trains 2 epochs in one go, then 1 epoch and a resume to 2 in another run folder; each
rank writes ``OUT_DIR/rank<R>.json`` with what the test checks. Only rank 0's trainers write run folders.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from trialog_torch import distributed
from trialog_torch.trainers import ClassificationTrainer


def _data() -> tuple[DataLoader, DataLoader]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(161, 6, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    train = DataLoader(TensorDataset(x[:112], y[:112]), batch_size=8, shuffle=True)
    val = DataLoader(TensorDataset(x[112:], y[112:]), batch_size=8)  # 49 samples: 25 + 24, none counted twice
    return train, val


def _fit(out_dir: Path, name: str, epochs: int, resume: Any = None) -> tuple[dict[str, Any], Any]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    config = {
        "name": name,
        "seed": 5,
        "trainer": {
            "type": "classification",
            "epochs": epochs,
            "device": "cpu",
            "log_every": 2,
            "metrics": ["accuracy", "confusion_matrix", "roc_auc"],
            "optimization": {"optimizer": {"type": "adam", "params": {"lr": 0.05}}},
        },
    }
    train, val = _data()
    # the validation data is the test data too: tested with the best checkpoint, which only rank 0 can read
    trainer = ClassificationTrainer(
        config, model, train, val, val, base_dir=out_dir / "runs", loggers={}, resume=resume, quiet=True
    )
    batches = len(trainer.train_loader)
    final = trainer.fit()
    matrix = next(m for m in trainer.eval_metrics if type(m).__name__ == "ConfusionMatrix").matrix()
    report = {
        "final": final,
        "run_dir": None if trainer.run_dir is None else str(trainer.run_dir),
        "val_count": int(matrix.sum()),
        "train_batches": batches,
        "global_step": trainer.global_step,
        "weights": [p.detach().tolist() for p in trainer.model.parameters()],
    }
    return report, trainer.run_dir


def main(out_dir: Path) -> None:
    full, _ = _fit(out_dir, "full", 2)
    _, part_dir = _fit(out_dir, "part", 1)
    # every rank must know that this is a resume; only rank 0 knows the folder
    resumed, _ = _fit(out_dir, "part", 2, resume=distributed.broadcast_object(part_dir))
    report = {"rank": distributed.rank(), "world": distributed.world_size(), "full": full, "resumed": resumed}
    (out_dir / f"rank{distributed.rank()}.json").write_text(json.dumps(report))
    # the DDP reducers go before their process group: torn down the other way round it can hang
    gc.collect()
    if dist.is_initialized():
        dist.barrier()  # a rank that tears its connections down while another still talks aborts it
        dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
