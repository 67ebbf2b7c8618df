"""trixi's members on a trialog Experiment: :class:`TrixiAPI` (a mixin) and :class:`TrixiExperiment`.

``trialog.Experiment`` has no trixi names; a class that includes :class:`TrixiAPI` before it gets them::

    from trialog_trixi import TrixiExperiment

    class MyExp(TrixiExperiment):
        def train(self, epoch):
            self.results["loss"] = 0.25               # trixi's ResultLogDict: recorded at once
            self.elog.show_barplot(counts, "counts")  # plot/counts.png
            self.save_dict({"shape": [3, 4]}, "meta") # save/meta.json

``trixi.experiment.Experiment`` and ``PytorchExperiment`` include it. Every ``save_*``/``load_*`` (here and
on ``exp.elog``) takes its name through the core's one name guard (:mod:`trialog_trixi.files`): a name that
leaves its folder (``"../x"``) is a ConfigError naming it, before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from trialog.api import Experiment

from . import files
from .elog import ExperimentLogger
from .resultdict import ResultDict


class TrixiAPI:
    """trixi's names for a :class:`trialog.Experiment` subclass (list it before the experiment class).

    ``exp_name``, ``elog`` (an :attr:`elog_class` over the run folder), ``results`` (trixi's ResultLogDict
    view: :class:`~trialog_trixi.resultdict.ResultDict`), ``get_result_without_epoch``, ``save_results(name)``
    and the file API ``save_dict``/``load_dict``, ``save_numpy_data``/``load_numpy_data``,
    ``save_pickle``/``load_pickle``, ``save_file`` (all in ``save/``).
    """

    #: The class of :attr:`elog` (trialog-trixi's torch experiment: :class:`~trialog_trixi.torchelog.TorchExperimentLogger`).
    elog_class: ClassVar[type] = ExperimentLogger

    # what the experiment class provides (for the type checker)
    name: str
    save_dir: Path

    @property
    def exp_name(self) -> str:
        """trixi's name for :attr:`name`."""
        return self.name

    @property
    def elog(self) -> Any:
        """trixi's experiment logger over this run folder (an :attr:`elog_class`)."""
        elog = self.__dict__.get("_trixi_elog")
        if elog is None:
            elog = self.__dict__["_trixi_elog"] = self.elog_class(self)
        return elog

    @property
    def results(self) -> Any:
        """The run's results as trixi's ResultLogDict (:class:`~trialog_trixi.resultdict.ResultDict`).

        ``results["loss"]`` reads the last value, ``results["loss"] = v`` records one; the
        :class:`trialog.results.log.ResultLog` methods (``stats``, ``summary()``, ``best()``) work on it too.
        """
        view = self.__dict__.get("_trixi_results")
        if view is None:
            view = self.__dict__["_trixi_results"] = ResultDict(self, super().results)  # type: ignore[misc]
        return view

    def get_result_without_epoch(self, name: str) -> Any:
        """trixi's name for :meth:`get_result`: the last value recorded under ``name``."""
        return self.get_result(name)  # type: ignore[attr-defined]

    def save_results(self, name: str | None = None) -> dict[str, dict[str, Any]]:
        """Write the summary ``result/results.json`` now and return it; ``name`` (trixi's argument): also
        write it to ``result/<name>``."""
        summary: dict[str, dict[str, Any]] = super().save_results()  # type: ignore[misc]
        if name is not None and name not in ("results.json", "results"):
            self.elog.save_result(summary, name)
        return summary

    def save_dict(self, data: Mapping[str, Any], path: str) -> Path:
        """Save a dict as JSON in ``save/<path>.json`` (numpy values become lists)."""
        return files.save_json(self.save_dir, data, path)

    def load_dict(self, path: str) -> Any:
        """Load ``save/<path>.json``."""
        return files.load_json(self.save_dir, path)

    def save_numpy_data(self, data: Any, path: str) -> Path:
        """Save an array as ``save/<path>.npy``."""
        return files.save_numpy(self.save_dir, data, path)

    def load_numpy_data(self, path: str) -> Any:
        """Load ``save/<path>.npy`` (never unpickles)."""
        return files.load_numpy(self.save_dir, path)

    def save_pickle(self, data: Any, path: str) -> Path:
        """Pickle ``data`` to ``save/<path>``. Prefer :meth:`save_dict` / :meth:`save_numpy_data`."""
        return files.save_pickle(self.save_dir, data, path)

    def load_pickle(self, path: str) -> Any:
        """Unpickle ``save/<path>``: unsafe for files you did not write yourself (unpickling runs code)."""
        return files.load_pickle(self.save_dir, path)

    def save_file(self, filepath: str | os.PathLike[str], path: str | None = None) -> Path:
        """Copy a file into ``save/`` (or ``save/<path>/``)."""
        return files.save_file(self.save_dir, filepath, path)


class TrixiExperiment(TrixiAPI, Experiment):
    """:class:`trialog.Experiment` with trixi's names (:class:`TrixiAPI`)."""


__all__ = ["TrixiAPI", "TrixiExperiment"]
