"""trixi.experiment_browser.browser and .dataprocessing, called as trixi's docs name them, over an old trixi
run folder (the shared fixture) and a trialog run; the browser is served for real on 127.0.0.1."""

from __future__ import annotations

import asyncio
import http.cookiejar
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from trialog.api import Experiment, Run
from trialog.errors import ConfigError, RunFolderError

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0

ROOT = Path(__file__).resolve().parents[3]
#: trixi's own run folder: ../shared/fixtures from the repository, else the identical copy beside this file.
FIXTURE = next(
    p
    for p in (
        ROOT.parent / "shared" / "fixtures" / "trixi-run-example",
        Path(__file__).with_name("trixi-run-example"),
    )
    if p.is_dir()
)


class _Train(Experiment):
    def train(self, epoch):
        for i in range(3):
            self.add_result(1.0 / (1 + epoch * 3 + i), "loss", tag="train", counter=epoch * 3 + i)


@pytest.fixture
def base(tmp_path):
    """A folder with the trixi fixture, one trialog run, a folder that is no run, and an ignored trixi run."""
    base = tmp_path / "runs"
    shutil.copytree(FIXTURE, base / "trixi-run-example")
    shutil.copytree(FIXTURE, base / "ignored-trixi-run")
    (base / "ignored-trixi-run" / ".exp_info").write_text(json.dumps({"ignore": True}))
    (base / "not-a-run").mkdir()
    exp = _Train(
        config={"lr": 0.5, "a_very_long_setting": "x" * 40},
        name="native",
        n_epochs=2,
        base_dir=base,
        loggers={},
        save_sources=False,
        heartbeat_interval=0,
    )
    exp.run()
    exp.close()
    return base, Path(exp.run_dir)


# -- dataprocessing (needs no trialog-browser) ------------------------------------------------------------


def test_process_base_dir_reads_trixi_and_trialog_runs(base):
    from trixi.experiment_browser.dataprocessing import IGNORE_KEYS, process_base_dir

    folder, native = base
    info = process_base_dir(str(folder), short_len=10)
    assert info["noexp"] == ["not-a-run"]
    assert "name" not in info["ccols"] and set(IGNORE_KEYS).isdisjoint(info["ccols"])
    assert {"lr", "batch_size", "model.depth", "a_very_long_setting"} <= set(info["ccols"])
    assert info["rcols"] == ["acc", "loss"]
    rows = {row[0]: row for row in info["rows"]}
    assert set(rows) == {"trixi-run-example", native.name}  # the ignored run is left out, as in trixi
    _rel, star, name, time, state, epoch, config, results = rows["trixi-run-example"]
    assert (star, name, time, state, epoch) == (False, "trixi_example", "26-11-21_10:02:00", "Trained", "3")
    cells = dict(zip(info["ccols"], config))
    assert cells["lr"] == ("0.01", "0.01") and cells["a_very_long_setting"] == ("-", "-")
    assert dict(zip(info["rcols"], results))["acc"] == ("0.7", "0.7")
    native_row = rows[native.name]
    assert native_row[2] == "native" and native_row[4] == "finished"
    long_cell = dict(zip(info["ccols"], native_row[6]))["a_very_long_setting"]
    assert long_cell == ("x" * 40, "x" * 10)
    assert dict(zip(info["rcols"], native_row[7]))["acc"] == ("-", "-")
    with pytest.raises(ConfigError, match="nowhere"):
        process_base_dir(str(folder), "nowhere")


def test_process_base_dir_view_dir_and_star(base):
    from trixi.experiment_browser import ExperimentReader
    from trixi.experiment_browser.dataprocessing import process_base_dir

    folder, _ = base
    ExperimentReader(str(folder), "trixi-run-example").update_meta_info(name="renamed", star=True)
    nested = folder / "group"
    shutil.copytree(folder / "trixi-run-example", nested / "inner")
    info = process_base_dir(str(folder), view_dir="group", default_val="n/a")
    ((rel, star, name, *_),) = info["rows"]
    assert (rel, star, name) == (os.path.join("group", "inner"), True, "renamed")


