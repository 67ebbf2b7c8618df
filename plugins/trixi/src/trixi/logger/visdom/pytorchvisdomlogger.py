"""``trixi.logger.visdom.pytorchvisdomlogger``: trixi's PytorchVisdomLogger (tensors, models, classifiers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from trialog.api import ConfigError, to_scalar

from .._dispatched import curve_arguments, refuse
from .numpyvisdomlogger import NumpyVisdomLogger, _not_provided, _plain


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
    ) -> None:
        """Each metric of scores ``tensor`` against ``labels`` as a point of its line in window ``tag_name``
        (else ``name``); the metrics are ``trialog_torch.diagnostics.get_classification_metrics``'s."""
        from trialog_torch.diagnostics import get_classification_metrics

        metrics = list(metric)
        values = get_classification_metrics(tensor, labels, name, metrics)
        missing = [m for m in metrics if m not in values]
        if missing:
            raise ConfigError(
                f"show_classification_metrics: unknown metric(s) {missing}; known: {sorted(values)}"
            )
        for m in metrics:
            self.clog.show_value(value=float(to_scalar(values[m])), name=m, tag=tag_name or name)

    def show_pr_curve(
        self,
        tensor: Any,
        labels: Any,
        name: str,
        reduce_to_n_samples: int | None = None,
        use_sub_process: bool = False,
    ) -> None:
        """A precision-recall curve of scores ``tensor`` against 0/1 ``labels``."""
        refuse("show_pr_curve", {} if reduce_to_n_samples is None else {"reduce_to_n_samples": 1})
        self.clog.show_pr_curve(**curve_arguments(tensor, labels), name=name)

    def show_roc_curve(
        self,
        tensor: Any,
        labels: Any,
        name: str,
        reduce_to_n_samples: int | None = None,
        use_sub_process: bool = False,
    ) -> None:
        """A ROC curve of scores ``tensor`` against 0/1 ``labels``."""
        refuse("show_roc_curve", {} if reduce_to_n_samples is None else {"reduce_to_n_samples": 1})
        self.clog.show_roc_curve(**curve_arguments(tensor, labels), name=name)

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
        """An (N, D) embedding as a 2-D scatter plot, by the logger's ``embedding_method`` ("pca" unless
        given to the constructor; "tsne" needs scikit-learn)."""
        _plain("show_embedding", kwargs)
        if n_dims != 2 or meth_args:
            raise ConfigError("show_embedding: only n_dims=2 without meth_args is provided by trialog-trixi")
        self.clog.show_embedding(features=tensor, name=name or "embedding", labels=labels)

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

    def show_image_grid_heatmap(self, *args: Any, **kwargs: Any) -> None:
        """Not provided."""
        raise _not_provided("show_image_grid_heatmap", "not implemented yet")

    def show_image_gradient(self, *args: Any, **kwargs: Any) -> None:
        """Not provided here: ``exp.elog.show_image_gradient`` saves the saliency grid as a file."""
        raise _not_provided("show_image_gradient", "use exp.elog.show_image_gradient (trialog-torch)")

    def show_video(self, *args: Any, **kwargs: Any) -> None:
        """Not provided (no video encoding in trialog)."""
        raise _not_provided("show_video", "not implemented yet")

    def plot_model_structure(self, *args: Any, **kwargs: Any) -> None:
        """Not provided here: ``exp.elog.plot_model_structure`` writes the graph as text."""
        raise _not_provided("plot_model_structure", "use exp.elog.plot_model_structure (trialog-torch)")

    def plot_model_gradient_flow(self, *args: Any, **kwargs: Any) -> None:
        """Not provided here: ``exp.elog.plot_model_gradient_flow`` draws it as a file."""
        raise _not_provided(
            "plot_model_gradient_flow", "use exp.elog.plot_model_gradient_flow (trialog-torch)"
        )


__all__ = ["PytorchVisdomLogger"]
