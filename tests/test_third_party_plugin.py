"""A third-party plugin, built and pip-installed into a fresh virtual environment, is found and used."""

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugin"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """A venv that sees this environment's packages (through a .pth) plus the example plugin installed by pip."""
    root = tmp_path_factory.mktemp("thirdparty")
    source = root / "trialog-jsonl"
    shutil.copytree(EXAMPLE, source)
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    env_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    # addsitedir (not a bare path) so the outer environment's own .pth files, editable installs among them, apply
    lines = [f"import site; site.addsitedir({d!r})" for d in dict.fromkeys(outer)]
    Path(env_site, "outer-env.pth").write_text("\n".join(lines) + "\n")
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return python


def run_py(python, code, **env):
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_plugins_list_shows_the_installed_plugin(plugin_env):
    out = run_py(plugin_env, "from trialog.cli import main; main(['plugins', 'list', '--json'])")
    rows = [r for r in json.loads(out) if r["name"] == "jsonl"]
    assert rows == [
        {
            "name": "jsonl",
            "group": "trialog.loggers",
            "target": "trialog_jsonl:JsonLinesLogger",
            "distribution": "trialog-jsonl",
            "version": "1.0.0",
            "status": "available",
            "error": None,
        }
    ]


def test_a_config_naming_the_plugin_routes_values_to_it(plugin_env, tmp_path):
    code = f"""
from trialog.dispatch import CombinedLogger
clog = CombinedLogger({{"j": {{"type": "jsonl", "every": 2}}}}, run_dir={str(tmp_path)!r})
for i in range(5):
    clog.show_value(i / 10, "loss", counter=i, tag="train")
clog.show_text("done", "notes")
clog.close()
"""
    run_py(plugin_env, code)
    lines = [json.loads(x) for x in (tmp_path / "log" / "values.jsonl").read_text().splitlines()]
    assert lines == [
        {"name": "loss", "tag": "train", "counter": 0, "value": 0.0},
        {"name": "loss", "tag": "train", "counter": 2, "value": 0.2},
        {"name": "loss", "tag": "train", "counter": 4, "value": 0.4},
        {"name": "notes", "text": "done"},
    ]


def test_the_plugin_is_installed_only_in_its_environment(plugin_env):
    from trialog import plugins

    plugins.refresh()
    assert "jsonl" not in plugins.names("trialog.loggers")
    assert "jsonl" in run_py(
        plugin_env, "from trialog import plugins; print(plugins.names('trialog.loggers'))"
    )


def test_disabling_the_plugin_blocks_it(plugin_env, tmp_path):
    code = f"""
from trialog.dispatch import CombinedLogger
from trialog.errors import PluginDisabledError
try:
    CombinedLogger({{"j": "jsonl"}}, run_dir={str(tmp_path)!r})
except PluginDisabledError as exc:
    print("blocked:", exc)
"""
    out = run_py(plugin_env, code, TRIALOG_DISABLE_PLUGINS="trialog-jsonl")
    assert out.startswith("blocked:") and "trialog-jsonl 1.0.0" in out
