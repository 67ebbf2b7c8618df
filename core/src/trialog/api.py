"""``trialog.api``: what a plugin may use from the core, grouped; exceptions come from ``trialog.errors``.

Plugins (the built-in ones and third-party ones alike) import the core from here, from ``trialog.errors``
(every exception and warning: ``ConfigError``, ``LoggerConfigError``, ``TrialogWarning``...) and, in fakes
and tests, from ``trialog.testing`` (``LoopbackAPI``, ``json_reply``, ``trialog_warnings``), and from nowhere
else in ``trialog``: these names are the core's public, tested surface (``tests/test_public_surface.py``);
anything else may change between releases. Heavy parts load on first use, so ``import trialog.api`` stays
as cheap as ``import trialog`` (no numpy)::

    from trialog.api import hookimpl, to_numpy
    from trialog.errors import LoggerConfigError

    class MyLogger:
        @hookimpl
        def show_value(self, value, name, counter=None, tag=None):
            write(name, to_numpy(value))

Groups of names:

- markers: ``hookimpl`` (``@hookimpl`` also makes a logger hook callable on its own,
  ``logger.show_text("Test")``, with the spec's defaults; a plugin declaring hooks of its own takes
  ``trialog.hookspec``)
- experiments and runs: ``Experiment``, ``Config``, ``flatten`` (the one config flattener: dotted keys),
  ``GridSearch``, ``Run``, ``CombinedLogger``, ``ResumeFrom`` (a run folder to resume, with ``fallback``),
  ``latest_run``, ``peak_rss_mb`` (the process's peak resident memory, a ``sys/`` probe)
- the extension surface of ``Experiment`` (see its docs): ``RestoreContext`` (what ``set_state`` gets while
  a checkpoint is restored), ``drive_lifecycle`` (the one stage order of a run, for a framework's own loop),
  ``is_simple`` (what the "simple" attributes are)
- trixi's run folders (trixi's names themselves come with trialog-trixi: ``trialog_trixi``):
  ``read_trixi_results`` (trixi's ``results-log.json``, closed or not), ``coerce_counter`` (the one rule for a
  result's counter), ``pack_sources`` (zip the sources)
- runs started by other plugins (trialog-sweep): ``threads`` (the module: ``TRIALOG_THREADS``, a process's
  compute threads, recorded in run.json), ``create_run_folder``, ``read_config_file`` (a config file as
  written), ``package_versions`` (cached per process: a warm process reads them once); a config file runs
  through the ``run_config`` hook (``plugins.get_plugin_manager().hook.run_config``)
- ``metric_mode(name)``: "max" or "min", which way a metric improves (the one rule used everywhere)
- credentials: ``looks_like_credential_name``, ``redact_text`` (the one policy: never write a credential)
- background delivery: ``Delivery`` (the bounded, coalescing queue served by its own thread that every
  background logger uses)
- checkpoints: ``CheckpointManager``, ``CheckpointEntry``, ``WritebackFile``, ``MANIFEST_NAME``
- option schemas: ``Range`` (``Annotated[int, Range(min=1)]`` bounds a constructor option),
  ``check_option_values`` (a logger's options against its constructor's annotations; the core runs it
  on every configured logger before the run folder exists), ``check_flags`` (flags must be bools)
- files: ``write_atomic`` (temp file, fsync, rename, fsync folder; a full disk is ``DiskFullError``),
  ``write_json`` (the one JSON writer), ``read_json`` (any corruption a named error); ``fileio`` (the module:
  also ``inside``, the one name guard of every ``save_*``/``load_*`` into a run sub-folder, ``json_default``,
  ``is_disk_full``, ``disk_full_error``, ``fsync_dir``)
- optional dependencies: ``optional_import`` (import on first use; a missing one is a named error with
  its ``pip install`` line)
- values: ``to_numpy``, ``to_scalar``; images, PNG, GIF, matplotlib plots and ``FigureHooks`` (the plot hooks
  drawn once for every logger) come with trialog-figures: ``trialog_figures``
- plugin discovery: ``plugins`` (the module: ``names``, ``find``, ``load``, ``installed``,
  ``get_plugin_manager``)
- run folders (for trialog-runs and trialog-browser; the filter language, the registry and the
  ``trialog runs`` helpers are ``trialog_runs``'): ``read_columns``, ``read_appended`` (fast series),
  ``update_run_meta`` (the one writer of run.json from outside the run: a locked read-modify-write),
  ``registry_of`` (a run.json's registry fields), ``change_note`` / ``check_text`` (``exp.note``'s writer
  and its text rule), ``repair_run`` (``trialog runs repair``: checkpoint manifest and damaged results log),
  ``run_file`` (a file of a run folder, refused when a symlink leads out of it: the one containment rule),
  ``find_runs``, ``walk_runs`` (nested folders and sweeps), ``parse_time``,
  ``machine_line`` (run.json's ``machine`` in one line, as ``trialog runs show`` prints it); ``run_status``
  (the one status of a run, for every reader), ``series_key`` / ``series_values`` / ``SeriesMap`` /
  ``stored_summary_current`` (summaries per (name, tag))
- provenance: ``code_folder`` (while active, runs record that folder's code and git state: ``trialog run``
  enters the config's folder)
"""

