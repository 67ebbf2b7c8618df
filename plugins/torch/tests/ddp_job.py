"""A tiny classification run for test_distributed.py, launched under torchrun with 2 CPU processes.

Usage: ``torchrun --standalone --nproc_per_node 2 ddp_job.py OUT_DIR``. Each rank writes
``OUT_DIR/rank<R>.json`` with what the test checks; only rank 0's trainer writes a run folder.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from trialog_torch import distributed
from trialog_torch.trainers import ClassificationTrainer


def main(out_dir: Path) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(161, 6, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    train = DataLoader(TensorDataset(x[:112], y[:112]), batch_size=8, shuffle=True)
    val = DataLoader(TensorDataset(x[112:], y[112:]), batch_size=8)  # 49 samples: 25 + 24, none counted twice
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    config = {
        "name": "ddp",
        "trainer": {
            "type": "classification",
            "epochs": 2,
            "device": "cpu",
            "seed": 5,
            "log_every": 2,
            "metrics": ["accuracy", "confusion_matrix", "roc_auc"],
            "optimization": {"optimizer": {"type": "adam", "params": {"lr": 0.05}}},
        },
    }
    trainer = ClassificationTrainer(
        config, model, train, val, base_dir=out_dir / "runs", loggers={}, quiet=True
    )
    rank, world = distributed.rank(), distributed.world_size()
    batches = len(trainer.train_loader)
    final = trainer.fit()
    matrix = next(m for m in trainer.eval_metrics if type(m).__name__ == "ConfusionMatrix").matrix()
    weights = float(sum(p.detach().double().sum() for p in trainer.model.parameters()))
    report = {
        "rank": rank,
        "world": world,
        "final": final,
        "run_dir": None if trainer.run_dir is None else str(trainer.run_dir),
        "val_count": int(matrix.sum()),
        "train_batches": batches,
        "global_step": trainer.global_step,
        "weights": weights,
    }
    (out_dir / f"rank{rank}.json").write_text(json.dumps(report))
    # the DDP reducer goes before its process group: torn down the other way round it can hang
    del trainer, model
    gc.collect()
    if dist.is_initialized():
        dist.barrier()  # a rank that tears its connections down while another still talks aborts it
        dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
