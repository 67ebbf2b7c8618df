"""``trixi.experiment.pytorchexperiment``: trixi's PytorchExperiment on :class:`trialog_torch.TorchExperiment`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trialog_torch.experiment import SAVE_TYPES, TorchExperiment
from trialog_torch.utils import name_and_iter_to_filename
from trialog_trixi.decorators import experimentify as _experimentify
from trialog_trixi.torchelog import TrixiTorchExperiment, get_last_file

from trialog.api import Config
from trialog.errors import ConfigError

from ._layout import TrixiResultsLog, verify_flat_checkpoint, write_exp_json, write_flat_checkpoint

#: trixi's logger frequency for a declaration without one ("name": "identifier").
_DEFAULT_FREQUENCY = 10
_LOGGER_KINDS = {
    "tblog": "trialog_tensorboard",
    "vlog": "trialog_visdom",
    "tlog": "trialog_telegram",
    "slog": "trialog_slack",
}


def get_vars_from_sys_argv(argv: Iterable[str] | None = None) -> tuple[str | None, str | None]:
    """``(config_path, resume_path)`` from ``--config_path`` / ``--resume_path`` in ``sys.argv`` (None when absent)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config_path", "-c", default=None)
    parser.add_argument("--resume_path", "-r", default=None)
    args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    return args.config_path, args.resume_path


def _trixi_loggers(loggers: Mapping[str, Any] | None, explogger_freq: int) -> dict[str, Any]:
    # trixi's layout: values sharing a tag are one plot / card (trialog's loggers draw a plot per name)
    out: dict[str, Any] = {"file": ("file", {"group_by": "tag"}, int(explogger_freq))}
    for name, decl in (loggers or {}).items():
        if isinstance(decl, str):
            decl = (decl, {}, _DEFAULT_FREQUENCY)
        elif isinstance(decl, (tuple, list)) and len(decl) == 2:
            decl = (decl[0], decl[1], _DEFAULT_FREQUENCY)
        elif isinstance(decl, (tuple, list)) and len(decl) == 1:
            decl = (decl[0], {}, _DEFAULT_FREQUENCY)
        if (
            isinstance(decl, (tuple, list))
            and decl[0] in ("file", "tensorboard")
            and isinstance(decl[1], Mapping)
        ):
            decl = (decl[0], {"group_by": "tag", **decl[1]}, *decl[2:])
        out[str(name)] = decl
    return out


