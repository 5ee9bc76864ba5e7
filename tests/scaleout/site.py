"""A site in separate processes for the scale-out tests: its settings, its database, its server.

:class:`ScaleoutSite` creates a database on the primary (migrated, one exposed table
``scale_items`` and two users), writes a settings module whose ``PRISMIQ["DATABASE"]`` is the
``replica`` alias (the same database on the streaming replica), and serves it under gunicorn with
several workers sharing Redis and a Prometheus multiprocess directory.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
PRIMARY = "postgresql://postgres@127.0.0.1:5432/"
REPLICA = "postgresql://postgres@127.0.0.1:5433/"
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
T = TypeVar("T")

SETTINGS = """
from tests.settings import *  # noqa: F403

DATABASES = {{
    "default": {{"ENGINE": "django.db.backends.postgresql", "NAME": {name!r}, "HOST": "127.0.0.1",
                "PORT": "5432", "USER": "postgres", "CONN_MAX_AGE": 600}},
    "replica": {{"ENGINE": "django.db.backends.postgresql", "NAME": {name!r}, "HOST": "127.0.0.1",
                "PORT": {port!r}, "USER": "postgres", "CONN_MAX_AGE": 600}},
}}
CACHES = {{"default": {{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": {redis!r},
                       "KEY_PREFIX": {name!r}}}}}
MIDDLEWARE = [*MIDDLEWARE, "prismiq_django.middleware.RequestIdMiddleware"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PRISMIQ = {{
    "DATABASE": "replica",
    "EXPOSED_TABLES": ["scale_items"],
    "RATE_LIMIT": "300/m",
    "METRICS_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    **{prismiq!r},
}}
"""

GUNICORN_CONF = """
from prometheus_client import multiprocess

def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
"""

SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
User = get_user_model()
User.objects.create_user("alice", password="alice")
User.objects.create_user("bob", password="bob")
User.objects.create_user("carol", password="carol")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sql(dsn: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit on ``dsn``; its rows (empty for a command)."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


class ScaleoutSite:
    """One database + settings + gunicorn; :meth:`close` stops the server and drops the database."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        workers: int = 2,
        analytics_port: int = 5433,
        prismiq: dict[str, Any] | None = None,
        setup_sql: tuple[str, ...] = (),
    ) -> None:
        """``analytics_port`` is where the ``replica`` alias (the analytics database) connects:
        the streaming replica (5433, waited for until it has replayed the setup) or another
        server in front of the primary (PgBouncer); ``prismiq`` adds to the ``PRISMIQ`` setting;
        ``setup_sql`` runs on the primary after the ``scale_items`` table is filled."""
        self.name = f"prismiq_scaleout_{os.getpid()}_{analytics_port}"
        self.tmp = tmp_path
        self.port = free_port()
        self.metrics_dir = tmp_path / "metrics"
        self.metrics_dir.mkdir()
        (tmp_path / "scaleout_settings.py").write_text(
            SETTINGS.format(
                name=self.name, redis=REDIS, port=str(analytics_port), prismiq=prismiq or {}
            )
        )
        (tmp_path / "gunicorn_conf.py").write_text(GUNICORN_CONF)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "scaleout_settings",
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
        }
        self.env.pop("DATABASE_URL", None)
        self.server: subprocess.Popen[bytes] | None = None
        self.workers = workers
        sql(PRIMARY + "postgres", f'DROP DATABASE IF EXISTS "{self.name}"')
        sql(PRIMARY + "postgres", f'CREATE DATABASE "{self.name}"')
        self._run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"])
        self._run([sys.executable, "-c", SETUP])
        self.primary = PRIMARY + self.name
        self.replica = REPLICA + self.name
        sql(self.primary, "CREATE TABLE scale_items (id integer PRIMARY KEY, label text NOT NULL)")
        sql(
            self.primary,
            "INSERT INTO scale_items SELECT g, 'item ' || g FROM generate_series(1, 10) g",
        )
        for statement in setup_sql:
            sql(self.primary, statement)
        if analytics_port == 5433:
            self.wait_for_replay()
        self._start(workers)

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(  # noqa: S603
            argv, env=self.env, cwd=ROOT, capture_output=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stderr.decode()[-3000:]

    def _start(self, workers: int) -> None:
        self.log = (self.tmp / "gunicorn.log").open("wb")
        self.server = subprocess.Popen(  # noqa: S603
            [
                str(GUNICORN),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--config",
                str(self.tmp / "gunicorn_conf.py"),
                "example_project.wsgi:application",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.request("GET", "health/live")[0] == 200:
                    return
            except OSError:
                pass
            assert self.server.poll() is None, (self.tmp / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)

    def wait_for_replay(self, timeout: float = 30) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        target = sql(PRIMARY + "postgres", "SELECT pg_current_wal_lsn()::text")[0][0]
        deadline = time.monotonic() + timeout
        while True:
            done = sql(
                REPLICA + "postgres",
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                (target,),
            )[0][0]
            if done:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.1)

    def request(
        self, method: str, path: str, body: Any = None, *, user: str | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        """One request on a new connection (so the kernel spreads them over the workers)."""
        headers = {"Content-Type": "application/json"}
        if user:
            token = base64.b64encode(f"{user}:{user}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, "/api/analytics/" + path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            kind = response.getheader("Content-Type") or ""
            text = "json" in kind or kind.startswith("text/")
            data: Any = raw.decode() if text else raw  # files other than text: bytes
            if "json" in kind:
                data = json.loads(data)
            return response.status, data, dict(response.getheaders())
        finally:
            conn.close()

    def on_each_worker(self, call: Callable[[], T]) -> list[T]:
        """Run ``call`` (one request) once on every gunicorn worker, each on a different one.

        The kernel may hand one worker every connection in a row, so spreading is made certain:
        a sync worker serves one connection at a time, and a connection that sends nothing keeps
        the worker that accepted it waiting. With every worker held so, letting one go leaves it
        the only worker free for ``call``; it is held again before the next one is let go.
        """
        held = [self._hold() for _ in range(self.workers)]
        self._wait_accepted()
        answers: list[T] = []
        try:
            for index in range(self.workers):
                held[index].close()
                answers.append(call())
                held[index] = self._hold()
                self._wait_accepted()
        finally:
            for sock in held:
                sock.close()
        return answers

    def _hold(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def _wait_accepted(self, timeout: float = 10) -> None:
        """Wait until no connection waits in the listening socket's accept queue (its rx_queue
        in ``/proc/net/tcp``: the connections a worker has not accepted yet)."""
        local = f"0100007F:{self.port:04X}"
        deadline = time.monotonic() + timeout
        while True:
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
                fields = line.split()
                listening = fields[1] == local and fields[3] == "0A"
                if listening and int(fields[4].split(":")[1], 16) == 0:
                    return
            assert time.monotonic() < deadline, "the workers did not accept the held connections"
            time.sleep(0.01)

    def close(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(timeout=5)
            self.log.close()
        sql(PRIMARY + "postgres", f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