# The imports below are re-exports (listed in __all__, built from _LAZY): not unused.
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trialog.hooks.markers import hookimpl as hookimpl

#: public name -> "module" (the attribute of the same name) or "module:" (the module itself)
_LAZY: dict[str, str] = {
    # experiments and runs
    "Experiment": "experiment.experiment",
    "RestoreContext": "experiment.experiment",
    "is_simple": "experiment.experiment",
    "drive_lifecycle": "experiment.lifecycle",
    "Config": "config.config",
    "GridSearch": "config.config",
    "Run": "run.folder",
    "ResumeFrom": "run.folder",
    "latest_run": "run.folder",
    "CombinedLogger": "loggers.dispatch",
    "peak_rss_mb": "run.machine",
    # background delivery
    "Delivery": "loggers.delivery",
    # trixi's run folders (trialog-trixi builds trixi's names on these): source packing, trixi's results log
    "read_trixi_results": "results.log",
    "coerce_counter": "results.log",
    "pack_sources": "run.folder",
    # runs started by other plugins (trialog-sweep's trials)
    "threads": "run.threads:",
    "create_run_folder": "run.folder",
    "read_config_file": "config.config",
    "package_versions": "run.provenance",
    # checkpoints
    "CheckpointManager": "checkpoint.manager",
    "CheckpointEntry": "checkpoint.manager",
    "WritebackFile": "checkpoint.manager",
    "MANIFEST_NAME": "checkpoint.manager",
    "metric_mode": "results.direction",
    # credentials (one policy for what looks like one)
    "looks_like_credential_name": "run.redact",
    "redact_text": "run.redact",
    # option schemas: a constructor's annotations, checked before the run folder exists
    "Range": "hooks.options",
    "check_option_values": "hooks.options",
    "check_flags": "loggers.preflight",
    # files: atomic durable writes, the one JSON reader
    "write_atomic": "fileio",
    "write_json": "fileio",
    "read_json": "fileio",
    "fileio": "fileio:",
    "optional_import": "optional",
    # values
    "to_numpy": "loggers.dispatch",
    "to_scalar": "loggers.dispatch",
    # run folders: reading (trialog-runs, trialog-browser), fast series, the registry's one writer
    "update_run_meta": "run.folder",
    "registry_of": "run.folder",
    "change_note": "run.notes",
    "check_text": "run.notes",
    "repair_run": "run.repair",
    "read_columns": "results.series",
    "read_appended": "results.series",
    "run_file": "run.folder",
    "run_status": "run.folder",
    "series_key": "results.summaries",
    "SeriesMap": "results.summaries",
    "series_values": "results.summaries",
    "stored_summary_current": "run.folder",
    "code_folder": "run.provenance",
    "find_runs": "run.folder",
    "walk_runs": "run.folder",
    "parse_time": "run.folder",
    "flatten": "config.config",
    "machine_line": "run.machine",
    # modules
    "plugins": "hooks.plugins:",
}

__all__ = sorted([*_LAZY, "hookimpl"])

if TYPE_CHECKING:  # pragma: no cover
    from trialog import fileio
    from trialog.checkpoint.manager import MANIFEST_NAME, CheckpointEntry, CheckpointManager, WritebackFile
    from trialog.config.config import Config, GridSearch, flatten, read_config_file
    from trialog.experiment.experiment import Experiment, RestoreContext, is_simple
    from trialog.experiment.lifecycle import drive_lifecycle
    from trialog.fileio import read_json, write_atomic, write_json
    from trialog.hooks import plugins
    from trialog.hooks.options import Range, check_option_values
    from trialog.loggers.delivery import Delivery
    from trialog.loggers.dispatch import CombinedLogger, to_numpy, to_scalar
    from trialog.loggers.preflight import check_flags
    from trialog.optional import optional_import
    from trialog.results.direction import metric_mode
    from trialog.results.log import coerce_counter, read_trixi_results
    from trialog.results.series import read_appended, read_columns
    from trialog.results.summaries import SeriesMap, series_key, series_values
    from trialog.run import threads
    from trialog.run.folder import (
        ResumeFrom,
        Run,
        create_run_folder,
        find_runs,
        latest_run,
        pack_sources,
        parse_time,
        registry_of,
        run_file,
        run_status,
        stored_summary_current,
        update_run_meta,
        walk_runs,
    )
    from trialog.run.machine import machine_line, peak_rss_mb
    from trialog.run.notes import change_note, check_text
    from trialog.run.provenance import code_folder, package_versions
    from trialog.run.redact import looks_like_credential_name, redact_text
    from trialog.run.repair import repair_run


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'trialog.api' has no attribute {name!r}")
    module = importlib.import_module(f"trialog.{where.rstrip(':')}")
    value = module if where.endswith(":") else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
