"""``exp.elog`` of :class:`TrixiTorchExperiment` (and trixi's PytorchExperiment): trixi's PytorchExperimentLogger
over a trialog run folder.

Adds model and checkpoint files to :class:`trialog_trixi.elog.ExperimentLogger`: ``save_model``/``load_model``
(a state dict in ``checkpoint/<name>.pth``), ``save_checkpoint(name, **objects)`` /
``load_checkpoint(name, **objects)`` (state dicts of modules and optimizers, tensors and simple values in
``checkpoint/<name>.pth.tar``), ``load_last_checkpoint``, ``get_save_checkpoint_fn`` and ``save_at_exit``.

Differences to trixi (its defects): files are written to a temporary name and renamed, so a crash never
leaves half a checkpoint; loading uses ``torch.load(weights_only=True)`` (no unpickling of code); a name
that leaves the checkpoint folder is a ConfigError.
"""

from __future__ import annotations

import atexit
import fnmatch
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from trialog_torch.checkpoint import TorchFormat
from trialog_torch.experiment import TorchExperiment
from trialog_torch.utils import name_and_iter_to_filename, update_model

from trialog.api import fileio
from trialog.errors import CheckpointError

from .elog import ExperimentLogger
from .experiment import TrixiAPI

_CHECKPOINT_ENDING = ".pth.tar"
_MODEL_ENDING = ".pth"


def _state_of(value: Any) -> Any:
    if isinstance(value, (nn.Module, torch.optim.Optimizer)) or hasattr(value, "state_dict"):
        module = getattr(value, "module", value) if isinstance(value, nn.Module) else value
        return module.state_dict()
    return value


