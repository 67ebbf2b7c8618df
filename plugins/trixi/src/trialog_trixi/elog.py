"""``exp.elog`` of trialog-trixi's experiments: trixi's ExperimentLogger over a trialog run folder.

The folders (``work_dir``, ``config_dir``, ``result_dir``, ...) and trixi's ExperimentLogger methods,
writing files into the experiment's run folder::

    exp.elog.show_barplot(numpy.array([3, 1, 2]), "counts")        # plot/counts.png
    exp.elog.save_dict({"shape": (3, 4)}, "meta")                   # save/meta.json, tuple kept
    exp.elog.load_dict("meta")["shape"] == (3, 4)

Differences to trixi (defects there): a file name that leaves its folder (``"../x"``, an absolute path)
is a :class:`trialog.errors.ConfigError` before anything is written (the core's one name guard,
``trialog.api.fileio.inside``, as for ``exp.save_dict``: :mod:`trialog_trixi.files`); JSON files are written
atomically.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialog.api import fileio
from trialog.errors import ConfigError

from . import files

#: trixi's TextFileLogger line format: ``2026-11-21 10:02:00,324 - INFO - text``.
_TEXT_FORMAT = "{time} - {level} - {text}\n"


def _with_format(name: str, file_format: str) -> str:
    suffix = file_format if file_format.startswith(".") else "." + file_format
    return name if name.endswith(suffix) else name + suffix


class ExperimentLogger:
    """trixi's ExperimentLogger for one :class:`trialog.Experiment` (``exp.elog``).

    Args:
        experiment: the experiment whose run folder the files go to.
    """

    def __init__(self, experiment: Any) -> None:
        self.experiment = experiment
        self._values: dict[Any, dict[str, tuple[list[float], list[float]]]] = {}

    # ------------------------------------------------------------------ folders (trixi's attributes)
    @property
    def exp_name(self) -> str:
        return str(self.experiment.name)

    @property
    def work_dir(self) -> str:
        """The run folder (trixi's ``work_dir``); the folders below are strings, as trixi's were."""
        return str(self.experiment.run_dir)

    @property
    def base_dir(self) -> str:
        return str(self.experiment.base_dir)

    @property
    def folder_name(self) -> str:
        return self.experiment.run_dir.name

    @property
    def config_dir(self) -> str:
        return str(self.experiment.config_dir)

    @property
    def log_dir(self) -> str:
        return str(self.experiment.log_dir)

    @property
    def checkpoint_dir(self) -> str:
        return str(self.experiment.checkpoint_dir)

    @property
    def img_dir(self) -> str:
        return str(self.experiment.img_dir)

    @property
    def plot_dir(self) -> str:
        return str(self.experiment.plot_dir)

    @property
    def result_dir(self) -> str:
        return str(self.experiment.result_dir)

    @property
    def save_dir(self) -> str:
        return str(self.experiment.save_dir)

    def resolve_format(self, input_: str | None, resume: bool) -> str | None:
        """The folder name ``input_`` resolves to in this logger's ``base_dir`` (trixi's folder formats).

        strftime codes take the current time; ``{experiment_name}`` (also ``{exp_name}``, ``{name}``) the
        experiment's name; ``{run_number}`` the next number no folder of that pattern in ``base_dir`` has
        yet, or with ``resume`` the highest one there is (1 when there is none). Other ``{fields}`` stay
        as they are, as in trixi. ``None`` gives None; a malformed format is a ConfigError.
        """
        if input_ is None:
            return None
        try:
            return self._resolve_format(str(input_), resume)
        except (ValueError, IndexError) as exc:
            raise ConfigError(
                f"folder format {input_!r} is invalid ({exc}); it may use strftime codes, {{experiment_name}} "
                "and {run_number}"
            ) from None

    def _resolve_format(self, input_: str, resume: bool) -> str:
        import re

        text = _dt.datetime.now().strftime(input_) if "%" in input_ else input_
        fields = _KeepUnknown(experiment_name=self.exp_name, exp_name=self.exp_name, name=self.exp_name)
        if "{run_number" not in text:
            return text.format_map(fields)
        marker = "\x00run_number\x00"
        pattern = re.sub(r"\{run_number(:[^{}]*)?\}", marker, text).format_map(fields)
        regex = re.compile("^" + re.escape(pattern).replace(re.escape(marker), r"(\d+)") + "$")
        base = Path(self.base_dir)
        taken = [
            int(m.group(1)) for p in (base.iterdir() if base.is_dir() else ()) if (m := regex.match(p.name))
        ]
        number = (max(taken) if taken else 1) if resume else max(taken, default=0) + 1
        return text.format_map(_KeepUnknown(fields, run_number=number))

    # ------------------------------------------------------------------ images and plots
    def _target(self, folder: Path, name: str, file_format: str) -> Path:
        path = fileio.inside(folder, _with_format(name, file_format), "file name")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _save_figure(self, fig: Any, name: str, file_format: str) -> Path:
        from trialog_figures import render

        path = self._target(self.experiment.plot_dir, name, file_format)
        with render.LOCK:
            fig.savefig(path)
        return path

    def show_image(self, image: Any, name: str, file_format: str = ".png", **kwargs: Any) -> Path:
        """Save an image ((H, W), (C, H, W) or (H, W, C)) as ``img/<name><file_format>``."""
        from trialog_figures import encode_png, to_hwc_uint8

        path = self._target(self.experiment.img_dir, name, file_format)
        hwc = to_hwc_uint8(image, normalize=bool(kwargs.get("normalize", False)))
        if path.suffix.lower() == ".png":
            path.write_bytes(encode_png(hwc))
        else:
            from trialog_figures import render

            fig = render.new_figure()
            ax = fig.add_subplot(1, 1, 1)
            ax.imshow(hwc[..., 0] if hwc.shape[-1] == 1 else hwc, cmap="gray")
            ax.axis("off")
            with render.LOCK:
                fig.savefig(path)
        return path

    def show_images(self, images: Any, name: Any, file_format: str = ".png", **kwargs: Any) -> list[Path]:
        """Save each image as ``img/<name>_<i><file_format>`` (or ``img/<names[i]>`` for a list of names)."""
        names = list(name) if isinstance(name, (list, tuple)) else [f"{name}_{i}" for i in range(len(images))]
        if len(names) != len(images):
            raise ConfigError(f"show_images: {len(images)} images but {len(names)} names")
        return [self.show_image(img, n, file_format, **kwargs) for img, n in zip(images, names)]

    def show_image_grid(self, images: Any, name: str, file_format: str = ".png", **kwargs: Any) -> Path:
        """Save a batch (N, C, H, W) tiled as one grid image ``img/<name><file_format>`` (``nrow``, ``padding``,
        ``normalize``, ``pad_value`` as in torchvision)."""
        from trialog_figures import make_grid

        grid_args = {k: kwargs[k] for k in ("nrow", "padding", "normalize", "pad_value") if k in kwargs}
        return self.show_image(make_grid(images, **grid_args), name, file_format)

    def show_barplot(self, array: Any, name: str, file_format: str = ".png", **kwargs: Any) -> Path:
        """Save a bar plot as ``plot/<name><file_format>``."""
        from trialog_figures import render

        return self._save_figure(
            render.barplot(array, kwargs.get("labels"), kwargs.get("title", name)), name, file_format
        )

    def show_boxplot(self, array: Any, name: str, file_format: str = ".png", **kwargs: Any) -> Path:
        """Save a box plot as ``plot/<name><file_format>``."""
        from trialog_figures import render

        return self._save_figure(
            render.boxplot(array, kwargs.get("labels"), kwargs.get("title", name)), name, file_format
        )

    def show_piechart(self, array: Any, name: str, file_format: str = ".png", **kwargs: Any) -> Path:
        """Save a pie chart as ``plot/<name><file_format>``."""
        from trialog_figures import render

        return self._save_figure(
            render.piechart(array, kwargs.get("labels"), kwargs.get("title", name)), name, file_format
        )

    def show_scatterplot(self, array: Any, name: str, file_format: str = ".png", **kwargs: Any) -> Path:
        """Save a scatter plot of an (N, 2) array as ``plot/<name><file_format>``."""
        from trialog_figures import render

        return self._save_figure(
            render.scatterplot(array, kwargs.get("labels"), kwargs.get("title", name)), name, file_format
        )

    def show_lineplot(
        self,
        y_vals: Any,
        x_vals: Any = None,
        name: str = "lineplot",
        file_format: str = ".png",
        **kwargs: Any,
    ) -> Path:
        """Save a line plot as ``plot/<name><file_format>``."""
        from trialog_figures import render

        fig = render.lineplot(y_vals, x_vals, kwargs.get("labels"), kwargs.get("title", name))
        return self._save_figure(fig, name, file_format)

    def show_matplot_plt(
        self, figure: Any, name: str, file_format: str = ".png", *args: Any, **kwargs: Any
    ) -> Path:
        """Save a matplotlib figure as ``plot/<name><file_format>``."""
        return self._save_figure(figure, name, file_format)

    def show_value(
        self,
        value: Any,
        name: str | None = None,
        counter: float | None = None,
        tag: str | None = None,
        file_format: str = ".png",
        **kwargs: Any,
    ) -> Path:
        """Append ``value`` to a line plot ``plot/<tag or name><file_format>`` (one line per name)."""
        from trialog_figures import render

        from trialog.api import to_scalar

        name = name or "value"
        plot = tag or name
        series = self._values.setdefault(plot, {})
        xs, ys = series.setdefault(name, ([], []))
        xs.append(float(counter) if counter is not None else float(len(xs)))
        ys.append(float(to_scalar(value)))
        return self._save_figure(render.value_curves(series, plot), plot, file_format)

    # ------------------------------------------------------------------ text
    def show_text(self, text: Any, name: str | None = None, logger: str = "default", **kwargs: Any) -> None:
        """Append ``text`` (prefixed by ``name``) to ``log/<logger>.log`` in trixi's format."""
        from trialog.api import redact_text

        path = fileio.inside(self.experiment.log_dir, _with_format(logger, ".log"), "logger name")
        path.parent.mkdir(parents=True, exist_ok=True)
        line = str(text) if name is None else f"{name}: {text}"
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(_TEXT_FORMAT.format(time=stamp, level="INFO", text=redact_text(line)))

    def print(self, *args: Any, logger: str = "default") -> None:
        """Print to stdout and append the text to ``log/<logger>.log``."""
        text = " ".join(str(a) for a in args)
        builtins.print(text, flush=True)
        self.show_text(text, logger=logger)

    # ------------------------------------------------------------------ files
    def save_result(
        self,
        data: Any,
        name: str,
        indent: int = 4,
        separators: tuple[str, str] = (", ", ": "),
        encoder_cls: Any = None,
        **kwargs: Any,
    ) -> Path:
        """Save ``data`` as ``result/<name>.json`` (atomically)."""
        path = fileio.inside(self.experiment.result_dir, _with_format(name, ".json"), "result name")
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_text_atomic(path, _dumps(data, indent, separators, encoder_cls, **kwargs))
        return path

    def save_config(self, data: Any, name: str, **kwargs: Any) -> Path:
        """Save a config as ``config/<name>.json`` (credentials redacted)."""
        from trialog.api import Config

        if isinstance(data, Mapping) and not isinstance(data, Config):
            data = Config(config=dict(data))  # trixi's tags keep tuples and sets
        return Path(self.experiment.save_config(data, name))

    def load_config(self, name: str, **kwargs: Any) -> Any:
        """Load ``config/<name>.json`` as a :class:`trialog.Config` (code tags are never imported here)."""
        return self.experiment.load_config(name)

    def save_dict(
        self,
        data: Mapping[str, Any],
        path: str,
        indent: int = 4,
        separators: tuple[str, str] = (", ", ": "),
        encoder_cls: Any = None,
        **kwargs: Any,
    ) -> Path:
        """Save a dict as ``save/<path>.json``; tuples and sets are kept (trixi's ``__tuple__`` tags)."""
        from trialog.api import Config

        target = files.target(self.experiment.save_dir, path, ".json", create=True)
        if encoder_cls is not None:
            text = json.dumps(data, cls=encoder_cls, indent=indent, separators=separators, **kwargs)
        else:
            text = Config(config=dict(data)).dumps(
                indent=indent, separators=(separators[0].rstrip(), separators[1])
            )
        _write_text_atomic(target, text)
        return target

    def load_dict(self, path: str) -> Any:
        """Load ``save/<path>.json`` (tuples and sets come back as such)."""
        from trialog.api import Config

        return _plain_dict(Config(files.target(self.experiment.save_dir, path, ".json")))

    def save_numpy_data(self, data: Any, path: str) -> Path:
        """Save an array as ``save/<path>.npy``."""
        return files.save_numpy(self.experiment.save_dir, data, path)

    def load_numpy_data(self, path: str) -> Any:
        """Load ``save/<path>.npy`` (never unpickles)."""
        return files.load_numpy(self.experiment.save_dir, path)

    def save_pickle(self, data: Any, path: str) -> Path:
        """Pickle ``data`` to ``save/<path>``."""
        return files.save_pickle(self.experiment.save_dir, data, path)

    def load_pickle(self, path: str) -> Any:
        """Unpickle ``save/<path>`` (unsafe for files you did not write)."""
        return files.load_pickle(self.experiment.save_dir, path)

    def save_file(self, filepath: str | os.PathLike[str], path: str | None = None) -> Path:
        """Copy a file into ``save/`` (or ``save/<path>/``)."""
        return files.save_file(self.experiment.save_dir, filepath, path)


class _KeepUnknown(dict):  # type: ignore[type-arg]
    # str.format_map leaves a field it does not know as "{field}" (trixi's SafeDict)
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _plain_dict(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_dict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_dict(v) for v in value]
    return value


def _dumps(data: Any, indent: int, separators: tuple[str, str], encoder_cls: Any, **kwargs: Any) -> str:

    if encoder_cls is not None:
        return json.dumps(data, cls=encoder_cls, indent=indent, separators=separators, **kwargs)
    return json.dumps(data, indent=indent, separators=separators, default=fileio.json_default, **kwargs)


def _write_text_atomic(path: Path, text: str) -> None:
    from trialog.api import write_atomic

    write_atomic(path, text.encode("utf-8"))


__all__ = ["ExperimentLogger"]
