"""``trialog sweep CONFIG`` / ``--resume SWEEP_DIR`` / ``show SWEEP_DIR`` / ``servers [--stop]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from trialog.errors import ConfigError


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
            "  trialog sweep run runs/20261201-101500_digits-sweep --only t0001,t0003 --parallel 2\n"
            "  trialog sweep examples/digits/sweep.json --option keep_warm=600   # the next sweep starts warm\n"
            "  trialog sweep servers [--stop]   # the kept-warm trial servers (local sweeper)"
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
    parser.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="a sweeper's own option (submitit: partition=..., account=..., cluster=local); repeatable",
    )
    parser.add_argument("--base-dir", type=Path, metavar="DIR", help="where the sweep folder is created")
    parser.add_argument("--resume", type=Path, metavar="SWEEP_DIR", help="continue an interrupted sweep")
    parser.add_argument("--json", action="store_true", help="show: print sweep.json's trials as JSON")
    parser.add_argument("--stop", action="store_true", help="servers: end every kept-warm trial server")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no line per trial start and end and no running best on stderr (the final table still prints)",
    )
    from .registered import add_options

    add_options(parser)  # --register, --only (trialog sweep run)
    parser.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    from .sweep import describe_best, format_table, open_sweep, read_sweep, sweeper_class
    from .sweep_console import talking

    target = list(args.target)
    if target[:1] == ["run"] or getattr(args, "register", False):
        from .registered import registered_command

        return registered_command(args)
    if target[:1] == ["servers"]:
        return _servers(args)
    if target[:1] == ["show"]:
        if len(target) != 2:
            raise ConfigError("usage: trialog sweep show SWEEP_DIR [--json]")
        data = _refreshed(target[1], read_sweep(target[1]))
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
    given = {"parallel": args.parallel, "address": args.address, "options": _parse_options(args.option)}
    options = resolve_options(read_sweep(args.resume) if args.resume is not None else None, given)
    cls = sweeper_class(name)
    sweeper = cls(**_constructor_args(options))
    sweep = open_sweep(
        target[0] if target else None,
        name,
        base_dir=args.base_dir,
        resume=args.resume,
        spec=spec,
        options=options,
    )
    if args.resume is not None and sweep.options != {**sweep.options, **options}:
        sweep.options.update(options)  # the changes resolve_options warned about
        sweep.save()
    print(f"sweep folder: {sweep.folder}", flush=True)
    with talking(quiet=args.quiet):
        sweeper.run(sweep)
    data = read_sweep(sweep.folder)
    print(format_table(data))
    print(describe_best(data))
    return 0 if all(t["status"] == "finished" for t in data["trials"]) else 1


def _servers(args: argparse.Namespace) -> int:
    """``trialog sweep servers [--stop] [--json]``: the kept-warm trial servers (``--option keep_warm=S``)."""
    import time

    from .trialserver import kept_servers, runtime_dir

    if len(args.target) != 1:
        raise ConfigError("usage: trialog sweep servers [--stop] [--json]")
    servers = kept_servers(stop=args.stop)
    if args.json:
        json.dump(servers, sys.stdout, indent=2)
        print()
        return 0
    if not servers:
        print(f"no kept-warm trial server in {runtime_dir()}")
    for server in servers:
        if server.get("gone"):
            print(f"{server['socket']}: no server answers (removed)")
            continue
        age = time.time() - float(server.get("started") or time.time())
        state = "stopping" if server.get("stopping") else f"kept warm {server.get('keep_warm')} s idle"
        print(
            f"pid {server.get('pid')}: {state}; up {age:.0f} s, {server.get('sweeps')} sweeps, "
            f"{server.get('trials_running')} trials running; cwd {server.get('cwd')}"
        )
    return 0


def _parse_options(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ConfigError(f"--option takes KEY=VALUE (such as partition=gpu), got {item!r}")
        out[key] = value
    return out


def resolve_options(data: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    """The driver options of a run: a new sweep's as given; a resumed one's as its sweep.json recorded them.

    An option the command line gives for a resumed sweep that differs from the recorded one is applied
    (and recorded) with a warning; trial results do not depend on it (each trial's threads are fixed
    in sweep.json's ``options.threads``, and every other driver option only places the trials).
    """
    import warnings

    from trialog.errors import TrialogWarning

    if data is None:
        return {k: v for k, v in given.items() if v is not None}
    recorded = dict(data.get("options") or {})
    out = {k: v for k, v in recorded.items() if k in given}
    for key, value in given.items():
        if value is None:
            continue
        if key in recorded and recorded[key] != value:
            warnings.warn(
                f"trialog sweep --resume: --{key} {value!r} replaces the {recorded[key]!r} sweep.json recorded "
                f"(trial results do not change: every trial keeps {recorded.get('threads', 1)} thread(s))",
                TrialogWarning,
                stacklevel=2,
            )
        out[key] = value
    return out


def _constructor_args(options: dict[str, Any]) -> dict[str, Any]:
    args = {"parallel": options.get("parallel"), "address": options.get("address")}
    if options.get("options"):
        args["options"] = options["options"]  # only sweepers that take options of their own get them
    return args


def _refreshed(folder: str, data: dict[str, Any]) -> dict[str, Any]:
    """sweep.json's trials as the sweeper sees them now (a ``refresh(sweep)`` classmethod, e.g. job states).

    In memory only: the driver owns sweep.json. A sweeper that cannot load leaves the file's view.
    """
    from trialog.errors import TrialogError

    from .sweep import open_sweep, sweeper_class

    name = data.get("sweeper")
    try:
        refresh = getattr(sweeper_class(str(name)), "refresh", None) if name else None
    except TrialogError:
        return data
    if refresh is None:
        return data
    sweep = open_sweep(None, str(name), resume=folder)
    refresh(sweep)
    return sweep.data
