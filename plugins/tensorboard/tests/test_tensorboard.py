"""trialog-tensorboard against the real TensorBoard reader (EventAccumulator, no tensorflow)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from trialog_tensorboard import TensorBoardLogger, flatten_config

from trialog.errors import LoggerConfigError, TrialogWarning
from trialog.loggers.dispatch import CombinedLogger

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0

SIZE_GUIDANCE = {"scalars": 0, "images": 0, "histograms": 0, "tensors": 0}


def _read(folder: Path) -> EventAccumulator:
    acc = EventAccumulator(str(folder), size_guidance=SIZE_GUIDANCE)
    acc.Reload()
    return acc


def _scalars(acc: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_group_by_tag_keeps_the_add_scalars_layout(tmp_path):
    logger = TensorBoardLogger(logdir=tmp_path, group_by="tag")
    logger.show_value(1.0, "train", 0, "acc")
    logger.show_value(2.0, "val", 0, "acc")
    logger.close()
    assert _scalars(_read(tmp_path / "acc" / "train"), "acc") == [(0, 1.0)]
    assert _scalars(_read(tmp_path / "acc" / "val"), "acc") == [(0, 2.0)]
    with pytest.raises(LoggerConfigError, match="group_by"):
        TensorBoardLogger(logdir=tmp_path / "x", group_by="phase")


def test_everything_arrives_through_the_combined_logger(tmp_path):
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)
        clog = CombinedLogger({"tb": {"type": "tensorboard", "flush_secs": 60}}, run_dir=tmp_path)
        for step in range(5):
            clog.show_value(1.0 / (step + 1), "loss", counter=step)
            clog.show_value(float(step), "acc", counter=step, tag="train")
            clog.show_value(float(step) * 2, "acc", counter=step, tag="val")
            clog.show_value(float(step) / 2, "loss", counter=step, tag="train")
        clog.show_text("hello **world**", "notes")
        clog.show_image(rng.random((3, 20, 30)), "img")
        clog.show_images(rng.random((2, 1, 8, 9)), "batch")
        clog.show_image_grid(rng.random((6, 3, 10, 10)), "grid", nrow=3)
        clog.show_histogram(rng.normal(size=500), "weights", bins=20)
        clog.show_barplot(np.array([1.0, 3.0, 2.0]), "bars", labels=["a", "b", "c"])
        clog.show_lineplot(np.arange(10.0), None, "line")
        clog.show_scatterplot(rng.random((20, 2)), "scatter")
        clog.show_piechart(np.array([1.0, 2.0]), "pie")
        clog.show_boxplot(rng.random((10, 3)), "box")
        clog.show_heatmap(rng.random((4, 4)), "confusion")
        labels = rng.integers(0, 2, 200)
        scores = np.clip(labels * 0.6 + rng.random(200) * 0.5, 0, 1)
        clog.show_pr_curve(scores, labels, "pr")  # trixi's order: the scores, then the labels
        clog.show_roc_curve(scores, labels, "roc")
        clog.show_embedding(rng.random((30, 5)), "emb", labels=[i % 3 for i in range(30)])
        clog.log_config({"lr": 0.1, "model": {"depth": 3, "act": "relu"}, "aug": True})
        clog.lifecycle("on_run_end", run={"name": "r1"}, summary={"loss": {"last": 0.2, "min": 0.2}})
        summary = clog.close()
    assert summary["tb"]["failures"] == 0 and summary["tb"]["dropped"] == 0

    logdir = tmp_path / "save" / "tensorboard"
    main = _read(logdir)
    assert _scalars(main, "loss") == [(s, pytest.approx(1.0 / (s + 1))) for s in range(5)]
    # Tagged values, Keras' layout: one sub-run per tag (phase), the scalar named by the value, so the card
    # "acc" overlays train and val and the card "loss" the main run's and train's lines.
    runs = sorted(p.parent.relative_to(logdir).as_posix() for p in logdir.rglob("events.out.tfevents.*"))
    assert runs == [".", "train", "val"]
    train, val = _read(logdir / "train"), _read(logdir / "val")
    assert sorted(train.Tags()["scalars"]) == ["acc", "loss"] and val.Tags()["scalars"] == ["acc"]
    assert _scalars(train, "acc") == [(s, float(s)) for s in range(5)]
    assert _scalars(val, "acc") == [(s, 2.0 * s) for s in range(5)]
    assert _scalars(train, "loss") == [(s, s / 2) for s in range(5)]

    images = {tag: main.Images(tag)[-1] for tag in main.Tags()["images"]}
    assert (images["img"].width, images["img"].height) == (30, 20)
    assert (images["batch/0"].width, images["batch/0"].height) == (9, 8)
    assert "batch/1" in images
    # 3 x 2 grid of 10 px images with 2 px padding.
    assert (images["grid"].width, images["grid"].height) == (3 * 12 + 2, 2 * 12 + 2)
    for plot in ("bars", "line", "scatter", "pie", "box", "confusion", "roc"):
        assert (images[plot].width, images[plot].height) == (640, 480), plot

    histogram = main.Histograms("weights")[0].histogram_value
    assert histogram.num == 500
    assert sum(histogram.bucket) == 500

    text = main.Tensors("notes/text_summary")[0].tensor_proto.string_val[0].decode()
    assert text == "hello **world**"
    config_text = main.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "| model.depth | 3 |" in config_text

    pr = main.Tensors("pr")[0].tensor_proto
    assert [d.size for d in pr.tensor_shape.dim] == [6, 127]

    assert _scalars(main, "hparam/loss") == [(4, pytest.approx(0.2))]
    assert {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"} <= set(
        main.Tags()["tensors"]
    ) | set(main.summary_metadata)

    tensors = np.loadtxt(logdir / "00000" / "emb" / "tensors.tsv", delimiter="\t")
    assert tensors.shape == (30, 5)
    assert (logdir / "00000" / "emb" / "metadata.tsv").read_text().split() == [str(i % 3) for i in range(30)]
    assert 'tensor_path: "00000/emb/tensors.tsv"' in (logdir / "projector_config.pbtxt").read_text()


def test_hparams_at_close_take_last_scalars_without_run_end(tmp_path):
    logger = TensorBoardLogger(logdir=tmp_path)
    logger.log_config({"lr": 0.5})
    logger.show_value(3.0, "acc", None, None)
    logger.show_value(4.0, "acc", None, None)
    logger.close()
    acc = _read(tmp_path)
    assert _scalars(acc, "acc") == [(0, 3.0), (1, 4.0)]
    assert _scalars(acc, "hparam/acc")[0][1] == 4.0


def test_flush_makes_events_readable_while_running(tmp_path):
    logger = TensorBoardLogger(logdir=tmp_path, flush_secs=3600, max_queue=1000)
    logger.show_value(1.5, "x", 7, None)
    logger.flush()
    assert _scalars(_read(tmp_path), "x") == [(7, 1.5)]
    logger.close()


def test_needs_a_folder():
    with pytest.raises(LoggerConfigError, match="logdir"):
        TensorBoardLogger()


def test_unwritable_logdir_is_a_named_error(tmp_path):
    # A plain file where a folder should be: unwritable for every user, root included.
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(LoggerConfigError, match=r"cannot write event files to .*blocker"):
        CombinedLogger({"tb": {"type": "tensorboard", "logdir": blocker / "tb"}})


def test_unknown_option_is_rejected(tmp_path):
    with pytest.raises(LoggerConfigError, match="flush_every"):
        CombinedLogger({"tb": {"type": "tensorboard", "flush_every": 3}}, run_dir=tmp_path)


def test_flatten_config():
    assert flatten_config({"a": {"b": 1, "c": [1, 2]}, "d": None}) == {"a.b": 1, "a.c": "[1, 2]", "d": None}


def test_records_are_valid_with_the_pure_python_crc_too(tmp_path, monkeypatch):
    import tensorboardX.crc32c
    import trialog_tensorboard

    monkeypatch.setattr(trialog_tensorboard, "_crc32c", lambda: tensorboardX.crc32c.crc32c)
    logger = TensorBoardLogger(logdir=tmp_path)
    logger.show_value(2.5, "x", 3, None)
    logger.close()
    assert _scalars(_read(tmp_path), "x") == [(3, 2.5)]


def test_two_loggers_in_one_folder_keep_separate_files(tmp_path):
    first, second = TensorBoardLogger(logdir=tmp_path), TensorBoardLogger(logdir=tmp_path)
    first.show_value(1.0, "a", 0, None)
    second.show_value(2.0, "b", 0, None)
    first.close()
    second.close()
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2


def test_a_tight_loop_through_a_small_queue_loses_no_value(tmp_path):
    """A file writer behind the dispatcher waits for room instead of dropping (issue 13: 58-66 % were lost)."""
    n = 5000
    clog = CombinedLogger({"tb": {"type": "tensorboard", "queue_size": 10}}, run_dir=tmp_path)
    for step in range(n):
        clog.show_value(float(step), "loss", counter=step)
    summary = clog.close()["tb"]
    assert summary["dropped"] == 0 and summary["undelivered"] == 0 and summary["failures"] == 0
    acc = _read(tmp_path / "save" / "tensorboard")
    assert _scalars(acc, "loss") == [(step, float(step)) for step in range(n)]


def test_pr_curve_with_swapped_arguments_is_an_error_never_a_wrong_curve(tmp_path):
    from trialog_tensorboard import TensorBoardLogger

    from trialog.errors import TrialogError

    logger = TensorBoardLogger(logdir=tmp_path)
    labels = np.array([0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.8, 0.6, 0.3, 0.9])
    with pytest.raises(
        TrialogError, match=r"TensorBoardLogger.show_pr_curve\('pr'\): labels must be 0 or 1.*swapped"
    ):
        logger.show_pr_curve(labels, scores, "pr", 0)  # the labels first: the old native order
    with pytest.raises(TrialogError, match=r"TensorBoardLogger.show_pr_curve\('pr'\).*scores in \[0, 1\]"):
        logger.show_pr_curve(scores * 4 - 2, labels, "pr", 0)  # logits: never clipped into a wrong curve
    logger.show_pr_curve(scores, labels, "pr")  # trixi's (tensor, labels, name), counter by default
    logger.close()
    events = _read(tmp_path)
    assert "pr" in events.Tags()["tensors"]
    (event,) = events.Tensors("pr")
    from tensorboard.util import tensor_util

    true_pos, false_pos = tensor_util.make_ndarray(event.tensor_proto)[:2, 0]  # at threshold 0: all positive
    assert (true_pos, false_pos) == (3, 2)


def test_called_on_its_own_with_trixis_required_arguments_only(tmp_path):
    """As trixi's docs: ``TensorBoardLogger(folder).show_text("Test")``; the spec's defaults fill the rest."""
    logger = TensorBoardLogger(tmp_path)
    logger.show_text("Test")
    logger.show_value(1.0, "x")
    logger.show_value(2.0, "x", title="loss")  # trixi's keyword: accepted
    logger.show_image(np.zeros((3, 4, 4)), "img")
    logger.show_histogram(np.arange(10.0), "h")
    logger.show_roc_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "roc")
    logger.show_embedding(np.random.default_rng(0).random((8, 3)), "emb", method="tsne", n_dims=2)
    logger.close()
    events = _read(tmp_path / "save" / "tensorboard")
    assert _scalars(events, "x") == [(0, 1.0), (1, 2.0)]
    tags = events.Tags()
    assert "img" in tags["images"] and "roc" in tags["images"] and "h" in tags["histograms"]
    assert "text/text_summary" in tags["tensors"]  # show_text's name defaults to None: the default text log


def test_show_video_is_an_animated_gif_image_summary(tmp_path):
    """Without moviepy: the GIF tensorboardX's add_video would write, encoded with pillow."""
    Image = pytest.importorskip("PIL.Image")
    import io

    clip = np.stack([np.full((3, 6, 8), i / 4) for i in range(4)])  # (L, C, H, W) floats
    clog = CombinedLogger({"tb": "tensorboard"}, run_dir=tmp_path)
    clog.show_video(clip, "clip", counter=3, fps=10)
    assert clog.wait_idle(HANG)  # a pending call of one name is replaced by a newer one (coalesced)
    clog.show_video(clip[:2], "clip")
    assert clog.close()["tb"]["failures"] == 0
    events = _read(tmp_path / "save" / "tensorboard").Images("clip")
    assert [(e.step, e.width, e.height) for e in events] == [(3, 8, 6), (4, 8, 6)]
    gif = Image.open(io.BytesIO(events[0].encoded_image_string))
    assert (gif.format, gif.n_frames, gif.info["duration"]) == ("GIF", 4, 100)
    assert Image.open(io.BytesIO(events[1].encoded_image_string)).info["duration"] == 40  # fps=25
