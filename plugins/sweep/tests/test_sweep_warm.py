"""The local sweeper's warm trial server, per-process reset, recorded threads and recorded driver options."""

from __future__ import annotations

import json
import logging
import os
import random
import warnings

import pytest
from test_sweep import _records, _write_sweep
from trialog_sweep.sweep import open_sweep, read_sweep
from trialog_sweep.sweep_cli import resolve_options
from trialog_sweep.sweep_local import LocalSweeper
from trialog_sweep.trialproc import ProcessSnapshot
from trialog_sweep.trialserver import _user_modules

from trialog import ConfigError, TrialogWarning
from trialog.cli import main
from trialog.run.folder import Run

PROBE = '''
import os
import random
import sys

from toyexp import Toy


class Probe(Toy):
    """Toy that records what its process looked like when the trial began, and then pollutes it."""

    def setup(self):
        super().setup()
        import logging
        import trialog.hooks.plugins as registry
        self.add_result(float(os.environ.get("OMP_NUM_THREADS", "0")), "omp", tag="env")
        self.add_result(float("TRIALOG_PROBE_DIRT" in os.environ), "dirty_env", tag="env")
        self.add_result(float(logging.getLogger().level), "root_level", tag="env")
        self.add_result(float("trialog-probe-dirt" in dict(registry.get_plugin_manager().list_name_plugin())), "dirty_plugin", tag="env")
        self.add_result(float(sys.modules["toyexp"].__dict__.get("DIRT", 0)), "dirty_module", tag="env")
        os.environ["TRIALOG_PROBE_DIRT"] = "1"
        logging.getLogger().setLevel(logging.DEBUG)
        registry.get_plugin_manager().register(object(), name="trialog-probe-dirt")
        sys.modules["toyexp"].DIRT = 1
'''


def _probe_sweep(tmp_path, **sweep):
    path = _write_sweep(tmp_path / "cfg", {"experiment": "probe:Probe", **sweep})
    (tmp_path / "cfg" / "probe.py").write_text(PROBE)
    return path


def _trial_records(folder):
    return {t["id"]: _records(folder / t["run"]) for t in read_sweep(folder)["trials"]}


def test_warm_trials_equal_fresh_processes_and_parallel_changes_nothing(tmp_path):
    path = _probe_sweep(tmp_path, grid={"lr": [0.05, 0.2, 0.5]}, repeat=2)
    results = []
    for parallel, warm in ((2, "1"), (1, "1"), (1, "0")):
        sweep = open_sweep(
            path, "local", base_dir=tmp_path / f"o{parallel}{warm}", options={"parallel": parallel}
        )
        LocalSweeper(parallel=parallel, options={"warm": warm}).run(sweep)
        assert {t["status"] for t in read_sweep(sweep.folder)["trials"]} == {"finished"}
        results.append(_trial_records(sweep.folder))
    warm2, warm1, fresh = results
    assert warm2 == warm1 == fresh
    # every trial began with a fresh process's state although the one before it polluted its own
    for records in warm2.values():
        env = {name: value for name, tag, _, _, value in records if tag == "env"}
        assert env == {
            "omp": 1.0,
            "dirty_env": 0.0,
            "root_level": 30.0,
            "dirty_plugin": 0.0,
            "dirty_module": 0.0,
        }


def test_threads_come_from_the_sweep_and_are_recorded_in_run_json(tmp_path):
    path = _probe_sweep(tmp_path, grid={"lr": [0.1]}, resources={"cpu": 3})
    assert main(["sweep", str(path), "--parallel", "2", "--base-dir", str(tmp_path / "o")]) == 0
    (folder,) = (tmp_path / "o").iterdir()
    data = read_sweep(folder)
    assert data["options"] == {"parallel": 2, "threads": 3}
    run_dir = folder / data["trials"][0]["run"]
    assert Run(run_dir).meta["threads"] == 3
    assert [value for name, tag, *_, value in _records(run_dir) if name == "omp"] == [3.0]


