"""trixi's import paths on trialog (the ``trialog-trixi`` distribution; it replaces a trixi install).

Only names and argument adaptation live here; the behaviour is trialog's (``trialog``, ``trialog_torch``,
``trialog_file``). The coverage table of every documented trixi name is ``docs/trixi.md``.
"""

__version__ = "0.1.0"
