"""trialog-file: every hook writes the expected file, curves are throttled, errors are named."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time

import numpy as np
import pytest
from trialog_figures import decode_png, make_grid, render, to_hwc_uint8
from trialog_file import FileLogger, plotted_series

from trialog.errors import LoggerConfigError, TrialogError

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0

PIL = pytest.importorskip("PIL.Image")


@pytest.fixture
def logger(tmp_path):
    lg = FileLogger(folder=tmp_path, plot_every_s=None)
    yield lg
    lg.close()


@pytest.fixture
def drawn(monkeypatch):
    """Records the series of every value-curve figure drawn: [(plot name, {label: (counters, values)})];
    ``calls.figures``: the figures (title, axis labels and legend read back from them)."""

    class Calls(list):
        figures: list = []

    calls = Calls()
    calls.figures = []
    original = render.value_curves

    def recording(series, name, figure=None, **labels):
        calls.append((name, {k: (list(c), list(v)) for k, (c, v) in series.items()}))
        fig = original(series, name, figure, **labels)
        (ax,) = fig.axes
        legend = ax.get_legend()
        calls.figures.append({
            "title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
            "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        })  # fmt: skip
        return fig

    monkeypatch.setattr(render, "value_curves", recording)
    return calls


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# ------------------------------------------------------------------------------------------- options
def test_no_folder_is_a_named_error():
    with pytest.raises(LoggerConfigError, match=r"file logger: no folder.*folder="):
        FileLogger()


def test_kind_folders_replace_the_subfolders(tmp_path):
    lg = FileLogger(
        img_dir=tmp_path / "i", plot_dir=tmp_path / "p", log_dir=tmp_path / "l", plot_every_s=None
    )
    lg.show_image(np.zeros((4, 4)), "x", None, None)
    lg.show_barplot(np.array([1.0, 2.0]), "bars", None, None, None)
    lg.show_value(1.0, "loss", None, None)
    lg.show_text("hi", None, None)
    lg.close()
    assert (tmp_path / "i" / "x_00001.png").is_file() and (tmp_path / "p" / "bars_00001.png").is_file()
    assert (tmp_path / "p" / "loss.png").is_file() and (tmp_path / "l" / "values.csv").is_file()
    assert "hi" in (tmp_path / "l" / "default.log").read_text()
    assert not (tmp_path / "l" / "img").exists()


def test_a_kind_folder_that_is_a_file_is_named(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(LoggerConfigError, match=r"img_dir .*f exists and is not a folder"):
        FileLogger(folder=tmp_path, img_dir=tmp_path / "f")
    with pytest.raises(LoggerConfigError, match=r"no folder"):
        FileLogger(img_dir=tmp_path / "i")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"plot_every_s": 0}, "plot_every_s"),
        ({"plot_every_s": "often"}, "plot_every_s"),
        ({"flush_every_s": -1}, "flush_every_s"),
        ({"csv": "xlsx"}, "option 'csv' must be one of 'single', 'per_name', 'off'"),
        ({"compress_level": 12}, "compress_level"),
    ],
)
def test_bad_options_are_named(tmp_path, options, message):
    with pytest.raises(LoggerConfigError, match=message):
        FileLogger(folder=tmp_path, **options)


def test_folder_that_is_a_file_is_rejected(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(LoggerConfigError, match="not a folder"):
        FileLogger(folder=tmp_path / "f")


def test_folder_overrides_run_dir(tmp_path):
    lg = FileLogger(run_dir=tmp_path / "run", folder=tmp_path / "elsewhere")
    lg.show_text("hi", None, None)
    lg.close()
    assert (tmp_path / "elsewhere" / "log" / "default.log").is_file()
    assert not (tmp_path / "run").exists()


# -------------------------------------------------------------------------------------------- values
def test_values_reach_the_csv_exactly(tmp_path, logger):
    logger.show_value(0.1, "loss", None, "train")
    logger.show_value(np.float32(0.25), "loss", None, "train")
    logger.show_value(3, "acc", 7, None)
    logger.show_value(1e-300, 'tiny, odd "name"', 2, "t,ag")
    logger.flush()
    rows = read_csv(tmp_path / "log" / "values.csv")
    assert [(r["name"], r["tag"], r["counter"], r["value"]) for r in rows] == [
        ("loss", "train", "1", "0.1"),
        ("loss", "train", "2", "0.25"),
        ("acc", "", "7", "3.0"),
        ('tiny, odd "name"', "t,ag", "2", "1e-300"),
    ]
    assert float(rows[0]["value"]) == 0.1
    assert all(abs(float(r["time"]) - time.time()) < 60 for r in rows)


def test_csv_per_name_and_off(tmp_path):
    lg = FileLogger(folder=tmp_path / "a", csv="per_name", plot_every_s=None)
    lg.show_value(1.0, "loss", None, "train")
    lg.show_value(2.0, "acc", None, "train")
    lg.close()
    assert [r["value"] for r in read_csv(tmp_path / "a" / "log" / "values" / "loss.csv")] == ["1.0"]
    assert [r["value"] for r in read_csv(tmp_path / "a" / "log" / "values" / "acc.csv")] == ["2.0"]
    lg = FileLogger(folder=tmp_path / "b", csv="off", plot_every_s=None)
    lg.show_value(1.0, "loss", None, None)
    lg.close()
    assert not (tmp_path / "b" / "log").exists()
    assert (tmp_path / "b" / "plot" / "loss.png").is_file()


def test_one_plot_per_name_with_a_line_per_tag_and_labelled_axes(tmp_path, logger, drawn):
    # Keras / Lightning: one quantity per axis; train and val loss overlay, loss and accuracy never share
    for epoch in range(3):
        logger.on_epoch_start(epoch)
        logger.show_value(1.0 / (epoch + 1), "loss", epoch, "train")
        logger.show_value(2.0 / (epoch + 1), "loss", epoch, "val")
        logger.show_value(0.5 + epoch / 10, "accuracy", epoch, "train")
    logger.show_value(0.5, "lr", None, None)
    logger.show_value(1.0, "val/f1", 7, None)  # a name with "/" (trixi: a sub-folder) and counters of its own
    logger.flush()
    assert sorted(p.relative_to(tmp_path / "plot").as_posix() for p in (tmp_path / "plot").rglob("*.png")) == [
        "accuracy.png", "loss.png", "lr.png", "val/f1.png"
    ]  # fmt: skip
    by_plot = dict(drawn)
    assert by_plot["loss"] == {
        "train": ([0, 1, 2], [1.0, 0.5, 1.0 / 3]),
        "val": ([0, 1, 2], [2.0, 1.0, 2.0 / 3]),
    }
    assert by_plot["accuracy"] == {"train": ([0, 1, 2], [0.5, 0.6, 0.7])}
    assert by_plot["lr"] == {"lr": ([1], [0.5])}  # no tag: the line is named after the value
    figures = dict(zip([name for name, _ in drawn], drawn.figures))
    assert figures["loss"] == {
        "title": "loss per epoch",
        "xlabel": "epoch",
        "ylabel": "loss",
        "legend": ["train", "val"],
    }
    assert figures["accuracy"]["ylabel"] == "accuracy" and figures["accuracy"]["legend"] == ["train"]
    assert figures["lr"] == {"title": "lr per step", "xlabel": "step", "ylabel": "lr", "legend": ["lr"]}
    assert figures["val/f1"] == {
        "title": "val/f1",
        "xlabel": "counter",
        "ylabel": "val/f1",
        "legend": ["val/f1"],
    }
    assert plotted_series(tmp_path / "plot" / "loss.png") == by_plot["loss"]
    image = decode_png((tmp_path / "plot" / "loss.png").read_bytes())
    assert image.shape == (480, 640, 3)


def test_an_experiments_per_epoch_results_get_an_epoch_axis(tmp_path, drawn):
    import trialog

    class Toy(trialog.Experiment):
        def train(self, epoch):
            self.add_result(1.0 / (epoch + 1), "loss", counter=epoch, tag="train")

        def validate(self, epoch):
            self.add_result(2.0 / (epoch + 1), "loss", counter=epoch, tag="val")

    loggers = {"file": {"type": "file", "plot_every_s": None}}
    exp = Toy(name="t", n_epochs=3, base_dir=tmp_path, loggers=loggers, save_sources=False)
    exp.run()
    exp.close()
    assert plotted_series(exp.run_dir / "plot" / "loss.png") == {
        "train": ([0, 1, 2], [1.0, 0.5, 1.0 / 3]), "val": ([0, 1, 2], [2.0, 1.0, 2.0 / 3])
    }  # fmt: skip
    assert drawn.figures[-1] == {
        "title": "loss per epoch",
        "xlabel": "epoch",
        "ylabel": "loss",
        "legend": ["train", "val"],
    }


def test_group_by_tag_keeps_trixis_plot_per_tag(tmp_path, drawn):
    lg = FileLogger(folder=tmp_path, plot_every_s=None, group_by="tag")
    lg.show_value(1.0, "train_loss", 0, "loss")
    lg.show_value(2.0, "val_loss", 0, "loss")
    lg.show_value(0.5, "lr", None, None)
    lg.close()
    assert sorted(p.name for p in (tmp_path / "plot").iterdir()) == ["loss.png", "lr.png"]
    assert plotted_series(tmp_path / "plot" / "loss.png") == {
        "train_loss": ([0], [1.0]),
        "val_loss": ([0], [2.0]),
    }
    figures = dict(zip([name for name, _ in drawn], drawn.figures))
    assert figures["loss"]["title"] == "loss" and figures["loss"]["ylabel"] == ""  # mixed quantities
    with pytest.raises(LoggerConfigError, match="group_by"):
        FileLogger(folder=tmp_path, group_by="phase")


def test_counters_that_are_not_all_the_epoch_make_a_counter_axis(tmp_path, logger, drawn):
    logger.on_epoch_start(0)
    logger.show_value(1.0, "loss", 0, "train")  # the epoch
    logger.show_value(2.0, "loss", 5, "train")  # not the epoch
    logger.show_value(3.0, "loss", None, "val")  # a call number
    logger.flush()
    assert drawn.figures[-1]["xlabel"] == "counter" and drawn.figures[-1]["title"] == "loss"


def test_curves_are_drawn_only_at_flush_and_close_when_plot_every_s_is_none(tmp_path, logger, drawn):
    for i in range(1000):
        logger.show_value(float(i), "loss", None, None)
    assert drawn == [] and logger.renders == 0
    assert not (tmp_path / "plot").exists()
    logger.flush()
    logger.flush()  # nothing changed: no redraw
    assert logger.renders == 1
    logger.show_value(1000.0, "loss", None, None)
    logger.close()
    assert logger.renders == 2
    counters, values = drawn[-1][1]["loss"]
    assert counters == list(range(1, 1002)) and values == [float(i) for i in range(1001)]


def _stream_until(lg, done, limit=2_000_000) -> int:
    """show_value until ``done()`` holds (a state the writer thread reaches); the number of calls."""
    count = 0
    while not done():
        assert count < limit, "the writer thread never got there"
        lg.show_value(float(count), "loss", None, None)
        count += 1
    return count


def test_redraws_are_throttled_while_values_stream_in(tmp_path, drawn):
    # The writer wakes every flush_every_s; a curve is redrawn only once plot_every_s has passed.
    lg = FileLogger(folder=tmp_path, plot_every_s=3600, flush_every_s=0.01)
    lg.show_value(-1.0, "warm-up", None, None)
    count = _stream_until(lg, lambda: lg.ticks >= 3)
    assert lg.renders == 0 and drawn == []  # three wake-ups, values streaming in, no redraw yet
    # the writer wrote the rows meanwhile (not only at close)
    assert len(read_csv(tmp_path / "log" / "values.csv")) >= 1
    lg.close()
    assert lg.renders == 2  # the final drawing of each curve, once
    counters, values = dict(drawn)["loss"]["loss"]
    assert counters[-1] == count and values[-1] == count - 1 and values[0] == 0.0
    # The writer and the caller never lose or reorder a CSV row.
    rows = [r for r in read_csv(tmp_path / "log" / "values.csv") if r["name"] == "loss"]
    assert [float(r["value"]) for r in rows] == [float(i) for i in range(count)]


def test_curves_are_redrawn_in_background_while_values_stream_in(tmp_path, drawn):
    lg = FileLogger(folder=tmp_path, plot_every_s=0.01, flush_every_s=0.01)
    count = _stream_until(lg, lambda: lg.renders >= 2)
    assert (tmp_path / "plot" / "loss.png").is_file()  # drawn before close
    lg.close()
    assert count > lg.renders - 1  # at most one redraw per wake-up, not one per call
    counters, values = drawn[-1][1]["loss"]
    assert counters[-1] == count and values[-1] == count - 1


def test_memory_is_bounded_long_curves_keep_a_thinned_window(tmp_path, logger, drawn):
    from trialog_file import MAX_CURVE_POINTS, MAX_PENDING_BATCHES, ROWS_PER_BATCH

    n = 100_000
    for i in range(n):
        logger.show_value(float(i), "loss", None, None)
        if i % 1000 == 0:
            assert len(logger._rows) <= (MAX_PENDING_BATCHES + 2) * ROWS_PER_BATCH
    logger.flush()
    series = logger._series[("loss", None)]
    assert len(series.values) < MAX_CURVE_POINTS and series.points == n
    counters, values = drawn[-1][1]["loss"]
    assert len(values) <= MAX_CURVE_POINTS and values[0] == 0.0 and values[-1] == n - 1
    assert counters[-1] == n and np.all(np.diff(counters) > 0)
    steps = np.diff(counters[:-1])
    assert steps.min() == steps.max()  # evenly thinned
    assert len(read_csv(tmp_path / "log" / "values.csv")) == n  # the CSV keeps every value


def test_a_slow_disk_makes_show_value_wait_and_no_value_is_lost(tmp_path, monkeypatch):
    import trialog_file

    monkeypatch.setattr(trialog_file, "ROWS_PER_BATCH", 10)
    monkeypatch.setattr(trialog_file, "MAX_PENDING_BATCHES", 2)
    lg = FileLogger(folder=tmp_path, plot_every_s=None)
    hold, entered = threading.Event(), threading.Event()
    original = lg._write_rows

    def slow_write(flush):
        entered.set()
        assert hold.wait(HANG)
        original(flush)

    lg._write_rows = slow_write
    done = threading.Event()

    def loop():
        for i in range(200):
            lg.show_value(float(i), "loss", None, None)
        done.set()

    thread = threading.Thread(target=loop)
    thread.start()
    assert entered.wait(HANG)
    while lg.stats["blocked"] == 0:  # the loop reaches the full queue and waits there
        assert not done.is_set(), "the loop ran ahead of a held writer"
        time.sleep(0.001)
    assert not done.is_set() and lg.stats["pending_rows"] <= 4 * 10
    hold.set()
    assert done.wait(HANG)
    thread.join(30)
    lg.close()
    stats = lg.stats
    assert stats["blocked"] >= 1 and stats["blocked_s"] > 0 and stats["dropped"] == 0
    assert [float(r["value"]) for r in read_csv(tmp_path / "log" / "values.csv")] == [
        float(i) for i in range(200)
    ]


def test_long_curves_are_thinned_for_drawing_only(tmp_path, logger, drawn):
    from trialog_file import MAX_CURVE_POINTS

    for i in range(MAX_CURVE_POINTS * 3):
        logger.show_value(float(i), "loss", None, None)
    logger.flush()
    values = drawn[-1][1]["loss"][1]
    assert len(values) <= MAX_CURVE_POINTS and values[0] == 0.0 and values[-1] == MAX_CURVE_POINTS * 3 - 1
    assert len(read_csv(tmp_path / "log" / "values.csv")) == MAX_CURVE_POINTS * 3


def test_show_value_after_close_raises(tmp_path):
    lg = FileLogger(folder=tmp_path, plot_every_s=None)
    lg.show_value(1.0, "loss", None, None)
    lg.close()
    lg.close()  # a second close does nothing
    with pytest.raises(TrialogError, match="closed"):
        lg.show_value(2.0, "loss", None, None)
    with pytest.raises(TrialogError, match="closed"):
        lg.show_text("late", None, None)
    with pytest.raises(TrialogError, match="closed"):
        lg.show_image(np.zeros((2, 2)), "late", None, None)


def test_csv_that_cannot_be_written_is_reported_and_rows_are_kept(tmp_path, logger):
    (tmp_path / "log" / "values.csv").mkdir(parents=True)
    logger.show_value(1.0, "loss", None, None)
    with pytest.raises(OSError, match=r"values\.csv"):
        logger.flush()
    (tmp_path / "log" / "values.csv").rmdir()
    logger.flush()
    assert [r["value"] for r in read_csv(tmp_path / "log" / "values.csv")] == ["1.0"]


# -------------------------------------------------------------------------------------------- images
def test_show_image_numbers_files_and_never_overwrites(tmp_path, logger):
    image = np.random.default_rng(0).random((3, 12, 16))
    logger.show_image(image, "sample", None, None)
    logger.show_image(image, "sample", None, "second")
    logger.show_image(image, "sample", 7, None)
    logger.show_image(image, "sample", 7, None)
    names = sorted(p.name for p in (tmp_path / "img").iterdir())
    assert names == ["sample_00001.png", "sample_00002.png", "sample_00007-2.png", "sample_00007.png"]
    assert np.array_equal(
        decode_png((tmp_path / "img" / "sample_00001.png").read_bytes()), to_hwc_uint8(image)
    )
    assert PIL.open(tmp_path / "img" / "sample_00002.png").text == {"Title": "second"}
    # The automatic counter continues after the largest one given.
    logger.show_image(image, "sample", None, None)
    assert (tmp_path / "img" / "sample_00008.png").is_file()


def test_overwrite_keeps_the_latest_image_per_name(tmp_path):
    lg = FileLogger(folder=tmp_path, overwrite=True)
    lg.show_image(np.zeros((4, 4)), "x", 1, None)
    lg.show_image(np.ones((4, 4)), "x", 2, None)
    lg.close()
    assert [p.name for p in (tmp_path / "img").iterdir()] == ["x.png"]
    assert decode_png((tmp_path / "img" / "x.png").read_bytes()).max() == 255


def test_show_images_writes_one_file_per_image(tmp_path, logger):
    batch = np.random.default_rng(1).integers(0, 256, (3, 1, 5, 6), dtype=np.uint8)
    logger.show_images(batch, "batch", 4, None)
    for i in range(3):
        read = decode_png((tmp_path / "img" / f"batch_{i}_00004.png").read_bytes())
        assert np.array_equal(read[:, :, 0], batch[i, 0])


def test_show_image_grid_matches_make_grid(tmp_path, logger):
    batch = np.random.default_rng(2).random((10, 3, 8, 8)).astype(np.float32)
    logger.show_image_grid(batch, "grid", None, None, 4, True)
    read = decode_png((tmp_path / "img" / "grid_00001.png").read_bytes())
    assert read.shape == (3 * 10 + 2, 4 * 10 + 2, 3)
    assert np.array_equal(read, make_grid(batch, nrow=4, normalize=True))


def test_bad_image_names_the_shape(logger):
    with pytest.raises(TrialogError, match=r"\(2, 5, 5, 5\)"):
        logger.show_image(np.zeros((2, 5, 5, 5)), "bad", None, None)


def test_show_figure_renders_without_pyplot(tmp_path, logger):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    logger.show_figure(fig, "fig", 3)
    assert decode_png((tmp_path / "img" / "fig_00003.png").read_bytes()).shape == (75, 100, 3)


# --------------------------------------------------------------------------------------------- plots
RNG = np.random.default_rng(3)
PLOTS = {
    "show_barplot": (np.arange(4), "bars", None, list("abcd"), "Bars"),
    "show_lineplot": (RNG.random((2, 9)), None, "lines", None, ["a", "b"], None),
    "show_scatterplot": (RNG.random((30, 2)), "scatter", None, None, None),
    "show_piechart": (np.array([1, 2, 3]), "pie", None, ["a", "b", "c"], None),
    "show_boxplot": (RNG.random((20, 3)), "box", None, None, None),
    "show_histogram": (RNG.normal(size=200), "hist", None, 15, None),
    "show_heatmap": (RNG.random((3, 3)), "heat", None, None),
    "show_pr_curve": (np.array([0.1, 0.9, 0.6, 0.4, 0.3]), np.array([0, 1, 1, 0, 1]), "pr", None, None),
    "show_roc_curve": (np.array([0.1, 0.9, 0.6, 0.4, 0.3]), np.array([0, 1, 1, 0, 1]), "roc", None, None),
    "show_embedding": (RNG.random((30, 5)), "emb", None, np.arange(30) % 3, None),
}


@pytest.mark.parametrize("hook", sorted(PLOTS))
def test_each_plot_hook_writes_a_png(tmp_path, logger, hook):
    args = PLOTS[hook]
    name = next(a for a in args if isinstance(a, str))
    getattr(logger, hook)(*args)
    files = list((tmp_path / "plot").iterdir())
    assert [p.name for p in files] == [f"{name}_00001.png"]
    with PIL.open(files[0]) as image:
        assert image.size == (640, 480)
        pixels = np.asarray(image.convert("L"))
    assert pixels.min() < 128  # something was drawn


def test_bad_plot_data_raises_at_the_call(logger):
    with pytest.raises(TrialogError, match=r"\(N, 2\)"):
        logger.show_scatterplot(np.zeros((5, 3)), "s", None, None, None)


# ---------------------------------------------------------------------------------------- text/config
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"


def test_show_text_appends_timestamped_lines(tmp_path, logger):
    logger.show_text("hello", None, None)
    logger.show_text("epoch done", "train", 3)
    logger.show_text("again", None, None)
    default = (tmp_path / "log" / "default.log").read_text().splitlines()
    assert len(default) == 2
    assert re.fullmatch(STAMP + " hello", default[0]) and default[1].endswith(" again")
    assert re.fullmatch(STAMP + r" \[3\] epoch done", (tmp_path / "log" / "train.log").read_text().strip())


def test_python_logger_writes_to_a_text_log(tmp_path, logger):
    log = logger.python_logger("events")
    log.info("started %d", 5)
    log.debug("hidden")
    text = (tmp_path / "log" / "events.log").read_text()
    assert re.fullmatch(STAMP + r" INFO trialog\.file\.\d+\.events: started 5\n", text)


def test_names_cannot_leave_the_folder(tmp_path, logger):
    logger.show_text("x", "../../escape", None)
    logger.show_image(np.zeros((2, 2)), "a/b", 1, None)
    assert (tmp_path / "log" / "escape.log").is_file()
    assert (tmp_path / "img" / "a" / "b_00001.png").is_file()


def test_log_config_writes_json(tmp_path, logger):
    logger.log_config({"lr": 0.1, "layers": [1, 2], "path": tmp_path})
    logger.log_config({"lr": 0.2})
    data = json.loads((tmp_path / "config" / "logger_config.json").read_text())
    assert data == {"lr": 0.2}


# ------------------------------------------------------------------------------------ via dispatcher
def test_through_combined_logger(tmp_path):
    from trialog.loggers.dispatch import CombinedLogger

    clog = CombinedLogger({"f": "file"}, run_dir=tmp_path)
    assert isinstance(clog["f"], FileLogger) and clog["f"].folder == tmp_path
    for step in range(5):
        clog.show_value(step * 1.5, "loss", tag="train")
    clog.show_image(np.zeros((3, 4, 4)), "img")
    clog.show_barplot(np.arange(3), "bars", labels=["a", "b", "c"])
    clog.show_text("done")
    summary = clog.close()
    assert summary["f"]["failures"] == 0
    rows = read_csv(tmp_path / "log" / "values.csv")
    assert [(r["counter"], r["value"]) for r in rows] == [(str(i + 1), repr(i * 1.5)) for i in range(5)]
    for path in ("plot/loss.png", "img/img_00001.png", "plot/bars_00001.png", "log/default.log"):
        assert (tmp_path / path).is_file(), path


def test_dispatcher_options_and_unknown_option(tmp_path):
    from trialog.loggers.dispatch import CombinedLogger

    clog = CombinedLogger({"f": {"type": "file", "plot_every_s": None, "csv": "per_name"}}, run_dir=tmp_path)
    clog.show_value(1.0, "acc")
    clog.close()
    assert (tmp_path / "log" / "values" / "acc.csv").is_file()
    with pytest.raises(LoggerConfigError, match="plot_every"):
        CombinedLogger({"f": {"type": "file", "plot_every": 3}}, run_dir=tmp_path)
    with pytest.raises(LoggerConfigError, match="no folder"):
        CombinedLogger({"f": "file"})


def test_png_files_are_complete_for_readers(tmp_path, logger):
    # Atomic writes leave no temporary files behind.
    logger.show_value(1.0, "loss", None, None)
    logger.log_config({"a": 1})
    logger.flush()
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert leftovers == []
    assert PIL.open(io.BytesIO((tmp_path / "plot" / "loss.png").read_bytes())).size == (640, 480)


def test_show_video_writes_numbered_animated_gifs(tmp_path, logger):
    from trialog.api import CombinedLogger

    clip = np.stack([np.full((5, 6, 3), i * 60, np.uint8) for i in range(4)])  # (L, H, W, C)
    logger.show_video(clip, "clip", None, 10)
    logger.show_video(clip, "clip", 5, 10)
    with CombinedLogger({"file": logger}) as clog:
        clog.show_video(list(clip), "walk")  # through the dispatcher: trixi's fps=25
    names = sorted(p.name for p in (tmp_path / "img").iterdir())
    assert names == ["clip_00001.gif", "clip_00005.gif", "walk_00001.gif"]
    gif = PIL.open(tmp_path / "img" / "clip_00005.gif")
    assert (gif.n_frames, gif.size, gif.info["duration"]) == (4, (6, 5), 100)
    assert PIL.open(tmp_path / "img" / "walk_00001.gif").info["duration"] == 40
    gif.seek(3)
    assert np.asarray(gif.convert("RGB"))[0, 0].tolist() == [180, 180, 180]


# ----------------------------------------------------------------------------------------- on its own
def test_called_on_its_own_with_trixis_required_arguments_only(tmp_path):
    """trixi's docs call a logger directly: the spec's defaults fill the rest, trixi's extra keywords pass."""
    logger = FileLogger(folder=tmp_path)
    logger.show_value(1.0, "x")
    logger.show_value(2.0, "x", title="loss", file_format=".png")  # trixi's keywords: accepted, unused here
    logger.show_text("Test")
    logger.show_text("titled", title="notes")
    logger.show_image(np.zeros((4, 4)), "img")
    logger.show_barplot(np.arange(3), "bars")
    logger.show_lineplot(np.arange(5.0))  # x_vals and name have defaults (name "lineplot", as trixi)
    scores, labels = np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0])
    logger.show_pr_curve(scores, labels, "pr", reduce_to_n_samples=100, use_sub_process=False)  # trixi's
    logger.show_embedding(np.random.default_rng(0).random((10, 3)), "emb", method="tsne")
    logger.close()
    assert (tmp_path / "log" / "default.log").read_text().count("\n") == 2
    assert {p.name for p in (tmp_path / "plot").iterdir()} >= {
        "bars_00001.png",
        "lineplot_00001.png",
        "pr_00001.png",
        "emb_00001.png",
    }
    assert [p.name for p in (tmp_path / "img").iterdir()] == ["img_00001.png"]
    with pytest.raises(TypeError, match="missing required argument 'name'"):
        logger.show_value(1.0)


