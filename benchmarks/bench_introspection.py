"""Introspection benchmark on real PostgreSQL: 1,000 tables x 20 columns (issue #4).

Usage::

    .venv/bin/python benchmarks/bench_introspection.py [--tables 1000] [--columns 20] [--runs 15]

``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``) names the server; the
benchmark creates its own database ``prismiq_bench_introspection`` (migrated, so the exposure
models exist) and a schema ``bench_intro`` holding the generated tables, each with a primary
key, a foreign key to the previous table, and text/integer columns; it is analysed so that row
estimates exist. It measures, over ``--runs`` runs after one warm-up:

1. ``introspect()``: the raw catalog, with the number of SQL statements it sent;
2. ``build_exposed_catalog()``: introspection plus the exposure filter (all tables exposed
   through ``EXPOSED_TABLES``) — what a cold schema cache costs;
3. ``get_catalog()`` with a warm schema cache (the per-request hot path).

The result table is printed and written to ``benchmarks/INTROSPECTION.md``. ``--drop`` removes
the benchmark database afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dj_database_url
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "prismiq_bench_introspection"
SCHEMA = "bench_intro"


def _server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _ensure_database(url: str) -> dict[str, object]:
    config = dj_database_url.parse(url)
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    config["NAME"] = DB_NAME
    return dict(config)


def _setup_django(db: dict[str, object], tables: int) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": db},
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "prismiq_django",
        ],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        PRISMIQ={
            "DB_SCHEMA": [SCHEMA],
            "EXPOSED_TABLES": [f"t{i:04d}" for i in range(tables)],
        },
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_schema(tables: int, columns: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        batch = []
        for i in range(tables):
            ref = f"REFERENCES {SCHEMA}.t{i - 1:04d} (id)" if i else ""
            cols = ", ".join(
                f"c{j:02d} {'integer' if j % 2 else 'varchar(40)'}" for j in range(columns - 2)
            )
            batch.append(
                f"CREATE TABLE {SCHEMA}.t{i:04d} (id integer PRIMARY KEY, "
                f"parent_id integer {ref}, {cols})"
            )
            if len(batch) == 100:
                cursor.execute(";\n".join(batch))
                batch = []
        if batch:
            cursor.execute(";\n".join(batch))
        cursor.execute(f"COMMENT ON TABLE {SCHEMA}.t0000 IS 'first table'")
        cursor.execute("ANALYZE")


def _measure(fn: Callable[[], object], runs: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm-up
    timings = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            fn()
            timings.append((time.perf_counter() - started) * 1000.0)
        queries = len(captured.captured_queries)
    return timings, queries


def _row(label: str, timings: list[float], queries: int) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"| {label} | {statistics.median(ordered):.1f} | {p95:.1f} | {ordered[0]:.1f} | {queries} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database after")
    args = parser.parse_args()

    db = _ensure_database(_server_url())
    _setup_django(db, args.tables)
    _create_schema(args.tables, args.columns)

    from django.db import connection

    from prismiq_django import services
    from prismiq_django.introspection import introspect

    raw = introspect("default", db_schema=[SCHEMA])
    assert len(raw.tables) == args.tables, len(raw.tables)
    assert sum(len(t.columns) for t in raw.tables.values()) == args.tables * args.columns
    exposed = services.build_exposed_catalog()
    assert len(exposed.tables) == args.tables

    rows = [
        _row(
            "introspect() — raw catalog",
            *_measure(lambda: introspect("default", db_schema=[SCHEMA]), args.runs),
        ),
        _row(
            "build_exposed_catalog() — cold schema cache",
            *_measure(services.build_exposed_catalog, args.runs),
        ),
    ]
    services.invalidate_catalog()
    services.get_catalog(None)
    rows.append(
        _row(
            "get_catalog() — warm schema cache",
            *_measure(lambda: services.get_catalog(None), args.runs),
        )
    )
    services._memo.clear()
    rows.append(
        _row(
            "get_catalog() — from the Django cache, empty process memo",
            *_measure(lambda: (services._memo.clear(), services.get_catalog(None)), args.runs),
        )
    )

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    header = [
        "# Introspection benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/bench_introspection.py "
        f"--tables {args.tables} --columns {args.columns} --runs {args.runs}`: PostgreSQL "
        f"{version}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPU(s) shared with other work. {args.tables} tables x {args.columns} "
        f"columns ({args.tables * args.columns:,} columns, {args.tables - 1} foreign keys) in "
        f"schema `{SCHEMA}`; times in milliseconds over {args.runs} runs after a warm-up.",
        "",
        "| step | median ms | p95 ms | min ms | SQL statements |",
        "|---|---:|---:|---:|---:|",
    ]
    text = "\n".join([*header, *rows, ""])
    print(text)
    (ROOT / "benchmarks" / "INTROSPECTION.md").write_text(text)

    if args.drop:
        connection.close()
        with psycopg.connect(_server_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


if __name__ == "__main__":
    main()
