"""Every way trixi's browser could be abused, tried against a served browser: each refused, nothing read or changed."""

from __future__ import annotations

import json
import os
import socket

import pytest
from trialog_browser.index import run_id


def _token(client, rid):
    page = client.get(f"/run/{rid}")
    return page.text.split('name="trialog-token" content="')[1].split('"')[0]


def _raw(server, data: bytes) -> bytes:
    """Send bytes as they are (no client library normalising paths) and return the whole answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)  # no half-close: the server would take it for a client that left
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer else 0


def _get(server, path: str, host: str | None = None) -> bytes:
    host = f"127.0.0.1:{server.port}" if host is None else host
    return _raw(server, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())


@pytest.fixture
def secret_outside(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    return secret


@pytest.mark.parametrize(
    "path",
    [
        "/api/run/{rid}/file/log/../../../secret.txt",
        "/api/run/{rid}/file/log/..%2f..%2f..%2fsecret.txt",
        "/api/run/{rid}/file/log/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
        "/api/run/{rid}/file/log/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/api/run/{rid}/file/log/{abs}",
        "/api/run/{rid}/file/log//{abs}",
        "/api/run/{rid}/file/log/%2F{abs_enc}",
        "/api/run/{rid}/file/log/..%5c..%5c..%5csecret.txt",
        "/api/run/{rid}/file/log/link.log",
        "/api/run/{rid}/file/log/inside.log%00.png",
        "/api/run/{rid}/file/save/sources.zip",
        "/api/run/{rid}/file/config/config.json",
        "/api/run/{rid}/file/../run.json",
        "/api/run/../../etc/file/log/x.log",
        "/api/run/%2e%2e/file/log/x.log",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
    ],
)
def test_path_traversal_is_refused(served, secret_outside, path):
    server, _, made = served
    run = made["a"]
    (run / "log" / "inside.log").write_text("fine")
    os.symlink(secret_outside, run / "log" / "link.log")  # a symlink pointing out of the run
    target = path.format(
        rid=run_id(run),
        abs=str(secret_outside).lstrip("/"),
        abs_enc=str(secret_outside).lstrip("/").replace("/", "%2F"),
    )
    answer = _get(server, target)
    assert _status(answer) in (400, 403, 404), answer[:200]
    assert b"TOP SECRET" not in answer and b"from __future__" not in answer and b'"lr"' not in answer


def test_symlinked_image_out_of_the_run_is_neither_listed_nor_served(served, secret_outside, tmp_path):
    _, client, made = served
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\nSECRET")
    os.symlink(outside, made["a"] / "img" / "leak.png")
    (made["a"] / "img" / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\nfine")
    (made["a"] / "img" / "page.html").write_text("<script>alert(1)</script>")
    rid = run_id(made["a"])
    assert [f["name"] for f in client.get(f"/api/run/{rid}").json()["files"]["img"]] == ["ok.png"]
    assert client.get(f"/api/run/{rid}/file/img/ok.png").content.endswith(b"fine")
    assert client.get(f"/api/run/{rid}/file/img/leak.png").status_code == 403
    assert client.get(f"/api/run/{rid}/file/img/page.html").status_code == 403


def test_runs_are_addressed_by_id_only(served):
    _, client, made = served
    for bad in [str(made["a"]), made["a"].name, "0" * 12, "ZZZZZZZZZZZZ", "../" + made["a"].name]:
        assert client.get(f"/api/run/{bad}").status_code == 404


@pytest.mark.parametrize(
    "host",
    ["evil.example:80", "evil.example", "127.0.0.1", "127.0.0.1:1", "127.0.0.1.evil.example:{port}", ""],
)
def test_foreign_host_is_refused(served, host):
    server, _, _ = served
    answer = _get(server, "/api/runs", host=host.format(port=server.port))
    assert _status(answer) in (400, 421) and b'"rows"' not in answer


def test_mutations_need_post_token_and_origin(served):
    server, client, made = served
    rid = run_id(made["a"])
    before = (made["a"] / "run.json").read_bytes()
    origin = server.url.rstrip("/")
    token = _token(client, rid)
    url = f"/api/run/{rid}/registry"
    body = {"action": "note", "text": "x"}
    # GET / HEAD / other methods never change anything
    assert client.get(url, params=body).status_code == 405
    assert (
        client.request(
            "PUT", url, json=body, headers={"Origin": origin, "X-Trialog-Token": token}
        ).status_code
        == 405
    )
    assert client.request("DELETE", url).status_code == 405
    # POST without token, with a wrong token, or from another origin
    assert client.post(url, json=body, headers={"Origin": origin}).status_code == 403
    assert (
        client.post(url, json=body, headers={"Origin": origin, "X-Trialog-Token": "0" * 64}).status_code
        == 403
    )
    assert (
        client.post(
            url, json=body, headers={"Origin": "http://evil.example", "X-Trialog-Token": token}
        ).status_code
        == 403
    )
    assert client.post(url, json=body, headers={"X-Trialog-Token": token}).status_code == 403  # no Origin
    assert (
        client.post(url, json=body, headers={"Origin": "null", "X-Trialog-Token": token}).status_code == 403
    )
    # a token is bound to its session cookie: another client with the same token is refused
    import httpx

    with httpx.Client(base_url=origin) as other:
        assert (
            other.post(url, json=body, headers={"Origin": origin, "X-Trialog-Token": token}).status_code
            == 403
        )
    assert (made["a"] / "run.json").read_bytes() == before
    ok = client.post(url, json=body, headers={"Origin": origin, "X-Trialog-Token": token})
    assert ok.status_code == 200


def test_huge_and_malformed_requests(served):
    server, client, made = served
    rid = run_id(made["a"])
    before = (made["a"] / "run.json").read_bytes()
    origin = server.url.rstrip("/")
    token = _token(client, rid)
    headers = {"Origin": origin, "X-Trialog-Token": token}
    url = f"/api/run/{rid}/registry"
    huge = client.post(url, content=b'{"action": "note", "text": "' + b"x" * 200_000 + b'"}', headers=headers)
    assert huge.status_code == 413
    assert client.post(url, content=b"{not json", headers=headers).status_code == 400
    assert client.post(url, content=b"[1, 2]", headers=headers).status_code == 400
    assert client.post(url, json={"action": "explode"}, headers=headers).status_code == 400
    assert client.post(url, json={"action": "note", "text": 5}, headers=headers).status_code == 400
    assert client.post(url, json={"action": "tag", "add": "notalist"}, headers=headers).status_code == 400
    assert client.get("/api/runs", params={"q": "x" * 5000}).status_code == 414
    assert client.get("/api/runs", params={"page": "abc"}).status_code == 400
    assert client.get(f"/api/run/{rid}/series", params={"points": "1e999x"}).status_code == 400
    # a lying Content-Length and a flood of headers over a raw socket
    lie = (
        f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nOrigin: {origin}\r\n"
        f"Content-Length: 10000000\r\nConnection: close\r\n\r\n{{}}"
    ).encode()
    assert _status(_raw(server, lie)) in (403, 413)
    flood = (
        f"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode()
        + b"X-A: "
        + b"a" * 100_000
        + b"\r\n\r\n"
    )
    assert _status(_raw(server, flood)) in (0, 400, 413, 431)
    assert _status(_raw(server, b"\x00\x01garbage\r\n\r\n")) in (0, 400)
    assert (made["a"] / "run.json").read_bytes() == before
    assert client.get("/api/runs").status_code == 200  # still serving


def test_text_is_escaped_everywhere(served):
    server, client, made = served
    rid = run_id(made["a"])
    token = _token(client, rid)
    headers = {"Origin": server.url.rstrip("/"), "X-Trialog-Token": token}
    evil = "<img src=x onerror=alert(1)>"
    assert (
        client.post(
            f"/api/run/{rid}/registry", json={"action": "rename", "name": evil}, headers=headers
        ).status_code
        == 200
    )
    page = client.get(f"/run/{rid}").text
    assert evil not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # JSON carries the text as data; the page sets it with textContent (checked in the browser tests)
    assert json.loads(client.get(f"/api/run/{rid}").text)["registry"]["display_name"] == evil


def test_cli_warns_when_not_on_loopback(runs, capsys, monkeypatch, tmp_path):
    from trialog_browser import cli

    base, _ = runs
    served_on = {}

    class Fake:
        def __init__(self, dirs, host, port, cache_dir):
            served_on["host"] = host
            self.url = f"http://{host}:1/"
            self.browser = type("B", (), {"index": []})()

        def run(self):
            served_on["ran"] = True

    monkeypatch.setattr("trialog_browser.serve.BrowserServer", Fake)
    import argparse

    args = argparse.Namespace(dirs=[str(base)], host="0.0.0.0", port=0, no_open=True, cache_dir=tmp_path)
    assert cli.browse_command(args) == 0
    assert "warning" in capsys.readouterr().err and served_on == {"host": "0.0.0.0", "ran": True}
    args.host = "127.0.0.1"
    cli.browse_command(args)
    assert "warning" not in capsys.readouterr().err


def test_a_wildcard_bind_answers_to_this_machines_names_only(runs, tmp_path):
    import socket as _socket

    from trialog_browser.app import Browser

    base, _ = runs
    browser = Browser([base], host="0.0.0.0", port=8123, cache_dir=tmp_path / "c")
    assert f"{_socket.gethostname().lower()}:8123" in browser.hosts and "127.0.0.1:8123" in browser.hosts
    assert not any(h.startswith("evil") or h.startswith("0.0.0.0") for h in browser.hosts)
