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
import base64
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
API = "/api/analytics/"
END_DATE = "2026-01-01"  # a fixed end date: the same dataset on every run
LOADER_CUSTOMERS_PER_ORDER = 10  # load_demo_data's default: customers = orders / 10


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Workloads


@dataclass(frozen=True, slots=True)
class Workload:
    """One measured request. ``definition`` goes through the query API; ``path`` is a GET."""

    name: str
    description: str
    definition: dict[str, Any] | None = None
    path: str | None = None
    # For a GET answered through the query engine: the equivalent definition, whose compiled SQL
    # (from query/sql) is the raw side; the GET itself is then timed as a cached request.
    raw_definition: dict[str, Any] | None = None
    repeat_scale: float = 1.0  # fewer repetitions for the big listings
    basic_auth: bool = False  # HTTP Basic instead of the session cookie


def _col(table: str, column: str, **extra: Any) -> dict[str, Any]:
    return {"table_id": table, "column": column, **extra}


ORDERS_JOIN_CUSTOMERS = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
}
PAID = {"table_id": "o", "column": "status", "operator": "in_", "value": ["paid", "shipped"]}
LISTING_COLUMNS = [
    _col("o", name) for name in ("id", "customer_id", "status", "ordered_at", "shipped_on", "total")
]

WORKLOADS = (
    Workload(
        "monthly_revenue",
        "revenue and order count per month (date_trunc) over orders JOIN customers, paid/shipped",
        definition={
            **ORDERS_JOIN_CUSTOMERS,
            "columns": [
                _col("o", "ordered_at", date_trunc="month", alias="month"),
                _col("o", "total", aggregation="sum", alias="revenue"),
                _col("o", "id", aggregation="count", alias="orders"),
            ],
            "filters": [PAID],
            "order_by": [{"alias": "month", "direction": "ASC"}],
        },
    ),
    Workload(
        "top10_customers",
        "top 10 active customers by revenue since 2025-01-01 in 5 countries (JOIN, filters)",
        definition={
            **ORDERS_JOIN_CUSTOMERS,
            "columns": [
                _col("c", "id"),
                _col("c", "name"),
                _col("c", "country"),
                _col("o", "total", aggregation="sum", alias="revenue"),
                _col("o", "id", aggregation="count", alias="orders"),
            ],
            "filters": [
                PAID,
                {"table_id": "c", "column": "is_active", "operator": "eq", "value": True},
                {
                    "table_id": "c",
                    "column": "country",
                    "operator": "in_",
                    "value": ["US", "GB", "DE", "FR", "JP"],
                },
                {"table_id": "o", "column": "ordered_at", "operator": "gte", "value": "2025-01-01"},
            ],
            "order_by": [{"alias": "revenue", "direction": "DESC"}],
            "limit": 10,
        },
    ),
    Workload(
        "listing_10k",
        "10,000-row raw listing of orders (6 columns, ORDER BY id)",
        definition={
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": LISTING_COLUMNS,
            "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
            "limit": 10_000,
        },
        repeat_scale=0.6,
    ),
    Workload(
        "listing_100k",
        "100,000-row raw listing of orders (6 columns; PRISMIQ_MAX_ROWS raised to 100000)",
        definition={
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": LISTING_COLUMNS,
            "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
            "limit": 100_000,
        },
        repeat_scale=0.3,
    ),
    Workload(
        "count",
        "single-row COUNT(*) of orders",
        definition={
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [_col("o", "*", aggregation="count", alias="orders")],
        },
    ),
    Workload(
        "column_values",
        "GET tables/shop_customer/columns/city/values (distinct values, limit 100)",
        path="tables/shop_customer/columns/city/values",
        raw_definition={
            "tables": [{"id": "t", "name": "shop_customer"}],
            "columns": [_col("t", "city")],
            "filters": [{**_col("t", "city"), "operator": "is_not_null", "value": None}],
            "group_by": [_col("t", "city")],
            "order_by": [{**_col("t", "city"), "direction": "ASC"}],
            "limit": 100,
        },
    ),
    Workload("schema", "GET schema (4 exposed tables, cached catalog)", path="schema"),
    Workload("tables", "GET tables (session cookie, like every row above)", path="tables"),
    Workload(
        "tables_basic_auth",
        "GET tables with HTTP Basic auth: Django hashes the password on every request",
        path="tables",
        basic_auth=True,
    ),
    Workload(
        "health_live", "GET health/live (floor: Django + gunicorn, no database)", path="health/live"
    ),
)


# --------------------------------------------------------------------------------------------
# Measurements


@dataclass(slots=True)
class Timings:
    """Seconds of the repetitions of one measurement (or why there are none)."""

    samples: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples) * 1000 if self.samples else None

    @property
    def p95_ms(self) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        rank = (95 * len(ordered) + 99) // 100  # nearest rank: ceil(0.95 n), 1-based
        return ordered[rank - 1] * 1000