class PytorchExperiment(TrixiTorchExperiment):
    """trixi's PytorchExperiment: trixi's constructor arguments and defaults on trialog's TorchExperiment.

    Differences (see docs/trixi.md): a run folder always exists (``base_dir`` default ``runs``); a plain
    ``save_checkpoint()`` / ``load_checkpoint()`` uses the run's atomic checkpoint series; loading never
    unpickles code. ``loggers`` take trixi's forms (``"name": "identifier"`` at frequency 10, or
    ``(identifier, kwargs, frequency)``) and the experiment logger (trialog's ``file`` logger) is added at
    ``explogger_freq``.
    """

    def __init__(
        self,
        config: Any = None,
        name: str | None = None,
        n_epochs: int | None = None,
        seed: int | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        globs: Any = None,
        resume: Any = None,
        ignore_resume_config: bool = False,
        resume_save_types: Iterable[str] = SAVE_TYPES,
        resume_reset_epochs: bool = True,
        parse_sys_argv: bool = False,
        checkpoint_to_cpu: bool = True,
        save_checkpoint_every_epoch: int = 1,
        explogger_kwargs: Mapping[str, Any] | None = None,
        explogger_freq: int = 1,
        loggers: Mapping[str, Any] | None = None,
        append_rnd_to_name: bool = False,
        default_save_types: Iterable[str] = SAVE_TYPES,
        save_checkpoints_default: bool = True,
        **kwargs: Any,
    ) -> None:
        if parse_sys_argv:
            config_path, resume_path = get_vars_from_sys_argv()
            if config_path:
                config = Config(config_path)
            if resume_path:
                resume = resume_path
        options = dict(explogger_kwargs or {})
        unknown = sorted(set(options) - {"folder_format"})
        if unknown:
            raise ConfigError(
                f"explogger_kwargs {unknown} not supported; only 'folder_format' is (the run folder's name)"
            )
        if "folder_format" in options:
            kwargs["folder_format"] = options["folder_format"]
        if resume is not None and not ignore_resume_config and not isinstance(resume, TorchExperiment):
            resumed = Path(resume) / "config" / "config.json"
            if resumed.is_file():
                merged = Config() if config is None else Config(config=dict(config))
                merged.update(Config(resumed))
                config = merged
        super().__init__(
            config=config,
            name=name,
            n_epochs=n_epochs,
            seed=seed,
            base_dir=base_dir,
            globs=globs,
            resume=resume,
            resume_save_types=resume_save_types,
            resume_reset_epochs=resume_reset_epochs,
            checkpoint_to_cpu=checkpoint_to_cpu,
            save_checkpoint_every_epoch=save_checkpoint_every_epoch,
            default_save_types=default_save_types,
            save_checkpoints_default=save_checkpoints_default,
            loggers=_trixi_loggers(loggers, explogger_freq),
            append_rnd_to_name=append_rnd_to_name,
            **kwargs,
        )
        #: trixi's ``result/results-log.json``, derived from ``result/results.jsonl``.
        self.trixi_results_log = TrixiResultsLog(self.result_dir)
        if self.trixi_results_log.source.is_file() and self.trixi_results_log.source.stat().st_size:
            self.trixi_results_log.sync()  # a resumed run: its results so far

    def add_result(  # type: ignore[override]
        self,
        value: Any,
        name: str,
        counter: float | None = None,
        tag: str | None = None,
        label: str | None = None,
        plot_result: bool = True,
        plot_running_mean: bool = False,
    ) -> None:
        """Record and plot a value (trixi's arguments: ``label`` is the deprecated ``tag``; ``counter`` an int
        or a float such as ``epoch + i / len(loader)``)."""
        super().add_result(
            value,
            name,
            counter=counter,
            tag=tag if tag is not None else label,
            plot_result=plot_result,
            plot_running_mean=plot_running_mean,
        )

        self.trixi_results_log.note()

    def add_result_without_epoch(self, val: Any, name: str) -> None:  # type: ignore[override]
        """Record a value without epoch and without plotting (trixi's fast path)."""
        super().add_result_without_epoch(val, name, plot_result=False)
        self.trixi_results_log.note()

    # ------------------------------------------------------------------ trixi's files (see ._layout)
    def _write_trixi_state(self, state: str) -> None:
        self.trixi_results_log.sync()
        write_exp_json(self.config_dir, self.name, self.meta.data.get("start"), state, self.epoch or 0)

    def begin_run(self) -> None:
        """The core's run start, then trixi's ``config/exp.json`` (state "Started")."""
        super().begin_run()
        self._write_trixi_state("Started")

    def end_epoch(self, epoch: int) -> None:
        """The epoch end (checkpoints, summary), then trixi's ``results-log.json`` and ``exp.json``."""
        super().end_epoch(epoch)
        self._write_trixi_state("Started")

    def finish_run(self, status: str | None = None) -> None:
        """trixi's ``results-log.json`` and ``exp.json`` (state "Ended"), then the run's end
        (``checkpoint_last``, run.json, the lock released)."""
        self._write_trixi_state("Ended")
        super().finish_run(status)

    def fail_run(self, exc: BaseException, status: str = "error") -> None:
        """trixi's ``results-log.json`` and ``exp.json`` (state "Error"), then the core's failure record."""
        try:
            self._write_trixi_state("Error")
        except Exception:  # the failure itself must still be recorded
            pass
        super().fail_run(exc, status)

    def save_results(self, name: str = "results.json") -> Any:  # type: ignore[override]
        """The results summary (trialog's), and trixi's ``results-log.json`` brought up to date."""
        out = super().save_results(name)
        self.trixi_results_log.sync()
        return out

    def save_checkpoint(  # type: ignore[override]
        self,
        name: str | None = None,
        save_types: Iterable[str] | None = None,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        **kwargs: Any,
    ) -> Any:
        """trialog's checkpoint; a named one (``checkpoint_current``, ``checkpoint_last``, ...) is also written
        where trixi writes it: ``checkpoint/<name>.pth.tar``, trixi's flat ``{attribute: state}`` (atomic,
        its sha256 recorded beside it and checked on load)."""
        entry = super().save_checkpoint(name, save_types, n_iter, iter_format, prefix, **kwargs)
        if name is not None:
            filename = name_and_iter_to_filename(name, n_iter, ".pth.tar", iter_format, prefix)
            write_flat_checkpoint(self.checkpoint_dir / filename, self._flat_state(save_types))
        return entry

    def _flat_state(self, save_types: Iterable[str] | None) -> dict[str, Any]:
        types = tuple(save_types or self.default_save_types)
        state = self.get_checkpoint_state(types)
        flat: dict[str, Any] = {}
        for kind in ("model", "optimizer", "scheduler", "simple", "th_vars"):
            flat.update(state.get(kind, {}))
        if "results" in types:
            flat["results"] = {k: self.results.log.last(k) for k in self.results}
        return flat

    def load_checkpoint(  # type: ignore[override]
        self,
        name: Any = None,
        save_types: Iterable[str] = SAVE_TYPES,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        path: Any = None,
        **kwargs: Any,
    ) -> Any:
        """trialog's ``load_checkpoint``; a ``.pth.tar`` written by :meth:`save_checkpoint` is checked against
        its recorded sha256 first (a mismatch is a CheckpointError, nothing is loaded)."""
        if path is not None and os.path.isfile(path):
            verify_flat_checkpoint(path)
        return super().load_checkpoint(name, save_types, n_iter, iter_format, prefix, path, **kwargs)

    def update_attributes(self, var_dict: Mapping[str, Any], ignore: Iterable[str] = ()) -> None:
        """Set the members named in ``var_dict`` (trixi's helper), skipping ``ignore``.

        ``"results"`` (a read-only view of the run's results log) is loaded as trixi's resume path does
        (``self.results.load(...)``): each ``name: value`` or ``name: {"data", "label", "epoch", "counter"}``
        element is recorded as a result of this run.
        """
        skip = set(ignore)
        rest = {k: v for k, v in var_dict.items() if k != "results"}
        if "results" in var_dict and "results" not in skip:
            results = var_dict["results"]
            if not isinstance(results, Mapping):
                raise ConfigError(
                    f"update_attributes: 'results' must be a mapping of name -> value, not {type(results).__name__}"
                )
            for name, value in results.items():
                self.results[name] = value
        super().update_attributes(rest, ignore=tuple(skip))

    @property
    def elog(self) -> Any:
        """trixi's :class:`~trixi.logger.experiment.PytorchExperimentLogger` over this run folder."""
        elog = self.__dict__.get("_elog")
        if elog is None:
            from ..logger.experiment.pytorchexperimentlogger import PytorchExperimentLogger

            elog = self.__dict__["_elog"] = PytorchExperimentLogger.of(self)
        return elog

    def _logger_of(self, module: str) -> Any:
        for obj in self.loggers.values():
            if type(obj).__module__.split(".")[0] == module:
                return obj
        return None

    @property
    def tblog(self) -> Any:
        """The first TensorBoard logger (None without one)."""
        return self._logger_of(_LOGGER_KINDS["tblog"])

    @property
    def vlog(self) -> Any:
        """The first Visdom logger (None without one)."""
        return self._logger_of(_LOGGER_KINDS["vlog"])

    @property
    def tlog(self) -> Any:
        """The first Telegram logger (None without one)."""
        return self._logger_of(_LOGGER_KINDS["tlog"])

    @property
    def slog(self) -> Any:
        """The first Slack logger (None without one)."""
        return self._logger_of(_LOGGER_KINDS["slog"])


def experimentify(
    setup_fn: str = "setup",
    train_fn: str = "train",
    validate_fn: str = "validate",
    end_fn: str = "end",
    test_fn: str = "test",
    **decoargs: Any,
) -> Any:
    """Class decorator: the class becomes a :class:`PytorchExperiment` built from ``decoargs``; its methods
    named by ``setup_fn`` ... ``test_fn`` are the lifecycle stages (``train``/``validate`` get the epoch)."""
    return _experimentify(PytorchExperiment, setup_fn, train_fn, validate_fn, end_fn, test_fn, **decoargs)


__all__ = ["PytorchExperiment", "experimentify", "get_last_file", "get_vars_from_sys_argv"]
