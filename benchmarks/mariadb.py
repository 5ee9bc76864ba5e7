"""End-to-end benchmark on MariaDB: raw mysqlclient vs HTTP for the same compiled SQL (issue 20).

One command: ``.venv/bin/python benchmarks/mariadb.py [--orders 100000] [--repeat 9]``.

It creates the benchmark database on the local MariaDB (``utf8mb4``), migrates it and loads the
demo shop dataset with ``load_demo_data`` (skipped when the order count already matches), starts
the example project under gunicorn (2 gthread workers, Redis cache) on the loopback interface,
and for every query workload of ``e2e/workloads.py`` measures, interleaved round by round:

1. raw database time: mysqlclient (MySQLdb) executing the exact SQL the app compiles (taken from
   ``query/sql``, with its parameters) and fetching every row, in a transaction rolled back, with
   the session's ``time_zone`` at UTC as the app's statements have it;
2. end-to-end HTTP time through ``query/execute``, uncached (``bypass_cache: true``) and cached.

The report (medians, 95th percentiles, HTTP / raw ratios, the load average before and after) is
written into ``benchmarks/RESULTS.md`` between the ``mariadb`` markers, replacing the previous
MariaDB section (``benchmarks/run.py``, the PostgreSQL run, keeps it when it rewrites the file).
Only 127.0.0.1 is contacted; gunicorn is always stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import MySQLdb
from e2e.accesslog import AccessLog
from e2e.client import Client, token_login
from e2e.config import END_DATE, LOADER_CUSTOMERS_PER_ORDER, ROOT, log
from e2e.measure import Probe, Result, Timings, http_probe, interleave
from e2e.sections import BEGIN, END, write_section
from e2e.stack import Server, free_port, gunicorn, manage, spread_connections, wait_ready
from e2e.workloads import WORKLOADS, Workload

WORKERS = 2


def _connect(url: str, database: str | None) -> Any:
    parts = urlsplit(url)
    return MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        charset="utf8mb4",
        **({"database": database} if database else {}),
    )


def _database(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"unexpected database name {name!r}")
    return name


def ensure_dataset(url: str, env: dict[str, str], orders: int, reload: bool) -> float | None:
    """Create the database if needed, migrate, load ``orders`` unless present; the load time."""
    name = _database(url)
    server = _connect(url, None)
    try:
        cursor = server.cursor()
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
    finally:
        server.close()
    manage(env, "migrate", "--noinput", "-v0")
    conn = _connect(url, name)
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM shop_order), (SELECT COUNT(*) FROM shop_customer)"
        )
        counts = tuple(int(v) for v in cursor.fetchone())
    finally:
        conn.close()
    customers = max(100, orders // LOADER_CUSTOMERS_PER_ORDER)
    arguments = ["load_demo_data", f"--orders={orders}", f"--end-date={END_DATE}"]
    if not reload and counts == (orders, customers):
        log(f"dataset of {orders} orders already loaded")
        manage(env, *arguments)  # exposes the tables, creates the demo user
        return None
    log(f"loading {orders} orders into MariaDB (load_demo_data --reset)")
    started = time.perf_counter()
    manage(env, *arguments, "--reset")
    return time.perf_counter() - started


def raw_probe(conn: Any, timings: Timings, sql: str, params: list[Any]) -> Probe:
    """Execute ``sql`` with ``params`` and fetch every row, then roll back."""

    def call() -> tuple[bool, int | None, bytes]:
        cursor = conn.cursor()
        try:
            cursor.execute(sql, params)  # %s placeholders and %% as the app sends them
            count = len(cursor.fetchall())
        finally:
            cursor.close()
        conn.rollback()
        return True, count, b""

    return Probe(timings, call)


def measure(client: Client, conn: Any, workload: Workload, repeat: int) -> Result:
    result = Result(workload)
    assert workload.definition is not None
    times = max(3, round(repeat * workload.repeat_scale))
    try:
        compiled = client.json("POST", "query/sql", workload.definition)
        probes = [raw_probe(conn, result.raw, compiled["sql"], compiled["params"])]
        for kind, timings, app in (
            ("uncached", result.uncached, result.uncached_app),
            ("cached", result.cached, result.cached_app),
        ):
            body = {"query": workload.definition, "bypass_cache": kind == "uncached"}
            tag = f"maria.{workload.name}.{kind}"
            probes.append(http_probe(client, timings, "POST", "query/execute", body, app, tag))
        interleave(probes, times, budget_s=120.0)
        answer = json.loads(probes[-1].last or b"{}")
        result.rows = answer.get("row_count")
        raw_rows = probes[0].rows
        if raw_rows and result.rows is not None and not raw_rows <= {result.rows, result.rows + 1}:
            result.notes.append(f"raw rows {sorted(raw_rows)} != API row_count {result.rows}")
        for timings in (result.raw, result.uncached, result.cached):
            if timings.error:
                result.notes.append(f"error: {timings.error}")
    except Exception as exc:  # one failing workload must not stop the run
        result.notes.append(f"not measured: {type(exc).__name__}: {str(exc)[:200]}")
    return result


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _ratio(a: Timings, b: Timings) -> str:
    if a.median_ms is None or not b.median_ms:
        return "—"
    return f"{a.median_ms / b.median_ms:.2f}x"


def render(args: argparse.Namespace, info: dict[str, str], results: list[Result]) -> str:
    lines = [
        BEGIN,
        "## MariaDB",
        "",
        f"`{info['command']}` — MariaDB {info['version']}, mysqlclient {info['driver']}, "
        f"{args.orders:,} orders, {info['cpus']} CPUs, load average {info['load_before']} before "
        f"and {info['load_after']} after, {info['when']}. Raw = mysqlclient executing the SQL "
        "the app compiles (`query/sql`) and fetching every row; HTTP = `query/execute` through "
        "gunicorn (2 gthread workers), uncached (`bypass_cache`) and cached (Redis); the three "
        f"interleaved round by round, {args.repeat} rounds. Milliseconds, median (p95).",
        "",
        "| workload | rows | raw | HTTP uncached | uncached / raw | HTTP cached |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.workload.name} | {r.rows if r.rows is not None else '—'} "
            f"| {_ms(r.raw.median_ms)} ({_ms(r.raw.p95_ms)}) "
            f"| {_ms(r.uncached.median_ms)} ({_ms(r.uncached.p95_ms)}) "
            f"| {_ratio(r.uncached, r.raw)} "
            f"| {_ms(r.cached.median_ms)} ({_ms(r.cached.p95_ms)}) |"
        )
    notes = [f"- {r.workload.name}: {note}" for r in results for note in r.notes]
    if notes:
        lines += ["", "Problems:", "", *notes]
    lines += ["", END, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9, help="rounds per workload")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/prismiq_bench_maria"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    )
    parser.add_argument("--workloads", default="", help="comma-separated names (default: all)")
    parser.add_argument("--reload", action="store_true", help="reload the dataset")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.repeat < 1:
        parser.error("--orders and --repeat must be >= 1")
    for url in (args.database_url, args.redis_url):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error("only loopback services are allowed")
    chosen = [name for name in args.workloads.split(",") if name]
    workloads = [
        w for w in WORKLOADS if w.definition is not None and (not chosen or w.name in chosen)
    ]
    name = _database(args.database_url)
    metrics_dir = Path(tempfile.mkdtemp(prefix="prismiq-bench-maria-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": f"{args.database_url}?charset=utf8mb4",
        "REDIS_URL": args.redis_url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PRISMIQ_MAX_ROWS": "100000",
        "PRISMIQ_RATE_LIMIT": "off",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_JWT_ACCESS_MINUTES": "120",
    }
    results: list[Result] = []
    info = {
        "command": "python benchmarks/mariadb.py " + " ".join(argv or sys.argv[1:]),
        "load_before": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "cpus": str(os.cpu_count()),
        "driver": ".".join(map(str, MySQLdb.version_info[:3])),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    try:
        ensure_dataset(args.database_url, env, args.orders, args.reload)
        conn = _connect(args.database_url, name)
        cursor = conn.cursor()
        cursor.execute("SELECT VERSION()")
        info["version"] = str(cursor.fetchone()[0])
        cursor.execute("SET time_zone = '+00:00'")  # as the app's statements (SET STATEMENT)
        cursor.close()
        port = free_port()
        access_log = AccessLog(metrics_dir / "access.log")
        server = Server("gthread", 2, worker_connections=spread_connections(2, WORKERS, 2))
        with gunicorn(
            env, port, WORKERS, metrics_dir / "gunicorn.log", server=server,
            access_log=access_log.path,
        ) as master:  # fmt: skip
            wait_ready(port)
            log(f"gunicorn ready on 127.0.0.1:{port} (master pid {master}), MariaDB {name}")
            client = Client(port, token_login(port))
            try:
                for workload in workloads:
                    log(f"measuring {workload.name} on MariaDB")
                    results.append(measure(client, conn, workload, args.repeat))
            finally:
                client.close()
        conn.close()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    info["load_after"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    section = render(args, info, results)
    write_section(args.output, section)
    log(f"wrote the MariaDB section of {args.output}")
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
