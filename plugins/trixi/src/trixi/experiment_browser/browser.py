"""``trixi.experiment_browser.browser``: trixi's Flask experiment browser, served by trialog-browser.

``start_browser()`` (``python -m trixi.experiment_browser.browser BASE_DIR [-p PORT] [-d] [-x]``)
serves trialog-browser's pages over ``BASE_DIR`` on 127.0.0.1 (``-x``: every address, with a warning).
``create_flask_app(base_dir)`` returns trialog-browser's app: an ASGI app, not a Flask one (flask is not
a dependency, and trialog-browser is Starlette), with Flask's ``app.run(host, port, debug)``.
``register_url_routes(app, base_dir)`` adds trixi's URLs to it (``/experiment?exp=FOLDER`` and the
rest), each answered by the view function of the same name through trialog-browser's pages and
guards: views that change a run (``experiment_remove``, ``_star``, ``_rename``) take a ``POST`` with
the page's CSRF token, where trixi changed runs on a ``GET`` any other site could trigger.

Needs the ``trialog-browser`` distribution (``pip install 'trialog-trixi[browser]'``); this module
imports without it, and its functions name it in an ImportError when it is missing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from trialog.errors import RunFolderError

from .dataprocessing import COLORMAP, IGNORE_KEYS, make_graphs, merge_results
from .experimentreader import CombiExperimentReader, ExperimentReader

DISTRIBUTION = "trialog-browser"
#: trixi's default port.
DEFAULT_PORT = 5000

#: (request, trialog_browser.Browser) of the request a registered trixi route is answering.
_CURRENT: ContextVar[tuple[Any, Any] | None] = ContextVar("trixi_browser_request", default=None)


def _require_browser() -> Any:
    """The ``trialog_browser`` package, or an ImportError that names the distribution to install."""
    try:
        import trialog_browser
        import trialog_browser.app
        import trialog_browser.serve
    except ImportError as exc:
        raise ImportError(
            f"trixi.experiment_browser.browser serves the {DISTRIBUTION} web browser, which is not "
            f"installed: pip install 'trialog-trixi[browser]' (or pip install {DISTRIBUTION})",
            name="trialog_browser",
        ) from exc
    return trialog_browser


def parse_args(args: Sequence[str] | None = None) -> tuple[argparse.Namespace, str]:
    """trixi's command line: ``base_directory``, ``-d/--debug``, ``-x/--expose``, ``-p/--port`` (5000).

    Returns ``(arguments, base_dir)`` (``base_dir`` without a trailing separator), as trixi did;
    ``args`` defaults to ``sys.argv[1:]``.
    """
    parser = argparse.ArgumentParser(
        prog="trixi-browser", description="Browse the runs in a folder (trialog-browser's pages)."
    )
    parser.add_argument(
        "base_directory", type=str, help="Give the path to the base directory of your project files"
    )
    parser.add_argument(
        "-d",
        "--debug",
        action="store_true",
        help="accepted for trixi; there is no live reloading or in-page debugger",
    )
    parser.add_argument(
        "-x", "--expose", action="store_true", help="Make server externally visible (binds 0.0.0.0)"
    )
    parser.add_argument(
        "-p",
        "--port",
        default=DEFAULT_PORT,
        type=int,
        help=f"Port to start the server on ({DEFAULT_PORT} by default)",
    )
    parsed = parser.parse_args(args)
    base_dir = parsed.base_directory
    if len(base_dir) > 1 and base_dir.endswith(os.sep):
        base_dir = base_dir.rstrip(os.sep) or os.sep
    return parsed, base_dir


class BrowserApp:
    """What :func:`create_flask_app` returns: trialog-browser's ASGI app over ``base_dir``.

    Serve it with ``app.run(host, port)`` (Flask's call), ``app.server(host, port)`` (a
    :class:`trialog_browser.BrowserServer`, startable in a thread), or any ASGI server at the address
    given to :func:`create_flask_app` (requests naming another ``Host`` are refused).
    """

    def __init__(self, base_dir: str | os.PathLike[str], host: str, port: int, **options: Any) -> None:
        tb = _require_browser()
        if not Path(base_dir).is_dir():
            raise RunFolderError(
                f"{str(base_dir)!r} is not a folder of runs (it does not exist or is not a folder)"
            )
        self.base_dir = str(base_dir)
        self.browser = tb.Browser([base_dir], host, port, **options)
        self.url_routes: dict[str, Callable[[str], Any]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.browser.app(scope, receive, send)

    def server(self, host: str = "127.0.0.1", port: int = 0) -> Any:
        """A :class:`trialog_browser.BrowserServer` for this app, bound now (port 0: a free one)."""
        from trialog_browser.serve import BrowserServer

        return BrowserServer([], host=host, port=port, browser=self.browser)

    def run(self, host: str | None = None, port: int | None = None, debug: bool | None = None) -> None:
        """Serve until Ctrl-C, like Flask's ``app.run``: ``host`` 127.0.0.1, ``port`` 5000 by default.

        ``debug`` is accepted and changes nothing but a note: Werkzeug's debugger runs Python typed into
        the page, which trialog-browser does not offer.
        """
        from trialog_browser.serve import is_loopback

        server = self.server(host or "127.0.0.1", DEFAULT_PORT if port is None else port)
        if debug:
            print(
                "trixi browser: debug mode has no reloader or debugger here; serving as usual",
                file=sys.stderr,
            )
        if not is_loopback(server.host):
            print(
                f"trixi browser: warning: serving on {server.host}, reachable from other machines; anyone who "
                "can reach it can read these runs (changes still need this page's token)",
                file=sys.stderr,
            )
        print(f"trixi browser: {len(self.browser.index)} runs at {server.url}  (Ctrl-C stops)", flush=True)
        try:
            server.run()
        except KeyboardInterrupt:
            pass


def create_flask_app(
    base_dir: str | os.PathLike[str], host: str = "127.0.0.1", port: int = DEFAULT_PORT, **options: Any
) -> BrowserApp:
    """trialog-browser's app over the runs in ``base_dir`` (an ASGI app with Flask's ``run``, not Flask).

    ``host``/``port``: the address it will be served at (``run`` and ``server`` set their own);
    ``options`` go to :class:`trialog_browser.Browser` (``cache_dir``, ``refresh_every``). Unlike
    trixi's app it does not serve all of ``base_dir`` as static files: only a run's ``img/``,
    ``plot/`` and ``log/`` files of known types.
    """
    return BrowserApp(base_dir, host, port, **options)


def start_browser() -> None:
    """trixi's ``trixi-browser`` command: :func:`parse_args`, then serve until Ctrl-C."""
    args, base_dir = parse_args()
    app = create_flask_app(base_dir)
    register_url_routes(app, base_dir)
    app.run(debug=args.debug, host="0.0.0.0" if args.expose else "127.0.0.1", port=args.port)


