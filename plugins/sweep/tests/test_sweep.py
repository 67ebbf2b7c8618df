"""Sweeps: the spec language, the local sweeper, a trial killed with SIGKILL, a killed and resumed driver."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from trialog_sweep.sweep import load_spec, open_sweep, read_sweep, spec_from_block
from trialog_sweep.sweep_local import LocalSweeper
from trialog_sweep.testing import read_gate as _read_gate
from trialog_sweep.testing import records as _records
from trialog_sweep.testing import wait_exit as _wait_exit
from trialog_sweep.testing import write_toy_sweep as _write_sweep

from trialog import ConfigError, GridSearch
from trialog.cli import main
from trialog.run.folder import Run, find_runs, read_meta

# ---------------------------------------------------------------------------------------- the spec


def test_grid_keeps_gridsearch_order_and_repeat_sets_seeds(tmp_path):
    path = _write_sweep(tmp_path, {"grid": {"w0": [0.0, 1.0], "lr": [0.1, 0.2]}, "repeat": 2})
    spec = load_spec(path)
    points = spec.points()
    expected = [{"lr": c["lr"], "w0": c["w0"]} for c in GridSearch({"w0": [0.0, 1.0], "lr": [0.1, 0.2]})]
    assert [{k: p[k] for k in ("lr", "w0")} for p in points[::2]] == expected
    assert [p["seed"] for p in points] == [0, 1] * 4
    config = spec.trial_config(points[3], "toy_t0003")
    assert (
        config["lr"] == 0.1 and config["w0"] == 1.0 and config["seed"] == 1 and config["name"] == "toy_t0003"
    )
    assert "sweep" not in config


def test_sampling_is_deterministic_and_in_range(tmp_path):
    space = {
        "lr": {"loguniform": [1e-4, 1e-1]},
        "w0": {"uniform": [-1, 1]},
        "n_epochs": {"randint": [1, 4]},
        "gate": {"choice": [None, "x"]},
    }
    spec = load_spec(_write_sweep(tmp_path, {"space": space, "num_samples": 20, "seed": 3}))
    points = spec.points()
    assert points == load_spec(tmp_path / "sweep.json").points()
    assert len(points) == 20
    assert all(1e-4 <= p["lr"] <= 1e-1 and -1 <= p["w0"] <= 1 and p["n_epochs"] in (1, 2, 3) for p in points)
    assert len({p["lr"] for p in points}) == 20
    other = load_spec(_write_sweep(tmp_path / "b", {"space": space, "num_samples": 20, "seed": 4})).points()
    assert other != points


def test_dotted_keys_reach_into_the_config(tmp_path):
    path = _write_sweep(
        tmp_path,
        {"space": {"opt.params.lr": {"loguniform": [1e-3, 1e-2]}}, "set": {"opt.name": "sgd"}},
        opt={"name": "adam", "params": {"lr": 0.1}},
    )
    spec = load_spec(path)
    (point,) = spec.points()
    config = spec.trial_config(point, "t")
    assert 1e-3 <= config["opt"]["params"]["lr"] <= 1e-2 and config["opt"]["name"] == "sgd"


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"grid": {"lrr": [1, 2]}}, "'grid.lrr'"),
        ({"space": {"lr": {"loguniform": [0, 1]}}}, "'space.lr'"),
        ({"space": {"lr": {"normal": [0, 1]}}}, "unknown distribution 'normal'"),
        ({"space": {"lr": {"uniform": [2, 1]}}}, "low < high"),
        ({"space": {"lr": {"randint": [0.5, 3]}}}, "'randint'"),
        ({"grid": {"lr": []}}, "'grid.lr'"),
        ({"repeat": 0}, "'repeat'"),
        ({"num_samples": "3"}, "'num_samples'"),
        ({"mode": "best"}, "'mode'"),
        ({"metric": None, "early_stopping": {"type": "asha"}}, "'early_stopping'"),
        ({"early_stopping": {"type": "pbt"}}, "'early_stopping'"),
        ({"resources": {"cpu": -1}}, "'resources.cpu'"),
        ({"resources": {"tpu": 1}}, "'resources'"),
        ({"experiment": "toyexp.Toy"}, "'experiment'"),
        ({"search": "bayes"}, "'search'"),
        ({"search": "optuna", "grid": {"lr": [1, 2]}}, "'search'"),
        ({"grid": {"lr": [1]}, "set": {"lr": 2}}, "given twice"),
        ({"sweeps": 1}, "['sweeps'] unknown"),
    ],
)
def test_bad_specs_name_the_key(tmp_path, sweep, message):
    path = _write_sweep(tmp_path, sweep)
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    assert message in str(info.value)


def test_bad_spec_is_rejected_before_anything_is_written(tmp_path, capsys):
    path = _write_sweep(tmp_path / "cfg", {"grid": {"nope": [1, 2]}})
    assert main(["sweep", str(path), "--base-dir", str(tmp_path / "out")]) == 1
    assert "'grid.nope'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_separate_sweep_file_names_its_base_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"name": "base", "lr": 0.1, "n_epochs": 1}))
    (tmp_path / "grid.json").write_text(
        json.dumps({"sweep": {"config": "config.json", "grid": {"lr": [1, 2]}}})
    )
    spec = load_spec(tmp_path / "grid.json")
    assert spec.name == "grid" and spec.base["lr"] == 0.1 and len(spec.points()) == 2
    (tmp_path / "missing.json").write_text(json.dumps({"sweep": {"config": "nope.json"}}))
    with pytest.raises(ConfigError, match="sweep key 'config'"):
        load_spec(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match=r"'grid\.lr'"):
        spec_from_block({"grid": {"lr": [1]}}, {}, tmp_path, "x")


# ---------------------------------------------------------------------------------------- the local sweeper


def test_local_sweep_writes_sweep_json_and_lists_trials(tmp_path, capsys):
    path = _write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.05, 0.2, 0.5]}})
    assert (
        main(["sweep", str(path), "--sweeper", "local", "--parallel", "2", "--base-dir", str(tmp_path / "o")])
        == 0
    )
    out = capsys.readouterr().out
    (folder,) = (tmp_path / "o").iterdir()
    data = read_sweep(folder)
    assert data["sweeper"] == "local" and data["spec"]["grid"] == {"lr": [0.05, 0.2, 0.5]}
    assert [t["status"] for t in data["trials"]] == ["finished"] * 3
    errors = {t["params"]["lr"]: t["metric"] for t in data["trials"]}
    assert data["best"]["params"]["lr"] == min(errors, key=errors.get)
    assert f"best trial: {data['best']['id']}" in out
    for trial in data["trials"]:
        run = Run(folder / trial["run"])
        assert run.status == "finished" and run.config["lr"] == trial["params"]["lr"]
        assert trial["metric"] == run.summary["error"]["last"]
    assert len(find_runs(folder)) == 3

    assert sorted(Run(r).name for r in find_runs(folder)) == [f"toy_t000{i}" for i in range(3)]
    assert main(["sweep", "show", str(folder)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].startswith(data["best"]["id"])
    assert main(["sweep", "show", str(folder), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["best"]["id"] == data["best"]["id"] and len(shown["trials"]) == 3


def test_failing_trial_is_retried_then_marked_error(tmp_path):
    path = _write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.1, "bad"]}, "max_failures": 1})
    sweep = open_sweep(path, "local", base_dir=tmp_path / "o")
    LocalSweeper(parallel=1).run(sweep)
    good, bad = read_sweep(sweep.folder)["trials"]
    assert good["status"] == "finished"
    assert bad["status"] == "error" and bad["attempts"] == 2 and "exit status" in bad["error"]
    assert "TypeError" in (sweep.folder / "trials" / f"{bad['id']}.log").read_text()


@pytest.mark.parametrize("options", [{}, {"keep_warm": "60"}], ids=["server-per-sweep", "kept-server"])
def test_trial_killed_mid_epoch_is_retried_and_ends_like_an_unkilled_one(tmp_path, runtime, options):
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    path = _write_sweep(tmp_path / "cfg", {"grid": {"gate": [None, str(gate)]}})
    sweep = open_sweep(path, "local", base_dir=tmp_path / "o")
    errors: list[BaseException] = []

    def drive():
        try:
            LocalSweeper(parallel=2, options=options).run(sweep)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    driver = threading.Thread(target=drive)
    driver.start()
    pid = _read_gate(gate)  # the gated trial is in epoch 1, step 2
    os.kill(pid, signal.SIGKILL)
    retry_pid = _read_gate(gate)  # its retry reached the same point again: let it go on
    driver.join()
    assert not errors and retry_pid != pid
    if options:
        from trialog_sweep.trialserver import kept_servers

        (server,) = kept_servers()
        assert server["sweeps"] == 1  # the retry was forked by the same kept server
    reference, killed = read_sweep(sweep.folder)["trials"]
    assert reference["status"] == killed["status"] == "finished"
    assert killed["attempts"] == 2 and reference["attempts"] == 1
    killed_run = sweep.folder / killed["run"]
    assert read_meta(killed_run)["resumes"]
    assert _records(killed_run) == _records(sweep.folder / reference["run"])
    assert killed["metric"] == reference["metric"]


def test_killed_driver_resumes_without_rerunning_finished_trials(tmp_path):
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    path = _write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.1, 0.2, 0.3]}}, gate=str(gate))
    base = tmp_path / "o"
    driver = subprocess.Popen(
        [sys.executable, "-m", "trialog.cli", "sweep", str(path), "--parallel", "1", "--base-dir", str(base)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _read_gate(gate)  # t0000 mid-epoch 1: let it finish
        trial_pid = _read_gate(gate)  # t0001 mid-epoch 1: kill the driver now
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        _wait_exit(trial_pid)  # the trial process dies with its driver
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    os.unlink(gate)  # the resumed trials run through
    (folder,) = base.iterdir()
    before = read_sweep(folder)["trials"]
    assert [t["status"] for t in before] == ["finished", "running", "pending"]
    first_run = folder / before[0]["run"]
    first_meta = read_meta(first_run)

    assert main(["sweep", "--resume", str(folder)]) == 0
    after = read_sweep(folder)["trials"]
    assert [t["status"] for t in after] == ["finished"] * 3
    assert after[0]["attempts"] == 1 and read_meta(first_run) == first_meta
    assert after[1]["attempts"] == 2 and read_meta(folder / after[1]["run"])["resumes"]
    assert len(find_runs(folder)) == 3


def test_sweep_names_come_from_trialog_sweep_not_the_core():
    import trialog_sweep
    import trialog_sweep.sweep as sweep_module

    import trialog.api as api

    for name in ("Sweep", "SweepSpec", "open_sweep", "read_sweep", "run_trial", "Sweeper"):
        assert name in trialog_sweep.__all__ and getattr(trialog_sweep, name) is getattr(sweep_module, name)
        assert name not in api.__all__
    assert trialog_sweep.ProcessSnapshot.__module__ == "trialog_sweep.trialproc"


def test_a_sweeper_entry_point_that_is_not_a_sweeper_class_is_refused_by_name(tmp_path, monkeypatch, capsys):
    from trialog_sweep import GROUP, sweeper_class

    from trialog.api import plugins
    from trialog.errors import PluginError

    assert sweeper_class("local") is LocalSweeper
    real_load = plugins.load
    monkeypatch.setattr(
        plugins, "load", lambda group, name: len if name == "broken" else real_load(group, name)
    )
    with pytest.raises(
        PluginError, match=r"sweeper 'broken' \(entry point group trialog.sweepers\) is <built-in"
    ):
        sweeper_class("broken")
    assert GROUP == "trialog.sweepers"
    path = _write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.1]}})
    assert main(["sweep", str(path), "--sweeper", "broken", "--base-dir", str(tmp_path / "o")]) == 1
    assert "not a sweeper" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # refused before the sweep folder is written


def test_a_config_trial_without_a_framework_plugin_says_what_to_install(tmp_path):
    from trialog_sweep import run_config_file

    from trialog.api import plugins

    manager = plugins.get_plugin_manager()
    framework = [(impl.plugin_name, impl.plugin) for impl in manager.hook.run_config.get_hookimpls()]
    for name, plugin in framework:  # trialog-torch, when installed
        manager.unregister(plugin, name=name)
    try:
        with pytest.raises(ConfigError, match="pip install trialog-torch"):
            run_config_file(tmp_path / "config.json", tmp_path)
    finally:
        for name, plugin in framework:
            manager.register(plugin, name=name)


def test_a_config_trial_runs_through_the_run_config_hook_not_the_command_line(tmp_path, monkeypatch):
    import trialog.cli
    from trialog.api import hookimpl, plugins

    calls = []

    class Framework:
        @hookimpl
        def run_config(self, config, base_dir, resume, quiet):
            calls.append((config, base_dir, resume, quiet))
            run = Path(base_dir) / "r1"
            run.mkdir()
            (run / "run.json").write_text(json.dumps({"name": "plain_t0000"}))
            return [run]

    monkeypatch.setattr(trialog.cli, "main", lambda *a: pytest.fail("a trial must not run through the CLI"))
    manager = plugins.get_plugin_manager()
    manager.register(Framework(), name="framework-under-test")
    try:
        (tmp_path / "cfg").mkdir()
        path = tmp_path / "cfg" / "sweep.json"
        path.write_text(json.dumps({"name": "plain", "lr": 0.1, "sweep": {"grid": {"lr": [0.1]}}}))
        sweep = open_sweep(path, "local", base_dir=tmp_path / "o")
        from trialog_sweep import run_trial

        run_dir = run_trial(sweep.trial_file("t0000"), quiet=True)
    finally:
        manager.unregister(name="framework-under-test")
    (call,) = calls
    assert call == (
        str(sweep.trial_file("t0000").with_suffix(".config.json").resolve()),
        str(sweep.folder.resolve()),
        None,
        True,
    )
    assert run_dir == sweep.folder.resolve() / "r1"


def test_local_sweeper_rejects_ray_only_options(tmp_path):
    with pytest.raises(ConfigError, match="--address"):
        LocalSweeper(address="127.0.0.1:6379")
    with pytest.raises(ConfigError, match="--parallel"):
        LocalSweeper(parallel=0)
    path = _write_sweep(tmp_path / "cfg", {"early_stopping": {"type": "asha"}})
    with pytest.raises(ConfigError, match="'early_stopping'"):
        LocalSweeper().run(open_sweep(path, "local", base_dir=tmp_path / "o"))


def test_the_plugin_entry_stays_cheap_the_sweep_modules_load_on_use():
    code = (
        "import sys, trialog_sweep.hooks, trialog_sweep\n"
        "print(sorted(m for m in sys.modules if m.startswith('trialog_sweep.')))\n"
        "trialog_sweep.open_sweep\n"
        "print('trialog_sweep.sweep' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["['trialog_sweep.hooks']", "True"]


@pytest.mark.parametrize("warm", ["1", "0"])
def test_a_trial_records_the_users_code_not_the_sweeps_machinery(tmp_path, monkeypatch, warm):
    """sources.zip holds the config folder's module (the Experiment), as `trialog run` would record it, and
    none of trialog-sweep's own modules (the trial process's ``python -m trialog_sweep.sweep_local``)."""
    import zipfile

    monkeypatch.chdir(tmp_path)  # a working folder without the user's code: the config folder is the root
    path = _write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.1]}})
    sweep = open_sweep(path, "local", base_dir=tmp_path / "o")
    LocalSweeper(options={"warm": warm}).run(sweep)
    (trial,) = read_sweep(sweep.folder)["trials"]
    with zipfile.ZipFile(sweep.folder / trial["run"] / "save" / "sources.zip") as archive:
        assert archive.namelist() == ["toyexp.py"]
