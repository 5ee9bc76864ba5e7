"""The result cache: compiled statements -> query results, on the Django cache ``CACHE_ALIAS``.

Contract (called by ``services.execute`` for every execution)::

    fetch_result(*, alias, compiled, scopes, compute, bypass) -> QueryResult

- The key is a SHA-256 of a canonical, type-tagged encoding of the database (alias, engine,
  name, host, port), the compiled SQL, its parameters (``1``, ``True``, ``"1"`` and
  ``Decimal("1")`` are different keys), the row scopes in force (order-insensitive) and the
  current *generation* of every table the statement reads. Two tenants or two users with
  different scopes therefore never share an entry.
- ``invalidate(table)`` bumps that table's generation (one ``INCR``): every entry that read the
  table becomes unreachable at once and expires on its own after its TTL. ``invalidate_all()``
  bumps a global generation folded into every key. Generations start at the current time in
  nanoseconds, so a generation key lost to eviction can never bring an old entry back.
- TTL is ``RESULT_CACHE_TTL`` seconds (0 disables the cache: ``compute()`` runs every time).
  ``bypass=True`` skips the lookup, runs ``compute()`` and refreshes the entry.
- A hit returns ``is_from_cache=True`` and the ``cached_at`` (ISO 8601 UTC) of the stored entry;
  a miss or bypass returns the fresh result with ``is_from_cache=False`` and ``cached_at=None``.
- Concurrent identical misses are computed once: the first caller takes a short lock
  (``cache.add``), the others poll for the result and compute themselves only if the lock holder
  fails or takes longer than ``QUERY_TIMEOUT`` plus a margin.
- Any cache failure (server down, timeout, bad payload) is logged as a warning on the
  ``prismiq_django.cache`` logger and the query runs uncached; this module never raises a cache
  error. After a failure the cache alias is skipped for a few seconds (per process) so that an
  outage costs one connect timeout, not one per request.

Entries are stored as orjson bytes (zlib-compressed above 256 KiB); rows holding values orjson
cannot round-trip exactly (``Decimal``, ``datetime``...) fall back to pickle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import pickle
import re
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Protocol
from uuid import UUID

import orjson
from django.conf import settings
from django.core.cache import BaseCache, caches

from prismiq_django.conf import prismiq_settings
from prismiq_django.gcpause import gc_paused
from prismiq_django.observability import record_cache

if TYPE_CHECKING:
    from prismiq_django.execution import QueryResult

logger = logging.getLogger("prismiq_django.cache")

RESULT_PREFIX: Final = "prismiq:r:"
LOCK_PREFIX: Final = "prismiq:lock:"
TABLE_GENERATION_PREFIX: Final = "prismiq:tv:"
GLOBAL_GENERATION_KEY: Final = "prismiq:gen"

#: After a cache failure, skip the cache alias for this many seconds (per process).
BREAKER_SECONDS: Final = 5.0
#: Payloads larger than this are zlib-compressed (level 1: cheap, ~5x on typical results).
COMPRESS_ABOVE: Final = 256 * 1024
_FORMAT_VERSION: Final = 1
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.$-]{1,120}")


class CompiledStatement(Protocol):
    """What the cache needs from :class:`prismiq_django.query.Compiled`."""

    @property
    def sql(self) -> str: ...
    @property
    def params(self) -> tuple[object, ...]: ...
    @property
    def tables(self) -> frozenset[str]: ...


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
        until = self._open_until.get(self._key(alias))
        return until is not None and time.monotonic() < until

    def trip(self, alias: str) -> None:
        with self._lock:
            self._open_until[self._key(alias)] = time.monotonic() + BREAKER_SECONDS

    def reset(self) -> None:
        with self._lock:
            self._open_until.clear()


breaker: Final = _Breaker()


class _CacheDown(Exception):
    """Internal: a cache operation failed; the caller degrades to uncached execution."""


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def _canon(value: object) -> object:
    """A JSON-ready, type-tagged, deterministic encoding of a parameter or scope value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, date):
        return ["date", value.isoformat()]
    if isinstance(value, dt_time):
        return ["time", value.isoformat()]
    if isinstance(value, timedelta):
        return ["timedelta", repr(value.total_seconds())]
    if isinstance(value, UUID):
        return ["uuid", value.hex]
    if isinstance(value, Mapping):
        items = [[_canon(k), _canon(v)] for k, v in value.items()]
        return ["map", sorted(items, key=_sort_key)]
    if isinstance(value, set | frozenset):
        return ["set", sorted((_canon(v) for v in value), key=_sort_key)]
    if isinstance(value, list | tuple):
        return [type(value).__name__, [_canon(v) for v in value]]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return ["dc", type(value).__qualname__, _canon(fields)]
    return [f"{type(value).__module__}.{type(value).__qualname__}", repr(value)]


def _sort_key(encoded: object) -> bytes:
    return orjson.dumps(encoded)


