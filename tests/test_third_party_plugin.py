"""Third-party plugins, built and pip-installed into a fresh virtual environment, are found and used: the
example plugin, and one written as 0.1.0 allowed (hook parameters with defaults)."""

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
#: A logger written the obvious way, as 0.1.0 loaded it: spec parameters with defaults of their own.
ECHO_PLUGIN = {
    "pyproject.toml": """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "trialog-echo"
version = "0.1.0"
dependencies = ["trialog>=0.1"]

[project.entry-points."trialog.loggers"]
echo = "trialog_echo:EchoLogger"
""",
    "trialog_echo.py": """
import json
from trialog import hookimpl

class EchoLogger:
    def __init__(self, run_dir=None):
        self.file = open(f"{run_dir}/echo.jsonl", "a")

    @hookimpl
    def show_value(self, value, name, counter=None, tag=None):
        self.file.write(json.dumps([name, tag, counter, value]) + "\\n")

    @hookimpl
    def show_text(self, text, name=None, title="unset"):
        self.file.write(json.dumps([name, title, text]) + "\\n")

    @hookimpl
    def on_epoch_end(self, epoch=None):
        self.file.write(json.dumps(["epoch", epoch]) + "\\n")

    @hookimpl
    def close(self):
        self.file.close()
""",
}


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """A venv that sees this environment's packages (through a .pth) plus the example plugin installed by pip."""
    root = tmp_path_factory.mktemp("thirdparty")
    source = root / "trialog-jsonl"
    shutil.copytree(EXAMPLE, source)
    echo = root / "trialog-echo"
    echo.mkdir()
    for name, text in ECHO_PLUGIN.items():
        (echo / name).write_text(text.lstrip())
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
            str(echo),
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
from trialog.loggers.dispatch import CombinedLogger
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
    from trialog.hooks import plugins

    plugins.refresh()
    assert "jsonl" not in plugins.names("trialog.loggers")
    assert "jsonl" in run_py(
        plugin_env, "from trialog.hooks import plugins; print(plugins.names('trialog.loggers'))"
    )


def test_disabling_the_plugin_blocks_it(plugin_env, tmp_path):
    code = f"""
from trialog.loggers.dispatch import CombinedLogger
from trialog.errors import PluginDisabledError
try:
    CombinedLogger({{"j": "jsonl"}}, run_dir={str(tmp_path)!r})
except PluginDisabledError as exc:
    print("blocked:", exc)
"""
    out = run_py(plugin_env, code, TRIALOG_DISABLE_PLUGINS="trialog-jsonl")
    assert out.startswith("blocked:") and "trialog-jsonl 1.0.0" in out


def test_a_plugin_with_defaults_in_its_hooks_gets_every_parameter_it_names(plugin_env, tmp_path):
    """0.1.0's contract: ``def show_value(self, value, name, counter=None, tag=None)`` loads, and the
    counters and tags routed through an Experiment and a CombinedLogger reach it."""
    code = f"""
from trialog import Experiment
from trialog.loggers.dispatch import CombinedLogger

class Toy(Experiment):
    def train(self, epoch):
        self.add_result(epoch / 10, "loss", counter=100 + epoch, tag="train")

exp = Toy(name="toy", n_epochs=2, base_dir={str(tmp_path / "runs")!r}, loggers={{"e": "echo"}}, quiet=True)
exp.run()
print(exp.run_dir)
clog = CombinedLogger({{"e": {{"type": "echo", "every": 2}}}}, run_dir={str(tmp_path)!r})
for i in range(3):
    clog.show_value(i, "acc", i * 10, tag="val")
clog.show_text("done", "notes")
clog.close()
"""
    run_dir = Path(run_py(plugin_env, code).strip().splitlines()[-1])
    lines = [json.loads(x) for x in (run_dir / "echo.jsonl").read_text().splitlines()]
    assert ["loss", "train", 100, 0.0] in lines and ["loss", "train", 101, 0.1] in lines
    assert ["epoch", 0] in lines and ["epoch", 1] in lines
    lines = [json.loads(x) for x in (tmp_path / "echo.jsonl").read_text().splitlines()]
    assert lines == [["acc", "val", 0, 0], ["acc", "val", 20, 2], ["notes", None, "done"]]
