"""Provenance of a run: package versions, git state, the sources it ran, and the initial run.json.

Sources and git state come from where the user's code lives (:func:`code_roots`): the entry script's folder,
the folders a config's modules are imported from (:func:`code_folder`, which ``trialog run`` enters), then
the working directory — so a run started from anywhere records the same. :func:`provenance_gaps` says
what could not be recorded, and why, for the one warning a run gives.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import platform
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from trialog.fileio import disk_full_error, fsync_dir, is_disk_full
from trialog.run.liveness import now_iso, process_start_ticks

__all__ = [
    "code_folder",
    "code_roots",
    "collect_metadata",
    "entry_script",
    "git_info",
    "local_sources",
    "pack_sources",
    "package_versions",
]

_GIT_TIMEOUT = 3.0
_CODE_FOLDERS: list[Path] = []


@contextlib.contextmanager
def code_folder(folder: str | os.PathLike[str]) -> Any:
    """While active, runs started in this process take sources and git state from ``folder`` too.

    ``trialog run`` enters the config's folder (where ``"model:Net"`` is imported from), so a run started
    from another working directory still records that code and its repository.
    """
    path = Path(folder).resolve()
    _CODE_FOLDERS.append(path)
    try:
        yield path
    finally:
        with contextlib.suppress(ValueError):
            _CODE_FOLDERS.remove(path)


def code_roots() -> list[Path]:
    """Where the user's code lives, in order: the entry script's folder, :func:`code_folder` folders, cwd."""
    script = entry_script()
    roots = [script.parent] if script is not None else []
    roots += reversed(_CODE_FOLDERS)
    roots.append(Path.cwd().resolve())
    return list(dict.fromkeys(roots))


def provenance_gaps(sources: Sequence[str], git: Any, roots: Sequence[Path]) -> str | None:
    """What a run could not record and why (one sentence for one warning), or None when both were recorded."""
    where = ", ".join(str(r) for r in roots)
    gaps = []
    if not sources:
        gaps.append(
            f"save/sources.zip is empty: no entry script and no imported module of yours lies under {where} "
            "(start the run with `python script.py`, or from the code's folder)"
        )
    if not (isinstance(git, dict) and git.get("commit")):
        why = (
            "git is not installed"
            if _git(["--version"], roots[0] if roots else ".") is None
            else (f"none of {where} is inside a git repository")
        )
        gaps.append(f"run.json has no git state: {why}")
    if not gaps:
        return None
    return "; ".join(gaps)


@functools.lru_cache(maxsize=1)
def _package_versions() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    # Cached: scanning every distribution's metadata costs tens of milliseconds, and a process rarely
    # installs packages between two runs.
    from importlib import metadata

    installed: dict[str, str] = {}
    trialog: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        installed[name] = dist.version
        if name == "trialog" or any(ep.group.startswith("trialog.") for ep in dist.entry_points):
            trialog[name] = dist.version
    return tuple(sorted(installed.items(), key=lambda kv: kv[0].lower())), tuple(sorted(trialog.items()))


def package_versions() -> tuple[dict[str, str], dict[str, str]]:
    """(all installed distributions -> version, trialog and its plugins -> version)."""
    installed, trialog = _package_versions()
    return dict(installed), dict(trialog)


def _git(args: Sequence[str], cwd: str | os.PathLike[str]) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


def git_info(cwd: str | os.PathLike[str]) -> tuple[dict[str, Any], str | None]:
    """({"commit", "branch", "dirty"} of the repository around ``cwd``, the ``git diff HEAD`` text).

    Every field is None when git is missing, slow or ``cwd`` is not in a repository.
    """
    info: dict[str, Any] = {"commit": None, "branch": None, "dirty": None}
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return info, None
    info["commit"] = commit.strip()
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    info["branch"] = branch.strip() if branch else None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    info["dirty"] = bool(status.strip()) if status is not None else None
    diff = _git(["diff", "HEAD"], cwd) if info["dirty"] else None
    return info, diff


def entry_script() -> Path | None:
    """The script ``python script.py`` runs, or None (interactive, ``-c``, or an installed console script)."""
    main = sys.modules.get("__main__")
    filename = getattr(main, "__file__", None)
    if not filename:
        return None
    spec = getattr(main, "__spec__", None)
    top = (getattr(spec, "name", None) or "").split(".")[0]
    if top == "trialog" or top.startswith("trialog_"):
        return None  # python -m trialog_sweep.sweep_local (a sweep's trial): trialog's code, not the user's
    path = Path(filename).resolve()
    if not path.is_file() or _is_installed(path) or path.is_relative_to(Path(__file__).resolve().parent):
        return None  # python -m trialog: trialog's own __main__ is not the user's code
    return path


def _is_installed(path: Path | str) -> bool:
    text = str(path)
    if "site-packages" in text or "dist-packages" in text:
        return True
    return text in _prefixes() or text.startswith(tuple(p + os.sep for p in _prefixes()))


@functools.lru_cache(maxsize=1)
def _prefixes() -> tuple[str, ...]:
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return tuple(sorted(p.rstrip(os.sep) for p in found if p))


def local_sources(roots: Iterable[Path], script: Path | None = None) -> dict[str, Path]:
    """Source files of imported modules under ``roots`` (not installed packages), by archive name."""
    roots = [r.resolve() for r in roots]
    files: dict[str, Path] = {}

    def add(path: Path) -> None:
        root = next((r for r in roots if path.is_relative_to(r)), None)
        if root is not None:
            files.setdefault(path.relative_to(root).as_posix(), path)

    if script is not None:
        add(script)
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not filename.endswith(".py"):
            continue
        if os.path.isabs(filename) and _is_installed(filename):
            continue  # an installed package's module, told without resolving it (torch has ~2000 of them)
        path = Path(filename).resolve()  # a relative __file__ is relative to the working directory
        if _is_installed(path) or not path.is_file():
            continue
        add(path)
    return dict(sorted(files.items()))


def pack_sources(zip_path: str | os.PathLike[str], roots: Iterable[Path] | None = None) -> list[str]:
    """Zip the entry script and the local modules it imported (trixi's SourcePacker); return the names.

    ``roots`` default to :func:`code_roots` (the entry script's folder, the folders of the modules a config
    names, the working directory). Files in site-packages or the Python installation are left out.
    """
    script = entry_script()
    if roots is None:
        roots = code_roots()
    files = local_sources(roots, script)
    zip_path = Path(zip_path)
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    try:
        with open(tmp, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, path in files.items():
                    # a module deleted since import is not worth failing a run
                    with contextlib.suppress(OSError):
                        zf.write(path, name)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, zip_path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if is_disk_full(exc):
            raise disk_full_error(zip_path, exc) from exc
        raise
    fsync_dir(zip_path.parent)
    return list(files)


def collect_metadata(
    name: str,
    *,
    seed: int | None = None,
    argv: Sequence[str] | None = None,
    heartbeat_interval: float | None = None,
    git_dir: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The initial run.json content (status "running") and the git diff text (None when clean / no git)."""
    installed, trialog_versions = package_versions()
    if git_dir is not None:
        git, diff = git_info(git_dir)
    else:
        git, diff = {"commit": None, "branch": None, "dirty": None}, None
        for root in code_roots():  # the first of the code's folders that is inside a repository
            git, diff = git_info(root)
            if git["commit"]:
                break
    pid = os.getpid()
    start = now_iso()
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry inside some containers
        user = None
    meta: dict[str, Any] = {
        "name": name,
        "status": "running",
        "start": start,
        "end": None,
        "heartbeat": start,
        "heartbeat_interval": heartbeat_interval,
        "host": socket.gethostname(),
        "user": user,
        "pid": pid,
        "pid_start_ticks": process_start_ticks(pid),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "cwd": os.getcwd(),
        "argv": list(sys.argv if argv is None else argv),
        "seed": seed,
        "epoch": None,
        "resumed_from": None,
        "git": git,
        "trialog": trialog_versions,
        "packages": installed,
        "result_keys": "series",  # result/results.json holds one entry per (name, tag): trialog.results.summaries
    }
    return meta, diff
