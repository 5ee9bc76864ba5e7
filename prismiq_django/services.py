"""The single entry point the HTTP layer (and commands) call.

``request`` is the Django/DRF request, or None for "no tenant" (commands, tests). Every function
works on the exposed catalog of that request: unexposed tables and hidden columns do not exist
here, so asking for one fails exactly like asking for something absent.

Errors: :class:`~prismiq_django.query.QueryValidationError` for bad definitions,
:class:`~prismiq_django.exceptions.ObjectNotFound` for unknown names,
:class:`~prismiq_django.exceptions.QueryTimeout`,
:class:`~prismiq_django.exceptions.DatabaseUnavailable` and
:class:`~prismiq_django.exceptions.QueryExecutionError` from execution.

Catalog cache: the exposed catalog (without row scopes) is stored in the Django cache
``CACHE_ALIAS`` for ``SCHEMA_CACHE_TTL`` seconds under a *version* token, and memoised per
process for the same version, so a request costs one small cache read, not a decoding of the
whole catalog. The entry is compact JSON lines (:func:`~prismiq_django.exposure.catalog_to_bytes`)
under a key naming its format, so an entry of another layout is never misread; a process that
reads it decodes each table when first used (:class:`~prismiq_django.exposure.EncodedTables`);
a table line that turns out to be damaged then is taken from a catalog built again instead.
The rendered ``schema`` response (:func:`schema_json`) is kept the same way next to it.
:func:`invalidate_catalog` (called when exposure rows change, by ``prismiq_refresh_schema`` and
after migrations) stores a new version token, which every process reads before using its memo.
A cache outage never fails a request: this process keeps its catalog for up to the TTL (or builds
one from the database) until the cache is back.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import orjson
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import connections, router, transaction
from django.utils import timezone

from prismiq_django import cache as result_cache
from prismiq_django.afterresponse import defer_for
from prismiq_django.conf import prismiq_settings
from prismiq_django.exceptions import (
    DatabaseUnavailable,
    ObjectNotFound,
    QueryTimeout,
    ValueOutOfRange,
)
from prismiq_django.execution import QueryResult, execute_compiled, explain_compiled
from prismiq_django.exposure import (
    CATALOG_FORMAT,
    TableFragments,
    apply_exposure,
    catalog_from_bytes,
    catalog_to_bytes,
    load_exposure,
    tenant_columns,
)
from prismiq_django.gcpause import gc_paused
from prismiq_django.introspection import introspect
from prismiq_django.observability import fingerprint, record_query
from prismiq_django.plans import redact_plan
from prismiq_django.protected import protection_key
from prismiq_django.query import (
    Catalog,
    Compiled,
    ErrorDetail,
    Limits,
    QueryValidationError,
    RowScope,
    Table,
    compile_query,
    get_dialect,
    parse,
)
from prismiq_django.query.ast import Query
from prismiq_django.query.dialects import zoned_timestamp
from prismiq_django.query.errors import pointer
from prismiq_django.query.jsonrows import json_rows_sql

logger = logging.getLogger("prismiq_django.services")

#: Runs a job later (e.g. after the response is sent); see :func:`schema_json`.
Defer: TypeAlias = Callable[[Callable[[], None]], None]
#: Version of the rendered ``schema`` body's layout (see :data:`SCHEMA_KEY_PREFIX`).
SCHEMA_FORMAT: Final = 1
CATALOG_VERSION_KEY: Final = "prismiq:catalog:version"
#: Cached catalogs: ``<prefix><version token>:<configuration hash>``; the prefix names the
#: encoding (:data:`~prismiq_django.exposure.CATALOG_FORMAT`), so another layout is never read.
CATALOG_KEY_PREFIX: Final = f"prismiq:catalog:f{CATALOG_FORMAT}:"
#: Rendered ``schema`` response bodies, under the same version token and configuration hash.
SCHEMA_KEY_PREFIX: Final = f"prismiq:schema:f{SCHEMA_FORMAT}:"
#: Largest ``limit`` of :func:`column_values` (SPEC section 5).
MAX_COLUMN_VALUES: Final = 1_000


# --- catalog ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Memo:
    """This process's copy of one catalog version: the catalog (with its tenant tables, so
    that a request need not look through every table for them) and the rendered schema, each
    filled when first needed. ``version`` is "" when it was made while the cache was down.
    ``tenants`` is set before ``catalog``: whoever sees the catalog sees its tenant tables."""

    version: str
    built_at: float
    catalog: Catalog | None = None
    tenants: tuple[tuple[str, str], ...] = ()
    schema: bytes | None = None


_memo: dict[str, _Memo] = {}
_memo_lock = threading.Lock()


def _alias() -> str:
    return str(prismiq_settings.DATABASE)


@dataclass(frozen=True, slots=True)
class _ConfigKey:
    """The last configuration hashed by :func:`_config_key`, and its hash."""

    identity: tuple[str, ...]
    db_schema: object
    exposed: object
    protection: str
    key: str


_last_config_key: _ConfigKey | None = None


def _config_key() -> str:
    """A hash of what the exposed catalog depends on besides the exposure rows: the database
    behind ``DATABASE``, ``DB_SCHEMA``, ``EXPOSED_TABLES`` and what is protected
    (:func:`~prismiq_django.protected.protection_key`: this release's list, the user and session
    models, ``PROTECTED_TABLES``...), read on every request.

    The hash (a ``repr`` of up to thousands of table names, ~0.2 ms at 1,000) is kept for the
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
    identity = result_cache.database_identity(_alias())
    db_schema = prismiq_settings.DB_SCHEMA
    exposed = prismiq_settings.EXPOSED_TABLES
    protection = protection_key()  # kept by prismiq_django.protected, compared by value
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


