"""trialog-visdom against a real Visdom server on 127.0.0.1 (started per test, always stopped)."""

from __future__ import annotations

import json
import socket
import threading
import warnings

import numpy as np
import pytest
import requests
from trialog_visdom import VisdomLogger
from trialog_visdom.server import is_ready, start_server, stop_server

from trialog.api import CombinedLogger
from trialog.errors import LoggerConfigError, TrialogError, TrialogWarning

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0


def _reuse_port_socket(port: int = 0) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class _Server:
    """A Visdom server on a port of 127.0.0.1 the OS picked; ``start`` again for a fresh one on the same port.

    The port stays reserved for the test's life by a bound, never-listening socket (connections to a
    stopped server are refused, as with a real outage); each start hands the server a fresh socket
    bound to the same port with SO_REUSEPORT. No port is ever released and re-bound.
    """

    def __init__(self, folder):
        self.folder = folder
        self.placeholder = _reuse_port_socket()
        self.port = self.placeholder.getsockname()[1]
        self.process = None

    def start(self, name: str = "env") -> None:
        self.process = start_server(self.port, self.folder / name, sock=_reuse_port_socket(self.port))
        assert self.process.port == self.port

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process)

    def close(self) -> None:
        self.stop()
        self.placeholder.close()


@pytest.fixture
def closed_port():
    """A port of 127.0.0.1 held by a bound socket that never listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, request):
    """One server for the tests that leave it running (each uses its own env)."""
    srv = _Server(tmp_path_factory.mktemp("visdom"))
    request.addfinalizer(srv.close)
    srv.start()
    return srv


@pytest.fixture
def server(tmp_path, request):
    """A server of the test's own, which it may stop and restart."""
    srv = _Server(tmp_path)
    request.addfinalizer(srv.close)
    srv.start()
    return srv


def _windows(port: int, env: str) -> dict:
    response = requests.post(f"http://127.0.0.1:{port}/win_data", data=json.dumps({"eid": env, "win": None}))
    response.raise_for_status()
    return response.json()


def _traces(window: dict) -> dict[str, tuple[list, list]]:
    return {trace["name"]: (trace["x"], trace["y"]) for trace in window["content"]["data"]}


class _Param(np.ndarray):
    grad: np.ndarray | None = None


class _ArrayModel:
    """Stands in for a torch module: ``named_parameters()`` of arrays with a ``grad``."""

    def named_parameters(self):
        weight = np.array([[1.0, -3.0], [2.0, -2.0]]).view(_Param)
        weight.grad = np.array([[0.5, 0.5], [0.5, 0.5]])
        bias = np.array([4.0]).view(_Param)
        return [("weight", weight), ("bias", bias)]


