"""``trixi.logger.visdom.pytorchvisdomlogger``: trixi's PytorchVisdomLogger (tensors, models, classifiers)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from trialog_figures import to_frames

from trialog.errors import ConfigError

from .._dispatched import backend, refuse, untitled
from .numpyvisdomlogger import NumpyVisdomLogger, _plain


class PytorchVisdomLogger(NumpyVisdomLogger):
    """trixi's ``PytorchVisdomLogger(...)`` (NumpyVisdomLogger's arguments): takes torch tensors (the
    dispatcher converts them once) and adds model statistics and classification plots."""

    def plot_model_statistics(
        self, model: Any, env_appendix: str = "", model_name: str = "", plot_grad: bool = False, **kwargs: Any
    ) -> None:
        """Bar plots of each parameter's mean |value| and std (and of its gradient with ``plot_grad``)."""
        _plain("plot_model_statistics", {"env_appendix": env_appendix, **kwargs})
        self.logger.plot_model_statistics(model, name=model_name or "model", plot_grad=plot_grad)

    def plot_model_statistics_weights(
        self, model: Any, env_appendix: str = "", model_name: str = "", **kwargs: Any
    ) -> None:
        """``plot_model_statistics`` of the weights."""
        self.plot_model_statistics(model, env_appendix, model_name, plot_grad=False, **kwargs)

    def plot_model_statistics_grads(
        self, model: Any, env_appendix: str = "", model_name: str = "", **kwargs: Any
    ) -> None:
        """``plot_model_statistics`` of the weights and their gradients."""
        self.plot_model_statistics(model, env_appendix, model_name, plot_grad=True, **kwargs)

    def plot_mutliple_models_statistics_weights(
        self, model_dict: Mapping[str, Any], env_appendix: str | None = None, **kwargs: Any
    ) -> None:
        """``plot_model_statistics_weights`` of each ``name: model``."""
        for name, model in model_dict.items():
            self.plot_model_statistics_weights(model, env_appendix or "", name, **kwargs)

    def plot_mutliple_models_statistics_grads(
        self, model_dict: Mapping[str, Any], env_appendix: str = "", **kwargs: Any
    ) -> None:
        """``plot_model_statistics_grads`` of each ``name: model``."""
        for name, model in model_dict.items():
            self.plot_model_statistics_grads(model, env_appendix, name, **kwargs)

    def show_classification_metrics(
        self,
        tensor: Any,
        labels: Any,
        name: str,
        metric: Iterable[str] = ("roc-auc", "pr-score"),
        use_sub_process: bool = False,
        tag_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Each metric of scores ``tensor`` against ``labels`` as a point of its line in window ``tag_name``
        (else ``name``), as ``exp.elog.show_classification_metrics`` (``trialog_torch.routing``) shows them;
        ``"confusion-matrix"`` and ``"per-class"`` add a heat map and a bar plot. ``use_sub_process`` is
        accepted and ignored (the Visdom logger sends from its own thread)."""
        untitled("show_classification_metrics", _plain("show_classification_metrics", kwargs))
        _routing("show_classification_metrics").show_classification_metrics(
            self.clog, tensor, labels, name, metric, tag_name=tag_name
        )

    def show_pr_curve(
        self,
        tensor: Any,
        labels: Any,
        name: str,
        reduce_to_n_samples: int | None = None,
        use_sub_process: bool = False,
        **kwargs: Any,
    ) -> None:
        """A precision-recall curve of scores ``tensor`` against 0/1 ``labels`` (``title=`` the window's)."""
        self._curve("show_pr_curve", tensor, labels, name, reduce_to_n_samples, kwargs)

    def show_roc_curve(
        self,
        tensor: Any,
        labels: Any,
        name: str,
        reduce_to_n_samples: int | None = None,
        use_sub_process: bool = False,
        **kwargs: Any,
    ) -> None:
        """A ROC curve of scores ``tensor`` against 0/1 ``labels`` (``title=`` the window's)."""
        self._curve("show_roc_curve", tensor, labels, name, reduce_to_n_samples, kwargs)

    def _curve(
        self,
        hook: str,
        tensor: Any,
        labels: Any,
        name: str,
        reduce_to_n_samples: int | None,
        kwargs: dict[str, Any],
    ) -> None:
        if reduce_to_n_samples is not None:
            kwargs["reduce_to_n_samples"] = reduce_to_n_samples
        title = _plain(hook, kwargs).get("title")
        getattr(self.clog, hook)(
            tensor, labels, name, title=title
        )  # trixi's (tensor, labels) is the hooks' order

    def show_embedding(
        self,
        tensor: Any,
        labels: Any = None,
        name: Any = None,
        method: str = "tsne",
        n_dims: int = 2,
        n_neigh: int = 30,
        meth_args: Any = None,
        **kwargs: Any,
    ) -> None:
        """An (N, D) embedding as a 2-D scatter plot by ``method`` ("tsne", trixi's default, needs
        scikit-learn; "pca" is built in)."""
        _plain("show_embedding", kwargs)
        if n_dims != 2 or meth_args:
            raise ConfigError("show_embedding: only n_dims=2 without meth_args is provided by trialog-trixi")
        self.clog.show_embedding(
            features=tensor, name=name or "embedding", labels=labels, method=method, **kwargs
        )

    def show_image_grid(  # type: ignore[override]
        self,
        images: Any,
        name: Any = None,
        title: Any = None,
        nrow: int = 8,
        normalize: bool = False,
        **kwargs: Any,
    ) -> None:
        """A (N, C, H, W) batch tiled into one image, ``nrow`` per row."""
        _plain("show_image_grid", kwargs)
        self.clog.show_image_grid(
            images=images, name=name or "image_grid", title=title, nrow=nrow, normalize=normalize
        )

    def show_image_grid_heatmap(
        self,
        heatmap: Any,
        background: Any = None,
        ratio: float = 0.3,
        colormap: Any = "jet",
        normalize: bool = True,
        name: str = "heatmap",
        image_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``heatmap`` (N, 1, H, W) coloured by ``colormap`` and mixed into ``background`` (N, C, H, W) by
        ``ratio``, as the image grid ``name`` (``trialog_torch.routing.show_heatmap_grid``).

        ``colormap``: a matplotlib colormap or its name, or OpenCV's constant; ``image_args`` may hold ``nrow``.
        """
        title = _plain("show_image_grid_heatmap", kwargs).get("title")
        args = dict(image_args or {})
        refuse("show_image_grid_heatmap: image_args", args, ("nrow",))
        _routing("show_image_grid_heatmap").show_heatmap_grid(
            self.clog,
            heatmap,
            background,
            name,
            ratio,
            normalize,
            colormap,
            nrow=int(args.get("nrow", 8)),
            title=title,
        )

    def show_image_gradient(
        self,
        model: Any,
        inpt: Any,
        err_fn: Callable[[Any], Any],
        grad_type: str = "vanilla",
        n_runs: int = 20,
        eps: float = 0.1,
        abs: bool = False,
        **image_grid_params: Any,
    ) -> None:
        """The input gradient (saliency map) of ``err_fn(inpt)`` by ``grad_type`` (vanilla, vanilla-smooth,
        guided, guided-smooth) as an image grid (trixi's: ``err_fn`` gets the input and calls the model, see
        :mod:`trixi.util.pytorchutils`); ``image_grid_params`` are
        :meth:`show_image_grid`'s (``name``, ``title``, ``nrow``, ``normalize``; ``normalize`` is True
        unless given, as on ``exp.elog``: raw gradients are far below 1 and would show black)."""
        from ...util.pytorchutils import get_input_gradient

        grads = get_input_gradient(model, inpt, err_fn, grad_type, n_runs, eps, abs)
        image_grid_params.setdefault("name", "image_gradient")
        image_grid_params.setdefault("normalize", True)
        self.show_image_grid(grads, **image_grid_params)

    def show_video(
        self,
        frame_list: Any = None,
        name: str = "frames",
        dim: str = "LxHxWxC",
        scale: float = 1.0,
        fps: int = 25,
    ) -> None:
        """Frames of layout ``dim`` (``"LxHxWxC"`` or ``"LxCxHxW"``), resized by ``scale``, as an animated GIF
        in window ``name`` (the ``show_video`` hook; Visdom's own ``video`` would need ffmpeg)."""
        self.clog.show_video(to_frames(frame_list, dim=dim, scale=scale), name, fps=fps)

    def plot_model_structure(
        self,
        model: Any,
        input_size: Any,
        name: str = "model_structure",
        use_cuda: bool = True,
        delete_tmp_on_close: bool = False,
        forward_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """The model's structure as a text graph in window ``name`` (``trialog_torch.routing.show_model_structure``):
        one line per module with its parameters and its output shape for an input of ``input_size``.

        Not graphviz's SVG (graphviz is not a dependency). The forward pass runs on the model's device, so
        ``use_cuda`` and ``delete_tmp_on_close`` (no temporary file) are accepted and not used.
        """
        untitled("plot_model_structure", _plain("plot_model_structure", kwargs))
        _routing("plot_model_structure").show_model_structure(
            self.clog, model, input_size, name, forward_kwargs
        )

    def plot_model_gradient_flow(self, model: Any, name: str = "model", title: str | None = None) -> None:
        """Mean and max |grad| per weight tensor, in forward order, as the bar plot ``name`` (after
        ``backward()``; ``trialog_torch.routing.show_gradient_flow``)."""
        _routing("plot_model_gradient_flow").show_gradient_flow(self.clog, model, name, title)


def _routing(method: str) -> Any:
    """``trialog_torch.routing``, imported at the call; without trialog-torch an ImportError naming it."""
    return backend("trialog_torch.routing", "trialog-torch", f"PytorchVisdomLogger.{method}")


__all__ = ["PytorchVisdomLogger"]
