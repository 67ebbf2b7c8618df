"""``trixi.util.metrics``: :func:`trialog_torch.diagnostics.get_classification_metrics`."""

from trialog_torch.diagnostics import get_classification_metrics

__all__ = ["get_classification_metrics"]
