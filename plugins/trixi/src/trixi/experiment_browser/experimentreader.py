"""``trixi.experiment_browser.experimentreader``: trixi's ExperimentReader over :class:`trialog.Run`.

Reads trialog run folders and folders written by trixi itself (``config/exp.json``,
``result/results-log.json``, also the unterminated log of a killed trixi run).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from trialog_trixi import TrixiExperiment

from trialog.api import Run, write_json
from trialog.errors import ConfigError

_META_FILE = ".exp_info"


class ExperimentReader:
    """One run folder: ``ExperimentReader(base_dir, exp_dir)`` reads ``base_dir/exp_dir``.

    Attributes (trixi's): ``work_dir``, ``exp_name``, ``config``, ``exp_info``, ``results``,
    ``config_dir``, ``log_dir``, ``checkpoint_dir``, ``img_dir``, ``plot_dir``, ``result_dir``, ``save_dir``.
    """

    def __init__(
        self,
        base_dir: str | os.PathLike[str],
        exp_dir: str = "",
        name: str | None = None,
        decode_config_clean_str: bool = True,
    ) -> None:
        self.work_dir = str(Path(base_dir) / exp_dir)
        self.run = Run(self.work_dir)
        root = Path(self.work_dir)
        self.config_dir = str(root / "config")
        self.log_dir = str(root / "log")
        self.checkpoint_dir = str(root / "checkpoint")
        self.img_dir = str(root / "img")
        self.plot_dir = str(root / "plot")
        self.result_dir = str(root / "result")
        self.save_dir = str(root / "save")
        self.config = self.run.config
        self.exp_info = dict(self.run.meta.get("trixi") or self.run.meta)
        self.meta_name: str | None = None
        self.meta_star = False
        self.ignore = False
        self.read_meta_info()
        self.exp_name = name or self.meta_name or self.run.name
        self.results = self.get_results()

    @staticmethod
    def get_file_contents(folder: str | os.PathLike[str], include_subdirs: bool = False) -> list[str]:
        """The files in ``folder`` (with subfolders when ``include_subdirs``), joined with the folder path."""
        root = Path(folder)
        if not root.is_dir():
            return []
        found = root.rglob("*") if include_subdirs else root.iterdir()
        return sorted(str(p) for p in found if p.is_file())

    def get_images(self) -> list[str]:
        return self.get_file_contents(self.img_dir, include_subdirs=True)

    def get_plots(self) -> list[str]:
        return self.get_file_contents(self.plot_dir, include_subdirs=True)

    def get_checkpoints(self) -> list[str]:
        return self.get_file_contents(self.checkpoint_dir, include_subdirs=True)

    def get_logs(self) -> list[str]:
        return [Path(p).name for p in self.get_file_contents(self.log_dir) if p.endswith((".log", ".txt"))]

    def get_log_file_content(self, file_name: str) -> str:
        """The log file ``log/<file_name>`` as HTML (escaped, one ``<br>`` per line)."""
        path = Path(self.log_dir) / file_name
        if Path(file_name).name != file_name or not path.is_file():
            raise ConfigError(f"no log file {file_name!r} in {self.log_dir}")
        text = path.read_text(encoding="utf-8", errors="replace")
        return "<br>".join(html.escape(line) for line in text.splitlines())

    def get_results(self) -> dict[str, Any]:
        """The last value of every result name, whatever its tag (trixi's results.json; trialog's own
        summaries are per (name, tag))."""
        return {rec["name"]: rec["value"] for rec in self.run.records}

    def get_results_log(self) -> dict[str, dict[str, dict[str, list[Any]]]]:
        """``{tag: {name: {"counter": [...], "data": [...]}}}`` from the streamed results log."""
        out: dict[str, dict[str, dict[str, list[Any]]]] = {}
        for rec in self.run.records:
            group = rec.get("tag") or rec["name"]
            entry = out.setdefault(group, {}).setdefault(rec["name"], {"counter": [], "data": []})
            entry["counter"].append(rec.get("counter"))
            entry["data"].append(rec.get("value"))
        return out

    def _meta_path(self) -> Path:
        return Path(self.work_dir) / _META_FILE

    def read_meta_info(self) -> dict[str, Any]:
        """The browser's meta info (new name, starred, ignored) from ``.exp_info``."""
        path = self._meta_path()
        info: dict[str, Any] = {}
        if path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                info = loaded if isinstance(loaded, dict) else {}
            except json.JSONDecodeError:
                info = {}
        self.meta_name = info.get("name")
        self.meta_star = bool(info.get("star", False))
        self.ignore = bool(info.get("ignore", False))
        return info

    def update_meta_info(
        self, name: str | None = None, star: bool | None = None, ignore: bool | None = None
    ) -> None:
        """Set the new name / starred / ignored flags and save them in ``.exp_info``."""
        info = self.read_meta_info()
        for key, value in (("name", name), ("star", star), ("ignore", ignore)):
            if value is not None:
                info[key] = value
        write_json(self._meta_path(), info, indent=None)
        self.read_meta_info()
        if name is not None:
            self.exp_name = name

    def ignore_experiment(self) -> None:
        """Flag the run as ignored by the browser."""
        self.update_meta_info(ignore=True)


class CombiExperimentReader(ExperimentReader):
    """Several runs read as one: results are combined per (tag, name) and counter (mean over runs, with
    ``min``/``max``)."""

    def __init__(
        self,
        base_dir: str | os.PathLike[str],
        exp_dirs: Iterable[str] = (),
        name: str | None = None,
        decode_config_clean_str: bool = True,
    ) -> None:
        self.readers = [ExperimentReader(base_dir, d) for d in exp_dirs]
        if not self.readers:
            raise ConfigError("CombiExperimentReader needs at least one experiment folder in exp_dirs")
        first = self.readers[0]
        self.__dict__.update({k: v for k, v in vars(first).items() if k != "results"})
        self.exp_name = name or "+".join(r.exp_name for r in self.readers)
        self.results = self.get_results()

    def get_config(self) -> Any:
        return self.readers[0].config

    def get_results_full(self) -> list[dict[str, Any]]:
        return [r.get_results() for r in self.readers]

    def get_results(self) -> dict[str, Any]:
        """Mean of each result's last value over the runs that have it."""
        per_run = self.get_results_full()
        names = {k for res in per_run for k in res}
        return {k: float(np.mean([res[k] for res in per_run if k in res])) for k in sorted(names)}

    def get_result_log_dict(self) -> dict[str, dict[str, dict[str, list[Any]]]]:
        return self.get_results_log()

    def get_results_log(self) -> dict[str, dict[str, dict[str, list[Any]]]]:
        """Per (tag, name): the counters seen, and per counter the mean (``data``), ``min`` and ``max`` over runs."""
        merged: dict[str, dict[str, dict[Any, list[Any]]]] = {}
        for reader in self.readers:
            for group, names in reader.get_results_log().items():
                for name, entry in names.items():
                    slot = merged.setdefault(group, {}).setdefault(name, {})
                    for c, d in zip(entry["counter"], entry["data"]):
                        slot.setdefault(c, []).append(d)
        out: dict[str, dict[str, dict[str, list[Any]]]] = {}
        for group, names in merged.items():
            for name, by_counter in names.items():
                counters = sorted(by_counter, key=lambda c: (c is None, c))
                values = [np.asarray(by_counter[c], dtype=float) for c in counters]
                out.setdefault(group, {})[name] = {
                    "counter": counters,
                    "data": [float(v.mean()) for v in values],
                    "min": [float(v.min()) for v in values],
                    "max": [float(v.max()) for v in values],
                }
        return out

    def save(self, target_dir: str | os.PathLike[str] | None = None) -> str:
        """Write the combined runs as a run folder of their own in ``target_dir``; returns its path.

        ``target_dir`` defaults to the folder that holds the combined runs. The new folder is a trialog run
        (``trialog.Run`` and this reader read it): the first run's config, one result record per (tag,
        name, counter) with the mean over the runs, ``result/combined.json`` with the mean, ``min`` and
        ``max`` per counter, and the combined folders under ``combined_from`` in ``run.json``. Afterwards
        this reader's folders (``work_dir``, ``result_dir``, ...) are the new folder's, as in trixi.
        """
        sources = [str(Path(r.work_dir).resolve()) for r in self.readers]
        if target_dir is None:
            common = os.path.commonpath(sources)
            target_dir = str(Path(common).parent) if common in sources else common
        combined = self.get_results_log()
        exp = TrixiExperiment(
            config=self.get_config(),
            name=self.exp_name,
            n_epochs=0,
            base_dir=target_dir,
            loggers={},
            checkpoint=False,
            save_sources=False,
        )
        with exp:  # a failure leaves the folder marked "error", never "running"
            exp.meta.update(combined_from=sources)
            for group, names in combined.items():
                for name, entry in names.items():
                    tag = None if group == name else group
                    for counter, value in zip(entry["counter"], entry["data"]):
                        exp.add_result_without_epoch(value, name, counter=counter, tag=tag, plot_result=False)
            exp.elog.save_result({"runs": sources, "results_log": combined}, "combined")
        root = Path(exp.run_dir)
        self.work_dir = str(root)
        for sub in ("config", "log", "checkpoint", "img", "plot", "result", "save"):
            setattr(self, f"{sub}_dir", str(root / sub))
        return self.work_dir

    def update_meta_info(
        self, name: str | None = None, star: bool | None = None, ignore: bool | None = None
    ) -> None:
        for reader in self.readers:
            reader.update_meta_info(name, star, ignore)
        self.read_meta_info()


def group_experiments_by(
    exps: Iterable[ExperimentReader], group_by_list: Iterable[str]
) -> dict[tuple[Any, ...], list[ExperimentReader]]:
    """Group readers by the values of the config keys ``group_by_list`` (dotted keys allowed)."""
    keys = list(group_by_list)
    groups: dict[tuple[Any, ...], list[ExperimentReader]] = {}
    for exp in exps:
        flat = exp.config.flat() if hasattr(exp.config, "flat") else dict(exp.config)
        groups.setdefault(tuple(str(flat.get(k)) for k in keys), []).append(exp)
    return groups


__all__ = ["CombiExperimentReader", "ExperimentReader", "group_experiments_by"]
