"""``trialog.api``: everything a plugin may use from the core, in one documented module.

Plugins (the built-in ones and third-party ones alike) import from here and from nowhere else in
``trialog``: the names below are the core's public, tested surface; anything else in the core may
change between releases. Heavy parts load on first use, so ``import trialog.api`` stays as cheap as
``import trialog`` (no numpy, no matplotlib)::

    from trialog.api import hookimpl, LoggerConfigError, to_hwc_uint8

    class MyLogger:
        @hookimpl
        def show_image(self, image, name, title, counter, tag):
            write(to_hwc_uint8(image))

Groups of names:

- markers: ``hookimpl``, ``hookspec`` (``@hookimpl`` also makes a logger hook callable on its own,
  ``logger.show_text("Test")``, with the spec's defaults: see ``trialog.hookspecs``)
- the logger hooks' signatures: ``LOGGER_SIGNATURES`` (hook -> its signature as written in the spec,
  defaults included), ``LOGGER_DEFAULTS`` (hook -> {parameter: default}), the one place defaults live
- errors: ``TrialogError``, ``ConfigError``, ``LoggerConfigError``, ``PluginError``,
  ``CheckpointError``, ``RunFolderError``, ``CorruptFileError``, ``DiskFullError``, ``TrialogWarning``
- experiments and runs: ``Experiment``, ``Config``, ``GridSearch``, ``allow_config_types`` (classes a
  config file may restore), ``Run``, ``CombinedLogger``,
  ``ResumeFrom`` (a run folder to resume, with ``fallback``), ``latest_run``, ``Monitor`` and
  ``MonitorHook`` (xmen's ``"{regex}@{N}{trigger}"`` monitor; a framework plugin adds hooks to it),
  ``peak_rss_mb`` (the process's peak resident memory, a ``sys/`` probe)
- trixi's names: ``ExperimentLogger`` (``exp.elog``), ``ResultDict`` (``exp.results``), ``ResultElement``,
  ``ResultLogDict`` and ``LogDict`` (trixi's standalone result/log dicts with a file of their own),
  ``experimentify`` (a plain class made an Experiment), ``with_args_as_config`` (a function's arguments
  as the Config ``fn_args_as_config``),
  ``inside`` (a path kept inside its folder, else ConfigError), ``pack_sources`` (zip the sources)
- the extension surface of ``Experiment`` (see its docs): ``RestoreContext`` (what
  ``Experiment.restoring`` holds while a checkpoint is restored), ``RESTORE_KINDS``, ``drive_lifecycle`` (the stage order of a run,
  for a framework's own loop), ``is_simple`` (what
  the "simple" attributes are), ``PluginHooks`` (isolated ``trialog.plugins`` hook calls). Methods:
  ``add_state_part``, ``checkpoint_state``, ``restore_state``, ``restore_resumed``, ``start_epoch``,
  ``resume_reset_epochs``, ``checkpoint_series``, ``wait_checkpoints``, ``begin_run`` / ``begin_epoch`` /
  ``end_epoch`` / ``finish_run`` / ``fail_run`` (the stages, for a loop of your own),
  ``get_simple_variables``, ``update_attributes``, ``reserved_attributes``, ``checkpointed_attributes``,
  ``seed_rngs`` / ``rng_state`` / ``set_rng_state``
- ``metric_mode(name)``: "max" or "min", which way a metric improves (the one rule used everywhere)
- credentials: ``looks_like_credential_name``, ``find_credentials``, ``redact``, ``redact_text`` (the one
  policy: never write a credential, redact what looks like one)
- background delivery: ``Delivery`` (the bounded, coalescing queue served by its own thread that every
  background logger uses), ``DeliveryReport``
- checkpoints: ``CheckpointManager``, ``CheckpointEntry``, ``WritebackFile``, ``MANIFEST_NAME``
- option schemas: ``Range`` (``Annotated[int, Range(min=1)]`` bounds a constructor option),
  ``check_option_values`` (a logger's options against its constructor's annotations; the core runs it
  on every configured logger before the run folder exists), ``check_flags`` (flags must be bools)
- files: ``write_atomic`` (temp file, fsync, rename, fsync folder; a full disk is ``DiskFullError``),
  ``write_json``, ``read_json`` (any corruption a named error)
- values and images: ``to_numpy``, ``to_scalar``, ``to_hwc_uint8``, ``to_float_chw``, ``make_grid``,
  ``encode_png``, ``decode_png``; video frames (``show_video``): ``to_frames``, ``encode_gif`` (an
  animated GIF; needs ``trialog[video]``, i.e. pillow)
- plots (need ``trialog[plots]``, i.e. matplotlib): ``render`` (the module: one function per plot
  hook returning a matplotlib Figure, plus ``figure_to_array``/``figure_to_png``, ``roc``,
  ``precision_recall``, ``pca_2d``; the last five are also names here, and ``binary_labels``, the 0/1 check
  every ROC/PR curve makes so swapped arguments are an error). The curve helpers take scikit-learn's
  ``(labels, scores)``; the ``show_roc_curve``/``show_pr_curve`` hooks take trixi's ``(tensor, labels, name)``
- sweeps (for sweeper plugins): ``Sweep``, ``SweepSpec``, ``open_sweep``, ``read_sweep``, ``run_trial``,
  ``ProcessSnapshot`` (a warm process's state, reset before each trial it runs)
- plugin discovery: ``plugins`` (the module: ``names``, ``find``, ``load``, ``installed``)
- testing helpers: ``LoopbackAPI``, ``json_reply``, ``trialog_warnings``
- run browsing: ``compile_query``, ``QueryError``, ``run_fields``, ``search_text`` (the filter
  language), ``read_columns``, ``read_appended`` (fast series), ``registry`` (the module),
  ``run_file`` (a file of a run folder, refused when a symlink leads out of it: the one containment rule),
  ``effective_status``, ``find_runs``, ``walk_runs`` (nested folders and sweeps), ``parse_time``, ``flatten``, ``config_difference``, ``machine_line``
  (run.json's ``machine`` in one line, as ``trialog runs show`` prints it); ``run_status``
  (the one status of a run, for every reader), ``series_key`` / ``series_values`` / ``SeriesMap`` / ``stored_summary_current`` /
  ``AmbiguousResultError`` (summaries per (name, tag): ``trialog.summaries``)
- provenance: ``code_folder`` (while active, runs record that folder's code and git state: ``trialog run``
  enters the config's folder)
"""

