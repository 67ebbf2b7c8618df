"""``trialog run CONFIG``: building from a config, overrides, resume, k-fold, and one-line named errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import SequentialSampler, TensorDataset
from trialog_torch.cli import _build_loader, run_config
from trialog_torch.data import ClassBalancedSampler

from trialog.cli import main
from trialog.errors import ConfigError

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


MODEL_PY = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, in_features=4, num_classes=3):
        super().__init__()
        self.layer = nn.Linear(in_features, num_classes)

    def forward(self, x):
        return self.layer(x)
"""

DATA_PY = """
import torch
from torch.utils.data import Dataset



class Blobs(Dataset):
    '''Three well separated Gaussian blobs in ``dim`` dimensions.'''

    def __init__(self, n=60, dim=4, seed=0, minority=None):
        g = torch.Generator().manual_seed(seed)
        self.targets = torch.arange(n) % 3
        if minority is not None:
            self.targets[: n - minority] = 0
        centers = torch.eye(3, dim) * 4
        self.x = centers[self.targets] + 0.3 * torch.randn(n, dim, generator=g)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return self.x[i], self.targets[i]
"""


def _config(**changes) -> dict:
    config = {
        "name": "blobs",
        "seed": 3,
        "model": {"type": "model:Net", "params": {"in_features": 4, "num_classes": 3}},
        "data": {
            "train": {"type": "data:Blobs", "params": {"n": 60, "seed": 0}},
            "val": {"type": "data:Blobs", "params": {"n": 30, "seed": 1}},
            "loader": {"batch_size": 16},
        },
        "trainer": {
            "type": "classification",
            "epochs": 2,
            "device": "cpu",
            "optimization": {"optimizer": {"type": "torch.optim.SGD", "params": {"lr": 0.1}}},
        },
        "loggers": {},  # trialog-torch's tests must not need another plugin
    }
    config.update(changes)
    return config


