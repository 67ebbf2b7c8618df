"""exp.elog's diagnostics (trixi's visdom extras) on every logger: classification metrics, heat-map grids, GIFs
and videos, model statistics, gradient flow and structure, composed from the logger hooks by
trialog_torch.routing (whose own tests are plugins/torch/tests/test_routing.py)."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from trialog_torch.diagnostics import heatmap_overlay
from trialog_trixi.torchelog import TrixiTorchExperiment

from trialog.api import CombinedLogger, hookimpl
from trialog.errors import ConfigError, TrialogWarning

Image = pytest.importorskip("PIL.Image")


class Recorder:
    """A logger that keeps every call of the hooks the diagnostics use."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @hookimpl
    def show_value(self, value, name, counter, tag):
        self.calls.append(("value", name, tag, counter, value))

    @hookimpl
    def show_text(self, text, name):
        self.calls.append(("text", name, text))

    @hookimpl
    def show_heatmap(self, array, name, title):
        self.calls.append(("heatmap", name, array.tolist()))

    @hookimpl
    def show_barplot(self, array, name, labels, title):
        self.calls.append(("barplot", name, list(labels), np.asarray(array)))

    @hookimpl
    def show_histogram(self, array, name, bins):
        self.calls.append(("histogram", name, bins, np.asarray(array)))

    @hookimpl
    def show_image_grid(self, images, name, counter, nrow, normalize):
        self.calls.append(("grid", name, counter, np.asarray(images), nrow, normalize))

    @hookimpl
    def show_video(self, frames, name, counter, fps):
        self.calls.append(("video", name, counter, len(frames), fps))

    def of(self, kind: str) -> list[tuple]:
        return [c for c in self.calls if c[0] == kind]


class Exp(TrixiTorchExperiment):
    def setup(self):
        torch.manual_seed(0)
        self.model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


@pytest.fixture
def recorded(exp_kwargs):
    recorder = Recorder()
    exp = Exp(n_epochs=0, **{**exp_kwargs, "loggers": {"rec": recorder}})
    exp.setup()
    yield exp, recorder
    exp.close()


SCORES = torch.tensor([0.9, 0.8, 0.3, 0.6, 0.1, 0.2])
LABELS = torch.tensor([1, 1, 0, 0, 0, 1])


# ------------------------------------------------------------------------------------ classification metrics
def test_show_classification_metrics_as_trixi_calls_it(recorded):
    exp, rec = recorded
    out = exp.elog.show_classification_metrics(SCORES, LABELS, "val")
    assert out["metric"] == {"roc-auc": out["roc-auc"], "pr-score": out["pr-score"]}
    # trixi: one chart "val", one line per metric (show_value with the window name as tag)
    assert rec.of("value") == [
        ("value", "roc-auc", "val", None, pytest.approx(7 / 9)),
        ("value", "pr-score", "val", None, pytest.approx(2 / 3)),
    ]


def test_metrics_plots_tag_name_and_counter(recorded):
    exp, rec = recorded
    exp.elog.show_classification_metrics(
        SCORES, LABELS, "val", metric=("mcc", "accuracy", "confusion-matrix", "per-class"),
        tag_name="metrics", counter=4,
    )  # fmt: skip
    assert [(c[1], c[2], c[3]) for c in rec.of("value")] == [
        ("mcc", "metrics", 4),
        ("accuracy", "metrics", 4),
    ]
    assert rec.of("heatmap") == [("heatmap", "val_confusion_matrix", [[2, 1], [1, 2]])]
    (bars,) = rec.of("barplot")
    assert bars[1:3] == ("val_per_class", ["0", "1"])
    assert np.allclose(bars[3], np.full((2, 3), 2 / 3))


def test_bad_metrics_are_named_errors_and_undefined_values_warn(recorded):
    exp, rec = recorded
    with pytest.raises(ConfigError, match=r"unknown metric.*'auc'.*choose from roc-auc"):
        exp.elog.show_classification_metrics(SCORES, LABELS, "val", metric=("auc",))
    multiclass = torch.softmax(torch.randn(6, 3), dim=1)
    with pytest.raises(ConfigError, match="mcc need binary scores"):
        exp.elog.show_classification_metrics(multiclass, torch.tensor([0, 1, 2, 0, 1, 2]), "val", ("mcc",))
    with pytest.raises(ConfigError, match="labels must be class indices"):  # trixi's order swapped
        exp.elog.show_classification_metrics(LABELS, SCORES, "val")
    with pytest.warns(TrialogWarning, match="roc-auc is undefined"):
        exp.elog.show_classification_metrics(
            SCORES, torch.ones(6, dtype=torch.long), "one", ("roc-auc", "f1")
        )
    assert [c[1] for c in rec.of("value")] == ["f1"]


# ------------------------------------------------------------------------------------------- heat-map grids
def test_show_image_grid_heatmap_writes_the_grid_and_reaches_the_loggers(recorded):
    exp, rec = recorded
    heat, back = torch.rand(3, 1, 4, 5), torch.rand(3, 3, 4, 5)
    path = exp.elog.show_image_grid_heatmap(heat, back, "saliency", ratio=0.5, n_iter=3, nrow=2)
    assert path == exp.img_dir / "saliency_00003.png"
    assert Image.open(path).size == (2 * 5 + 3 * 2, 2 * 4 + 3 * 2)  # 2 x 2 cells, padding 2
    ((_, name, counter, images, nrow, normalize),) = rec.of("grid")
    assert (name, counter, images.shape, nrow, normalize) == ("saliency", 3, (3, 3, 4, 5), 2, False)
    assert np.allclose(images, heatmap_overlay(heat, back, ratio=0.5))
    with pytest.raises(ConfigError, match="pass ratio= as a keyword"):
        exp.elog.show_image_grid_heatmap(heat, back, 0.5)


