"""Public path of the request id middleware: ``"prismiq_django.middleware.RequestIdMiddleware"``.

Re-exports :mod:`prismiq_django.ops.middleware`.
"""

from __future__ import annotations

from prismiq_django.ops.middleware import (
    REQUEST_ID_HEADER,
    SERVER_TIMING_HEADER,
    RequestIdMiddleware,
    get_request_id,
)

__all__ = ["REQUEST_ID_HEADER", "SERVER_TIMING_HEADER", "RequestIdMiddleware", "get_request_id"]
