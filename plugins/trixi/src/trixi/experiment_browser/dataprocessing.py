"""``trixi.experiment_browser.dataprocessing``: the overview table and plot data of trixi's browser.

They read run folders through :class:`~trixi.experiment_browser.experimentreader.ExperimentReader`
(over :class:`trialog.Run`), so trialog runs and folders written by trixi both count. Nothing here
needs trialog-browser. ``make_graphs`` returns plotly figure dicts where trixi returned their HTML
markup (plotly is not a dependency): ``plotly.offline.plot(graph, output_type="div")`` renders one.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from trialog.errors import ConfigError

from .experimentreader import ExperimentReader

#: Config keys trixi's overview leaves out (the run folder's own paths and bookkeeping).
IGNORE_KEYS = (
    "name",
    "experiment_dir",
    "work_dir",
    "config_dir",
    "log_dir",
    "checkpoint_dir",
    "img_dir",
    "plot_dir",
    "save_dir",
    "result_dir",
    "time",
    "state",
)

#: ColorBrewer's 8-colour qualitative "Dark2" palette, the one trixi's plots used.
COLORMAP = (
    "rgb(27,158,119)",
    "rgb(217,95,2)",
    "rgb(117,112,179)",
    "rgb(231,41,138)",
    "rgb(102,166,30)",
    "rgb(230,171,2)",
    "rgb(166,118,29)",
    "rgb(102,102,102)",
)

_DECIMAL = re.compile(r"\d+\.\d+")


def _info(exp: ExperimentReader, key: str, trialog_key: str, default_val: Any) -> Any:
    """``exp.json``'s ``key`` for a trixi run, run.json's ``trialog_key`` for a trialog run, else the config's."""
    for source, name in ((exp.exp_info, key), (exp.exp_info, trialog_key), (exp.config, key)):
        if name in source and source[name] is not None:
            return source[name]
    return default_val


def process_base_dir(
    base_dir: str | os.PathLike[str],
    view_dir: str = "",
    default_val: str = "-",
    short_len: int = 25,
    ignore_keys: Iterable[str] = IGNORE_KEYS,
) -> dict[str, Any]:
    """The overview table of the runs in ``base_dir/view_dir``.

    Returns ``{"ccols": config columns, "rcols": result columns, "rows": rows, "noexp": folders that
    are no run}``; a row is ``(folder relative to base_dir, starred, name, time, state, epoch,
    config cells, result cells)``, a cell ``(full string, string cut to short_len)``. Runs flagged
    ignored (``.exp_info``, :meth:`ExperimentReader.ignore_experiment`) are left out, as in trixi.
    """
    full_dir = Path(base_dir) / view_dir
    if not full_dir.is_dir():
        raise ConfigError(f"process_base_dir: {str(full_dir)!r} is not a folder of runs")
    exps: list[tuple[ExperimentReader, dict[str, Any], dict[str, Any]]] = []
    non_exps: list[str] = []
    config_keys: set[str] = set()
    result_keys: set[str] = set()
    for sub in sorted(p for p in full_dir.iterdir() if p.is_dir()):
        try:
            exp = ExperimentReader(str(full_dir), sub.name)
        except Exception:  # trixi listed every folder it could not read as "no experiment"
            non_exps.append(os.path.join(view_dir, sub.name))
            continue
        if exp.ignore:
            continue
        flat = exp.config.flat() if hasattr(exp.config, "flat") else dict(exp.config)
        results = exp.get_results()
        config_keys.update(flat)
        result_keys.update(results)
        exps.append((exp, flat, results))
    ignored = set(ignore_keys)
    ccols = sorted(config_keys - ignored, key=lambda k: str(k).lower())
    rcols = sorted(result_keys - ignored, key=lambda k: str(k).lower())

    def cells(values: Mapping[str, Any], keys: list[str]) -> list[tuple[str, str]]:
        return [(text, text[:short_len]) for text in (str(values.get(k, default_val)) for k in keys)]

    rows = [
        (
            os.path.relpath(exp.work_dir, base_dir),
            exp.meta_star,
            str(exp.exp_name),
            str(_info(exp, "time", "start", default_val)),
            str(_info(exp, "state", "status", default_val)),
            str(_info(exp, "epoch", "epoch", default_val)),
            cells(flat, ccols),
            cells(results, rcols),
        )
        for exp, flat, results in exps
    ]
    return {"ccols": ccols, "rcols": rcols, "rows": rows, "noexp": non_exps}


