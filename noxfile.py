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
PLUGINS = ("file", "tensorboard", "visdom", "notify", "slack", "telegram", "xmen", "torch", "trixi", "runs")
# the library first: ALL installs trialog-figures before the plugins that draw with it
PLUGINS = ("figures", *PLUGINS)
#: Plugins that draw with trialog-figures (a library from this checkout, on no index): every session that
#: installs one installs ./plugins/figures before it, so pip finds trialog-figures==0.1.0 locally.
DRAWING = ("file", "tensorboard", "visdom", "notify", "slack", "telegram", "torch", "trixi", "browser")
# trialog-trixi last: its test extra asks for trialog-browser==0.1.0, and pip (25.x) resolves that against
# the local ./plugins/browser only when the browser's path comes first on the command line.
ALL = [
    "./core[test]",
    *(f"./plugins/{p}[test]" for p in (*PLUGINS, "browser", "sweep", "ray", "submitit") if p != "trixi"),
    "./plugins/trixi[test]",
]

nox.options.sessions = ["lint", "core", *PLUGINS, "browser", "sweep", "ray", "submitit", "integration"]
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
        # The torch plugin's end-to-end test runs the digits main job, which logs to the file logger;
        # trialog-trixi maps trixi's names onto trialog-torch, trialog-file and (its test extra) the
        # tensorboard, visdom, slack and telegram loggers and trialog-browser; slack and telegram build
        # on trialog-notify (from this checkout, not a registry).
        extra = {
            "torch": ["./plugins/file", "./plugins/xmen"],  # TorchMonitor builds on trialog-xmen's Monitor
            "trixi": [
                "./plugins/file",
                "./plugins/torch",
                "./plugins/notify",
                "./plugins/runs",  # before the browser, which depends on it
                *(f"./plugins/{p}" for p in ("tensorboard", "visdom", "slack", "telegram", "browser")),
            ],
            "slack": ["./plugins/notify"],
            "telegram": ["./plugins/notify"],
        }.get(plugin, [])
        if plugin in DRAWING:
            extra = ["./plugins/figures", *extra]
        _install(session, "./core", *extra, f"./plugins/{plugin}[test]", torch=plugin in ("torch", "trixi"))
        if plugin == "torch":
            session.env["TRIALOG_TORCHRUN_TEST"] = (
                "1"  # also train under a real `torchrun --nproc_per_node 2`
            )
        _pytest(session, f"plugins/{plugin}/tests")

    run.__doc__ = f"trialog-{plugin} with the core."


for _plugin in PLUGINS:
    _plugin_session(_plugin)


@nox.session
def sweep(session: nox.Session) -> None:
    """trialog-sweep: `trialog sweep`, the local sweeper; digits trials through trialog-torch's run_config hook."""
    _install(
        session,
        "./core",
        "./plugins/figures",
        "./plugins/file",
        "./plugins/torch",
        "./plugins/sweep[test]",
        torch=True,
    )
    _pytest(session, "plugins/sweep/tests")


@nox.session
def ray(session: nox.Session) -> None:
    """trialog-ray on one local Ray instance (started once per test module), trials of trialog-torch."""
    # trialog-runs: the tests list the trials with `trialog runs ls`
    _install(
        session,
        "./core",
        "./plugins/figures",
        "./plugins/file",
        "./plugins/torch",
        "./plugins/runs",
        "./plugins/sweep",
        "./plugins/ray[test]",
        torch=True,
    )
    _pytest(session, "plugins/ray/tests")


@nox.session
def submitit(session: nox.Session) -> None:
    """trialog-submitit on submitit's local executor, and on a real single-node SLURM its test fixture starts.

    The fixture runs munged, slurmctld and slurmd (Debian's `munge` and `slurm-wlm`) as root from a temporary
    folder and stops them after; without them (or root) the SLURM tests skip, saying why.
    """
    _ensure_debian(session, ("slurm-wlm", "munge"), ("slurmctld", "slurmd", "munged"), "SLURM")
    _install(session, "./core", "./plugins/sweep", "./plugins/submitit[test]")
    _pytest(session, "plugins/submitit/tests")


