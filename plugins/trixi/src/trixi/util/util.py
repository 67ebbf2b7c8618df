"""``trixi.util.util``: trixi's helpers mapped onto trialog's imaging, rendering and results."""

from __future__ import annotations

from typing import Any

import numpy as np
from trialog_figures import figure_to_array, make_grid
from trialog_torch.diagnostics import get_tensor_embedding
from trialog_torch.utils import name_and_iter_to_filename
from trialog_trixi.resultdict import LogDict, ResultElement, ResultLogDict


def np_make_grid(
    np_array: Any,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    range: Any = None,
    scale_each: bool = False,
    pad_value: float = 0,
    to_int: bool = False,
    standardize: bool = False,
) -> np.ndarray:
    """A (C, H, W) grid of a (B, C, H, W) batch (or a list of images): uint8 with ``to_int``, else floats in [0, 1].

    ``range`` clips to (min, max) and maps that to [0, 1]; ``scale_each`` normalizes each image on its own;
    ``standardize`` subtracts the mean and divides by the std first.
    """
    batch = np.asarray(np_array, dtype=float)
    if standardize:
        batch = (batch - batch.mean()) / (batch.std() or 1.0)
    if range is not None:
        lo, hi = float(range[0]), float(range[1])
        batch = (np.clip(batch, lo, hi) - lo) / ((hi - lo) or 1.0)
        normalize = False
    elif scale_each and batch.ndim == 4:
        lo = batch.min(axis=(1, 2, 3), keepdims=True)
        hi = batch.max(axis=(1, 2, 3), keepdims=True)
        batch = (batch - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
        normalize = False
    grid = make_grid(batch, nrow=nrow, padding=padding, normalize=normalize, pad_value=pad_value)
    chw = np.transpose(grid, (2, 0, 1))
    return chw if to_int else chw.astype(np.float32) / 255.0


def figure_to_image(figures: Any, close: bool = True) -> np.ndarray:
    """Render a matplotlib figure (or a list of them) to uint8 (C, H, W) (or (N, C, H, W))."""
    if isinstance(figures, (list, tuple)):
        return np.stack([figure_to_image(f, close) for f in figures])
    return np.transpose(figure_to_array(figures), (2, 0, 1))


def chw_to_hwc(np_array: Any) -> np.ndarray:
    """(C, H, W) -> (H, W, C) (and (N, C, H, W) -> (N, H, W, C))."""
    arr = np.asarray(np_array)
    if arr.ndim == 3:
        return np.transpose(arr, (1, 2, 0))
    if arr.ndim == 4:
        return np.transpose(arr, (0, 2, 3, 1))
    return arr


class SafeDict(dict):  # type: ignore[type-arg]
    """A dict for ``str.format_map`` that leaves unknown fields as ``{field}``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


__all__ = [
    "LogDict",
    "ResultElement",
    "ResultLogDict",
    "SafeDict",
    "chw_to_hwc",
    "figure_to_image",
    "get_tensor_embedding",
    "name_and_iter_to_filename",
    "np_make_grid",
]
