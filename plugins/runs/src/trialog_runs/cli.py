"""``trialog runs ls|show|diff|repair|note|tag|star|rename|rm|restore``: the run folders on the command line.

List run folders (``--where``, the filter language of :mod:`trialog_runs.query`), show one, compare configs
(trialog and trixi runs), repair one, and change the registry fields (:mod:`trialog_runs.registry`). The
``trialog runs`` command is added through the ``add_cli_commands`` hook (:mod:`trialog_runs.hooks`); the
helpers here (:func:`flatten`, :func:`config_difference`, :func:`run_filter_fields`) are public for
trialog-browser.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from trialog.api import (
    Run,
    flatten,
    machine_line,
    metric_mode,
    parse_time,
    registry_of,
    repair_run,
    walk_runs,
)
from trialog.errors import AmbiguousResultError, TrialogError

_BASE_COLUMNS = ("name", "status", "start", "duration", "epoch")
_MISSING = "-"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``runs`` with its sub-commands ``ls``, ``show``, ``diff`` and ``repair`` to the ``trialog`` CLI."""
    runs = subparsers.add_parser("runs", help="list, show and compare run folders")
    sub = runs.add_subparsers(dest="runs_command", metavar="SUBCOMMAND")

    ls = sub.add_parser("ls", help="table of the runs in a folder")
    ls.add_argument("dir", nargs="?", default="runs", help="folder holding run folders (default: runs)")
    ls.add_argument(
        "--metric",
        "-m",
        action="append",
        default=[],
        metavar="NAME[:min|max]",
        help="add the last and best value of a result series, TAG/NAME (val/accuracy:max) or a NAME logged "
        "under one tag only (best by min, the default, or max); repeatable",
    )
    ls.add_argument(
        "--sort",
        default="start",
        help="sort by name, status, start, duration, epoch or a --metric name (its best value); default start",
    )
    ls.add_argument("--reverse", "-r", action="store_true", help="reverse the order")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.set_defaults(func=cmd_ls)

    show = sub.add_parser("show", help="metadata, config, result summary and checkpoints of one run")
    show.add_argument("run", help="a run folder")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--packages", action="store_true", help="include the installed package versions")
    show.set_defaults(func=cmd_show)

    diff = sub.add_parser("diff", help="config keys whose values differ between runs")
    diff.add_argument("runs", nargs="+", metavar="RUN", help="two or more run folders")
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.set_defaults(func=cmd_diff)

    repair = sub.add_parser(
        "repair",
        help="rebuild a run's checkpoint manifest from its checkpoint files (each is verified) and cut a "
        "damaged results log back to the checkpoint the run resumes from (asks first)",
    )
    repair.add_argument("run", help="a run folder")
    repair.add_argument("--yes", "-y", action="store_true", help="cut a damaged results log without asking")
    repair.set_defaults(func=cmd_repair)
    add_registry_parsers(sub, ls)

    def _help(args: argparse.Namespace) -> int:
        runs.print_help()
        return 2

    runs.set_defaults(func=_help)
    return runs


# ------------------------------------------------------------------------------------------------- helpers


def parse_metric(spec: str) -> tuple[str, str]:
    """``"acc:max"`` -> ("acc", "max"); ``"loss"`` -> ("loss", "min"); without a mode, :func:`metric_mode`'s."""
    name, sep, mode = spec.rpartition(":")
    if not sep:
        return spec, metric_mode(spec)
    if mode not in ("min", "max") or not name:
        raise TrialogError(f"--metric {spec!r}: write NAME, NAME:min or NAME:max")
    return name, mode


def _duration(meta: Mapping[str, Any]) -> float | None:
    start = parse_time(meta.get("start"))
    if start is None:
        return None
    end = parse_time(meta.get("end"))
    if end is None:
        if meta.get("status") != "running":
            end = parse_time(meta.get("heartbeat"))
        else:
            end = _dt.datetime.now(_dt.UTC)
    if end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return _MISSING
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _short_time(value: Any) -> str:
    parsed = parse_time(value)
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M:%S") if parsed else _MISSING