@nox.session
def browser(session: nox.Session) -> None:
    """trialog-browser with the core, its tests in a real headless Chromium (Debian's chromium + chromedriver)."""
    _ensure_chromium(session)
    # the browser builds on trialog-runs (from this checkout, not a registry)
    _install(session, "./core", "./plugins/figures", "./plugins/runs", "./plugins/browser[test]")
    _pytest(session, "plugins/browser/tests")


def _ensure_chromium(session: nox.Session) -> None:
    _ensure_debian(session, ("chromium", "chromium-driver"), ("chromium", "/usr/bin/chromedriver"), "browser")


def _ensure_debian(
    session: nox.Session, packages: tuple[str, ...], needed: tuple[str, ...], tests: str
) -> None:
    """Install Debian ``packages`` unless every program or path in ``needed`` is there (as root, with apt-get).

    The tests that need them skip, saying why, where they cannot be installed.
    """
    import os
    import shutil

    if all(shutil.which(n) or os.path.exists(n) for n in needed):
        return
    if not shutil.which("apt-get") or os.geteuid() != 0:
        session.warn(
            f"{', '.join(packages)} missing and not installable here (needs apt-get as root): {tests} tests skip"
        )
        return
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    try:
        session.run("apt-get", "update", "-qq", external=True, env=env)
        session.run("apt-get", "install", "-y", "-qq", *packages, external=True, env=env)
    except nox.command.CommandFailed as exc:
        session.warn(f"apt-get could not install {', '.join(packages)} ({exc}): {tests} tests skip")


@nox.session
def integration(session: nox.Session) -> None:
    """Cross-package tests with every distribution installed."""
    _install(session, *ALL, "setuptools", torch=True)
    # the core's own tests again, now with matplotlib, torch and the file logger present
    _pytest(session, "tests", "core/tests")


#: Every import package whose public API the type checker covers (mypy.ini maps them to their src folders).
TYPED_PACKAGES = ("trialog", "trialog_file", "trialog_tensorboard", "trialog_visdom", "trialog_notify",
                  "trialog_slack", "trialog_telegram", "trialog_torch", "trialog_browser", "trialog_sweep", "trialog_ray", "trialog_submitit", "trixi",
                  "trialog_trixi", "trialog_xmen", "trialog_runs", "trialog_figures")  # fmt: skip


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format) and mypy over the public API of the core and every plugin (both pinned)."""
    # pinned: a new release must not turn main red; torch and the backends stay uninstalled (typed as Any)
    _install(session, "ruff==0.17.5", "mypy==2.4.1", "numpy", "pluggy", "importlib-metadata")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", *(f"-p={p}" for p in TYPED_PACKAGES))


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: each prints its figures and the ratio to its baseline, measured in the same run."""
    _install(session, *ALL, "pandas", "optuna", torch=True)  # pandas, optuna: bench baselines
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
        "./plugins/figures",
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
        *(ROOT / "plugins" / p / "pyproject.toml" for p in (*PLUGINS, "browser", "sweep", "ray", "submitit")),
    ]
    for path in files:
        text = path.read_text()
        text = re.sub(r'(?m)^version = "[^"]+"', f'version = "{new}"', text, count=1)
        text = re.sub(r'"(trialog(?:-\w+)?(?:\[[\w,]+\])?)==[^"]+"', rf'"\1=={new}"', text)
        path.write_text(text)
    version_py = ROOT / "core" / "src" / "trialog" / "_version.py"
    version_py.write_text(re.sub(r'__version__ = "[^"]+"', f'__version__ = "{new}"', version_py.read_text()))
    session.log(f"all distributions now at {new}")
