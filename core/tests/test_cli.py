import json
import subprocess
import sys

import pytest
from fake_plugins import MEMORY_LOGGER, fake_dists

from trialog import __version__
from trialog.cli import main


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"trialog {__version__}"


def test_plugins_list_reads_metadata_without_importing(fake_dists, capsys):
    fake_dists.add(
        "trialog-mem",
        "2.0",
        entry_points={"trialog.loggers": {"mem": "tl_mem_cli:MemoryLogger"}},
        modules={"tl_mem_cli": MEMORY_LOGGER},
    )
    code, out, _ = run_cli(capsys, "plugins", "list", "--json")
    rows = {(r["group"], r["name"]): r for r in json.loads(out)}
    row = rows[("trialog.loggers", "mem")]
    assert code == 0
    assert row == {
        "name": "mem",
        "group": "trialog.loggers",
        "target": "tl_mem_cli:MemoryLogger",
        "distribution": "trialog-mem",
        "version": "2.0",
        "status": "available",
        "error": None,
    }
    assert ("trialog.checkpoints", "npz") in rows  # the core's own format comes through the same entry points
    assert "tl_mem_cli" not in sys.modules


def test_plugins_list_table_and_statuses(fake_dists, capsys, monkeypatch):
    fake_dists.add(
        "trialog-mem",
        entry_points={"trialog.loggers": {"mem": "tl_mem_t:MemoryLogger"}},
        modules={"tl_mem_t": MEMORY_LOGGER},
    )
    fake_dists.add(
        "trialog-broken",
        "0.3",
        entry_points={"trialog.loggers": {"broken": "tl_broken_t:X"}},
        modules={"tl_broken_t": "import not_a_module_anywhere\n"},
    )
    fake_dists.add("trialog-d1", entry_points={"trialog.loggers": {"dup": "a:B"}})
    fake_dists.add("trialog-d2", entry_points={"trialog.loggers": {"dup": "c:D"}})
    monkeypatch.setenv("TRIALOG_DISABLE_PLUGINS", "mem")
    code, out, _ = run_cli(capsys, "plugins", "list", "--group", "loggers")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "GROUP", "DISTRIBUTION", "VERSION", "STATUS", "TARGET"]
    status = {line.split()[0]: line.split()[4] for line in lines[1:] if not line.startswith(" ")}
    assert status["mem"] == "disabled" and status["broken"] == "available" and status["dup"] == "conflict"

    code, out, _ = run_cli(capsys, "plugins", "list", "--group", "loggers", "--check", "--json")
    rows = {r["name"]: r for r in json.loads(out) if r["name"] in ("broken", "dup", "mem")}
    assert code == 1
    assert rows["broken"]["status"] == "error"
    assert (
        "trialog-broken 0.3" in rows["broken"]["error"] and "not_a_module_anywhere" in rows["broken"]["error"]
    )
    assert rows["mem"]["status"] == "disabled" and rows["dup"]["status"] == "conflict"


def test_check_lists_the_hooks_a_plugin_implements(fake_dists, capsys):
    fake_dists.add(
        "trialog-mem",
        entry_points={"trialog.loggers": {"mem": "tl_mem_h:MemoryLogger"}},
        modules={"tl_mem_h": MEMORY_LOGGER},
    )
    _, out, _ = run_cli(capsys, "plugins", "list", "--check", "--json", "--group", "loggers")
    assert {r["name"]: r for r in json.loads(out)}["mem"]["hooks"] == ["show_value"]


def test_import_trialog_imports_no_heavy_module_and_no_plugin():
    code = (
        "import sys, trialog\n"
        "heavy = {'numpy', 'torch', 'matplotlib', 'importlib_metadata'} & set(sys.modules)\n"
        "plugins = [m for m in sys.modules if m.startswith('trialog_')]\n"
        "print(sorted(heavy), plugins)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] []"


def test_every_public_name_resolves():
    import trialog

    for name in trialog.__all__:
        assert getattr(trialog, name) is not None, name


def test_runs_without_trialog_runs_names_the_distribution(capsys, monkeypatch):
    from trialog.hooks import plugins

    monkeypatch.setenv(plugins.DISABLE_ENV, "runs")  # as if trialog-runs were not installed
    plugins.refresh()
    try:
        code, _out, err = run_cli(capsys, "runs", "ls", "somewhere")
    finally:
        monkeypatch.delenv(plugins.DISABLE_ENV)
        plugins.refresh()
    assert code == 1 and "`trialog runs` comes with trialog-runs" in err and "pip install trialog-runs" in err


def test_runs_frame_without_trialog_runs_names_the_distribution():
    import importlib.util

    if importlib.util.find_spec("trialog_runs") is not None:
        pytest.skip("trialog-runs is installed: trialog.runs_frame is its export")
    import trialog

    with pytest.raises(AttributeError, match="pip install trialog-runs"):
        _ = trialog.runs_frame


def test_a_command_of_a_missing_distribution_names_what_to_install(monkeypatch, capsys):
    import trialog.cli

    monkeypatch.setitem(trialog.cli.PLUGIN_COMMANDS, "frobnicate", "trialog-frob")
    assert trialog.cli.main(["frobnicate", "x"]) == 1
    assert "`trialog frobnicate` comes with trialog-frob, which is not installed" in capsys.readouterr().err
    assert trialog.cli.main(["plugins", "list", "--json"]) == 0  # an installed command still runs
