"""``trixi.util.metrics``: trixi's curve and metric helpers (``tensor`` = scores, ``labels`` = classes).

``get_roc_curve(tensor, labels, reduce_to_n_samples=None, use_sub_process=False, results_fn=...)`` returns
``(tpr, fpr)`` and calls ``results_fn(tpr, fpr)``; ``get_pr_curve`` alike with ``(precision, recall)``;
``get_classification_metrics(tensor, labels, name="", metric=("roc-auc", "pr-score"), use_sub_process=False,
tag_name=None, results_fn=...)`` calls ``results_fn(value, metric, tag_name or name)`` per metric and returns
the metrics (``out["roc-auc"]``, plus trialog's accuracy, confusion matrix and curves).

These are the functions behind ``PytorchExperimentLogger``'s static methods of the same names (one
implementation, :class:`trialog_trixi.torchelog.TorchExperimentLogger` over
:func:`trialog_torch.diagnostics.get_classification_metrics`). ``use_sub_process`` is accepted and the work
is done in the caller's process (the values are returned and ``results_fn`` runs here); labels that are
not class indices are a ConfigError instead of trixi's warning and ``None``.
"""

from trialog_trixi.torchelog import TorchExperimentLogger

get_roc_curve = TorchExperimentLogger.get_roc_curve
get_pr_curve = TorchExperimentLogger.get_pr_curve
get_classification_metrics = TorchExperimentLogger.get_classification_metrics

__all__ = ["get_classification_metrics", "get_pr_curve", "get_roc_curve"]