def group_images(images: list[str]) -> defaultdict[str, list[str]]:
    """Group image paths (inside a run's ``img/``) into series: names that differ only in a number.

    The key is the file's stem without its first decimal number (``img/loss_0.1.png`` -> ``"loss_"``),
    or, with none, its letters only (``img/sample_12.png`` -> ``"sample"``); the values are the paths
    below ``img/``. Sorts ``images`` in place, as trixi did.
    """
    marker = os.sep + "img" + os.sep
    images.sort()
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for image in images:
        if marker not in image:
            raise ConfigError(f"group_images: {image!r} is not inside a run's img{os.sep} folder")
        filename = image.split(marker, 1)[1]
        stem = os.path.splitext(filename)[0]
        numbers = _DECIMAL.findall(stem)
        key = stem.replace(numbers[0], "") if numbers else "".join(c for c in stem if c.isalpha())
        groups[key].append(filename)
    return groups


def make_graphs(
    results: Mapping[str, Mapping[str, Mapping[str, Sequence[Any]]]],
    trace_options: Mapping[str, Any] | None = None,
    layout_options: Mapping[str, Any] | None = None,
    color_map: Sequence[str] = COLORMAP,
) -> tuple[list[dict[str, Any]], list[int]]:
    """One plot per result group: ``(graphs, traces per graph)``.

    ``results`` is ``{group: {name: {"counter": [...], "data": [...]}}}``
    (:meth:`ExperimentReader.get_results_log`, :func:`merge_results`). A graph is a plotly figure
    dict, ``{"data": [scatter traces], "layout": {"title": group, ...}}``, in trixi's group and name
    order and colours; trixi returned the same figures rendered to HTML markup.
    """
    trace_options = dict(trace_options or {})
    if layout_options is None:
        layout_options = {
            "legend": {
                "orientation": "v",
                "xanchor": "left",
                "x": 0,
                "yanchor": "top",
                "y": -0.1,
                "font": {"size": 8},
            }
        }
    if not color_map:
        raise ConfigError("make_graphs: color_map needs at least one colour")
    graphs: list[dict[str, Any]] = []
    counts: list[int] = []
    for group in sorted(results):
        traces = []
        for i, name in enumerate(sorted(results[group])):
            series = results[group][name]
            if "counter" not in series or "data" not in series:
                raise ConfigError(f"make_graphs: results[{group!r}][{name!r}] needs 'counter' and 'data'")
            traces.append(
                {
                    "type": "scatter",
                    "x": list(series["counter"]),
                    "y": list(series["data"]),
                    "name": name,
                    "legendgroup": name,
                    "opacity": 1.0,
                    "line": {"color": color_map[i % len(color_map)]},
                    **trace_options,
                }
            )
        counts.append(len(results[group]))
        graphs.append({"data": traces, "layout": {"title": group, **layout_options}})
    return graphs, counts


def merge_results(
    experiment_names: Sequence[str], result_list: Sequence[Mapping[str, Mapping[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Several runs' ``get_results_log()`` in one: per group, each name prefixed ``"<experiment>_"``."""
    if len(experiment_names) != len(result_list):
        raise ConfigError(
            f"merge_results: {len(experiment_names)} experiment names for {len(result_list)} results"
        )
    merged: dict[str, dict[str, Any]] = {}
    for exp_name, result in zip(experiment_names, result_list):
        for group, names in result.items():
            slot = merged.setdefault(group, {})
            for name, series in names.items():
                slot[f"{exp_name}_{name}"] = series
    return merged


__all__ = ["COLORMAP", "IGNORE_KEYS", "group_images", "make_graphs", "merge_results", "process_base_dir"]
