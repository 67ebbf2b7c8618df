"""``trixi.util.sourcepacker``: trixi's SourcePacker over :func:`trialog.run.folder.pack_sources`."""

from __future__ import annotations

import os
from typing import Any

from trialog.api import pack_sources


class SourcePacker:
    """Zips the entry script and the local modules it imported (sources from site-packages are left out)."""

    @staticmethod
    def zip_sources(globs: Any, filename: str | os.PathLike[str]) -> list[str]:
        """Write the zip ``filename``; ``globs`` is accepted (the imported modules are found without it)."""
        return pack_sources(filename)


__all__ = ["SourcePacker"]
