"""``trixi.util.pytorchutils``: trixi's input gradients on :mod:`trialog_torch.diagnostics`, ``update_model``.

trixi's gradients call ``err_fn`` on the **input** (``inpt.detach()`` with ``requires_grad=True``, no
batch dimension added), not on ``model(inpt)``: trixi's docstrings say "the error function to evaluate the
output of the model on", but its code computes ``err_fn(inpt)`` and uses ``model`` only to zero its
gradients and to hook its ReLUs (guided backprop), so code written for trixi calls the model inside
``err_fn`` (``lambda x: model(x)[0, label]``). These functions do the same, through
:func:`trialog_torch.diagnostics.get_input_gradient` (whose ``err_fn`` gets the model's output), and
return torch tensors as trixi does. trixi's spellings ``"smooth-vanilla"``/``"smooth-guided"`` are
accepted beside the documented ``"vanilla-smooth"``/``"guided-smooth"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn
from trialog_torch import diagnostics
from trialog_torch.diagnostics import set_seed
from trialog_torch.utils import update_model as _update_model

_GRAD_TYPES = {"smooth-vanilla": "vanilla-smooth", "smooth-guided": "guided-smooth"}


class _ErrFnOnInput(nn.Module):
    """The model as trixi uses it for a gradient: its output is the input itself (``err_fn`` calls the
    model); its modules are the model's, so guided backprop hooks the model's ReLUs."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def get_input_gradient(
    model: nn.Module,
    inpt: torch.Tensor,
    err_fn: Callable[[torch.Tensor], torch.Tensor],
    grad_type: str = "vanilla",
    n_runs: int = 20,
    eps: float = 0.1,
    abs: bool = False,
    results_fn: Callable[..., Any] = lambda x, *y, **z: None,
) -> torch.Tensor:
    """The gradient of ``err_fn(inpt)`` with respect to ``inpt`` by ``grad_type`` (vanilla, vanilla-smooth,
    guided, guided-smooth), passed to ``results_fn`` and returned (a tensor shaped like ``inpt``)."""
    grads = diagnostics.get_input_gradient(
        _ErrFnOnInput(model), inpt, err_fn, _GRAD_TYPES.get(grad_type, grad_type), n_runs, eps, abs
    )
    out = torch.from_numpy(grads)
    results_fn(out)
    return out


def get_vanilla_image_gradient(
    model: nn.Module, inpt: torch.Tensor, err_fn: Callable[[torch.Tensor], torch.Tensor], abs: bool = False
) -> torch.Tensor:
    """The gradient of ``err_fn(inpt)`` with respect to ``inpt``."""
    return get_input_gradient(model, inpt, err_fn, "vanilla", abs=abs)


def get_guided_image_gradient(
    model: nn.Module, inpt: torch.Tensor, err_fn: Callable[[torch.Tensor], torch.Tensor], abs: bool = False
) -> torch.Tensor:
    """Guided backprop: the model's ReLUs pass back only positive gradients."""
    return get_input_gradient(model, inpt, err_fn, "guided", abs=abs)


def get_smooth_image_gradient(
    model: nn.Module,
    inpt: torch.Tensor,
    err_fn: Callable[[torch.Tensor], torch.Tensor],
    abs: bool = True,
    n_runs: int = 20,
    eps: float = 0.1,
    grad_type: str = "vanilla",
) -> torch.Tensor:
    """SmoothGrad: the mean gradient over ``n_runs`` noisy copies of ``inpt`` (N(0, 1) scaled by ``eps``)."""
    return get_input_gradient(model, inpt, err_fn, f"{grad_type}-smooth", n_runs, eps, abs)


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