# -- trixi's URLs ---------------------------------------------------------------------------------------


def register_url_routes(app: BrowserApp, base_dir: str | os.PathLike[str]) -> None:
    """Add trixi's URLs to ``app`` (from :func:`create_flask_app`); runs are named relative to ``base_dir``.

    ``/`` is trialog-browser's overview already; ``/overview``, ``/experiment``, ``/combine``,
    ``/experiment_log``, ``/experiment_plots`` answer a GET, ``/experiment_remove``, ``/experiment_star``,
    ``/experiment_rename`` a POST with the page's ``X-Trialog-Token`` (trixi's query parameters either way).
    """
    if not isinstance(app, BrowserApp):
        raise TypeError(
            f"register_url_routes needs the app create_flask_app returned, not {type(app).__name__} "
            "(a Flask app cannot serve trialog-browser)"
        )
    from starlette.routing import Route

    views: dict[str, tuple[Callable[[str], Any], list[str]]] = {
        "/overview": (overview_, ["GET"]),
        "/experiment": (experiment, ["GET"]),
        "/combine": (combine, ["GET"]),
        "/experiment_log": (experiment_log, ["GET"]),
        "/experiment_plots": (experiment_plots, ["GET"]),
        "/experiment_remove": (experiment_remove, ["GET", "POST"]),
        "/experiment_star": (experiment_star, ["GET", "POST"]),
        "/experiment_rename": (experiment_rename, ["GET", "POST"]),
    }
    base = str(base_dir)
    browser = app.browser
    routes = browser.app.router.routes
    for path, (view, methods) in views.items():
        routes[:] = [r for r in routes if getattr(r, "path", None) != path]  # registering again replaces
        routes.append(Route(path, _endpoint(view, base, browser), methods=methods))
        app.url_routes[path] = view


