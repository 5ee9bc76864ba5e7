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

Keys: :mod:`~prismiq_django.cache.keys`; entries: :mod:`~prismiq_django.cache.codec`; the
breaker: :mod:`~prismiq_django.cache.breaker`.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.core.cache import BaseCache

from prismiq_django.cache.breaker import CacheDown, configured_alias, guarded_call
from prismiq_django.cache.codec import Snapshot, decode_entry, encode_entry, snapshot
from prismiq_django.cache.counters import PendingCount
from prismiq_django.cache.keys import (
    GLOBAL_GENERATION_KEY,
    LOCK_PREFIX,
    RESULT_PREFIX,
    CompiledStatement,
    generation_keys,
    result_key,
    table_key,
)
from prismiq_django.cache.pipeline import read_many, store
from prismiq_django.conf import prismiq_settings
from prismiq_django.execution.results import QueryResult
from prismiq_django.ops.gcpause import gc_paused
from prismiq_django.ops.observability import record_cache

logger = logging.getLogger("prismiq_django.cache")


class StaleRead(Exception):
    """A key given in ``expect`` to :func:`fetch_result` no longer holds the expected value.

    Raised before anything is computed or served: the caller refreshes what it derived from
    that key (the services: the catalog, from its version token) and asks again.
    """


def _read(
    alias: str,
    key: str | None,
    gen_keys: list[str],
    expect: Mapping[str, object] | None = None,
    pending: PendingCount | None = None,
) -> tuple[dict[str, int], Any]:
    """Return the current generations (by key) and the stored payload of ``key`` (or None).

    One ``get_many`` in the common case, which also reads the keys of ``expect`` (raising
    :class:`StaleRead` when one differs) and sends the ``pending`` rate count in the same round
    trip (:func:`~prismiq_django.cache.pipeline.read_many`); generation keys seen for the first
    time are seeded with the current time (``add``, so concurrent seeders agree) and read again.
    """
    wanted = [*gen_keys, *(expect or ())]
    if key is not None:
        wanted.append(key)
    found = read_many(alias, wanted, pending)
    if expect and any(found.get(k) != v for k, v in expect.items()):
        raise StaleRead(", ".join(k for k, v in expect.items() if found.get(k) != v))
    missing = [k for k in gen_keys if not isinstance(found.get(k), int)]
    if missing:
        seed = time.time_ns()
        for gen_key in missing:
            guarded_call(alias, lambda c, k=gen_key: c.add(k, seed, timeout=None))  # type: ignore[misc]
        found.update(guarded_call(alias, lambda c: c.get_many(missing)))
    generations: dict[str, int] = {}
    for gen_key in gen_keys:
        value = found.get(gen_key)
        if not isinstance(value, int):  # e.g. DJANGO_REDIS_IGNORE_EXCEPTIONS hid an outage
            logger.warning(
                "Result cache %r returned no generation; running uncached",
                alias,
                extra={"event": "cache_unavailable", "cache_alias": alias},
            )
            raise CacheDown("generation not readable")
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

    return int(guarded_call(alias, op))


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
    pending: PendingCount | None = None,
) -> QueryResult:
    """Return the result of ``compiled`` on database ``alias``, from the cache when possible.

    ``scopes`` are the row scopes the statement was compiled under (any mapping or iterable of
    :class:`~prismiq_django.query.RowScope`); ``compute`` runs the statement and is called at
    most once. ``defer`` schedules the cache write of a computed result (and the release of the
    single-flight lock) for later, e.g. after the response is sent; it is called with a job that
    never raises. ``expect`` maps cache keys to the values the caller relied on (the services:
    the catalog's version token); they are read in the same round trip as the entry and
    :class:`StaleRead` is raised when one changed, before anything is served or computed. (With
    the cache off or unreachable nothing can be checked, and nothing is raised.) ``pending`` is
    the request's rate count (:class:`~prismiq_django.cache.counters.PendingCount`): sent in the
    same round trip as the first read, or alone before anything else when there is none (cache
    off, breaker open), and always before ``compute`` runs or anything is served; what its
    ``on_counted`` raises (the 429) propagates. Exceptions raised by ``compute`` propagate
    unchanged; cache failures never do.
    """
    ttl = prismiq_settings.RESULT_CACHE_TTL
    if ttl <= 0:
        if pending is not None:
            pending.settle()
        return _fresh(compute())
    cache_alias = configured_alias()
    schedule = defer or _run_now
    key = result_key(alias=alias, compiled=compiled, scopes=scopes)
    gen_keys = generation_keys(compiled.tables)
    try:
        generations, payload = _read(
            cache_alias, None if bypass else key, gen_keys, expect, pending
        )
    except CacheDown:
        if pending is not None:
            pending.settle()  # sent already on every path that got here; never skipped
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


