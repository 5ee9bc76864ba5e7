"""Introspection and schema-cache benchmark on real PostgreSQL: 1,000 tables x 20 columns.

Usage::

    .venv/bin/python benchmarks/bench_introspection.py [--tables 1000] [--columns 20] [--runs 15]

``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``) names the server; the
benchmark creates its own database ``prismiq_bench_introspection`` (migrated, so the exposure
models exist) and a schema ``bench_intro`` holding the generated tables, each with a primary
key, a foreign key to the previous table, and text/integer columns; it is analysed so that row
estimates exist. The Django cache is local memory (values pickled, as with Redis). It measures,
in process, over ``--runs`` runs after one warm-up:

1. ``introspect()``: the raw catalog, with the number of SQL statements it sent;
2. ``build_exposed_catalog()``: introspection plus the exposure filter (all tables exposed
   through ``EXPOSED_TABLES``);
3. ``schema_json()`` with a cold schema cache (new version token): introspection, exposure,
   rendering and the two cache writes — what the first ``GET schema`` after an invalidation costs
   in the server;
4. ``schema_json()`` warm (this process's memo) — a cached ``GET schema``;
5. ``schema_json()`` and ``get_catalog()`` with an empty process memo, from the Django cache —
   what another worker pays once per catalog version;
6. ``get_catalog()`` warm (the per-request hot path of the query endpoints).

Then the split of one cold build: each catalog statement's server time (``EXPLAIN ANALYZE``) and
its time with psycopg fetching the rows, the Python construction of the catalog, the exposure
filter and the rendering. The result is printed and written to ``benchmarks/INTROSPECTION.md``.
``--drop`` removes the benchmark database afterwards. The HTTP measurement of the same scale
(gunicorn, Redis) is ``benchmarks/e2e/schema_scale.py``.
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
from e2e.synthetic import create_tables_sql  # benchmarks/ is this script's sys.path[0]

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
        for statements in create_tables_sql(SCHEMA, tables, columns):
            cursor.execute(statements)
        cursor.execute(f"COMMENT ON TABLE {SCHEMA}.t0000 IS 'first table'")
        cursor.execute("ANALYZE")


def _measure(
    fn: Callable[..., object],
    runs: int,
    *args: object,
    setup: Callable[[], object] | None = None,
) -> tuple[list[float], list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn(*args)  # warm-up
    timings = []
    cpu = []
    queries = 0
    for _ in range(runs):
        if setup is not None:
            setup()  # not timed
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            fn(*args)
            timings.append((time.perf_counter() - started) * 1000.0)
            cpu.append((time.process_time() - started_cpu) * 1000.0)
        # Statements sent to the analytics database (not the version token's cache reads).
        queries = len(captured.captured_queries)
    return timings, cpu, queries


def _median(
    fn: Callable[[], object], runs: int, setup: Callable[[], object] | None = None
) -> float:
    fn()
    timings = []
    for _ in range(runs):
        if setup is not None:
            setup()  # not timed
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(timings)


def _forget_previous_build() -> None:
    """Drop what a rebuild in the same process reuses (tables, encoded and rendered parts)."""
    from prismiq_django.backends.postgresql import introspection as pg_introspection
    from prismiq_django.catalog import codec as catalog_codec
    from prismiq_django.services import catalog as schema_services

    pg_introspection._last_build.tables = {}
    pg_introspection._last_build.types = {}
    catalog_codec._encoded_tables._last = {}
    schema_services._rendered_tables._last = {}


def _split(runs: int) -> list[str]:
    """Where one cold build's time goes, step by step (medians over ``runs``)."""
    from django.db import connection

    from prismiq_django.backends import introspection as backend_introspection
    from prismiq_django.backends.postgresql import introspection as pg_introspection
    from prismiq_django.catalog import introspect as introspection
    from prismiq_django.catalog.codec import catalog_from_bytes, catalog_to_bytes, tenant_columns
    from prismiq_django.catalog.exposure import apply_exposure, load_exposure
    from prismiq_django.services import catalog as schema_services

    schemas = [SCHEMA]
    lines = []
    with connection.cursor() as cursor:
        fetched = []
        for label, sql, params in (
            ("relations", pg_introspection._PG_RELATIONS_SQL, [schemas]),
            ("columns", pg_introspection._PG_COLUMNS_SQL, [schemas]),
        ):
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + sql, params)
            server = cursor.fetchall()[-1][0].split(":")[1].strip()
            rows = backend_introspection.fetchall(cursor, sql, params)
            fetched.append(rows)
            took = _median(
                lambda sql=sql, params=params: backend_introspection.fetchall(cursor, sql, params),
                runs,
            )
            lines.append(f"| {label} statement ({len(rows):,} rows) | {server} | {took:.1f} ms |")
        pairs = {(r[3], r[4]) for r in fetched[1]}
        params = [schemas, [p[0] for p in pairs], [p[1] for p in pairs]]
        sql = pg_introspection._PG_KEYS_AND_TYPES_SQL
        cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + sql, params)
        server = cursor.fetchall()[-1][0].split(":")[1].strip()
        keys = backend_introspection.fetchall(cursor, sql, params)
        took = _median(lambda: backend_introspection.fetchall(cursor, sql, params), runs)
        lines.append(
            f"| keys and types statement ({len(keys):,} rows) | {server} | {took:.1f} ms |"
        )

    def build_once() -> object:
        return pg_introspection._build_postgresql(schemas, fetched[0], fetched[1], keys)

    build = _median(build_once, runs, _forget_previous_build)
    lines.append(f"| Python: catalog objects from the rows, first build | - | {build:.1f} ms |")
    build = _median(
        lambda: pg_introspection._build_postgresql(schemas, fetched[0], fetched[1], keys), runs
    )
    lines.append(f"| Python: the same, rebuild (unchanged tables reused) | - | {build:.1f} ms |")
    raw = introspection.introspect("default", db_schema=schemas)
    names = [f"t{i:04d}" for i in range(len(raw.tables))]
    load = _median(lambda: load_exposure(names), runs)
    lines.append(f"| load_exposure() (exposure rows) | - | {load:.1f} ms |")
    config = load_exposure(names)
    apply = _median(lambda: apply_exposure(raw, config), runs)
    lines.append(f"| apply_exposure() | - | {apply:.1f} ms |")
    exposed = apply_exposure(raw, config)

    render = _median(lambda: schema_services.render_schema(exposed), runs, _forget_previous_build)
    lines.append(f"| render the schema body (dicts + orjson), first | - | {render:.1f} ms |")
    render = _median(lambda: schema_services.render_schema(exposed), runs)
    lines.append(f"| render the schema body, unchanged tables reused | - | {render:.1f} ms |")
    encode = _median(lambda: catalog_to_bytes(exposed), runs, _forget_previous_build)
    lines.append(f"| encode the catalog for the cache, first | - | {encode:.1f} ms |")
    stored = catalog_to_bytes(exposed)
    first, second = list(exposed.tables)[:2]

    def first_query() -> object:  # what a query naming two tables decodes
        catalog = catalog_from_bytes(stored)
        tenant_columns(catalog)
        return catalog.tables[first], catalog.tables[second]

    decode = _median(first_query, runs)
    lines.append(
        f"| decode the cached catalog's index and 2 tables (another worker's first query) "
        f"| - | {decode:.1f} ms |"
    )
    decode = _median(lambda: list(catalog_from_bytes(stored).tables.values()), runs)
    lines.append(f"| decode the cached catalog, every table | - | {decode:.1f} ms |")
    return lines


