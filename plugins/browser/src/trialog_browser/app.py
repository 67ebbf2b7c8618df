"""The Starlette app behind ``trialog browse``: pages, JSON API, run files, and the guards around them.

Safety rules (trixi's browser broke each of them):

- requests whose ``Host`` is not the address the server is bound to are refused (DNS rebinding);
- every change is a ``POST`` carrying the session's CSRF token (a cookie-bound HMAC) from a page
  of this origin (``Origin`` checked); a GET never changes anything;
- runs are picked by index id, never by a path from the request; files come only from a run's
  ``img/``, ``plot/`` and ``log/`` folders, after resolving symlinks, with an allow-list of types, and
  from ``save/`` (the user's artifacts) only as downloads (``Content-Disposition: attachment``);
- bodies are capped, templates autoescape, logs are sent as text and shown with ``textContent``.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import io
import itertools
import json
import math
import os
import secrets
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send
from trialog_runs import registry
from trialog_runs.cli import config_difference
from trialog_runs.query import QueryError, compile_query

from trialog.api import machine_line, read_appended, read_columns, run_file, series_key
from trialog.errors import TrialogError

from . import downsample
from .index import RunIndex, best_mode, damage_of, duration_of, fields_of, matches_search, status_of

HERE = Path(__file__).parent
MAX_BODY = 64 * 1024
MAX_QUERY = 4096
MAX_HEADERS = 16 * 1024
FILE_KINDS = ("img", "plot", "log", "save")
#: the kinds listed whole (every file, whatever its type): a text type is shown, ``save/`` is downloaded
LISTED_WHOLE = ("log", "save")
#: suffix -> media type of the files a run page may show
FILE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".log": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/plain; charset=utf-8",
    ".json": "text/plain; charset=utf-8",
    ".jsonl": "text/plain; charset=utf-8",
}
#: config keys that would repeat a fixed overview column (shown only where they say something else)
FIXED_COLUMNS = ("name",)
MAX_TEXT_BYTES = 2 * 1024 * 1024
SORTABLE = ("name", "status", "start", "duration", "epoch")
COOKIE = "trialog_session"
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class Guard:
    """ASGI middleware: Host allow-list, body cap, CSRF token + Origin on every non-GET, security headers."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str], secret: bytes) -> None:
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.secret = secret

    def origins(self) -> set[str]:
        return {f"http://{h}" for h in self.allowed_hosts}

    def token_for(self, session: str) -> str:
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADERS:
            await _plain(send, 431, "request headers too large")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").lower()
        if host not in self.allowed_hosts:
            await _plain(send, 421, "unknown Host: this server answers only to its own address")
            return
        if len(scope.get("query_string", b"")) > MAX_QUERY or len(scope.get("path", "")) > MAX_QUERY:
            await _plain(send, 414, "request URI too long")
            return
        method = scope["method"]
        if method not in ("GET", "HEAD", "POST"):
            await _plain(send, 405, "method not allowed")
            return
        if method == "POST":
            origin = headers.get("origin")
            if origin is None or origin.lower() not in self.origins():
                await _plain(send, 403, "cross-origin or Origin-less change refused")
                return
            session = _cookie(headers.get("cookie", ""), COOKIE)
            token = headers.get("x-trialog-token", "")
            if not session or not hmac.compare_digest(token, self.token_for(session)):
                await _plain(send, 403, "missing or wrong CSRF token")
                return
            length = headers.get("content-length")
            if length is None or not length.isdigit() or int(length) > MAX_BODY:
                await _plain(send, 413, f"a change needs a Content-Length of at most {MAX_BODY} bytes")
                return
            receive = _capped(receive, MAX_BODY)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _capped(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def inner() -> Any:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, "body too large")
        return message

    return inner


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json(data: Any, status: int = 200) -> Response:
    # One C-speed encoding in the common case; only an answer holding NaN or infinities is walked by _clean
    # (they become null), as JSONResponse(_clean(data)) would have sent it.
    try:
        body = json.dumps(
            data, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
        )
    except ValueError:
        body = json.dumps(_clean(data), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status, media_type="application/json")