def _endpoint(view: Callable[[str], Any], base_dir: str, browser: Any) -> Callable[[Any], Any]:
    def endpoint(request: Any) -> Any:
        token = _CURRENT.set((request, browser))
        try:
            return view(base_dir)
        finally:
            _CURRENT.reset(token)

    endpoint.__name__ = view.__name__
    return endpoint


def _current(view: str) -> tuple[Any, Any]:
    current = _CURRENT.get()
    if current is None:
        raise RuntimeError(
            f"trixi.experiment_browser.browser.{view} answers a request: it runs inside a route that "
            "register_url_routes added (working outside of request context)"
        )
    return current


def _http_error(status: int, text: str) -> Exception:
    from starlette.exceptions import HTTPException

    return HTTPException(status, text)


def _redirect(url: str) -> Any:
    from starlette.responses import RedirectResponse

    return RedirectResponse(url, status_code=303)


def _entries(browser: Any, base_dir: str, names: Sequence[str], view: str) -> list[dict[str, Any]]:
    """The index entries of the runs ``base_dir/name``: a run is found in the index, never opened by path."""
    from trialog_browser.index import run_id

    if not names:
        raise _http_error(400, f"{view} needs the run folder(s) in ?exp=FOLDER")
    browser.index.refresh(browser.refresh_every)
    found = []
    for name in names:
        entry = None
        if name and "\x00" not in name:
            entry = browser.index.get(run_id(Path(base_dir) / name))
        if entry is None:
            raise _http_error(404, f"{view}: no run {name!r} in {base_dir}")
        found.append(entry)
    return found


def _ids(entries: Sequence[dict[str, Any]]) -> str:
    return ",".join(e["id"] for e in entries)


def _post_only(request: Any, view: str) -> None:
    if request.method != "POST":
        raise _http_error(
            405,
            f"{view} changes a run, so it takes a POST with this page's X-Trialog-Token header "
            "(trixi's GET could be triggered by any web page you visited)",
        )


def overview(base_dir: str) -> Any:
    """``/``: trialog-browser's overview page (a redirect to it)."""
    _current("overview")
    return _redirect("/")


def overview_(base_dir: str) -> Any:
    """``/overview?dir=SUB``: the overview; trialog-browser lists only the runs directly in ``base_dir``."""
    request, _ = _current("overview_")
    sub = request.query_params.get("dir", "")
    if sub and Path(base_dir, sub).resolve() != Path(base_dir).resolve():
        raise _http_error(
            404,
            f"overview_: this browser lists the runs directly in {base_dir}; for those in {sub!r}, "
            f"start it on that folder (trialog browse {os.path.join(base_dir, sub)})",
        )
    return overview(base_dir)


def experiment(base_dir: str) -> Any:
    """``/experiment?exp=A[&exp=B...]``: the run page of one run, the compare page of several."""
    request, browser = _current("experiment")
    if request.query_params.get("save", "") == "true":
        raise _http_error(501, "experiment: save=true (CombiExperimentReader.save) is not provided")
    entries = _entries(browser, base_dir, request.query_params.getlist("exp"), "experiment")
    if len(entries) == 1 and request.query_params.get("combi", "false") != "true":
        return _redirect(f"/run/{entries[0]['id']}")
    return _redirect(f"/compare?{urlencode({'ids': _ids(entries)})}")


def combine(base_dir: str) -> Any:
    """``/combine?exp=A&exp=B``: trialog-browser's compare page, which combines runs into mean ± std."""
    request, browser = _current("combine")
    entries = _entries(browser, base_dir, request.query_params.getlist("exp"), "combine")
    return _redirect(f"/compare?{urlencode({'ids': _ids(entries)})}")