@pytest.fixture
def project(tmp_path: Path):
    """A folder with the user's own model.py and data.py; returns a function writing config.json there."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "model.py").write_text(MODEL_PY)
    (folder / "data.py").write_text(DATA_PY)

    def write(config: dict) -> Path:
        path = folder / "config.json"
        path.write_text(json.dumps(config))
        return path

    return write


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["run", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


def _run_folder(out: str) -> Path:
    lines = [line for line in out.splitlines() if line.startswith("run folder: ")]
    assert len(lines) == 1, out
    return Path(lines[0].removeprefix("run folder: "))


def test_run_trains_from_the_config_and_prints_run_folder_and_metrics(project, tmp_path, capsys):
    config = project(_config())
    rc, out, err = _run(capsys, config, "--quiet", "--base-dir", tmp_path / "runs")
    assert rc == 0, err
    run_dir = _run_folder(out)
    assert run_dir.parent == tmp_path / "runs"
    assert run_dir.name.endswith("blobs")
    assert (run_dir / "config" / "config.json").is_file()
    assert any((run_dir / "checkpoint").iterdir())
    metrics_line = next(line for line in out.splitlines() if line.startswith("final metrics: "))
    accuracy = float(metrics_line.split("val/accuracy=")[1].split()[0])
    assert accuracy > 0.9  # separable blobs


def test_purpose_is_recorded_in_run_json(project, tmp_path, capsys):
    config = project(_config())
    rc, out, err = _run(
        capsys, config, "--quiet", "--base-dir", tmp_path / "runs", "--purpose", "check the blobs"
    )
    assert rc == 0, err
    assert json.loads((_run_folder(out) / "run.json").read_text())["purpose"] == "check the blobs"


def test_set_overrides_config_values(project, tmp_path, capsys):
    config = project(_config())
    rc, out, err = _run(
        capsys,
        config,
        "--quiet",
        "--base-dir",
        tmp_path / "runs",
        "--set",
        "trainer.epochs=1",
        "--set",
        "name=other",
    )
    assert rc == 0, err
    run_dir = _run_folder(out)
    saved = json.loads((run_dir / "config" / "config.json").read_text())
    assert saved["trainer"]["epochs"] == 1
    assert saved["name"] == "other"
    assert run_dir.name.endswith("other")


def test_base_dir_and_name_default_from_the_config(project, tmp_path, capsys, monkeypatch):
    config = _config(base_dir=str(tmp_path / "from_config"))
    del config["name"]
    monkeypatch.chdir(tmp_path)
    rc, out, err = _run(capsys, project(config), "--quiet", "--set", "trainer.epochs=1")
    assert rc == 0, err
    run_dir = _run_folder(out)
    assert run_dir.parent == tmp_path / "from_config"
    assert run_dir.name.endswith("project")  # config.json names its run after its folder


def _breaks(config: dict, where: str, value) -> dict:
    node = config
    *parents, last = where.split(".")
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return config


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        ("model.type", "model:Missing", "config key 'model.type'"),
        ("model.type", "no_such_module:Net", "config key 'model.type'"),
        ("model.params", {"in_features": 4, "layers": 3}, "config key 'model.params'"),
        ("model.params", {"in_features": 4, "num_classes": -1}, "config key 'model.params'"),
        ("model.params", {"in_features": 7}, "config key 'model': Net failed on the first batch"),
        ("data.train.type", "data:Nope", "config key 'data.train.type'"),
        ("data.train.params", {"n": "many"}, "config key 'data.train.params.n': Blobs takes a number"),
        ("data.loader", {"batch_size": 16, "batchsize": 3}, "config key 'data.loader'"),
        ("data.train", KeyError, "config key 'data.train' is missing"),
        ("trainer.type", "no_such_trainer", "config key 'trainer.type'"),
        ("model", KeyError, "config key 'model' is missing"),
        ("kfold", {"k": 3}, "config key 'data.val' cannot be combined with 'kfold'"),
        ("trainer.seed", 3, "config key 'trainer.seed' is not used"),
        ("trainer.monitor", "val/acc", "config key 'trainer.monitor': metric 'val/acc' is not produced"),
        ("trainer.probes", {"every_steps": 0}, "config key 'trainer.probes.every_steps' must be an integer"),
        (
            "kfold",
            {"k": 3, "stratified": "no"},
            "config key 'kfold.stratified' must be true or false, got 'no'",
        ),
        ("loggers", {"f": {"type": "file", "no_such_option": 1}}, "logger 'f' (file) does not accept"),
        ("loggers", {"x": "no_such_logger"}, "no_such_logger"),
        (
            "loggers",
            {"s": {"type": "slack", "channel": "C0123456", "token": "xoxb-SECRET-1234567890"}},
            "logger 's': option(s) 'token' look like credentials",
        ),
    ],
)
def test_bad_configs_name_the_key_in_one_line_and_create_no_run(
    project, tmp_path, capsys, where, value, expected
):
    config = project(_breaks(_config(), where, value))
    rc, out, err = _run(capsys, config, "--quiet", "--base-dir", tmp_path / "runs")
    assert rc == 1
    assert out == ""
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "SECRET" not in err
    assert not (tmp_path / "runs").exists()  # checked before any run folder is made


def test_shape_mismatch_error_names_model_and_input_shape(project, tmp_path):
    config = project(_breaks(_config(), "model.params", {"in_features": 7}))
    with pytest.raises(ConfigError, match=r"input shape \[2, 4\]") as info:
        run_config(config, base_dir=tmp_path / "runs")
    assert isinstance(info.value.__cause__, RuntimeError)


def test_set_with_an_unknown_key_is_an_error(project, tmp_path, capsys):
    config = project(_config())
    rc, _, err = _run(capsys, config, "--set", "trainer.epoch=1", "--base-dir", tmp_path / "runs")
    assert rc == 1
    assert "unknown config key 'trainer.epoch'" in err and "trainer.epochs" in err
    rc, _, err = _run(capsys, config, "--set", "trainer.epochs=many", "--base-dir", tmp_path / "runs")
    assert rc == 1 and "--set trainer.epochs expects int" in err
    rc, _, err = _run(capsys, tmp_path / "missing.json")
    assert rc == 1 and "missing.json does not exist" in err


def test_resume_last_continues_the_newest_run(project, tmp_path, capsys):
    config = project(_config())
    rc, out, err = _run(
        capsys, config, "--quiet", "--base-dir", tmp_path / "runs", "--set", "trainer.epochs=1"
    )
    assert rc == 0, err
    first = _run_folder(out)
    rc, out, err = _run(capsys, config, "--quiet", "--base-dir", tmp_path / "runs", "--resume", "last")
    assert rc == 0, err
    assert _run_folder(out) == first
    epochs = {
        json.loads(line).get("epoch")
        for line in (first / "result" / "results.jsonl").read_text().splitlines()
    }
    assert {0, 1} <= epochs


def test_kfold_runs_each_fold_in_a_folder_of_its_own(project, tmp_path, capsys):
    config = _config(kfold={"k": 3, "stratified": True})
    del config["data"]["val"]
    config["trainer"]["epochs"] = 1
    rc, out, err = _run(capsys, project(config), "--quiet", "--base-dir", tmp_path / "runs")
    assert rc == 0, err
    folders = [
        Path(line.removeprefix("run folder: ")) for line in out.splitlines() if line.startswith("run folder")
    ]
    assert len(folders) == 3
    assert [f.name.rsplit("_", 1)[-1] for f in folders] == ["fold0", "fold1", "fold2"]
    assert "k-fold summary over 3 folds" in out and "val/accuracy:" in out


def test_kfold_summary_from_the_python_api(project, tmp_path):
    config = _config(kfold={"k": 2, "stratified": False, "seed": 4})
    del config["data"]["val"]
    config["trainer"]["epochs"] = 1
    outcome = run_config(project(config), base_dir=tmp_path / "runs", quiet=True)
    assert len(outcome.run_dirs) == len(outcome.metrics) == 2
    accuracies = [m["val/accuracy"] for m in outcome.metrics]
    assert outcome.kfold_summary["val/accuracy"]["mean"] == pytest.approx(sum(accuracies) / 2)


def test_balanced_sampler_and_per_split_loader_options(project, tmp_path):
    config = _config()
    config["data"]["loader"] = {"batch_size": 16, "sampler": "balanced"}
    config["data"]["val"]["loader"] = {"batch_size": 5}
    labels = torch.tensor([0] * 54 + [1] * 3 + [2] * 3)
    dataset = TensorDataset(torch.randn(60, 4), labels)

    train = _build_loader(config, "train", dataset)
    assert isinstance(train.sampler, ClassBalancedSampler)
    assert train.sampler.seed == 3  # the config's seed: the order depends on seed and epoch only
    drawn = torch.cat([y for _, y in train])
    assert len(drawn) == 60
    assert (drawn == 0).float().mean() < 0.6  # 90 % of the samples are class 0 without balancing
    val = _build_loader(config, "val", dataset)
    assert val.batch_size == 5
    assert isinstance(val.sampler, SequentialSampler)  # shuffle and sampler are for training only

    config["data"]["train"]["params"]["minority"] = 6
    outcome = run_config(project(config), base_dir=tmp_path / "runs", quiet=True)
    assert outcome.run_dirs[0].is_dir()


def test_modules_next_to_the_config_win_over_earlier_imports(project, tmp_path):
    # A first config's folder holds another model.py (a Net for 99 features); once it was imported,
    # the second config must still get its own model.py, not the cached module.
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.py").write_text(MODEL_PY.replace("in_features=4", "in_features=99"))
    (other / "data.py").write_text(DATA_PY)
    config = _config()
    del config["model"]["params"]
    with pytest.raises(ConfigError, match="first batch"):
        run_config(config, config_dir=other, base_dir=tmp_path / "runs")
    outcome = run_config(project(config), base_dir=tmp_path / "runs", quiet=True)
    assert outcome.metrics[0]["val/accuracy"] > 0.5


def test_run_is_a_trialog_subcommand_with_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--set", "--resume", "--quiet", "--base-dir"):
        assert option in out


def test_the_console_script_prints_one_line_errors(project, tmp_path):
    config = project(_breaks(_config(), "model.type", "model:Missing"))
    script = Path(sys.executable).with_name("trialog")
    result = subprocess.run(
        [str(script), "run", str(config), "--base-dir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "config key 'model.type'" in result.stderr
    assert result.stdout == ""


def test_kfold_switched_on_from_the_command_line(project, tmp_path, capsys):
    # A config with "kfold": null lets --set turn k-fold on (and --set data.val=null drop the val set).
    config = project(_config(kfold=None))
    rc, out, err = _run(
        capsys,
        config,
        "--quiet",
        "--base-dir",
        tmp_path / "runs",
        "--set",
        'kfold={"k": 2}',
        "--set",
        "data.val=null",
        "--set",
        "trainer.epochs=1",
    )
    assert rc == 0, err
    assert out.count("run folder: ") == 2
    assert sorted(p.name.rsplit("_", 1)[-1] for p in (tmp_path / "runs").iterdir()) == ["fold0", "fold1"]


def test_same_seed_same_run(project, tmp_path):
    # Model init, shuffling and dropout all follow the config's seed; the first-batch check draws nothing.
    config = project(_config())
    first = run_config(config, base_dir=tmp_path / "a", quiet=True).metrics[0]
    second = run_config(config, base_dir=tmp_path / "b", quiet=True).metrics[0]
    other = run_config(config, base_dir=tmp_path / "c", quiet=True, overrides=["seed=4"]).metrics[0]
    assert first["train/loss"] == second["train/loss"]
    assert first["val/loss"] == second["val/loss"]
    assert first["train/loss"] != other["train/loss"]


def test_the_first_batch_check_does_not_change_the_run(project, tmp_path, monkeypatch):
    import trialog_torch.cli as cli

    config = project(_config())
    checked = run_config(config, base_dir=tmp_path / "a", quiet=True).metrics[0]
    monkeypatch.setattr(cli, "_probe_first_batch", lambda *args: None)
    unchecked = run_config(config, base_dir=tmp_path / "b", quiet=True).metrics[0]
    assert checked["train/loss"] == unchecked["train/loss"]
    assert checked["val/loss"] == unchecked["val/loss"]


def _ddp_rank(rank: int, rendezvous: str, config: str, out_dir: str) -> None:
    # The environment torchrun gives its workers (meeting through a file, so no port is picked here);
    # forked, so torch is not imported again.
    import contextlib
    import io
    import os

    os.environ.update(
        TRIALOG_DIST_INIT_METHOD=rendezvous, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2"
    )
    torch.set_num_threads(1)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = main(["run", config, "--quiet", "--base-dir", str(Path(out_dir) / "runs")])
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps({"rc": rc, "stdout": stdout.getvalue()}))


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed")
def test_trialog_run_under_ddp_reports_once_and_writes_one_run(project, tmp_path):
    import torch.multiprocessing as mp

    config = project(_config())
    rendezvous = (tmp_path / "rendezvous").as_uri()
    mp.start_processes(
        _ddp_rank, args=(rendezvous, str(config), str(tmp_path)), nprocs=2, start_method="fork"
    )
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["rc"] for r in ranks] == [0, 0]
    assert "run folder: " in ranks[0]["stdout"] and "final metrics: " in ranks[0]["stdout"]
    assert ranks[1]["stdout"] == ""
    assert len(list((tmp_path / "runs").iterdir())) == 1


def test_yaml_configs_and_malformed_files(project, tmp_path, capsys):
    yaml = pytest.importorskip("yaml")
    folder = project(_config()).parent
    (folder / "run.yaml").write_text(yaml.safe_dump(_config()))
    rc, out, err = _run(capsys, folder / "run.yaml", "--quiet", "--base-dir", tmp_path / "runs")
    assert rc == 0, err
    assert _run_folder(out).name.endswith("blobs")
    (folder / "broken.json").write_text('{"model": {"type": "model:Net",}}')
    rc, _, err = _run(capsys, folder / "broken.json")
    assert rc == 1
    assert "broken.json" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c.update(loger={"file": "file"}),
            "config key 'loger' is not a trialog run key; did you mean 'loggers'?",
        ),
        (
            lambda c: c["trainer"]["optimization"]["optimizer"]["params"].update(lr="0.01"),
            "config key 'trainer.optimization.optimizer.params.lr': SGD takes a number (its default is 0.001), "
            "got '0.01' (str)",
        ),
        (
            lambda c: c["trainer"]["optimization"]["optimizer"]["params"].update(nesterov="yes"),
            "config key 'trainer.optimization.optimizer.params.nesterov': SGD takes true or false, got 'yes' (str)",
        ),
    ],
)
def test_config_mistakes_stop_before_the_run_folder(project, tmp_path, capsys, change, message):
    config = _config()
    change(config)
    rc, _, err = _run(capsys, project(config), "--quiet", "--base-dir", tmp_path / "runs")
    assert rc == 1
    assert message in err
    assert not (tmp_path / "runs").exists()


def test_prevalence_sampler_workers_and_schedules_from_one_config(project, tmp_path):
    config = _config()
    config["data"]["loader"] = {"batch_size": 9, "num_workers": 2, "sampler": {"type": "prevalence_random"}}
    config["trainer"]["optimization"]["optimizer"]["params"]["momentum"] = 0.9
    config["trainer"]["schedules"] = {"momentum": {"target": "optimizer.momentum", "updates": [[3, 0.5]]}}
    outcome = run_config(project(config), base_dir=tmp_path / "runs", quiet=True)
    records = [
        json.loads(line)
        for line in (outcome.run_dirs[0] / "result" / "results.jsonl").read_text().splitlines()
    ]
    assert [(r["value"], r["counter"]) for r in records if r["name"] == "schedule/momentum"] == [(0.5, 3)]

    config["trainer"]["schedules"]["momentum"]["target"] = "optimizer.momentun"
    with pytest.raises(ConfigError, match=r"trainer\.schedules\.momentum\.target.*no key 'momentun'"):
        run_config(project(config), base_dir=tmp_path / "bad", quiet=True)
    assert not (tmp_path / "bad").exists()
