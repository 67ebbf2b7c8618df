"""Every file trialog writes in a run folder honours the umask, as ``open()`` does (atomic writes included)."""

import os
import stat
from pathlib import Path

import pytest

from trialog import Experiment


class Curves(Experiment):
    def train(self, epoch):
        for step in range(4):
            self.add_result(1.0 / (epoch * 4 + step + 1), "loss", counter=epoch * 4 + step, tag="train")

    def validate(self, epoch):
        self.add_result(0.5 + epoch / 10, "accuracy", counter=epoch, tag="val")


def _files(run_dir: Path) -> dict[str, int]:
    return {
        p.relative_to(run_dir).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in run_dir.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_every_file_of_a_run_is_as_readable_as_open_makes_it(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        exp = Curves(
            config={"lr": 0.1},
            name="modes",
            n_epochs=2,
            base_dir=tmp_path / "runs",
            loggers={"file": "file"},  # curves are drawn at close
        )
        exp.run()
        exp.close()
        with open(tmp_path / "plain.txt", "w") as fh:  # what open() makes under this umask
            fh.write("x")
    finally:
        os.umask(old)
    expected = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert expected == 0o666 & ~umask
    modes = _files(exp.run_dir)
    for name in (
        "run.json",
        "config/config.json",
        "result/results.json",
        "result/results.jsonl",
        "checkpoint/index.json",
    ):
        assert name in modes, f"{name} was not written: {sorted(modes)}"
    assert any(n.startswith("plot/") and n.endswith(".png") for n in modes), sorted(modes)
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != expected}
    assert not wrong, f"files not {oct(expected)} under umask {oct(umask)}: {wrong}"
