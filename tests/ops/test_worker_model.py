"""The worker model docs/deployment.md recommends serves the app over keep-alive connections.

The command is read from the docs (the ``gunicorn ... --worker-class gthread`` line of *Worker
model*), so the docs and this test cannot drift apart. Two requests go over one HTTP/1.1
connection: with gunicorn's ``sync`` workers the server closes it after the first answer.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
DOCS = ROOT / "docs" / "deployment.md"


def recommended_command() -> list[str]:
    """The gunicorn command of docs/deployment.md's *Worker model* section."""
    text = DOCS.read_text()
    section = text[text.index("## Worker model") :]
    found = re.search(r"^gunicorn .*--worker-class gthread.*$", section, re.M)
    assert found is not None, "docs/deployment.md lost its recommended gunicorn command"
    return shlex.split(found.group(0))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_docs_recommend_threads_and_keep_alive() -> None:
    command = recommended_command()
    assert command[command.index("--worker-class") + 1] == "gthread"
    assert int(command[command.index("--threads") + 1]) >= 2
    assert int(command[command.index("--keep-alive") + 1]) >= 2


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed")
def test_the_recommended_server_keeps_the_connection_for_the_next_request(
    tmp_path: Path,
) -> None:
    command = recommended_command()
    command[0] = str(GUNICORN)
    command[command.index("example_project.wsgi")] = "example_project.wsgi:application"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603
            [*command, "--bind", f"127.0.0.1:{port}"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/api/analytics/health/live")
            first = conn.getresponse()
            assert first.status == 200
            first.read()
            assert (first.getheader("Connection") or "").lower() != "close"
            sock = conn.sock
            assert sock is not None
            conn.request("POST", "/api/analytics/query/validate", body=b"{}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
            second = conn.getresponse()
            second.read()
            assert second.status in (401, 403)  # the API answered, permissions in force
            assert conn.sock is sock  # the same TCP connection: kept alive
        finally:
            conn.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
