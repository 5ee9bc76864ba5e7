"""Health probes.

- ``health/live`` — the process answers: always 200 ``{"status": "ok"}``. No authentication, no
  database or cache access.
- ``health/ready`` — the analytics database (``PRISMIQ["DATABASE"]``) answers ``SELECT 1``:
  200 ``{"status": "ready"}``, else 503 ``{"status": "unavailable"}``. No authentication; it
  reveals nothing else.
- ``health`` — ``PERMISSION_CLASSES`` apply. 200 or 503 with::

      {"status": "healthy" | "degraded" | "unhealthy", "version": "...", "uptime_seconds": 12.3,
       "checks": {"database": {"status": "up" | "down", "latency_ms": 1.2},
                  "cache":    {"status": "up" | "down", "latency_ms": 0.4}}}

  Cache down = ``degraded`` (200: queries still run, uncached); database down = ``unhealthy``
  (503). Failure details are logged, never returned. When the analytics database is PostgreSQL,
  the database check also says its ``role`` (``"primary"`` or ``"replica"``) and, for a streaming
  replica, ``replica_lag_seconds`` (0 when it has replayed all it received).
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any, Literal

from django.core.cache import caches
from django.db import connections
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from prismiq_django import __version__
from prismiq_django.conf import prismiq_settings
from prismiq_django.ops.observability import PROCESS_STARTED
from prismiq_django.ops.replica import replica_status

logger = logging.getLogger("prismiq_django.health")

CheckStatus = Literal["up", "down"]


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def check_database() -> dict[str, Any]:
    """Run ``SELECT 1`` on the analytics database; ``{"status", "latency_ms"}``. Never raises."""
    alias = prismiq_settings.DATABASE
    started = time.perf_counter()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning(
            "Health: database %r unreachable (%s)",
            alias,
            type(exc).__name__,
            extra={"event": "health_database_down", "database": alias},
        )
        return {"status": "down", "latency_ms": _elapsed_ms(started)}
    return {"status": "up", "latency_ms": _elapsed_ms(started)}


def check_cache() -> dict[str, Any]:
    """Write and read back a probe key in ``CACHE_ALIAS``; ``{"status", "latency_ms"}``."""
    alias = prismiq_settings.CACHE_ALIAS
    started = time.perf_counter()
    token = secrets.token_hex(8)
    key = f"prismiq:health:{token}"
    try:
        cache = caches[alias]
        cache.set(key, token, timeout=10)
        ok = cache.get(key) == token
        cache.delete(key)
    except Exception as exc:
        logger.warning(
            "Health: cache %r unreachable (%s)",
            alias,
            type(exc).__name__,
            extra={"event": "health_cache_down", "cache_alias": alias},
        )
        ok = False
    return {"status": "up" if ok else "down", "latency_ms": _elapsed_ms(started)}


class LiveView(APIView):
    """``GET health/live``: 200 while the process can answer."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyView(APIView):
    """``GET health/ready``: 200 when the analytics database answers, else 503."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        if check_database()["status"] == "up":
            return Response({"status": "ready"})
        return Response({"status": "unavailable"}, status=503)


class HealthView(APIView):
    """``GET health``: detailed status for operators (``PERMISSION_CLASSES`` apply)."""

    def get_permissions(self) -> list[BasePermission]:
        return [cls() for cls in prismiq_settings.PERMISSION_CLASSES]

    def get(self, request: Request) -> Response:
        database = check_database()
        if database["status"] == "up":
            replica = replica_status()
            if replica is not None:
                database["role"] = "replica" if replica.in_recovery else "primary"
                if replica.in_recovery:
                    database["replica_lag_seconds"] = replica.lag_seconds
        cache = check_cache()
        if database["status"] != "up":
            status = "unhealthy"
        elif cache["status"] != "up":
            status = "degraded"
        else:
            status = "healthy"
        body = {
            "status": status,
            "version": __version__,
            "uptime_seconds": round(time.monotonic() - PROCESS_STARTED, 3),
            "checks": {"database": database, "cache": cache},
        }
        return Response(body, status=503 if status == "unhealthy" else 200)


__all__ = ["HealthView", "LiveView", "ReadyView", "check_cache", "check_database"]
