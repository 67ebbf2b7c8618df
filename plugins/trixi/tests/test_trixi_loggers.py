"""trixi's standalone logger classes (trixi docs 6.2-6.7), called as trixi's documentation shows, with
real backends: files, TensorBoard's reader, a Visdom server, and loopback fakes of Slack and Telegram."""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from trialog_figures import decode_png, make_grid, render, to_hwc_uint8

from trialog.errors import ConfigError, TrialogWarning

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0

MODULES = {
    "trixi.logger": [
        "AbstractLogger", "NumpyPlotFileLogger", "PytorchPlotFileLogger", "TextFileLogger",
        "NumpySeabornPlotLogger", "NumpySeabornImagePlotLogger", "NumpyVisdomLogger", "PytorchVisdomLogger",
        "TensorboardLogger", "PytorchTensorboardLogger", "SlackMessageLogger", "TelegramMessageLogger",
    ],
    "trixi.logger.abstractlogger": ["AbstractLogger", "convert_params", "threaded"],
    "trixi.logger.file": ["NumpyPlotFileLogger", "PytorchPlotFileLogger", "TextFileLogger"],
    "trixi.logger.file.numpyplotfilelogger": ["NumpyPlotFileLogger", "threaded"],
    "trixi.logger.file.pytorchplotfilelogger": ["PytorchPlotFileLogger"],
    "trixi.logger.file.textfilelogger": ["TextFileLogger"],
    "trixi.logger.plt": ["NumpySeabornPlotLogger", "NumpySeabornImagePlotLogger"],
    "trixi.logger.plt.numpyseabornplotlogger": ["NumpySeabornPlotLogger"],
    "trixi.logger.plt.numpyseabornimageplotlogger": ["NumpySeabornImagePlotLogger"],
    "trixi.logger.tensorboard": ["TensorboardLogger", "PytorchTensorboardLogger"],
    "trixi.logger.tensorboard.tensorboardlogger": ["TensorboardLogger"],
    "trixi.logger.tensorboard.pytorchtensorboardlogger": ["PytorchTensorboardLogger"],
    "trixi.logger.visdom": ["NumpyVisdomLogger", "PytorchVisdomLogger", "start_visdom"],
    "trixi.logger.visdom.numpyvisdomlogger": ["NumpyVisdomLogger", "start_visdom"],
    "trixi.logger.visdom.pytorchvisdomlogger": ["PytorchVisdomLogger"],
    "trixi.logger.message": ["SlackMessageLogger", "TelegramMessageLogger"],
    "trixi.logger.message.slackmessagelogger": ["SlackMessageLogger"],
    "trixi.logger.message.telegrammessagelogger": ["TelegramMessageLogger"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(MODULES))
def test_documented_names_import_from_their_paths(module):
    mod = importlib.import_module(module)
    for name in MODULES[module]:
        assert getattr(mod, name) is not None, (module, name)


def test_every_logger_class_is_an_abstract_logger():
    import trixi.logger as tl

    for name in MODULES["trixi.logger"]:
        assert issubclass(getattr(tl, name), tl.AbstractLogger), name
    assert issubclass(tl.PytorchPlotFileLogger, tl.NumpyPlotFileLogger)
    assert issubclass(tl.PytorchVisdomLogger, tl.NumpyVisdomLogger)
    assert issubclass(tl.NumpySeabornImagePlotLogger, tl.NumpySeabornPlotLogger)


def _png(path: Path) -> np.ndarray:
    assert path.is_file(), path
    return decode_png(path.read_bytes())


# ------------------------------------------------------------------------------------------- abstract
def test_abstract_logger_interface_and_decorators():
    from trixi.logger.abstractlogger import AbstractLogger, convert_params, threaded

    class Mine(AbstractLogger):
        @convert_params
        def show_value(self, value, name):
            return type(value), name

    logger = Mine()
    assert logger.show_value(torch.ones(2), "v") == (np.ndarray, "v")
    with pytest.raises(NotImplementedError):
        AbstractLogger().show_image(np.zeros((2, 2)))
    out = []
    thread = threaded(out.append)(5)
    thread.join()
    assert out == [5]


# ----------------------------------------------------------------------------------------------- files
def test_numpy_plot_file_logger_writes_trixis_files(tmp_path):
    from trixi.logger.file.numpyplotfilelogger import NumpyPlotFileLogger

    img_dir, plot_dir = tmp_path / "img", tmp_path / "plot"
    logger = NumpyPlotFileLogger(str(img_dir), str(plot_dir))
    image = np.random.default_rng(0).random((3, 10, 12))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)
        logger.show_image(image, "sample")
        logger.show_image(image * 0.5, "sample")  # trixi keeps the latest per name
        logger.show_value(1.0, "train", tag="loss")
        logger.show_value(0.5, "val", tag="loss")
        logger.show_value(3.0, "lr", counter=7)
        logger.show_barplot(np.array([1.0, 2.0, 3.0]), "bars")
        logger.show_boxplot(np.random.default_rng(1).random((10, 2)), "box")
        logger.show_lineplot(np.arange(5.0), np.arange(5.0) * 2, "line")
        logger.show_piechart(np.array([1.0, 3.0]), "pie")
        logger.show_scatterplot(np.random.default_rng(2).random((9, 2)), "scatter")
        figure = render.new_figure("mine")
        figure.add_subplot().plot([0, 1], [1, 0])
        logger.show_matplot_plt(figure, "custom")
        logger.close()
    assert np.array_equal(_png(img_dir / "sample.png"), to_hwc_uint8(image * 0.5))
    assert sorted(p.name for p in img_dir.iterdir()) == ["custom.png", "sample.png"]
    for plot in ("loss", "lr", "bars", "box", "line", "pie", "scatter"):
        assert _png(plot_dir / f"{plot}.png").shape == (480, 640, 3), plot
    assert sorted(p.name for p in plot_dir.iterdir()) == sorted(
        f"{p}.png" for p in ("loss", "lr", "bars", "box", "line", "pie", "scatter")
    )
    with pytest.raises(ConfigError, match=r"show_barplot: file_format '\.pdf'.*'\.png'"):
        NumpyPlotFileLogger(img_dir, plot_dir).show_barplot(np.ones(2), "b", file_format=".pdf")
    with pytest.raises(ConfigError, match=r"show_image: option\(s\) 'cmap' not provided"):
        NumpyPlotFileLogger(img_dir, plot_dir).show_image(image, "x", cmap="gray")


