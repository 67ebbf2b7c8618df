import json
import urllib.error
import urllib.request

import pytest

from trialog.testing import LoopbackAPI, json_reply


class Echo(LoopbackAPI):
    def __init__(self, delay=0.0):
        super().__init__(delay)
        self.seen = []

    def respond(self, path, headers, body):
        with self._cond:
            self.seen.append((path, body))
        if path == "/missing":
            return json_reply(404, {"ok": False})
        return json_reply(200, {"path": path, "length": len(body)}, {"X-Echo": "1"})


def test_answers_requests_and_records_them():
    with Echo() as api:
        url = f"http://127.0.0.1:{api.port}"
        with urllib.request.urlopen(urllib.request.Request(url + "/a", data=b"xyz"), timeout=5) as reply:
            assert json.load(reply) == {"path": "/a", "length": 3} and reply.headers["X-Echo"] == "1"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + "/missing", timeout=5)
        assert err.value.code == 404
        assert api.wait_for(lambda a: a.requests == 2)
        assert api.seen == [("/a", b"xyz"), ("/missing", b"")]


def test_a_slow_fake_times_clients_out_and_stops_promptly():
    api = Echo(delay=30).start()
    with pytest.raises(OSError):  # socket timeout (a TimeoutError or URLError)
        urllib.request.urlopen(f"http://127.0.0.1:{api.port}/slow", timeout=0.2)
    api.stop()  # releases the handler still waiting out its delay
    assert not api.wait_for(lambda a: a.requests > 1, timeout=0.1)


def test_trialog_warnings_collects_only_ours_repeats_included():
    import warnings

    from trialog.errors import TrialogWarning
    from trialog.testing import trialog_warnings

    with trialog_warnings() as warned:
        for _ in range(2):
            warnings.warn("logger 'x' failed", TrialogWarning, stacklevel=1)
        warnings.warn("unrelated", DeprecationWarning, stacklevel=1)
        assert warned == []  # filled when the block ends
    assert warned == ["logger 'x' failed", "logger 'x' failed"]


def test_a_closed_gate_holds_requests_until_the_test_opens_it():
    import threading

    with Echo() as api:
        api.gate = threading.Event()
        answers = []
        client = threading.Thread(
            target=lambda: answers.append(
                urllib.request.urlopen(f"http://127.0.0.1:{api.port}/g", timeout=600).status
            )
        )
        try:
            client.start()
            assert api.wait_for(lambda a: a.held == 1)
            assert api.seen == [] and answers == []  # held: not answered yet
        finally:
            api.gate.set()
        client.join(600)
        assert answers == [200] and api.seen == [("/g", b"")]