def test_hooks_and_extras_arrive_through_the_combined_logger(shared_server, tmp_path):
    server = shared_server
    rng = np.random.default_rng(0)
    options = {"type": "visdom", "server": "http://127.0.0.1", "port": server.port, "env": "t1"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)
        clog = CombinedLogger({"vis": options}, run_dir=tmp_path)
        for step in range(6):
            clog.show_value(float(step), "train", counter=step, tag="loss")
            clog.show_value(10.0 + step, "val", counter=step, tag="loss")
            clog.show_value(0.5 * step, "lr")
        clog.show_text("hello <b>\nworld", "notes")
        clog.show_text("again", "notes")
        clog.show_image(rng.random((3, 20, 30)), "img")
        clog.show_image_grid(rng.random((6, 1, 10, 10)), "grid", nrow=3)
        clog.show_barplot(np.array([1.0, 3.0, 2.0]), "bars", labels=["a", "b", "c"])
        clog.show_lineplot(np.arange(10.0), None, "line")
        clog.show_scatterplot(rng.random((20, 2)), "scatter", labels=[i % 2 for i in range(20)])
        clog.show_piechart(np.array([1.0, 2.0]), "pie")
        clog.show_boxplot(rng.random((10, 3)), "box")
        clog.show_histogram(rng.normal(size=300), "hist", bins=15)
        clog.show_heatmap(np.arange(12.0).reshape(3, 4), "heat")
        labels = np.r_[np.zeros(50, int), np.ones(50, int)]
        scores = np.r_[rng.random(50) * 0.6, 0.4 + rng.random(50) * 0.6]
        clog.show_pr_curve(scores, labels, "pr")  # trixi's order: the scores, then the labels
        clog.show_roc_curve(scores, labels, "roc")
        clog.show_embedding(rng.random((30, 6)), "emb", labels=[i % 3 for i in range(30)])
        clog.log_config({"lr": 0.1})
        vis = clog["vis"]
        vis.show_progress(3, 4)
        vis.show_contourplot(rng.random((5, 5)))
        vis.show_surfaceplot(rng.random((5, 5)))
        vis.show_svg('<svg width="4" height="4"><rect width="4" height="4"/></svg>')
        vis.show_histogram_3d(rng.normal(size=100), bins=10)
        vis.show_classification_metrics(
            rng.random((60, 3)),
            rng.integers(0, 3, 60),
            class_names=["a", "b", "c"],  # (tensor, labels)
        )
        vis.plot_model_statistics(_ArrayModel(), "net")
        assert clog.wait_idle(HANG) and vis.wait_idle(HANG)
        windows = _windows(server.port, "t1")
        summary = clog.close()
    assert summary["vis"]["failures"] == 0

    loss = _traces(windows["loss"])
    assert loss["train"] == ([0, 1, 2, 3, 4, 5], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert loss["val"][1] == [10.0 + s for s in range(6)]
    assert _traces(windows["lr"])["lr"][1] == [0.5 * s for s in range(6)]
    assert windows["notes"]["content"] == "hello &lt;b&gt;<br>world<br>again"
    assert windows["img"]["type"] == "image" and windows["img"]["width"] == 30
    assert windows["grid"]["type"] == "image"
    assert windows["bars"]["content"]["data"][0]["x"] == ["a", "b", "c"]
    assert windows["pie"]["content"]["data"][0]["values"] == [1.0, 2.0]
    assert sum(windows["hist"]["content"]["data"][0]["y"]) == 300
    assert windows["heat"]["content"]["data"][0]["z"] == np.arange(12.0).reshape(3, 4).tolist()
    assert windows["roc"]["title"].startswith("roc (AUC")
    assert len(windows["emb"]["content"]["data"]) == 3  # one trace per class
    assert "&quot;lr&quot;: 0.1" in windows["config"]["content"]
    assert windows["progress"]["content"]["data"][0]["values"] == [3.0, 1.0]
    for extra in ("contour", "surface", "svg", "histogram_3d", "net_weights", "net_gradients"):
        assert extra in windows, extra
    assert [t["name"][:1] for t in windows["classification_roc"]["content"]["data"]] == ["a", "b", "c"]
    means, stds = (trace for trace in windows["net_weights"]["content"]["data"])
    assert means["x"] == ["weight", "bias"] and means["y"] == [2.0, 4.0]
    assert stds["y"][1] == 0.0
    gradients = windows["net_gradients"]["content"]["data"][0]
    assert (gradients["x"], gradients["y"]) == (["weight mean |x|", "weight std"], [0.5, 0.0])


def test_model_statistics_of_a_torch_module(shared_server):
    server = shared_server
    torch = pytest.importorskip("torch")
    vis = VisdomLogger(server="http://127.0.0.1", port=server.port, env="t3")
    model = torch.nn.Linear(3, 2)
    model(torch.randn(4, 3)).sum().backward()
    vis.plot_model_statistics(model, "net")
    assert vis.wait_idle(HANG)
    windows = _windows(server.port, "t3")
    vis.close()
    weights = windows["net_weights"]["content"]["data"][0]
    assert weights["x"] == ["weight", "bias"]
    assert weights["y"][0] == pytest.approx(model.weight.abs().mean().item())
    # d(sum of 4 outputs)/d(bias) is 4 for each output unit.
    assert windows["net_gradients"]["content"]["data"][0]["y"][1] == pytest.approx(4.0)


def test_server_killed_mid_run_warns_once_and_reconnects(server, tmp_path):
    options = {
        "type": "visdom",
        "server": "http://127.0.0.1",
        "port": server.port,
        "env": "t2",
        "retry_secs": 0.2,
        "timeout": 2.0,
    }
    clog = CombinedLogger({"vis": options}, run_dir=tmp_path)
    vis = clog["vis"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(5):
            clog.show_value(float(step), "acc", counter=step)
        assert clog.wait_idle(HANG) and vis.wait_idle(HANG)
        server.stop()
        for step in range(5, 10):
            clog.show_value(float(step), "acc", counter=step)
            clog.show_text(f"step {step}", "log")
            clog.show_image(np.zeros((4, 4)), "img")
        assert clog.wait_idle(HANG)
        assert not vis.wait_idle(0.5)  # points are kept while nobody answers
        # A restarted server with an empty environment folder has lost every window.
        server.start("env2")
        for step in range(10, 12):
            clog.show_value(float(step), "acc", counter=step)
        assert clog.wait_idle(HANG) and vis.wait_idle(HANG)
        windows = _windows(server.port, "t2")
        summary = clog.close()
    ours = [w for w in caught if issubclass(w.category, TrialogWarning)]
    assert len(ours) == 1, [str(w.message) for w in ours]
    assert "stopped answering" in str(ours[0].message)
    assert summary["vis"]["failures"] == 0
    assert vis.stats["reconnects"] == 1 and vis.stats["skipped"] > 0
    assert _traces(windows["acc"])["acc"] == (list(range(12)), [float(s) for s in range(12)])


def test_unreachable_at_start_warns_once_or_raises(tmp_path, closed_port):
    port = closed_port
    with pytest.warns(TrialogWarning, match=f"no server answers at http://127.0.0.1:{port}") as caught:
        clog = CombinedLogger({"vis": {"type": "visdom", "server": "http://127.0.0.1", "port": port}})
        for step in range(20):
            clog.show_value(float(step), "x")
        clog.show_text("nobody listens", "t")
        clog.close()
    assert len([w for w in caught if issubclass(w.category, TrialogWarning)]) == 1
    with pytest.raises(LoggerConfigError, match=f"no Visdom server answers at http://127.0.0.1:{port}"):
        VisdomLogger(server="http://127.0.0.1", port=port, raise_on_unreachable=True)


def test_auto_start_starts_a_local_server_and_stops_it(tmp_path, request):
    # port=0: the server listens on a port the OS picks, bound before the server starts (no race)
    vis = VisdomLogger(run_dir=tmp_path / "run1", server="http://localhost", port=0, auto_start=True,
                       keep_server=False)  # fmt: skip
    if vis.server_process is not None:
        request.addfinalizer(lambda: stop_server(vis.server_process))
    assert vis.server_process is not None and vis.port == vis.server_process.port != 0
    port = vis.port
    assert is_ready(port)
    assert vis.env == "run1"
    vis.show_value(1.0, "x", None, None)
    assert vis.wait_idle(HANG)
    assert _traces(_windows(port, "run1")["x"])["x"] == ([0], [1.0])
    vis.close()
    assert vis.server_process.poll() is not None
    assert (tmp_path / "run1" / "save" / "visdom").is_dir()


def test_option_errors():
    with pytest.raises(LoggerConfigError, match="embedding_method"):
        VisdomLogger(embedding_method="umap")
    with pytest.raises(LoggerConfigError, match="password"):
        VisdomLogger(username="me")
    with pytest.raises(LoggerConfigError, match="'host'"):
        CombinedLogger({"vis": {"type": "visdom", "host": "x"}})


@pytest.mark.parametrize("how", ["option", "trixi's method keyword"])
def test_tsne_embedding(shared_server, how):
    pytest.importorskip("sklearn")
    option = {"embedding_method": "tsne"} if how == "option" else {}
    vis = VisdomLogger(server="http://127.0.0.1", port=shared_server.port, env="t4", **option)
    features = np.r_[np.zeros((15, 4)), np.ones((15, 4)) * 10] + np.random.default_rng(0).random((30, 4))
    keyword = {} if how == "option" else {"method": "tsne"}
    vis.show_embedding(features, "emb", labels=["a"] * 15 + ["b"] * 15, **keyword)
    windows = _windows(shared_server.port, "t4")
    vis.close()
    traces = windows["emb"]["content"]["data"]
    assert [t["name"] for t in traces] == ["a", "b"] and [len(t["x"]) for t in traces] == [15, 15]


def test_an_unknown_embedding_method_is_named(shared_server):
    vis = VisdomLogger(server="http://127.0.0.1", port=shared_server.port, env="t5")
    try:
        with pytest.raises(
            ValueError, match=r"VisdomLogger.show_embedding\('emb'\): method must be 'pca' or 'tsne'"
        ):
            vis.show_embedding(np.zeros((4, 3)), "emb", method="isomap")
    finally:
        vis.close()


def test_start_server_refuses_a_port_in_use(tmp_path, closed_port):
    with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{closed_port}"):
        start_server(closed_port, tmp_path / "env")


def test_reserved_queue_size_is_refused_naming_both_and_namespaced_forms_work(closed_port):
    """Visdom documents queue_size: the dispatcher's key of the same name never silently shadows it."""
    options = {"type": "visdom", "server": "http://127.0.0.1", "port": closed_port}
    with pytest.raises(LoggerConfigError, match="'queue_size' is both a dispatcher option") as info:
        CombinedLogger({"vis": {**options, "queue_size": 7}})
    assert "visdom" in str(info.value) and "VisdomLogger" in str(info.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrialogWarning)  # nothing listens: one "unreachable" warning
        clog = CombinedLogger(
            {
                "own": {**options, "options": {"queue_size": 7}},
                "disp": {**options, "dispatch": {"queue_size": 9}},
                "trixi": ("visdom", {"server": "http://127.0.0.1", "port": closed_port, "queue_size": 5}, 2),
            }
        )
        by_name = {lg.name: lg for lg in clog._loggers}
        assert clog["own"]._queue_size == 7 and clog["own"]._sender.maxsize == 7
        assert clog["disp"]._queue_size == 100 and by_name["disp"].queue.maxsize == 9
        assert clog["trixi"]._queue_size == 5 and by_name["trixi"].every == 2
        clog.close()


def test_extra_calls_beyond_queue_size_are_dropped_with_one_warning_at_the_first_drop(closed_port):
    with pytest.warns(TrialogWarning, match="no server answers"):
        vis = VisdomLogger(server="http://127.0.0.1", port=closed_port, queue_size=2, retry_secs=3600)
    hold = threading.Event()
    entered = threading.Event()

    deliver = vis._sender.handler

    def holding(item):  # holds the sender on the first item, then delivers as usual
        if item[1] == "held":
            entered.set()
            hold.wait(HANG)
        deliver(item)

    vis._sender.handler = holding
    vis._sender.put(("extra", "held", lambda: None))
    assert entered.wait(HANG)
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        for i in range(5):
            vis.show_progress(i / 10)
    messages = [str(w.message) for w in records if issubclass(w.category, TrialogWarning)]
    assert len(messages) == 1 and "visdom logger" in messages[0] and "1 dropped so far" in messages[0]
    hold.set()
    vis.close()
    assert vis.stats["dropped"] == 3


def test_show_video_is_an_animated_gif_in_a_pane(shared_server, tmp_path):
    """No ffmpeg: the GIF (pillow) is embedded as Visdom's own video() embeds a video, in an HTML pane."""
    import base64
    import io

    Image = pytest.importorskip("PIL.Image")
    options = {"type": "visdom", "server": "http://127.0.0.1", "port": shared_server.port, "env": "t_video"}
    clog = CombinedLogger({"vis": options}, run_dir=tmp_path)
    clog.show_video(np.stack([np.full((5, 6, 3), i * 50, np.uint8) for i in range(3)]), "clip", fps=5)
    assert clog.wait_idle(HANG) and clog["vis"].wait_idle(HANG)
    windows = _windows(shared_server.port, "t_video")
    assert clog.close()["vis"]["failures"] == 0
    content = windows["clip"]["content"]
    prefix = '<img src="data:image/gif;base64,'
    assert content.startswith(prefix)
    gif = Image.open(io.BytesIO(base64.b64decode(content[len(prefix) : content.index('"', len(prefix))])))
    assert (gif.n_frames, gif.size, gif.info["duration"]) == (3, (6, 5), 200)


def test_trixis_visdom_diagnostics_arrive_through_the_hooks(shared_server, tmp_path):
    """Classification metrics, model statistics, gradient flow, structure and heat-map grids (trialog-torch)
    reach Visdom through the hooks it implements anyway: no diagnostics code in this plugin."""
    torch = pytest.importorskip("torch")
    routing = pytest.importorskip("trialog_torch.routing")
    from trialog_torch.diagnostics import model_structure

    options = {"type": "visdom", "server": "http://127.0.0.1", "port": shared_server.port, "env": "t_diag"}
    clog = CombinedLogger({"vis": options}, run_dir=tmp_path)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model(torch.ones(2, 3)).sum().backward()
    scores, labels = torch.tensor([0.9, 0.8, 0.3, 0.6]), torch.tensor([1, 1, 0, 0])
    for epoch in range(2):
        routing.show_classification_metrics(clog, scores, labels, "val", ("roc-auc", "f1"), counter=epoch)
    routing.show_classification_metrics(clog, scores, labels, "val", ("confusion-matrix",))
    routing.show_model_statistics(clog, model, "net_grads", plot_grad=True)
    routing.show_gradient_flow(clog, model, "net_gradient_flow")
    clog.show_text(model_structure(model, (2, 3)), "net_structure")
    routing.show_heatmap_grid(clog, torch.rand(2, 1, 4, 5), torch.rand(2, 3, 4, 5), "saliency")
    assert clog.wait_idle(HANG) and clog["vis"].wait_idle(HANG)
    windows = _windows(shared_server.port, "t_diag")
    assert clog.close()["vis"]["failures"] == 0
    assert _traces(windows["val"]) == {"roc-auc": ([0, 1], [1.0, 1.0]), "f1": ([0, 1], [0.8, 0.8])}
    assert windows["val_confusion_matrix"]["content"]["data"][0]["z"] == [
        [1, 1],
        [0, 2],
    ]  # 0.6 scores as class 1
    assert windows["net_grads"]["content"]["data"][0]["x"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert sum(windows["net_grads/2.bias"]["content"]["data"][0]["y"]) == 2  # both bias gradients
    assert windows["net_gradient_flow"]["content"]["data"][0]["x"] == ["0.weight", "2.weight"]
    assert "0: Linear [16 params] -&gt; (2, 4)" in windows["net_structure"]["content"]
    assert windows["saliency"]["type"] == "image"


def test_called_on_its_own_with_trixis_required_arguments_only(shared_server):
    """As trixi's docs: a VisdomLogger called directly, positional arguments in the spec's order."""
    vis = VisdomLogger(server="http://127.0.0.1", port=shared_server.port, env="t6")
    vis.show_value(1.0, "x")
    vis.show_value(2.0, "x", None, None, "loss")  # the spec's order: counter, tag, title
    vis.show_text("Test")
    vis.show_image(
        np.zeros((3, 4, 4)), "img", None, "an image"
    )  # counter, then title (visdom takes no counter)
    vis.show_lineplot(np.arange(5.0))
    vis.show_pr_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "pr")  # (tensor, labels, name)
    with pytest.raises(TrialogError, match=r"VisdomLogger.show_roc_curve\('roc'\): labels must be 0 or 1"):
        vis.show_roc_curve(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.7, 0.1]), "roc")  # labels first
    vis.close()
    windows = _windows(shared_server.port, "t6")
    assert {"x", "img", "lineplot", "pr"} <= set(windows) and "roc" not in windows
    assert windows["img"]["title"] == "an image"
    assert any("Test" in str(w["content"]) for w in windows.values())


