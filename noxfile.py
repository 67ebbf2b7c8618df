"""Sessions: each distribution's tests alone (ray too), integration, lint, bench, the digits main job, bump.

`nox` runs the test sessions (the README's test command); `nox -s digits` runs the main job.
"""

from __future__ import annotations

import pathlib
import re

import nox

ROOT = pathlib.Path(__file__).parent
CONSTRAINTS = str(ROOT / ".ci" / "constraints.txt")
TORCH = "torch==2.13.0"  # the local CPU wheel; installed before anything that depends on torch
PLUGINS = ("file", "tensorboard", "visdom", "slack", "telegram", "torch")
ALL = ["./core[test]", *(f"./plugins/{p}[test]" for p in (*PLUGINS, "ray"))]

nox.options.sessions = ["lint", "core", *PLUGINS, "ray", "integration"]
nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True


def _install(session: nox.Session, *packages: str, torch: bool = False) -> None:
    session.env["PIP_CONSTRAINT"] = CONSTRAINTS
    if torch:
        session.install(TORCH)
    session.install(*packages)


def _pytest(session: nox.Session, *paths: str) -> None:
    session.run("pytest", "-q", "-p", "no:cacheprovider", *paths, *session.posargs)


@nox.session
def core(session: nox.Session) -> None:
    """The core alone: no plugin installed."""
    _install(session, "./core[test]")
    _pytest(session, "core/tests")


def _plugin_session(plugin: str) -> None:
    @nox.session(name=plugin)
    def run(session: nox.Session) -> None:
        # The torch plugin's end-to-end test runs the digits main job, which logs to the file logger.
        extra = ["./plugins/file"] if plugin == "torch" else []
        _install(session, "./core", *extra, f"./plugins/{plugin}[test]", torch=plugin == "torch")
        if plugin == "torch":
            session.env["TRIALOG_TORCHRUN_TEST"] = (
                "1"  # also train under a real `torchrun --nproc_per_node 2`
            )
        _pytest(session, f"plugins/{plugin}/tests")

    run.__doc__ = f"trialog-{plugin} with the core."


for _plugin in PLUGINS:
    _plugin_session(_plugin)


@nox.session
def ray(session: nox.Session) -> None:
    """trialog-ray on one local Ray instance (started once per test module), trials of trialog-torch."""
    _install(session, "./core", "./plugins/file", "./plugins/torch", "./plugins/ray[test]", torch=True)
    _pytest(session, "plugins/ray/tests")


@nox.session
def integration(session: nox.Session) -> None:
    """Cross-package tests with every distribution installed."""
    _install(session, *ALL, "setuptools", torch=True)
    # the core's own tests again, now with matplotlib, torch and the file logger present
    _pytest(session, "tests", "core/tests")


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.5")  # pinned: a new release must not turn main red
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: each prints its figures and the ratio to its baseline, measured in the same run."""
    _install(session, *ALL, torch=True)
    scripts = sorted(ROOT.glob("benchmarks/bench_*.py"))
    wanted = set(session.posargs)
    for script in scripts:
        if not wanted or script.stem.removeprefix("bench_") in wanted:
            session.run("python", str(script.relative_to(ROOT)))


@nox.session
def digits(session: nox.Session) -> None:
    """The main job: train the digits classifier through `trialog run`."""
    _install(
        session,
        "./core",
        "./plugins/file",
        "./plugins/tensorboard",
        "./plugins/torch",
        "scikit-learn",
        torch=True,
    )
    session.run("trialog", "run", "examples/digits/config.json", *session.posargs)


@nox.session(venv_backend="none")
def bump(session: nox.Session) -> None:
    """Move every distribution to one new version: `nox -s bump -- 0.2.0`."""
    if len(session.posargs) != 1 or not re.fullmatch(r"\d+\.\d+\.\d+(\w+\d*)?", session.posargs[0]):
        session.error("usage: nox -s bump -- X.Y.Z")
    new = session.posargs[0]
    files = [
        ROOT / "core" / "pyproject.toml",
        *(ROOT / "plugins" / p / "pyproject.toml" for p in (*PLUGINS, "ray")),
    ]
    for path in files:
        text = path.read_text()
        text = re.sub(r'(?m)^version = "[^"]+"', f'version = "{new}"', text, count=1)
        text = re.sub(r'"trialog==[^"]+"', f'"trialog=={new}"', text)
        path.write_text(text)
    version_py = ROOT / "core" / "src" / "trialog" / "_version.py"
    version_py.write_text(re.sub(r'__version__ = "[^"]+"', f'__version__ = "{new}"', version_py.read_text()))
    session.log(f"all distributions now at {new}")
