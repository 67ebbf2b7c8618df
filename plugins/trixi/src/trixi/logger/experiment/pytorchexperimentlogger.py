"""``trixi.logger.experiment.pytorchexperimentlogger``: trixi's PytorchExperimentLogger."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from trialog_torch.experiment import TorchExperiment
from trialog_trixi.torchelog import TorchExperimentLogger

from .experimentlogger import _DEFAULT_FORMAT, _open_run


class PytorchExperimentLogger(TorchExperimentLogger):
    """trixi's ``PytorchExperimentLogger(exp_name, base_dir, ...)``: a run folder plus model and checkpoint files."""

    def __init__(
        self,
        exp_name: str,
        base_dir: str | os.PathLike[str],
        folder_format: str = _DEFAULT_FORMAT,
        resume: bool = False,
        text_logger_args: Any = None,
        plot_logger_args: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(_open_run(TorchExperiment, exp_name, base_dir, folder_format, resume, kwargs))
        self._owns_run = True

    @classmethod
    def of(cls, experiment: TorchExperiment) -> PytorchExperimentLogger:
        """The logger of an existing experiment's run folder (``PytorchExperiment.elog``); opens no run."""
        elog = cls.__new__(cls)
        TorchExperimentLogger.__init__(elog, experiment)
        elog._owns_run = False
        return elog

    def close(self) -> None:
        """Mark the run this logger opened finished and release it (an experiment's ``elog`` leaves its
        experiment alone: the experiment ends its run)."""
        if self._owns_run:
            self.experiment.close()

    @staticmethod
    def get_input_gradient(
        model: Any,
        inpt: Any,
        err_fn: Callable[[Any], Any],
        grad_type: str = "vanilla",
        n_runs: int = 20,
        eps: float = 0.1,
        abs: bool = False,
        results_fn: Callable[..., Any] = lambda x, *y, **z: None,
    ) -> Any:
        """trixi's input gradient: ``err_fn`` gets the input (see :mod:`trixi.util.pytorchutils`)."""
        from ...util.pytorchutils import get_input_gradient

        return get_input_gradient(model, inpt, err_fn, grad_type, n_runs, eps, abs, results_fn)

    def show_image_gradient(  # type: ignore[override]
        self,
        name: str,
        model: Any,
        inpt: Any,
        err_fn: Callable[[Any], Any],
        grad_type: str = "vanilla",
        n_runs: int = 20,
        eps: float = 0.1,
        abs: bool = False,
        **image_grid_params: Any,
    ) -> Any:
        """The input gradient of ``err_fn(inpt)`` (trixi's: ``err_fn`` calls the model) as the grid image
        ``img/<name>.png``; ``normalize`` is True unless given (raw gradients would show black)."""
        grads = self.get_input_gradient(model, inpt, err_fn, grad_type, n_runs, eps, abs)
        image_grid_params.setdefault("normalize", True)
        return self.show_image_grid(grads, name, **image_grid_params)


__all__ = ["PytorchExperimentLogger"]