class Browser:
    """The state behind one ``trialog browse``: the run index, the secret, the templates."""

    def __init__(
        self,
        dirs: Sequence[str | Path],
        host: str = "127.0.0.1",
        port: int = 0,
        cache_dir: str | Path | None = None,
        refresh_every: float = 1.0,
    ) -> None:
        self.index = RunIndex(dirs, cache_dir)
        self.index.refresh()
        self.refresh_every = refresh_every
        # Overview answers per query, reused while the index is unchanged and younger than refresh_every.
        self._overviews: collections.OrderedDict[tuple[Any, ...], tuple[int, float, Any]] = (
            collections.OrderedDict()
        )
        self._overviews_lock = threading.Lock()
        self.secret = secrets.token_bytes(32)
        import jinja2

        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
        self.templates = Jinja2Templates(env=env)
        self.hosts: list[str] = []
        self.set_address(host, port)
        routes = [
            Route("/", self.page_overview),
            Route("/run/{rid}", self.page_run),
            Route("/compare", self.page_compare),
            Route("/api/runs", self.api_runs),
            Route("/api/run/{rid}", self.api_run),
            Route("/api/run/{rid}/series", self.api_series),
            Route("/api/run/{rid}/tail", self.api_tail),
            Route("/api/run/{rid}/file/{kind}/{name:path}", self.api_file),
            Route("/api/run/{rid}/registry", self.api_registry, methods=["POST"]),
            Route("/api/compare", self.api_compare),
            Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        ]
        self.guard: Guard | None = None
        self.app = Starlette(routes=routes, middleware=[Middleware(self._guard_factory)])

    def _guard_factory(self, app: ASGIApp) -> Guard:
        self.guard = Guard(app, self.hosts, self.secret)
        return self.guard

    def set_address(self, host: str, port: int) -> None:
        """The address clients must name in ``Host`` (called again once the OS picked the port)."""
        names = {f"[{host}]" if ":" in host else host}
        if host in ("127.0.0.1", "localhost"):
            names |= {"127.0.0.1", "localhost"}
        if host in ("0.0.0.0", "::"):
            names = _own_names()  # bound everywhere: the names and addresses of this machine
        hosts = [f"{n}:{port}" for n in names]
        self.hosts[:] = hosts
        if getattr(self, "guard", None) is not None:
            self.guard.allowed_hosts = {h.lower() for h in hosts}  # type: ignore[union-attr]

    def _refresh(self) -> None:
        # refresh_every 0: every request sees the disk as it is now; else the index is rescanned in the
        # background and requests answer from the last scan (a page never waits for 10,000 stats).
        if self.refresh_every <= 0:
            self.index.refresh()
        else:
            self.index.refresh_soon(self.refresh_every)

    # -- helpers --------------------------------------------------------------------------------

    def _entry(self, rid: str) -> dict[str, Any]:
        if not (len(rid) == 12 and all(c in "0123456789abcdef" for c in rid)):
            raise HTTPException(404, "no such run")
        self._refresh()
        entry = self.index.get(rid)
        if entry is None:
            raise HTTPException(404, "no such run")
        return entry

    def _session(self, request: Request) -> tuple[str, bool]:
        session = request.cookies.get(COOKIE)
        if session and len(session) == 43:
            return session, False
        return secrets.token_urlsafe(32), True

    def _page(self, request: Request, template: str, **context: Any) -> Response:
        session, new = self._session(request)
        token = hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()
        response = self.templates.TemplateResponse(request, template, {"token": token, **context})
        if new:
            response.set_cookie(COOKIE, session, httponly=True, samesite="strict")
        return response

    def row(self, entry: dict[str, Any]) -> dict[str, Any]:
        status = status_of(entry)
        meta = entry["meta"]
        return {
            "id": entry["id"],
            "name": meta.get("display_name") or meta.get("name") or entry["folder"],
            "folder": entry["folder"],
            "sweep": entry.get("sweep"),  # the sweep folder holding a trial (relative to the browsed folder)
            "kind": entry["kind"],
            "status": status,
            "start": meta.get("start"),
            "duration": duration_of(entry, status),
            "epoch": meta.get("epoch"),
            "commit": (meta.get("commit") or "")[:10] or None,
            "tags": meta.get("tags") or [],
            "starred": bool(meta.get("starred")),
            "removed": bool(meta.get("removed")),
            "purpose": meta.get("purpose"),
            "damaged": entry.get("damaged") or [],
            "problems": entry.get("problems") or {},  # {file: "..., line N: not a results record"}
            "config": entry["config"],
            "results": {
                k: {"last": v.get("last"), "best": v.get("best"), "mode": v.get("mode")}
                for k, v in entry["results"].items()
            },
        }

    # -- pages ----------------------------------------------------------------------------------

    def page_overview(self, request: Request) -> Response:
        return self._page(request, "overview.html", dirs=[str(d) for d in self.index.dirs])

    def page_run(self, request: Request) -> Response:
        entry = self._entry(request.path_params["rid"])
        return self._page(request, "run.html", rid=entry["id"], title=self.row(entry)["name"])

    def page_compare(self, request: Request) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        for rid in ids:
            self._entry(rid)
        return self._page(request, "compare.html", ids=",".join(ids))

    # -- API ------------------------------------------------------------------------------------

    def api_runs(self, request: Request) -> Response:
        """The overview rows: ``q`` (filter), ``search``, ``sort``, ``desc``, ``page``, ``per``, ``all``."""
        qp = request.query_params
        try:
            query = compile_query(qp.get("q", ""))
        except QueryError as exc:
            return _json({"error": str(exc)}, 400)
        search = qp.get("search", "").strip()
        show_all = qp.get("all") == "1"
        try:
            page = max(0, int(qp.get("page", "0")))
            per = min(500, max(1, int(qp.get("per", "50"))))
        except ValueError:
            return _json({"error": "page and per must be integers"}, 400)
        sort = qp.get("sort", "start")
        desc = qp.get("desc", "1") == "1"
        self._refresh()
        try:
            rows, names = self._overview(query, (qp.get("q", ""), search, show_all, sort, desc))
        except QueryError as exc:  # a bare result name logged under several tags in a run
            return _json({"error": str(exc)}, 400)
        total = len(rows)
        shown = [self.row(e) for e in rows[page * per : (page + 1) * per]]
        columns = config_columns(shown)
        return _json(
            {
                "total": total,
                "page": page,
                "per": per,
                "rows": shown,
                "config_columns": columns,
                "result_columns": [{"name": n, "mode": best_mode(n)} for n in names[:12]],
                "indexed": len(self.index),
            }
        )

    def _overview(self, query: Any, key: tuple[Any, ...]) -> tuple[list[dict[str, Any]], list[str]]:
        """(matching entries in order, result names) for one overview query."""
        version = self.index.version
        now = time.monotonic()
        if self.refresh_every > 0:
            with self._overviews_lock:
                hit = self._overviews.get(key)
                if hit is not None and hit[0] == version and now - hit[1] < self.refresh_every:
                    return hit[2]  # type: ignore[no-any-return]
        _, search, show_all, sort, desc = key
        rows = []
        for entry in self.index.entries():
            status = status_of(entry)
            meta = entry["meta"]
            if meta.get("removed") and not show_all:
                continue
            fields = fields_of(entry, status)
            if not query.matches(fields) or (search and not matches_search(fields, search)):
                continue
            rows.append(entry)
        rows.sort(key=lambda e: _sort_key(e, sort), reverse=desc)
        names = sorted({n for e in rows[:2000] for n in e["results"]})
        answer = (rows, names)
        if self.refresh_every > 0:
            with self._overviews_lock:
                self._overviews[key] = (version, now, answer)
                while len(self._overviews) > 32:
                    self._overviews.popitem(last=False)
        return answer

    def api_run(self, request: Request) -> Response:
        """One run: row, meta, config, registry, files, checkpoints, sources. A run with damaged files answers
        422 with everything that could still be read and ``damaged``: ``[{"file", "error"}]``."""
        entry = self._entry(request.path_params["rid"])
        path = Path(entry["path"])
        from trialog.api import Run

        damaged: list[dict[str, str]] = []
        main = "run.json" if entry["kind"] != "trixi" else "config/exp.json"
        run = damage_of(damaged, main, lambda: Run(path), None)
        meta = damage_of(damaged, main, lambda: run.meta, {}) if run is not None else {}
        meta.pop("packages", None)
        plain = damage_of(damaged, "config/config.json", lambda: _plain_config(run), {}) if run else {}
        files = {
            kind: damage_of(damaged, kind, lambda k=kind: _list_files(path, k), []) for kind in FILE_KINDS
        }
        checkpoints = damage_of(damaged, "checkpoint/index.json", lambda: run.checkpoints, []) if run else []
        sources = damage_of(damaged, "save/sources.zip", lambda: _sources(path), [])
        has_sources = damage_of(
            [], "save/sources.zip", lambda: run_file(path, "save", "sources.zip").is_file(), False
        )
        if entry["kind"] == "trialog":
            damage_of(
                damaged, "result/results.jsonl", lambda: run_file(path, "result", "results.jsonl"), None
            )
        other = request.query_params.get("diff")
        diff = None
        if other:
            other_entry = self._entry(other)
            oplain = damage_of([], "", lambda: _plain_config(Run(Path(other_entry["path"]))), {})
            diff = {
                "other": self.row(other_entry)["name"],
                "keys": {
                    k: [_text_value(v) for v in vals]
                    for k, vals in config_difference([plain, oplain]).items()
                },
            }
        reg = (
            damage_of([], main, lambda: registry.registry_of(meta), None)
            if entry["kind"] == "trialog"
            else None
        )
        machine = meta.get("machine")
        body = {
            "row": self.row(entry),
            "meta": meta,
            "machine": machine_line(machine) if isinstance(machine, dict) else None,
            "config": plain,
            "diff": diff,
            "registry": reg,
            "files": files,
            "checkpoints": checkpoints,
            "sources": sources,
            "sources_zip": bool(has_sources),  # sources: [] and sources_zip: an empty archive
            "others": [
                {"id": e["id"], "name": _name(e)}
                for e in itertools.islice((e for e in self.index.entries() if e["id"] != entry["id"]), 500)
            ],
            "damaged": _unique(damaged),
        }
        if damaged:
            body["error"], body["file"] = damaged[0]["error"], damaged[0]["file"]
            return _json(body, 422)
        return _json(body)

    def api_series(self, request: Request) -> Response:
        """Curves of one run, downsampled: ``points`` per line, ``lo``/``hi`` to zoom into a counter range."""
        entry = self._entry(request.path_params["rid"])
        qp = request.query_params
        try:
            points = min(downsample.MAX_POINTS, max(10, int(qp.get("points", downsample.DEFAULT_POINTS))))
            lo = float(qp["lo"]) if qp.get("lo") else None
            hi = float(qp["hi"]) if qp.get("hi") else None
        except ValueError:
            return _json({"error": "points, lo and hi must be numbers"}, 400)
        only = qp.get("name")
        try:
            return _json(_series_of(entry, points, lo, hi, only))
        except Damaged as exc:
            return _json(
                {"error": exc.error, "file": exc.file, "series": [], "status": status_of(entry)}, 422
            )

    def api_tail(self, request: Request) -> Response:
        """Records appended since byte ``offset`` of results.jsonl (only those bytes are read)."""
        entry = self._entry(request.path_params["rid"])
        try:
            offset = int(request.query_params.get("offset", "0"))
        except ValueError:
            return _json({"error": "offset must be an integer"}, 400)
        try:
            log = _results_log(entry)
            if log is None:
                return _json({"records": [], "offset": 0, "status": status_of(entry)})
            tail = _tail(log, offset)
        except Damaged as exc:
            return _json({"error": exc.error, "file": exc.file, "status": status_of(entry)}, 422)
        if tail is None:
            # The log was truncated or replaced: the client must reload the series and tail from its offset.
            return _json(
                {"error": f"{log.name} changed under byte {offset}: reload the series", "reset": True}, 409
            )
        records, new_offset = tail
        records = [
            r for r in records if isinstance(r["value"], (int, float)) and not isinstance(r["value"], bool)
        ]
        return _json(
            {
                "records": [
                    {"key": _key_label(r["name"], r["tag"]), "x": r["counter"], "y": r["value"]}
                    for r in records[-50_000:]
                ],
                "offset": new_offset,
                "status": status_of(entry),
                "epoch": entry["meta"].get("epoch"),
                "duration": duration_of(entry, status_of(entry)),
            }
        )

    def api_file(self, request: Request) -> Response:
        entry = self._entry(request.path_params["rid"])
        kind = request.path_params["kind"]
        name = request.path_params["name"]
        target = safe_file(Path(entry["path"]), kind, name)
        if kind == "save":  # the user's artifacts: downloaded, never rendered by the browser
            return FileResponse(target, media_type="application/octet-stream", filename=target.name)
        media = FILE_TYPES[target.suffix.lower()]
        if media.startswith("text/"):
            with open(target, "rb") as fh:
                data = fh.read(MAX_TEXT_BYTES)
            return PlainTextResponse(data.decode("utf-8", "replace"), media_type="text/plain")
        return FileResponse(target, media_type=media)

    async def api_registry(self, request: Request) -> Response:
        entry = self._entry(request.path_params["rid"])
        if entry["kind"] != "trialog":
            return _json({"error": "trixi runs are read-only"}, 400)
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return _json({"error": "the body must be JSON"}, 400)
        if not isinstance(body, dict) or not isinstance(body.get("action"), str):
            return _json({"error": 'the body must be an object with an "action"'}, 400)
        return await run_in_threadpool(self._change_registry, entry, body)

    def _change_registry(self, entry: dict[str, Any], body: dict[str, Any]) -> Response:
        path = Path(entry["path"])
        action = body["action"]
        try:
            if action == "note":
                result = registry.add_note(path, body.get("text", ""))
            elif action == "tag":
                add, remove = body.get("add") or [], body.get("remove") or []
                if not isinstance(add, list) or not isinstance(remove, list):
                    return _json({"error": "add and remove must be lists"}, 400)
                result = registry.update_tags(path, add, remove)
            elif action == "star":
                result = registry.set_starred(path, bool(body.get("value", True)))
            elif action == "rename":
                result = registry.rename(path, body.get("name") or None)
            elif action == "purpose":
                result = registry.set_purpose(path, body.get("purpose") or None)
            elif action == "remove":
                result = registry.set_removed(path, True)
            elif action == "restore":
                result = registry.set_removed(path, False)
            else:
                return _json({"error": f"unknown action {action!r}"}, 400)
        except TrialogError as exc:
            return _json({"error": str(exc)}, 400)
        self.index.update(entry["id"])
        return _json({"registry": result})

    def api_compare(self, request: Request) -> Response:
        """Curves of several runs per result; ``combine=KEY`` merges runs differing only in KEY into mean ± std."""
        qp = request.query_params
        ids = [i for i in qp.get("ids", "").split(",") if i][:50]
        entries = [self._entry(i) for i in ids]
        combine = qp.get("combine", "").strip()
        try:
            points = min(downsample.MAX_POINTS, max(10, int(qp.get("points", "1000"))))
        except ValueError:
            return _json({"error": "points must be an integer"}, 400)
        configs = [e["config"] for e in entries]
        diff = (
            {k: [_text_value(v) for v in vals] for k, vals in config_difference(configs).items()}
            if len(entries) > 1
            else {}
        )
        runs = [
            {"id": e["id"], "name": _name(e), "label": label}
            for e, label in zip(entries, legend_labels(entries, diff), strict=True)
        ]
        damaged: dict[str, dict[str, str]] = {}
        if not combine:
            series = {}
            for e in entries:
                try:
                    series[e["id"]] = _series_of(e, points, None, None, None)["series"]
                except Damaged as exc:
                    series[e["id"]], damaged[e["id"]] = [], {"file": exc.file, "error": exc.error}
            return _json({"runs": runs, "diff": diff, "series": series, "groups": None, "damaged": damaged})
        groups: dict[str, list[dict[str, Any]]] = {}
        for e in entries:
            key = combine.removeprefix("config.")
            rest = {k: v for k, v in e["config"].items() if k != key}
            label = ", ".join(f"{k}={rest[k]}" for k in sorted(rest) if k in diff) or "all runs"
            groups.setdefault(label, []).append(e)
        combined = {label: _combine(members, points) for label, members in groups.items()}
        return _json(
            {
                "runs": runs,
                "diff": diff,
                "groups": {label: [m["id"] for m in members] for label, members in groups.items()},
                "combined": combined,
                "combine": combine,
            }
        )


