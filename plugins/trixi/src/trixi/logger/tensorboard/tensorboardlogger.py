"""``trixi.logger.tensorboard.tensorboardlogger``: trixi's TensorboardLogger on :class:`trialog_tensorboard.TensorBoardLogger`."""

from __future__ import annotations

import os
from typing import Any

from trialog.errors import ConfigError

from .._dispatched import DispatchedLogger, backend, refuse

_tb = backend("trialog_tensorboard", "trialog-tensorboard", "trixi.logger.tensorboard")


def _grid_options(padding: int, range: Any, scale_each: bool, pad_value: float) -> None:
    if padding != 2 or range is not None or scale_each or pad_value != 0:
        raise ConfigError(
            "show_image_grid: padding (other than 2), range, scale_each and pad_value are not provided by "
            "trialog-trixi; normalize=True stretches the batch's min..max to [0, 1]"
        )


class TensorboardLogger(DispatchedLogger):
    """trixi's ``TensorboardLogger(target_dir)``: event files in ``target_dir`` for TensorBoard.

    :class:`trialog_tensorboard.TensorBoardLogger` writes them (``logdir=target_dir``; further keyword
    arguments are its options) on its own thread; values with a ``tag`` share one chart ``tag``, one
    line per name, as trixi's ``add_scalars``. A missing ``counter`` counts calls per name from 0.
    """

    def __init__(self, target_dir: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(
            _tb.TensorBoardLogger(logdir=target_dir, **{"group_by": "tag", **kwargs}), "tensorboard"
        )
        self.target_dir = str(target_dir)

    def show_image(self, image: Any, name: str = "Image", counter: int | None = None, **kwargs: Any) -> None:
        """An image at step ``counter``."""
        refuse("show_image", kwargs)
        self.clog.show_image(image=image, name=name, counter=counter, **kwargs)

    def show_images(
        self, images: Any, name: str = "Images", counter: int | None = None, **kwargs: Any
    ) -> None:
        """A batch (N, C, H, W): one image per item, tagged ``name/0``, ``name/1``, ..."""
        refuse("show_images", kwargs)
        self.clog.show_images(images=images, name=name, counter=counter, **kwargs)

    def show_value(
        self,
        value: Any,
        name: str = "Value",
        counter: int | None = None,
        tag: str | None = None,
        **kwargs: Any,
    ) -> None:
        """A scalar; values sharing ``tag`` are drawn in one chart."""
        refuse("show_value", kwargs)
        self.clog.show_value(value=value, name=name, counter=counter, tag=tag, **kwargs)

    def show_text(self, text: str, name: str = "Text", counter: int | None = None, **kwargs: Any) -> None:
        """A text at step ``counter``."""
        refuse("show_text", kwargs)
        self.clog.show_text(text=text, name=name, counter=counter, **kwargs)

    def show_image_grid(
        self,
        image_array: Any,
        name: str = "Image-Grid",
        counter: int | None = None,
        nrow: int = 8,
        padding: int = 2,
        normalize: bool = False,
        range: Any = None,
        scale_each: bool = False,
        pad_value: float = 0,
        **kwargs: Any,
    ) -> None:
        """A batch tiled into one image, ``nrow`` per row."""
        refuse("show_image_grid", kwargs)
        _grid_options(padding, range, scale_each, pad_value)
        self.clog.show_image_grid(
            images=image_array, name=name, counter=counter, nrow=nrow, normalize=normalize, **kwargs
        )

    def show_barplot(
        self, array: Any, name: str = "barplot", counter: int | None = None, **kwargs: Any
    ) -> None:
        """A bar plot, as an image."""
        refuse("show_barplot", kwargs, ("labels",))
        self.clog.show_barplot(array=array, name=name, counter=counter, **kwargs)

    def show_lineplot(
        self,
        y_vals: Any,
        x_vals: Any = None,
        name: str = "lineplot",
        counter: int | None = None,
        **kwargs: Any,
    ) -> None:
        """A line plot, as an image."""
        refuse("show_lineplot", kwargs, ("labels",))
        self.clog.show_lineplot(y_vals=y_vals, x_vals=x_vals, name=name, counter=counter, **kwargs)

    def show_scatterplot(
        self, array: Any, name: str = "scatterplot", counter: int | None = None, **kwargs: Any
    ) -> None:
        """A scatter plot, as an image."""
        refuse("show_scatterplot", kwargs, ("labels",))
        self.clog.show_scatterplot(array=array, name=name, counter=counter, **kwargs)

    def show_piechart(
        self, array: Any, name: str = "piechart", counter: int | None = None, **kwargs: Any
    ) -> None:
        """A pie chart, as an image."""
        refuse("show_piechart", kwargs, ("labels",))
        self.clog.show_piechart(array=array, name=name, counter=counter, **kwargs)

    def show_embedding(
        self,
        tensor: Any,
        labels: Any = None,
        name: str = "default",
        label_img: Any = None,
        counter: int | None = None,
        **kwargs: Any,
    ) -> None:
        """An (N, D) embedding for the projector, with one label per point."""
        refuse("show_embedding", kwargs)
        if label_img is not None:
            raise ConfigError("show_embedding: label_img is not provided by trialog-trixi")
        self.clog.show_embedding(features=tensor, name=name, counter=counter, labels=labels, **kwargs)

    def show_histogram(
        self, array: Any, name: str = "Histogram", counter: int | None = None, **kwargs: Any
    ) -> None:
        """A histogram (TensorBoard's distributions over steps)."""
        refuse("show_histogram", kwargs, ("bins",))
        self.clog.show_histogram(array=array, name=name, counter=counter, **kwargs)

    def show_pr_curve(
        self, tensor: Any, labels: Any, name: str = "pr-curve", counter: int | None = None, **kwargs: Any
    ) -> None:
        """A precision-recall curve of scores ``tensor`` against 0/1 ``labels`` (TensorBoard's PR plugin)."""
        refuse("show_pr_curve", kwargs)
        self.clog.show_pr_curve(
            tensor, labels, name, counter=counter, **kwargs
        )  # trixi's order is the hook's


__all__ = ["TensorboardLogger"]
