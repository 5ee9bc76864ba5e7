"""The result cache: compiled statements -> query results, on the Django cache ``CACHE_ALIAS``.

Contract (called by ``services.execute`` for every execution)::

    fetch_result(*, alias, compiled, scopes, compute, bypass) -> QueryResult

- The key is a SHA-256 of a canonical, type-tagged encoding of the database (alias, engine,
  name, host, port), the compiled SQL, its parameters (``1``, ``True``, ``"1"`` and
  ``Decimal("1")`` are different keys) and the row scopes in force (order-insensitive). Two
  tenants or two users with different scopes therefore never share an entry.
- Every entry records the *generation* of each table the statement reads (and the global one) at
  the time it was computed, and is only served while they are all still current: the entry and
  the current generations are read together in one ``get_many`` (one round trip per hit).
  ``invalidate(table)`` bumps that table's generation (one ``INCR``): every entry that read the
  table stops being served at once, is overwritten by the next miss and expires on its own.
  ``invalidate_all()`` bumps the global generation. Generations start at the current time in
  nanoseconds, so a generation key lost to eviction can never make an old entry current again.
- TTL is ``RESULT_CACHE_TTL`` seconds (0 disables the cache: ``compute()`` runs every time).
  ``bypass=True`` skips the lookup, runs ``compute()`` and refreshes the entry.
- A hit returns ``is_from_cache=True`` and the ``cached_at`` (ISO 8601 UTC) of the stored entry;
  a miss or bypass returns the fresh result with ``is_from_cache=False`` and ``cached_at=None``.
- Concurrent identical misses are computed once: the first caller takes a short lock
  (``cache.add``), the others poll for the result and compute themselves only if the lock holder
  fails or takes longer than ``QUERY_TIMEOUT`` plus a margin.
- Writing the entry (and releasing that lock) is handed to ``defer`` when one is given: the HTTP
  layer runs it after the response has been sent, so compressing and storing a large result
  never delays the answer. Without ``defer`` it happens before returning. Either way the entry is
  taken before the result is returned (the rows' JSON, which the response reuses): what the
  caller later does to the result it was handed never reaches the cache.
- Any cache failure (server down, timeout, bad payload) is logged as a warning on the
  ``prismiq_django.cache`` logger and the query runs uncached; this module never raises a cache
  error. After a failure the cache alias is skipped for a few seconds (per process) so that an
  outage costs one connect timeout, not one per request.

Entries hold the result's wire JSON: a small JSON header and the rows' JSON text exactly as the
response carries it (zstd-compressed above 256 KiB), so a hit embeds the rows in the response
without parsing or re-encoding them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Protocol
from uuid import UUID

import orjson
import zstandard
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
#: Payloads larger than this are zstd-compressed (level 1: ~6x on typical results; for 720 KiB of
#: rows about 1.3 ms to compress and 0.4 ms to decompress, against 4.7 and 1.9 ms for zlib level 1).
COMPRESS_ABOVE: Final = 256 * 1024
_ZSTD_LEVEL: Final = 1
#: Marks a compressed payload (a zstd frame follows).
_ZSTD: Final = b"s"
#: Part of every key: entries of another layout are never read (they expire on their own).
#: (4: zstd instead of zlib.)
_FORMAT_VERSION: Final = 4
#: Entry payload: kind byte, 4-byte big-endian header length, header JSON, rows JSON.
_ENTRY: Final = b"R"
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


class StaleRead(Exception):
    """A key given in ``expect`` to :func:`fetch_result` no longer holds the expected value.

    Raised before anything is computed or served: the caller refreshes what it derived from
    that key (the services: the catalog, from its version token) and asks again.
    """


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


def result_key(*, alias: str, compiled: CompiledStatement, scopes: object) -> str:
    """The cache key of one statement run on ``alias`` under ``scopes`` (pure function)."""
    material = orjson.dumps(
        [
            _FORMAT_VERSION,
            database_identity(alias),
            compiled.sql,
            _canon(tuple(compiled.params)),
            _canon_scopes(scopes),
        ]
    )
    return RESULT_PREFIX + hashlib.sha256(material).hexdigest()


def generation_keys(tables: Iterable[str]) -> list[str]:
    """The generation keys an entry reading ``tables`` depends on (sorted; the global one too)."""
    return sorted({*(_table_key(t) for t in tables), GLOBAL_GENERATION_KEY})


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


def _read(
    alias: str,
    key: str | None,
    gen_keys: list[str],
    expect: Mapping[str, object] | None = None,
) -> tuple[dict[str, int], Any]:
    """Return the current generations (by key) and the stored payload of ``key`` (or None).

    One ``get_many`` in the common case, which also reads the keys of ``expect`` (raising
    :class:`StaleRead` when one differs); generation keys seen for the first time are seeded
    with the current time (``add``, so concurrent seeders agree) and read again.
    """
    wanted = [*gen_keys, *(expect or ())]
    if key is not None:
        wanted.append(key)
    found: dict[str, Any] = _call(alias, lambda c: c.get_many(wanted))
    if expect and any(found.get(k) != v for k, v in expect.items()):
        raise StaleRead(", ".join(k for k, v in expect.items() if found.get(k) != v))
    missing = [k for k in gen_keys if not isinstance(found.get(k), int)]
    if missing:
        seed = time.time_ns()
        for gen_key in missing:
            _call(alias, lambda c, k=gen_key: c.add(k, seed, timeout=None))  # type: ignore[misc]
        found.update(_call(alias, lambda c: c.get_many(missing)))
    generations: dict[str, int] = {}
    for gen_key in gen_keys:
        value = found.get(gen_key)
        if not isinstance(value, int):  # e.g. DJANGO_REDIS_IGNORE_EXCEPTIONS hid an outage
            logger.warning(
                "Result cache %r returned no generation; running uncached",
                alias,
                extra={"event": "cache_unavailable", "cache_alias": alias},
            )
            raise _CacheDown("generation not readable")
        generations[gen_key] = value
    return generations, (found.get(key) if key is not None else None)


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


@dataclasses.dataclass(frozen=True, slots=True)
class _Snapshot:
    """What an entry stores, taken when the result is computed (before the caller sees it).

    The write may run after the response (``defer``): by then the caller (a view's
    ``perform_execute`` hook, a site's code) may have changed the result it was handed, and the
    entry must hold what the database answered, not that. ``rows_json`` is immutable bytes the
    response reuses, so taking it costs no copy.
    """

    columns: list[str]
    column_types: list[str]
    row_count: int
    truncated: bool
    execution_time_ms: float
    rows_json: bytes


def _snapshot(result: QueryResult) -> _Snapshot | None:
    """The entry of ``result``, or None (logged) when its rows cannot be encoded."""
    try:
        with gc_paused():
            rows_json = result.rows_json
    except Exception as exc:  # an unencodable value: answer uncached, never fail the query
        logger.warning(
            "Result not cacheable (%s)", type(exc).__name__, extra={"event": "cache_unencodable"}
        )
        return None
    return _Snapshot(
        columns=list(result.columns),
        column_types=list(result.column_types),
        row_count=result.row_count,
        truncated=result.truncated,
        execution_time_ms=result.execution_time_ms,
        rows_json=rows_json,
    )


def _encode(entry: _Snapshot, cached_at: str, generations: Mapping[str, int]) -> bytes:
    head = orjson.dumps(
        {
            "columns": entry.columns,
            "column_types": entry.column_types,
            "row_count": entry.row_count,
            "truncated": entry.truncated,
            "execution_time_ms": entry.execution_time_ms,
            "cached_at": cached_at,
            "generations": dict(generations),
            "rows_bytes": len(entry.rows_json),
        }
    )
    raw = b"".join((_ENTRY, len(head).to_bytes(4, "big"), head, entry.rows_json))
    if len(raw) > COMPRESS_ABOVE:
        # A compressor per call: they are not thread-safe, and one costs about 2 µs to make.
        return _ZSTD + zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(raw)
    return raw


def _decode(payload: object) -> tuple[QueryResult, dict[str, int]]:
    """Return the stored result and the generations it was computed under."""
    from prismiq_django.execution import QueryResult

    if not isinstance(payload, bytes) or not payload:
        raise ValueError("not a result payload")
    if payload[:1] == _ZSTD:
        # The frame records its content size (the compressor writes it): one allocation.
        payload = zstandard.ZstdDecompressor().decompress(payload[1:])
    if payload[:1] != _ENTRY or len(payload) < 5:
        raise ValueError("unknown result payload")
    size = int.from_bytes(payload[1:5], "big")
    head = orjson.loads(payload[5 : 5 + size])
    rows_json = payload[5 + size :]
    # The rows are embedded in responses unparsed: a payload cut short (or grown) after an inner
    # ``]`` would still look like a JSON array, so its length is checked against the header's.
    if head.get("rows_bytes") != len(rows_json) or not rows_json.startswith(b"["):
        raise ValueError("truncated result payload")
    result = QueryResult(
        columns=head["columns"],
        column_types=head["column_types"],
        row_count=head["row_count"],
        truncated=head["truncated"],
        execution_time_ms=head["execution_time_ms"],
        is_from_cache=True,
        cached_at=head["cached_at"],
        rows_json=rows_json,
    )
    generations = head["generations"]
    if not isinstance(generations, dict):
        raise ValueError("result payload without generations")
    return result, generations


def _fresh(result: QueryResult) -> QueryResult:
    result.is_from_cache = False
    result.cached_at = None
    return result


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


Defer = Callable[[Callable[[], None]], None]


def _run_now(job: Callable[[], None]) -> None:
    job()


def fetch_result(
    *,
    alias: str,
    compiled: CompiledStatement,
    scopes: object,
    compute: Callable[[], QueryResult],
    bypass: bool,
    defer: Defer | None = None,
    expect: Mapping[str, object] | None = None,
) -> QueryResult:
    """Return the result of ``compiled`` on database ``alias``, from the cache when possible.

    ``scopes`` are the row scopes the statement was compiled under (any mapping or iterable of
    :class:`~prismiq_django.query.RowScope`); ``compute`` runs the statement and is called at
    most once. ``defer`` schedules the cache write of a computed result (and the release of the
    single-flight lock) for later, e.g. after the response is sent; it is called with a job that
    never raises. ``expect`` maps cache keys to the values the caller relied on (the services:
    the catalog's version token); they are read in the same round trip as the entry and
    :class:`StaleRead` is raised when one changed, before anything is served or computed. (With
    the cache off or unreachable nothing can be checked, and nothing is raised.) Exceptions
    raised by ``compute`` propagate unchanged; cache failures never do.
    """
    ttl = int(prismiq_settings.RESULT_CACHE_TTL or 0)
    if ttl <= 0:
        return _fresh(compute())
    cache_alias = _cache_alias()
    schedule = defer or _run_now
    key = result_key(alias=alias, compiled=compiled, scopes=scopes)
    gen_keys = generation_keys(compiled.tables)
    try:
        generations, payload = _read(cache_alias, None if bypass else key, gen_keys, expect)
    except _CacheDown:
        record_cache("error")
        return _fresh(compute())

    if bypass:
        record_cache("bypass")
        result = _fresh(compute())
        schedule(_store_job(cache_alias, key, result, ttl, generations))
        return result

    hit = _usable(cache_alias, key, payload, generations)
    if hit is not None:
        record_cache("hit")
        return hit
    record_cache("miss")
    return _single_flight(cache_alias, key, gen_keys, compute, ttl, schedule)


def _usable(
    cache_alias: str, key: str, payload: object, generations: Mapping[str, int]
) -> QueryResult | None:
    """The stored result if ``payload`` is a readable entry of the current generations."""
    if payload is None:
        return None
    try:
        result, stored = _decode(payload)
    except Exception as exc:
        logger.warning(
            "Unreadable result cache entry dropped (%s)",
            type(exc).__name__,
            extra={"event": "cache_bad_entry"},
        )
        with contextlib.suppress(_CacheDown):
            _call(cache_alias, lambda c: c.delete(key))
        return None
    return result if stored == generations else None


def _lookup(cache_alias: str, key: str, gen_keys: list[str]) -> QueryResult | None:
    generations, payload = _read(cache_alias, key, gen_keys)
    return _usable(cache_alias, key, payload, generations)


def _store(
    cache_alias: str, key: str, entry: _Snapshot, ttl: int, generations: Mapping[str, int]
) -> None:
    try:
        with gc_paused():
            payload = _encode(entry, _now_iso(), generations)
    except Exception as exc:  # never fail the query over its cache entry
        logger.warning(
            "Result not cacheable (%s)", type(exc).__name__, extra={"event": "cache_unencodable"}
        )
        return
    with contextlib.suppress(_CacheDown):  # already logged; the answer stays uncached
        _call(cache_alias, lambda c: c.set(key, payload, timeout=ttl))


def _store_job(
    cache_alias: str, key: str, result: QueryResult, ttl: int, generations: Mapping[str, int]
) -> Callable[[], None]:
    """The write of ``result``'s entry, with the entry taken now (see :class:`_Snapshot`)."""
    entry = _snapshot(result)

    def job() -> None:
        if entry is not None:
            _store(cache_alias, key, entry, ttl, generations)

    return job


def _release(cache_alias: str, lock_key: str, token: str) -> None:
    try:
        if _call(cache_alias, lambda c: c.get(lock_key)) == token:
            _call(cache_alias, lambda c: c.delete(lock_key))
    except _CacheDown:
        pass


def _single_flight(
    cache_alias: str,
    key: str,
    gen_keys: list[str],
    compute: Callable[[], QueryResult],
    ttl: int,
    schedule: Defer,
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
            hit = _lookup(cache_alias, key, gen_keys)
            if hit is not None:
                return hit
    except _CacheDown:
        return _fresh(compute())

    handed_over = False
    try:
        # Someone may have stored the result between our miss and taking the lock; the
        # generations read now are the ones the computed result is stored under.
        generations, payload = _read(cache_alias, key, gen_keys)
        hit = _usable(cache_alias, key, payload, generations)
        if hit is not None:
            return hit
        result = _fresh(compute())
        store = _store_job(cache_alias, key, result, ttl, generations)

        def store_and_release() -> None:
            try:
                store()
            finally:
                _release(cache_alias, lock_key, token)

        handed_over = True
        schedule(store_and_release)
        return result
    except _CacheDown:
        return _fresh(compute())
    finally:
        if not handed_over:
            _release(cache_alias, lock_key, token)


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
    "Defer",
    "StaleRead",
    "breaker",
    "fetch_result",
    "generation_keys",
    "invalidate",
    "invalidate_all",
    "result_key",
]