def test_group_images_groups_by_name_without_numbers():
    from trixi.experiment_browser.dataprocessing import group_images

    img = os.sep + os.path.join("run", "img") + os.sep
    images = [img + n for n in ("loss_0.2.png", "sample_12.png", "loss_0.1.png", "sample_3.png", "x.png")]
    groups = group_images(images)
    assert groups == {
        "loss_": ["loss_0.1.png", "loss_0.2.png"],
        "sample": ["sample_12.png", "sample_3.png"],
        "x": ["x.png"],
    }
    assert images[0].endswith("loss_0.1.png")  # sorted in place, as trixi did
    with pytest.raises(ConfigError, match="not inside"):
        group_images(["/run/plot/a.png"])


def test_merge_results_and_make_graphs_from_the_fixture(base):
    from trixi.experiment_browser import ExperimentReader
    from trixi.experiment_browser.dataprocessing import COLORMAP, make_graphs, merge_results

    folder, native = base
    readers = [ExperimentReader(str(folder), "trixi-run-example"), ExperimentReader(str(native))]
    merged = merge_results([r.exp_name for r in readers], [r.get_results_log() for r in readers])
    assert set(merged) == {"train", "val"}
    assert set(merged["train"]) == {"trixi_example_loss", "native_loss"}
    assert merged["val"]["trixi_example_acc"]["data"] == pytest.approx([0.5, 0.6, 0.7])
    graphs, traces = make_graphs(merged)
    assert traces == [2, 1] and [g["layout"]["title"] for g in graphs] == ["train", "val"]
    first, second = graphs[0]["data"]
    assert (first["name"], second["name"]) == ("native_loss", "trixi_example_loss")
    assert first["type"] == "scatter" and first["x"] == [0, 1, 2, 3, 4, 5]
    assert (first["line"]["color"], second["line"]["color"]) == COLORMAP[:2]
    assert graphs[0]["layout"]["legend"]["font"] == {"size": 8}
    custom, _ = make_graphs(
        merged, trace_options={"mode": "lines"}, layout_options={"height": 300}, color_map=["red"]
    )
    assert custom[0]["layout"] == {"title": "train", "height": 300}
    assert {t["line"]["color"] for t in custom[0]["data"]} == {"red"} and custom[0]["data"][0][
        "mode"
    ] == "lines"
    with pytest.raises(ConfigError, match="2 experiment names for 1"):
        merge_results(["a", "b"], [{}])
    with pytest.raises(ConfigError, match="'counter' and 'data'"):
        make_graphs({"g": {"n": {"data": [1]}}})


# -- without trialog-browser -------------------------------------------------------------------------------


