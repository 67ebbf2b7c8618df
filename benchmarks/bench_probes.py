"""What the probes cost against a training step (target <= 1 %): the trainer's and a Monitor's.

A training step is the plain loop's step of bench_trainer (an MLP 128-512-512-10, batch 128, Adam, one
intra-op thread), measured here in the same run. Against it:

* trainer probes: the per-step clock reads of the data-wait/compute split, plus the per-epoch probe
  (``getrusage``, the GPU hook) spread over the steps of bench_trainer's epoch (100);
* trainer step probes (``trainer.probes: {"every_steps": N}``): one ``Trainer._record_step_probes`` (the
  probe and its four results into a run's results log) divided by N, for N = 100 and N = 10;
* Monitor: a step of ``for x in m(loader): m.log(loss=...)`` with a ``time`` and a ``probe`` spec every 100
  steps and a ``log`` spec every 10 (recorded in the results log), minus the same bare loop, per step.

Best of ``REPEAT`` runs each.
"""

import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _common import per_call, report
from trialog_torch.trainers import Trainer, probe_values

import trialog

BATCH = 128
STEPS_PER_EPOCH = 100
REPEAT = 7


def training_step() -> float:
    """Seconds per optimizer step of the plain loop (best of REPEAT)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(128, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.randn(BATCH, 128), torch.randint(0, 10, (BATCH,))

    def step() -> None:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return per_call(step, 50, REPEAT)


def trainer_probe_per_step() -> float:
    """The split's clock reads per step (as in Trainer.train_epoch) plus the epoch probe / steps per epoch."""
    clock = time.perf_counter
    state = [0.0, 0.0, clock()]

    def split() -> None:
        fetched = clock()
        state[0] += fetched - state[2]
        state[2] = clock()
        state[1] += state[2] - fetched

    per_step = per_call(split, 100_000, REPEAT)
    per_epoch = per_call(lambda: probe_values(state[0], state[1]), 1_000, REPEAT)
    return per_step + per_epoch / STEPS_PER_EPOCH


def step_probe(base: Path) -> float:
    """Seconds one ``trainer.probes.every_steps`` probe costs (recorded into a real run's results log)."""
    exp = trialog.Experiment(
        name="bench-steps", base_dir=base, loggers={}, capture_output=False, save_sources=False
    )
    holder = type("Holder", (), {})()
    holder.experiment, holder.global_step = exp, 0

    def probe() -> None:
        holder.global_step += 1
        Trainer._record_step_probes(holder, 0.001, 0.002)  # type: ignore[arg-type]

    cost = per_call(probe, 500, REPEAT)
    exp.close()
    return cost


def monitor_per_step(base: Path) -> float:
    """Seconds a Monitor adds to one step (wrapping, counting, log(), its specs' share)."""
    exp = trialog.Experiment(
        name="bench", base_dir=base, loggers={}, capture_output=False, save_sources=False
    )
    m = trialog.Monitor(exp, log="loss@10s", time="@100s", probe="@100s")
    n = 20_000
    data = range(n)

    def monitored() -> None:
        for _ in m(data):
            m.log(loss=0.5)

    def bare() -> None:
        for _ in data:
            pass

    cost = (per_call(monitored, 1, REPEAT) - per_call(bare, 1, REPEAT)) / n
    exp.close()
    return cost


def main() -> None:
    torch.set_num_threads(1)
    step = training_step()
    with tempfile.TemporaryDirectory() as tmp:
        monitor = monitor_per_step(Path(tmp))
        stepped = step_probe(Path(tmp))
    trainer = trainer_probe_per_step()
    print(f"# a training step: batch {BATCH}, MLP 128-512-512-10, Adam, 1 torch thread, best of {REPEAT}")
    report(
        "trainer probes per step (data/compute split + epoch probe)",
        trainer * 1e6,
        "us",
        "training step",
        step * 1e6,
        "<= 0.01x",
    )
    for every in (100, 10):
        report(
            f"trainer step probes every_steps={every}, per step",
            stepped / every * 1e6,
            "us",
            "training step",
            step * 1e6,
            "<= 0.01x",
        )
    report(
        "Monitor per step (loop, log(), time/probe @100s, log @10s)",
        monitor * 1e6,
        "us",
        "training step",
        step * 1e6,
        "<= 0.01x",
    )


if __name__ == "__main__":
    main()
