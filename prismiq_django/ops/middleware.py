"""Request id and the JSON request log.

Add ``"prismiq_django.middleware.RequestIdMiddleware"`` to ``MIDDLEWARE`` (after
``AuthenticationMiddleware`` so the log line can name the user). For every request it:

- takes the caller's ``X-Request-ID`` when well-formed (1-128 characters among
  ``A-Z a-z 0-9 . _ : -``), otherwise generates one (32 hex characters), and returns it as
  ``X-Request-ID``;
- returns the time Django spent on the request inside this middleware (URL resolution,
  authentication, the view, rendering) as ``Server-Timing: app;dur=<milliseconds>`` (the W3C
  Server-Timing header: browsers' developer tools show it, load tests can read it); a
  ``Server-Timing`` the view already set is kept and the ``app`` metric appended;
- makes the id available to views (:func:`get_request_id`) and to every log record emitted while
  the request runs (:data:`prismiq_django.observability.current_request_id`);
- logs one record on the ``prismiq_django.request`` logger with ``request_id``, ``user`` (the
  primary key as text, by :func:`prismiq_django.identity.caller_pk`, so also for a stateless token
  user; null when anonymous or when the caller has no usable primary key), ``method``, ``path``,
  ``status``, ``duration_ms`` and, for the app's own routes, ``endpoint`` (the URL name);
- counts the app's own routes in ``prismiq_requests_total{endpoint,status}``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from contextvars import Token
from typing import Any, Final

from django.http import HttpRequest, HttpResponseBase

from prismiq_django.ops.observability import current_request_id, record_request
from prismiq_django.tenancy.identity import caller_pk

REQUEST_ID_HEADER: Final = "X-Request-ID"
SERVER_TIMING_HEADER: Final = "Server-Timing"
_REQUEST_ID_META: Final = "HTTP_X_REQUEST_ID"
_ATTR: Final = "prismiq_request_id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_APP_NAMESPACE: Final = "prismiq_django"

request_logger = logging.getLogger("prismiq_django.request")


def _new_request_id() -> str:
    """What ``uuid.uuid4().hex`` returns (16 random bytes with the version-4 and RFC 4122
    variant bits), without building the UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def get_request_id(request: Any) -> str:
    """Return the id of ``request`` (a Django ``HttpRequest`` or a DRF ``Request``).

    Set by :class:`RequestIdMiddleware`; when the middleware is not installed, an id is generated
    on first call and kept on the request, so repeated calls agree.
    """
    raw = getattr(request, "_request", request)  # DRF wraps the Django request
    value = getattr(raw, _ATTR, None)
    if isinstance(value, str):
        return value
    value = _new_request_id()
    setattr(raw, _ATTR, value)
    return value


def _incoming_id(request: HttpRequest) -> str:
    given = request.META.get(_REQUEST_ID_META, "")
    if isinstance(given, str) and _WELL_FORMED.fullmatch(given):
        return given
    return _new_request_id()


def _user_id(request: HttpRequest) -> str | None:
    pk = caller_pk(getattr(request, "user", None))
    return None if pk is None else str(pk)


def _endpoint(request: HttpRequest) -> str | None:
    match = getattr(request, "resolver_match", None)
    if match is None or _APP_NAMESPACE not in (match.app_names or []):
        return None
    return str(match.url_name or "unnamed")


class RequestIdMiddleware:
    """Assign a request id, echo it as ``X-Request-ID`` and log one JSON line per request."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started, token = open_request(request)
        try:
            return close_request(request, self.get_response(request), started)
        finally:
            current_request_id.reset(token)


def open_request(request: HttpRequest) -> tuple[float, Token[str | None]]:
    """What :class:`RequestIdMiddleware` does before the view: the id, on the request and in
    the log context. Returns the start time and the context token to reset afterwards."""
    request_id = _incoming_id(request)
    setattr(request, _ATTR, request_id)
    return time.perf_counter(), current_request_id.set(request_id)


def close_request(
    request: HttpRequest, response: HttpResponseBase, started: float
) -> HttpResponseBase:
    """What :class:`RequestIdMiddleware` does after the view: ``X-Request-ID``,
    ``Server-Timing``, the metric and the log record (see the module)."""
    duration_ms = (time.perf_counter() - started) * 1000.0
    response[REQUEST_ID_HEADER] = getattr(request, _ATTR)
    timing = f"app;dur={duration_ms:.3f}"
    earlier = response.get(SERVER_TIMING_HEADER)
    response[SERVER_TIMING_HEADER] = f"{earlier}, {timing}" if earlier else timing
    _log(request, response.status_code, duration_ms)
    return response


def _log(request: HttpRequest, status: int, duration_ms: float) -> None:
    endpoint = _endpoint(request)
    if endpoint is not None:
        record_request(endpoint, status)
    level = logging.ERROR if status >= 500 else logging.INFO
    if not request_logger.isEnabledFor(level):  # the record is not built for nobody
        return
    request_logger.log(
        level,
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "event": "request",
            "request_id": getattr(request, _ATTR),
            "user": _user_id(request),
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "endpoint": endpoint,
        },
    )


__all__ = [
    "REQUEST_ID_HEADER",
    "SERVER_TIMING_HEADER",
    "RequestIdMiddleware",
    "close_request",
    "get_request_id",
    "open_request",
]
