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
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from e2e.accesslog import AccessLog
from e2e.client import BASIC_AUTH, Client, session_login, token_login
from e2e.config import ROOT, log
from e2e.loadgen import WRK, LoadResult, run_throughput
from e2e.measure import (
    Result,
    check_metrics,
    measure_workload,
)
from e2e.report import machine, render
from e2e.schema_scale import SchemaScale
from e2e.schema_scale import measure as measure_schema_scale
from e2e.sections import kept_section
from e2e.stack import (
    Server,
    ensure_database,
    ensure_dataset,
    free_port,
    gunicorn,
    manage,
    spread_connections,
    wait_ready,
    worker_peak_rss_mb,
    worker_pids,
)
from e2e.targets import measure_compile, targets_section
from e2e.workloads import WORKLOADS

WORKERS = 2  # gunicorn workers, as issue #7 asks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=None, help="dataset size (1000000)")
    parser.add_argument("--quick", action="store_true", help="100k orders, few repetitions")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="default: .../prismiq_bench (--quick: .../prismiq_bench_quick, so the 1M-order "
        "database is never reloaded with 100k orders)",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per measurement")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (throughput)")
    parser.add_argument(
        "--auth",
        choices=("jwt", "session"),
        default="jwt",
        help="how the measured requests authenticate: a bearer token verified in memory "
        "(default) or Django's session cookie; the throughput section measures both",
    )
    parser.add_argument(
        "--workloads",
        default="",
        help="comma-separated workload names to measure (default: all of them)",
    )
    parser.add_argument(
        "--worker-class", choices=("sync", "gthread"), default="gthread", help="gunicorn workers"
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per throughput measurement (10)"
    )
    parser.add_argument(
        "--compare-servers",
        action="store_true",
        help="repeat the throughput measurements under the other gunicorn worker class",
    )
    parser.add_argument(
        "--no-wrk", action="store_true", help="use the Python load client even when wrk exists"
    )
    parser.add_argument(
        "--throughput-only", action="store_true", help="skip the per-workload latency table"
    )
    parser.add_argument(
        "--reload", action="store_true", help="reload the dataset even when the counts match"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument(
        "--schema-tables", type=int, default=1000, help="GET schema at this many tables (0: skip)"
    )
    args = parser.parse_args(argv)
    args.orders = args.orders or (100_000 if args.quick else 1_000_000)
    if not args.database_url:
        name = "prismiq_bench_quick" if args.quick else "prismiq_bench"
        args.database_url = f"postgres://postgres@127.0.0.1:5432/{name}"
    repeat = args.repeat or (5 if args.quick else 15)
    duration = args.duration or (3.0 if args.quick else 10.0)
    if args.orders < 1 or repeat < 1 or not 1 <= args.clients <= 64:
        parser.error("--orders and --repeat must be >= 1, --clients between 1 and 64")
    if not 1 <= args.threads <= 32 or not 1 <= duration <= 120:
        parser.error("--threads must be between 1 and 32, --duration between 1 and 120 s")
    threads = args.threads if args.worker_class == "gthread" else 1
    known = {workload.name for workload in WORKLOADS}
    chosen = [name for name in args.workloads.split(",") if name]
    if unknown := sorted(set(chosen) - known):
        parser.error(f"unknown workloads {unknown}; known: {sorted(known)}")
    workloads = [w for w in WORKLOADS if not chosen or w.name in chosen]

    def server(worker_class: str, threads: int) -> Server:
        if worker_class != "gthread":
            return Server(worker_class, threads)
        cap = spread_connections(args.clients, WORKERS, threads)
        return Server(worker_class, threads, worker_connections=cap)

    servers = [server(args.worker_class, threads)]
    if args.compare_servers:
        other = ("sync", 1) if args.worker_class == "gthread" else ("gthread", 2)
        servers.append(server(*other))
    use_wrk = not args.no_wrk
    if use_wrk and WRK is None:
        log("wrk is not installed (make bench-tools): using the Python load client")
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
        # The example refuses its public built-in key without DEBUG (it signs the tokens).
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        # The example's access tokens live 5 minutes; one token serves a whole phase here.
        "DJANGO_JWT_ACCESS_MINUTES": "120",
    }
    problems: list[str] = []
    results: list[Result] = []
    throughput: list[LoadResult] = []
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
        access_log = AccessLog(metrics_dir / "access.log")
        top10 = next(w for w in WORKLOADS if w.name == "top10_customers").definition
        assert top10 is not None
        connections = sorted({1, args.clients})
        with gunicorn(
            env, port, WORKERS, log_path, server=servers[0], access_log=access_log.path
        ) as master:
            try:
                wait_ready(port)
            except RuntimeError:
                log("gunicorn log:\n" + log_path.read_text()[-3000:] if log_path.exists() else "")
                raise
            log(f"gunicorn ({servers[0].label}) ready on 127.0.0.1:{port} (master pid {master})")
            session = session_login(port)
            auth = token_login(port) if args.auth == "jwt" else session
            clients = {
                "default": Client(port, auth),
                "session": Client(port, session),
                "basic": Client(port, BASIC_AUTH),
            }
            try:
                for workload in [] if args.throughput_only else workloads:
                    log(f"measuring {workload.name}")
                    client = clients[workload.auth]
                    result = measure_workload(client, dsn, workload, repeat, access_log)
                    results.append(result)
                    for note in result.notes:
                        problems.append(f"{workload.name}: {note}")
            finally:
                for client in clients.values():
                    client.close()
            log(f"throughput at {connections} connections, {duration:.0f} s each")
            throughput += run_throughput(
                port,
                {master, *worker_pids(master)},
                auth,
                top10,
                access_log,
                connections,
                duration,
                server=servers[0].label,
                database=urlsplit(dsn).path.lstrip("/"),
                use_wrk=use_wrk,
                session=session if args.auth == "jwt" else None,
            )
            rss = worker_peak_rss_mb(master)
            metrics_client = Client(port, auth)
            try:
                summary = check_metrics(metrics_client)
            except Exception as exc:
                summary = f"problem: metrics: {exc}"
            finally:
                metrics_client.close()
            (problems if summary.startswith("problem") else checks).append(summary)
        for server in servers[1:]:
            port = free_port()
            access_log = AccessLog(metrics_dir / f"access-{server.worker_class}.log")
            with gunicorn(
                env, port, WORKERS, log_path, server=server, access_log=access_log.path
            ) as master:
                wait_ready(port)
                log(f"throughput under gunicorn {server.label}")
                throughput += run_throughput(
                    port,
                    {master, *worker_pids(master)},
                    token_login(port) if args.auth == "jwt" else session_login(port),
                    top10,
                    access_log,
                    connections,
                    duration,
                    server=server.label,
                    database=urlsplit(dsn).path.lstrip("/"),
                    use_wrk=use_wrk,
                )
        problems += [
            f"throughput {tp.target} x{tp.connections} ({tp.server}): {tp.note}"
            for tp in throughput
            if tp.note
        ]
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    report = render(
        args, info, counts, load, results, throughput, rss, checks, problems, servers=servers
    )
    scale: SchemaScale | None = None
    if args.schema_tables:  # its own database, gunicorn and section (e2e/schema_scale.py)
        log(f"measuring GET schema with {args.schema_tables} exposed tables")
        scale = measure_schema_scale(
            args.database_url, args.redis_url, tables=args.schema_tables, repeat=repeat
        )
        report += scale.markdown()
    log("measuring parse + compile of the top-10 definition (in process)")
    report += targets_section(results, throughput, measure_compile(top10), scale, rss)
    args.output.write_text(report + kept_section(args.output))  # the MariaDB run's section
    log(f"wrote {args.output}")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