def _canon_scopes(scopes: object) -> object:
    """Row scopes, order-insensitive: a mapping or any iterable of scopes becomes a sorted list."""
    if isinstance(scopes, Mapping):
        return _canon(scopes)
    if isinstance(scopes, Iterable) and not isinstance(scopes, str | bytes):
        return ["scopes", sorted((_canon(s) for s in scopes), key=_sort_key)]
    return _canon(scopes)


def _table_key(table: str) -> str:
    if _SAFE_NAME.fullmatch(table):
        return TABLE_GENERATION_PREFIX + table
    return TABLE_GENERATION_PREFIX + "h" + hashlib.sha256(table.encode()).hexdigest()[:32]


def database_identity(alias: str) -> tuple[str, str, str, str, str]:
    """Who answers for ``alias``: (alias, engine, name, host, port) from ``settings.DATABASES``.

    Folded into every key so that two sites (or test runs) sharing one Redis through the same
    alias name but different databases can never read each other's entries.
    """
    conf = settings.DATABASES.get(alias, {})
    return (
        alias,
        str(conf.get("ENGINE", "")),
        str(conf.get("NAME", "")),
        str(conf.get("HOST", "")),
        str(conf.get("PORT", "")),
    )


def result_key(
    *,
    alias: str,
    compiled: CompiledStatement,
    scopes: object,
    generations: Mapping[str, int],
) -> str:
    """The cache key of one statement under the given generations (pure function).

    ``generations`` maps each generation key (per table, and the global one) to its value.
    """
    material = orjson.dumps(
        [
            _FORMAT_VERSION,
            database_identity(alias),
            compiled.sql,
            _canon(tuple(compiled.params)),
            _canon_scopes(scopes),
            sorted(generations.items()),
        ]
    )
    return RESULT_PREFIX + hashlib.sha256(material).hexdigest()


# --------------------------------------------------------------------------------------------
# Cache access (every call may raise _CacheDown)
# --------------------------------------------------------------------------------------------


def _cache_alias() -> str:
    return str(prismiq_settings.CACHE_ALIAS)


def _call(alias: str, op: Callable[[BaseCache], Any]) -> Any:
    if breaker.is_open(alias):
        raise _CacheDown("breaker open")
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
        raise _CacheDown(type(exc).__name__) from exc


def _generations(alias: str, tables: Iterable[str]) -> dict[str, int]:
    """Current generation of each table and of the whole cache, by generation key."""
    wanted = [*{_table_key(t) for t in tables}, GLOBAL_GENERATION_KEY]
    found: dict[str, Any] = _call(alias, lambda c: c.get_many(list(wanted)))
    missing = [k for k in wanted if not isinstance(found.get(k), int)]
    if missing:
        seed = time.time_ns()
        for key in missing:
            _call(alias, lambda c, k=key: c.add(k, seed, timeout=None))  # type: ignore[misc]
        found.update(_call(alias, lambda c: c.get_many(missing)))
    result: dict[str, int] = {}
    for key in wanted:
        value = found.get(key)
        if not isinstance(value, int):  # e.g. DJANGO_REDIS_IGNORE_EXCEPTIONS hid an outage
            logger.warning(
                "Result cache %r returned no generation; running uncached",
                alias,
                extra={"event": "cache_unavailable", "cache_alias": alias},
            )
            raise _CacheDown("generation not readable")
        result[key] = value
    return result


def _bump(alias: str, key: str) -> int:
    def op(cache: BaseCache) -> int:
        try:
            return int(cache.incr(key))
        except ValueError:  # missing: a fresh time-based generation is newer than any before
            fresh = time.time_ns()
            cache.set(key, fresh, timeout=None)
            return fresh

    return int(_call(alias, op))


# --------------------------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------------------------


def _orjson_strict(value: object) -> Any:
    raise TypeError(type(value).__name__)


def _encode(result: QueryResult, cached_at: str) -> bytes:
    body = {
        "columns": result.columns,
        "column_types": result.column_types,
        "rows": result.rows,
        "row_count": result.row_count,
        "truncated": result.truncated,
        "execution_time_ms": result.execution_time_ms,
        "cached_at": cached_at,
    }
    try:
        raw = b"j" + orjson.dumps(
            body,
            default=_orjson_strict,
            option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS,
        )
    except TypeError:
        raw = b"p" + pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL)
    if len(raw) > COMPRESS_ABOVE:
        return b"z" + zlib.compress(raw, 1)
    return raw


def _decode(payload: object) -> QueryResult:
    from prismiq_django.execution import QueryResult

    if not isinstance(payload, bytes) or not payload:
        raise ValueError("not a result payload")
    if payload[:1] == b"z":
        payload = zlib.decompress(payload[1:])
    kind, data = payload[:1], payload[1:]
    if kind not in (b"j", b"p"):
        raise ValueError("unknown result payload")
    with gc_paused():  # 100k row lists: see prismiq_django.gcpause
        # pickle only for payloads this module wrote itself into the site's own cache
        body = orjson.loads(data) if kind == b"j" else pickle.loads(data)  # noqa: S301
    return QueryResult(
        columns=body["columns"],
        column_types=body["column_types"],
        rows=body["rows"],
        row_count=body["row_count"],
        truncated=body["truncated"],
        execution_time_ms=body["execution_time_ms"],
        is_from_cache=True,
        cached_at=body["cached_at"],
    )


