"""Metrics under a real gunicorn with several worker processes (prometheus-client multiprocess).

Whichever worker answers the scrape, the counts are those of all workers together.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")

SETTINGS = """
from tests.settings import *  # noqa: F403

MIDDLEWARE = [*MIDDLEWARE, "prismiq_django.middleware.RequestIdMiddleware"]  # noqa: F405
PRISMIQ = {"METRICS_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"]}
"""

CONFIG = """
from prometheus_client import multiprocess

def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, str, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)  # a new connection each time: spread over the workers
        response = conn.getresponse()
        return response.status, response.read().decode(), dict(response.getheaders())
    finally:
        conn.close()


def _requests_total(text: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "prismiq_requests_total" and sample.labels == {
                "endpoint": "health-live",
                "status": "200",
            }:
                total += sample.value
    return total


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed")
def test_metrics_sum_every_gunicorn_worker(tmp_path: Path) -> None:
    multiproc = tmp_path / "metrics"
    multiproc.mkdir()
    (tmp_path / "ops_gunicorn_settings.py").write_text(SETTINGS)
    (tmp_path / "gunicorn_conf.py").write_text(CONFIG)
    port = _free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "DJANGO_SETTINGS_MODULE": "ops_gunicorn_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(  # noqa: S603
        [
            str(GUNICORN),
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
            "--config",
            str(tmp_path / "gunicorn_conf.py"),
            "example_project.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                # Not health/live, which is counted: a probe the client gave up on (a timeout
                # on a loaded machine) may still have been answered, and counted, by a worker.
                if _get(port, "/api/analytics/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)

        # Count from what the workers report once they are up (0 unless a late probe counted).
        time.sleep(0.5)
        status, text, _ = _get(port, "/api/analytics/metrics")
        assert status == 200
        baseline = _requests_total(text)

        # Which worker accepts a connection is up to the kernel: on a busy machine one worker can
        # take many in a row, so keep asking (bounded) until at least two workers have answered.
        answered = 0
        while answered < 30 or len(list(multiproc.glob("counter_*.db"))) < 2:
            assert answered < 600, "one gunicorn worker answered every request"
            status, _, headers = _get(port, "/api/analytics/health/live")
            assert status == 200
            assert len(headers["X-Request-ID"]) == 32
            answered += 1

        for _ in range(5):  # every worker gives the same, aggregated answer
            status, text, _ = _get(port, "/api/analytics/metrics")
            assert status == 200
            assert _requests_total(text) == baseline + answered
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()
        shutil.rmtree(multiproc, ignore_errors=True)
