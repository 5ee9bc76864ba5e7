"""End-to-end benchmark of prismiq_django on real PostgreSQL, Redis and gunicorn (issue #7).

One command: ``.venv/bin/python benchmarks/run.py [--orders 1000000] [--quick]``.

It makes sure the benchmark database exists, migrates it and loads the demo shop dataset (skipped
when the order count already matches), starts the example project under gunicorn (2 workers,
Redis cache, Prometheus multi-process directory) on the loopback interface, and for every workload
measures:

1. raw database time: psycopg executing the exact SQL the app compiles (taken from ``query/sql``)
   and fetching every row;
2. end-to-end HTTP time through the API, uncached (``bypass_cache: true``) and cached;

then reports medians, 95th percentiles and the ratio HTTP / raw, the cache-hit throughput with
concurrent clients, and the peak RSS of a worker, as Markdown in ``benchmarks/RESULTS.md``.
Every loop is bounded (request counts and a time budget), only 127.0.0.1 is contacted, and
gunicorn is always stopped at the end. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from e2e.client import BASIC_AUTH, Client, session_login
from e2e.config import ROOT, log
from e2e.measure import (
    Result,
    Throughput,
    check_metrics,
    measure_throughput,
    measure_workload,
)
from e2e.report import machine, render
from e2e.schema_scale import measure as measure_schema_scale
from e2e.stack import (
    ensure_database,
    ensure_dataset,
    free_port,
    gunicorn,
    manage,
    wait_ready,
    worker_peak_rss_mb,
)
from e2e.workloads import WORKLOADS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=None, help="dataset size (1000000)")
    parser.add_argument("--quick", action="store_true", help="100k orders, few repetitions")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prismiq_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per measurement")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (throughput)")
    parser.add_argument(
        "--reload", action="store_true", help="reload the dataset even when the counts match"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument(
        "--schema-tables", type=int, default=1000, help="GET schema at this many tables (0: skip)"
    )
    args = parser.parse_args(argv)
    args.orders = args.orders or (100_000 if args.quick else 1_000_000)
    repeat = args.repeat or (5 if args.quick else 15)
    throughput_requests = 300 if args.quick else 2_000
    if args.orders < 1 or repeat < 1 or not 1 <= args.clients <= 64:
        parser.error("--orders and --repeat must be >= 1, --clients between 1 and 64")
    for url in (args.database_url, args.redis_url):
        host = urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"only loopback services are allowed, not {host!r}")

    dsn = args.database_url.replace("postgres://", "postgresql://", 1)
    ensure_database(dsn)
    metrics_dir = Path(tempfile.mkdtemp(prefix="prismiq-bench-metrics-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PRISMIQ_MAX_ROWS": "100000",
        "PRISMIQ_RATE_LIMIT": "off",
        "DJANGO_DEBUG": "0",
    }
    problems: list[str] = []
    results: list[Result] = []
    throughput: list[Throughput] = []
    rss: list[float] = []
    checks: list[str] = []
    try:
        manage(env, "migrate", "--noinput", "-v0")
        load = ensure_dataset(env, dsn, args.orders, reload=args.reload)
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM shop_order), (SELECT count(*) FROM shop_orderitem),"
                " (SELECT count(*) FROM shop_customer), (SELECT count(*) FROM shop_product)"
            ).fetchone()
        assert row is not None
        counts = dict(zip(("orders", "items", "customers", "products"), map(int, row), strict=True))
        info = machine(dsn)
        port = free_port()
        log_path = metrics_dir / "gunicorn.log"
        with gunicorn(env, port, 2, log_path) as master:
            try:
                wait_ready(port)
            except RuntimeError:
                log("gunicorn log:\n" + log_path.read_text()[-3000:] if log_path.exists() else "")
                raise
            log(f"gunicorn ready on 127.0.0.1:{port} (master pid {master})")
            auth = session_login(port)
            client = Client(port, auth)
            basic = Client(port, BASIC_AUTH)
            try:
                for workload in WORKLOADS:
                    log(f"measuring {workload.name}")
                    chosen = basic if workload.basic_auth else client
                    result = measure_workload(chosen, dsn, workload, repeat)
                    results.append(result)
                    for note in result.notes:
                        problems.append(f"{workload.name}: {note}")
            finally:
                client.close()
                basic.close()
            top10 = next(w for w in WORKLOADS if w.name == "top10_customers").definition
            assert top10 is not None
            for clients in sorted({1, args.clients}):
                log(f"cache-hit throughput with {clients} clients")
                try:
                    throughput.append(
                        measure_throughput(port, auth, top10, clients, throughput_requests)
                    )
                except Exception as exc:
                    problems.append(f"throughput ({clients} clients): {exc}")
            rss = worker_peak_rss_mb(master)
            metrics_client = Client(port, auth)
            try:
                summary = check_metrics(metrics_client)
            except Exception as exc:
                summary = f"problem: metrics: {exc}"
            finally:
                metrics_client.close()
            (problems if summary.startswith("problem") else checks).append(summary)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    report = render(args, info, counts, load, results, throughput, rss, checks, problems)
    if args.schema_tables:  # its own database, gunicorn and section (e2e/schema_scale.py)
        log(f"measuring GET schema with {args.schema_tables} exposed tables")
        scale = measure_schema_scale(
            args.database_url, args.redis_url, tables=args.schema_tables, repeat=repeat
        )
        report += scale.markdown()
    args.output.write_text(report)
    log(f"wrote {args.output}")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