def peek_result(
    *,
    key: str,
    gen_keys: list[str],
    expect: Mapping[str, object] | None = None,
    pending: PendingCount | None = None,
) -> QueryResult | None:
    """The entry of ``key`` if it can be served now, else None; never computes anything.

    The read :func:`fetch_result` starts with, for a caller that already has the key of the
    statement (``key`` and ``gen_keys`` as :func:`~prismiq_django.cache.keys.result_key` and
    :func:`~prismiq_django.cache.keys.generation_keys` give them): the same single round trip
    (``pending``'s count, ``expect``, the generations and the entry), the same rules for
    serving. A hit is counted (``prismiq_cache_requests_total{result="hit"}``); None (a miss, an
    entry of older generations, ``expect`` not met, the cache off or unreachable) counts nothing:
    the caller then runs :func:`fetch_result`, which counts what it finds. ``pending`` is sent
    whatever the outcome (alone when the cache is off or down); what its ``on_counted`` raises
    propagates before anything is decoded.
    """
    cache_alias = configured_alias()
    try:
        if prismiq_settings.RESULT_CACHE_TTL > 0:
            generations, payload = _read(cache_alias, key, gen_keys, expect, pending)
            hit = _usable(cache_alias, key, payload, generations)
        else:
            hit = None
    except (CacheDown, StaleRead):
        hit = None
    if pending is not None:
        pending.settle()  # a no-op when the read sent it
    if hit is not None:
        record_cache("hit")
    return hit


def _usable(
    cache_alias: str, key: str, payload: object, generations: Mapping[str, int]
) -> QueryResult | None:
    """The stored result if ``payload`` is a readable entry of the current generations."""
    if payload is None:
        return None
    try:
        result, stored = decode_entry(payload)
    except Exception as exc:
        logger.warning(
            "Unreadable result cache entry dropped (%s)",
            type(exc).__name__,
            extra={"event": "cache_bad_entry"},
        )
        with contextlib.suppress(CacheDown):
            guarded_call(cache_alias, lambda c: c.delete(key))
        return None
    return result if stored == generations else None


def _lookup(cache_alias: str, key: str, gen_keys: list[str]) -> QueryResult | None:
    generations, payload = _read(cache_alias, key, gen_keys)
    return _usable(cache_alias, key, payload, generations)


def _store(
    cache_alias: str, key: str, entry: Snapshot, ttl: int, generations: Mapping[str, int]
) -> None:
    try:
        with gc_paused():
            payload = encode_entry(entry, _now_iso(), generations)
    except Exception as exc:  # never fail the query over its cache entry
        logger.warning(
            "Result not cacheable (%s)", type(exc).__name__, extra={"event": "cache_unencodable"}
        )
        return
    with contextlib.suppress(CacheDown):  # already logged; the answer stays uncached
        guarded_call(cache_alias, lambda c: store(c, key, payload, ttl))


def _store_job(
    cache_alias: str, key: str, result: QueryResult, ttl: int, generations: Mapping[str, int]
) -> Callable[[], None]:
    """The write of ``result``'s entry, with the entry taken now (see :class:`Snapshot`)."""
    entry = snapshot(result)

    def job() -> None:
        if entry is not None:
            _store(cache_alias, key, entry, ttl, generations)

    return job


def _release(cache_alias: str, lock_key: str, token: str) -> None:
    try:
        if guarded_call(cache_alias, lambda c: c.get(lock_key)) == token:
            guarded_call(cache_alias, lambda c: c.delete(lock_key))
    except CacheDown:
        pass


def _single_flight(
    cache_alias: str,
    key: str,
    gen_keys: list[str],
    compute: Callable[[], QueryResult],
    ttl: int,
    schedule: Defer,
) -> QueryResult:
    timeout = prismiq_settings.QUERY_TIMEOUT or 30.0
    lock_ttl = max(1, int(timeout) + 5)
    lock_key = LOCK_PREFIX + key[len(RESULT_PREFIX) :]
    token = secrets.token_hex(8)
    deadline = time.monotonic() + lock_ttl
    pause = 0.005
    try:
        while True:
            if guarded_call(cache_alias, lambda c: c.add(lock_key, token, timeout=lock_ttl)):
                break
            if time.monotonic() >= deadline:
                return _fresh(compute())  # the lock holder is too slow: do not wait longer
            time.sleep(pause)
            pause = min(pause * 1.5, 0.1)
            hit = _lookup(cache_alias, key, gen_keys)
            if hit is not None:
                return hit
    except CacheDown:
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
    except CacheDown:
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
        return _bump(configured_alias(), table_key(table))
    except CacheDown:
        return 0


def invalidate_all() -> int:
    """Make every cached result unreachable; return the new global generation (0 on outage)."""
    try:
        return _bump(configured_alias(), GLOBAL_GENERATION_KEY)
    except CacheDown:
        return 0


__all__ = ["Defer", "StaleRead", "fetch_result", "invalidate", "invalidate_all", "peek_result"]
