"""What a new user reads on the browser's pages (issue 20, observation 5), over HTTP and in headless Chromium.

Overview: the config columns are the keys that differ between the rows shown (every experiment's, no cap),
``name`` is not repeated, the name column stays in view while the table scrolls sideways, a failed filter
clears the rows. Run page: tick labels that differ, whole-number ticks on counter axes, what ``log/`` holds,
an empty ``sources.zip`` said to be empty, the final and best values, ``save/`` artifacts downloadable (and
nothing outside the run folder), a header that follows a live run. Compare: legends that tell runs apart.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import httpx
import pytest
from browser_helpers import run_experiment
from test_security import _get, _status
from trialog_browser.index import run_id
from trialog_browser.serve import BrowserServer

from trialog.api import Experiment


class _Toy(Experiment):
    """A short run whose results look like a real one: a loss per step, an lr, an accuracy per epoch."""

    def train(self, epoch):
        lr = self.config["lr"]
        for i in range(10):
            step = epoch * 10 + i
            self.add_result(1.0 / (1 + lr * 100 * step), "loss", tag="train", counter=step)
            self.add_result(lr + lr * 0.05 * step / 40, "lr", tag="train", counter=step)
        self.add_result(0.5 + 0.1 * epoch, "accuracy", tag="val", counter=epoch)


def toy(base: Path, name: str, config: dict, epochs: int = 4) -> Path:
    return run_experiment(_Toy, base, name, config, epochs, quiet=True)


def _mlp(base: Path, hidden: int, depth: int, lr: float = 0.002) -> Path:
    return toy(base, "bc_mlp", {"name": "bc_mlp", "lr": lr, "hidden": hidden, "model": {"depth": depth}})


def _cnn(base: Path, lr: float) -> Path:
    # an experiment with many keys of its own, all different from bc_mlp's
    keys = {f"aug_{k}": k for k in range(14)}
    return toy(base, "cnn", {"name": "cnn", "lr": lr, **keys})


@pytest.fixture
def mixed(tmp_path):
    base = tmp_path / "runs"
    runs = [_mlp(base, 64, 2), _mlp(base, 128, 3), _cnn(base, 0.01), _cnn(base, 0.02)]
    return base, runs


def _client(server):
    return httpx.Client(base_url=server.url.rstrip("/"), timeout=600)


# ------------------------------------------------------------------------------------------ HTTP


def test_config_columns_cover_every_experiment_shown_and_skip_the_name(mixed, tmp_path):
    base, _ = mixed
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server, _client(server) as c:
        data = c.get("/api/runs").json()
        cols = data["config_columns"]
        # bc_mlp's varying keys are there next to cnn's 14 own keys (no cap at 12), varying keys first
        assert set(cols[:3]) == {"hidden", "model.depth", "lr"}
        assert {f"aug_{k}" for k in range(14)} <= set(cols)
        assert len(cols) == 17
        assert "name" not in cols  # the config's name is the run's name: one name column
        # computed over the rows shown: the bc_mlp runs alone differ in hidden and depth only
        mlp = c.get("/api/runs", params={"q": "name=bc_mlp"}).json()
        assert mlp["config_columns"] == ["hidden", "model.depth"]
        page = c.get("/api/runs", params={"q": "name=cnn", "per": 1}).json()
        assert page["config_columns"] == []  # one row shown: nothing differs


def test_a_config_name_that_says_something_else_is_kept(tmp_path):
    base = tmp_path / "runs"
    toy(base, "a", {"name": "first", "lr": 0.1}, epochs=1)
    toy(base, "b", {"name": "second", "lr": 0.1}, epochs=1)
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server, _client(server) as c:
        assert c.get("/api/runs").json()["config_columns"] == ["name"]


def test_run_answer_lists_log_save_and_an_empty_sources_zip(tmp_path):
    base = tmp_path / "runs"
    run = toy(base, "bc_mlp", {"lr": 0.002}, epochs=1)
    (run / "log" / "values.csv").write_text("step,loss\n0,1.0\n")
    (run / "log" / "events.bin").write_bytes(b"\x00\x01")
    (run / "log" / ".trialog-checkpoints.json").write_text("{}")  # trialog's bookkeeping, not listed
    (run / "save").mkdir(exist_ok=True)
    with zipfile.ZipFile(run / "save" / "sources.zip", "w"):
        pass  # an archive with no files
    (run / "save" / "model").mkdir()
    (run / "save" / "model" / "weights.pt").write_bytes(b"\x80weights")
    outside = tmp_path / "secret.txt"
    outside.write_text("not the run's")
    os.symlink(outside, run / "save" / "leak.txt")
    rid = run_id(run)
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server, _client(server) as c:
        info = c.get(f"/api/run/{rid}").json()
        logs = {f["name"]: f["text"] for f in info["files"]["log"]}
        assert logs["values.csv"] is True and logs["events.bin"] is False
        assert not any(name.startswith(".") for name in logs)
        assert c.get(f"/api/run/{rid}/file/log/values.csv").text.startswith("step,loss")
        assert info["sources"] == [] and info["sources_zip"] is True
        saved = {
            f["name"]: f["size"] for f in info["files"]["save"] if f["name"] != "git.diff"
        }  # a dirty tree
        assert saved == {"sources.zip": (run / "save" / "sources.zip").stat().st_size, "model/weights.pt": 8}
        got = c.get(f"/api/run/{rid}/file/save/model/weights.pt")
        assert got.status_code == 200 and got.content == b"\x80weights"
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["content-disposition"].startswith("attachment")
        assert c.get(f"/api/run/{rid}/file/save/leak.txt").status_code == 403  # a link out: never served
        for bad in ("../run.json", "..%2frun.json", "model/../../run.json", "%2e%2e/%2e%2e/secret.txt"):
            answer = _get(server, f"/api/run/{rid}/file/save/{bad}")  # sent as it is, not normalised
            assert _status(answer) in (400, 403, 404) and b"not the run's" not in answer
        shutil.rmtree(run / "save")
        again = c.get(f"/api/run/{rid}").json()
        assert again["sources_zip"] is False and again["files"]["save"] == []


def test_a_save_folder_linked_out_of_the_run_is_damage_not_a_listing(tmp_path):
    base = tmp_path / "runs"
    run = toy(base, "linked", {"lr": 0.002}, epochs=1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "weights.pt").write_bytes(b"x")
    shutil.rmtree(run / "save", ignore_errors=True)
    os.symlink(elsewhere, run / "save")
    rid = run_id(run)
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server, _client(server) as c:
        info = c.get(f"/api/run/{rid}")
        assert info.status_code == 422 and "save" in {d["file"] for d in info.json()["damaged"]}
        assert info.json()["files"]["save"] == []
        assert c.get(f"/api/run/{rid}/file/save/weights.pt").status_code == 403


def test_compare_labels_tell_runs_of_one_name_apart(mixed, tmp_path):
    base, runs = mixed
    twin = toy(base, "bc_mlp", {"name": "bc_mlp", "lr": 0.002, "hidden": 64, "model": {"depth": 2}})
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server, _client(server) as c:
        ids = ",".join(run_id(r) for r in [*runs, twin])
        labels = [r["label"] for r in c.get("/api/compare", params={"ids": ids}).json()["runs"]]
        assert len(set(labels)) == 5
        assert labels[0].startswith("bc_mlp hidden=64") and "model.depth=2" in labels[0]
        assert labels[1].startswith("bc_mlp hidden=128")
        assert labels[2].startswith("cnn lr=0.01") and labels[3].startswith("cnn lr=0.02")
        assert labels[4].endswith(f"({twin.name})")  # same name, same config: the folder tells it apart
        two = ",".join(run_id(r) for r in (runs[0], runs[2]))
        assert [r["label"] for r in c.get("/api/compare", params={"ids": two}).json()["runs"]] == [
            "bc_mlp",
            "cnn",
        ]


# ------------------------------------------------------------------------------------------ browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = "/usr/bin/chromedriver"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or not Path(DRIVER).is_file(),
    reason="needs Debian's chromium and chromium-driver (nox -s browser installs them)",
)


@pytest.fixture(scope="module")
def driver():
    if CHROMIUM is None or not Path(DRIVER).is_file():
        pytest.skip("needs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1100,900")
    drv = webdriver.Chrome(options=options, service=Service(DRIVER))
    drv.set_page_load_timeout(600)
    yield drv
    drv.quit()


def _wait(driver, script, timeout=600):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(script))


@needs_chromium
def test_overview_keeps_the_name_in_view_and_clears_rows_on_a_bad_filter(driver, mixed, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, _ = mixed
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(server.url)
        _wait(driver, "return window.trialog.ready && window.trialog.total === 4")
        heads = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#runs thead th")]
        assert [h.rstrip(" ↓↑") for h in heads].count("name") == 1
        assert "hidden" in heads and "model.depth" in heads and "aug_13" in heads
        where = """const wrap = document.querySelector('.table-wrap');
            const name = document.querySelector('#runs tbody td.name');
            return [wrap.scrollWidth > wrap.clientWidth, name.getBoundingClientRect().left - wrap.getBoundingClientRect().left];"""
        overflows, before = driver.execute_script(where)
        assert overflows  # the metric columns are off to the right
        driver.execute_script("document.querySelector('.table-wrap').scrollLeft = 100000")
        _wait(driver, "return document.querySelector('.table-wrap').scrollLeft > 0")
        assert driver.execute_script(where)[1] == before  # the name stayed where it was
        last = driver.execute_script(
            "const c = document.querySelector('#runs tbody tr').lastElementChild.getBoundingClientRect();"
            "const w = document.querySelector('.table-wrap').getBoundingClientRect();"
            "return c.right <= w.right + 1 && c.left >= w.left"
        )
        assert last  # ... next to the last metric column
        box = driver.find_element(By.ID, "filter")
        box.send_keys("lr<", Keys.ENTER)
        _wait(driver, "return !document.getElementById('filter-error').hidden")
        assert driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr") == []
        assert driver.execute_script("return window.trialog.total") == 0


@needs_chromium
def test_run_page_ticks_files_finals_and_artifacts(driver, tmp_path):
    from selenium.webdriver.common.by import By

    base = tmp_path / "runs"
    run = toy(base, "bc_mlp", {"lr": 0.002}, epochs=4)
    (run / "log" / "values.csv").write_text("step,loss\n0,1.0\n")
    (run / "save").mkdir(exist_ok=True)
    with zipfile.ZipFile(run / "save" / "sources.zip", "w"):
        pass
    (run / "save" / "weights.pt").write_bytes(b"\x80weights")
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(f"{server.url}run/{run_id(run)}")
        _wait(driver, "return window.trialog.ready")
        ticks = driver.execute_script(
            "const c = window.trialog.charts; return {"
            "lr: c['train/lr'].chart.axes[1]._values, epochs: c['val/accuracy'].chart.axes[0]._values}"
        )
        assert len(ticks["lr"]) >= 3 and len(set(ticks["lr"])) == len(ticks["lr"])  # 0.0021, 0.0022, ...
        assert all(len(t.split(".")[-1]) >= 4 for t in ticks["lr"])
        assert ticks["epochs"] and all(t.lstrip("-").isdigit() for t in ticks["epochs"])  # no 0.2 steps
        assert [float(t) for t in ticks["epochs"]] == sorted({float(t) for t in ticks["epochs"]})
        logs = driver.find_element(By.ID, "logs").text
        assert "values.csv" in logs and "nothing in log/" not in logs
        assert "is empty" in driver.find_element(By.ID, "sources").text
        links = {a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#saved a")}
        assert links["weights.pt"].endswith("/file/save/weights.pt") and "sources.zip" not in links
        finals = driver.execute_script("return window.trialog.finals")
        assert finals["val/accuracy"]["last"] == pytest.approx(0.8)
        assert finals["train/loss"]["best"] == pytest.approx(1.0 / (1 + 0.2 * 39))
        rows = {
            r.find_element(By.CSS_SELECTOR, "td").text: r.text
            for r in driver.find_elements(By.CSS_SELECTOR, "#finals tr[data-key]")
        }
        assert set(rows) == {"train/loss", "train/lr", "val/accuracy"} and "0.8" in rows["val/accuracy"]


@needs_chromium
def test_live_header_and_finals_follow_the_run(driver, tmp_path):
    from selenium.webdriver.common.by import By

    base = tmp_path / "runs"
    exp = Experiment(
        config={"lr": 0.1}, name="live", base_dir=base, loggers={}, save_sources=False, quiet=True
    )
    for i in range(10):
        exp.add_result(1.0 / (i + 1), "loss", tag="train", counter=i)
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(f"{server.url}run/{run_id(exp.run_dir)}")
        _wait(driver, "return window.trialog.ready")
        assert "10 points" in driver.find_element(By.ID, "run-sub").text
        for i in range(10, 15):
            exp.add_result(1.0 / (i + 1), "loss", tag="train", counter=i)
        _wait(driver, "return window.trialog.head.points === 15")
        assert "15 points" in driver.find_element(By.ID, "run-sub").text
        assert driver.execute_script("return window.trialog.finals['train/loss'].last") == pytest.approx(
            1 / 15
        )
        # the epoch the run records in run.json reaches the header while the page stays open
        exp.end_epoch(2)
        _wait(driver, "return window.trialog.head.epoch === 2")
        assert "epoch 2" in driver.find_element(By.ID, "run-sub").text
        assert driver.execute_script("return window.trialog.head.duration") is not None
    exp.close()


@needs_chromium
def test_compare_legend_entries_differ(driver, mixed, tmp_path):
    base, runs = mixed
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(f"{server.url}compare?ids={','.join(run_id(r) for r in runs)}")
        _wait(driver, "return window.trialog.ready")
        labels = driver.execute_script(
            "return window.trialog.charts['train/loss'].chart.series.slice(1).map((s) => s.label)"
        )
        assert len(labels) == 4 and len(set(labels)) == 4
        assert sum(label == "bc_mlp" for label in labels) == 0
