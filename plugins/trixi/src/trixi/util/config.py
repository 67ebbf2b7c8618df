"""``trixi.util.config``: :class:`trialog.Config` (trixi's Config, with lazy type tags)."""

from __future__ import annotations

from trialog.api import Config


def update_from_sys_argv(config: Config, warn: bool = False) -> None:
    """Update ``config`` from ``--key value`` options in ``sys.argv``; an unknown key is a ConfigError
    (trixi warned only with ``warn``, or ignored it)."""
    config.update_from_argv(None)


__all__ = ["Config", "update_from_sys_argv"]
