"""Structured logs and Prometheus metrics.

Logging: every log line prismiq_django emits is a plain ``logging`` record with its fields passed
through ``extra=``; :class:`JsonFormatter` renders such a record as one JSON object per line (see
``docs/operations.md`` for a ``LOGGING`` example). The request id of the request being served (set
by :class:`prismiq_django.middleware.RequestIdMiddleware`) is added to every record emitted while
the request runs.

Metrics: the metric objects below are the only ones the app defines. They live in their own
:class:`~prometheus_client.CollectorRegistry` (:data:`REGISTRY`) so that importing the app never
touches the global registry. When the environment variable ``PROMETHEUS_MULTIPROC_DIR`` is set
*before the process starts* (gunicorn with several workers), prometheus-client writes every value
to memory-mapped files in that directory and :func:`render_metrics` aggregates all workers.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import logging
import os
import time
import traceback
from datetime import UTC, datetime
from typing import Any, Final, Literal

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

#: Monotonic time at which this process loaded the app; ``health`` reports the uptime from it.
PROCESS_STARTED: Final[float] = time.monotonic()

#: The request id of the request this thread/task is serving (None outside a request).
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "prismiq_request_id", default=None
)

query_logger = logging.getLogger("prismiq_django.query")

# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------

#: Registry holding the app's metrics (single-process mode). Multi-process mode reads the
#: memory-mapped files instead, see :func:`render_metrics`.
REGISTRY: Final = CollectorRegistry(auto_describe=True)

QueryStatus = Literal["ok", "invalid", "timeout", "error", "unavailable", "aborted"]
CacheResult = Literal["hit", "miss", "bypass", "error"]

QUERIES: Final = Counter(
    "prismiq_queries_total",
    "Analytics queries executed, by outcome (ok, invalid, timeout, error, unavailable, aborted).",
    ["status"],
    registry=REGISTRY,
)
QUERY_DURATION: Final = Histogram(
    "prismiq_query_duration_seconds",
    "Wall time of one analytics query, cache lookups included.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
CACHE_REQUESTS: Final = Counter(
    "prismiq_cache_requests_total",
    "Result cache lookups, by result (hit, miss, bypass, error).",
    ["result"],
    registry=REGISTRY,
)
REQUESTS: Final = Counter(
    "prismiq_requests_total",
    "HTTP requests answered by the prismiq_django API, by URL name and status code.",
    ["endpoint", "status"],
    registry=REGISTRY,
)
REPLICA_LAG: Final = Gauge(
    "prismiq_replica_lag_seconds",
    "Replay lag of the analytics database when it is a streaming replica (0 when caught up); "
    "set when metrics are scraped.",
    multiprocess_mode="livemostrecent",
    registry=REGISTRY,
)
ROWS_RETURNED: Final = Histogram(
    "prismiq_rows_returned",
    "Rows returned by one analytics query.",
    buckets=(0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000),
    registry=REGISTRY,
)


def multiprocess_enabled() -> bool:
    """True when prometheus-client runs in multi-process mode (``PROMETHEUS_MULTIPROC_DIR``)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def render_metrics() -> tuple[bytes, str]:
    """Return ``(body, content_type)`` in the Prometheus text format.

    In multi-process mode the values of every worker that wrote to ``PROMETHEUS_MULTIPROC_DIR``
    are summed (counters, histograms); otherwise this process's :data:`REGISTRY` is rendered.
    """
    if multiprocess_enabled():
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


@functools.lru_cache(maxsize=2048)
def fingerprint(sql: str) -> str:
    """A short stable id of a statement's shape: 16 hex digits of SHA-256 of the SQL text
    (remembered for the last 2,048 statements: a cached hit repeats its statement).

    Parameter values are not part of it (and the SQL is never logged), so one fingerprint
    groups every execution of the same query definition shape.
    """
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


#: (metric, label values) -> the metric's child: every label here takes a bounded set of
#: values (outcomes, URL names, status codes), so each child is looked up in prometheus-client
#: (a lock, a validation) once per process.
_children: dict[tuple[object, ...], Any] = {}


def _child(metric: Any, *values: str) -> Any:
    key = (metric, *values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


def record_cache(result: CacheResult) -> None:
    """Count one result-cache lookup."""
    _child(CACHE_REQUESTS, result).inc()


def record_request(endpoint: str, status: int) -> None:
    """Count one API request (``endpoint`` is the URL name, a bounded set)."""
    _child(REQUESTS, endpoint, str(status)).inc()


def record_query(
    *,
    fingerprint: str,
    duration_s: float,
    rows: int,
    cache_hit: bool,
    status: str,
) -> None:
    """Record one analytics query: metrics and one ``prismiq_django.query`` log line.

    Called once per execution by ``services``. ``fingerprint`` identifies the statement (a hash,
    never the SQL text or parameter values); ``status`` is one of ``ok``, ``invalid``,
    ``timeout``, ``error``, ``unavailable``. Never raises.
    """
    try:
        _child(QUERIES, status).inc()
        QUERY_DURATION.observe(max(duration_s, 0.0))
        if status == "ok":
            ROWS_RETURNED.observe(max(rows, 0))
    except Exception:  # a metrics failure must never fail a query
        query_logger.exception("prismiq metrics update failed")
    if not query_logger.isEnabledFor(logging.INFO):  # the record is not built for nobody
        return
    query_logger.info(
        "query",
        extra={
            "event": "query",
            "fingerprint": fingerprint,
            "duration_ms": round(duration_s * 1000.0, 3),
            "rows": rows,
            "cache_hit": cache_hit,
            "status": status,
        },
    )


# --------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


def _default(value: object) -> Any:
    return str(value)


class JsonFormatter(logging.Formatter):
    """Render a log record as one line of JSON.

    Keys: ``ts`` (ISO 8601 UTC), ``level``, ``logger``, ``message``, ``request_id`` (when the
    record was emitted during a request), every field passed through ``extra=``, and ``exc``
    (the formatted traceback) when the record carries exception info. Values JSON cannot carry
    are rendered with ``str()``. Usable from ``LOGGING`` as ``"()":
    "prismiq_django.observability.JsonFormatter"``.
    """

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            payload["exc"] = record.exc_text
        return orjson.dumps(payload, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()


__all__ = [
    "CACHE_REQUESTS",
    "PROCESS_STARTED",
    "QUERIES",
    "QUERY_DURATION",
    "REGISTRY",
    "REPLICA_LAG",
    "REQUESTS",
    "ROWS_RETURNED",
    "CacheResult",
    "JsonFormatter",
    "QueryStatus",
    "current_request_id",
    "fingerprint",
    "multiprocess_enabled",
    "record_cache",
    "record_query",
    "record_request",
    "render_metrics",
]
