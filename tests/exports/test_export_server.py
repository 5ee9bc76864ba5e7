"""Exports through a real HTTP server (gunicorn, gthread) on PostgreSQL.

- a statement that fails after some rows (a division by zero reached late) aborts the download:
  the client gets a 200, some bytes, then an incomplete chunked body, never a clean short file;
- a client that disconnects mid-download leaves no statement running and no transaction open:
  ``pg_stat_activity`` shows the worker's connection idle or gone within seconds (COPY and
  named-cursor paths).

The server runs the test settings on the test database (committed data: transactional tests).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from tests.support.glue import admin_connection

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
APP_NAME = "prismiq-export-server-test"
API = "/api/analytics/"

SETTINGS = """
from tests.settings import *  # noqa: F403

DATABASES["default"]["NAME"] = {name!r}  # noqa: F405
DATABASES["default"].setdefault("OPTIONS", {{}})["application_name"] = {app!r}  # noqa: F405
PRISMIQ = {{
    "EXPOSED_TABLES": ["export_boom", "export_big", "export_spans"],
    "RATE_LIMIT": None,
    "EXPORT_RATE_LIMIT": None,
    "RESULT_CACHE_TTL": 0,
    "SCHEMA_CACHE_TTL": 0,
}}
"""

VIEWS = {
    # row 150,000 divides by zero: tens of chunks are sent before it
    "export_boom": "SELECT n, 100 / (150000 - n) AS q FROM generate_series(1, 300000) AS n",
    "export_big": "SELECT n, repeat('x', 60) AS pad FROM generate_series(1, 5000000) AS n",
    # an interval: not spelled by COPY, so the named-cursor path
    "export_spans": (
        "SELECT n, make_interval(secs => n) AS span FROM generate_series(1, 5000000) AS n"
    ),
}

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with connection.cursor() as cursor:
        for name, select in VIEWS.items():
            cursor.execute(f"CREATE OR REPLACE VIEW {name} AS {select}")
    User.objects.create_user("exporter", password="export-pw")
    (tmp_path / "export_server_settings.py").write_text(
        SETTINGS.format(name=connection.settings_dict["NAME"], app=APP_NAME)
    )
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "export_server_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [
            str(GUNICORN),
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "example_project.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    auth = {"Authorization": "Basic " + base64.b64encode(b"exporter:export-pw").decode()}
    try:
        deadline = time.monotonic() + 30
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", API + "health/live")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            finally:
                conn.close()
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield port, auth
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
        with connection.cursor() as cursor:
            for name in VIEWS:
                cursor.execute(f"DROP VIEW IF EXISTS {name}")


def _post_export(port: int, auth: dict[str, str], table: str, columns: list[str]) -> Any:
    body = {
        "query": {
            "tables": [{"id": "t", "name": table}],
            "columns": [{"table_id": "t", "column": c} for c in columns],
        },
        "format": "csv",
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST",
        API + "query/export",
        body=json.dumps(body),
        headers={**auth, "Content-Type": "application/json"},
    )
    return conn, conn.getresponse()


def test_a_failure_after_some_rows_aborts_the_download(server: tuple[int, dict[str, str]]) -> None:
    port, auth = server
    conn, response = _post_export(port, auth, "export_boom", ["n", "q"])
    try:
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        received: list[int] = []

        def drain() -> None:
            while chunk := response.read1(65536):
                received.append(len(chunk))
            response.read()  # a clean end would return b"" here; an aborted one raises

        with pytest.raises((http.client.IncompleteRead, http.client.HTTPException, OSError)):
            drain()
        assert sum(received) > 100_000  # rows were sent before the failure
    finally:
        conn.close()


def _busy_backends() -> list[tuple[Any, ...]]:
    admin = admin_connection()
    try:
        return admin.execute(
            "SELECT pid, state, left(query, 60) FROM pg_stat_activity"
            " WHERE application_name = %s AND state <> 'idle'",
            [APP_NAME],
        ).fetchall()
    finally:
        admin.close()


@pytest.mark.parametrize(("table", "columns"), [("export_big", ["n", "pad"]),
                                                ("export_spans", ["n", "span"])])  # fmt: skip
def test_a_client_that_leaves_releases_the_statement_and_transaction(
    server: tuple[int, dict[str, str]], table: str, columns: list[str]
) -> None:
    port, auth = server
    conn, response = _post_export(port, auth, table, columns)
    assert response.status == 200
    assert len(response.read1(65536)) > 0
    assert _busy_backends(), "the export runs while the client reads"
    conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
    conn.close()
    deadline = time.monotonic() + 20
    busy = _busy_backends()
    while busy and time.monotonic() < deadline:
        time.sleep(0.2)
        busy = _busy_backends()
    assert busy == []
    # the worker still serves
    again, answer = _post_export(port, auth, "export_boom", ["n"])
    assert answer.status == 200
    again.close()