def test_a_failing_backend_call_warns_and_the_run_goes_on(tmp_path):
    from trixi.logger.file import NumpyPlotFileLogger

    logger = NumpyPlotFileLogger(tmp_path / "img", tmp_path / "plot")
    with pytest.warns(TrialogWarning, match=r"'file' .*failed in show_image"):
        logger.show_image(np.zeros((2, 3, 4, 5, 6)), "bad")
    logger.show_image(np.zeros((4, 4)), "good")
    with pytest.warns(TrialogWarning, match=r"logger summary: 'file' .*1 failures"):
        assert logger.close()["file"]["failures"] == 1
    assert (tmp_path / "img" / "good.png").is_file() and not (tmp_path / "img" / "bad.png").exists()


def test_pytorch_plot_file_logger_saves_tensors_with_trixis_names(tmp_path):
    from trixi.logger.file.pytorchplotfilelogger import PytorchPlotFileLogger

    img = tmp_path / "img"
    logger = PytorchPlotFileLogger(img_dir=img, plot_dir=tmp_path / "plot")
    gen = torch.Generator().manual_seed(0)
    single, batch = torch.rand(3, 8, 9, generator=gen), torch.rand(5, 3, 8, 9, generator=gen)
    logger.save_image(single, "single")
    logger.save_image(single, "single", n_iter=12)
    logger.save_image(single, "single", n_iter=3, prefix=True, iter_format="{:03d}")
    logger.save_image(batch, "batch")  # a 4-D tensor is one grid, as torchvision's save_image
    logger.save_image_grid(batch, "grid", n_iter=1, image_args={"nrow": 2, "normalize": True})
    logger.save_images({"a": single, "b": single[:1]}, n_iter=2)
    logger.show_image(single, "shown")
    logger.show_image_grid(batch, "shown_grid")
    logger.show_images([single, single * 0], ["one", "two"])
    logger.close()
    PytorchPlotFileLogger.save_image_static(str(tmp_path / "static"), single, "s", n_iter=4)
    PytorchPlotFileLogger.save_image_grid_static(tmp_path / "static", batch, "g")
    PytorchPlotFileLogger.save_images_static(tmp_path / "static", {"x": single, "y": single})

    names = sorted(p.name for p in img.iterdir())
    assert names == sorted(
        ["single.png", "single_00012.png", "003_single.png", "batch.png", "grid_00001.png", "a_00002.png",
         "b_00002.png", "shown.png", "shown_grid.png", "one.png", "two.png"]
    )  # fmt: skip
    assert np.array_equal(_png(img / "single_00012.png"), to_hwc_uint8(single.numpy()))
    assert np.array_equal(_png(img / "batch.png"), make_grid(batch.numpy()))
    assert np.array_equal(_png(img / "grid_00001.png"), make_grid(batch.numpy(), nrow=2, normalize=True))
    assert _png(img / "b_00002.png").shape[:2] == (8, 9)
    assert not _png(img / "two.png").any()
    assert sorted(p.name for p in (tmp_path / "static").iterdir()) == [
        "g.png",
        "s_00004.png",
        "x.png",
        "y.png",
    ]
    with pytest.raises(ConfigError, match=r"image_args: option\(s\) 'padding' not provided"):
        logger.save_image(single, "p", image_args={"padding": 4})
    with pytest.raises(ConfigError, match=r"2 images but 1 names"):
        logger.show_images([single, single], ["only"])