def _name(entry: dict[str, Any]) -> str:
    meta = entry["meta"]
    return str(meta.get("display_name") or meta.get("name") or entry["folder"])


def _own_names() -> set[str]:
    import socket

    names = {"127.0.0.1", "localhost", "[::1]", socket.gethostname(), socket.getfqdn()}
    try:
        names |= set(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    return {n.lower() for n in names if n}


def _text_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if type(value).__name__ == "object":
        return "(absent)"
    return json.dumps(_clean(value), default=str)


def _label_value(value: Any) -> str:
    value = _text_value(value)
    return value if isinstance(value, str) else json.dumps(value)


def _sort_key(entry: dict[str, Any], key: str) -> tuple[int, Any]:
    meta = entry["meta"]
    if key in SORTABLE:
        if key == "status":
            value: Any = status_of(entry)
        elif key == "duration":
            value = duration_of(entry, status_of(entry))
        elif key == "name":
            value = (meta.get("display_name") or meta.get("name") or entry["folder"]).lower()
        else:
            value = meta.get(key)
    elif key.startswith("config."):
        value = entry["config"].get(key[7:])
    elif key.startswith("result."):
        stats = entry["results"].get(key[7:]) or {}
        value = stats.get("best")
    else:
        value = None
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (int, float)):
        return (2, value)
    return (1, str(value))


