"""The config an Experiment starts from: plugins' declared defaults, the ``--key value`` overrides, their checks.

:func:`prepare_config` runs before the run folder exists, in this order: the ``config_defaults`` hook of the
``trialog.plugins`` modules fills the keys the config lacks (trialog-xmen: the ``trialog.param`` declarations
of the Experiment subclass), the overrides apply (:meth:`trialog.Config.update_from_argv`: only keys the config
has, type-checked against their values), then the ``check_config`` hook checks the result. Errors propagate.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from trialog.hooks.plugins import get_plugin_manager


def argv_of(update_from_argv: bool | Sequence[str]) -> list[str] | None:
    """The overrides an Experiment's ``update_from_argv`` names: True ``sys.argv[1:]``, a list as it is (None: none)."""
    if update_from_argv is False:
        return None
    return list(sys.argv[1:] if update_from_argv is True else update_from_argv)


def prepare_config(experiment_class: type, config: Any, update_from_argv: bool | Sequence[str]) -> None:
    """Fill ``config`` with the plugins' defaults for ``experiment_class``, apply the overrides, check it."""
    argv = argv_of(update_from_argv)
    hook = get_plugin_manager().hook
    for defaults in reversed(hook.config_defaults(experiment_class=experiment_class, argv=argv)):
        for key, value in defaults.items():
            if key not in config:
                config[key] = value
    if argv is not None:
        config.update_from_argv(argv)
    hook.check_config(experiment_class=experiment_class, config=config)


__all__ = ["argv_of", "prepare_config"]
