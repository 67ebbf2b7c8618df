"""trixi's names on trialog-trixi's TrixiExperiment: exp_name, exp.elog (ExperimentLogger), exp.results
(ResultLogDict), trixi's file API (save_dict, ...) behind the core's one name guard; the core's own
trialog.Experiment has none of them and says where they went."""

from __future__ import annotations

import json

import numpy as np
import pytest
from trialog_trixi import ExperimentLogger, ResultDict, ResultElement, TrixiExperiment

import trialog
from trialog.errors import ConfigError


@pytest.fixture
def exp(tmp_path):
    e = TrixiExperiment(exp_name="trixi_names", base_dir=tmp_path, loggers={}, save_sources=False)
    yield e
    e.close()


def test_exp_name_is_the_constructor_keyword_and_attribute(exp):
    assert exp.exp_name == "trixi_names" == exp.name
    assert exp.run_dir.name.endswith("_trixi_names")


def test_elog_folders_are_the_run_folders(exp):
    elog = exp.elog
    assert isinstance(elog, ExperimentLogger)
    assert elog is exp.elog
    assert elog.work_dir == str(exp.run_dir)
    for sub in ("config", "log", "checkpoint", "img", "plot", "result", "save"):
        assert getattr(elog, f"{sub}_dir") == str(exp.run_dir / sub)


def test_elog_show_calls_write_images_and_plots(exp):
    pytest.importorskip("matplotlib")
    from trialog_figures import decode_png

    elog = exp.elog
    image = np.random.default_rng(0).random((3, 8, 10))
    path = elog.show_image(image, "img1")
    assert path == exp.img_dir / "img1.png"
    assert decode_png(path.read_bytes()).shape == (8, 10, 3)
    elog.show_barplot(np.array([3, 1, 2]), "bars")
    elog.show_lineplot(np.arange(5) ** 2, np.arange(5), name="line")
    elog.show_lineplot(np.arange(5))  # trixi's defaults: x_vals=None, name="lineplot"
    elog.show_piechart(np.array([1, 2, 3]), "pie")
    elog.show_scatterplot(np.random.default_rng(1).random((20, 2)), "scatter")
    elog.show_boxplot(np.random.default_rng(2).random((20, 3)), "box")
    elog.show_value(1.0, "loss")
    elog.show_value(0.5, "loss", counter=3)
    elog.show_value(0.7, "acc", tag="metrics")
    from trialog_figures import render

    elog.show_matplot_plt(render.barplot([1, 2]), "custom", file_format=".pdf")
    names = sorted(p.name for p in exp.plot_dir.iterdir())
    assert names == [
        "bars.png", "box.png", "custom.pdf", "line.png", "lineplot.png", "loss.png", "metrics.png", "pie.png", "scatter.png",
    ]  # fmt: skip


def test_show_text_and_print_write_the_text_log(exp, capsys):
    exp.elog.show_text("hello", name="greeting")
    exp.elog.print("a", 1)
    exp.elog.show_text("other", logger="second")
    assert capsys.readouterr().out == "a 1\n"
    lines = (exp.log_dir / "default.log").read_text().splitlines()
    assert lines[0].endswith(" - INFO - greeting: hello")
    assert lines[1].endswith(" - INFO - a 1")
    assert (exp.log_dir / "second.log").read_text().endswith("- INFO - other\n")


def test_save_result_config_dict_numpy_file(exp, tmp_path):
    elog = exp.elog
    elog.save_result({"acc": 0.9}, "final")
    assert json.loads((exp.result_dir / "final.json").read_text()) == {"acc": 0.9}
    elog.save_config({"lr": 0.1, "shape": (1, 2)}, "other")
    assert elog.load_config("other")["shape"] == (1, 2)
    data = {"shape": (3, 4), "nested": {"t": (1, (2, 3))}, "s": {1, 2}, "l": [1, 2]}
    elog.save_dict(data, "meta")
    assert elog.load_dict("meta") == data
    elog.save_numpy_data(np.arange(6).reshape(2, 3), "arr")
    np.testing.assert_array_equal(elog.load_numpy_data("arr"), np.arange(6).reshape(2, 3))
    src = tmp_path / "notes.txt"
    src.write_text("x")
    assert elog.save_file(src, "copies").read_text() == "x"
    assert (exp.save_dir / "copies" / "notes.txt").is_file()


