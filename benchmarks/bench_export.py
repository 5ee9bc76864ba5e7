"""Export benchmark (issue 18): CSV of 1,000,000 orders over HTTP vs psql, and an XLSX.

``.venv/bin/python benchmarks/bench_export.py [--rows 1000000] [--xlsx-rows 100000] [--rounds 3]``

Uses the benchmark database of ``run.py`` (``prismiq_bench``, 1,000,000 orders, loaded when
missing), starts the example project under gunicorn with one worker (gthread, 2 threads) on the
loopback interface, and measures (``e2e/exports.py``) the CSV export against ``psql \\copy`` of
the same SELECT, interleaved, with the worker's peak RSS growth, then the XLSX export. The
section replaces the ``## Exports`` section of ``benchmarks/RESULTS.md`` (``--output``), or is
appended to it.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from e2e.client import token_login
from e2e.config import ROOT, log
from e2e.exports import measure
from e2e.stack import (
    Server,
    ensure_database,
    ensure_dataset,
    free_port,
    gunicorn,
    manage,
    wait_ready,
    worker_pids,
)

#: Prints the COPY statement the CSV export runs, its parameters inlined (run in the site).
COPY_STATEMENT = """
import sys
sys.path.insert(0, "benchmarks")
from psycopg import ClientCursor
from django.db import connection
from prismiq_django.query.csvrows import csv_copy_sql
from prismiq_django.services.exports import prepare
from e2e.exports import ORDERS_LISTING
_, query, compiled = prepare(None, {**ORDERS_LISTING, "limit": ROWS})
sql = csv_copy_sql(query, compiled.sql, escape_formulas=True)
connection.ensure_connection()
print(ClientCursor(connection.connection).mogrify(sql, [*compiled.params, compiled.limit]))
"""

SECTION = re.compile(r"\n## Exports \(issue 18\)\n.*?(?=\n## |\Z)", re.DOTALL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="orders in the CSV export")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="rows of the XLSX (0: skip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prismiq_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 1_000_000 or not 0 <= args.xlsx_rows <= args.rows:
        parser.error("--rows must be 1..1000000 and --xlsx-rows 0..--rows")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be 1..20")
    for url in (args.database_url, args.redis_url):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error("only loopback services are allowed")
    dsn = args.database_url.replace("postgres://", "postgresql://", 1)
    ensure_database(dsn)
    scratch = Path(tempfile.mkdtemp(prefix="prismiq-bench-export-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "PROMETHEUS_MULTIPROC_DIR": str(scratch),
        # query/sql compiles with MAX_ROWS: the psql side gets the export's very statement.
        "PRISMIQ_MAX_ROWS": str(args.rows),
        "PRISMIQ_RATE_LIMIT": "off",
        "PRISMIQ_EXPORT_RATE_LIMIT": "off",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_JWT_ACCESS_MINUTES": "120",
    }
    try:
        manage(env, "migrate", "--noinput", "-v0")
        # The dataset of run.py (1,000,000 orders): loaded only when missing.
        ensure_dataset(env, dsn, 1_000_000)
        copy_statement = (
            manage(env, "shell", "-c", COPY_STATEMENT.replace("ROWS", str(args.rows)))
            .strip()
            .splitlines()[-1]
        )
        port = free_port()
        server = Server("gthread", 2)
        with gunicorn(env, port, 1, scratch / "gunicorn.log", server=server) as master:
            wait_ready(port)
            workers = worker_pids(master)
            log(f"gunicorn ready on 127.0.0.1:{port}, worker {workers}")
            bench = measure(
                port,
                token_login(port),
                dsn,
                workers[0] if workers else None,
                rows=args.rows,
                xlsx_rows=args.xlsx_rows,
                rounds=args.rounds,
                copy_statement=copy_statement if copy_statement.startswith("COPY (") else None,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    section = bench.markdown()
    text = args.output.read_text() if args.output.exists() else ""
    text = SECTION.sub(lambda _: "\n" + section.strip("\n") + "\n", text, count=1)
    if "## Exports (issue 18)" not in text:
        text = text.rstrip("\n") + "\n" + section
    args.output.write_text(text)
    log(f"wrote {args.output}")
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
