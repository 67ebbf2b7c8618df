"""trialog.api: the one module plugins import from the core; every name resolves, and importing it is cheap."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import trialog.api as api

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


MODULES = {"plugins", "fileio", "threads"}


@pytest.mark.parametrize("name", sorted(set(api.__all__)))
def test_every_public_name_resolves(name):
    value = getattr(api, name)
    assert value is not None
    if name in MODULES:
        assert value.__name__.startswith("trialog.") and value.__name__.rsplit(".", 1)[-1] == name
    elif isinstance(value, type) or inspect.isfunction(value):
        assert value.__module__.startswith("trialog."), (name, value.__module__)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        api.nope  # noqa: B018


def test_importing_the_api_imports_no_numpy_and_no_matplotlib():
    code = "import sys, trialog.api; print(sorted(m for m in ('numpy', 'matplotlib', 'torch') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_documented_groups_cover_every_name():
    doc = api.__doc__ or ""
    missing = [name for name in api.__all__ if f"``{name}``" not in doc and f"``{name}(" not in doc]
    assert missing == []
