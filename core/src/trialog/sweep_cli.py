"""``trialog sweep CONFIG`` / ``trialog sweep --resume SWEEP_DIR`` / ``trialog sweep show SWEEP_DIR``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .errors import ConfigError

GROUP = "trialog.sweepers"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a hyperparameter sweep (every trial a trialog run), or show one",
        description=(
            "Run the trials a config's 'sweep' block describes with a sweeper plugin (local worker "
            "processes, or a Ray cluster with trialog-ray), or print the trials of a sweep folder."
        ),
        epilog=(
            "examples:\n"
            "  trialog sweep examples/digits/sweep.json --sweeper local --parallel 2\n"
            "  trialog sweep examples/digits/sweep.json --sweeper ray --address 10.0.0.1:6379\n"
            "  trialog sweep --resume runs/20261201-101500_digits-sweep\n"
            "  trialog sweep show runs/20261201-101500_digits-sweep [--json]\n"
            "  trialog sweep examples/digits/sweep.json --register   # trials registered, none run\n"
            "  trialog sweep run runs/20261201-101500_digits-sweep --only t0001,t0003 --parallel 2"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", nargs="*", metavar="CONFIG | show SWEEP_DIR", help="the sweep config file")
    parser.add_argument(
        "--sweeper", help="the sweeper plugin (entry-point group trialog.sweepers; default local)"
    )
    parser.add_argument(
        "--parallel", type=int, metavar="N", help="trials at a time (local sweeper; default 1)"
    )
    parser.add_argument(
        "--address", help="Ray cluster address (ray sweeper; default $RAY_ADDRESS, else a local one)"
    )
    parser.add_argument("--base-dir", type=Path, metavar="DIR", help="where the sweep folder is created")
    parser.add_argument("--resume", type=Path, metavar="SWEEP_DIR", help="continue an interrupted sweep")
    parser.add_argument("--json", action="store_true", help="show: print sweep.json's trials as JSON")
    from .registered import add_options

    add_options(parser)  # --register, --only (trialog sweep run)
    parser.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    from . import plugins
    from .sweep import describe_best, format_table, open_sweep, read_sweep

    target = list(args.target)
    if target[:1] == ["run"] or getattr(args, "register", False):
        from .registered import registered_command

        return registered_command(args)
    if target[:1] == ["show"]:
        if len(target) != 2:
            raise ConfigError("usage: trialog sweep show SWEEP_DIR [--json]")
        data = read_sweep(target[1])
        if args.json:
            json.dump({"trials": data["trials"], "best": data.get("best")}, sys.stdout, indent=2)
            print()
        else:
            print(format_table(data))
            print(describe_best(data))
        return 0
    if len(target) > 1 or (not target and args.resume is None):
        raise ConfigError(
            "usage: trialog sweep CONFIG [--sweeper NAME] ... or trialog sweep --resume SWEEP_DIR"
        )
    from .sweep import load_spec

    name = args.sweeper
    if name is None and args.resume is not None:
        name = read_sweep(args.resume).get("sweeper")
    name = name or "local"
    spec = load_spec(target[0]) if target else None  # validated before anything is written
    cls = plugins.load(GROUP, name)
    sweeper = cls(parallel=args.parallel, address=args.address)
    sweep = open_sweep(
        target[0] if target else None, name, base_dir=args.base_dir, resume=args.resume, spec=spec
    )
    print(f"sweep folder: {sweep.folder}", flush=True)
    sweeper.run(sweep)
    data = read_sweep(sweep.folder)
    print(format_table(data))
    print(describe_best(data))
    return 0 if all(t["status"] == "finished" for t in data["trials"]) else 1