def test_pytorch_plot_file_logger_show_image_grid_heatmap(tmp_path):
    from matplotlib import colormaps
    from trialog_torch.diagnostics import heatmap_overlay
    from trixi.logger.file import PytorchPlotFileLogger

    img = tmp_path / "img"
    logger = PytorchPlotFileLogger(img, tmp_path / "plot")
    gen = torch.Generator().manual_seed(0)
    heat, back = torch.rand(4, 1, 6, 7, generator=gen), torch.rand(4, 3, 6, 7, generator=gen)
    logger.show_image_grid_heatmap(
        heat, back, 0.5, True, 2, "heat", n_iter=3, image_args={"nrow": 2}
    )  # 2: cv2 jet
    logger.show_image_grid_heatmap(heat, name="maps", colormap=colormaps["viridis"], prefix=True, n_iter=1)
    logger.show_image_grid_heatmap(heat * 0.5, back, ratio=1.0, normalize=False)
    logger.close()
    assert sorted(p.name for p in img.iterdir()) == ["00001_maps.png", "heat_00003.png", "heatmap.png"]
    assert np.array_equal(
        _png(img / "heat_00003.png"), make_grid(heatmap_overlay(heat, back, 0.5, True, "jet"), 2)
    )
    assert np.array_equal(_png(img / "00001_maps.png"), make_grid(heatmap_overlay(heat, colormap="viridis")))
    only_map = heatmap_overlay(heat * 0.5, None, normalize=False)  # ratio 1: the background is not seen
    assert np.array_equal(_png(img / "heatmap.png"), make_grid(only_map))
    with pytest.raises(ConfigError, match=r"show_image_grid_heatmap: image_args: option\(s\) 'padding'"):
        logger.show_image_grid_heatmap(heat, image_args={"padding": 0})
    with pytest.raises(ConfigError, match=r"show_image_grid_heatmap: option\(s\) 'cmap'"):
        logger.show_image_grid_heatmap(heat, cmap="gray")
    with pytest.raises(ConfigError, match=r"ratio must be in \[0, 1\]"):
        logger.show_image_grid_heatmap(heat, back, ratio=2.0)


def test_text_file_logger_logs_to_files_and_the_stream(tmp_path):
    from trixi.logger.file.textfilelogger import TextFileLogger

    stream = io.StringIO()
    logger = TextFileLogger(str(tmp_path), logging_level=logging.INFO, logging_stream=stream)
    logger.print("epoch", 1, "done")
    logger.info("info line")
    logger.debug("hidden")  # below logging_level
    logger.error("bad thing")
    logger.log("plain")
    logger.show_text("some text", name="note")
    logger.show_value(0.25, name="loss")
    logger.log_to("to other", "other", log_to_default=True)
    logger.add_logger("quiet", stream_handler=False)
    logger.log("only in the file", logger="quiet")
    logger.add_file_handler("extra", logger="quiet")
    logger.log("in two files", logger="quiet")
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger.add_handler(handler)
    logger.log("seen by the handler")
    logger.add_stream_handler("quiet")
    logger.log("quiet on the stream", logger="quiet")
    with pytest.raises(ConfigError, match=r"no logger named 'nope'"):
        logger.log("x", logger="nope")
    logger.close()

    default = (tmp_path / "default.log").read_text().splitlines()
    messages = [line.split(" ", 2)[2] for line in default]  # each line: date, time, then the record
    assert messages == [
        "INFO - epoch 1 done", "INFO - info line", "ERROR - bad thing", "INFO - plain", "INFO - note: some text",
        "INFO - loss: 0.25", "INFO - to other", "INFO - seen by the handler",
    ]  # fmt: skip
    assert (tmp_path / "other.log").read_text().endswith("INFO - to other\n")
    assert "only in the file" in (tmp_path / "quiet.log").read_text()
    assert "only in the file" not in (tmp_path / "extra.log").read_text()
    assert "in two files" in (tmp_path / "extra.log").read_text()
    assert stream.getvalue().splitlines() == [
        "epoch 1 done", "info line", "bad thing", "plain", "note: some text", "loss: 0.25", "to other",
        "to other", "seen by the handler", "quiet on the stream",
    ]  # fmt: skip
    assert records == ["seen by the handler"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "default.log",
        "extra.log",
        "other.log",
        "quiet.log",
    ]


def test_text_file_logger_without_base_dir_only_prints():
    from trixi.logger.file import TextFileLogger

    stream = io.StringIO()
    logger = TextFileLogger(logging_stream=stream)
    logger.print("hi")
    with pytest.raises(ConfigError, match=r"base_dir=None\) has no folder for the log file 'x'"):
        logger.add_file_handler("x")
    logger.close()
    assert stream.getvalue() == "hi\n"
    silent = TextFileLogger(logging_stream=stream, default_stream_handler=False)
    silent.print("not shown")
    silent.close()
    assert stream.getvalue() == "hi\n"


# ------------------------------------------------------------------------------------------------- plt
def test_seaborn_plot_loggers_return_figures_and_images():
    from trixi.logger.plt import NumpySeabornImagePlotLogger, NumpySeabornPlotLogger

    plots = NumpySeabornPlotLogger()
    bars = plots.show_barplot(np.array([1.0, 2.0]), "bars")
    assert bars is plots.get_figure("bars") and hasattr(bars, "savefig")
    for _ in range(3):
        curve = plots.show_value(1.0, "train", tag="loss")
    curve = plots.show_value(2.0, "val", counter=5, tag="loss")
    lines = curve.axes[0].get_lines()
    assert [list(line.get_ydata()) for line in lines] == [[1.0, 1.0, 1.0], [2.0]]
    assert list(lines[1].get_xdata()) == [5]
    assert plots.get_figure("loss") is curve
    fresh = plots.get_figure("new")
    assert fresh.axes == [] and plots.get_figure("new") is fresh
    for figure in (
        plots.show_boxplot(np.random.default_rng(0).random((5, 2)), "box"),
        plots.show_image(torch.rand(3, 6, 6), "img", show=False),
        plots.show_lineplot(np.arange(4.0), None, "line"),
        plots.show_piechart(np.array([1.0, 1.0]), "pie"),
        plots.show_scatterplot(np.random.default_rng(0).random((5, 2)), "scatter"),
    ):
        assert hasattr(figure, "savefig")
    with pytest.raises(ConfigError, match=r"show_barplot: option\(s\) 'palette' not provided"):
        plots.show_barplot(np.ones(2), "b", palette="deep")

    images = NumpySeabornImagePlotLogger()
    array = images.show_barplot(np.array([1.0, 2.0]), "bars")
    assert array.dtype == np.uint8 and array.shape == (480, 640, 3)
    assert np.array_equal(array, render.figure_to_array(images.get_figure("bars")))
    assert images.show_value(1.0, "v").shape == (480, 640, 3)


