"""The README's Install block and its "Use" example, run as written in a fresh virtual environment.

The blocks are read from README.md itself, so the README cannot drift from what works: every line of
the Install block runs verbatim (with the fresh environment's ``python3`` and ``trialog`` first on PATH,
from the repository root), then the Python example runs in an empty folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HANG = 1800  # bounds only a hang: pip on a busy machine needs far less


def _section_blocks(section: str, language: str) -> list[str]:
    text = README.read_text()
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, f"README.md has no '## {section}' section"
    return re.findall(rf"^```{language}\n(.*?)^```", match.group(1), re.S | re.M)


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    """A new venv (its own pip, nothing else) with the README's Install block run in it, verbatim."""
    env_dir = tmp_path_factory.mktemp("readme") / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    env = {
        **os.environ,
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(env_dir),
    }
    for name in ("PYTHONPATH", "PIP_CONSTRAINT", "PYTHONHOME"):
        env.pop(name, None)
    (install,) = _section_blocks("Install", "bash")
    outputs = []
    for line in install.splitlines():
        command = line.split("  #")[0].strip()
        if not command:
            continue
        proc = subprocess.run(
            ["bash", "-ec", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG
        )
        assert proc.returncode == 0, f"README Install line failed: {command}\n{proc.stdout}\n{proc.stderr}"
        outputs.append((command, proc.stdout))
    return env_dir, env, outputs


def test_the_install_block_installs_what_it_says(fresh_env):
    _, _, outputs = fresh_env
    listing = dict(outputs)["trialog plugins list"]
    for name, group in [
        ("file", "trialog.loggers"),
        ("tensorboard", "trialog.loggers"),
        ("torch", "trialog.plugins"),
    ]:
        assert re.search(rf"^{name}\s+{re.escape(group)}\s", listing, re.M), listing


def test_the_use_example_runs_and_talks(fresh_env, tmp_path):
    env_dir, env, _ = fresh_env
    example = _section_blocks("Use", "python")[0]  # the first: the example the section opens with
    proc = subprocess.run(
        [env_dir / "bin" / "python", "-c", example],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    lines = [line for line in proc.stderr.splitlines() if line.startswith("trialog: ")]
    assert lines[0] == f"trialog: run 'toy' -> {Path('runs') / run_dir.name}"
    assert [line.split()[1:3] for line in lines[1:6]] == [["epoch", f"{e}/5"] for e in range(1, 6)]
    assert lines[6].startswith("trialog: run 'toy' finished in ")
    assert (run_dir / "result" / "results.jsonl").stat().st_size > 0
    assert list((run_dir / "save" / "tensorboard").rglob("events.out.tfevents.*"))
    assert (run_dir / "plot").is_dir()
