"""Timings: raw psycopg vs HTTP (uncached and cached) per workload, client and server side."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from e2e.accesslog import AccessLog
from e2e.client import Client
from e2e.workloads import Workload


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
    # The same HTTP requests as the server saw them: gunicorn's request time (access log) and
    # the app's Server-Timing (Django inside RequestIdMiddleware).
    uncached_server: Timings = field(default_factory=Timings)
    uncached_app: Timings = field(default_factory=Timings)
    cached_server: Timings = field(default_factory=Timings)
    cached_app: Timings = field(default_factory=Timings)
    response_bytes: int | None = None
    notes: list[str] = field(default_factory=list)


class Probe:
    """One measured operation: a call returning ``(ok, rows or None, payload bytes)``."""

    def __init__(
        self, timings: Timings, call: Callable[[], tuple[bool, int | None, bytes]]
    ) -> None:
        self.timings = timings
        self.call = call
        self.rows: set[int] = set()
        self.last = b""

    def run(self, measured: bool) -> None:
        if self.timings.error:
            return
        started = time.perf_counter()
        ok, rows, payload = self.call()
        elapsed = time.perf_counter() - started
        if not ok:
            self.timings.error = payload[:200].decode(errors="replace")
            return
        if rows is not None:
            self.rows.add(rows)
        self.last = payload
        if measured:
            self.timings.samples.append(elapsed)


def interleave(probes: list[Probe], repeat: int, budget_s: float) -> None:
    """One unmeasured warm-up each, then rounds of one call per probe.

    Interleaving puts the same background load on every probe, so the ratios between them stay
    meaningful on a busy machine. Stops after ``repeat`` rounds, or after ``budget_s`` once three
    rounds are done.
    """
    for probe in probes:
        probe.run(measured=False)
    deadline = time.monotonic() + budget_s
    for index in range(repeat):
        for probe in probes:
            probe.run(measured=True)
        if index >= 2 and time.monotonic() > deadline:
            return


def raw_probe(
    conn: psycopg.Connection[Any], timings: Timings, sql: str, params: list[Any]
) -> Probe:
    """Execute ``sql`` and fetch every row, in a transaction that is rolled back."""

    def call() -> tuple[bool, int | None, bytes]:
        with conn.cursor() as cursor:
            cursor.execute(sql.encode(), params)  # the app's compiled SQL, %s placeholders
            count = len(cursor.fetchall())
        conn.rollback()
        return True, count, b""

    return Probe(timings, call)


class HttpProbe(Probe):
    """An HTTP request tagged ``<tag>-m<n>`` (measured) or ``<tag>-w<n>`` (warm-up) in
    ``X-Request-ID``, collecting the answer's ``Server-Timing`` app time into ``app``."""

    def __init__(
        self,
        client: Client,
        timings: Timings,
        app: Timings,
        tag: str,
        call: Callable[[], tuple[bool, int | None, bytes]],
    ) -> None:
        super().__init__(timings, call)
        self.client = client
        self.app = app
        self.tag = tag
        self.count = 0

    def run(self, measured: bool) -> None:
        self.count += 1
        self.client.request_id = f"{self.tag}-{'m' if measured else 'w'}{self.count}"
        before = len(self.timings.samples)
        try:
            super().run(measured)
        finally:
            self.client.request_id = None
        if len(self.timings.samples) > before and self.client.last_app_ms is not None:
            self.app.samples.append(self.client.last_app_ms / 1000)


def http_probe(
    client: Client,
    timings: Timings,
    method: str,
    path: str,
    body: object,
    app: Timings | None = None,
    tag: str = "probe",
) -> Probe:
    def call() -> tuple[bool, int | None, bytes]:
        status, data = client.request(method, path, body)
        return status == 200, None, data if status == 200 else f"HTTP {status}".encode()

    return HttpProbe(client, timings, Timings() if app is None else app, tag, call)


