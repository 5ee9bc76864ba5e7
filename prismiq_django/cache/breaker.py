"""Cache access guarded by a per-process breaker: after a failure the cache alias is skipped for
:data:`BREAKER_SECONDS`, so an outage costs one connect timeout, not one per request. Every
:func:`guarded_call` may raise :class:`CacheDown` (already logged).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from django.conf import settings
from django.core.cache import BaseCache, caches

from prismiq_django.conf import prismiq_settings

logger = logging.getLogger("prismiq_django.cache")


#: After a cache failure, skip the cache alias for this many seconds (per process).
BREAKER_SECONDS: Final = 5.0


class _Breaker:
    """Per-process memory of caches that failed recently.

    Keyed by alias *and* location, so repointing an alias at a working server takes effect at
    once.
    """

    def __init__(self) -> None:
        self._open_until: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(alias: str) -> str:
        location = settings.CACHES.get(alias, {}).get("LOCATION", "")
        return f"{alias}@{location}"

    def is_open(self, alias: str) -> bool:
        if not self._open_until:  # the usual case: nothing tripped
            return False
        until = self._open_until.get(self._key(alias))
        return until is not None and time.monotonic() < until

    def trip(self, alias: str) -> None:
        with self._lock:
            self._open_until[self._key(alias)] = time.monotonic() + BREAKER_SECONDS

    def reset(self) -> None:
        with self._lock:
            self._open_until.clear()


breaker: Final = _Breaker()


class CacheDown(Exception):
    """Internal: a cache operation failed; the caller degrades to uncached execution."""


def configured_alias() -> str:
    return prismiq_settings.CACHE_ALIAS


def guarded_call(alias: str, op: Callable[[BaseCache], Any]) -> Any:
    if breaker.is_open(alias):
        raise CacheDown("breaker open")
    try:
        return op(caches[alias])
    except Exception as exc:
        breaker.trip(alias)
        logger.warning(
            "Result cache %r unavailable (%s); running uncached",
            alias,
            type(exc).__name__,
            extra={"event": "cache_unavailable", "cache_alias": alias},
        )
        raise CacheDown(type(exc).__name__) from exc


__all__ = ["BREAKER_SECONDS", "CacheDown", "breaker", "configured_alias", "guarded_call"]