# --------------------------------------------------------------------------------------------- GIFs, videos
def _clip(n: int = 4) -> np.ndarray:
    """(L, H, W, C) uint8 frames, each a different grey."""
    return np.stack([np.full((5, 6, 3), 40 * (i + 1), np.uint8) for i in range(n)])


def test_show_gif_saves_an_animated_gif_and_reaches_the_loggers(recorded):
    exp, rec = recorded
    path = exp.elog.show_gif(list(_clip()), "walk", scale=2.0, fps=10)
    assert path == exp.img_dir / "walk.gif"
    gif = Image.open(path)
    assert (gif.n_frames, gif.size, gif.info["duration"]) == (4, (12, 10), 100)
    assert rec.of("video") == [("video", "walk", None, 4, 10)]


def test_show_video_takes_trixis_layouts_and_says_it_writes_a_gif(recorded):
    exp, rec = recorded
    lchw = torch.from_numpy(_clip(3)).permute(0, 3, 1, 2).float() / 255
    with pytest.warns(TrialogWarning, match=r"animated GIF \(img/clip.gif\), not '.mp4'"):
        path = exp.elog.show_video(lchw, "clip", dim="LxCxHxW")
    assert path == exp.img_dir / "clip.gif"
    assert (Image.open(path).n_frames, Image.open(path).size) == (3, (6, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)  # warned once per logger
        exp.elog.show_video(_clip(2), "clip2", extension=".webm")
    assert rec.of("video") == [("video", "clip", None, 3, 25), ("video", "clip2", None, 2, 25)]
    with pytest.raises(ConfigError, match="dim='HxW' unknown"):
        exp.elog.show_video(_clip(2), "bad", dim="HxW", extension=".gif")


# -------------------------------------------------------------------------------------------- model plots
def test_model_plots_reach_the_loggers(recorded):
    exp, rec = recorded
    model = exp.model
    exp.elog.plot_model_statistics_weights(model, model_name="net")
    (bars,) = rec.of("barplot")
    assert bars[1:3] == ("net_weights", ["0.weight", "0.bias", "2.weight", "2.bias"])
    assert bars[3][0, 0] == pytest.approx(model[0].weight.mean().item())
    hists = rec.of("histogram")
    assert [(h[1], h[2], h[3].size) for h in hists] == [
        ("net_weights/0.weight", 30, 12),
        ("net_weights/0.bias", 30, 4),
        ("net_weights/2.weight", 30, 8),
        ("net_weights/2.bias", 30, 2),
    ]
    assert np.allclose(hists[0][3], model[0].weight.detach().flatten().numpy())
    model(torch.ones(2, 3)).sum().backward()
    rec.calls.clear()
    exp.elog.plot_model_statistics_grads(model, model_name="net")
    assert rec.of("histogram")[1][1] == "net_grads/0.bias"
    assert np.allclose(rec.of("histogram")[3][3], [2.0, 2.0])  # d(sum over 2 rows)/d(bias)
    rec.calls.clear()
    exp.elog.plot_model_gradient_flow(model, name="net")
    ((_, name, labels, table),) = rec.of("barplot")
    assert (name, labels, table.shape) == ("net_gradient_flow", ["0.weight", "2.weight"], (2, 2))
    assert table[1, 1] == pytest.approx(model[2].weight.grad.abs().max().item())
    rec.calls.clear()
    exp.elog.plot_model_statistics_weights(model, model_name="bars_only", histograms=False)
    assert [c[:2] for c in rec.calls] == [("barplot", "bars_only_weights")]
    exp.elog.plot_model_structure(model, (2, 3), name="net_structure")
    ((_, name, text),) = rec.of("text")
    assert name == "net_structure" and text.splitlines()[1] == "  0: Linear [16 params] -> (2, 4)"


# ------------------------------------------------------------------------------ real loggers, end to end
def test_file_and_tensorboard_loggers_show_the_diagnostics(exp_kwargs):
    pytest.importorskip("trialog_tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    loggers = {"file": {"type": "file", "plot_every_s": None}, "tb": "tensorboard"}
    exp = Exp(n_epochs=0, **{**exp_kwargs, "loggers": loggers})
    exp.setup()
    exp.elog.show_classification_metrics(SCORES, LABELS, "val", metric=("roc-auc", "confusion-matrix"))
    exp.elog.plot_model_statistics_weights(exp.model, model_name="net")
    exp.elog.show_video(_clip(3), "clip", extension=".gif")
    summary = exp.close()
    assert all(entry["failures"] == 0 for entry in summary.values()), summary

    with open(exp.log_dir / "values.csv", newline="") as handle:
        rows = [(r["name"], r["tag"]) for r in csv.DictReader(handle)]
    assert ("roc-auc", "val") in rows
    assert (exp.plot_dir / "val_confusion_matrix_00001.png").is_file()
    assert (exp.plot_dir / "net_weights" / "0.weight_00001.png").is_file()
    assert Image.open(exp.img_dir / "clip_00001.gif").n_frames == 3  # the file logger's copy

    logdir = exp.run_dir / "save" / "tensorboard"
    main = EventAccumulator(str(logdir), size_guidance={"images": 0, "histograms": 0})
    main.Reload()
    assert {"net_weights/0.weight", "net_weights/2.bias"} <= set(main.Tags()["histograms"])
    assert {"val_confusion_matrix", "net_weights", "clip"} <= set(main.Tags()["images"])
    assert main.Images("clip")[0].encoded_image_string[:6] == b"GIF89a"
    sub = EventAccumulator(str(logdir / "val"))  # Keras' layout: the card "roc-auc", its line "val"
    sub.Reload()
    assert sub.Scalars("roc-auc")[0].value == pytest.approx(7 / 9)
