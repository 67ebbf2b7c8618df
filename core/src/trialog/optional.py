"""Optional dependencies, imported on first use: the one lazy-import rule of the core and its plugins.

PyYAML comes with trialog's extra ``trialog[yaml]``; a plugin may have extras of its own (matplotlib and
pillow: ``trialog-figures[plots]``, ``[video]``; pandas: ``trialog-runs[pandas]``). The core never imports them at import
time; the function that needs one calls :func:`optional_import`, which either returns the module or
raises a named error saying what needed it and the one line that installs it::

    yaml = optional_import("yaml", "reading c.yml", "trialog[yaml]", package="PyYAML", error=ConfigError)
    # ConfigError: reading c.yml needs PyYAML, which is not installed (...); pip install 'trialog[yaml]'
"""

from __future__ import annotations

import importlib
from typing import Any

from trialog.errors import TrialogError

__all__ = ["optional_import"]


def optional_import(
    module: str,
    purpose: str,
    install: str,
    *,
    package: str | None = None,
    error: type[Exception] = TrialogError,
) -> Any:
    """The module ``module``, imported now; when it cannot be, ``error`` naming ``purpose`` and ``install``.

    Args:
        module: the dotted module name (``"matplotlib.figure"``).
        purpose: what needs it, for the message (``"drawing plots"``).
        install: what to ``pip install`` (``"trialog[yaml]"``, ``"scikit-learn"``).
        package: the distribution's name in the message (default: the top-level module name).
        error: the exception class raised (a trialog error; ``TrialogError`` by default).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = package or module.partition(".")[0]
        raise error(
            f"{purpose} needs {name}, which is not installed ({exc}); pip install '{install}'"
        ) from exc