def test_resume_uses_the_recorded_options_and_warns_on_a_changed_one():
    data = {"options": {"parallel": 2, "address": None, "threads": 1}, "trials": []}
    assert resolve_options(data, {"parallel": None, "address": None, "options": None}) == {
        "parallel": 2,
        "address": None,
    }
    with pytest.warns(TrialogWarning, match="--parallel 1 replaces the 2"):
        assert resolve_options(data, {"parallel": 1, "address": None, "options": None})["parallel"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_options({"trials": []}, {"parallel": 3, "address": None, "options": None}) == {
            "parallel": 3
        }


def test_resumed_sweep_keeps_its_options_and_an_old_sweep_folder_still_resumes(tmp_path, capsys):
    path = _probe_sweep(tmp_path, grid={"lr": [0.1, 0.2]})
    assert main(["sweep", str(path), "--parallel", "2", "--base-dir", str(tmp_path / "o")]) == 0
    (folder,) = (tmp_path / "o").iterdir()
    data = read_sweep(folder)
    # an old sweep folder: no options, one trial left to do
    del data["options"]
    data["trials"][1]["status"] = "pending"
    (folder / "sweep.json").write_text(json.dumps(data))
    assert main(["sweep", "--resume", str(folder)]) == 0
    after = read_sweep(folder)
    assert after["options"]["threads"] == 1 and [t["status"] for t in after["trials"]] == ["finished"] * 2
    assert main(["sweep", "--resume", str(folder), "--parallel", "2"]) == 0  # recorded, nothing to warn of
    assert read_sweep(folder)["options"]["parallel"] == 2
    with pytest.warns(TrialogWarning, match="--parallel 1 replaces"):
        assert main(["sweep", "--resume", str(folder), "--parallel", "1"]) == 0
    assert read_sweep(folder)["options"]["parallel"] == 1


def test_process_snapshot_reset_restores_environment_logging_plugins_and_reseeds():
    from trialog.hooks.plugins import get_plugin_manager

    manager = get_plugin_manager()
    snapshot = ProcessSnapshot()
    level = logging.getLogger().level
    saved_env = dict(os.environ)
    try:
        os.environ["TRIALOG_SNAPSHOT_DIRT"] = "1"
        logging.getLogger().setLevel(logging.DEBUG)
        manager.register(object(), name="trialog-snapshot-dirt")
        random.seed(7)
        seeded = random.random()
        random.seed(7)
        snapshot.reset(2)
        assert "TRIALOG_SNAPSHOT_DIRT" not in os.environ and os.environ["OMP_NUM_THREADS"] == "2"
        assert logging.getLogger().level == level
        assert "trialog-snapshot-dirt" not in dict(manager.list_name_plugin())
        assert random.random() != seeded
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        logging.getLogger().setLevel(level)


def test_user_modules_are_found_beside_the_config(tmp_path):
    (tmp_path / "model.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    config = {
        "model": {"type": "model:Net"},
        "x": ["pkg.sub:Thing", "torch.optim:Adam", "a:b:c"],
        "y": "nope:X",
    }
    assert _user_modules(config, tmp_path) == {"model", "pkg.sub"}


LAZY = """
from toyexp import Toy


class Lazy(Toy):
    def setup(self):
        super().setup()
        import lazydep
        from lazypkg.sub import VALUE

        self.add_result(float(lazydep.VALUE + VALUE), "lazy", tag="env")

    def never_called(self):
        from . import relative  # a relative import: the server leaves it out
"""
PRELOAD = """
import json
import sys
from pathlib import Path

from trialog import hookimpl
from trialog.hooks.plugins import get_plugin_manager
from trialog_sweep.sweep_local import preload


class Framework:
    seen = []

    @hookimpl
    def preload_trials(self, config):
        self.seen.append([config["name"], "lazydep" in sys.modules])


get_plugin_manager().register(Framework(), name="probe-framework")
preload(Path(sys.argv[1]))
print(json.dumps({"modules": sorted(m for m in sys.modules if m.split(".")[0] in ("lazydep", "lazyexp", "lazypkg")), "seen": Framework.seen}))
"""


def test_trial_server_preloads_the_lazy_imports_of_the_users_modules_and_calls_preload_trials(tmp_path):
    """What a trial would import at its start (``import sklearn`` inside a class) the server imports once."""
    import subprocess
    import sys

    path = _write_sweep(tmp_path / "cfg", {"experiment": "lazyexp:Lazy", "grid": {"lr": [0.1]}})
    (tmp_path / "cfg" / "lazyexp.py").write_text(LAZY)
    (tmp_path / "cfg" / "lazydep.py").write_text("VALUE = 1\n")
    (tmp_path / "cfg" / "lazypkg").mkdir()
    (tmp_path / "cfg" / "lazypkg" / "__init__.py").write_text("")
    (tmp_path / "cfg" / "lazypkg" / "sub.py").write_text("VALUE = 2\n")
    sweep = open_sweep(path, "local", base_dir=tmp_path / "o")
    out = subprocess.run(
        [sys.executable, "-c", PRELOAD, str(sweep.folder)], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == {
        "modules": ["lazydep", "lazyexp", "lazypkg", "lazypkg.sub"],
        "seen": [["toy", True]],  # after the user's modules and their lazy imports
    }
    LocalSweeper().run(sweep)  # the trial itself still imports and uses them
    (trial,) = read_sweep(sweep.folder)["trials"]
    assert trial["status"] == "finished"
    assert ("lazy", "env", 0, None, 3.0) in _records(sweep.folder / trial["run"])


def test_local_sweeper_rejects_unknown_options():
    with pytest.raises(ConfigError, match="warm"):
        LocalSweeper(options={"partition": "gpu"})
