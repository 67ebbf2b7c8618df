"""The classification trainer vs a hand-written PyTorch loop: same model, data, optimizer and steps.

The trainer logs the loss of every step to the ``file`` logger (``log_every: 1``), accumulates accuracy
on train and validation data, and at each epoch end validates, writes results and a checkpoint; the
plain loop trains and validates the same way and logs nothing. Lightning issue #1986 reported 6-7x
slowdowns from per-step logging; the target here is a per-step overhead <= 5 %.

Figures, best of ``REPEAT`` alternating runs on one intra-op thread (a busy 2-core machine stays
comparable that way):

* per step: training-loop time per step inside an epoch (first to last step end), the path the
  ``<= 5 %`` target is about;
* whole run: ``fit()`` against the plain loop, which adds the trainer's per-epoch work (results,
  checkpoint) and per-run work (closing the loggers: the file logger draws its curves);
* construction: creating the run folder, run.json, sources.zip and loggers.
"""

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).parent))
from _common import report
from trialog_torch.callbacks import Callback
from trialog_torch.trainers import ClassificationTrainer

EPOCHS = 2
BATCH = 128
STEPS_PER_EPOCH = 100
REPEAT = 7


def make_data() -> tuple[DataLoader, DataLoader]:
    g = torch.Generator().manual_seed(0)
    n = BATCH * STEPS_PER_EPOCH
    x = torch.randn(n + 1024, 128, generator=g)
    y = (x[:, :10] @ torch.randn(10, 10, generator=g)).argmax(dim=1)
    loader_gen = torch.Generator().manual_seed(1)
    train = DataLoader(TensorDataset(x[:n], y[:n]), batch_size=BATCH, shuffle=True, generator=loader_gen)
    val = DataLoader(TensorDataset(x[n:], y[n:]), batch_size=256)
    return train, val


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(128, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def plain_loop(train: DataLoader, val: DataLoader) -> tuple[float, float]:
    """The loop one writes by hand: train, then validation accuracy, per epoch. Returns (total, per step)."""
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    per_step = []
    start = time.perf_counter()
    for _ in range(EPOCHS):
        model.train()
        stamps = []
        for x, y in train:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            stamps.append(time.thread_time())
        per_step.append((stamps[-1] - stamps[0]) / (len(stamps) - 1))
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in val:
                correct += int((model(x).argmax(dim=1) == y).sum())
                total += len(y)
    return time.perf_counter() - start, min(per_step)


class StepClock(Callback):
    """Time stamps at each optimizer step's end, as the plain loop takes them."""

    def __init__(self) -> None:
        self.stamps: list[list[float]] = []
        self.last_epoch_end = 0.0

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        self.stamps.append([])

    def on_batch_end(self, trainer: Any, step: int) -> None:
        if not self.stamps:
            self.stamps.append([])
        self.stamps[-1].append(time.thread_time())

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        self.stamps.append([])
        self.last_epoch_end = time.perf_counter()

    def per_step(self) -> float:
        return min((s[-1] - s[0]) / (len(s) - 1) for s in self.stamps if len(s) > 1)


def trainer_run(train: DataLoader, val: DataLoader, base_dir: Path) -> tuple[float, float, float, int]:
    """Seconds to build the trainer, seconds of ``fit()``, seconds per step, values the file logger got."""
    config = {
        "name": "bench",
        "trainer": {
            "type": "classification",
            "epochs": EPOCHS,
            "device": "cpu",
            "log_every": 1,
            "metrics": ["accuracy"],
            "optimization": {"optimizer": {"type": "torch.optim.Adam", "params": {"lr": 1e-3}}},
        },
    }
    start = time.perf_counter()
    trainer = ClassificationTrainer(
        config, make_model(), train, val, base_dir=base_dir, loggers={"file": "file"}, quiet=True
    )
    clock = StepClock()
    trainer.callbacks.append(clock)
    spent = {"checkpoints": 0.0}
    trainer.experiment.save_checkpoint = _timed(trainer.experiment.save_checkpoint, spent, "checkpoints")
    built = time.perf_counter()
    trainer.fit()
    done = time.perf_counter()
    rows = (trainer.run_dir / "log" / "values.csv").read_text().count("train/step_loss")
    LAST_SPENT.update(spent, finish=done - clock.last_epoch_end - spent["checkpoints"] / EPOCHS)
    return built - start, done - built, clock.per_step(), rows


LAST_SPENT: dict[str, float] = {}


def _timed(fn: Any, spent: dict[str, float], bucket: str) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[bucket] += time.perf_counter() - start

    return wrapper


def main() -> None:
    torch.set_num_threads(1)
    train, val = make_data()
    steps = EPOCHS * len(train)
    plain_total, plain_step, fit_total, fit_step, build = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        plain_loop(train, val)  # warm-up: allocator, kernels, the optimizer's lazy imports
        trainer_run(train, val, Path(tmp) / "warmup")
        rows = 0
        for i in range(REPEAT):
            total, step = plain_loop(train, val)
            plain_total.append(total)
            plain_step.append(step)
            seconds, total, step, rows = trainer_run(train, val, Path(tmp) / f"run{i}")
            build.append(seconds)
            fit_total.append(total)
            fit_step.append(step)
    if rows != steps:
        raise SystemExit(f"the file logger recorded {rows} step losses, expected {steps}")
    print(f"# {steps} steps of batch {BATCH} in {EPOCHS} epochs, 1 torch thread, best of {REPEAT}")
    report(
        "trainer step, loss logged to file every step",
        min(fit_step) * 1e3,
        "ms",
        "plain loop step",
        min(plain_step) * 1e3,
        "<= 1.05x",
    )
    report("trainer fit() whole run", min(fit_total), "s", "plain loop", min(plain_total), "informational")
    print(
        f"# of which checkpoints {LAST_SPENT['checkpoints']:.3f} s ({EPOCHS} saves); finishing the run "
        f"(results summary, run.json, flushing the loggers: the file logger draws its curves) "
        f"{LAST_SPENT['finish']:.3f} s"
    )
    report(
        "trainer construction (run folder, loggers)",
        min(build),
        "s",
        "plain loop",
        min(plain_total),
        "once per run",
    )


if __name__ == "__main__":
    main()