def test_swapped_curve_arguments_name_the_hook_and_the_logger(tmp_path):
    logger = FileLogger(folder=tmp_path)
    labels, scores = np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.7, 0.1])
    for hook in ("show_pr_curve", "show_roc_curve"):
        with pytest.raises(TrialogError, match=rf"FileLogger.{hook}\('c'\): labels must be 0 or 1.*swapped"):
            getattr(logger, hook)(labels, scores, "c")  # labels first: not trixi's order
    logger.close()
    assert not (tmp_path / "plot").exists() or not list((tmp_path / "plot").iterdir())


def test_a_configured_logger_is_callable_on_its_own(tmp_path):
    """``exp.loggers["file"].show_value(1.0, "x")`` (trixi's docs): the logger object, not the dispatcher."""
    from trialog import Experiment

    exp = Experiment(base_dir=tmp_path, name="own", loggers={"file": "file"})
    exp.begin_run()
    exp.loggers["file"].show_value(1.0, "x")
    exp.loggers["file"].show_text("Test")
    exp.finish_run()
    rows = read_csv(exp.run_dir / "log" / "values.csv")
    assert [(r["name"], float(r["value"])) for r in rows] == [("x", 1.0)]
    assert (exp.run_dir / "log" / "default.log").read_text().rstrip().endswith("Test")


def test_swapped_curve_arguments_through_the_dispatcher_are_a_warning_naming_both(tmp_path):
    import warnings

    from trialog.errors import TrialogWarning
    from trialog.loggers.dispatch import CombinedLogger

    clog = CombinedLogger({"f": {"type": "file", "plot_every_s": None}}, run_dir=tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clog.show_roc_curve(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.7, 0.1]), "roc")  # labels first
        clog.close()
    warning, summary = [str(w.message) for w in caught if issubclass(w.category, TrialogWarning)]
    assert "logger 'f' (file) failed in show_roc_curve" in warning and "1 failures" in summary
    assert "FileLogger.show_roc_curve('roc'): labels must be 0 or 1" in warning
    assert not (tmp_path / "plot" / "roc_00001.png").exists()
