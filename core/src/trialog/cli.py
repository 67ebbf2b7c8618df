"""The ``trialog`` command line: ``plugins list`` and the commands plugins add (``runs``, ``run``, ``sweep``, ...)."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from collections.abc import Sequence
from typing import Any

from trialog._version import __version__
from trialog.hooks.markers import IMPL_ATTRIBUTE
from trialog.hooks.plugins import GROUPS

CORE_COMMANDS = ("plugins",)
#: Commands plugin distributions add -> the distribution, named when it is not installed (or is disabled).
PLUGIN_COMMANDS = {
    "runs": "trialog-runs",
    "run": "trialog-torch",
    "sweep": "trialog-sweep",
    "browse": "trialog-browser",
}
#: ``--group`` choices: the entry-point groups whose names are plugins (``trialog.exports`` is not one).
_GROUP_ALIASES = {group.split(".")[1]: group for group in GROUPS if group != "trialog.exports"}


def build_parser(with_plugin_commands: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trialog", description="trialog: experiment infrastructure for PyTorch research."
    )
    parser.add_argument("--version", action="version", version=f"trialog {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    plugins = sub.add_parser("plugins", help="list installed plugins")
    psub = plugins.add_subparsers(dest="plugins_command", metavar="SUBCOMMAND")
    plist = psub.add_parser("list", help="list plugins (read from package metadata; nothing is imported)")
    plist.add_argument("--check", action="store_true", help="import each plugin and report import errors")
    plist.add_argument("--json", action="store_true", help="print JSON instead of a table")
    plist.add_argument("--group", choices=sorted(_GROUP_ALIASES), help="only this entry-point group")
    plist.set_defaults(func=_plugins_list)
    plugins.set_defaults(func=_plugins_list, check=False, json=False, group=None)

    if with_plugin_commands:
        from trialog.hooks import plugins as plugin_registry

        try:
            plugin_registry.get_plugin_manager().hook.add_cli_commands(subparsers=sub)
        except Exception as exc:  # a broken plugin must not take `trialog --help` down with it
            print(f"trialog: plugin commands unavailable: {exc}", file=sys.stderr)
        for command, distribution in PLUGIN_COMMANDS.items():
            if command not in sub.choices:  # the plugin is not installed: the command says which one is
                _add_missing_command(sub, command, distribution)
    return parser


def _add_missing_command(sub: Any, command: str, distribution: str) -> None:
    from trialog.errors import TrialogError

    def missing(args: argparse.Namespace) -> int:
        raise TrialogError(
            f"`trialog {command}` comes with {distribution}, which is not installed (or is disabled): "
            f"pip install {distribution}"
        )

    stub = sub.add_parser(command, help=f"(not installed: pip install {distribution})", add_help=False)
    stub.add_argument("rest", nargs=argparse.REMAINDER)
    stub.set_defaults(func=missing)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialog`` command."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args_list if not a.startswith("-")), None)
    # Core commands never import plugins, so `trialog plugins list` works even when one is broken.
    parser = build_parser(with_plugin_commands=first not in CORE_COMMANDS)
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    from trialog.errors import TrialogError

    try:
        return int(func(args) or 0)
    except TrialogError as exc:
        print(f"trialog: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


def _plugins_list(args: argparse.Namespace) -> int:
    from trialog.hooks import plugins as registry

    group = _GROUP_ALIASES.get(args.group) if args.group else None
    infos = registry.installed(group)
    claims = collections.Counter((info.group, info.name) for info in infos)
    rows: list[dict[str, Any]] = []
    for info in sorted(infos, key=lambda i: (list(registry.GROUPS).index(i.group), i.name)):
        row = info.as_dict()
        row["status"], row["error"] = "available", None
        if registry.is_disabled(info):
            row["status"] = "disabled"
        elif claims[(info.group, info.name)] > 1:
            row["status"] = "conflict"
            row["error"] = f"name {info.name!r} is claimed by {claims[(info.group, info.name)]} distributions"
        elif args.check:
            row["error"] = registry.check(info)
            row["status"] = "error" if row["error"] else "available"
            row["hooks"] = [] if row["error"] else _hooks_of(info)
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return 1 if args.check and any(r["status"] in ("error", "conflict") for r in rows) else 0


def _hooks_of(info: Any) -> list[str]:
    from trialog.hooks import plugins as registry

    obj = registry.load(info.group, info.name) if not registry.is_disabled(info) else None
    return sorted(
        n for n in dir(obj) if not n.startswith("_") and hasattr(getattr(obj, n, None), IMPL_ATTRIBUTE)
    )


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("no trialog plugins installed (pip install trialog-file, trialog-tensorboard, ...)")
        return
    cols = ["name", "group", "distribution", "version", "status", "target"]
    cells = [[str(r[c] or "-") for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths)).rstrip())
    for r, row in zip(rows, cells):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        if r.get("error"):
            print(f"    error: {r['error']}")
        if r.get("hooks"):
            print(f"    hooks: {', '.join(r['hooks'])}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