def _forget_config_key(*, setting: str, **kwargs: Any) -> None:
    global _last_config_key
    if setting in ("PRISMIQ", "DATABASES"):
        _last_config_key = None


setting_changed.connect(_forget_config_key)


def build_exposed_catalog() -> Catalog:
    """Introspect the analytics database and apply the exposure configuration (no cache)."""
    raw = introspect(_alias(), db_schema=prismiq_settings.DB_SCHEMA)
    config = load_exposure(prismiq_settings.EXPOSED_TABLES)
    return apply_exposure(raw, config)


def _version_ttl() -> int:
    # Outlives every catalog entry; when it expires a new token only forces one rebuild.
    return max(2 * int(prismiq_settings.SCHEMA_CACHE_TTL or 0), 86_400)


def _cache_version(cache: Any) -> str:
    version = cache.get(CATALOG_VERSION_KEY)
    if isinstance(version, str):
        return version
    fresh = secrets.token_hex(8)
    cache.add(CATALOG_VERSION_KEY, fresh, _version_ttl())
    stored = cache.get(CATALOG_VERSION_KEY)
    return stored if isinstance(stored, str) else fresh


def _current(config_key: str, ttl: int) -> tuple[_Memo, Any | None]:
    """Return this process's memo of the current catalog version and the Django cache to fill
    (None while the cache is down). One cache read when the memo is fresh."""
    cache_alias = str(prismiq_settings.CACHE_ALIAS)
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
            memo = _remember(config_key, _Memo("", now))  # no version: refreshed once it is back
        return memo, None
    if memo is None or memo.version != version or now - memo.built_at >= ttl:
        memo = _remember(config_key, _Memo(version, now))
    return memo, cache


def _remember(config_key: str, memo: _Memo) -> _Memo:
    with _memo_lock:
        _memo[config_key] = memo
    return memo


