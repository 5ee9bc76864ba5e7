"""``GET schema`` for 1,000 exposed tables x 20 columns over HTTP (issue #7 targets).

Run alone::

    .venv/bin/python benchmarks/e2e/schema_scale.py [--tables 1000] [--columns 20] [--repeat 15]

or as the last part of ``benchmarks/run.py`` (its ``--schema-tables``). It uses its own database
(``prismiq_schema_bench`` on the server of ``--database-url``; never the shop's), creates the
schema ``scale`` with the generated tables when it does not hold exactly them (primary key,
foreign key to the previous table, varchar/integer columns, analysed), migrates, exposes every
table through the exposure rows (``sync_from_database`` then ``is_exposed``), and starts the
example project under gunicorn (2 sync workers, Redis schema cache) with the settings
``e2e.schema_settings`` (the app's JSON request log goes to a temporary file).

Each round: a separate Django process (the *controller*) calls ``invalidate_catalog()``; the next
``GET schema`` is **uncached** (introspection, exposure, rendering, cache writes); four more
requests (unmeasured) let both workers take the new version; two more are **cached**. Times are
taken by the client (until the whole body is read) and by the server (``duration_ms`` of the
request log, matched by ``X-Request-ID``: the view, DRF and rendering, not the socket write).
Finally a column is hidden and shown again through the controller (another process), and
responses from new connections (both workers) must reflect each change. gunicorn and the
controller are always stopped.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: make ``e2e`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from e2e.client import session_login
from e2e.config import API, PYTHON, ROOT, log
from e2e.stack import ensure_database, free_port, gunicorn, manage, wait_ready, with_database
from e2e.synthetic import create_tables_sql

DATABASE = "prismiq_schema_bench"
SCHEMA = "scale"
SETTINGS = "e2e.schema_settings"
PROBE_COLUMN = "c03"  # of the middle table: hidden and shown again by the final check

_CONTROLLER = """
import sys
import django
django.setup()
from prismiq_django import services
from prismiq_django.models import ExposedColumn
for line in sys.stdin:
    command, *rest = line.split()
    if command == "invalidate":
        services.invalidate_catalog()
    elif command in ("hide", "show"):
        column = ExposedColumn.objects.get(table__name=rest[0], name=rest[1])
        column.is_hidden = command == "hide"
        column.save()  # the exposure signal invalidates the catalog
    print("ok", flush=True)
"""

_EXPOSE = f"""
import django
django.setup()
from django.contrib.auth.models import User
from prismiq_django import services
from prismiq_django.catalog.sync import sync_from_database
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.catalog.introspect import introspect
existing = set(introspect("default", db_schema=["{SCHEMA}"]).tables)
ExposedTable.objects.exclude(name__in=existing).delete()  # tables of an earlier, larger run
sync_from_database()
ExposedTable.objects.filter(is_exposed=False).update(is_exposed=True)
ExposedColumn.objects.filter(is_hidden=True).update(is_hidden=False)
if not User.objects.filter(username="demo").exists():
    User.objects.create_user("demo", password="demo")
