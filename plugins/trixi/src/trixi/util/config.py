"""``trixi.util.config``: :class:`trialog.Config` (trixi's Config, with lazy type tags)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from trialog_trixi.decorators import with_args_as_config

from trialog.api import Config

_F = TypeVar("_F", bound=Callable[..., Any])


def update_from_sys_argv(config: Config, warn: bool = False) -> None:
    """Update ``config`` from ``--key value`` options in ``sys.argv``; an unknown key is a ConfigError
    (trixi warned only with ``warn``, or ignored it)."""
    config.update_from_argv(None)


def monkey_patch_fn_args_as_config(f: _F) -> _F:
    """Decorator: ``f`` reads its arguments (defaults applied) as the :class:`Config` ``fn_args_as_config``,
    a global of its module set for the duration of each call (trialog's ``with_args_as_config``)."""
    return with_args_as_config(f, "fn_args_as_config")


__all__ = ["Config", "monkey_patch_fn_args_as_config", "update_from_sys_argv"]
