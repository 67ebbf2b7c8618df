"""``trixi.logger.tensorboard.pytorchtensorboardlogger``: trixi's PytorchTensorboardLogger."""

from __future__ import annotations

from .tensorboardlogger import TensorboardLogger


class PytorchTensorboardLogger(TensorboardLogger):
    """trixi's ``PytorchTensorboardLogger(target_dir)``: the TensorboardLogger taking torch tensors
    (the dispatcher converts every tensor to numpy once, for every logger class here)."""


__all__ = ["PytorchTensorboardLogger"]