services.invalidate_catalog()
print(ExposedTable.objects.filter(is_exposed=True).count())
"""


def _ms(samples: list[float]) -> str:
    if not samples:
        return "-"
    ordered = sorted(samples)
    p95 = ordered[(95 * len(ordered) + 99) // 100 - 1]  # nearest rank
    return f"{statistics.median(ordered):.1f} / {p95:.1f}"


@dataclass(slots=True)
class SchemaScale:
    """Client and server milliseconds of uncached and cached ``GET schema`` requests."""

    tables: int
    columns: int
    body_bytes: int = 0
    uncached_client: list[float] = field(default_factory=list)
    uncached_server: list[float] = field(default_factory=list)
    cached_client: list[float] = field(default_factory=list)
    cached_server: list[float] = field(default_factory=list)
    tables_client: list[float] = field(default_factory=list)
    tables_server: list[float] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [
            "",
            f"## Schema endpoint at {self.tables:,} tables",
            "",
            f"`GET schema` with {self.tables:,} exposed tables x {self.columns} columns "
            f"(`benchmarks/e2e/schema_scale.py`: database `{DATABASE}`, schema `{SCHEMA}`, "
            "exposure rows from *Sync from database* with every table exposed), gunicorn 2 sync "
            "workers, Redis schema cache"
            + (f", {self.body_bytes / 1e6:.1f} MB response" if self.body_bytes else "")
            + ". Milliseconds, median / p95 (nearest rank). **client**: the whole request, body "
            "read; **server**: `duration_ms` of the app's request log (view, DRF, rendering; not "
            "the socket write). Uncached: the first request after another process called "
            "`invalidate_catalog()` (introspection, exposure, rendering, cache writes); cached: "
            "later requests of the same catalog version.",
            "",
            "| request | n | client median / p95 | server median / p95 |",
            "|---|---:|---:|---:|",
            f"| uncached | {len(self.uncached_client)} | {_ms(self.uncached_client)} "
            f"| {_ms(self.uncached_server)} |",
            f"| cached | {len(self.cached_client)} | {_ms(self.cached_client)} "
            f"| {_ms(self.cached_server)} |",
            f"| for reference: `GET tables` (same session, names only) "
            f"| {len(self.tables_client)} | {_ms(self.tables_client)} "
            f"| {_ms(self.tables_server)} |",
        ]
        if self.checks:
            lines += ["", *[f"- {check}" for check in self.checks]]
        if self.problems:
            lines += ["", *[f"- **Problem:** {problem}" for problem in self.problems]]
        return "\n".join(lines) + "\n"


def _ensure_tables(dsn: str, tables: int, columns: int) -> None:
    """Create ``tables`` tables of ``columns`` columns in ``SCHEMA`` unless exactly they exist."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT c.oid), count(a.attnum) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            " WHERE n.nspname = %s AND c.relkind = 'r'",
            [SCHEMA],
        ).fetchone()
        if row == (tables, tables * columns):
            log(f"schema {SCHEMA} already holds {tables} tables x {columns} columns")
            return
        log(f"creating {tables} tables x {columns} columns in schema {SCHEMA}")
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        for statements in create_tables_sql(SCHEMA, tables, columns):
            conn.execute(statements)
        conn.execute("ANALYZE")