def _fmt(value: Any) -> str:
    if value is None:
        return _MISSING
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _metric_values(run: Any, metrics: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """{name: {"last", "best", "mode"}} for the chosen metrics."""
    if not metrics:
        return {}
    summary = run.summary
    out: dict[str, Any] = {}
    for name, mode in metrics:
        entry = summary.get(name) or {}
        out[name] = {"last": entry.get("last"), "best": entry.get(mode), "mode": mode}
    return out


def relative_folder(path: Path, base: Path) -> str:
    """``path`` relative to the listed folder ``base`` (``"."`` for ``base`` itself)."""
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _row(
    path: Path, metrics: Sequence[tuple[str, str]], base: Path | None = None, sweep: str | None = None
) -> dict[str, Any]:
    """One run's row of ``runs ls``; ``folder`` and ``sweep`` are relative to the listed folder ``base``."""
    run = Run(path)
    meta = run.meta
    base = path.parent if base is None else base
    return {
        "path": str(path),
        "folder": relative_folder(path, base),
        "sweep": sweep,
        "kind": run.kind,
        "name": meta.get("name") or path.name,
        "status": meta.get("status"),
        "start": meta.get("start"),
        "end": meta.get("end"),
        "duration": _duration(meta),
        "epoch": meta.get("epoch"),
        "metrics": _metric_values(run, metrics),
        "problems": run.problems,  # a damaged results log is never listed as a normal run
    }


def _sort_key(row: Mapping[str, Any], key: str) -> tuple[int, Any]:
    if key in row["metrics"]:
        entry = row["metrics"][key]
        value = entry["best"]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
            return (1, 0)
        # Best first: ascending for min, descending for max.
        return (0, value if entry["mode"] == "min" else -value)
    value = row.get(key)
    if value is None:
        return (1, "")
    return (0, value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), file=out)
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "tolist"):
        return _json_safe(value.tolist())
    return value


# ------------------------------------------------------------------------------------------------ commands


