"""The exposed catalog's store: this process's memo, the Django cache entry, its version token and
its invalidation.

The exposed catalog (without row scopes) is stored in the Django cache ``CACHE_ALIAS`` for
``SCHEMA_CACHE_TTL`` seconds under a *version* token, and memoised per process for the same
version, so a request costs one small cache read, not a decoding of the whole catalog. The entry
is compact JSON lines (:func:`~prismiq_django.catalog.codec.catalog_to_bytes`) under a key naming
its format, so an entry of another layout is never misread; a process that reads it decodes each
table when first used (:class:`~prismiq_django.catalog.codec.EncodedTables`); a table line that
turns out to be damaged then is taken from a catalog built again instead. The rendered ``schema``
response (:func:`prismiq_django.services.catalog.schema_json`) is kept the same way next to it.
:func:`invalidate_catalog` (called when exposure rows change, by ``prismiq_refresh_schema`` and
after migrations) stores a new version token, which every process reads before using its memo. A
cache outage never fails a request: this process keeps its catalog for up to the TTL (or builds
one from the database) until the cache is back.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from django.core.cache import caches
from django.db import router, transaction

from prismiq_django import cache as result_cache
from prismiq_django.catalog.codec import (
    CATALOG_FORMAT,
    catalog_from_bytes,
    catalog_to_bytes,
    tenant_columns,
)
from prismiq_django.catalog.exposure import apply_exposure, load_exposure
from prismiq_django.catalog.introspect import introspect
from prismiq_django.catalog.protected import protection_key
from prismiq_django.conf import prismiq_settings
from prismiq_django.ops.gcpause import gc_paused
from prismiq_django.query import (
    Catalog,
)
from prismiq_django.tenancy.scopes import scoped_catalog

logger = logging.getLogger("prismiq_django.services")

#: Runs a job later (e.g. after the response is sent); see :func:`schema_json`.
Defer: TypeAlias = Callable[[Callable[[], None]], None]
#: Version of the rendered ``schema`` body's layout (see :data:`SCHEMA_KEY_PREFIX`).
SCHEMA_FORMAT: Final = 1
CATALOG_VERSION_KEY: Final = "prismiq:catalog:version"
#: Cached catalogs: ``<prefix><version token>:<configuration hash>``; the prefix names the
#: encoding (:data:`~prismiq_django.catalog.codec.CATALOG_FORMAT`), so another layout is never read.
CATALOG_KEY_PREFIX: Final = f"prismiq:catalog:f{CATALOG_FORMAT}:"
#: Rendered ``schema`` response bodies, under the same version token and configuration hash.
SCHEMA_KEY_PREFIX: Final = f"prismiq:schema:f{SCHEMA_FORMAT}:"


@dataclass(slots=True)
class ProcessMemo:
    """This process's copy of one catalog version: the catalog (with its tenant tables, so
    that a request need not look through every table for them) and the rendered schema, each
    filled when first needed. ``version`` is "" when it was made while the cache was down.
    ``tenants`` is set before ``catalog``: whoever sees the catalog sees its tenant tables."""

    version: str
    built_at: float
    catalog: Catalog | None = None
    tenants: tuple[tuple[str, str], ...] = ()
    schema: bytes | None = None


_memo: dict[str, ProcessMemo] = {}
_memo_lock = threading.Lock()


def database_alias() -> str:
    return prismiq_settings.DATABASE


@dataclass(frozen=True, slots=True)
class _ConfigKey:
    """The last configuration hashed by :func:`configuration_key`, and its hash."""

    identity: tuple[str, ...]
    db_schema: object
    exposed: object
    protection: str
    key: str


_last_config_key: _ConfigKey | None = None


def configuration_key() -> str:
    """A hash of what the exposed catalog depends on besides the exposure rows: the database
    behind ``DATABASE``, ``DB_SCHEMA``, ``EXPOSED_TABLES`` and what is protected
    (:func:`~prismiq_django.catalog.protected.protection_key`: this release's list, the user and
    session models, ``PROTECTED_TABLES``...), read on every request.

    The hash (a ``repr`` of up to thousands of table names: benchmarks/README.md) is kept for the
    last configuration seen: the database identity is compared by value (``DATABASES`` may be
    edited in place, as the test runner does), the two settings by identity, as the settings
    accessor resolves them once per ``settings.PRISMIQ`` object and hands out the same objects
    until that is replaced (editing the lists in place at run time is not supported there
    either); a change through ``override_settings`` or the ``settings`` fixture also forgets the
    record (``setting_changed``), even when the new value is the same, edited, object. Holding
    them keeps their ids from being reused. Thread-safe: one immutable record, read once and
    replaced whole.
    """
    global _last_config_key
    # The same database identity as the result cache's keys: sites sharing one Redis through
    # the same alias and database name on other hosts never share a catalog.
    identity = result_cache.database_identity(database_alias())
    db_schema = prismiq_settings.DB_SCHEMA
    exposed = prismiq_settings.EXPOSED_TABLES
    protection = protection_key()  # kept by prismiq_django.catalog.protected, compared by value
    last = _last_config_key
    if (
        last is not None
        and last.exposed is exposed
        and last.db_schema is db_schema
        and last.protection == protection
        and last.identity == identity
    ):
        return last.key
    raw = repr((identity, db_schema, exposed, protection))
    key = hashlib.sha256(raw.encode()).hexdigest()[:24]
    _last_config_key = _ConfigKey(identity, db_schema, exposed, protection, key)
    return key


def forget_configuration_key(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver (connected in ``AppConfig.ready()``)."""
    global _last_config_key
    if setting in ("PRISMIQ", "DATABASES"):
        _last_config_key = None


