"""``trixi.logger.file.pytorchplotfilelogger``: trixi's tensor image file logger on :class:`trialog_file.FileLogger`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from trialog_file import FileLogger
from trialog_torch.utils import name_and_iter_to_filename

from trialog.api import CombinedLogger, to_numpy
from trialog.errors import ConfigError

from .._dispatched import backend, refuse, untitled
from .numpyplotfilelogger import NumpyPlotFileLogger

#: torchvision ``save_image`` arguments the file logger's grid takes.
_IMAGE_ARGS = ("nrow", "normalize")


def _stem(name: str, n_iter: Any, iter_format: str, prefix: bool) -> str:
    stem = name[: -len(".png")] if name.endswith(".png") else name
    return name_and_iter_to_filename(stem, n_iter, "", iter_format, prefix)


def _save(
    clog: Any, tensor: Any, stem: str, image_args: Mapping[str, Any] | None, grid: bool, title: Any = None
) -> None:
    """One file as torchvision's ``save_image`` writes it: a 4-D batch (or ``grid``) as one grid image
    (``title``: the PNG's Title)."""
    args = dict(image_args or {})
    refuse("image_args", args, _IMAGE_ARGS)
    array = to_numpy(tensor)
    if grid or np.ndim(array) == 4 or args:
        batch = array if np.ndim(array) == 4 or isinstance(array, (list, tuple)) else np.asarray(array)[None]
        clog.show_image_grid(images=batch, name=stem, title=title, **args)
    else:
        clog.show_image(image=array, name=stem, title=title)


def _static(image_dir: str | os.PathLike[str], save: Any) -> None:
    clog = CombinedLogger(
        {"file": FileLogger(folder=image_dir, img_dir=image_dir, overwrite=True, csv="off")},
        max_failures=None,
    )
    try:
        save(clog)
    finally:
        clog.close()


class PytorchPlotFileLogger(NumpyPlotFileLogger):
    """trixi's ``PytorchPlotFileLogger(img_dir, plot_dir, ...)``: tensors saved as PNG files in ``img_dir``.

    ``n_iter`` is added to the file name as trixi did (``name_00012.png``, or ``00012_name.png`` with
    ``prefix``); ``image_args`` may hold ``nrow`` and ``normalize`` (the grid's options).
    """

    def save_image(
        self,
        tensor: Any,
        name: str,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        image_args: Mapping[str, Any] | None = None,
    ) -> None:
        """Save an image (a 4-D batch as one grid) as ``img_dir/<name>[_<n_iter>].png``."""
        _save(self.clog, tensor, _stem(name, n_iter, iter_format, prefix), image_args, grid=False)

    def save_image_grid(
        self,
        tensor: Any,
        name: str,
        n_iter: int | None = None,
        prefix: bool = False,
        iter_format: str = "{:05d}",
        image_args: Mapping[str, Any] | None = None,
    ) -> None:
        """Save a (N, C, H, W) batch as one grid image ``img_dir/<name>[_<n_iter>].png``."""
        _save(self.clog, tensor, _stem(name, n_iter, iter_format, prefix), image_args, grid=True)

    def save_images(
        self,
        tensors: Mapping[str, Any],
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        image_args: Mapping[str, Any] | None = None,
    ) -> None:
        """Save each ``{file name: tensor}`` as an image."""
        for name, tensor in tensors.items():
            self.save_image(tensor, name, n_iter, iter_format, prefix, image_args)

    @staticmethod
    def save_image_static(
        image_dir: str | os.PathLike[str],
        tensor: Any,
        name: str,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        image_args: Mapping[str, Any] | None = None,
    ) -> None:
        """``save_image`` into ``image_dir`` without a logger."""
        stem = _stem(name, n_iter, iter_format, prefix)
        _static(image_dir, lambda clog: _save(clog, tensor, stem, image_args, grid=False))

    @staticmethod
    def save_image_grid_static(
        image_dir: str | os.PathLike[str],
        tensor: Any,
        name: str,
        n_iter: int | None = None,
        prefix: bool = False,
        iter_format: str = "{:05d}",
        image_args: Mapping[str, Any] | None = None,
    ) -> None:
        """``save_image_grid`` into ``image_dir`` without a logger."""
        stem = _stem(name, n_iter, iter_format, prefix)
        _static(image_dir, lambda clog: _save(clog, tensor, stem, image_args, grid=True))

    @staticmethod
    def save_images_static(
        image_dir: str | os.PathLike[str],
        tensors: Mapping[str, Any],
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        image_args: Mapping[str, Any] | None = None,
    ) -> None:
        """``save_images`` into ``image_dir`` without a logger."""

        def save(clog: Any) -> None:
            for name, tensor in tensors.items():
                _save(clog, tensor, _stem(name, n_iter, iter_format, prefix), image_args, grid=False)

        _static(image_dir, save)

    def show_image(  # type: ignore[override]
        self,
        image: Any,
        name: str,
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        image_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``save_image`` (trixi's logger interface; ``title=`` the PNG's Title)."""
        title = refuse("show_image", kwargs)
        _save(self.clog, image, _stem(name, n_iter, iter_format, prefix), image_args, grid=False, title=title)

    def show_image_grid(
        self,
        images: Any,
        name: str,
        n_iter: int | None = None,
        prefix: bool = False,
        iter_format: str = "{:05d}",
        image_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``save_image_grid`` (trixi's logger interface; ``title=`` the PNG's Title)."""
        title = refuse("show_image_grid", kwargs)
        _save(self.clog, images, _stem(name, n_iter, iter_format, prefix), image_args, grid=True, title=title)

    def show_image_grid_heatmap(
        self,
        heatmap: Any,
        background: Any = None,
        ratio: float = 0.3,
        normalize: bool = True,
        colormap: Any = "jet",
        name: str = "heatmap",
        n_iter: int | None = None,
        prefix: bool = False,
        iter_format: str = "{:05d}",
        image_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``heatmap`` (N, 1, H, W) coloured by ``colormap``, mixed into ``background`` (N, C, H, W) by
        ``ratio`` (0: only the background, 1: only the map), saved as the grid ``img_dir/<name>[_<n_iter>].png``
        (``trialog_torch.routing.show_heatmap_grid``, as ``exp.elog.show_image_grid_heatmap``).

        ``colormap``: a matplotlib colormap or its name, or OpenCV's constant (trixi's ``cv2.COLORMAP_JET``);
        ``image_args`` may hold ``nrow``.
        """
        title = refuse("show_image_grid_heatmap", kwargs)
        args = dict(image_args or {})
        refuse("show_image_grid_heatmap: image_args", args, ("nrow",))
        routing = backend(
            "trialog_torch.routing", "trialog-torch", "PytorchPlotFileLogger.show_image_grid_heatmap"
        )
        routing.show_heatmap_grid(
            self.clog,
            heatmap,
            background,
            _stem(name, n_iter, iter_format, prefix),
            ratio,
            normalize,
            colormap,
            nrow=int(args.get("nrow", 8)),
            title=title,
        )

    def show_images(
        self,
        images: Sequence[Any],
        name: Sequence[str],
        n_iter: int | None = None,
        iter_format: str = "{:05d}",
        prefix: bool = False,
        image_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``save_images`` of ``images`` under the file names ``name`` (one per image)."""
        untitled("show_images", kwargs)
        refuse("show_images", kwargs)
        names = [name] if isinstance(name, str) else list(name)
        if len(names) != len(images):
            raise ConfigError(
                f"show_images: {len(images)} images but {len(names)} names; give one name per image"
            )
        self.save_images(dict(zip(names, images)), n_iter, iter_format, prefix, image_args)


__all__ = ["PytorchPlotFileLogger"]
