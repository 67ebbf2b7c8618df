"""trialog-figures: the drawing helpers of trialog's loggers (images, PNG, GIF, matplotlib plots).

The core never draws: a logger plugin that shows images or plots (trialog-file, trialog-tensorboard,
trialog-visdom, trialog-notify, trialog-torch, trialog-trixi) builds on these helpers, so every backend sees
an image and a plot the same way. matplotlib (``trialog-figures[plots]``) and pillow
(``trialog-figures[video]``) are imported on first use: ``import trialog_figures`` loads numpy alone.

- images (numpy alone, :mod:`trialog_figures.imaging`): ``to_hwc_uint8``, ``to_float_chw``, ``make_grid``
  (torchvision's grid), ``encode_png``, ``decode_png``
- video frames (``show_video``, :mod:`trialog_figures.animation`): ``to_frames``, ``encode_gif`` (an animated
  GIF; needs the ``video`` extra, i.e. pillow)
- plots (need the ``plots`` extra, i.e. matplotlib): ``render`` (the module: one function per plot hook
  returning a matplotlib Figure, ``value_curves``, ``new_figure``, ``LOCK``), ``figure_to_array``,
  ``figure_to_png``, ``roc``, ``precision_recall``, ``pca_2d`` and ``binary_labels`` (the 0/1 check every
  ROC/PR curve makes, so swapped arguments are an error). The curve helpers take scikit-learn's
  ``(labels, scores)``; the ``show_roc_curve``/``show_pr_curve`` hooks take trixi's ``(tensor, labels, name)``.
- ``FigureHooks`` (:mod:`trialog_figures.figurehooks`): a logger base class implementing the ten drawn plot
  hooks with ``render``; the logger defines ``emit_figure(name, counter, figure, call)``, where a drawn
  figure goes::

      from trialog_figures import FigureHooks, figure_to_png

      class PictureLogger(FigureHooks):
          def emit_figure(self, name, counter, figure, call):
              Path(f"{name}_{counter}.png").write_bytes(figure_to_png(figure))
"""

from __future__ import annotations

from . import render
from .animation import encode_gif, to_frames
from .figurehooks import FigureHooks
from .imaging import decode_png, encode_png, make_grid, to_float_chw, to_hwc_uint8
from .render import binary_labels, figure_to_array, figure_to_png, pca_2d, precision_recall, roc

__all__ = [
    "FigureHooks",
    "binary_labels",
    "decode_png",
    "encode_gif",
    "encode_png",
    "figure_to_array",
    "figure_to_png",
    "make_grid",
    "pca_2d",
    "precision_recall",
    "render",
    "roc",
    "to_float_chw",
    "to_frames",
    "to_hwc_uint8",
]
