"""Staff raw SQL (SPEC section 12): ``sql/validate`` and ``sql/execute`` on a request's catalog.

A statement is checked by :func:`prismiq_django.query.rawsql.check_sql` for the analytics
database's vendor, on the exposed catalog of the request with its row scopes in force (each
tenant-scoped table is read through a scoped subquery). Only a statement the checker accepted is
ever handed to the database, and then on the same rails as every query definition: the
read-only, always-rolled-back transaction with the statement timeout, the row cap (``MAX_ROWS``,
``truncated``), the result cache keyed by the final SQL and its bound parameters (and the row
scopes), ``prismiq_queries_total`` and the query log line.

Errors: :class:`~prismiq_django.query.rawsql.RawSQLError` for a refused statement (nothing ran;
counted as ``invalid``) and for a statement the database itself refused
(``sql_execution_error``, counted as ``error``; the database's text is logged, never returned);
:class:`~prismiq_django.exceptions.QueryTimeout` and
:class:`~prismiq_django.exceptions.DatabaseUnavailable` from execution.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connections

from prismiq_django import cache as result_cache
from prismiq_django.catalog.store import database_alias
from prismiq_django.conf import prismiq_settings
from prismiq_django.exceptions import (
    DatabaseUnavailable,
    QueryExecutionError,
    QueryTimeout,
    ValueOutOfRange,
)
from prismiq_django.execution import QueryResult, execute_compiled, session_settings
from prismiq_django.ops.afterresponse import defer_for
from prismiq_django.ops.observability import fingerprint, record_query
from prismiq_django.query import Catalog
from prismiq_django.query.rawsql import (
    DEFAULT_FORBIDDEN_FUNCTIONS,
    CheckedSQL,
    RawSQLError,
    SQLProblem,
    check_sql,
)
from prismiq_django.services.catalog import get_catalog
from prismiq_django.services.queries import failure_status, record_unrun
from prismiq_django.tenancy.scopes import cache_scopes

#: What a statement the database refused is answered with (its own text is only logged).
EXECUTION_ERROR_MESSAGE = "The database could not run the statement."


@dataclass(frozen=True, slots=True)
class SQLValidation:
    """The answer of ``sql/validate``: ``errors`` empty when the statement would run;
    ``tables`` the exposed tables it reads (empty when it is refused)."""

    errors: tuple[SQLProblem, ...]
    tables: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "errors": [e.as_dict() for e in self.errors],
            "tables": list(self.tables),
        }


def forbidden_functions() -> tuple[str, ...]:
    """``SQL_FORBIDDEN_FUNCTIONS``, or the checker's built-in list when it is None."""
    configured = prismiq_settings.SQL_FORBIDDEN_FUNCTIONS
    return DEFAULT_FORBIDDEN_FUNCTIONS if configured is None else tuple(configured)


def check(
    request: object,
    sql: object,
    params: Mapping[str, object] | None = None,
    catalog: Catalog | None = None,
) -> tuple[Catalog, CheckedSQL]:
    """Check ``sql`` on the catalog of ``request`` (or ``catalog``, built for it) and render
    the statement that would run; ``params`` None checks without binding values. Raises
    :class:`RawSQLError`. Touches no analytics table: at most the catalog is loaded."""
    if catalog is None:
        catalog = get_catalog(request)
    checked = check_sql(
        sql,
        catalog,
        connections[database_alias()].vendor,
        params=params,
        max_rows=prismiq_settings.MAX_ROWS,
        forbidden_functions=forbidden_functions(),
    )
    return catalog, checked


def validate_sql(
    request: object, sql: object, params: Mapping[str, object] | None = None
) -> SQLValidation:
    """Every problem of ``sql`` for ``request`` (nothing is run)."""
    try:
        _, checked = check(request, sql, params)
    except RawSQLError as exc:
        return SQLValidation(exc.errors, ())
    return SQLValidation((), tuple(sorted(checked.tables)))


def execute_sql(
    request: object,
    sql: object,
    params: Mapping[str, object] | None = None,
    *,
    bypass_cache: bool = False,
) -> QueryResult:
    """Check ``sql`` and run it on the query rails (module docstring); ``params`` are the
    values of its ``:name`` placeholders (``{}`` when it has none)."""
    started = time.perf_counter()
    try:
        catalog, checked = check(request, sql, {} if params is None else params)
    except RawSQLError:
        record_unrun("invalid", started)
        raise
    except DatabaseUnavailable:
        record_unrun("unavailable", started)
        raise
    return run_checked(request, catalog, checked, bypass_cache=bypass_cache, started=started)


def run_checked(
    request: object,
    catalog: Catalog,
    checked: CheckedSQL,
    *,
    bypass_cache: bool = False,
    started: float | None = None,
) -> QueryResult:
    """Run a statement :func:`check` accepted, through the result cache (metrics and log as
    for every query)."""
    alias = database_alias()
    timeout = prismiq_settings.QUERY_TIMEOUT
    hints = list(checked.column_types) if any(checked.column_types) else None
    if started is None:
        started = time.perf_counter()

    def compute() -> QueryResult:
        with session_settings(catalog.session_settings):  # PG_SESSION_SETTINGS
            return execute_compiled(checked, alias=alias, timeout=timeout, column_types=hints)

    result: QueryResult | None = None
    status = "error"
    try:
        result = result_cache.fetch_result(
            alias=alias,
            compiled=checked,
            scopes=cache_scopes(catalog),
            compute=compute,
            bypass=bypass_cache,
            defer=defer_for(request),
        )
        status = "ok"
        return result
    except (QueryTimeout, DatabaseUnavailable) as exc:
        status = failure_status(exc)
        raise
    except ValueOutOfRange as exc:  # a value the database cannot represent: the caller's SQL
        status = failure_status(exc)
        raise RawSQLError([SQLProblem("sql_execution_error", exc.message)]) from exc
    except QueryExecutionError as exc:
        raise RawSQLError([SQLProblem("sql_execution_error", EXECUTION_ERROR_MESSAGE)]) from exc
    finally:
        record_query(
            fingerprint=fingerprint(checked.sql),
            duration_s=time.perf_counter() - started,
            rows=result.row_count if result is not None else 0,
            cache_hit=result is not None and result.is_from_cache,
            status=status,
        )


__all__ = [
    "EXECUTION_ERROR_MESSAGE",
    "SQLValidation",
    "check",
    "execute_sql",
    "forbidden_functions",
    "run_checked",
    "validate_sql",
]