def _fresh(result: QueryResult) -> QueryResult:
    result.is_from_cache = False
    result.cached_at = None
    return result


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def fetch_result(
    *,
    alias: str,
    compiled: CompiledStatement,
    scopes: object,
    compute: Callable[[], QueryResult],
    bypass: bool,
) -> QueryResult:
    """Return the result of ``compiled`` on database ``alias``, from the cache when possible.

    ``scopes`` are the row scopes the statement was compiled under (any mapping or iterable of
    :class:`~prismiq_django.query.RowScope`); ``compute`` runs the statement and is called at
    most once. Exceptions raised by ``compute`` propagate unchanged; cache failures never do.
    """
    ttl = int(prismiq_settings.RESULT_CACHE_TTL or 0)
    if ttl <= 0:
        return _fresh(compute())
    cache_alias = _cache_alias()
    try:
        generations = _generations(cache_alias, compiled.tables)
        key = result_key(alias=alias, compiled=compiled, scopes=scopes, generations=generations)
    except _CacheDown:
        record_cache("error")
        return _fresh(compute())

    if bypass:
        record_cache("bypass")
        result = _fresh(compute())
        _store(cache_alias, key, result, ttl)
        return result

    try:
        hit = _lookup(cache_alias, key)
    except _CacheDown:
        record_cache("error")
        return _fresh(compute())
    if hit is not None:
        record_cache("hit")
        return hit
    record_cache("miss")
    return _single_flight(cache_alias, key, compute, ttl)


def _lookup(cache_alias: str, key: str) -> QueryResult | None:
    payload = _call(cache_alias, lambda c: c.get(key))
    if payload is None:
        return None
    try:
        return _decode(payload)
    except Exception as exc:
        logger.warning(
            "Unreadable result cache entry dropped (%s)",
            type(exc).__name__,
            extra={"event": "cache_bad_entry"},
        )
        _call(cache_alias, lambda c: c.delete(key))
        return None


def _store(cache_alias: str, key: str, result: QueryResult, ttl: int) -> None:
    try:
        payload = _encode(result, _now_iso())
    except Exception as exc:  # an unencodable value: answer uncached, never fail the query
        logger.warning(
            "Result not cacheable (%s)", type(exc).__name__, extra={"event": "cache_unencodable"}
        )
        return
    with contextlib.suppress(_CacheDown):  # already logged; the answer stays uncached
        _call(cache_alias, lambda c: c.set(key, payload, timeout=ttl))


def _single_flight(
    cache_alias: str, key: str, compute: Callable[[], QueryResult], ttl: int
) -> QueryResult:
    timeout = float(prismiq_settings.QUERY_TIMEOUT or 30.0)
    lock_ttl = max(1, int(timeout) + 5)
    lock_key = LOCK_PREFIX + key[len(RESULT_PREFIX) :]
    token = secrets.token_hex(8)
    deadline = time.monotonic() + lock_ttl
    pause = 0.005
    try:
        while True:
            if _call(cache_alias, lambda c: c.add(lock_key, token, timeout=lock_ttl)):
                break
            if time.monotonic() >= deadline:
                return _fresh(compute())  # the lock holder is too slow: do not wait longer
            time.sleep(pause)
            pause = min(pause * 1.5, 0.1)
            hit = _lookup(cache_alias, key)
            if hit is not None:
                return hit
    except _CacheDown:
        return _fresh(compute())

    try:
        # Someone may have stored the result between our miss and taking the lock.
        hit = _lookup(cache_alias, key)
        if hit is not None:
            return hit
        result = _fresh(compute())
        _store(cache_alias, key, result, ttl)
        return result
    except _CacheDown:
        return _fresh(compute())
    finally:
        try:
            if _call(cache_alias, lambda c: c.get(lock_key)) == token:
                _call(cache_alias, lambda c: c.delete(lock_key))
        except _CacheDown:
            pass


def invalidate(table: str) -> int:
    """Make every cached result that read ``table`` unreachable; return its new generation.

    O(1): one ``INCR`` on the table's generation key, no scan. Returns 0 (and logs a warning)
    when the cache is unreachable.
    """
    try:
        return _bump(_cache_alias(), _table_key(table))
    except _CacheDown:
        return 0


def invalidate_all() -> int:
    """Make every cached result unreachable; return the new global generation (0 on outage)."""
    try:
        return _bump(_cache_alias(), GLOBAL_GENERATION_KEY)
    except _CacheDown:
        return 0


__all__ = [
    "BREAKER_SECONDS",
    "RESULT_PREFIX",
    "CompiledStatement",
    "breaker",
    "fetch_result",
    "invalidate",
    "invalidate_all",
    "result_key",
]
