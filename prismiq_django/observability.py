"""Public path of the log formatter and metrics registry
(``"prismiq_django.observability.JsonFormatter"``, ``prismiq_django.observability.REGISTRY``).

Re-exports :mod:`prismiq_django.ops.observability`.
"""

from __future__ import annotations

from prismiq_django.ops.observability import (
    CACHE_REQUESTS,
    PROCESS_STARTED,
    QUERIES,
    QUERY_DURATION,
    REGISTRY,
    REQUESTS,
    ROWS_RETURNED,
    CacheResult,
    JsonFormatter,
    QueryStatus,
    current_request_id,
    fingerprint,
    multiprocess_enabled,
    record_cache,
    record_query,
    record_request,
    render_metrics,
)

__all__ = [
    "CACHE_REQUESTS",
    "PROCESS_STARTED",
    "QUERIES",
    "QUERY_DURATION",
    "REGISTRY",
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
