"""Checks run before a run folder exists: every config mistake stops the run with nothing written.

:func:`check_loggers` parses each logger declaration, finds its plugin and checks its options against
the logger's constructor and for credentials, without creating anything; :func:`check_checkpoint_options`
checks ``checkpoint`` options (names and values) against :class:`trialog.CheckpointManager`;
:func:`check_flags` refuses anything but ``True``/``False`` for a flag (``"no"`` would read as true).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from trialog.errors import ConfigError, LoggerConfigError
from trialog.run.redact import find_credentials

__all__ = ["check_checkpoint_options", "check_flags", "check_loggers"]


def check_loggers(loggers: Mapping[str, Any] | Iterable[str] | None) -> dict[str, Any]:
    """Raise a LoggerConfigError naming the logger for an unknown type, unknown options or a credential;
    returns the parsed declarations, which ``CombinedLogger`` takes without parsing or checking them again."""
    from trialog.loggers.dispatch import parse_loggers

    return parse_loggers(loggers, vet=_refuse_credentials)


def _refuse_credentials(name: str, decl: Any) -> None:
    secrets = find_credentials(decl.options)
    if secrets:
        raise LoggerConfigError(
            f"logger {name!r}: option(s) {', '.join(map(repr, secrets))} look like credentials; options are "
            "stored with the run's config, so trialog refuses them before anything is written. Keep the "
            "credential in an environment variable and name the variable (e.g. token_env='SLACK_BOT_TOKEN')"
        )


def check_checkpoint_options(options: Mapping[str, Any]) -> None:
    """Raise a ConfigError for options :class:`trialog.CheckpointManager` does not take."""
    from trialog.checkpoint.manager import CheckpointManager

    params = inspect.signature(CheckpointManager).parameters
    unknown = sorted(k for k in options if k not in params or k in ("directory", "on_saved"))
    if unknown:
        allowed = ["every", *(p for p in params if p not in ("directory", "on_saved"))]
        raise ConfigError(
            f"checkpoint option(s) {', '.join(map(repr, unknown))} unknown; use {', '.join(allowed)}"
        )
    from trialog.hooks.options import option_hints, option_problem

    hints = option_hints(CheckpointManager)
    for key, value in options.items():
        problem = option_problem(value, hints[key]) if key in hints else None
        if problem:
            raise ConfigError(f"checkpoint option {key!r} {problem}")


def check_flags(label: str, flags: Mapping[str, Any]) -> None:
    """Raise a ConfigError naming the option when a flag is not a bool (``"no"``, ``1``, ``None``)."""
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise ConfigError(
                f"{label} option {key!r} must be true or false, got {value!r} ({type(value).__name__})"
            )