def _memo_catalog(
    memo: _Memo, cache: Any | None, config_key: str, ttl: int, defer: Defer | None = None
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
            _store(cache, key, lambda: catalog_to_bytes(built), ttl, defer)
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
    _store(cache, key, lambda: catalog_to_bytes(catalog), ttl, None)
    return catalog


def _store(cache: Any, key: str, value: Callable[[], bytes], ttl: int, defer: Defer | None) -> None:
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
    return _exposed()[0]


def _exposed() -> tuple[Catalog, tuple[tuple[str, str], ...]]:
    """:func:`exposed_catalog` and its ``(table, tenant column)`` pairs."""
    ttl = int(prismiq_settings.SCHEMA_CACHE_TTL or 0)
    if ttl <= 0:
        catalog = build_exposed_catalog()
        return catalog, tenant_columns(catalog)
    config_key = _config_key()
    memo, cache = _current(config_key, ttl)
    catalog = _memo_catalog(memo, cache, config_key, ttl)
    return catalog, memo.tenants


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
        caches[str(prismiq_settings.CACHE_ALIAS)].set(
            CATALOG_VERSION_KEY, secrets.token_hex(8), _version_ttl()
        )
    except Exception:
        logger.warning("prismiq schema cache invalidation failed", exc_info=True)


def get_row_scopes(request: object, catalog: Catalog) -> list[RowScope]:
    """Return the row scopes for ``request``: one per table that has a tenant column.

    The tenant value comes from ``PRISMIQ["TENANT_CALLBACK"](request)``; a list, tuple or set
    means "any of these tenants". With no request, no callback or a None value there is no
    scope, and the compiler refuses every tenant table (fail closed).
    """
    return _row_scopes(request, tenant_columns(catalog))


def _row_scopes(request: object, tenants: tuple[tuple[str, str], ...]) -> list[RowScope]:
    """:func:`get_row_scopes` for the catalog whose tenant tables are ``tenants``."""
    if not tenants or request is None:
        return []
    callback = prismiq_settings.tenant_callback
    if callback is None:
        return []
    value = callback(request)
    if value is None:
        return []
    values = tuple(value) if isinstance(value, list | tuple | set | frozenset) else (value,)
    return [RowScope(table, column, values) for table, column in tenants]


def _scoped(request: object, catalog: Catalog, tenants: tuple[tuple[str, str], ...]) -> Catalog:
    scopes = _row_scopes(request, tenants)
    return catalog.with_row_scopes(scopes) if scopes else catalog


def get_catalog(request: object = None) -> Catalog:
    """Return the exposed catalog with the row scopes of ``request`` in force."""
    return _scoped(request, *_exposed())


# --- schema -----------------------------------------------------------------------------------


def table_dict(table: Table) -> dict[str, Any]:
    """Return the TableSchema of SPEC section 5 (plus each column's ``format_hint``)."""
    return {
        "name": table.name,
        "schema_name": table.schema_name,
        "display_name": table.display_name or table.name,
        "description": table.description,
        # The estimate counts every tenant's rows: not shown for a table with a tenant column.
        "row_count": None if table.tenant_column else table.row_count,
        "columns": [
            {
                "name": c.name,
                "data_type": c.data_type,
                "type": c.type,
                "is_nullable": c.is_nullable,
                "is_primary_key": c.is_primary_key,
                "default_value": c.default_value,
                "display_name": c.display_name or c.name,
                "description": c.description,
                "format_hint": c.format_hint,
            }
            for c in table.columns
        ],
    }


def _relationship_dicts(catalog: Catalog) -> list[dict[str, str]]:
    return [
        {
            "from_table": r.from_table,
            "from_column": r.from_column,
            "to_table": r.to_table,
            "to_column": r.to_column,
        }
        for r in catalog.relationships
    ]


def schema(request: object) -> dict[str, Any]:
    """Return ``{"tables": [TableSchema], "relationships": [...]}`` sorted by table name."""
    catalog = get_catalog(request)
    return {
        "tables": [table_dict(table) for table in _sorted_tables(catalog)],
        "relationships": _relationship_dicts(catalog),
    }


def _sorted_tables(catalog: Catalog) -> Iterator[Table]:
    """The catalog's tables by name; a table of a cached catalog's index that is damaged and gone
    from the catalog built instead (see :class:`~prismiq_django.exposure.EncodedTables`) is left
    out."""
    for name in sorted(catalog.tables):
        table = catalog.tables.get(name)
        if table is not None:
            yield table


# What PrismiqJSONRenderer writes for table_dict (plain orjson, no options), kept per table.
_rendered_tables = TableFragments(lambda table: orjson.dumps(table_dict(table)))


def _render_schema(catalog: Catalog) -> bytes:
    """:func:`schema`'s dict as the renderer writes it, byte for byte; tables unchanged since
    the last rendering are not rendered again."""
    with gc_paused():  # one dict per column, no cycles (see gcpause)
        tail = b',"relationships":' + orjson.dumps(_relationship_dicts(catalog)) + b"}"
        return _rendered_tables.document(b'{"tables":', _sorted_tables(catalog), tail)


def schema_json(request: object, *, defer: Defer | None = None) -> bytes:
    """Return :func:`schema` as the JSON body of the ``schema`` response, rendered once per
    catalog version.

    The body does not depend on ``request``: row scopes restrict rows, not the schema
    (:func:`table_dict` reads no scope, and hides ``row_count`` of every tenant table whoever
    asks). So it is kept in this process's memo and in the Django cache next to the catalog,
    under the same version token: a request then costs one small cache read, a fresh process one
    read of the body (not a decoding of the catalog), and :func:`invalidate_catalog` drops it
    everywhere with the catalog.

    ``defer``, when given, receives the jobs that encode and write new cache entries (megabytes
    at 1,000 tables) instead of running them at once, e.g. to run them after the response has
    been sent. Until they ran, other processes rebuild as if nothing were cached.
    """
    ttl = int(prismiq_settings.SCHEMA_CACHE_TTL or 0)
    if ttl <= 0:
        return _render_schema(exposed_catalog())
    config_key = _config_key()
    memo, cache = _current(config_key, ttl)
    body = memo.schema
    if body is not None:
        return body
    key = f"{SCHEMA_KEY_PREFIX}{memo.version}:{config_key}"
    if cache is not None:
        try:
            stored = cache.get(key)
            if isinstance(stored, bytes):
                body = stored
        except Exception:
            logger.warning("prismiq schema cache read failed", exc_info=True)
    if body is None:
        rendered = _render_schema(_memo_catalog(memo, cache, config_key, ttl, defer))
        if cache is not None:
            _store(cache, key, lambda: rendered, ttl, defer)
        body = rendered
    memo.schema = body
    return body


def table_names(request: object) -> list[str]:
    """Return the exposed table names, sorted."""
    return sorted(get_catalog(request).tables)


def table_schema(request: object, name: str) -> dict[str, Any]:
    """Return one TableSchema; raises :class:`ObjectNotFound` for unknown or unexposed names."""
    table = get_catalog(request).table(name)
    if table is None:
        raise ObjectNotFound(f"Table {name!r} not found.")
    return table_dict(table)


# --- queries ----------------------------------------------------------------------------------


def limits() -> Limits:
    """The complexity limits from settings."""
    return Limits(
        max_rows=int(prismiq_settings.MAX_ROWS),
        max_tables=int(prismiq_settings.MAX_TABLES),
        max_columns=int(prismiq_settings.MAX_COLUMNS),
        max_filters=int(prismiq_settings.MAX_FILTERS),
        max_depth=int(prismiq_settings.MAX_DEPTH),
        max_list_values=int(prismiq_settings.MAX_LIST_VALUES),
    )


def _prepare(
    request: object, definition: object, catalog: Catalog | None = None
) -> tuple[Catalog, Query, Compiled]:
    """Parse and compile ``definition`` against ``catalog``: by default the catalog of
    ``request``, or one the caller already built for it (row scopes included)."""
    if catalog is None:
        catalog = get_catalog(request)
    query = parse(
        definition,
        catalog,
        limits=limits(),
        now=timezone.now(),
        tz=timezone.get_current_timezone(),
    )
    compiled = compile_query(query, catalog, get_dialect(connections[_alias()].vendor))
    return catalog, query, compiled


def validate(request: object, definition: object) -> list[ErrorDetail]:
    """Return every problem of ``definition`` (``[]`` when it would compile)."""
    try:
        _prepare(request, definition)
    except QueryValidationError as exc:
        return list(exc.errors)
    return []


def to_sql(request: object, definition: object) -> Compiled:
    """Return the exact statement :func:`execute` would run; raises QueryValidationError."""
    return _prepare(request, definition)[2]


def _json_rows_sql(alias: str, query: Query, compiled: Compiled) -> str | None:
    """The statement wrapped so PostgreSQL encodes the rows (see :mod:`~.query.jsonrows`).

    Only where its JSON is the Python path's: PostgreSQL with the session in UTC (``USE_TZ``,
    Django's default for aware datetimes).
    """
    connection = connections[alias]
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        return None
    if connection.timezone_name != "UTC":
        return None
    return json_rows_sql(query, compiled.sql)


def _run(
    request: object,
    catalog: Catalog,
    query: Query,
    compiled: Compiled,
    *,
    bypass: bool,
    expect: Mapping[str, object] | None = None,
) -> QueryResult:
    alias = _alias()
    timeout = float(prismiq_settings.QUERY_TIMEOUT)
    column_types = [item.expr.type for item in query.select]
    wall_clock = frozenset(
        i for i, item in enumerate(query.select) if item.expr.date_trunc is not None
    )

    def compute() -> QueryResult:
        return execute_compiled(
            compiled,
            alias=alias,
            timeout=timeout,
            column_types=column_types,
            wall_clock=wall_clock,
            json_sql=_json_rows_sql(alias, query, compiled),
        )

    started = time.perf_counter()
    result: QueryResult | None = None
    status = "error"
    try:
        result = result_cache.fetch_result(
            alias=alias,
            compiled=compiled,
            scopes=catalog.row_scopes,
            compute=compute,
            bypass=bypass,
            defer=defer_for(request),
            expect=expect,
        )
        status = "ok"
        return result
    except result_cache.StaleRead:
        status = ""  # not an outcome: the caller asks again with a fresh catalog
        raise
    except QueryTimeout:
        status = "timeout"
        raise
    except DatabaseUnavailable:
        status = "unavailable"
        raise
    except ValueOutOfRange:
        status = "invalid"  # answered as a validation error (see out_of_range), not a failure
        raise
    finally:
        if status:
            record_query(
                fingerprint=fingerprint(compiled.sql),
                duration_s=time.perf_counter() - started,
                rows=result.row_count if result is not None else 0,
                cache_hit=result is not None and result.is_from_cache,
                status=status,
            )


def execute(request: object, definition: object, *, bypass_cache: bool = False) -> QueryResult:
    """Validate, compile and run ``definition`` (through the result cache).

    Every call is counted in ``prismiq_queries_total``: a refused definition as ``invalid`` and a
    database that cannot be reached while loading the schema as ``unavailable`` (both with an
    empty fingerprint: there is no statement).
    """
    return _execute(request, definition, bypass_cache=bypass_cache)


def _unverified_catalog(request: object) -> tuple[Catalog, str] | None:
    """This process's catalog (with ``request``'s row scopes) and the version token it was
    built for, without reading the token from the cache; None when there is no such memo.

    Only for :func:`_execute`, which hands the token to the result cache: the cache reads it in
    the same round trip as the entry and refuses (``StaleRead``) when it changed, so a cache
    hit costs one round trip and an invalidation still takes effect on the very next request.
    """
    ttl = int(prismiq_settings.SCHEMA_CACHE_TTL or 0)
    if ttl <= 0 or int(prismiq_settings.RESULT_CACHE_TTL or 0) <= 0:
        return None
    memo = _memo.get(_config_key())
    if memo is None or not memo.version:
        return None
    catalog = memo.catalog  # read before its tenant tables (see _Memo)
    if catalog is None or time.monotonic() - memo.built_at >= ttl:
        return None
    return _scoped(request, catalog, memo.tenants), memo.version


def _record_unrun(status: str, started: float) -> None:
    """Count a query that never reached the database (refused, or no catalog to check it)."""
    record_query(
        fingerprint="",
        duration_s=time.perf_counter() - started,
        rows=0,
        cache_hit=False,
        status=status,
    )


def _execute(
    request: object,
    definition: object,
    *,
    bypass_cache: bool = False,
    catalog: Catalog | None = None,
    optimistic: bool = True,
) -> QueryResult:
    """:func:`execute`, optionally on a catalog already built for ``request`` (so that the
    catalog and the row scopes, i.e. ``TENANT_CALLBACK``, are not resolved twice).

    Without one, and with ``optimistic``, the process's catalog is used unverified and its
    version token is checked by the result cache in the same read as the entry
    (:func:`_unverified_catalog`); when it turns out stale (or the definition is refused by the
    unverified catalog) the run starts again on the verified catalog.
    """
    started = time.perf_counter()
    expect: dict[str, object] | None = None
    if catalog is None and optimistic:
        unverified = _unverified_catalog(request)
        if unverified is not None:
            catalog, version = unverified
            expect = {CATALOG_VERSION_KEY: version}
    try:
        catalog, query, compiled = _prepare(request, definition, catalog)
    except QueryValidationError:
        if expect is not None:  # perhaps refused by a stale catalog: decide on the current one
            return _execute(request, definition, bypass_cache=bypass_cache, optimistic=False)
        _record_unrun("invalid", started)
        raise
    except DatabaseUnavailable:
        _record_unrun("unavailable", started)
        raise
    try:
        return _run(request, catalog, query, compiled, bypass=bypass_cache, expect=expect)
    except result_cache.StaleRead:
        return _execute(request, definition, bypass_cache=bypass_cache, optimistic=False)
    except ValueOutOfRange as exc:
        raise out_of_range(definition, query) from exc


#: Why a query whose time buckets the database cannot compute is refused (SPEC: a value that
#: does not fit is a validation error, never a 500).
OUT_OF_RANGE_MESSAGE: Final = (
    "Some rows fall in a time bucket that has no date the database can represent in the site's"
    " time zone (within a day of PostgreSQL's earliest or latest timestamp): filter them out or"
    " use a coarser interval."
)


def out_of_range(definition: object, query: Query) -> QueryValidationError:
    """The 400 for :class:`~prismiq_django.exceptions.ValueOutOfRange`: one ``invalid_value``
    error per time bucket of ``query`` (parsed from ``definition``) that can meet it: a bucket of
    a ``timestamptz`` column, whose wall-clock time in the site's zone is computed
    (:func:`~prismiq_django.query.dialects.zoned_timestamp`). Paths as in the request:
    ``/time_series/interval`` (the first output column when there is one), then
    ``/columns/N/date_trunc``. Every bucket if none is zoned; the whole document (``""``) if
    there is no bucket at all."""
    series = isinstance(definition, Mapping) and isinstance(definition.get("time_series"), Mapping)
    first_column = 1 if series else 0  # the bucket of a time_series is output column 0
    zoned: list[str] = []
    others: list[str] = []
    for index, item in enumerate(query.select):
        if item.expr.date_trunc is None:
            continue
        if series and index == 0:
            path = pointer("time_series", "interval")
        else:
            path = pointer("columns", index - first_column, "date_trunc")
        (zoned if zoned_timestamp(item.expr.col.column) else others).append(path)
    paths = zoned or others or [""]
    return QueryValidationError(
        [ErrorDetail("invalid_value", OUT_OF_RANGE_MESSAGE, path) for path in paths]
    )


def _bad_limit(message: str) -> QueryValidationError:
    return QueryValidationError([ErrorDetail("invalid_value", message, "/limit")])


def preview(request: object, definition: object, *, limit: int = 100) -> QueryResult:
    """Run ``definition`` with at most ``limit`` rows (the smaller of it and the query's own)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise _bad_limit("The preview limit must be an integer >= 0.")
    if isinstance(definition, Mapping):
        requested = definition.get("limit")
        capped = dict(definition)
        if requested is None:
            capped["limit"] = limit
        elif isinstance(requested, int) and not isinstance(requested, bool) and requested >= 0:
            capped["limit"] = min(requested, limit)
        definition = capped
    return execute(request, definition)


def explain(request: object, definition: object, *, analyze: bool = False) -> Any:
    """Return the database's plan for ``definition`` (JSON on PostgreSQL).

    Index names, and names and expressions of relations that are not exposed tables (under an
    exposed view), are redacted: see :func:`prismiq_django.plans.redact_plan`.
    """
    catalog, query, compiled = _prepare(request, definition)
    try:
        plan = explain_compiled(
            compiled,
            alias=_alias(),
            timeout=float(prismiq_settings.QUERY_TIMEOUT),
            analyze=analyze,
        )
    except ValueOutOfRange as exc:  # EXPLAIN ANALYZE runs the statement
        raise out_of_range(definition, query) from exc
    return redact_plan(plan, catalog.tables.keys())


def column_values(
    request: object,
    table: str,
    column: str,
    *,
    limit: int = 100,
    search: str | None = None,
) -> list[Any]:
    """Return the distinct non-null values of an exposed column, sorted, at most ``limit``.

    ``search`` keeps values containing it (case-insensitive; text columns only, otherwise
    :class:`QueryValidationError` with path ``/search``). Raises :class:`ObjectNotFound` for
    an unknown, unexposed or hidden table or column; goes through the same parser and row
    scopes as any query.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise _bad_limit("The limit must be an integer >= 0.")
    # One catalog (and one TENANT_CALLBACK call) for the lookup and the run.
    catalog = get_catalog(request)
    found = catalog.table(table)
    target = found.column(column) if found is not None else None
    if target is None:
        raise ObjectNotFound(f"Column {column!r} of table {table!r} not found.")
    if search and target.type != "string":
        raise QueryValidationError(
            [
                ErrorDetail(
                    "invalid_operator", "Search is only available on text columns.", "/search"
                )
            ]
        )
    ref = {"table_id": "t", "column": column}
    filters: list[dict[str, Any]] = [{**ref, "operator": "is_not_null", "value": None}]
    if search:
        filters.append({**ref, "operator": "contains", "value": search})
    definition = {
        "tables": [{"id": "t", "name": table}],
        "columns": [ref],
        "filters": filters,
        "group_by": [ref],
        "order_by": [{**ref, "direction": "ASC"}],
        "limit": min(limit, MAX_COLUMN_VALUES),
    }
    return [row[0] for row in _execute(request, definition, catalog=catalog).rows]


__all__ = [
    "CATALOG_VERSION_KEY",
    "MAX_COLUMN_VALUES",
    "build_exposed_catalog",
    "column_values",
    "execute",
    "explain",
    "exposed_catalog",
    "get_catalog",
    "get_row_scopes",
    "invalidate_catalog",
    "limits",
    "preview",
    "schema",
    "schema_json",
    "table_dict",
    "table_names",
    "table_schema",
    "to_sql",
    "validate",
]
