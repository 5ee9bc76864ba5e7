"""The system under test: benchmark database, demo dataset and gunicorn on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from e2e.config import API, END_DATE, LOADER_CUSTOMERS_PER_ORDER, PYTHON, ROOT, log


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def ensure_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command of the example project; return its stdout (also logged)."""
    done = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in done.stdout.splitlines():
        log(line)
    return done.stdout


@dataclass(frozen=True, slots=True)
class LoadTime:
    """Seconds of a dataset load: the whole command, and the loader's own report (data only)."""

    wall: float
    loader: float | None


def shop_counts(dsn: str) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM shop_order), (SELECT count(*) FROM shop_customer)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def ensure_dataset(
    env: dict[str, str], dsn: str, orders: int, *, reload: bool = False
) -> LoadTime | None:
    """Load ``orders`` orders unless they are there; return the load time (None if skipped)."""
    customers = max(100, orders // LOADER_CUSTOMERS_PER_ORDER)
    arguments = ["load_demo_data", f"--orders={orders}", f"--end-date={END_DATE}"]
    if not reload and shop_counts(dsn) == (orders, customers):
        log(f"dataset of {orders} orders already loaded; exposing tables and demo user only")
        manage(env, *arguments)
        return None
    log(f"loading {orders} orders (load_demo_data --reset)")
    started = time.perf_counter()
    output = manage(env, *arguments, "--reset")
    wall = time.perf_counter() - started
    match = re.search(r"order items in ([0-9.]+)s", output)
    return LoadTime(wall, float(match.group(1)) if match else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: gunicorn access log line: the caller's X-Request-ID (the benchmark's tag), status, request
#: time in microseconds as gunicorn sees it (request parsed -> response written) and the
#: ``Server-Timing`` the app answered (``app;dur=<ms>``, RequestIdMiddleware).
ACCESS_LOG_FORMAT = "%({x-request-id}i)s %(s)s %(D)s %({server-timing}o)s"


@dataclass(frozen=True, slots=True)
class Server:
    """How gunicorn runs: worker class, threads per worker (gthread), keep-alive seconds and, for
    gthread, the most connections one worker holds (``--worker-connections``).

    The cap spreads the load client's long-lived connections over the workers the way a load
    balancer's many connections spread in production: without it one gthread worker may accept
    all of them (whichever wakes first takes each new connection), and that worker's single
    interpreter then serves everything on one core while the other worker idles. Set it to
    ``ceil(connections / workers) + threads``: no worker then holds fewer than ``threads`` of the
    connections, and the kept-alive ones never exceed gunicorn's own keep-alive limit
    (``worker_connections - threads``), so no connection is closed early.
    """

    worker_class: str = "sync"
    threads: int = 1
    keep_alive: int = 5
    worker_connections: int | None = None

    @property
    def label(self) -> str:
        if self.worker_class == "gthread":
            cap = (
                f", at most {self.worker_connections} connections/worker"
                if self.worker_connections
                else ""
            )
            return f"gthread, {self.threads} threads/worker, keep-alive {self.keep_alive} s{cap}"
        return "sync (a connection per request)"


def spread_connections(connections: int, workers: int, threads: int) -> int:
    """The ``--worker-connections`` cap of :class:`Server` for ``connections`` load connections."""
    return -(-connections // workers) + threads


@contextmanager
def gunicorn(
    env: dict[str, str],
    port: int,
    workers: int,
    log_path: Path,
    *,
    server: Server | None = None,
    access_log: Path | None = None,
) -> Iterator[int]:
    """Run the example project under gunicorn on 127.0.0.1; always stopped on exit.

    ``access_log``: where gunicorn writes one :data:`ACCESS_LOG_FORMAT` line per request
    (default: none).
    """
    server = server or Server()
    command = [
        PYTHON, "-m", "gunicorn", "example_project.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "300",
        "--worker-class", server.worker_class, "--threads", str(server.threads),
        "--keep-alive", str(server.keep_alive),
        *(
            ["--worker-connections", str(server.worker_connections)]
            if server.worker_connections
            else []
        ),
        "--access-logfile", str(access_log) if access_log else "/dev/null",
        "--access-logformat", ACCESS_LOG_FORMAT, "--error-logfile", str(log_path),
    ]  # fmt: skip
    help_text = subprocess.run(
        [PYTHON, "-m", "gunicorn", "--help"], capture_output=True, text=True, check=False
    ).stdout
    if "--no-control-socket" in help_text:
        command.append("--no-control-socket")
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        yield process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log(f"gunicorn stopped (exit code {process.returncode})")


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", API + "health/ready")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server on port {port} was not ready within {timeout:.0f}s")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def worker_peak_rss_mb(master: int) -> list[float]:
    """VmHWM (peak resident set) of each gunicorn worker, in MiB."""
    peaks = []
    children = Path(f"/proc/{master}/task/{master}/children")
    for pid in children.read_text().split() if children.exists() else []:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks
