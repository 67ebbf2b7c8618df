"""trialog_torch.routing: trixi's visdom diagnostics composed from the logger hooks, on any CombinedLogger
(``exp.elog``, which sends them, is trialog-trixi's: plugins/trixi/tests/test_elog_routing.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from trialog_torch import routing
from trialog_torch.diagnostics import heatmap_overlay

from trialog.api import CombinedLogger, hookimpl
from trialog.errors import ConfigError

SCORES = torch.tensor([0.9, 0.8, 0.3, 0.6, 0.1, 0.2])
LABELS = torch.tensor([1, 1, 0, 0, 0, 1])


class Calls:
    """A logger keeping the calls of two hooks as (hook, name, payload) tuples in ``calls``."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @hookimpl
    def show_value(self, value, name, counter, tag):
        self.calls.append(("value", name, (tag, counter, value)))

    @hookimpl
    def show_histogram(self, array, name, bins):
        self.calls.append(("histogram", name, np.asarray(array)))


def test_the_composition_works_on_any_combined_logger():
    rec = Calls()
    with CombinedLogger({"rec": rec}) as clog:
        routing.show_classification_metrics(clog, SCORES.numpy(), LABELS.numpy(), "test", metric="f1")
    assert rec.calls == [("value", "f1", ("test", None, pytest.approx(2 / 3)))]


def test_heatmap_overlay_mixes_colour_map_and_background():
    heat = np.linspace(0, 1, 2 * 4 * 5).reshape(2, 1, 4, 5)
    back = np.full((2, 1, 4, 5), 0.5)
    only_back = heatmap_overlay(heat, back, ratio=0.0, normalize=False)
    assert only_back.shape == (2, 3, 4, 5) and np.allclose(only_back, 0.5)
    only_map = heatmap_overlay(heat, back, ratio=1.0)
    jet = heatmap_overlay(heat)
    assert np.allclose(only_map, jet)
    assert np.allclose(jet[0, :, 0, 0], [0.0, 0.0, 0.5], atol=0.01)  # jet's dark blue at 0
    assert np.allclose(heatmap_overlay(heat, colormap=2), jet)  # cv2.COLORMAP_JET, as trixi passed
    mixed = heatmap_overlay(heat, back, ratio=0.3, normalize=False)
    assert np.allclose(mixed, 0.7 * 0.5 + 0.3 * jet)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"heatmap": np.zeros((2, 1, 2, 3, 4))}, "heatmap must be"),
        ({"background": np.zeros((3, 1, 4, 5))}, "background must be"),
        ({"background": np.zeros((2, 2, 4, 5))}, "1 or 3 channels"),
        ({"ratio": 1.5}, "ratio must be in"),
        ({"colormap": "no-such-map"}, "colormap 'no-such-map' unknown"),
    ],
)
def test_bad_heatmap_input_is_a_named_error(kwargs, match):
    args = {"heatmap": np.zeros((2, 1, 4, 5)), **kwargs}
    with pytest.raises(ConfigError, match=match):
        heatmap_overlay(**args)


def test_large_parameters_are_thinned_for_histograms():
    rec = Calls()
    model = nn.Linear(1000, 300)  # 300_000 weights
    with CombinedLogger({"rec": rec}) as clog:
        routing.show_model_statistics(clog, model, "big")
    sizes = [payload.size for hook, _, payload in rec.calls if hook == "histogram"]
    assert sizes == [100_000, 300]
