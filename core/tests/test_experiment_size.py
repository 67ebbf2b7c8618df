"""The Experiment class stays a readable public surface (issue 21): its work lives in the experiment_* modules."""

from __future__ import annotations

import inspect

from trialog.experiment.experiment import Experiment


def test_the_experiment_class_is_at_most_600_lines():
    lines, _ = inspect.getsourcelines(Experiment)
    assert len(lines) <= 600, (
        f"Experiment is {len(lines)} lines; move bodies into trialog.experiment_* modules"
    )


def test_the_experiment_helpers_never_import_the_class_module():
    from trialog.experiment import lifecycle
    from trialog.experiment import opening as experiment_open
    from trialog.experiment import resume as experiment_resume
    from trialog.experiment import stages as experiment_stages
    from trialog.experiment import state as experiment_state

    for module in (experiment_open, experiment_resume, experiment_stages, experiment_state, lifecycle):
        source = inspect.getsource(module)
        assert (
            "from .experiment import" not in source and "trialog.experiment.experiment import" not in source
        ), module
