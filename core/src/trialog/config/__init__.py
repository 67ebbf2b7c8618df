"""Configurations.

- ``config``: trixi's ``Config`` (a dict with attribute access and dotted keys, JSON/YAML, argv), ``GridSearch``,
  the one config flattener
- ``overrides``: plugins' declared defaults, then the ``--a.b 3`` overrides, then the plugins' checks
"""
