"""The servers docs/deployment.md recommends serve the app over keep-alive connections.

The commands are read from the docs (the ``granian --interface wsgi ...`` and ``gunicorn ...
--worker-class gthread`` lines of *Worker model*), so the docs and this test cannot drift apart.
Two requests go over one HTTP/1.1 connection: with gunicorn's ``sync`` workers the server closes
it after the first answer.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "deployment.md"
#: Each server's line in the docs' *Worker model* section.
LINES = {
    "granian": r"^granian --interface wsgi .*$",
    "gunicorn": r"^gunicorn .*--worker-class gthread.*$",
}


def recommended_command(server: str = "gunicorn") -> list[str]:
    """The ``server`` command of docs/deployment.md's *Worker model* section."""
    text = DOCS.read_text()
    section = text[text.index("## Worker model") :]
    found = re.search(LINES[server], section, re.M)
    assert found is not None, f"docs/deployment.md lost its recommended {server} command"
    return shlex.split(found.group(0))


def test_the_docs_recommend_one_thread_per_granian_worker_and_the_hot_path() -> None:
    command = recommended_command("granian")
    assert command[-1] == "example_project.wsgi:application"
    assert int(command[command.index("--blocking-threads") + 1]) == 1
    # granian's --backpressure counts connections for their whole life: never below the clients.
    assert "--backpressure" not in command
    assert "HotPath(get_wsgi_application())" in DOCS.read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_docs_recommend_threads_and_keep_alive() -> None:
    command = recommended_command()
    assert command[command.index("--worker-class") + 1] == "gthread"
    assert int(command[command.index("--threads") + 1]) >= 2
    assert int(command[command.index("--keep-alive") + 1]) >= 2


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_the_recommended_server_keeps_the_connection_for_the_next_request(
    tmp_path: Path, server: str
) -> None:
    command = recommended_command(server)
    command[0] = str(Path(sys.executable).with_name(server))
    port = _free_port()
    if server == "gunicorn":
        command[command.index("example_project.wsgi")] = "example_project.wsgi:application"
        command += ["--bind", f"127.0.0.1:{port}"]
    else:
        command += ["--host", "127.0.0.1", "--port", str(port)]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    log_path = tmp_path / f"{server}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers are stopped with it
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, f"{server} did not start"
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
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and every worker it forked (a worker left behind keeps its port)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever outlived its parent
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