def build_exposed_catalog() -> Catalog:
    """Introspect the analytics database and apply the exposure configuration (no cache)."""
    raw = introspect(database_alias(), db_schema=prismiq_settings.DB_SCHEMA)
    config = load_exposure(prismiq_settings.EXPOSED_TABLES)
    return apply_exposure(raw, config)


def _version_ttl() -> int:
    # Outlives every catalog entry; when it expires a new token only forces one rebuild.
    return max(2 * prismiq_settings.SCHEMA_CACHE_TTL, 86_400)


def _cache_version(cache: Any) -> str:
    version = cache.get(CATALOG_VERSION_KEY)
    if isinstance(version, str):
        return version
    fresh = secrets.token_hex(8)
    cache.add(CATALOG_VERSION_KEY, fresh, _version_ttl())
    stored = cache.get(CATALOG_VERSION_KEY)
    return stored if isinstance(stored, str) else fresh


def current_memo(config_key: str, ttl: int) -> tuple[ProcessMemo, Any | None]:
    """Return this process's memo of the current catalog version and the Django cache to fill
    (None while the cache is down). One cache read when the memo is fresh."""
    cache_alias = prismiq_settings.CACHE_ALIAS
    now = time.monotonic()
    memo = _memo.get(config_key)
    try:
        if result_cache.breaker.is_open(cache_alias):
            raise ConnectionError("cache breaker open")
        cache = caches[cache_alias]
        version = _cache_version(cache)
    except Exception:
        # Down: share the result cache's breaker (one connect timeout per outage, not one per
        # request) and keep serving this process's catalog for up to its TTL rather than
        # introspecting on every request. Invalidations cannot travel while the cache is down.
        if not result_cache.breaker.is_open(cache_alias):
            result_cache.breaker.trip(cache_alias)
            logger.warning("prismiq schema cache unavailable", exc_info=True)
        if memo is None or now - memo.built_at >= ttl:
            # No version: refreshed once the cache is back.
            memo = _remember(config_key, ProcessMemo("", now))
        return memo, None
    if memo is None or memo.version != version or now - memo.built_at >= ttl:
        memo = _remember(config_key, ProcessMemo(version, now))
    return memo, cache


def _remember(config_key: str, memo: ProcessMemo) -> ProcessMemo:
    with _memo_lock:
        _memo[config_key] = memo
    return memo


def memo_catalog(
    memo: ProcessMemo, cache: Any | None, config_key: str, ttl: int, defer: Defer | None = None
) -> Catalog:
    """Fill ``memo.catalog`` from the Django cache, or build (and store) it."""
    catalog = memo.catalog
    if catalog is not None:
        return catalog
    key = f"{CATALOG_KEY_PREFIX}{memo.version}:{config_key}"
    if cache is not None:
        try:
            stored = cache.get(key)
            if stored is not None:
                catalog = catalog_from_bytes(stored, lambda: _rebuild_damaged(cache, key, ttl))
        except Exception:
            logger.warning("prismiq schema cache entry unreadable; rebuilding", exc_info=True)
    if catalog is None:
        with gc_paused():  # tens of thousands of objects without cycles (see gcpause)
            catalog = build_exposed_catalog()
        if cache is not None:
            built = catalog
            store_entry(cache, key, lambda: catalog_to_bytes(built), ttl, defer)
    # Two threads may both fill it: same content, last one kept.
    memo.tenants = tenant_columns(catalog)  # from the index when decoded: no table decoded
    memo.catalog = catalog
    return catalog


