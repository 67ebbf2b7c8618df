"""``trixi.logger.tensorboard.pytorchtensorboardlogger``: trixi's PytorchTensorboardLogger."""

from __future__ import annotations

from typing import Any

from .._dispatched import backend
from .tensorboardlogger import TensorboardLogger


class PytorchTensorboardLogger(TensorboardLogger):
    """trixi's ``PytorchTensorboardLogger(target_dir)``: the TensorboardLogger taking torch tensors
    (the dispatcher converts every tensor to numpy once, for every logger class here)."""

    def plot_model_structure(self, model: Any, input_size: Any, name: str = "model_structure") -> None:
        """The model's structure as the text ``name`` (TensorBoard's text dashboard): one line per module
        with its parameters and its output shape for an input of ``input_size`` (trixi's list of one
        size with the batch dimension, or that size); ``trialog_torch.routing.show_model_structure``.

        Not TensorBoard's graph dashboard (``add_graph`` traces the model with torch.jit; the text graph
        is the same on every logger).
        """
        routing = backend(
            "trialog_torch.routing", "trialog-torch", "PytorchTensorboardLogger.plot_model_structure"
        )
        routing.show_model_structure(self.clog, model, input_size, name)


__all__ = ["PytorchTensorboardLogger"]
