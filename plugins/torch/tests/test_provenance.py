"""`trialog run` of a config from outside the code's folder records that code and its git state (issue 18, 7)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

DIGITS = Path(__file__).resolve().parents[3] / "examples" / "digits"
TRIALOG = Path(sys.executable).with_name("trialog")  # the console script: an installed entry point
HANG = 600  # bounds a hang only

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_trialog_run_from_elsewhere_records_the_configs_code_and_repository(tmp_path: Path) -> None:
    code = tmp_path / "project" / "digits"
    code.mkdir(parents=True)
    for name in ("config.json", "model.py", "data.py"):
        shutil.copy(DIGITS / name, code / name)
    repo = tmp_path / "project"
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "the code")
    head = _git(repo, "rev-parse", "HEAD")
    elsewhere = tmp_path / "elsewhere"  # not inside any repository, holds no code
    elsewhere.mkdir()
    done = subprocess.run(
        [
            str(TRIALOG),
            "run",
            "../project/digits/config.json",
            "--set",
            "trainer.epochs=1",
            "--set",
            "trainer.optimization.scheduler.params.T_max=1",
            "--base-dir",
            str(tmp_path / "runs"),
            "--quiet",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert done.returncode == 0, done.stderr
    assert "provenance" not in done.stderr, done.stderr  # everything was recorded: no warning
    (run_dir,) = (tmp_path / "runs").iterdir()
    with zipfile.ZipFile(run_dir / "save" / "sources.zip") as zf:
        assert {"model.py", "data.py"} <= set(zf.namelist())
    git = json.loads((run_dir / "run.json").read_text())["git"]
    assert git["commit"] == head and git["dirty"] is False


def test_one_warning_says_why_nothing_was_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trialog import Experiment
    from trialog.errors import TrialogWarning

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("trialog.run.provenance.entry_script", lambda: None)
    with pytest.warns(TrialogWarning, match="provenance") as caught:
        exp = Experiment(config={}, name="bare", base_dir=tmp_path / "runs", loggers={})
    exp.close()
    (warning,) = [w for w in caught if "provenance" in str(w.message)]
    text = str(warning.message)
    assert "sources.zip is empty" in text and "git" in text and str(tmp_path) in text
