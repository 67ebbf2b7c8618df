"""All distributions move in lockstep: one version, pinned by every plugin (`nox -s bump -- X.Y.Z` moves them)."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import trialog

ROOT = Path(__file__).resolve().parents[1]
PYPROJECTS = [ROOT / "core" / "pyproject.toml", *sorted((ROOT / "plugins").glob("*/pyproject.toml"))]
#: Distributions that are libraries for other plugins, not plugins: they register no entry point.
LIBRARIES = {"trialog-notify", "trialog-trixi", "trialog-figures"}  # libraries of names, nothing to register


def load(path):
    return tomllib.loads(path.read_text())["project"]


def test_every_distribution_has_the_core_version():
    versions = {load(p)["name"]: load(p)["version"] for p in PYPROJECTS}
    assert len(versions) == len(PYPROJECTS) >= 8
    assert set(versions.values()) == {trialog.__version__}, versions


def test_plugins_pin_the_core_at_the_same_version():
    for path in PYPROJECTS[1:]:
        deps = load(path)["dependencies"]
        core = [d for d in deps if re.match(r"trialog(\[|==|$)", d)]
        assert core == [f"trialog=={trialog.__version__}"], path
        siblings = [d for d in deps if d.startswith("trialog-")]
        assert all(
            re.fullmatch(rf"trialog-\w+(\[[\w,]+\])?=={re.escape(trialog.__version__)}", d) for d in siblings
        ), path


def test_installed_metadata_agrees():
    for path in PYPROJECTS:
        name = load(path)["name"]
        assert metadata.version(name) == trialog.__version__, name


def test_each_plugin_registers_itself_through_entry_points():
    for path in PYPROJECTS[1:]:
        if load(path)["name"] in LIBRARIES:
            assert "entry-points" not in tomllib.loads(path.read_text())["project"], path
            continue
        groups = tomllib.loads(path.read_text())["project"]["entry-points"]
        assert set(groups) <= {
            "trialog.loggers",
            "trialog.trainers",
            "trialog.checkpoints",
            "trialog.plugins",
            "trialog.sweepers",
            "trialog.exports",
        }
        assert groups, path