@dataclass(slots=True)
class Result:
    workload: Workload
    rows: int | None = None
    raw: Timings = field(default_factory=Timings)
    uncached: Timings = field(default_factory=Timings)
    cached: Timings = field(default_factory=Timings)
    response_bytes: int | None = None
    notes: list[str] = field(default_factory=list)


def timed(
    function: Callable[[], Any], repeat: int, budget_s: float, warmup: int = 1
) -> Iterator[tuple[float, Any]]:
    """Call ``function`` ``warmup`` times unmeasured, then ``repeat`` times or for ``budget_s``."""
    for _ in range(warmup):
        function()
    deadline = time.monotonic() + budget_s
    for index in range(repeat):
        started = time.perf_counter()
        value = function()
        yield time.perf_counter() - started, value
        if index >= 2 and time.monotonic() > deadline:
            return


class Client:
    """A keep-alive HTTP/1.1 client for the loopback server (one per thread).

    ``auth`` holds the authentication headers: a session cookie with its CSRF token (what a
    browser front end sends; see :func:`session_login`) or HTTP Basic.
    """

    def __init__(self, port: int, auth: dict[str, str]) -> None:
        self.port = port
        self.auth = auth
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {**self.auth, "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):  # one retry when the server closed an idle connection
            try:
                self.conn.request(method, API + path, body=payload, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: object = None) -> Any:
        status, data = self.request(method, path, body)
        if status != 200:
            raise RuntimeError(f"{method} {path} answered HTTP {status}: {data[:200]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


BASIC_AUTH = {"Authorization": "Basic " + base64.b64encode(b"demo:demo").decode()}


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def session_login(port: int) -> dict[str, str]:
    """Log ``demo`` in through DRF's login view; return the session + CSRF headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/api-auth/login/")
        response = conn.getresponse()
        page = response.read().decode()
        cookies = _cookies(response)
        marker = 'name="csrfmiddlewaretoken" value="'
        token = page[page.index(marker) + len(marker) :].split('"', 1)[0]
        form = urlencode({"username": "demo", "password": "demo", "csrfmiddlewaretoken": token})
        conn.request(
            "POST",
            "/api-auth/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        response = conn.getresponse()
        response.read()
        cookies.update(_cookies(response))
    finally:
        conn.close()
    if "sessionid" not in cookies:
        raise RuntimeError(f"session login failed (HTTP {response.status})")
    return {
        "Cookie": f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
        "X-CSRFToken": cookies["csrftoken"],
    }


def measure_raw(dsn: str, sql: str, params: list[Any], repeat: int, budget: float) -> Timings:
    """Execute ``sql`` with psycopg and fetch every row, in a transaction rolled back each time."""
    timings = Timings()
    # Django's psycopg backend binds parameters on the client by default; so does this cursor,
    # so that PostgreSQL plans the very statement the app sends.
    with psycopg.connect(dsn, cursor_factory=psycopg.ClientCursor) as conn:

        def run() -> int:
            with conn.cursor() as cursor:
                cursor.execute(sql.encode(), params)  # the app's compiled SQL, %s placeholders
                count = len(cursor.fetchall())
            conn.rollback()
            return count

        rows = set()
        for seconds, count in timed(run, repeat, budget):
            timings.samples.append(seconds)
            rows.add(count)
    if len(rows) > 1:
        timings.error = f"row counts differ between runs: {sorted(rows)}"
    return timings


def measure_workload(client: Client, dsn: str, workload: Workload, repeat: int) -> Result:
    result = Result(workload)
    times = max(3, round(repeat * workload.repeat_scale))
    budget = 120.0
    try:
        if workload.definition is not None:
            compiled = client.json("POST", "query/sql", workload.definition)
            result.raw = measure_raw(dsn, compiled["sql"], compiled["params"], times, budget)
            for cached, timings in ((False, result.uncached), (True, result.cached)):
                body = {"query": workload.definition, "bypass_cache": not cached}
                first = client.json("POST", "query/execute", body)  # warms the cache
                result.rows = int(first["row_count"])
                for seconds, (status, data) in timed(
                    lambda body=body: client.request("POST", "query/execute", body),  # type: ignore[misc]
                    times,
                    budget,
                    warmup=0,
                ):
                    if status != 200:
                        timings.error = f"HTTP {status}"
                        break
                    timings.samples.append(seconds)
                    result.response_bytes = len(data)
                if cached and timings.samples:
                    last = json.loads(data)
                    if not last.get("is_from_cache"):
                        result.notes.append("cached run did not report is_from_cache")
            # The compiled LIMIT is the cap + 1 (to detect truncation): one extra raw row is fine.
            raw_rows = _raw_row_count(dsn, compiled["sql"], compiled["params"])
            if raw_rows not in (result.rows, (result.rows or 0) + 1):
                result.notes.append(f"raw rows {raw_rows} != API row_count {result.rows}")
        else:
            assert workload.path is not None
            path = workload.path
            timings = result.uncached
            if workload.raw_definition is not None:
                compiled = client.json("POST", "query/sql", workload.raw_definition)
                result.raw = measure_raw(dsn, compiled["sql"], compiled["params"], times, budget)
                timings = result.cached  # the warm-up request fills the result cache
            for seconds, (status, data) in timed(
                lambda: client.request("GET", path), times, budget
            ):
                if status != 200:
                    timings.error = f"HTTP {status}"
                    break
                timings.samples.append(seconds)
                result.response_bytes = len(data)
            if workload.path.endswith("/values") and timings.samples:
                result.rows = len(json.loads(data)["values"])
    except Exception as exc:  # one failing workload must not stop the run
        result.notes.append(f"not measured: {type(exc).__name__}: {str(exc)[:200]}")
    return result


def _raw_row_count(dsn: str, sql: str, params: list[Any]) -> int:
    with (
        psycopg.connect(dsn, cursor_factory=psycopg.ClientCursor) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute(sql.encode(), params)
        return len(cursor.fetchall())


@dataclass(slots=True)
class Throughput:
    clients: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: Timings = field(default_factory=Timings)
    note: str | None = None


def measure_throughput(
    port: int, auth: dict[str, str], definition: dict[str, Any], clients: int, total: int
) -> Throughput:
    """``clients`` threads share ``total`` cached requests (and a 60 s budget)."""
    result = Throughput(clients)
    lock = threading.Lock()
    remaining = [total]
    deadline = time.monotonic() + 60.0
    body = {"query": definition}

    def worker() -> None:
        client = Client(port, auth)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                started = time.perf_counter()
                try:
                    status, _ = client.request("POST", "query/execute", body)
                except OSError:
                    status = 0
                elapsed = time.perf_counter() - started
                with lock:
                    if status == 200:
                        result.requests += 1
                        result.latencies.samples.append(elapsed)
                    else:
                        result.errors += 1
        finally:
            client.close()

    warm = Client(port, auth)
    warm.json("POST", "query/execute", body)  # warm the cache
    warm.close()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------------------------
# Database, dataset and server


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


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True)


def shop_counts(dsn: str) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM shop_order), (SELECT count(*) FROM shop_customer)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def ensure_dataset(env: dict[str, str], dsn: str, orders: int) -> float | None:
    """Load ``orders`` orders unless they are there; return the load time (None if skipped)."""
    customers = max(100, orders // LOADER_CUSTOMERS_PER_ORDER)
    arguments = ["load_demo_data", f"--orders={orders}", f"--end-date={END_DATE}"]
    if shop_counts(dsn) == (orders, customers):
        log(f"dataset of {orders} orders already loaded; exposing tables and demo user only")
        manage(env, *arguments)
        return None
    log(f"loading {orders} orders (load_demo_data --reset)")
    started = time.perf_counter()
    manage(env, *arguments, "--reset")
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log_path: Path) -> Iterator[int]:
    """Run the example project under gunicorn on 127.0.0.1; always stopped on exit."""
    command = [
        PYTHON, "-m", "gunicorn", "example_project.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "300",
        "--access-logfile", "/dev/null", "--error-logfile", str(log_path),
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


def worker_peak_rss_mb(master: int) -> list[float]:
    """VmHWM (peak resident set) of each gunicorn worker, in MiB."""
    peaks = []
    children = Path(f"/proc/{master}/task/{master}/children")
    for pid in children.read_text().split() if children.exists() else []:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks


# --------------------------------------------------------------------------------------------
# Report


def machine(dsn: str) -> dict[str, str]:
    info = {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "load_before": " / ".join(f"{value:.2f}" for value in os.getloadavg()),
    }
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            info["cpu"] = line.split(":", 1)[1].strip()
            break
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        info["postgresql"] = str(row[0]) if row else "?"
    info["django"] = metadata.version("django")
    info["gunicorn"] = metadata.version("gunicorn")
    info["psycopg"] = psycopg.__version__
    return info


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def _ratio(http_ms: float | None, raw_ms: float | None) -> str:
    if http_ms is None or raw_ms is None or raw_ms <= 0:
        return "-"
    return f"{http_ms / raw_ms:.2f}x"


def render(
    args: argparse.Namespace,
    info: dict[str, str],
    counts: dict[str, int],
    load_seconds: float | None,
    results: list[Result],
    throughput: list[Throughput],
    rss: list[float],
    problems: list[str],
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `benchmarks/run.py{' --quick' if args.quick else ''} --orders {args.orders}`"
        f" on {now}. See `benchmarks/README.md` for what is measured and how.",
        "",
        "## Machine",
        "",
        f"- CPU: {info.get('cpu', '?')}, {info['nproc']} cores (`nproc`), shared by the client, "
        "gunicorn, PostgreSQL and Redis",
        f"- Memory: {info.get('memory', '?')}",
        f"- PostgreSQL {info['postgresql']}, Python {info['python']}, Django {info['django']}, "
        f"gunicorn {info['gunicorn']} (2 sync workers), psycopg {info['psycopg']}, Redis cache",
        f"- Load average (1/5/15 min) before the measurements: {info['load_before']}; after: "
        + " / ".join(f"{value:.2f}" for value in os.getloadavg())
        + " (other processes on the machine add noise, mostly to the p95 values)",
        "",
        "## Dataset",
        "",
        f"{counts['orders']:,} orders, {counts['items']:,} order items, "
        f"{counts['customers']:,} customers, {counts['products']:,} products "
        f"(`load_demo_data --orders {args.orders} --end-date {END_DATE}`).",
    ]
    if load_seconds is not None:
        lines.append(
            f"Loading it took **{load_seconds:.1f} s** (`manage.py load_demo_data --reset`, "
            "including Django start-up, exposure and the demo user)."
        )
    else:
        lines.append("It was already loaded; the load time was not measured in this run.")
    lines += [
        "",
        "## Latency per workload",
        "",
        "Times in milliseconds, measured by the client on the same machine: **raw DB** = psycopg "
        "executing the SQL the app compiles (from `query/sql`) and fetching every row; **HTTP** "
        "= the whole request through gunicorn + Django + DRF + prismiq_django, response body read; "
        "uncached = `bypass_cache: true`. p95 is nearest-rank over the repetitions shown.",
        "",
        "| workload | rows | n | raw DB median / p95 | HTTP uncached median / p95 | "
        "uncached ÷ raw | HTTP cached median / p95 | cached ÷ raw | response |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        raw, unc, cac = result.raw, result.uncached, result.cached
        size = "-" if result.response_bytes is None else f"{result.response_bytes / 1024:.0f} KiB"
        lines.append(
            f"| `{result.workload.name}` | {'-' if result.rows is None else f'{result.rows:,}'} "
            f"| {len(unc.samples) or len(cac.samples) or len(raw.samples)} "
            f"| {_ms(raw.median_ms)} / {_ms(raw.p95_ms)} "
            f"| {_ms(unc.median_ms)} / {_ms(unc.p95_ms)} | {_ratio(unc.median_ms, raw.median_ms)} "
            f"| {_ms(cac.median_ms)} / {_ms(cac.p95_ms)} | {_ratio(cac.median_ms, raw.median_ms)} "
            f"| {size} |"
        )
    lines += ["", "Workloads:", ""]
    for result in results:
        note = "".join(f" **Note:** {n}." for n in result.notes)
        for timings in (result.raw, result.uncached, result.cached):
            if timings.error:
                note += f" **Error:** {timings.error}."
        lines.append(f"- `{result.workload.name}`: {result.workload.description}.{note}")
    lines += ["", "## Cache-hit throughput", ""]
    for tp in throughput:
        rate = tp.requests / tp.seconds if tp.seconds else 0.0
        lines.append(
            f"- {tp.clients} concurrent keep-alive clients, `top10_customers` served from the "
            f"Redis result cache: **{rate:.0f} requests/s** ({tp.requests} requests in "
            f"{tp.seconds:.1f} s, {tp.errors} errors; latency median "
            f"{_ms(tp.latencies.median_ms)} ms, p95 {_ms(tp.latencies.p95_ms)} ms)."
        )
    if not throughput:
        lines.append("- Not measured (see problems below).")
    lines += ["", "## Memory", ""]
    if rss:
        lines.append(
            "- Peak RSS (VmHWM) of the gunicorn workers after the whole run: "
            + ", ".join(f"{value:.0f} MiB" for value in sorted(rss, reverse=True))
            + " (the 100,000-row listing dominates)."
        )
    else:
        lines.append("- Not measured.")
    if problems:
        lines += ["", "## Problems in this run", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Main


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
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args(argv)
    args.orders = args.orders or (100_000 if args.quick else 1_000_000)
    repeat = args.repeat or (5 if args.quick else 15)
    throughput_requests = 300 if args.quick else 2_000
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
    try:
        manage(env, "migrate", "--noinput", "-v0")
        load_seconds = ensure_dataset(env, dsn, args.orders)
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
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    report = render(args, info, counts, load_seconds, results, throughput, rss, problems)
    args.output.write_text(report)
    log(f"wrote {args.output}")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
