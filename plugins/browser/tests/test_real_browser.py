"""The pages in a real browser: Debian's headless Chromium driven by Selenium through /usr/bin/chromedriver.

Skipped (with the reason) where Chromium or its driver is not installed; ``nox -s browser`` installs them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import make_run
from trialog_browser.index import run_id
from trialog_browser.serve import BrowserServer
from trialog_figures import encode_png
from trialog_runs import registry

from trialog.api import Experiment

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = "/usr/bin/chromedriver"
SHOTS = Path("/tmp/browser-shots")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not Path(DRIVER).is_file(),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; nox -s browser does it)",
)


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1360,900",
        "--force-device-scale-factor=1",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    drv = webdriver.Chrome(
        options=options, service=Service(DRIVER)
    )  # a given driver: Selenium Manager downloads nothing
    drv.set_page_load_timeout(600)
    yield drv
    drv.quit()


@pytest.fixture
def site(tmp_path):
    base = tmp_path / "runs"
    made = {}
    for lr in (0.003, 0.01, 0.03):
        for seed in (1, 2):
            tags = ["baseline"] if lr == 0.01 else ["sweep"]
            made[(lr, seed)] = make_run(base, f"cnn-lr{lr}", lr, seed=seed, epochs=4, steps=75, tags=tags)
    first = made[(0.01, 1)]
    registry.set_purpose(first, "baseline for the lr sweep")
    registry.set_starred(first, True)
    rng = np.random.default_rng(0)
    for i in range(3):
        img = (rng.random((24, 24, 3)) * 255).astype(np.uint8)
        img[8:16, :, i] = 255
        (first / "img" / f"sample_{i}.png").write_bytes(encode_png(img))
    (first / "log" / "default.log").write_text("epoch 0 <b>not bold</b>\nepoch 1 done\n")
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        yield server, made


def _wait(driver, script, timeout=600):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(script))


def _shot(driver, tmp_path, name):
    driver.execute_script("window.scrollTo(0, 0)")
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SHOTS / path.name)
    assert path.stat().st_size > 5000


def test_overview_lists_and_filters(driver, site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    server, _ = site
    driver.get(server.url)
    assert _wait(driver, "return window.trialog && window.trialog.ready && window.trialog.total") == 6
    assert len(driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr")) == 6
    _shot(driver, tmp_path, "overview")
    box = driver.find_element(By.ID, "filter")
    box.send_keys("lr<0.02 and tag:baseline", Keys.ENTER)
    _wait(driver, "return window.trialog.total === 2")
    rows = driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
    assert len(rows) == 2 and all("cnn-lr0.01" in r.text for r in rows)
    box.clear()
    box.send_keys("lr<", Keys.ENTER)
    _wait(driver, "return !document.getElementById('filter-error').hidden")
    assert "filter" in driver.find_element(By.ID, "filter-error").text


def test_run_page_chart_points_note_and_escaping(driver, site, tmp_path):
    from selenium.webdriver.common.by import By

    server, made = site
    run = made[(0.01, 1)]
    driver.get(f"{server.url}run/{run_id(run)}")
    _wait(driver, "return window.trialog.ready")
    charts = driver.execute_script(
        "return Object.fromEntries(Object.entries(window.trialog.charts).map(([k, c]) => [k, c.points]))"
    )
    assert charts == {"train/loss": 300, "val/acc": 4}
    assert len(driver.find_elements(By.CSS_SELECTOR, "#curves canvas")) == 2
    assert len(driver.find_elements(By.CSS_SELECTOR, "#images img")) == 3
    rows = {
        r.find_element(By.TAG_NAME, "th").text: r for r in driver.find_elements(By.CSS_SELECTOR, "#meta tr")
    }
    assert " × " in rows["machine"].text and "GiB RAM" in rows["machine"].text  # run.json's machine
    driver.find_element(By.CSS_SELECTOR, "#logs summary").click()
    _wait(driver, "return document.querySelector('#logs pre').dataset.loaded === '1'")
    pre = driver.find_element(By.CSS_SELECTOR, "#logs pre")
    assert "<b>not bold</b>" in pre.text and not pre.find_elements(By.TAG_NAME, "b")  # shown as text
    driver.find_element(By.ID, "note-input").send_keys("lr 0.01 <i>looks</i> best")
    driver.find_element(By.CSS_SELECTOR, "#note-form button").click()
    _wait(driver, "return window.trialog.changes === 1")
    notes = json.loads((run / "run.json").read_text())["notes"]
    assert [n["text"] for n in notes] == ["lr 0.01 <i>looks</i> best"]
    assert not driver.find_elements(By.CSS_SELECTOR, "#notes i")
    driver.find_element(By.ID, "tag-input").send_keys("+keep\n")
    _wait(driver, "return window.trialog.changes === 2")
    assert json.loads((run / "run.json").read_text())["tags"] == ["baseline", "keep"]
    driver.set_window_size(1360, 1500)
    try:
        _shot(driver, tmp_path, "run")
    finally:
        driver.set_window_size(1360, 900)


def test_compare_overlays_and_combines(driver, site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server, made = site
    driver.get(server.url)
    _wait(driver, "return window.trialog.ready && window.trialog.total === 6")
    wanted = {run_id(made[(0.003, 1)]), run_id(made[(0.03, 1)])}
    for box in driver.find_elements(By.CSS_SELECTOR, "input.select"):
        if box.get_attribute("data-id") in wanted:
            box.click()
    driver.find_element(By.ID, "compare").click()
    _wait(driver, "return window.trialog.page === 'compare' && window.trialog.ready")
    assert driver.execute_script("return window.trialog.compare.runs") == 2
    assert driver.execute_script("return window.trialog.charts['train/loss'].lines") == 2
    ids = ",".join(run_id(p) for p in made.values())
    driver.get(f"{server.url}compare?ids={ids}")
    _wait(driver, "return window.trialog.ready")
    Select(driver.find_element(By.ID, "combine")).select_by_value("seed")
    _wait(driver, "return window.trialog.ready && window.trialog.compare.combine === 'seed'")
    groups = driver.execute_script("return window.trialog.compare.groups")
    assert sorted(len(v) for v in groups.values()) == [2, 2, 2]
    assert (
        driver.execute_script("return window.trialog.charts['train/loss'].lines") == 9
    )  # mean and ±std per group
    _shot(driver, tmp_path, "compare")


def test_live_run_updates_without_reload(driver, tmp_path):
    base = tmp_path / "runs"
    exp = Experiment(config={"lr": 0.1}, name="live", base_dir=base, loggers={}, save_sources=False)
    for i in range(10):
        exp.add_result(1.0 / (i + 1), "loss", tag="train", counter=i)
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(f"{server.url}run/{run_id(exp.run_dir)}")
        _wait(driver, "return window.trialog.ready")
        assert driver.execute_script("return window.trialog.charts['train/loss'].points") == 10
        driver.execute_script("window.__marker = 'same page'")
        for i in range(10, 15):
            exp.add_result(1.0 / (i + 1), "loss", tag="train", counter=i)
        _wait(driver, "return window.trialog.charts['train/loss'].points === 15")
        assert driver.execute_script("return window.__marker") == "same page"  # no reload happened
        assert driver.execute_script("return window.trialog.live.appended") == 5
        # the overview's row of a running run follows it too
        driver.get(server.url)
        _wait(driver, "return window.trialog.ready && window.trialog.rows.length === 1")
        assert driver.execute_script("return window.trialog.rows[0].status") == "running"
        driver.execute_script("window.__marker = 'overview'")
        exp.add_result(0.001, "loss", tag="train", counter=15)
        _wait(driver, "return window.trialog.rows[0].results['train/loss'].last === 0.001")
        assert driver.execute_script("return window.__marker") == "overview"
    exp.close()


def test_long_curve_is_downsampled_and_zoom_fetches_full_resolution(driver, tmp_path):
    run = make_run(tmp_path / "runs", "long", 0.0005, epochs=1, steps=20_000)
    with BrowserServer([tmp_path / "runs"], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(f"{server.url}run/{run_id(run)}")
        _wait(driver, "return window.trialog.ready")
        points = driver.execute_script("return window.trialog.charts['train/loss'].points")
        assert 1000 <= points <= 2002  # 20,000 samples arrive downsampled
        # drag-select counters ~1000..1999 the way a mouse drag does it
        driver.execute_script(
            """const u = window.trialog.charts['train/loss'].chart;
            const left = u.valToPos(1000, 'x'), right = u.valToPos(1999, 'x');
            u.setSelect({left: left, width: right - left, top: 0, height: u.bbox.height}, true);"""
        )
        _wait(driver, "return window.trialog.charts['train/loss'].zoomed === true")
        zoomed = driver.execute_script("return window.trialog.charts['train/loss'].points")
        assert 990 <= zoomed <= 1010  # every sample of the window (the drag rounds to pixels)


def test_live_page_obeys_the_servers_reset(driver, tmp_path):
    # The log is cut back under the page (a resume truncates it to the checkpoint): the server answers the
    # stale offset with a reset; the page reloads its curves instead of polling the stale offset forever.
    base = tmp_path / "runs"
    exp = Experiment(config={"lr": 0.1}, name="live", base_dir=base, loggers={}, save_sources=False)
    for i in range(5):
        exp.add_result(1.0 / (i + 1), "loss", tag="train", counter=i)
    state = exp.checkpoint_state()
    for i in range(5, 15):
        exp.add_result(1.0 / (i + 1), "loss", tag="train", counter=i)
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(f"{server.url}run/{run_id(exp.run_dir)}")
        _wait(driver, "return window.trialog.ready")
        assert driver.execute_script("return window.trialog.charts['train/loss'].points") == 15
        exp.restore_state(state, kind="load", results=True)  # back to 5 records
        exp.add_result(7.0, "loss", tag="train", counter=5)
        exp.add_result(8.0, "loss", tag="train", counter=6)
        _wait(
            driver,
            "return window.trialog.live.resets >= 1 && window.trialog.charts['train/loss'].points === 7",
        )
        assert (
            driver.execute_script("return window.trialog.offset")
            == (exp.run_dir / "result" / "results.jsonl").stat().st_size
        )
    exp.close()


def test_a_damaged_run_page_names_the_damage_and_shows_the_rest(driver, tmp_path):
    run = make_run(tmp_path / "runs", "damaged", 0.01, epochs=2, steps=30)
    (run / "config" / "config.json").write_bytes(b"\x00\xffjunk")
    with BrowserServer([tmp_path / "runs"], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(f"{server.url}run/{run_id(run)}")
        _wait(driver, "return window.trialog.ready")
        damage = driver.execute_script("return document.getElementById('damage').innerText")
        assert "config/config.json" in damage and "utf-8" in damage
        assert not driver.execute_script("return document.getElementById('damage').hidden")
        assert driver.execute_script("return window.trialog.charts['train/loss'].points") == 60  # still shown
        assert "seed" in driver.execute_script("return document.getElementById('meta').innerText")
        _shot(driver, tmp_path, "damaged-run")
        driver.get(server.url)
        _wait(driver, "return window.trialog.ready && window.trialog.rows.length === 1")
        assert driver.execute_script("return window.trialog.rows[0].damaged[0].file") == "config/config.json"
        _shot(driver, tmp_path, "damaged-overview")


def test_overview_picks_up_a_new_run_without_a_reload(driver, tmp_path):
    base = tmp_path / "runs"
    base.mkdir()
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        driver.get(server.url)
        _wait(driver, "return window.trialog.ready && window.trialog.total === 0")  # nothing running yet
        driver.execute_script("window.__marker = 'same page'")
        exp = Experiment(config={"lr": 0.1}, name="late", base_dir=base, loggers={}, save_sources=False)
        exp.add_result(0.5, "loss", tag="train", counter=0)
        _wait(
            driver, "return window.trialog.rows.length === 1 && window.trialog.rows[0].status === 'running'"
        )
        exp.close()
        _wait(driver, "return window.trialog.rows[0].status === 'finished'")
        assert driver.execute_script("return window.__marker") == "same page"  # no reload happened
