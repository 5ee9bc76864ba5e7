"""The query services: validate, compile (``to_sql``), execute, preview and explain, each on the
exposed catalog of ``request`` (row scopes in force); the distinct values of a column are in
:mod:`prismiq_django.services.values`.

Errors: :class:`~prismiq_django.query.QueryValidationError` for bad definitions,
:class:`~prismiq_django.exceptions.ObjectNotFound` for unknown names,
:class:`~prismiq_django.exceptions.QueryTimeout`,
:class:`~prismiq_django.exceptions.DatabaseUnavailable` and
:class:`~prismiq_django.exceptions.QueryExecutionError` from execution.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from django.conf import settings
from django.db import connections
from django.utils import timezone

from prismiq_django import cache as result_cache
from prismiq_django.cache.counters import pending_for, settle_pending
from prismiq_django.catalog.store import CATALOG_VERSION_KEY, database_alias, unverified_catalog
from prismiq_django.conf import prismiq_settings
from prismiq_django.exceptions import (
    DatabaseUnavailable,
    QueryTimeout,
    ValueOutOfRange,
)
from prismiq_django.execution import (
    QueryResult,
    execute_compiled,
    explain_compiled,
    session_settings,
)
from prismiq_django.execution.plans import redact_plan
from prismiq_django.ops.afterresponse import defer_for
from prismiq_django.ops.observability import QueryStatus, fingerprint, record_query
from prismiq_django.query import (
    Catalog,
    Compiled,
    ErrorDetail,
    QueryValidationError,
    get_dialect,
    parse,
)
from prismiq_django.query.ast import Query
from prismiq_django.query.bucketlabels import zone_params
from prismiq_django.query.dialects import zoned_timestamp
from prismiq_django.query.errors import pointer
from prismiq_django.query.jsonrows import json_rows_sql
from prismiq_django.services.catalog import get_catalog
from prismiq_django.services.hits import replay_hit
from prismiq_django.services.memo import CompileInputs, compile_inputs, compiled_once, limits
from prismiq_django.services.paging import (
    PagedStatements,
    Paging,
    cache_identity,
    finish,
    paged_statements,
    uncapped,
)
from prismiq_django.tenancy.scopes import cache_scopes


def prepare(
    request: object, definition: object, catalog: Catalog | None = None
) -> tuple[Catalog, Query, Compiled]:
    """Parse and compile ``definition`` against ``catalog``: by default the catalog of
    ``request``, or one the caller already built for it (row scopes included)."""
    catalog, query, compiled, _ = _prepare_run(request, definition, catalog, None)
    return catalog, query, compiled


def _prepare_run(
    request: object,
    definition: object,
    catalog: Catalog | None,
    paging: Paging | None,
    inputs: CompileInputs | None = None,
) -> tuple[Catalog, Query, Compiled, PagedStatements | None]:
    """:func:`prepare`; with ``paging`` the definition is parsed without the row cap and
    compiled into the statements of
    :func:`~prismiq_django.services.paging.paged_statements` (the last item). ``inputs``: the
    request's :func:`~prismiq_django.services.memo.compile_inputs` when already read."""
    if catalog is None:
        catalog = get_catalog(request)
    if inputs is None:
        inputs = compile_inputs()
    if paging is None:
        query, compiled = compiled_once(definition, catalog, *inputs)
        return catalog, query, compiled, None
    _, tz, vendor, naive = inputs
    now = timezone.now()
    query = parse(
        definition, catalog, limits=uncapped(limits()), now=now, tz=tz, naive_datetimes=naive
    )
    dialect = get_dialect(vendor)
    max_rows = prismiq_settings.MAX_ROWS
    statements = paged_statements(definition, query, catalog, dialect, paging, max_rows)
    return catalog, statements.query, statements.compiled, statements


def validate(request: object, definition: object) -> list[ErrorDetail]:
    """Return every problem of ``definition`` (``[]`` when it would compile)."""
    try:
        prepare(request, definition)
    except QueryValidationError as exc:
        return list(exc.errors)
    return []


def to_sql(request: object, definition: object) -> Compiled:
    """Return the exact statement :func:`execute` would run; raises QueryValidationError."""
    return prepare(request, definition)[2]


def json_rows_statement(alias: str, query: Query, compiled: Compiled) -> str | None:
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
    statements: PagedStatements | None = None,
) -> QueryResult:
    alias = database_alias()
    timeout = prismiq_settings.QUERY_TIMEOUT
    column_types = [item.expr.type for item in query.select]
    wall_clock = frozenset(
        i for i, item in enumerate(query.select) if item.expr.date_trunc is not None
    )

    def compute() -> QueryResult:
        with session_settings(catalog.session_settings):
            return execute_compiled(
                compiled,
                alias=alias,
                timeout=timeout,
                column_types=column_types,
                wall_clock=wall_clock,
                json_sql=json_rows_statement(alias, query, compiled),
                json_params=zone_params(query),
                count=statements.count if statements is not None else None,
            )

    started = time.perf_counter()
    result: QueryResult | None = None
    status = "error"
    try:
        result = result_cache.fetch_result(
            alias=alias,
            compiled=compiled if statements is None else cache_identity(statements),
            scopes=cache_scopes(catalog),
            compute=compute,
            bypass=bypass,
            defer=defer_for(request),
            expect=expect,
            pending=pending_for(request),
        )
        status = "ok"
        return result if statements is None else finish(result, statements)
    except result_cache.StaleRead:
        status = ""  # not an outcome: the caller asks again with a fresh catalog
        raise
    except (QueryTimeout, DatabaseUnavailable, ValueOutOfRange) as exc:
        status = failure_status(exc)
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