def _rebuild_damaged(cache: Any, key: str, ttl: int) -> Catalog:
    """The catalog built again for a cached entry with a table line that cannot be decoded
    (found only when that table is first used), stored over the damaged entry."""
    logger.warning("prismiq schema cache entry damaged; rebuilding", exc_info=True)
    with gc_paused():
        catalog = build_exposed_catalog()
    store_entry(cache, key, lambda: catalog_to_bytes(catalog), ttl, None)
    return catalog


def store_entry(
    cache: Any, key: str, value: Callable[[], bytes], ttl: int, defer: Defer | None
) -> None:
    """Encode and write a schema cache entry now, or hand that job to ``defer``."""

    def job() -> None:
        try:
            with gc_paused():
                cache.set(key, value(), ttl)
        except Exception:
            logger.warning("prismiq schema cache write failed", exc_info=True)

    if defer is None:
        job()
    else:
        defer(job)


def exposed_catalog() -> Catalog:
    """Return the exposed catalog without row scopes, from the memo/cache when fresh."""
    return exposed_with_tenants()[0]


def exposed_with_tenants() -> tuple[Catalog, tuple[tuple[str, str], ...]]:
    """:func:`exposed_catalog` and its ``(table, tenant column)`` pairs."""
    ttl = prismiq_settings.SCHEMA_CACHE_TTL
    if ttl <= 0:
        catalog = build_exposed_catalog()
        return catalog, tenant_columns(catalog)
    config_key = configuration_key()
    memo, cache = current_memo(config_key, ttl)
    catalog = memo_catalog(memo, cache, config_key, ttl)
    return catalog, memo.tenants


def process_memos() -> dict[str, ProcessMemo]:
    """A copy of this process's memos by configuration key (what a worker holds right now)."""
    with _memo_lock:
        return dict(_memo)


def restore_process_memos(memos: dict[str, ProcessMemo]) -> None:
    """Put back memos taken with :func:`process_memos`: this process then holds what a worker
    that never saw a later change itself would hold (the version token must still catch it)."""
    with _memo_lock:
        _memo.update(memos)


def forget_process_memo() -> None:
    """Forget this process's memo (as a freshly started worker has none); the cache entries and
    the version token stay as they are."""
    with _memo_lock:
        _memo.clear()


def invalidate_catalog() -> None:
    """Drop the cached catalog in every process (new version token) and in this one.

    Called while exposure rows change, usually inside a transaction (the admin saves in one).
    Another process may rebuild from the rows as they were before the commit and cache that old
    catalog under the new token, so when the exposure models' database is in a transaction the
    token is renewed once more when it commits.
    """
    _renew_catalog_version()
    from prismiq_django.models import ExposedTable

    using = router.db_for_write(ExposedTable)
    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(_renew_catalog_version, using=using, robust=True)


def _renew_catalog_version() -> None:
    with _memo_lock:
        _memo.clear()
    try:
        caches[prismiq_settings.CACHE_ALIAS].set(
            CATALOG_VERSION_KEY, secrets.token_hex(8), _version_ttl()
        )
    except Exception:
        logger.warning("prismiq schema cache invalidation failed", exc_info=True)


def unverified_catalog(request: object) -> tuple[Catalog, str] | None:
    """This process's catalog (with ``request``'s row scopes) and the version token it was
    built for, without reading the token from the cache; None when there is no such memo.

    Only for :func:`_execute`, which hands the token to the result cache: the cache reads it in
    the same round trip as the entry and refuses (``StaleRead``) when it changed, so a cache
    hit costs one round trip and an invalidation still takes effect on the very next request.
    """
    ttl = prismiq_settings.SCHEMA_CACHE_TTL
    if ttl <= 0 or prismiq_settings.RESULT_CACHE_TTL <= 0:
        return None
    memo = _memo.get(configuration_key())
    if memo is None or not memo.version:
        return None
    catalog = memo.catalog  # read before its tenant tables (see ProcessMemo)
    if catalog is None or time.monotonic() - memo.built_at >= ttl:
        return None
    return scoped_catalog(request, catalog, memo.tenants), memo.version


__all__ = [
    "CATALOG_KEY_PREFIX",
    "CATALOG_VERSION_KEY",
    "SCHEMA_FORMAT",
    "SCHEMA_KEY_PREFIX",
    "Defer",
    "ProcessMemo",
    "build_exposed_catalog",
    "configuration_key",
    "current_memo",
    "database_alias",
    "exposed_catalog",
    "exposed_with_tenants",
    "forget_configuration_key",
    "forget_process_memo",
    "invalidate_catalog",
    "memo_catalog",
    "process_memos",
    "restore_process_memos",
    "store_entry",
    "unverified_catalog",
]