def experiment_log(base_dir: str) -> Any:
    """``/experiment_log?exp=A&log=NAME``: the log file ``A/log/NAME`` as text (a redirect to it)."""
    request, browser = _current("experiment_log")
    (entry,) = _entries(browser, base_dir, request.query_params.getlist("exp")[:1], "experiment_log")
    log = request.query_params.get("log", "")
    if not log:
        raise _http_error(400, "experiment_log needs the log file's name in ?log=NAME")
    return _redirect(f"/api/run/{entry['id']}/file/log/{quote(log)}")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def experiment_plots(base_dir: str) -> Any:
    """``/experiment_plots?exp=A[&exp=B][&combi=true]``: ``{"graphs": [...], "traces": [...]}`` as trixi's.

    The graphs are :func:`~trixi.experiment_browser.dataprocessing.make_graphs`' plotly figure dicts
    (trixi sent their HTML markup).
    """
    from starlette.responses import Response

    request, browser = _current("experiment_plots")
    entries = _entries(browser, base_dir, request.query_params.getlist("exp"), "experiment_plots")
    paths = sorted(e["path"] for e in entries)
    if request.query_params.get("combi", "false") == "true":
        readers: list[ExperimentReader] = [CombiExperimentReader("", paths)]
    else:
        readers = [ExperimentReader(p) for p in paths]
    names = [r.exp_name for r in readers]
    if len(names) > len(set(names)):
        names = [f"{n}{i}" for i, n in enumerate(names)]
    results = merge_results(names, [r.get_results_log() for r in readers])
    graphs, traces = make_graphs(results, color_map=COLORMAP)
    body = json.dumps(_finite({"graphs": graphs, "traces": traces}), default=str)
    return Response(body, media_type="application/json")


def _registry() -> Any:
    """trialog-runs' registry of a trialog run (installed with trialog-browser, which serves these views)."""
    from trialog_runs import registry

    return registry


def _change(
    base_dir: str, view: str, trialog: Callable[[Path], Any], trixi: Callable[[ExperimentReader], Any]
) -> Any:
    """Apply a change to each ``?exp=`` run: trialog's registry, or trixi's ``.exp_info`` for a trixi run."""
    from starlette.responses import PlainTextResponse

    request, browser = _current(view)
    _post_only(request, view)
    entries = _entries(browser, base_dir, request.query_params.getlist("exp"), view)
    for entry in entries:
        if entry["kind"] == "trialog":
            trialog(Path(entry["path"]))
        else:
            trixi(ExperimentReader(entry["path"]))
        browser.index.update(entry["id"])
    return PlainTextResponse("")


def experiment_remove(base_dir: str) -> Any:
    """``POST /experiment_remove?exp=A[&exp=B]``: remove the runs from the overview (files stay)."""
    return _change(
        base_dir,
        "experiment_remove",
        lambda path: _registry().set_removed(path, True),
        lambda reader: reader.ignore_experiment(),
    )


def experiment_star(base_dir: str) -> Any:
    """``POST /experiment_star?exp=A&star=1`` (or ``0``): star or unstar the run."""
    request, _ = _current("experiment_star")
    _post_only(request, "experiment_star")
    value = request.query_params.get("star", "")
    if value not in ("0", "1"):
        raise _http_error(400, f"experiment_star needs ?star=1 or ?star=0, got {value!r}")
    star = value == "1"
    return _change(
        base_dir,
        "experiment_star",
        lambda path: _registry().set_starred(path, star),
        lambda reader: reader.update_meta_info(star=star),
    )


def experiment_rename(base_dir: str) -> Any:
    """``POST /experiment_rename?exp=A&name=NEW``: the run's display name (its folder stays)."""
    request, _ = _current("experiment_rename")
    _post_only(request, "experiment_rename")
    name = request.query_params.get("name", "").strip()
    if not name:
        raise _http_error(400, "experiment_rename needs the new name in ?name=NEW")
    return _change(
        base_dir,
        "experiment_rename",
        lambda path: _registry().rename(path, name),
        lambda reader: reader.update_meta_info(name=name),
    )


__all__ = [
    "IGNORE_KEYS",
    "BrowserApp",
    "combine",
    "create_flask_app",
    "experiment",
    "experiment_log",
    "experiment_plots",
    "experiment_remove",
    "experiment_rename",
    "experiment_star",
    "overview",
    "overview_",
    "parse_args",
    "register_url_routes",
    "start_browser",
]

if __name__ == "__main__":
    start_browser()