# ----------------------------------------------------------------------------------------- tensorboard
def test_tensorboard_loggers_write_events_tensorboard_reads(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from trixi.logger.tensorboard import PytorchTensorboardLogger, TensorboardLogger

    logger = PytorchTensorboardLogger(str(tmp_path / "tb"))
    assert isinstance(logger, TensorboardLogger)
    gen = torch.Generator().manual_seed(0)
    for step in range(3):
        logger.show_value(torch.tensor(1.0 / (step + 1)), "loss")
        logger.show_value(float(step), "train", counter=step * 10, tag="acc")
    logger.show_text("hello", "notes")
    logger.show_image(torch.rand(3, 10, 12, generator=gen), "img")
    logger.show_images(torch.rand(2, 3, 5, 6, generator=gen), "batch")
    logger.show_image_grid(torch.rand(4, 3, 5, 5, generator=gen), "grid", nrow=2)
    logger.show_barplot(np.array([1.0, 2.0]), "bars")
    logger.show_lineplot(np.arange(5.0), name="line")
    logger.show_scatterplot(np.random.default_rng(0).random((9, 2)), "scatter")
    logger.show_piechart(np.array([1.0, 2.0]), "pie")
    logger.show_histogram(torch.randn(200, generator=gen), "weights")
    labels = torch.tensor([0, 0, 1, 1] * 10)
    scores = labels * 0.5 + torch.rand(40, generator=gen) * 0.5
    logger.show_pr_curve(scores, labels, "pr")  # trixi's order: scores first
    logger.show_embedding(torch.rand(12, 4, generator=gen), labels=[i % 2 for i in range(12)], name="emb")
    with pytest.raises(ConfigError, match=r"padding \(other than 2\)"):
        logger.show_image_grid(torch.rand(2, 3, 4, 4), "g", padding=0)
    with pytest.raises(ConfigError, match=r"label_img is not provided"):
        logger.show_embedding(torch.rand(3, 2), label_img=torch.rand(3, 1, 2, 2))
    assert logger.close()["tensorboard"]["failures"] == 0

    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    assert [(e.step, round(e.value, 4)) for e in acc.Scalars("loss")] == [(0, 1.0), (1, 0.5), (2, 0.3333)]
    tagged = EventAccumulator(str(tmp_path / "tb" / "acc" / "train"))
    tagged.Reload()
    assert [(e.step, e.value) for e in tagged.Scalars("acc")] == [(0, 0.0), (10, 1.0), (20, 2.0)]
    images = set(acc.Tags()["images"])
    assert {"img", "batch/0", "batch/1", "grid", "bars", "line", "scatter", "pie"} <= images
    assert (acc.Images("img")[0].width, acc.Images("img")[0].height) == (12, 10)
    assert acc.Histograms("weights")[0].histogram_value.num == 200
    assert acc.Tensors("notes/text_summary")[0].tensor_proto.string_val[0].decode() == "hello"
    pr = acc.Tensors("pr")[0].tensor_proto
    assert [d.size for d in pr.tensor_shape.dim] == [6, 127]
    assert (tmp_path / "tb" / "00000" / "emb" / "tensors.tsv").is_file()


def test_pytorch_tensorboard_logger_plot_model_structure(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from trialog_torch.diagnostics import model_structure
    from trixi.logger.tensorboard import PytorchTensorboardLogger

    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    logger = PytorchTensorboardLogger(str(tmp_path / "tb"))
    logger.plot_model_structure(model, [(2, 4)])  # trixi's list of input sizes, one per input
    logger.plot_model_structure(model, (5, 4), name="net")
    with pytest.raises(ConfigError, match=r"2 input sizes given; the text graph runs the model on one input"):
        logger.plot_model_structure(model, [(2, 4), (2, 4)])
    assert logger.close()["tensorboard"]["failures"] == 0

    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"tensors": 0})
    acc.Reload()
    text = acc.Tensors("model_structure/text_summary")[0].tensor_proto.string_val[0].decode()
    assert text == model_structure(model, (2, 4)) and "0: Linear [15 params] -> (2, 3)" in text
    net = acc.Tensors("net/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "2: Linear [8 params] -> (5, 2)" in net


def test_diagnostics_without_trialog_torch_name_the_distribution(tmp_path):
    """trialog_torch's routing is imported at the call: a missing one is an ImportError naming trialog-torch."""
    script = f"""
import sys
import numpy as np
sys.modules["trialog_torch.routing"] = None
from trixi.logger.file import PytorchPlotFileLogger
from trixi.logger.tensorboard import PytorchTensorboardLogger
for call in (
    lambda: PytorchPlotFileLogger({str(tmp_path / "img")!r}, {str(tmp_path / "plot")!r}).show_image_grid_heatmap(
        np.zeros((1, 1, 2, 2))),
    lambda: PytorchTensorboardLogger({str(tmp_path / "tb")!r}).plot_model_structure(None, (1, 2)),
):
    try:
        call()
    except ImportError as exc:
        print(exc)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 2, out
    for line, where in zip(
        lines, ("PytorchPlotFileLogger.show_image_grid_heatmap", "PytorchTensorboardLogger")
    ):
        assert line.startswith(where) and "needs the trialog-torch distribution" in line, line
        assert "pip install trialog-torch" in line, line


# ---------------------------------------------------------------------------------------------- visdom
@pytest.fixture(scope="module")
def visdom_port(tmp_path_factory):
    """A Visdom server on a port the OS picked (its listening socket handed to the server, never re-bound)."""
    from trialog_visdom.server import start_server, stop_server

    process = start_server(0, tmp_path_factory.mktemp("visdom"))
    yield process.port
    stop_server(process)


def _windows(port: int, env: str) -> dict:
    import requests

    response = requests.post(f"http://127.0.0.1:{port}/win_data", data=json.dumps({"eid": env, "win": None}))
    response.raise_for_status()
    return response.json()


def test_visdom_loggers_draw_windows_on_a_real_server(visdom_port):
    from trixi.logger.visdom import NumpyVisdomLogger, PytorchVisdomLogger

    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)
        logger = PytorchVisdomLogger(
            "trixi-env", server="http://127.0.0.1", port=visdom_port, auto_close=False
        )
        assert isinstance(logger, NumpyVisdomLogger) and logger.port == visdom_port
        for step in range(3):
            logger.show_value(torch.tensor(float(step)), "train", counter=step, tag="loss")
            logger.show_value(10.0 + step, "val", counter=step, tag="loss")
        logger.show_values({"lr": 0.5})
        logger.show_text("hello", "notes")
        logger.show_image(torch.rand(3, 10, 12), "img", title="an image")
        logger.show_images(torch.rand(2, 3, 6, 6), "imgs")
        logger.show_image_grid(torch.rand(4, 3, 6, 6), "grid", nrow=2)
        logger.show_barplot(np.array([1.0, 3.0, 2.0]), rownames=["a", "b", "c"], name="bars")
        logger.show_lineplot(np.arange(5.0), name="line", legend=["up"])
        logger.show_piechart(np.array([1.0, 2.0]), name="pie")
        logger.show_scatterplot(np.random.default_rng(0).random((10, 2)), name="scatter")
        logger.show_boxplot(np.random.default_rng(1).random((10, 2)), name="box")
        logger.show_histogram(np.random.default_rng(2).normal(size=100), name="hist", bins=10)
        logger.show_progress(3, 4)
        logger.show_contourplot(np.random.default_rng(3).random((4, 4)), name="contour")
        logger.show_surfaceplot(np.random.default_rng(3).random((4, 4)), name="surface")
        logger.show_svg('<svg width="2" height="2"></svg>', name="svg")
        labels = torch.tensor([0, 1] * 20)
        scores = labels * 0.6 + torch.rand(40) * 0.4  # separable: AUC 1
        logger.show_roc_curve(scores, labels, "roc")
        logger.show_pr_curve(scores, labels, "pr")
        logger.show_classification_metrics(scores, labels, "clf", metric=("roc-auc", "pr-auc"))
        logger.show_embedding(torch.rand(12, 5), labels=[i % 3 for i in range(12)], name="emb")
        logger.plot_model_statistics_weights(nn.Linear(3, 2), model_name="net")
        logger.save_vis()
        # the events, not save_vis's bounded flush: the t-SNE embedding may be slow on a busy machine
        assert logger.clog.wait_idle(HANG) and logger.logger.wait_idle(HANG)
        windows = _windows(visdom_port, "trixi-env")
        summary = logger.close()
    assert summary["visdom"]["failures"] == 0

    traces = {t["name"]: (t["x"], t["y"]) for t in windows["loss"]["content"]["data"]}
    assert traces["train"] == ([0, 1, 2], [0.0, 1.0, 2.0]) and traces["val"][1] == [10.0, 11.0, 12.0]
    assert windows["lr"]["content"]["data"][0]["y"] == [0.5]
    assert windows["notes"]["content"] == "hello"
    assert windows["img"]["type"] == "image" and windows["img"]["width"] == 12
    assert windows["bars"]["content"]["data"][0]["x"] == ["a", "b", "c"]
    assert windows["pie"]["content"]["data"][0]["values"] == [1.0, 2.0]
    assert windows["progress"]["content"]["data"][0]["values"] == [3.0, 1.0]
    assert windows["roc"]["title"] == "roc (AUC 1.000)"
    assert {t["name"] for t in windows["clf"]["content"]["data"]} == {"roc-auc", "pr-auc"}
    assert [t["y"] for t in windows["clf"]["content"]["data"]] == [[1.0], [1.0]]
    for name in (
        "imgs",
        "grid",
        "line",
        "scatter",
        "box",
        "hist",
        "contour",
        "surface",
        "svg",
        "pr",
        "emb",
        "net_weights",
    ):
        assert name in windows, name
    with pytest.raises(ConfigError, match=r"show_plotly_plt is not provided"):
        logger.show_plotly_plt(None)
    with pytest.raises(ConfigError, match=r"show_value: option\(s\) 'env_appendix' not provided"):
        logger.show_value(1.0, "x", env_appendix="-2")
    with pytest.raises(ConfigError, match=r"unknown metric\(s\) 'auroc'; choose from roc-auc"):
        logger.show_classification_metrics(scores, labels, "clf", metric=("auroc",))


def _png_src(window: dict) -> np.ndarray:
    import base64

    src = window["content"]["src"]
    assert src.startswith("data:image/png;base64,"), src[:40]
    return decode_png(base64.b64decode(src.split(",", 1)[1]))


def _conv_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(72, 3))


def test_pytorch_visdom_logger_diagnostics_arrive_through_the_hooks(visdom_port):
    """The diagnostics trixi drew on Visdom only, called as trixi's docs do, reach the server through
    trialog_torch.routing (the functions exp.elog uses) and the logger hooks."""
    import base64

    from PIL import Image
    from trialog_torch.diagnostics import get_input_gradient, heatmap_overlay
    from trixi.logger.visdom import PytorchVisdomLogger

    model, inpt = _conv_net(), torch.rand(4, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    heat, back = torch.rand(4, 1, 6, 6), torch.rand(4, 3, 6, 6)
    frames = (np.arange(3 * 5 * 6 * 3) % 256).astype(np.uint8).reshape(3, 5, 6, 3)
    labels = torch.tensor([0, 1] * 10)
    scores = labels * 0.6 + torch.rand(20) * 0.4
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)
        logger = PytorchVisdomLogger(
            "trixi-diag", server="http://127.0.0.1", port=visdom_port, auto_close=False
        )
        # trixi's err_fn gets the input and calls the model itself (trixi.util.pytorchutils)
        logger.show_image_gradient(model, inpt, lambda x: model(x)[:, 1].sum(), name="saliency", nrow=2)
        logger.show_image_gradient(model, inpt, lambda x: model(x)[:, 1].sum(), "vanilla-smooth", n_runs=3,
                                   eps=0.05, abs=True, name="smooth")  # fmt: skip
        logger.show_image_grid_heatmap(heat, back, name="heat", image_args={"nrow": 2})
        logger.show_video(frames, name="clip", fps=5)
        logger.show_video(frames.transpose(0, 3, 1, 2), name="clip_chw", dim="LxCxHxW", scale=2.0)
        logger.plot_model_structure(model, (1, 1, 6, 6), name="structure")
        model(inpt).sum().backward()
        flow = (float(model[0].weight.grad.abs().mean()), float(model[3].weight.grad.abs().max()))
        logger.plot_model_gradient_flow(model, "flow", title="gradients")
        logger.show_classification_metrics(scores, labels, "clf", metric=("roc-auc", "confusion-matrix"))
        logger.flush()
        windows = _windows(visdom_port, "trixi-diag")
        summary = logger.close()
    assert summary["visdom"]["failures"] == 0

    grads = get_input_gradient(model, inpt, lambda out: out[:, 1].sum())
    assert np.array_equal(_png_src(windows["saliency"]), make_grid(grads, nrow=2, normalize=True))
    assert _png_src(windows["smooth"]).shape == (10, 34, 3)  # 4 maps in one row (nrow=8), 2 px padding
    assert np.array_equal(_png_src(windows["heat"]), make_grid(heatmap_overlay(heat, back), nrow=2))
    for name, size, duration in (("clip", (6, 5), 200), ("clip_chw", (12, 10), 40)):
        content = windows[name]["content"]
        prefix = '<img src="data:image/gif;base64,'
        assert content.startswith(prefix), content[:60]
        gif = Image.open(io.BytesIO(base64.b64decode(content[len(prefix) : content.index('"', len(prefix))])))
        assert (gif.n_frames, gif.size, gif.info["duration"]) == (3, size, duration), name
    structure = windows["structure"]["content"]
    assert (
        structure.startswith("Sequential: Sequential -&gt; (1, 3)<br>")
        and "0: Conv2d [20 params]" in structure
    )
    (mean, peak) = windows["flow"]["content"]["data"]
    assert mean["x"] == ["0.weight", "3.weight"] and windows["flow"]["title"] == "gradients"
    assert (mean["y"][0], peak["y"][1]) == pytest.approx(flow)
    assert [t["name"] for t in windows["clf"]["content"]["data"]] == ["roc-auc"]
    assert windows["clf_confusion_matrix"]["content"]["data"][0]["z"] == [[10.0, 0.0], [0.0, 10.0]]

    with pytest.raises(ConfigError, match=r"show_image_grid_heatmap: image_args: option\(s\) 'padding'"):
        logger.show_image_grid_heatmap(heat, back, image_args={"padding": 0})
    with pytest.raises(ConfigError, match=r"show_image_grid_heatmap: option\(s\) 'env_appendix'"):
        logger.show_image_grid_heatmap(heat, back, env_appendix="-maps")
    with pytest.raises(ConfigError, match=r"grad_type 'smooth' unknown"):
        logger.show_image_gradient(model, inpt, lambda x: model(x).sum(), grad_type="smooth")
    with pytest.raises(ConfigError, match=r"2 input sizes given"):
        logger.plot_model_structure(model, [(1, 1, 6, 6), (1, 3)])
    with pytest.raises(ConfigError, match=r"call backward\(\) first"):
        logger.plot_model_gradient_flow(_conv_net())


def test_start_visdom_and_auto_start(tmp_path, monkeypatch):
    from trialog_visdom.server import stop_server
    from trixi.logger.visdom import NumpyVisdomLogger, numpyvisdomlogger, start_visdom

    monkeypatch.setenv("HOME", str(tmp_path))
    port = start_visdom((0,))  # 0: a free port the OS picks
    process = numpyvisdomlogger.started_servers.pop()
    try:
        assert port == process.port > 0
        logger = NumpyVisdomLogger("auto", server="http://127.0.0.1", port=port, auto_close=False)
        logger.show_text("up", "status")
        logger.flush()
        assert _windows(port, "auto")["status"]["content"] == "up"
        logger.close()
    finally:
        stop_server(process)
    started = NumpyVisdomLogger(
        "mine", auto_start=True, auto_start_ports=(0,), keep_server=False, run_dir=tmp_path
    )
    try:
        assert (
            started.logger.server_process is not None and started.port == started.logger.server_process.port
        )
    finally:
        started.close()
    assert started.logger.server_process.poll() is not None


# --------------------------------------------------------------------------------------------- message
def test_slack_message_logger_posts_to_the_user(monkeypatch):
    from trialog_slack.fake import FakeSlack
    from trixi.logger.message import SlackMessageLogger

    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    image = (np.arange(3 * 8 * 10) % 251).astype(np.uint8).reshape(3, 8, 10)
    with FakeSlack() as fake:
        logger = SlackMessageLogger(
            fake.token, "me@example.org", exp_name="demo", base_url=fake.url, retries=1
        )
        assert not [k for k in os.environ if k.startswith("TRIXI_SLACK_TOKEN")]  # handed over, then removed
        logger.show_text("hello from trixi")
        logger.print("printed")
        logger.show_image(torch.from_numpy(image), name="sample")
        logger.show_barplot(np.array([1.0, 2.0]), "bars")
        logger.show_value(0.5, "loss", counter=1)
        logger.send_message("done")
        with pytest.raises(ConfigError, match=r"delete_last=False to the logger's constructor"):
            logger.show_lineplot(np.arange(3.0), delete_last=False)
        with pytest.raises(ConfigError, match=r"delete_message is not provided"):
            logger.delete_message("1.0")
        summary = logger.close()
        texts = [m.text for m in fake.live_messages()]
        files = {f.filename: f for f in fake.live_files()}
    assert summary["slack"]["failures"] == 0
    assert "users.lookupByEmail" in fake.methods() and "conversations.open" in fake.methods()
    assert any("demo" in t and "hello from trixi" in t for t in texts)
    assert any(t.endswith("printed") for t in texts) and any(t.endswith("done") for t in texts)
    (sample,) = [f for name, f in files.items() if "sample" in name]
    assert np.array_equal(decode_png(sample.data), to_hwc_uint8(image))
    assert any("bars" in name for name in files) and any("loss" in name for name in files)


def test_slack_message_logger_token_from_the_environment_and_a_png_path(monkeypatch, tmp_path):
    from trialog_figures import encode_png
    from trialog_slack.fake import FakeSlack
    from trixi.logger.message.slackmessagelogger import SlackMessageLogger

    picture = np.full((4, 5, 3), 200, np.uint8)
    (tmp_path / "pic.png").write_bytes(encode_png(picture))
    with FakeSlack() as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
        logger = SlackMessageLogger(None, "me@example.org", base_url=fake.url, retries=1)
        logger.show_image(str(tmp_path / "pic.png"))
        with pytest.raises(ConfigError, match=r"not a \.png file"):
            logger.show_image(str(tmp_path / "pic.jpg"))
        logger.close()
        (posted,) = fake.live_files()
    assert np.array_equal(decode_png(posted.data), picture)


def test_telegram_message_logger_posts_to_the_chat(monkeypatch):
    from trialog_telegram.fake import FakeTelegram
    from trixi.logger.message import TelegramMessageLogger

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with FakeTelegram() as fake:
        logger = TelegramMessageLogger(
            fake.token,
            4242,
            exp_name="demo",
            base_url=fake.base_url,
            base_file_url=fake.base_file_url,
            retries=1,
        )
        logger.show_text("hello from trixi")
        logger.show_image_grid(torch.rand(4, 3, 5, 5), "grid", nrow=2)
        logger.show_piechart(np.array([1.0, 2.0]), "pie")
        logger.show_scatterplot(np.random.default_rng(0).random((6, 2)), "points")
        summary = logger.close()
        texts = [m.text for m in fake.live("text")]
        photos = fake.live("photo")
    assert summary["telegram"]["failures"] == 0
    assert any("demo" in t and "hello from trixi" in t for t in texts)
    assert len(photos) == 3 and all(m.chat_id == "4242" for m in photos)
    assert decode_png(photos[0].data).shape == (16, 16, 3)  # 2 x 2 grid of 5 px images, 2 px padding


def test_trixi_logger_imports_without_optional_backends_and_names_the_one_to_install():
    blocked = ["trialog_tensorboard", "trialog_visdom", "trialog_slack", "trialog_telegram",
               "tensorboardX", "visdom", "slack_sdk", "telegram"]  # fmt: skip
    script = f"""
import sys
for name in {blocked!r}:
    sys.modules[name] = None
import trixi.logger
from trixi.logger import NumpyPlotFileLogger, TextFileLogger, NumpySeabornPlotLogger, AbstractLogger
import trixi.logger.message
for path in ("trixi.logger.tensorboard", "trixi.logger.visdom", "trixi.logger.message.slackmessagelogger",
             "trixi.logger.message.telegrammessagelogger"):
    try:
        __import__(path)
    except ImportError as exc:
        print(exc)
try:
    from trixi.logger import TensorboardLogger
except ImportError as exc:
    print("lazy:", exc)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 5, out
    for line, distribution in zip(
        lines,
        ("trialog-tensorboard", "trialog-visdom", "trialog-slack", "trialog-telegram", "trialog-tensorboard"),
    ):
        assert f"needs the {distribution} distribution" in line and f"pip install {distribution}" in line, (
            line
        )


def test_constructor_argument_errors_are_named(tmp_path):
    from trixi.logger.file import TextFileLogger
    from trixi.logger.message import SlackMessageLogger
    from trixi.logger.visdom import NumpyVisdomLogger

    with pytest.raises(ConfigError, match=r"give the token or token_env, not both"):
        SlackMessageLogger("xoxb-1", "me@example.org", token_env="MY_TOKEN")
    with pytest.raises(ConfigError, match=r"auto_start needs at least one port"):
        NumpyVisdomLogger(auto_start=True, auto_start_ports=())
    with pytest.raises(ConfigError, match=r"file logger options \['csv'\] need a base_dir"):
        TextFileLogger(csv="single")
    with pytest.raises(ConfigError, match=r"NumpySeabornPlotLogger: option\(s\) 'style' not provided"):
        from trixi.logger.plt import NumpySeabornPlotLogger

        NumpySeabornPlotLogger(style="dark")


# ----------------------------------------------------------------------------- trixi's **kwargs (issue 22)
def test_title_and_other_trixi_keywords_on_visdom(visdom_port):
    """trixi passes ``title=`` to every logger method: a window title on Visdom. Other keywords trixi's
    ``**kwargs`` swallowed are accepted with a warning naming them; trixi's Visdom options without a
    counterpart stay errors."""
    from trixi.logger.visdom import PytorchVisdomLogger

    logger = PytorchVisdomLogger(
        "trixi-kwargs", server="http://127.0.0.1", port=visdom_port, auto_close=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)
        logger.show_value(1.0, "loss", counter=0, title="Training loss")
        logger.show_text("hello", "notes", title="Notes")
        logger.show_image_grid_heatmap(torch.rand(2, 1, 4, 4), name="heat", title="Heat maps")
        logger.show_roc_curve(
            torch.tensor([0.9, 0.2, 0.7, 0.1]), torch.tensor([1, 0, 1, 0]), "roc", title="ROC"
        )
    with pytest.warns(TrialogWarning, match=r"show_value: keyword argument\(s\) 'smooth' ignored"):
        logger.show_value(2.0, "loss", counter=1, smooth=True)
    with pytest.raises(ConfigError, match=r"show_text: option\(s\) 'env_appendix' not provided"):
        logger.show_text("x", "notes", env_appendix="-other")
    logger.flush()
    windows = _windows(visdom_port, "trixi-kwargs")
    assert logger.close()["visdom"]["failures"] == 0
    assert windows["loss"]["title"] == "Training loss"
    assert windows["loss"]["content"]["data"][0]["y"] == [1.0, 2.0]
    assert windows["notes"]["title"] == "Notes"
    assert windows["heat"]["title"] == "Heat maps"
    assert windows["roc"]["title"].startswith("ROC (AUC")


def test_title_on_the_file_loggers_is_the_figure_or_png_title(tmp_path):
    from PIL import Image
    from trixi.logger.file import PytorchPlotFileLogger

    logger = PytorchPlotFileLogger(tmp_path / "img", tmp_path / "plot")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)
        logger.show_value(1.0, "loss", title="Training loss")
        logger.show_image(torch.rand(3, 4, 5), "sample", title="A sample")
        logger.show_image_grid_heatmap(torch.rand(2, 1, 4, 4), name="heat", title="Heat maps")
    with pytest.raises(ConfigError, match=r"show_value: option\(s\) 'cmap' not provided"):
        logger.show_value(1.0, "loss", cmap="gray")  # trixi handed it to matplotlib: never dropped
    logger.close()
    assert Image.open(tmp_path / "img" / "sample.png").info["Title"] == "A sample"
    assert Image.open(tmp_path / "img" / "heat.png").info["Title"] == "Heat maps"
    assert (tmp_path / "plot" / "loss.png").is_file()