# The imports below are re-exports (listed in __all__, built from _LAZY): not unused.
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._markers import hookimpl as hookimpl
from ._markers import hookspec as hookspec

#: public name -> "module" (the attribute of the same name) or "module:" (the module itself)
_LAZY: dict[str, str] = {
    # the logger hooks' signatures and defaults
    "LOGGER_SIGNATURES": "hookspecs",
    "LOGGER_DEFAULTS": "hookspecs",
    # errors
    "TrialogError": "errors",
    "ConfigError": "errors",
    "LoggerConfigError": "errors",
    "PluginError": "errors",
    "CheckpointError": "errors",
    "RunFolderError": "errors",
    "CorruptFileError": "errors",
    "DiskFullError": "errors",
    "TrialogWarning": "errors",
    # experiments and runs
    "Experiment": "experiment",
    "RestoreContext": "experiment",
    "RESTORE_KINDS": "experiment",
    "is_simple": "experiment",
    "drive_lifecycle": "lifecycle",
    "PluginHooks": "plugins",
    "Config": "config",
    "GridSearch": "config",
    "allow_config_types": "config",
    "Run": "run",
    "ResumeFrom": "run",
    "latest_run": "run",
    "CombinedLogger": "dispatch",
    "Monitor": "monitor",
    "MonitorHook": "monitor",
    "peak_rss_mb": "monitor",
    # background delivery
    "Delivery": "delivery",
    "DeliveryReport": "delivery",
    # trixi's names (issue 10): exp.elog, exp.results, source packing
    "ExperimentLogger": "elog",
    "inside": "elog",
    "ResultDict": "resultdict",
    "ResultElement": "resultdict",
    "ResultLogDict": "resultdict",
    "LogDict": "resultdict",
    "pack_sources": "run",
    "experimentify": "decorators",
    "with_args_as_config": "decorators",
    # sweeps
    "Sweep": "sweep",
    "SweepSpec": "sweep",
    "open_sweep": "sweep",
    "read_sweep": "sweep",
    "run_trial": "sweep",
    "ProcessSnapshot": "trialproc",
    # checkpoints
    "CheckpointManager": "checkpoint",
    "CheckpointEntry": "checkpoint",
    "WritebackFile": "checkpoint",
    "MANIFEST_NAME": "checkpoint",
    "metric_mode": "direction",
    # credentials (one policy for what looks like one)
    "looks_like_credential_name": "redact",
    "find_credentials": "redact",
    "redact": "redact",
    "redact_text": "redact",
    # option schemas: a constructor's annotations, checked before the run folder exists
    "Range": "options",
    "check_option_values": "options",
    "check_flags": "preflight",
    # files: atomic durable writes, the one JSON reader
    "write_atomic": "fileio",
    "write_json": "fileio",
    "read_json": "fileio",
    # values and images
    "to_numpy": "dispatch",
    "to_scalar": "dispatch",
    "to_hwc_uint8": "imaging",
    "to_float_chw": "imaging",
    "make_grid": "imaging",
    "encode_png": "imaging",
    "decode_png": "imaging",
    "to_frames": "animation",
    "encode_gif": "animation",
    # plots (trialog[plots])
    "figure_to_array": "render",
    "figure_to_png": "render",
    "roc": "render",
    "precision_recall": "render",
    "pca_2d": "render",
    "binary_labels": "render",
    # run browsing (trialog-browser): filters, fast series, the registry
    "compile_query": "query",
    "QueryError": "query",
    "run_fields": "query",
    "search_text": "query",
    "read_columns": "series",
    "read_appended": "series",
    "run_file": "run",
    "effective_status": "run",
    "run_status": "run",
    "series_key": "summaries",
    "SeriesMap": "summaries",
    "series_values": "summaries",
    "stored_summary_current": "run",
    "AmbiguousResultError": "errors",
    "code_folder": "provenance",
    "find_runs": "run",
    "walk_runs": "run",
    "parse_time": "run",
    "flatten": "runs_cli",
    "config_difference": "runs_cli",
    "machine_line": "machine",
    "registry": "registry:",
    # modules
    "render": "render:",
    "plugins": "plugins:",
    # testing helpers
    "LoopbackAPI": "testing",
    "json_reply": "testing",
    "trialog_warnings": "testing",
}

