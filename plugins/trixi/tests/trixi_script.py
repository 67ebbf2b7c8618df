"""An unchanged trixi-style script (trixi's MNIST example on small synthetic data), run by test_end_to_end.py.

Usage: python trixi_script.py BASE_DIR [--resume_path RUN] [--kill_at EPOCH] [--grid]
"""

import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from trixi.experiment.pytorchexperiment import PytorchExperiment
from trixi.util import Config, GridSearch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 12)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(12, 3)

    def forward(self, x):
        return F.log_softmax(self.fc2(self.relu(self.fc1(x))), dim=1)


class MNIST_experiment(PytorchExperiment):
    def setup(self):
        self.elog.print(self.config)
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(96, 16, generator=g)
        self.y = (self.x[:, 0] > 0).long() + (self.x[:, 1] > 0.5).long()
        self.model = Net()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.config.learning_rate, momentum=0.5)
        self.seen = 0

    def train(self, epoch):
        self.model.train()
        perm = torch.randperm(self.x.shape[0])
        for batch_idx in range(0, self.x.shape[0], self.config.batch_size):
            idx = perm[batch_idx : batch_idx + self.config.batch_size]
            self.optimizer.zero_grad()
            loss = F.nll_loss(self.model(self.x[idx]), self.y[idx])
            loss.backward()
            self.optimizer.step()
            self.seen += len(idx)
            self.add_result(
                value=loss.item(), name="Train_Loss", counter=epoch * 6 + batch_idx // 16, tag="Loss"
            )
        if epoch == KILL_AT:
            print("KILLME", flush=True)
            sys.stdin.readline()  # the test kills this process here

    def validate(self, epoch):
        self.model.eval()
        with torch.no_grad():
            pred = self.model(self.x).argmax(1)
            acc = (pred == self.y).float().mean().item()
        self.add_result(value=acc, name="Val_Acc", counter=epoch, tag="Acc")
        self.elog.show_barplot(np.bincount(pred.numpy(), minlength=3), "predictions")

    def end(self):
        self.elog.save_model(self.model, "final_model")
        self.save_results("final_results.json")


def argval(flag, default=None):
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else default


KILL_AT = int(argval("--kill_at", -1))

if __name__ == "__main__":
    base_dir = sys.argv[1]
    c = Config()
    c.batch_size = 16
    c.learning_rate = 0.1
    c.n_epochs = 4
    if "--grid" in sys.argv:
        grid = GridSearch({"learning_rate": [0.1, 0.01], "batch_size": [32]})
        for combo in grid.all_combinations():
            c.update(combo)
            exp = MNIST_experiment(config=c, name="grid", n_epochs=1, seed=1, base_dir=base_dir)
            exp.run()
            print("RESULT", exp.results["Val_Acc"], flush=True)
        sys.exit(0)
    exp = MNIST_experiment(
        config=c,
        name="experiment",
        n_epochs=c.n_epochs,
        seed=42,
        base_dir=base_dir,
        loggers={"file": "file"},
        parse_sys_argv=True,
        resume_reset_epochs=False,
    )
    exp.run()
    print("RUN_DIR", exp.elog.work_dir, flush=True)
    print("DONE", exp.results["Train_Loss"], os.getpid(), flush=True)
