"""A quiet Visdom client: request timeouts, exceptions instead of printed tracebacks, no websocket."""

from __future__ import annotations

import requests
from visdom import Visdom

from trialog.errors import LoggerConfigError


class Client(Visdom):
    """``visdom.Visdom`` that raises ``ConnectionError`` on network failures and never blocks forever.

    The stock client prints a traceback per failed call, logs on every new session, starts a websocket
    thread that retries noisily while the server is down, and posts without a timeout (a hung server
    would hang the sender). Nothing is sent from the constructor: :meth:`connect` does that.
    """

    def __init__(
        self,
        server: str,
        port: int,
        env: str,
        username: str | None,
        password: str | None,
        timeout: float,
    ):
        super().__init__(
            server=server,
            port=port,
            env=env,
            send=False,  # stops the constructor from posting and from logging about the missing socket
            raise_exceptions=True,
            use_incoming_socket=False,
            username=username,
            password=password,
        )
        self.send = True
        self.timeout = timeout
        self._session = requests.Session()

    @property
    def url(self) -> str:
        return f"{self.server}:{self.port}{self.base_url}"

    def connect(self) -> None:
        """Log in (when a user name is set) and create the environment; ``ConnectionError`` if unreachable."""
        if self.username:
            try:
                response = self._session.post(
                    self.url,
                    json={"username": self.username, "password": self.password},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                raise ConnectionError(f"cannot reach the Visdom server at {self.url}: {exc}") from exc
            if response.status_code != requests.codes.ok:
                raise LoggerConfigError(
                    f"visdom logger: the server at {self.url} refused user {self.username!r} "
                    f"(HTTP {response.status_code}); check 'username' and 'password'"
                )
        self._send({"eid": self.env}, endpoint="env/" + self.env)

    def _handle_post(self, url: str, data: str | None = None) -> str:
        response = self._session.post(url, data=data or {}, timeout=self.timeout)
        if response.status_code >= 400:
            raise RuntimeError(
                f"the Visdom server answered HTTP {response.status_code} to {url}: {response.text[:200]}"
            )
        return response.text

    def window_exists(self, win: str, env: str | None = None) -> bool:
        """Whether ``win`` exists; ``ConnectionError`` (not a printed message) when the server is away."""
        return self._win_exists_wrap(win, env) == "true"