def test_without_trialog_browser_the_error_names_the_distribution(monkeypatch, tmp_path):
    import trixi.experiment_browser.browser as browser

    for name in [m for m in sys.modules if m == "trialog_browser" or m.startswith("trialog_browser.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "trialog_browser", None)  # import trialog_browser now fails
    with pytest.raises(ImportError, match=r"trialog-browser.*pip install 'trialog-trixi\[browser\]'"):
        browser.create_flask_app(tmp_path)
    _args, base_dir = browser.parse_args(["runs"])  # parsing needs nothing
    assert base_dir == "runs"


# -- the browser -------------------------------------------------------------------------------------------

needs_browser = pytest.mark.skipif(
    importlib.util.find_spec("trialog_browser") is None,
    reason="the browser tests need trialog-browser (pip install 'trialog-trixi[browser]')",
)


class _Response:
    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status_code, self.headers, self.text = status, headers, body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect comes back as the response itself


class _Client:
    """HTTP over urllib: redirects returned unless asked to follow, cookies kept (the page's CSRF session)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()

    def request(self, method, path, params=None, headers=None, content=None, follow_redirects=False):
        url = self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
        handlers = [urllib.request.HTTPCookieProcessor(self.cookies)]
        if not follow_redirects:
            handlers.append(_NoRedirect())
        request = urllib.request.Request(url, data=content, method=method, headers=headers or {})
        try:
            with urllib.request.build_opener(*handlers).open(request, timeout=HANG) as r:
                return _Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return _Response(e.code, e.headers, e.read())

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)


def _asgi_get(app, host: str, path: str) -> tuple[int, bytes]:
    """One GET through the ASGI interface itself, as any ASGI server would call the app."""
    sent: list[dict] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", host.encode())], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 5000),
    }  # fmt: skip

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_parse_args_takes_trixis_command_line():
    from trixi.experiment_browser.browser import parse_args

    args, base_dir = parse_args(["runs" + os.sep])
    assert base_dir == "runs" and (args.port, args.debug, args.expose) == (5000, False, False)
    args, _ = parse_args(["runs", "-p", "8123", "-d", "-x"])
    assert (args.port, args.debug, args.expose, args.base_directory) == (8123, True, True, "runs")
    args, _ = parse_args(["runs", "--port", "1", "--debug", "--expose"])
    assert (args.port, args.debug, args.expose) == (1, True, True)
    with pytest.raises(SystemExit):
        parse_args([])


@needs_browser
def test_create_flask_app_is_an_asgi_app_with_trialog_browsers_guards(base, tmp_path):
    from trixi.experiment_browser.browser import create_flask_app, overview, register_url_routes

    folder, _ = base
    app = create_flask_app(str(folder), cache_dir=tmp_path / "cache")
    status, body = _asgi_get(app, "127.0.0.1:5000", "/api/runs")  # trixi's default address
    data = json.loads(body)
    assert status == 200 and data["total"] == 2 and {r["kind"] for r in data["rows"]} == {"trixi", "trialog"}
    assert _asgi_get(app, "attacker.example:5000", "/api/runs")[0] == 421  # DNS rebinding refused
    with pytest.raises(RuntimeError, match="outside of request context"):
        overview(str(folder))
    with pytest.raises(TypeError, match="create_flask_app"):
        register_url_routes(object(), str(folder))  # type: ignore[arg-type]
    with pytest.raises(RunFolderError, match="nowhere"):
        create_flask_app(str(tmp_path / "nowhere"))


@pytest.fixture
def served(base, tmp_path):
    from trixi.experiment_browser.browser import create_flask_app, register_url_routes

    folder, native = base
    app = create_flask_app(str(folder), cache_dir=tmp_path / "cache", refresh_every=0)
    register_url_routes(app, str(folder))
    with app.server() as server:  # port 0: the OS picks it, the bound socket is kept
        yield folder, native, server, _Client(server.url)


def _id(path: Path) -> str:
    from trialog_browser.index import run_id

    return run_id(path)


@needs_browser
def test_trixis_pages_lead_to_trialog_browsers(served):
    folder, native, _, client = served
    trixi_id, native_id = _id(folder / "trixi-run-example"), _id(native)
    r = client.get("/experiment", params={"exp": "trixi-run-example"})
    assert r.status_code == 303 and r.headers["location"] == f"/run/{trixi_id}"
    assert client.get(r.headers["location"]).status_code == 200
    r = client.get("/experiment", params=[("exp", "trixi-run-example"), ("exp", native.name)])
    assert r.status_code == 303 and r.headers["location"] == f"/compare?ids={trixi_id}%2C{native_id}"
    assert client.get(r.headers["location"]).status_code == 200
    r = client.get("/experiment", params={"exp": "trixi-run-example", "combi": "true"})
    assert r.headers["location"] == f"/compare?ids={trixi_id}"
    assert client.get("/experiment", params={"exp": "x", "save": "true"}).status_code == 501
    r = client.get("/combine", params=[("exp", "trixi-run-example"), ("exp", native.name), ("group", "lr")])
    assert r.status_code == 303 and r.headers["location"] == f"/compare?ids={trixi_id}%2C{native_id}"
    for path in ("/overview", "/overview?dir=."):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/"
    r = client.get("/overview", params={"dir": "group"})
    assert r.status_code == 404 and "trialog browse" in r.text
    missing = client.get("/experiment", params={"exp": "../../etc"})
    assert missing.status_code == 404 and "no run '../../etc'" in missing.text
    assert client.get("/experiment").status_code == 400


@needs_browser
def test_experiment_log_and_plots(served):
    _folder, native, _, client = served
    log = client.get(
        "/experiment_log", params={"exp": "trixi-run-example", "log": "default.log"}, follow_redirects=True
    )
    assert log.status_code == 200 and "Experiment ended" in log.text
    assert log.headers["content-type"].startswith("text/plain")
    outside = client.get(
        "/experiment_log",
        params={"exp": "trixi-run-example", "log": "../config/config.json"},
        follow_redirects=True,
    )
    assert outside.status_code in (403, 404) and "lr" not in outside.text
    plots = client.get(
        "/experiment_plots", params=[("exp", "trixi-run-example"), ("exp", native.name)]
    ).json()
    assert plots["traces"] == [2, 1]
    titles = [g["layout"]["title"] for g in plots["graphs"]]
    assert titles == ["train", "val"]
    val = plots["graphs"][1]["data"][0]
    assert val["name"] == "trixi_example_acc" and val["y"] == pytest.approx([0.5, 0.6, 0.7])
    combi = client.get(
        "/experiment_plots", params=[("exp", "trixi-run-example"), ("exp", native.name), ("combi", "true")]
    ).json()
    assert combi["traces"] == [1, 1]  # one combined run: its loss (mean over both) and its acc


def _token(client, server, rid):
    page = client.get(f"/run/{rid}")
    token = page.text.split('name="trialog-token" content="')[1].split('"')[0]
    return {"Origin": server.url.rstrip("/"), "X-Trialog-Token": token}


@needs_browser
def test_star_rename_remove_change_runs_only_on_a_post_with_the_token(served):
    folder, native, server, client = served
    trixi_dir = folder / "trixi-run-example"
    get = client.get("/experiment_star", params={"exp": "trixi-run-example", "star": "1"})
    assert get.status_code == 405 and "POST" in get.text
    for path, params in (("/experiment_remove", {}), ("/experiment_rename", {"name": "n"})):
        assert client.get(path, params={"exp": native.name, **params}).status_code == 405
    assert not Run(native).registry["removed"] and not Run(native).registry["display_name"]
    forged = client.post(
        "/experiment_star",
        params={"exp": "trixi-run-example", "star": "1"},
        headers={"Origin": "http://evil.example"},
    )
    assert forged.status_code == 403 and not (trixi_dir / ".exp_info").exists()
    headers = _token(client, server, _id(native))

    def post(path, **params):
        return client.post(path, params=params, headers=headers, content=b"")

    assert post("/experiment_star", exp="trixi-run-example", star="1").status_code == 200
    assert json.loads((trixi_dir / ".exp_info").read_text())["star"] is True  # trixi's own file
    assert post("/experiment_star", exp=native.name, star="1").status_code == 200
    assert Run(native).registry["starred"] is True  # trialog's registry
    assert post("/experiment_star", exp=native.name, star="yes").status_code == 400
    assert post("/experiment_rename", exp="trixi-run-example", name="old one").status_code == 200
    assert post("/experiment_rename", exp=native.name, name="new one").status_code == 200
    assert post("/experiment_rename", exp=native.name).status_code == 400
    rows = {r["folder"]: r for r in client.get("/api/runs").json()["rows"]}
    assert rows["trixi-run-example"]["name"] == "old one" and rows["trixi-run-example"]["starred"]
    assert rows[native.name]["name"] == "new one" and rows[native.name]["starred"]
    removed = post("/experiment_remove", exp=["trixi-run-example", native.name])
    assert removed.status_code == 200 and removed.text == ""
    assert client.get("/api/runs").json()["total"] == 0
    assert Run(native).registry["removed"] is True
    from trixi.experiment_browser import ExperimentReader

    assert ExperimentReader(str(folder), "trixi-run-example").ignore


@needs_browser
def test_start_browser_serves_until_interrupted(base, tmp_path):
    """``python -m trixi.experiment_browser.browser BASE -p 0 -d``: trixi's command, port from the OS."""
    folder, _ = base
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "trixi.experiment_browser.browser", str(folder) + os.sep, "-p", "0", "-d"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert " runs at http://127.0.0.1:" in line, (
            line,
            proc.stderr.read() if proc.poll() is not None else "",
        )
        url = line.split(" runs at ")[1].split()[0].rstrip("/")
        client = _Client(url)
        assert client.get("/api/runs").json()["total"] == 2
        r = client.get("/experiment", params={"exp": "trixi-run-example"})
        assert r.status_code == 303  # start_browser registered trixi's URLs
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 0, err
    assert "debug mode has no reloader or debugger" in err