@contextmanager
def _controller(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [PYTHON, "-c", _CONTROLLER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _command(controller: subprocess.Popen[str], line: str) -> None:
    assert controller.stdin is not None
    assert controller.stdout is not None
    controller.stdin.write(line + "\n")
    controller.stdin.flush()
    answer = controller.stdout.readline().strip()
    if answer != "ok":
        raise RuntimeError(f"controller answered {answer!r} to {line!r}")


def _get(port: int, auth: dict[str, str], path: str = "schema") -> tuple[str, float, bytes]:
    """``GET <path>`` on a new connection; returns (request id, client ms, body)."""
    request_id = uuid.uuid4().hex
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        started = time.perf_counter()
        conn.request(
            "GET",
            API + path,
            headers={**auth, "Accept": "application/json", "X-Request-ID": request_id},
        )
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000.0
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered HTTP {response.status}: {body[:200]!r}")
    return request_id, elapsed, body


def _server_ms(log_path: Path) -> dict[str, float]:
    durations = {}
    for line in log_path.read_text().splitlines():
        record = json.loads(line)
        if record.get("request_id") and "duration_ms" in record:
            durations[record["request_id"]] = float(record["duration_ms"])
    return durations


def _hidden_everywhere(
    port: int, auth: dict[str, str], probe: str, hidden: bool, requests: int
) -> int:
    """How many of ``requests`` fresh-connection responses show the probe column as wanted."""
    agreeing = 0
    for _ in range(requests):
        _, _, body = _get(port, auth)
        table = next(t for t in json.loads(body)["tables"] if t["name"] == probe)
        present = any(c["name"] == PROBE_COLUMN for c in table["columns"])
        agreeing += present != hidden
    return agreeing


def measure(
    database_url: str, redis_url: str, *, tables: int = 1000, columns: int = 20, repeat: int = 15
) -> SchemaScale:
    """Set up, run and stop everything; problems are reported in the result, never raised."""
    result = SchemaScale(tables, columns)
    dsn = with_database(database_url.replace("postgres://", "postgresql://", 1), DATABASE)
    workdir = Path(tempfile.mkdtemp(prefix="prismiq-schema-bench-"))
    request_log = workdir / "requests.jsonl"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)]),
        "DATABASE_URL": with_database(database_url, DATABASE),
        "REDIS_URL": redis_url,
        "PRISMIQ_BENCH_SCHEMA": SCHEMA,
        "PRISMIQ_BENCH_REQUEST_LOG": str(request_log),
        "PRISMIQ_RATE_LIMIT": "off",
        "DJANGO_DEBUG": "0",
        # The example refuses its public built-in key without DEBUG (it signs the tokens).
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    uncached_ids: list[str] = []
    cached_ids: list[str] = []
    tables_ids: list[str] = []
    try:
        ensure_database(dsn)
        _ensure_tables(dsn, tables, columns)
        manage(env, "migrate", "--noinput", "-v0")
        exposed = subprocess.run(
            [PYTHON, "-c", _EXPOSE], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        if exposed != str(tables):
            result.problems.append(f"{exposed} tables exposed instead of {tables}")
        port = free_port()
        with gunicorn(env, port, 2, workdir / "gunicorn.log"), _controller(env) as controller:
            wait_ready(port)
            auth = session_login(port)
            _command(controller, "invalidate")
            for _ in range(4):  # warm-up: imports, connections, both workers
                _, _, body = _get(port, auth)
            result.body_bytes = len(body)
            found = len(json.loads(body)["tables"])
            if found != tables:
                result.problems.append(f"the schema lists {found} tables, not {tables}")
            for _ in range(repeat):
                _command(controller, "invalidate")
                request_id, elapsed, _ = _get(port, auth)
                uncached_ids.append(request_id)
                result.uncached_client.append(elapsed)
                for _ in range(4):  # let both workers take the new version (unmeasured)
                    _get(port, auth)
                for _ in range(2):
                    request_id, elapsed, _ = _get(port, auth)
                    cached_ids.append(request_id)
                    result.cached_client.append(elapsed)
                request_id, elapsed, _ = _get(port, auth, "tables")
                tables_ids.append(request_id)
                result.tables_client.append(elapsed)
            probe = f"t{tables // 2:04d}"
            _command(controller, f"hide {probe} {PROBE_COLUMN}")
            hidden = _hidden_everywhere(port, auth, probe, True, 8)
            _command(controller, f"show {probe} {PROBE_COLUMN}")
            shown = _hidden_everywhere(port, auth, probe, False, 8)
            (result.checks if hidden == shown == 8 else result.problems).append(
                f"invalidation across processes: after the controller hid "
                f"`{probe}.{PROBE_COLUMN}`, {hidden}/8 responses (new connections, both "
                f"workers) no longer listed it; after it showed it again, {shown}/8 did"
            )
        durations = _server_ms(request_log)
        result.uncached_server = [durations[i] for i in uncached_ids if i in durations]
        result.cached_server = [durations[i] for i in cached_ids if i in durations]
        result.tables_server = [durations[i] for i in tables_ids if i in durations]
        if len(durations) < len(uncached_ids) + len(cached_ids) + len(tables_ids):
            result.problems.append("some requests are missing from the request log")
    except Exception as exc:
        result.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help=f"the server (the database used is always {DATABASE})",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    args = parser.parse_args(argv)
    if args.tables < 2 or args.columns < 3 or args.repeat < 1:
        parser.error("--tables >= 2, --columns >= 3 and --repeat >= 1")
    for url in (args.database_url, args.redis_url):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error("only loopback services are allowed")
    result = measure(
        args.database_url,
        args.redis_url,
        tables=args.tables,
        columns=args.columns,
        repeat=args.repeat,
    )
    print(result.markdown())
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
