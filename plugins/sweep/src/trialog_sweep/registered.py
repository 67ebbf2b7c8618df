"""Registered experiments: a sweep's trials written down now, run later on demand (xmen's ExperimentManager).

``trialog sweep CONFIG --register`` creates the sweep folder as usual and, for every trial, a run folder
whose run.json has status ``registered`` (its config in ``config/config.json``), so ``trialog runs ls`` lists
it (``--status registered`` selects them); sweep.json gives the trial status ``registered`` as well.
``trialog sweep run SWEEP_DIR [--only PATTERN|IDS] [--parallel N] [--sweeper NAME]`` runs the chosen trials
(all registered ones without ``--only``) with the sweeper; the others stay registered. ``--only`` takes
comma-separated trial ids or glob patterns matched against the trial id and its run name (``t0001,t0003``,
``'t000[0-2]'``, ``'*lr*'``). A registered run starts in its own folder: the Experiment sees status
``registered`` and starts it fresh there (``registered`` keeps when it was registered).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fnmatch
from pathlib import Path
from typing import Any

from trialog.errors import ConfigError

REGISTERED = "registered"


def register_trials(sweep: Any) -> list[Path]:
    """Give each trial of ``sweep`` (a :class:`trialog_sweep.sweep.Sweep`) a run folder with status ``registered``."""
    from trialog.api import create_run_folder, write_json

    folders = []
    for trial in sweep.trials:
        name = sweep.trial_name(trial["id"])
        folder = create_run_folder(sweep.folder, name)
        config = sweep.spec.trial_config(trial["params"], name)
        write_json(folder / "config" / "config.json", config)
        meta = {
            "name": name,
            "status": REGISTERED,
            "registered": _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="microseconds"),
            "start": None,
            "end": None,
            "purpose": config.get("purpose"),
            "sweep": {"folder": str(sweep.folder), "trial": trial["id"], "params": trial["params"]},
        }
        write_json(folder / "run.json", meta)
        sweep.update(trial["id"], status=REGISTERED, run=folder.name)
        folders.append(folder)
    return folders


def choose_trials(trials: list[dict[str, Any]], only: str | None, name_of: Any) -> list[str]:
    """The ids of the registered trials ``only`` names (all registered ones when None); ConfigError if none."""
    registered = [t for t in trials if t.get("status") == REGISTERED]
    if only is None:
        chosen = registered
    else:
        tokens = [tok.strip() for tok in only.split(",") if tok.strip()]
        chosen = [
            t
            for t in registered
            if any(
                fnmatch.fnmatchcase(t["id"], tok) or fnmatch.fnmatchcase(name_of(t["id"]), tok)
                for tok in tokens
            )
        ]
    if not chosen:
        ids = ", ".join(t["id"] for t in registered) or "none"
        raise ConfigError(f"--only {only!r} chooses no registered trial; registered: {ids}")
    return [t["id"] for t in chosen]


def registered_command(args: argparse.Namespace) -> int:
    """``trialog sweep CONFIG --register`` and ``trialog sweep run SWEEP_DIR [--only ...]``."""
    from .sweep import describe_best, format_table, load_spec, open_sweep, read_sweep, sweeper_class
    from .sweep_console import talking

    target = list(args.target)
    if target[:1] == ["run"]:
        if len(target) != 2:
            raise ConfigError("usage: trialog sweep run SWEEP_DIR [--only PATTERN|IDS] [--parallel N]")
        name = args.sweeper or read_sweep(target[1]).get("sweeper") or "local"
        sweeper = sweeper_class(name)(parallel=args.parallel, address=args.address)
        sweep = open_sweep(None, name, resume=target[1])
        for trial_id in choose_trials(sweep.trials, args.only, sweep.trial_name):
            sweep.update(trial_id, status="pending")
        with talking(quiet=getattr(args, "quiet", False)):
            sweeper.run(sweep)
        data = read_sweep(sweep.folder)
        print(format_table(data))
        print(describe_best(data))
        return 0 if all(t["status"] in ("finished", REGISTERED) for t in data["trials"]) else 1
    if len(target) != 1:
        raise ConfigError("usage: trialog sweep CONFIG --register [--base-dir DIR]")
    spec = load_spec(target[0])  # validated before anything is written
    sweep = open_sweep(target[0], args.sweeper or "local", base_dir=args.base_dir, spec=spec)
    folders = register_trials(sweep)
    print(
        f"sweep folder: {sweep.folder}\nregistered {len(folders)} trial(s); run them with: trialog sweep run "
        f"{sweep.folder} [--only IDS]"
    )
    return 0


def add_options(parser: argparse.ArgumentParser) -> None:
    """``trialog sweep``'s options for registered trials."""
    parser.add_argument(
        "--register", action="store_true", help="write every trial as a registered run; run none"
    )
    parser.add_argument("--only", metavar="PATTERN|IDS", help="sweep run: the registered trials to run")


__all__ = ["REGISTERED", "add_options", "choose_trials", "register_trials", "registered_command"]