@pytest.mark.parametrize("bad", ["../escape", "/abs/path", "a/../../b"])
def test_paths_leaving_the_run_folder_are_refused(exp, bad):
    with pytest.raises(ConfigError, match="inside"):
        exp.elog.save_dict({"a": 1}, bad)
    with pytest.raises(ConfigError):
        exp.elog.save_result({"a": 1}, bad)
    with pytest.raises(ConfigError):
        exp.elog.show_text("x", logger=bad)
    assert not (exp.run_dir.parent / "escape.json").exists()


def test_run_folder_api(exp, tmp_path):
    exp.save_dict({"x": np.arange(2), "y": "z"}, "sub/d")
    assert exp.load_dict("sub/d") == {"x": [0, 1], "y": "z"}
    exp.save_numpy_data(np.eye(2), "arr")
    np.testing.assert_array_equal(exp.load_numpy_data("arr"), np.eye(2))
    exp.save_pickle({"k": (1, 2)}, "obj.pkl")
    assert exp.load_pickle("obj.pkl") == {"k": (1, 2)}
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    assert exp.save_file(src, "files").read_text() == "hello"
    assert {"arr.npy", "files", "obj.pkl", "sub"} <= {p.name for p in exp.save_dir.iterdir()}


def _tree(folder):
    # every file and folder but the temporary files of atomic writes (run.json's heartbeat)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.name.startswith("."))


def test_save_dict_outside_save_is_refused_before_anything_is_written(exp, tmp_path):
    before = _tree(tmp_path)
    with pytest.raises(ConfigError, match=r"path '\.\./x\.json' must be a relative path inside"):
        exp.save_dict({}, "../x")
    assert _tree(tmp_path) == before  # trialog 0.1 wrote run_dir/x.json
    src = tmp_path / "src.txt"
    src.write_text("s")
    before = _tree(tmp_path)
    refused = {
        "save_dict": lambda p: exp.save_dict({"a": 1}, p),
        "save_numpy_data": lambda p: exp.save_numpy_data(np.eye(2), p),
        "save_pickle": lambda p: exp.save_pickle(1, p),
        "save_file": lambda p: exp.save_file(src, p),
        "elog.save_dict": lambda p: exp.elog.save_dict({"a": 1}, p),
        "elog.save_numpy_data": lambda p: exp.elog.save_numpy_data(np.eye(2), p),
        "elog.save_pickle": lambda p: exp.elog.save_pickle(1, p),
        "elog.save_file": lambda p: exp.elog.save_file(src, p),
        "save_config": lambda p: exp.save_config({"a": 1}, p),
        "elog.save_config": lambda p: exp.elog.save_config({"a": 1}, p),
    }
    for what, call in refused.items():
        for bad in ("../x", "a/../../y", str(tmp_path / "abs")):
            with pytest.raises(ConfigError, match="must be a relative path inside"):
                call(bad)
                pytest.fail(f"{what}({bad!r}) was not refused")
    assert _tree(tmp_path) == before
    (exp.run_dir / "x.json").write_text("{}")
    (exp.run_dir / "x.npy").write_bytes(b"")
    for load in (exp.load_dict, exp.load_numpy_data, exp.load_pickle, exp.load_config, exp.elog.load_dict):
        with pytest.raises(ConfigError, match=r"'\.\./x"):
            load("../x")


