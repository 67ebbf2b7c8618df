"""``trixi.util.pytorchutils``: :mod:`trialog_torch.diagnostics` and ``update_model``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import nn
from trialog_torch.diagnostics import (
    get_guided_image_gradient,
    get_input_gradient,
    get_smooth_image_gradient,
    get_vanilla_image_gradient,
    set_seed,
)
from trialog_torch.utils import update_model as _update_model


def update_model(
    original_model: nn.Module,
    update_dict: Mapping[str, Any],
    exclude_layers: Iterable[str] = (),
    do_warnings: bool = True,
) -> nn.Module:
    """Load the matching part of ``update_dict`` into ``original_model`` (warnings name what was skipped)."""
    _update_model(original_model, update_dict, exclude_layers, warn=do_warnings)
    return original_model


__all__ = [
    "get_guided_image_gradient",
    "get_input_gradient",
    "get_smooth_image_gradient",
    "get_vanilla_image_gradient",
    "set_seed",
    "update_model",
]