def cmd_ls(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs ls DIR``."""
    out = out or sys.stdout
    metrics = [parse_metric(m) for m in args.metric]
    metric_names = [name for name, _ in metrics]
    sort = args.sort
    if sort not in _BASE_COLUMNS and sort not in metric_names:
        raise TrialogError(
            f"--sort {sort!r}: sort by one of {', '.join(_BASE_COLUMNS)} or a --metric name "
            f"({', '.join(metric_names) or 'none given'})"
        )
    rows = []
    broken = 0
    base = Path(args.dir)
    for path, sweep in walk_runs(base):
        try:
            rows.append(_row(path, metrics, base, sweep))
        except AmbiguousResultError:
            raise  # -m accuracy where a run has train and val accuracy: the user must name one
        except TrialogError as exc:
            broken += 1
            print(f"trialog: skipping {path}: {exc}", file=sys.stderr)
    rows = filter_rows(rows, args)
    rows.sort(key=lambda r: _sort_key(r, sort), reverse=args.reverse)
    if getattr(args, "csv", False):
        return write_csv(rows, metrics, out)
    if args.json:
        json.dump(_json_safe(rows), out, indent=2)
        out.write("\n")
        return 0
    if not rows:
        print(f"no runs in {args.dir}", file=out)
        return 0 if not broken else 1
    headers = [*_BASE_COLUMNS]
    for name, mode in metrics:
        headers += [f"{name} last", f"{name} {mode}"]
    sweeps = any(r["sweep"] for r in rows)
    headers += ["sweep", "folder"] if sweeps else ["folder"]
    table = []
    for r in rows:
        cells = [
            str(r["name"]),
            str(r["status"]) + (" DAMAGED" if r["problems"] else ""),
            _short_time(r["start"]),
            format_duration(r["duration"]),
            _fmt(r["epoch"]),
        ]
        for name, _ in metrics:
            cells += [_fmt(r["metrics"][name]["last"]), _fmt(r["metrics"][name]["best"])]
        cells += [_fmt(r["sweep"]), str(r["folder"])] if sweeps else [str(r["folder"])]
        table.append(cells)
    _table(headers, table, out)
    for r in rows:
        for file, problem in r["problems"].items():
            print(f"DAMAGED {r['path']}: {file}: {problem}", file=out)
    return 0


_SHOW_FIELDS = (
    "name",
    "status",
    "start",
    "end",
    "host",
    "user",
    "pid",
    "python",
    "seed",
    "epoch",
    "n_epochs",
    "resumed_from",
    "error",
)


def cmd_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs show RUN``."""
    out = out or sys.stdout
    run = Run(args.run)
    meta = run.meta
    if not args.packages:
        meta.pop("packages", None)
    problems: dict[str, str] = {}  # a section that cannot be shown (a link out of the folder, corruption)

    def section(name: str, read: Any, empty: Any) -> Any:
        try:
            return read()
        except TrialogError as exc:
            problems[name] = str(exc)
            return empty

    config = section("config", lambda: run.config, {})
    plain_config = config.to_plain() if hasattr(config, "to_plain") else dict(config)
    summary = section("results", lambda: run.summary, {})
    checkpoints = section("checkpoints", lambda: run.checkpoints, [])
    damaged = run.problems  # {file: what is wrong and where}
    problems.update(damaged)
    links = run.links() if run.kind == "trialog" else []
    if args.json:
        data = {
            "path": str(run.path),
            "kind": run.kind,
            "meta": meta,
            "config": plain_config,
            "summary": summary,
            "checkpoints": checkpoints,
            "links": [{"entry": e, "target": t, "inside": inside} for e, t, inside in links],
            "problems": problems,
        }
        json.dump(_json_safe(data), out, indent=2, default=str)
        out.write("\n")
        return 0
    print(f"run       {run.path}  ({run.kind})", file=out)
    for key in _SHOW_FIELDS:
        if meta.get(key) is not None:
            value = meta[key]
            if key == "status" and meta.get("stored_status") not in (None, value):
                source = "run.json" if run.kind == "trialog" else "config/exp.json"
                value = f"{value} ({source} says {meta['stored_status']})"
            print(f"{key:<9} {value}", file=out)
    print(f"{'duration':<9} {format_duration(_duration(meta))}", file=out)
    show_registry(meta, out)
    git = meta.get("git") or {}
    if git.get("commit"):
        print(
            f"{'git':<9} {git['commit'][:12]} on {git.get('branch')}{' (dirty)' if git.get('dirty') else ''}",
            file=out,
        )
    if meta.get("argv"):
        print(f"{'argv':<9} {' '.join(map(str, meta['argv']))}", file=out)
    if meta.get("trialog"):
        print(f"{'trialog':<9} " + ", ".join(f"{k} {v}" for k, v in meta["trialog"].items()), file=out)
    if isinstance(meta.get("machine"), dict):
        print(f"{'machine':<9} {machine_line(meta['machine'])}", file=out)
    for entry, target, inside in links:
        where = "inside the run folder" if inside else "OUTSIDE the run folder, not followed"
        print(f"{'link':<9} {entry} is a symbolic link to {target} ({where})", file=out)
    for name, problem in problems.items():
        what = "DAMAGED" if name in damaged else "not shown"
        print(f"{'problem':<9} {name} {what}: {problem}", file=out)
    print("\nconfig", file=out)
    for key, value in flatten(plain_config).items():
        print(f"  {key} = {json.dumps(_json_safe(value), default=str)}", file=out)
    print("\nresults", file=out)
    if summary:
        _table(
            ["  name", "last", "min", "max", "mean", "count"],
            [
                [f"  {name}", *(_fmt(s.get(k)) for k in ("last", "min", "max", "mean", "count"))]
                for name, s in summary.items()
            ],
            out,
        )
    else:
        print("  (none)", file=out)
    print("\ncheckpoints", file=out)
    if checkpoints:
        _table(
            ["  step", "epoch", "metric", "file"],
            [
                [f"  {c.get('step')}", _fmt(c.get("epoch")), _fmt(c.get("metric")), str(c.get("file"))]
                for c in checkpoints
            ],
            out,
        )
    else:
        print("  (none)", file=out)
    return 0


def show_registry(meta: Mapping[str, Any], out: TextIO) -> None:
    """The registry fields (trialog_runs.registry) of ``runs show``: display name, purpose, tags, star, removal, notes."""
    reg = registry_of(meta)
    if reg["display_name"]:
        print(f"{'shown as':<9} {reg['display_name']}", file=out)
    if reg["purpose"]:
        print(f"{'purpose':<9} {reg['purpose']}", file=out)
    print(f"{'tags':<9} {' '.join(reg['tags']) or '(none)'}", file=out)
    print(f"{'starred':<9} {'yes' if reg['starred'] else 'no'}", file=out)
    if reg["removed"]:
        print(f"{'removed':<9} yes (hidden from runs ls; trialog runs restore brings it back)", file=out)
    for note in reg["notes"]:
        when = _short_time(note.get("time")) if isinstance(note, Mapping) else _MISSING
        text = note.get("text") if isinstance(note, Mapping) else note
        lines = str(text).splitlines() or [""]
        print(f"{'note':<9} {when}  {lines[0]}", file=out)
        for line in lines[1:]:
            print(f"{'':<9} {' ' * len(when)}  {line}", file=out)


_ABSENT = object()


def config_difference(configs: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Dotted keys whose values differ between ``configs`` (absent counts as different), with each run's value.

    Like trixi's ``Config.difference_config_static``, as one table: ``{key: [value per config]}``, where a
    config lacking the key gives ``None`` in JSON and "(absent)" in the table.
    """
    flats = [flatten(c) for c in configs]
    keys: list[str] = []
    seen: set[str] = set()
    for flat in flats:
        for key in flat:
            if key not in seen:
                seen.add(key)
                keys.append(key)
    diff: dict[str, list[Any]] = {}
    for key in keys:
        values = [flat.get(key, _ABSENT) for flat in flats]
        first = values[0]
        if any(_differs(first, v) for v in values[1:]):
            diff[key] = values
    return diff


def _differs(a: Any, b: Any) -> bool:
    if a is _ABSENT or b is _ABSENT:
        return a is not b
    return json.dumps(_json_safe(a), sort_keys=True, default=str) != json.dumps(
        _json_safe(b), sort_keys=True, default=str
    )


def cmd_diff(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs diff RUN RUN...``."""
    out = out or sys.stdout
    if len(args.runs) < 2:
        raise TrialogError("trialog runs diff needs at least two run folders")
    runs = [Run(p) for p in args.runs]
    plains = []
    for run in runs:
        config = run.config
        plains.append(config.to_plain() if hasattr(config, "to_plain") else dict(config))
    diff = config_difference(plains)
    if args.json:
        data = {
            "runs": [str(r.path) for r in runs],
            "difference": {
                k: [None if v is _ABSENT else _json_safe(v) for v in vals] for k, vals in diff.items()
            },
        }
        json.dump(data, out, indent=2, default=str)
        out.write("\n")
        return 0
    if not diff:
        print("the configs are equal", file=out)
        return 0
    headers = ["key", *(r.path.name for r in runs)]
    rows = [
        [key, *("(absent)" if v is _ABSENT else json.dumps(_json_safe(v), default=str) for v in vals)]
        for key, vals in diff.items()
    ]
    _table(headers, rows, out)
    return 0


def cmd_repair(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs repair RUN``: rebuild ``checkpoint/index.json`` from the files, verifying each, and cut a
    damaged results log back to its checkpoint (asks first unless ``--yes``; :func:`trialog.api.repair_run`)."""
    yes = bool(getattr(args, "yes", False))
    return 0 if repair_run(args.run, out or sys.stdout, lambda question: yes or _confirm(question)) else 1


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


__all__ = [
    "add_parser",
    "add_registry_parsers",
    "cmd_diff",
    "cmd_ls",
    "cmd_repair",
    "cmd_show",
    "config_difference",
    "filter_rows",
    "flatten",
]


# -------------------------------------------------------------------- the registry (trialog_runs.registry)


def add_registry_parsers(sub: Any, ls: argparse.ArgumentParser) -> None:
    """``runs note|tag|star|rename|rm|restore`` and the filter options of ``runs ls``."""
    ls.add_argument("--where", metavar="EXPR", help="filter, e.g. 'lr<0.01 and status=finished and tag:base'")
    ls.add_argument(
        "--tag", action="append", default=[], metavar="T", help="only runs with this tag; repeatable"
    )
    ls.add_argument("--status", action="append", default=[], metavar="S", help="only runs with this status")
    ls.add_argument("--all", action="store_true", help="include removed runs (trialog runs rm)")
    ls.add_argument("--csv", action="store_true", help="print CSV instead of a table")

    from .notes import add_note_options, cmd_note

    note = sub.add_parser("note", help="append a timestamped note to runs (or --remove one)")
    note.add_argument("run", help="a run folder, a folder of runs, or a glob pattern of run folders")
    note.add_argument("text", nargs="?", help="the note")
    add_note_options(note)
    note.set_defaults(func=cmd_note)

    tag = sub.add_parser("tag", help="add (+T) and remove (-T) tags: trialog runs tag RUN +best -draft")
    tag.add_argument("run", help="a run folder")
    tag.add_argument(
        "changes", nargs=argparse.REMAINDER, metavar="+T|-T", help="tags to add (+T or T) or remove (-T)"
    )
    tag.set_defaults(func=cmd_tag)

    star = sub.add_parser("star", help="star a run (--off to unstar)")
    star.add_argument("run", help="a run folder")
    star.add_argument("--off", action="store_true", help="remove the star")
    star.set_defaults(func=cmd_star)

    rename = sub.add_parser("rename", help="set a run's display name (the folder stays where it is)")
    rename.add_argument("run", help="a run folder")
    rename.add_argument("name", help="the new display name ('' restores the experiment's name)")
    rename.set_defaults(func=cmd_rename)

    rm = sub.add_parser("rm", help="hide a run (restorable); --purge deletes its folder")
    rm.add_argument("run", help="a run folder")
    rm.add_argument("--purge", action="store_true", help="delete the folder for good (asks first)")
    rm.add_argument("--yes", "-y", action="store_true", help="with --purge: do not ask")
    rm.set_defaults(func=cmd_rm)

    restore = sub.add_parser("restore", help="show a removed run again")
    restore.add_argument("run", help="a run folder")
    restore.set_defaults(func=cmd_restore)


def run_filter_fields(path: Path, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The fields the filter language sees for the run folder ``path`` (see :mod:`trialog_runs.query`).

    The one implementation of "the fields of a run" for the CLI and :func:`trialog_runs.frame.runs_frame`; ``extra``
    (``folder``, ``sweep``: where the run was listed) overrides the defaults.
    """
    from .query import run_fields

    run = Run(path)
    meta = run.meta
    config = run.config
    plain = config.to_plain() if hasattr(config, "to_plain") else dict(config)
    where = {"folder": path.name, "kind": run.kind, "duration": _duration(meta), **(extra or {})}
    return run_fields(meta, flatten(plain), run.summary, where)


def config_of(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The flattened config (dotted keys) among a run's filter fields."""
    return {key[7:]: value for key, value in fields.items() if key.startswith("config.")}


def filter_rows(rows: list[dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Apply --where, --tag, --status and (unless --all) drop removed runs; adds the registry fields."""
    from .query import compile_query

    query = compile_query(getattr(args, "where", None))
    tags = list(getattr(args, "tag", None) or [])
    statuses = list(getattr(args, "status", None) or [])
    show_all = bool(getattr(args, "all", False))
    kept = []
    for row in rows:
        try:
            fields = run_filter_fields(Path(row["path"]), {"folder": row["folder"], "sweep": row["sweep"]})
        except TrialogError:
            continue
        if fields["removed"] and not show_all:
            continue
        if statuses and fields.get("status") not in statuses:
            continue
        if any(t not in fields["tags"] for t in tags):
            continue
        if not query.matches(fields):
            continue
        row.update(
            name=fields["name"],
            tags=fields["tags"],
            starred=fields["starred"],
            removed=fields["removed"],
            purpose=fields.get("purpose"),
            config=config_of(fields),
        )
        kept.append(row)
    return kept


def write_csv(rows: Sequence[Mapping[str, Any]], metrics: Sequence[tuple[str, str]], out: TextIO) -> int:
    import csv

    writer = csv.writer(out)
    plain = ["path", "name", "status", "start", "end", "duration", "epoch"]
    headers = [*plain, "tags", "starred", "purpose"]
    for name, mode in metrics:
        headers += [f"{name} last", f"{name} {mode}"]
    headers += ["folder", "sweep"]  # after the columns earlier versions wrote, which keep their places
    keys: dict[str, None] = {}  # every run's config keys, in the order first seen
    for r in rows:
        keys.update(dict.fromkeys(r.get("config") or {}))
    writer.writerow(headers + [f"config.{key}" for key in keys])
    for r in rows:
        cells = [r.get(h) for h in plain]
        cells += [" ".join(r.get("tags") or []), r.get("starred"), r.get("purpose")]
        for name, _ in metrics:
            cells += [r["metrics"][name]["last"], r["metrics"][name]["best"]]
        cells += [r.get("folder"), r.get("sweep")]
        config = r.get("config") or {}
        cells += [_csv_value(config.get(key)) for key in keys]
        writer.writerow(["" if c is None else c for c in cells])
    return 0


def _csv_value(value: Any) -> Any:
    """A config value as one CSV cell: scalars as they are, lists and mappings as JSON."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(_json_safe(value), default=str)


def cmd_tag(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs tag RUN +a -b`` (without changes: print the tags)."""
    from .registry import update_tags

    add = [c[1:] if c.startswith("+") else c for c in args.changes if not c.startswith("-")]
    remove = [c[1:] for c in args.changes if c.startswith("-")]
    tags = update_tags(args.run, add, remove)["tags"]
    print(" ".join(tags) if tags else "(no tags)", file=out or sys.stdout)
    return 0


def cmd_star(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs star RUN [--off]``."""
    from .registry import set_starred

    starred = set_starred(args.run, not args.off)["starred"]
    print(f"{args.run}: {'starred' if starred else 'not starred'}", file=out or sys.stdout)
    return 0


def cmd_rename(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs rename RUN NAME``."""
    from .registry import rename

    name = rename(args.run, args.name)["display_name"]
    print(
        f"{args.run}: display name {name!r}" if name else f"{args.run}: no display name",
        file=out or sys.stdout,
    )
    return 0


def cmd_rm(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs rm RUN [--purge [--yes]]``."""
    from .registry import purge, set_removed

    out = out or sys.stdout
    if not args.purge:
        set_removed(args.run, True)
        print(f"{args.run}: removed (hidden; trialog runs restore {args.run} brings it back)", file=out)
        return 0
    if not args.yes and not _confirm(f"delete {args.run} and everything in it for good?"):
        print("nothing deleted", file=out)
        return 1
    purge(args.run)
    print(f"{args.run}: deleted", file=out)
    return 0


def cmd_restore(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs restore RUN``."""
    from .registry import set_removed

    set_removed(args.run, False)
    print(f"{args.run}: restored", file=out or sys.stdout)
    return 0