# ------------------------------------------------------ resume contract (issue 18)
def test_a_resume_redraws_the_curves_from_the_results_log(server, tmp_path):
    options = {"server": "http://127.0.0.1", "port": server.port, "env": "resume"}
    killed = VisdomLogger(**options)
    for step in range(6):  # the killed process: steps 3-5 came after the checkpoint
        killed.show_value(float(step), "train", step, "loss")
    assert killed.wait_idle(HANG)
    assert _traces(_windows(server.port, "resume")["loss"])["train"][0] == [0, 1, 2, 3, 4, 5]
    killed.close()

    results = tmp_path / "results.jsonl"
    records = [
        {"name": "train", "tag": "loss", "value": float(s), "counter": s, "epoch": 0} for s in range(3)
    ]
    records.append(
        {"name": "note", "tag": None, "value": "text", "counter": None, "epoch": 0}
    )  # not a number
    records += [{"name": "lr", "tag": None, "value": 0.1 * i, "counter": None, "epoch": 0} for i in range(2)]
    head = "".join(json.dumps(r) + "\n" for r in records).encode()
    results.write_bytes(head + b'{"name": "train", "tag": "loss", "value": 9.0, "counter": 3}\n')  # past it

    resumed = VisdomLogger(**options)
    resumed.on_resume(len(head), str(results))
    resumed.show_value(13.0, "train", 3, "loss")
    resumed.show_value(0.2, "lr", None, None, call=2)  # the dispatcher's call number continues
    assert resumed.wait_idle(HANG)
    windows = _windows(server.port, "resume")
    assert _traces(windows["loss"]) == {"train": ([0, 1, 2, 3], [0.0, 1.0, 2.0, 13.0])}
    assert _traces(windows["lr"]) == {"lr": ([0, 1, 2], [0.0, 0.1, 0.2])}
    resumed.close()