def test_the_core_experiment_names_trialog_trixi_for_trixis_members(tmp_path):
    plain = trialog.Experiment(base_dir=tmp_path, loggers={}, save_sources=False)
    for name in ("elog", "save_dict", "load_pickle", "exp_name", "get_result_without_epoch"):
        with pytest.raises(
            AttributeError, match=f"Experiment.{name} is trixi's API.*pip install trialog-trixi"
        ):
            getattr(plain, name)
        assert not hasattr(plain, name)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_member'"):
        plain.no_such_member  # noqa: B018
    assert plain.results.latest  # the core's own results: the ResultLog
    plain.close()


def test_results_read_write_iterate_like_result_log_dict(exp):
    assert isinstance(exp.results, ResultDict)
    exp.results["loss"] = 0.5
    exp.add_result(0.25, "loss", tag="train")
    exp.results["acc"] = ResultElement(data=0.9, label="val", epoch=0, counter=3)
    assert exp.results["loss"] == 0.25
    assert exp.results["acc"] == 0.9
    assert list(exp.results) == ["loss", "acc"]
    assert len(exp.results) == 2 and "acc" in exp.results and "nope" not in exp.results
    assert dict(exp.results.items()) == {"loss": 0.25, "acc": 0.9}
    # the ResultLog methods still work; its summary is per series (name, tag), trixi's mapping per name
    assert exp.results.summary()["loss"]["count"] == 1 and exp.results.summary()["train/loss"]["count"] == 1
    with pytest.raises(KeyError, match="known names"):
        exp.results["nope"]
    with pytest.raises(TypeError):
        del exp.results["loss"]
    summary = exp.save_results("named.json")
    assert json.loads((exp.result_dir / "named.json").read_text()) == summary
    assert exp.get_result_without_epoch("acc") == 0.9
    exp.close()
    records = [json.loads(line) for line in (exp.result_dir / "results.jsonl").read_text().splitlines()]
    assert [r["name"] for r in records] == ["loss", "loss", "acc"]
    assert records[2]["tag"] == "val" and records[2]["counter"] == 3


def test_show_images_and_image_grid(exp):
    from trialog_figures import decode_png

    batch = np.random.default_rng(0).random((4, 1, 5, 6))
    paths = exp.elog.show_images(batch, "sample")
    assert [p.name for p in paths] == ["sample_0.png", "sample_1.png", "sample_2.png", "sample_3.png"]
    exp.elog.show_images(batch[:2], ["a", "b"])
    assert (exp.img_dir / "b.png").is_file()
    grid = exp.elog.show_image_grid(batch, "grid", nrow=2, padding=1)
    assert decode_png(grid.read_bytes()).shape == (2 * 5 + 3, 2 * 6 + 3, 3)
    with pytest.raises(ConfigError, match="names"):
        exp.elog.show_images(batch, ["only-one"])


def test_save_and_load_pickle(exp):
    exp.elog.save_pickle({"a": {1, 2}}, "obj.pkl")
    assert exp.elog.load_pickle("obj.pkl") == {"a": {1, 2}}


def test_resolve_format_resolves_run_numbers_names_and_time(exp):
    base = exp.run_dir.parent
    (base / "x_3").mkdir()
    (base / "x_10").mkdir()
    (base / "y_99").mkdir()
    name = exp.name
    assert exp.elog.resolve_format("x_{run_number}", resume=False) == "x_11"
    assert exp.elog.resolve_format("x_{run_number}", resume=True) == "x_10"
    assert exp.elog.resolve_format("z_{run_number:02d}", resume=False) == "z_01"
    assert exp.elog.resolve_format("z_{run_number}", resume=True) == "z_1"
    assert exp.elog.resolve_format("{experiment_name}-{unknown}", resume=False) == f"{name}-{{unknown}}"
    resolved = exp.elog.resolve_format("%Y%m%d_{exp_name}", resume=False)
    assert resolved.endswith(f"_{name}") and resolved[:8].isdigit()
    with pytest.raises(ConfigError, match=r"folder format 'x_\{'"):
        exp.elog.resolve_format("x_{", resume=False)