def measure_workload(
    client: Client,
    dsn: str,
    workload: Workload,
    repeat: int,
    access_log: AccessLog | None = None,
) -> Result:
    """Raw database, HTTP uncached and HTTP cached timings of one workload, interleaved.

    With ``access_log`` (gunicorn's), the server-side times of the measured HTTP requests are
    filled in too (``*_server``); the app times (``*_app``) come from ``Server-Timing``.
    """
    result = Result(workload)
    start = access_log.offset() if access_log is not None else 0
    times = max(3, round(repeat * workload.repeat_scale))
    # Django's psycopg backend binds parameters on the client by default; so does this cursor,
    # so that PostgreSQL plans the very statement the app sends.
    try:
        with psycopg.connect(dsn, cursor_factory=psycopg.ClientCursor) as conn:
            probes: list[Probe] = []
            definition = workload.definition or workload.raw_definition
            if definition is not None:
                compiled = client.json("POST", "query/sql", definition)
                raw = raw_probe(conn, result.raw, compiled["sql"], compiled["params"])
                probes.append(raw)
            kinds = {
                "uncached": (result.uncached, result.uncached_app, result.uncached_server),
                "cached": (result.cached, result.cached_app, result.cached_server),
            }
            if workload.definition is not None:
                for kind in ("uncached", "cached"):
                    timings, app, _ = kinds[kind]
                    body = {"query": workload.definition, "bypass_cache": kind == "uncached"}
                    tag = f"wl.{workload.name}.{kind}"
                    probes.append(
                        http_probe(client, timings, "POST", "query/execute", body, app, tag)
                    )
            else:
                assert workload.path is not None
                # A GET answered through the query engine is cached after its warm-up call.
                kind = "cached" if workload.raw_definition else "uncached"
                timings, app, _ = kinds[kind]
                tag = f"wl.{workload.name}.{kind}"
                probes.append(http_probe(client, timings, "GET", workload.path, None, app, tag))
            interleave(probes, times, budget_s=120.0)
        _check(result, probes)
        if access_log is not None:
            for kind, (_, _, server) in kinds.items():
                found = access_log.times(start, f"wl.{workload.name}.{kind}-m", settle_s=0.1)
                server.samples.extend(found.gunicorn)
    except Exception as exc:  # one failing workload must not stop the run
        result.notes.append(f"not measured: {type(exc).__name__}: {str(exc)[:200]}")
    return result


def _check(result: Result, probes: list[Probe]) -> None:
    """Fill ``rows``/``response_bytes`` from the answers and note anything inconsistent."""
    answer = probes[-1].last
    result.response_bytes = len(answer) if answer else None
    if not answer:
        return
    body = json.loads(answer)
    if isinstance(body, dict) and "row_count" in body:
        result.rows = int(body["row_count"])
        if not body.get("is_from_cache"):
            result.notes.append("the cached request did not report is_from_cache")
    elif isinstance(body, dict) and isinstance(body.get("values"), list):
        result.rows = len(body["values"])
    raw_rows = probes[0].rows if result.raw.samples else set()
    if len(raw_rows) > 1:
        result.notes.append(f"raw row counts differ between runs: {sorted(raw_rows)}")
    # The compiled LIMIT is the cap + 1 (to detect truncation): one extra raw row is expected.
    if raw_rows and result.rows is not None and not raw_rows <= {result.rows, result.rows + 1}:
        result.notes.append(f"raw rows {sorted(raw_rows)} != API row_count {result.rows}")


def check_metrics(client: Client) -> str:
    """Read ``metrics`` (as the staff demo user) and summarise ``prismiq_queries_total``.

    With several gunicorn workers the counter must aggregate every worker's queries (the
    Prometheus multi-process mode); a zero total after the run means it does not.
    """
    status, data = client.request("GET", "metrics")
    if status != 200:
        return f"problem: GET metrics answered HTTP {status}"
    total = 0.0
    series = 0
    for line in data.decode().splitlines():
        if line.startswith("prismiq_queries_total{"):
            series += 1
            total += float(line.rsplit(" ", 1)[1])
    if not total:
        return "problem: metrics show no prismiq_queries_total after the run"
    return f"`metrics`: prismiq_queries_total = {total:.0f} over {series} series (all workers)"
