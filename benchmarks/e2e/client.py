"""A small keep-alive HTTP client for the loopback server, with session or Basic auth."""

from __future__ import annotations

import base64
import http.client
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from e2e.config import API


class Client:
    """A keep-alive HTTP/1.1 client for the loopback server (one per thread).

    ``auth`` holds the authentication headers: a bearer token (a stateless JWT, what a front end
    embedding analytics sends; see :func:`token_login`), a session cookie with its CSRF token
    (what a browser on the site sends; see :func:`session_login`) or HTTP Basic.
    """

    def __init__(self, port: int, auth: dict[str, str]) -> None:
        self.port = port
        self.auth = auth
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        #: ``X-Request-ID`` sent with the next requests (None: the server makes one up); the
        #: benchmark tags requests with it to find them in gunicorn's access log.
        self.request_id: str | None = None
        #: ``app;dur`` of the last response's ``Server-Timing`` in ms (None when absent).
        self.last_app_ms: float | None = None

    def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {**self.auth, "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if self.request_id is not None:
            headers["X-Request-ID"] = self.request_id
        for attempt in range(2):  # one retry when the server closed an idle connection
            try:
                self.conn.request(method, API + path, body=payload, headers=headers)
                response = self.conn.getresponse()
                self.last_app_ms = app_ms(response.getheader("Server-Timing"))
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: object = None) -> Any:
        status, data = self.request(method, path, body)
        if status != 200:
            raise RuntimeError(f"{method} {path} answered HTTP {status}: {data[:200]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


def app_ms(server_timing: str | None) -> float | None:
    """The ``app;dur=<ms>`` metric of a ``Server-Timing`` header (RequestIdMiddleware's)."""
    for metric in (server_timing or "").split(","):
        name, _, params = metric.strip().partition(";")
        if name == "app":
            for param in params.split(";"):
                key, _, value = param.strip().partition("=")
                if key == "dur":
                    try:
                        return float(value)
                    except ValueError:
                        return None
    return None


BASIC_AUTH = {"Authorization": "Basic " + base64.b64encode(b"demo:demo").decode()}


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def token_login(port: int) -> dict[str, str]:
    """Obtain an access token for ``demo`` from the example's ``api/token/`` (djangorestframework-
    simplejwt); return the ``Authorization: Bearer`` header.

    The example project authenticates such tokens with ``JWTStatelessUserAuthentication``: the
    signature and expiry are checked in memory and no session or user row is read.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/token/",
            body=json.dumps({"username": "demo", "password": "demo"}),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"token login failed (HTTP {response.status}): {data[:200]!r}")
    return {"Authorization": f"Bearer {json.loads(data)['access']}"}


def session_login(port: int) -> dict[str, str]:
    """Log ``demo`` in through DRF's login view; return the session + CSRF headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/api-auth/login/")
        response = conn.getresponse()
        page = response.read().decode()
        cookies = _cookies(response)
        marker = 'name="csrfmiddlewaretoken" value="'
        token = page[page.index(marker) + len(marker) :].split('"', 1)[0]
        form = urlencode({"username": "demo", "password": "demo", "csrfmiddlewaretoken": token})
        conn.request(
            "POST",
            "/api-auth/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        response = conn.getresponse()
        response.read()
        cookies.update(_cookies(response))
    finally:
        conn.close()
    if "sessionid" not in cookies:
        raise RuntimeError(f"session login failed (HTTP {response.status})")
    return {
        "Cookie": f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
        "X-CSRFToken": cookies["csrftoken"],
    }