def failure_status(exc: BaseException) -> QueryStatus:
    """The ``prismiq_queries_total`` status of a run that raised ``exc``.

    A value the database cannot represent is answered as a validation error (see
    :func:`out_of_range`), so it counts as ``invalid``, not as a failure.
    """
    if isinstance(exc, QueryTimeout):
        return "timeout"
    if isinstance(exc, DatabaseUnavailable):
        return "unavailable"
    if isinstance(exc, ValueOutOfRange):
        return "invalid"
    return "error"


def execute(
    request: object,
    definition: object,
    *,
    bypass_cache: bool = False,
    paging: Paging | None = None,
) -> QueryResult:
    """Validate, compile and run ``definition`` (through the result cache).

    ``paging`` (:class:`~prismiq_django.services.paging.Paging`): one page of the whole result
    in a stable order (``page``, ``page_size``, ``has_next`` in the result), and/or its
    ``total_rows`` counted in the same read-only transaction (SPEC section 11).

    Every call is counted in ``prismiq_queries_total``: a refused definition as ``invalid`` and a
    database that cannot be reached while loading the schema as ``unavailable`` (both with an
    empty fingerprint: there is no statement).
    """
    return _execute(request, definition, bypass_cache=bypass_cache, paging=paging)


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
    paging: Paging | None = None,
) -> QueryResult:
    """:func:`execute`, optionally on a catalog already built for ``request`` (so that the
    catalog and the row scopes, i.e. ``TENANT_CALLBACK``, are not resolved twice).

    Without one, and with ``optimistic``, the process's catalog is used unverified and its
    version token is checked by the result cache in the same read as the entry
    (:func:`unverified_catalog`); when it turns out stale (or the definition is refused by the
    unverified catalog) the run starts again on the verified catalog.
    """
    started = time.perf_counter()
    expect: dict[str, object] | None = None
    inputs: CompileInputs | None = None
    if catalog is None and optimistic:
        unverified = unverified_catalog(request)
        if unverified is not None:
            catalog, version = unverified
            expect = {CATALOG_VERSION_KEY: version}
            if paging is None and not bypass_cache:  # a repeated hit: its keys are known
                inputs = compile_inputs()
                hit = replay_hit(request, definition, catalog, version, inputs)
                if hit is not None:
                    return hit
    if catalog is None:
        settle_pending(request)  # building the catalog reads the cache or the database: count first
    try:
        catalog, query, compiled, statements = _prepare_run(
            request, definition, catalog, paging, inputs
        )
    except QueryValidationError:
        if expect is not None:  # perhaps refused by a stale catalog: decide on the current one
            return _execute(
                request, definition, bypass_cache=bypass_cache, optimistic=False, paging=paging
            )
        _record_unrun("invalid", started)
        raise
    except DatabaseUnavailable:
        _record_unrun("unavailable", started)
        raise
    try:
        return _run(
            request,
            catalog,
            query,
            compiled,
            bypass=bypass_cache,
            expect=expect,
            statements=statements,
        )
    except result_cache.StaleRead:
        return _execute(
            request, definition, bypass_cache=bypass_cache, optimistic=False, paging=paging
        )
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
    exposed view), are redacted: see :func:`prismiq_django.execution.plans.redact_plan`.
    """
    catalog, query, compiled = prepare(request, definition)
    try:
        with session_settings(catalog.session_settings):
            plan = explain_compiled(
                compiled,
                alias=database_alias(),
                timeout=prismiq_settings.QUERY_TIMEOUT,
                analyze=analyze,
            )
    except ValueOutOfRange as exc:  # EXPLAIN ANALYZE runs the statement
        raise out_of_range(definition, query) from exc
    return redact_plan(plan, catalog.tables.keys())


#: Public names of the steps, for :mod:`prismiq_django.services.prepared` and
#: :mod:`prismiq_django.services.values`.
run_statement = _run
record_unrun = _record_unrun
execute_on = _execute

__all__ = [
    "OUT_OF_RANGE_MESSAGE",
    "execute",
    "execute_on",
    "explain",
    "failure_status",
    "json_rows_statement",
    "limits",
    "out_of_range",
    "prepare",
    "preview",
    "record_unrun",
    "run_statement",
    "to_sql",
    "validate",
]