def save_checkpoint_file(path: str | os.PathLike[str], objects: Mapping[str, Any]) -> Path:
    """Write ``{name: state_dict or value}`` of ``objects`` atomically to ``path`` (torch format)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        TorchFormat().save({k: _state_of(v) for k, v in objects.items()}, tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def load_checkpoint_file(
    path: str | os.PathLike[str],
    exclude_layer_dict: Mapping[str, Iterable[str]] | None = None,
    warnings: bool = True,
    **objects: Any,
) -> dict[str, Any]:
    """Load a checkpoint file into ``objects`` (modules and optimizers in place); returns ``objects`` updated.

    A name of ``objects`` the file does not hold keeps its value; values of other kinds are replaced by
    the saved ones. ``exclude_layer_dict`` maps a module's name to layer names not to restore.
    """
    state = TorchFormat(map_location="cpu").load(path)
    excluded = dict(exclude_layer_dict or {})
    out = dict(objects)
    for key, current in objects.items():
        if key not in state:
            if warnings:
                import warnings as _w

                from trialog.errors import TrialogWarning

                _w.warn(f"{path} holds no entry {key!r}; it keeps its value", TrialogWarning, stacklevel=2)
            continue
        saved = state[key]
        if isinstance(current, nn.Module):
            update_model(
                getattr(current, "module", current),
                saved,
                excluded.get(key, ()),
                warn=warnings,
                name=f"module {key!r} from {path}",
            )
        elif isinstance(current, torch.optim.Optimizer) or (
            hasattr(current, "load_state_dict") and isinstance(saved, Mapping)
        ):
            current.load_state_dict(saved)
        else:
            out[key] = saved
    return out


def get_last_file(dir_: str | os.PathLike[str], name: str | None = None) -> str:
    """The most recently modified file in ``dir_`` (recursively) whose name matches the pattern ``name``."""
    folder = Path(dir_)
    pattern = "*" if name is None else (name if any(c in name for c in "*?[") else f"*{name}*")
    files = [p for p in folder.rglob("*") if p.is_file() and fnmatch.fnmatch(p.name, pattern)]
    files = [p for p in files if not p.name.startswith(".")]
    if not files:
        raise CheckpointError(f"no file matching {pattern!r} in {str(folder)!r}")
    return str(max(files, key=lambda p: (p.stat().st_mtime_ns, p.name)))


class TorchExperimentLogger(ExperimentLogger):
    """trixi's PytorchExperimentLogger for one :class:`trialog_torch.TorchExperiment` (``exp.elog``)."""

    def _checkpoint_path(
        self, name: str, n_iter: int | None, iter_format: str, prefix: bool, ending: str
    ) -> Path:
        filename = name_and_iter_to_filename(name, n_iter, "", iter_format, prefix)
        if not filename.endswith((".pth", ".tar", ".pt")):
            filename += ending
        return fileio.inside(self.experiment.checkpoint_dir, filename, "checkpoint name")

    def save_model(
        self,
        model: nn.Module,
        name: str,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
    ) -> Path:
        """Save the model's state dict as ``checkpoint/<name>[_<n_iter>].pth`` (atomically)."""
        path = self._checkpoint_path(name, n_iter, iter_format, prefix, _MODEL_ENDING)
        return save_checkpoint_file(path, {"model": model})

    def load_model(
        self, model: nn.Module, name: str, exclude_layers: Iterable[str] = (), warnings: bool = True
    ) -> nn.Module:
        """Load ``checkpoint/<name>.pth`` into ``model`` (matching layers; ``exclude_layers`` skipped)."""
        path = self._checkpoint_path(name, None, "{:05d}", False, _MODEL_ENDING)
        load_checkpoint_file(path, {"model": list(exclude_layers)}, warnings=warnings, model=model)
        return model

    @staticmethod
    def save_model_static(model: nn.Module, model_file: str | os.PathLike[str]) -> Path:
        """Save the model's state dict to the file ``model_file`` (atomically; ``load_model_static`` reads it)."""
        return save_checkpoint_file(model_file, {"model": model})

    @staticmethod
    def load_model_static(
        model: nn.Module,
        model_file: str | os.PathLike[str],
        exclude_layers: Iterable[str] = (),
        warnings: bool = True,
    ) -> nn.Module:
        """Load the file ``model_file`` into ``model`` (matching layers; ``exclude_layers`` skipped).

        Reads what :meth:`save_model` / :meth:`save_model_static` write and a bare state dict (trixi's
        files), never unpickling code.
        """
        state = TorchFormat(map_location="cpu").load(model_file)
        if not isinstance(state, Mapping):
            raise CheckpointError(f"{model_file} holds a {type(state).__name__}, not a model's state dict")
        saved = state["model"] if isinstance(state.get("model"), Mapping) else state
        update_model(
            getattr(model, "module", model),
            saved,
            list(exclude_layers),
            warn=warnings,
            name=f"model from {model_file}",
        )
        return model

    @staticmethod
    def save_checkpoint_static(checkpoint_file: str | os.PathLike[str], **kwargs: Any) -> Path:
        """Save ``kwargs`` (modules and optimizers as state dicts) to the file ``checkpoint_file`` (atomically)."""
        return save_checkpoint_file(checkpoint_file, kwargs)

    def save_checkpoint(
        self,
        name: str,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        **kwargs: Any,
    ) -> Path:
        """Save ``kwargs`` (modules and optimizers as state dicts) as ``checkpoint/<name>[_<n_iter>].pth.tar``."""
        path = self._checkpoint_path(name, n_iter, iter_format, prefix, _CHECKPOINT_ENDING)
        return save_checkpoint_file(path, kwargs)

    def load_checkpoint(
        self,
        name: str,
        exclude_layer_dict: Mapping[str, Iterable[str]] | None = None,
        warnings: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Load ``checkpoint/<name>`` into ``kwargs``; returns them with the loaded values."""
        path = self._checkpoint_path(name, None, "{:05d}", False, _CHECKPOINT_ENDING)
        return load_checkpoint_file(path, exclude_layer_dict, warnings, **kwargs)

    @staticmethod
    def load_checkpoint_static(
        checkpoint_file: str | os.PathLike[str],
        exclude_layer_dict: Mapping[str, Iterable[str]] | None = None,
        warnings: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Load the checkpoint file ``checkpoint_file`` into ``kwargs``."""
        return load_checkpoint_file(checkpoint_file, exclude_layer_dict, warnings, **kwargs)

    def load_last_checkpoint(self, **kwargs: Any) -> dict[str, Any]:
        """Load the newest ``*.pth.tar`` file of the checkpoint folder into ``kwargs``."""
        return self.load_last_checkpoint_static(self.experiment.checkpoint_dir, None, **kwargs)

    @staticmethod
    def load_last_checkpoint_static(
        dir_: str | os.PathLike[str], name: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Load the newest checkpoint file in ``dir_`` (matching ``name``, default ``*.pth.tar``) into ``kwargs``."""
        return load_checkpoint_file(get_last_file(dir_, name or "*" + _CHECKPOINT_ENDING), **kwargs)

    def get_save_checkpoint_fn(self, name: str = "checkpoint", **kwargs: Any) -> Callable[[int | None], Path]:
        """A function ``f(n_iter)`` that saves the current state of ``kwargs`` as checkpoint ``name``."""

        def save_fn(n_iter: int | None = None, iter_format: str = "{:05d}", prefix: bool = False) -> Path:
            return self.save_checkpoint(name, n_iter, iter_format, prefix, **kwargs)

        return save_fn

    def save_at_exit(self, name: str = "checkpoint_end", **kwargs: Any) -> Callable[[], Any]:
        """Save ``kwargs`` as checkpoint ``name`` when the interpreter exits; returns the registered function."""

        def at_exit() -> None:
            self.save_checkpoint(name, **kwargs)

        atexit.register(at_exit)
        return at_exit

    def show_image_gradient(
        self,
        name: str,
        model: nn.Module,
        inpt: torch.Tensor,
        err_fn: Callable[[torch.Tensor], torch.Tensor],
        grad_type: str = "vanilla",
        n_runs: int = 20,
        eps: float = 0.1,
        abs: bool = False,
        **image_grid_params: Any,
    ) -> Path:
        """Save the input gradient (saliency map) of ``err_fn(model(inpt))`` as the grid image ``img/<name>.png``."""
        from trialog_torch.diagnostics import get_input_gradient

        grads = get_input_gradient(model, inpt, err_fn, grad_type, n_runs, eps, abs)
        image_grid_params.setdefault("normalize", True)
        return self.show_image_grid(grads, name, **image_grid_params)

    # ------------------------------------------------------------------ model plots (trixi's PytorchVisdomLogger names, as files)
    def plot_model_statistics(
        self,
        model: nn.Module,
        env_appendix: str = "",
        model_name: str = "",
        plot_grad: bool = False,
        **kwargs: Any,
    ) -> Path:
        """Bar plot of mean, std and abs max per parameter of the weights (or gradients) as
        ``plot/<model_name>_weights.png`` (``_grads.png``); the bars and one histogram per parameter
        (``<model_name>_weights/<parameter>``) also go to every configured logger (``exp.clog``).

        ``histograms=False`` sends the bars only (the file logger draws one PNG per histogram).
        """
        import numpy as np
        from trialog_figures import render
        from trialog_torch.diagnostics import model_statistics
        from trialog_torch.routing import show_model_statistics

        stats = model_statistics(model, plot_grad=plot_grad)
        if not stats:
            raise CheckpointError(
                "no gradients to plot yet: call backward() first"
                if plot_grad
                else "the model has no parameters"
            )
        table = np.array([[s["mean"], s["std"], s["absmax"]] for s in stats.values()])
        what = "grads" if plot_grad else "weights"
        name = f"{model_name or 'model'}_{what}{env_appendix}"
        fig = render.barplot(table, list(stats), f"{name}: mean / std / abs max")
        path = self._save_figure(fig, name, ".png")
        histograms = bool(kwargs.get("histograms", True))
        show_model_statistics(self.experiment.clog, model, name, plot_grad=plot_grad, histograms=histograms)
        return path

    def plot_model_statistics_weights(
        self, model: nn.Module, env_appendix: str = "", model_name: str = "", **kwargs: Any
    ) -> Path:
        """:meth:`plot_model_statistics` of the weights."""
        return self.plot_model_statistics(model, env_appendix, model_name, plot_grad=False, **kwargs)

    def plot_model_statistics_grads(
        self, model: nn.Module, env_appendix: str = "", model_name: str = "", **kwargs: Any
    ) -> Path:
        """:meth:`plot_model_statistics` of the gradients (computed by a backward pass before)."""
        return self.plot_model_statistics(model, env_appendix, model_name, plot_grad=True, **kwargs)

    def plot_model_gradient_flow(
        self, model: nn.Module, name: str = "model", title: str | None = None
    ) -> Path:
        """Mean and max absolute gradient per weight tensor, in forward order, as ``plot/<name>_gradient_flow.png``;
        also a bar plot ``<name>_gradient_flow`` (one group per layer) on every configured logger."""
        import numpy as np
        from trialog_figures import render
        from trialog_torch.diagnostics import gradient_flow
        from trialog_torch.routing import show_gradient_flow

        flow = gradient_flow(model)
        if not flow:
            raise CheckpointError("no gradients to plot yet: call backward() first")
        ys = np.array([[f["mean"] for f in flow.values()], [f["max"] for f in flow.values()]])
        fig = render.lineplot(ys, None, ["mean |grad|", "max |grad|"], title or f"{name}: gradient flow")
        fig.axes[0].set_xticks(range(len(flow)))
        fig.axes[0].set_xticklabels(list(flow), rotation=45, ha="right", fontsize=7)
        path = self._save_figure(fig, f"{name}_gradient_flow", ".png")
        show_gradient_flow(self.experiment.clog, model, f"{name}_gradient_flow", title)
        return path

    def plot_model_structure(
        self,
        model: nn.Module,
        input_size: Iterable[int],
        name: str = "model_structure",
        use_cuda: bool = True,
        delete_tmp_on_close: bool = False,
        forward_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Path:
        """The model's structure as a text graph (no graphviz) in ``log/<name>.txt``, also shown as text
        ``name`` on every configured logger (``show_text``)."""
        from trialog_torch.routing import show_model_structure

        path = fileio.inside(self.experiment.log_dir, f"{name}.txt", "name")
        text = show_model_structure(self.experiment.clog, model, input_size, name, forward_kwargs)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    # ------------------------------------------------------------------ trixi's visdom extras, on every logger
    def show_classification_metrics(
        self,
        tensor: Any,
        labels: Any,
        name: str,
        metric: Iterable[str] = ("roc-auc", "pr-score"),
        use_sub_process: bool = False,
        tag_name: str | None = None,
        counter: int | None = None,
    ) -> dict[str, Any]:
        """Compute the ``metric`` values of scores ``tensor`` against ``labels`` and show them on every
        configured logger: ``show_value(value, metric, tag=tag_name or name)`` (one chart ``name``, a line
        per metric); ``"confusion-matrix"`` and ``"per-class"`` add a heat map and a bar plot.

        Metrics: roc-auc, pr-auc, pr-score, mcc, f1 (trixi's), accuracy, confusion-matrix, per-class.
        ``use_sub_process`` is accepted and ignored (the loggers that are slow already run in background).
        Returns the metrics (:func:`trialog_torch.diagnostics.get_classification_metrics`).
        """
        from trialog_torch.routing import show_classification_metrics

        return show_classification_metrics(
            self.experiment.clog, tensor, labels, name, metric, tag_name=tag_name, counter=counter
        )

    def show_image_grid_heatmap(
        self,
        heatmap: Any,
        background: Any = None,
        name: str = "heatmap",
        ratio: float = 0.3,
        normalize: bool = True,
        colormap: Any = "jet",
        n_iter: int | None = None,
        prefix: bool = False,
        iter_format: str = "{:05d}",
        image_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Path:
        """Colour ``heatmap`` (N, 1, H, W) with ``colormap``, mix it into ``background`` (N, C, H, W) by
        ``ratio`` and save the grid as ``img/<name>[_<n_iter>].png``; also ``show_image_grid`` on every logger.

        ``colormap``: a matplotlib name, an OpenCV constant (trixi's ``cv2.COLORMAP_JET``) or a callable;
        ``image_args`` / ``kwargs`` may hold make_grid's ``nrow`` and ``padding``.
        """
        from trialog_figures import make_grid
        from trialog_torch.diagnostics import heatmap_overlay

        from trialog.errors import ConfigError

        if not isinstance(name, str):
            raise ConfigError(
                f"show_image_grid_heatmap: name must be a string, got {name!r} (trixi's experiment logger "
                "takes (heatmap, background, name, ...): pass ratio= as a keyword)"
            )
        grid_args = {**dict(image_args or {}), **kwargs}
        nrow, padding = int(grid_args.get("nrow", 8)), int(grid_args.get("padding", 2))
        overlay = heatmap_overlay(heatmap, background, ratio, normalize, colormap)
        filename = name_and_iter_to_filename(name, n_iter, "", iter_format, prefix)
        path = self.show_image(make_grid(overlay, nrow=nrow, padding=padding), filename)
        self.experiment.clog.show_image_grid(overlay, name, counter=n_iter, nrow=nrow, normalize=False)
        return path

    def show_gif(
        self, frame_list: Any = None, name: str = "frames", scale: float = 1.0, fps: float = 25
    ) -> Path:
        """Save frames (H, W, C images, or an (L, H, W, C) array) as the animated GIF ``img/<name>.gif``
        (pillow); also ``show_video`` on every configured logger."""
        from trialog_figures import encode_gif, to_frames

        frames = to_frames(frame_list, scale=scale)
        path = self._write_bytes(self.experiment.img_dir, name, ".gif", encode_gif(frames, fps=fps))
        self.experiment.clog.show_video(frames, name, fps=fps)
        return path

    def show_video(
        self,
        frame_list: Any = None,
        name: str = "video",
        dim: str = "LxHxWxC",
        scale: float = 1.0,
        fps: float = 25,
        extension: str = ".mp4",
        codec: str = "THEO",
    ) -> Path:
        """Save frames of layout ``dim`` (``"LxHxWxC"`` or ``"LxCxHxW"``) as ``img/<name>.gif``; also
        ``show_video`` on every configured logger.

        Differs from trixi: always an animated GIF (pillow), whatever ``extension`` and ``codec`` say:
        no video encoder (ffmpeg, OpenCV) is needed. Another ``extension`` warns once.
        """
        from trialog_figures import encode_gif, to_frames

        from trialog.errors import TrialogWarning

        if extension.lstrip(".").lower() != "gif" and not getattr(self, "_warned_video", False):
            self._warned_video = True
            import warnings

            warnings.warn(
                f"show_video writes an animated GIF (img/{name}.gif), not {extension!r} ({codec}): trialog "
                "encodes no video codec",
                TrialogWarning,
                stacklevel=2,
            )
        frames = to_frames(frame_list, dim=dim, scale=scale)
        path = self._write_bytes(self.experiment.img_dir, name, ".gif", encode_gif(frames, fps=fps))
        self.experiment.clog.show_video(frames, name, fps=fps)
        return path

    def _write_bytes(self, folder: Path, name: str, ending: str, data: bytes) -> Path:
        from trialog.api import write_atomic

        path = fileio.inside(folder, name if name.endswith(ending) else name + ending, "file name")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        return path

    # ------------------------------------------------------------------ diagnostics (trixi's static methods)
    @staticmethod
    def get_input_gradient(*args: Any, **kwargs: Any) -> Any:
        """:func:`trialog_torch.diagnostics.get_input_gradient`."""
        from trialog_torch.diagnostics import get_input_gradient

        return get_input_gradient(*args, **kwargs)

    @staticmethod
    def get_classification_metrics(
        tensor: Any,
        labels: Any,
        name: str = "",
        metric: Iterable[str] = ("roc-auc", "pr-score"),
        use_sub_process: bool = False,
        tag_name: str | None = None,
        results_fn: Callable[..., Any] = lambda *a, **k: None,
    ) -> dict[str, Any]:
        """The metrics (:func:`trialog_torch.diagnostics.get_classification_metrics`); each of ``metric``
        is passed to ``results_fn(value, name, tag)``."""
        from trialog_torch.diagnostics import get_classification_metrics

        out = get_classification_metrics(tensor, labels, name, metric)
        for key, value in out["metric"].items():
            results_fn(value, key, tag_name or name)
        return out

    @staticmethod
    def get_roc_curve(
        tensor: Any,
        labels: Any,
        reduce_to_n_samples: int | None = None,
        use_sub_process: bool = False,
        results_fn: Callable[..., Any] = lambda *a: None,
    ) -> tuple[Any, Any]:
        """(tpr, fpr) of binary scores ``tensor`` against 0/1 ``labels`` (trixi's order); passed to ``results_fn``."""
        fpr, tpr = _curve(tensor, labels, "roc", reduce_to_n_samples)
        results_fn(tpr, fpr)
        return tpr, fpr

    @staticmethod
    def get_pr_curve(
        tensor: Any,
        labels: Any,
        reduce_to_n_samples: int | None = None,
        use_sub_process: bool = False,
        results_fn: Callable[..., Any] = lambda *a: None,
    ) -> tuple[Any, Any]:
        """(precision, recall) of binary scores ``tensor`` against 0/1 ``labels``; passed to ``results_fn``."""
        precision, recall = _curve(tensor, labels, "pr", reduce_to_n_samples)
        results_fn(precision, recall)
        return precision, recall


def _curve(tensor: Any, labels: Any, kind: str, n: int | None) -> tuple[Any, Any]:
    """The two arrays of a ROC ("roc": fpr, tpr) or PR ("pr": precision, recall) curve, thinned to ``n`` points."""
    from trialog_torch.diagnostics import get_classification_metrics

    first, second = get_classification_metrics(tensor, labels)[kind]
    if n:
        idx = _reduce(len(first), n)
        first, second = first[idx], second[idx]
    return first, second


def _reduce(n: int, k: int) -> Any:
    import numpy as np

    return np.unique(np.linspace(0, n - 1, num=min(n, k)).astype(int))


class TrixiTorchExperiment(TrixiAPI, TorchExperiment):
    """:class:`trialog_torch.TorchExperiment` with trixi's names (:class:`~trialog_trixi.experiment.TrixiAPI`);
    its ``elog`` is a :class:`TorchExperimentLogger` (trixi's PytorchExperimentLogger)."""

    elog_class = TorchExperimentLogger


__all__ = [
    "TorchExperimentLogger",
    "TrixiTorchExperiment",
    "get_last_file",
    "load_checkpoint_file",
    "save_checkpoint_file",
]