def config_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The overview's config columns for the rows shown: every key whose value differs between them (no cap).

    Keys whose values differ among the runs that have them come first (``lr``, ``hidden``, ``model.depth``
    of a sweep), then keys that only some of the runs have (another experiment's keys); a key that repeats a
    fixed column (``name``) is left out where it equals that column in every row.
    """
    if len(rows) < 2:
        return []
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r["config"]))
    varying, partial = [], []
    for key in keys:
        if key in FIXED_COLUMNS and all(r["config"].get(key, r[key]) == r[key] for r in rows):
            continue
        present = [r["config"][key] for r in rows if key in r["config"]]
        distinct = {json.dumps(v, sort_keys=True, default=str) for v in present}
        if len(distinct) > 1:
            varying.append(key)
        elif len(present) < len(rows):
            partial.append(key)
    return varying + partial


def legend_labels(entries: list[dict[str, Any]], diff: dict[str, list[Any]]) -> list[str]:
    """Labels that tell compared runs apart: the name, then the differing config keys where names repeat,
    then the folder where even those are equal."""
    names = [_name(e) for e in entries]
    labels = []
    for i, name in enumerate(names):
        if names.count(name) == 1:
            labels.append(name)
            continue
        twins = [j for j, n in enumerate(names) if n == name]
        keys = [k for k, vals in diff.items() if len({json.dumps(vals[j], default=str) for j in twins}) > 1]
        labels.append(
            f"{name} " + " ".join(f"{k}={_label_value(diff[k][i])}" for k in keys[:4]) if keys else name
        )
    repeated = {label for label in labels if labels.count(label) > 1}
    return [
        f"{label} ({e['folder']})" if label in repeated else label
        for e, label in zip(entries, labels, strict=True)
    ]


def _key_label(name: str, tag: str | None) -> str:
    return series_key(name, tag)  # the key of the series in every summary: tag/name


_COLUMNS: collections.OrderedDict[str, tuple[tuple[int, int], Any]] = collections.OrderedDict()
_COLUMNS_LOCK = threading.Lock()


def _columns(log: Path) -> Any:
    """read_columns, remembered for the last few logs while their size and mtime stay (zooming rereads nothing)."""
    st = log.stat()
    sig = (st.st_size, st.st_mtime_ns)
    key = str(log)
    with _COLUMNS_LOCK:
        hit = _COLUMNS.get(key)
        if hit is not None and hit[0] == sig:
            _COLUMNS.move_to_end(key)
            return hit[1]
    cols = read_columns(log)
    with _COLUMNS_LOCK:
        _COLUMNS[key] = (sig, cols)
        while len(_COLUMNS) > 4:
            _COLUMNS.popitem(last=False)
    return cols


class Damaged(Exception):
    """A file of a run that cannot be read (corrupt, or linked out of the run folder): answered as a 422
    ``{"error", "file"}`` naming it (relative to the run folder)."""

    def __init__(self, file: str, error: str) -> None:
        super().__init__(error)
        self.file, self.error = file, error


_LOG = "result/results.jsonl"
#: A tail further behind than this many bytes is answered from the columns (sidecar), not by parsing JSON.
_TAIL_PARSE_BYTES = 1 << 20


def _results_log(entry: dict[str, Any]) -> Path | None:
    """The trialog run's results log (None: it has none), read only inside its run folder."""
    if entry["kind"] != "trialog":
        return None
    try:
        log = run_file(entry["path"], "result", "results.jsonl")
    except TrialogError as exc:
        raise Damaged(_LOG, str(exc)) from None
    return log if log.is_file() else None


def _log_columns(log: Path) -> Any:
    try:
        return _columns(log)
    except (TrialogError, OSError, ValueError) as exc:
        raise Damaged(_LOG, str(exc)) from None


def _tail(log: Path, offset: int) -> tuple[list[dict[str, Any]], int] | None:
    """The records after byte ``offset`` and the next offset; None when ``offset`` is no longer the end of a
    record of this log (truncated or replaced: the client resets). Reads only the appended bytes; a client
    far behind (``offset=0``) is answered from the columns the series endpoint keeps."""
    try:
        with open(log, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if offset < 0 or offset > size:
                return None
            if offset and os.pread(fh.fileno(), 1, offset - 1) != b"\n":
                return None
    except OSError as exc:
        raise Damaged(_LOG, str(exc)) from None
    if offset == 0 or size - offset > _TAIL_PARSE_BYTES:
        return _tail_from_columns(log, offset)
    try:
        return read_appended(log, offset)
    except TrialogError as exc:
        raise Damaged(_LOG, str(exc)) from None


def _tail_from_columns(log: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    parts = []
    new_offset = offset
    for (name, tag), cols in _log_columns(log).items():
        ends = cols["end"]
        if ends.size:
            new_offset = max(new_offset, int(ends[-1]))
        values = cols["value"]
        if values.dtype.kind not in "iuf" or values.ndim != 1:
            continue
        keep = np.flatnonzero(ends > offset)[-50_000:]
        if keep.size:
            parts.append((name, tag, ends[keep], cols["counter"][keep], values[keep]))
    records: list[tuple[int, dict[str, Any]]] = []
    for name, tag, ends, counters, values in parts:
        for end, counter, value in zip(ends.tolist(), counters.tolist(), values.tolist(), strict=True):
            x = None if isinstance(counter, float) and counter != counter else counter
            records.append((end, {"name": name, "tag": tag, "value": value, "counter": x}))
    records.sort(key=lambda r: r[0])
    return [r for _, r in records[-50_000:]], new_offset


def _plain_config(run: Any) -> dict[str, Any]:
    config = run.config
    return config.to_plain() if hasattr(config, "to_plain") else dict(config)  # type: ignore[no-any-return]


def _unique(damaged: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for d in damaged:
        seen.setdefault((d["file"], d["error"]), d)
    return list(seen.values())


def _series_of(
    entry: dict[str, Any], points: int, lo: float | None, hi: float | None, only: str | None
) -> dict[str, Any]:
    path = Path(entry["path"])
    series: list[dict[str, Any] | None] = []
    offset = 0
    log = _results_log(entry)
    if log is not None:
        columns = _log_columns(log)
        for (name, tag), cols in columns.items():
            if cols["end"].size:
                offset = max(offset, int(cols["end"][-1]))
            series.append(_line(name, tag, cols, points, lo, hi, only))
    elif entry["kind"] == "trixi":
        from trialog.api import Run

        try:
            results = Run(path).results
        except (TrialogError, OSError, ValueError) as exc:
            raise Damaged("result/results-log.json", str(exc)) from None
        for name, cols in results.items():
            tags = cols["tag"]
            for tag in dict.fromkeys(tags):
                mask = np.array([t == tag for t in tags])
                sub = {k: cols[k][mask] for k in ("value", "counter", "epoch", "time")}
                series.append(_line(name, tag, sub, points, lo, hi, only))
    lines = [s for s in series if s is not None]
    lines.sort(key=lambda s: (s["tag"] or "", s["name"]))
    return {"series": lines, "offset": offset, "status": status_of(entry)}


def _line(
    name: str,
    tag: str | None,
    cols: dict[str, Any],
    points: int,
    lo: float | None,
    hi: float | None,
    only: str | None,
) -> dict[str, Any] | None:
    key = _key_label(name, tag)
    values = cols["value"]
    if values.dtype.kind not in "iuf" or values.ndim != 1 or (only and only != key):
        return None
    x = downsample.x_axis(cols)
    y = values.astype(np.float64)
    if lo is not None or hi is not None:
        if x.size > 1 and np.all(np.diff(x) >= 0):
            window = downsample.window(x, lo, hi)
            x, y = x[window], y[window]
    total = int(values.size)
    x, y = downsample.minmax(x, y, points)
    return {
        "key": key,
        "name": name,
        "tag": tag,
        "total": total,
        "x": downsample.json_floats(x),
        "y": downsample.json_floats(y),
    }


def _combine(members: list[dict[str, Any]], points: int) -> dict[str, Any]:
    """Per curve key: the mean and std over the member runs on a common x grid (their shared x range)."""
    per_key: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for e in members:
        try:
            log = _results_log(e)
            columns = _log_columns(log) if log is not None else {}
        except Damaged:
            continue  # the compare answer names it
        for (name, tag), cols in columns.items():
            if cols["value"].dtype.kind in "iuf" and cols["value"].ndim == 1 and cols["value"].size:
                per_key.setdefault(_key_label(name, tag), []).append(
                    (downsample.x_axis(cols), cols["value"].astype(np.float64))
                )
    out: dict[str, Any] = {}
    for key, lines in sorted(per_key.items()):
        lo = max(float(x[0]) for x, _ in lines)
        hi = min(float(x[-1]) for x, _ in lines)
        if hi < lo:
            continue
        n = min(points, max(len(x) for x, _ in lines))
        grid = np.linspace(lo, hi, n) if hi > lo else np.array([lo])
        stack = np.vstack([np.interp(grid, x, y) for x, y in lines])
        out[key] = {
            "x": downsample.json_floats(grid),
            "mean": downsample.json_floats(stack.mean(axis=0)),
            "std": downsample.json_floats(stack.std(axis=0)),
            "n": len(lines),
        }
    return out


def safe_file(run: Path, kind: str, name: str) -> Path:
    """The file ``name`` inside ``run/kind`` (img, plot, log, save), or a 404/403: no traversal, no symlink out
    (``run_file``: no link on the way leaves the run folder), known types only (any type under ``save/``,
    which is only ever downloaded)."""
    if kind not in FILE_KINDS:
        raise HTTPException(404, "no such file")
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or len(name) > 512:
        raise HTTPException(404, "no such file")
    base = (run / kind).resolve()
    root = run.resolve()
    try:
        run_file(run, kind, *name.split("/"))
        target = (base / name).resolve(strict=True)
    except TrialogError:
        raise HTTPException(403, "outside the run folder") from None
    except (OSError, RuntimeError):
        raise HTTPException(404, "no such file") from None
    if not target.is_relative_to(base) or not target.is_relative_to(root):
        raise HTTPException(403, "outside the run folder")
    if not target.is_file() or (kind != "save" and target.suffix.lower() not in FILE_TYPES):
        raise HTTPException(403, "not a file type the browser shows")
    return target


def _list_files(run: Path, kind: str, limit: int = 500) -> list[dict[str, Any]]:
    base = run_file(run, kind)  # a kind folder linked out of the run is damage, not a listing
    if not base.is_dir():
        return []
    out: list[dict[str, Any]] = []
    root = base.resolve()
    for path in sorted(base.rglob("*")):
        if len(out) >= limit:
            break
        whole = kind in LISTED_WHOLE
        if whole and any(part.startswith(".") for part in path.relative_to(base).parts):
            continue  # trialog's own bookkeeping (log/.trialog-checkpoints.json), not the user's
        if not whole and not FILE_TYPES.get(path.suffix.lower(), "").startswith("image/"):
            continue
        try:
            real = path.resolve(strict=True)
        except OSError:
            continue
        if not real.is_relative_to(root) or not real.is_file():
            continue  # a symlink pointing out of the run is not listed (and not served)
        item = {"name": path.relative_to(base).as_posix(), "size": real.stat().st_size}
        if whole:  # shown as text (log/) where its type is a text type; save/ is downloaded
            item["text"] = FILE_TYPES.get(path.suffix.lower(), "").startswith("text/")
        out.append(item)
    return out


def _sources(run: Path) -> list[dict[str, Any]]:
    archive = run_file(run, "save", "sources.zip")
    if not archive.is_file():
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zf:
            return [{"name": i.filename, "size": i.file_size} for i in zf.infolist()[:2000]]
    except zipfile.BadZipFile as exc:
        raise TrialogError(f"{archive} is not a readable zip file ({exc})") from None


def create_app(dirs: Sequence[str | Path], host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> Browser:
    """A :class:`Browser` for ``dirs``; serve ``browser.app`` with uvicorn (see :mod:`trialog_browser.serve`)."""
    return Browser(dirs, host, port, **kwargs)
