"""Credentials never reach a run folder: detect them in options, redact them in everything trialog writes.

A key *looks like a credential* when its name says so (``token``, ``password``, ``secret``, ``api_key``...;
names ending in ``_env``/``_file``/``_path``/``_var`` say where one is kept, and are fine); a *value* does
when it has a known token shape (Slack, Telegram, GitHub, GitLab, OpenAI-style, AWS, JWT, ``Bearer``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "find_credentials", "looks_like_credential_name", "redact", "redact_text"]

REDACTED = "***redacted***"

_NAME = re.compile(r"token|passw(or)?d|secret|api[_-]?key|credential|private[_-]?key|auth[_-]?key", re.I)
_SAFE_SUFFIX = re.compile(r"_(env|file|path|var)$", re.I)
_VALUE = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]{8,}"
    r"|xapp-[A-Za-z0-9-]{8,}"
    r"|\b\d{6,12}:[A-Za-z0-9_-]{30,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bglpat-[A-Za-z0-9_-]{20,}"
    r"|\bsk-[A-Za-z0-9_-]{20,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    r"|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}"
)


def looks_like_credential_name(name: str) -> bool:
    """Whether an option or config key named ``name`` would hold a credential (``token_env`` does not)."""
    return bool(_NAME.search(str(name))) and not _SAFE_SUFFIX.search(str(name))


def _is_secret_value(value: Any) -> bool:
    return isinstance(value, str) and bool(_VALUE.search(value))


def _named_secret(key: Any, value: Any) -> bool:
    # credentials are text: a number, a switch or an unset option under such a name is not one
    return isinstance(value, (str, bytes)) and bool(value) and looks_like_credential_name(str(key))


def find_credentials(data: Any, prefix: str = "") -> list[str]:
    """Dotted keys in ``data`` (mappings, lists) whose name or value looks like a credential."""
    found: list[str] = []
    if isinstance(data, Mapping):
        for key, value in data.items():
            where = f"{prefix}.{key}" if prefix else str(key)
            if _named_secret(key, value) or _is_secret_value(value):
                found.append(where)
            else:
                found.extend(find_credentials(value, where))
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            where = f"{prefix}[{i}]"
            if _is_secret_value(value):
                found.append(where)
            else:
                found.extend(find_credentials(value, where))
    return found


def redact_text(text: str) -> str:
    """``text`` with every token-shaped part replaced by :data:`REDACTED`."""
    return _VALUE.sub(REDACTED, text) if isinstance(text, str) else text


def redact(data: Any) -> Any:
    """A copy of ``data`` with credential-named values and token-shaped strings replaced by :data:`REDACTED`."""
    if isinstance(data, Mapping):
        return {key: REDACTED if _named_secret(key, value) else redact(value) for key, value in data.items()}
    if isinstance(data, list):
        return [redact(v) for v in data]
    if isinstance(data, tuple):
        return tuple(redact(v) for v in data)
    if isinstance(data, str):
        return redact_text(data)
    return data