__all__ = sorted([*_LAZY, "hookimpl", "hookspec"])

if TYPE_CHECKING:  # pragma: no cover
    from . import plugins, registry, render
    from .animation import encode_gif, to_frames
    from .checkpoint import MANIFEST_NAME, CheckpointEntry, CheckpointManager, WritebackFile
    from .config import Config, GridSearch, allow_config_types
    from .decorators import experimentify, with_args_as_config
    from .delivery import Delivery, DeliveryReport
    from .direction import metric_mode
    from .dispatch import CombinedLogger, to_numpy, to_scalar
    from .elog import ExperimentLogger, inside
    from .errors import (
        AmbiguousResultError,
        CheckpointError,
        ConfigError,
        CorruptFileError,
        DiskFullError,
        LoggerConfigError,
        PluginError,
        RunFolderError,
        TrialogError,
        TrialogWarning,
    )
    from .experiment import RESTORE_KINDS, Experiment, RestoreContext, is_simple
    from .fileio import read_json, write_atomic, write_json
    from .hookspecs import LOGGER_DEFAULTS, LOGGER_SIGNATURES
    from .imaging import decode_png, encode_png, make_grid, to_float_chw, to_hwc_uint8
    from .lifecycle import drive_lifecycle
    from .machine import machine_line
    from .monitor import Monitor, MonitorHook, peak_rss_mb
    from .options import Range, check_option_values
    from .plugins import PluginHooks
    from .preflight import check_flags
    from .provenance import code_folder
    from .query import QueryError, compile_query, run_fields, search_text
    from .redact import find_credentials, looks_like_credential_name, redact, redact_text
    from .render import binary_labels, figure_to_array, figure_to_png, pca_2d, precision_recall, roc
    from .resultdict import LogDict, ResultDict, ResultElement, ResultLogDict
    from .run import (
        ResumeFrom,
        Run,
        effective_status,
        find_runs,
        latest_run,
        pack_sources,
        parse_time,
        run_file,
        run_status,
        stored_summary_current,
        walk_runs,
    )
    from .runs_cli import config_difference, flatten
    from .series import read_appended, read_columns
    from .summaries import SeriesMap, series_key, series_values
    from .sweep import Sweep, SweepSpec, open_sweep, read_sweep, run_trial
    from .testing import LoopbackAPI, json_reply, trialog_warnings
    from .trialproc import ProcessSnapshot


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