def _row(label: str, timings: list[float], cpu: list[float], queries: int) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"| {label} | {statistics.median(ordered):.1f} | {p95:.1f} | {ordered[0]:.1f} "
        f"| {statistics.median(cpu):.1f} | {queries} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database after")
    args = parser.parse_args()

    load_before = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    db = _ensure_database(_server_url())
    _setup_django(db, args.tables)
    _create_schema(args.tables, args.columns)

    from django.db import connection

    from prismiq_django import services
    from prismiq_django.catalog import store
    from prismiq_django.catalog.introspect import introspect

    raw = introspect("default", db_schema=[SCHEMA])
    assert len(raw.tables) == args.tables, len(raw.tables)
    assert sum(len(t.columns) for t in raw.tables.values()) == args.tables * args.columns
    exposed = services.build_exposed_catalog()
    assert len(exposed.tables) == args.tables

    def cold_schema() -> bytes:
        services.invalidate_catalog()
        return services.schema_json(None)

    def first_introspect() -> object:
        return introspect("default", db_schema=[SCHEMA])

    def first_cold_schema_setup() -> None:
        store.forget_process_memo()  # the old catalog is freed here, not in the timed call
        _forget_previous_build()
        services.invalidate_catalog()

    def fresh_process_schema() -> bytes:
        store.forget_process_memo()
        return services.schema_json(None)

    def fresh_process_catalog() -> object:
        store.forget_process_memo()
        return services.get_catalog(None)

    body = cold_schema()
    rows = [
        _row(
            "introspect() — raw catalog, first build in a process",
            *_measure(first_introspect, args.runs, setup=_forget_previous_build),
        ),
        _row(
            "introspect() — raw catalog, rebuild (unchanged tables reused)",
            *_measure(lambda: introspect("default", db_schema=[SCHEMA]), args.runs),
        ),
        _row(
            "build_exposed_catalog() — introspection + exposure",
            *_measure(services.build_exposed_catalog, args.runs),
        ),
        _row(
            f"schema_json() — cold schema cache, first build in a process "
            f"({len(body) / 1e6:.1f} MB body)",
            *_measure(services.schema_json, args.runs, None, setup=first_cold_schema_setup),
        ),
        _row(
            "schema_json() — cold schema cache after an invalidation (rebuild)",
            *_measure(cold_schema, args.runs),
        ),
        _row(
            "schema_json() — warm (process memo)", *_measure(services.schema_json, args.runs, None)
        ),
        _row(
            "schema_json() — empty process memo, body from the Django cache",
            *_measure(fresh_process_schema, args.runs),
        ),
        _row(
            "get_catalog() — empty process memo, catalog from the Django cache",
            *_measure(fresh_process_catalog, args.runs),
        ),
        _row(
            "get_catalog() — warm (process memo)", *_measure(services.get_catalog, args.runs, None)
        ),
    ]
    split = _split(args.runs)

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
        f"schema `{SCHEMA}`; times in milliseconds over {args.runs} runs after a warm-up. Load "
        f"average before the run: {load_before}; wall times include waiting for the CPU, the "
        "CPU column (this process's CPU time) does not.",
        "",
        "| step | median ms | p95 ms | min ms | CPU median ms | SQL statements |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    detail = [
        "",
        "Split of one cold build (medians): server time is PostgreSQL's own `EXPLAIN ANALYZE` "
        "execution time; the next column is the statement sent from Python with every row "
        "fetched by psycopg.",
        "",
        "| part | server | from Python |",
        "|---|---:|---:|",
        *split,
    ]
    text = "\n".join([*header, *rows, *detail, ""])
    print(text)
    (ROOT / "benchmarks" / "INTROSPECTION.md").write_text(text)

    if args.drop:
        connection.close()
        with psycopg.connect(_server_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


if __name__ == "__main__":
    main()
