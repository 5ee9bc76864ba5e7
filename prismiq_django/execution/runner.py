"""Run compiled statements with the safety rails (SPEC sections 4 and 6).

Every statement runs on the analytics alias inside ``transaction.atomic`` that is always rolled
back (a savepoint when the connection is already in a transaction), read-only and with a
database-side deadline:

- PostgreSQL: ``set_config('transaction_read_only', 'on', true)``,
  ``set_config('statement_timeout', ..., true)`` and the output settings of
  :mod:`prismiq_django.backends.postgresql.session` (``DateStyle``, ``IntervalStyle``,
  ``extra_float_digits`` pinned to PostgreSQL's defaults and ``TimeZone`` to Django's zone of the
  connection, so that results never depend on the session's) in one
  statement before the query (all are ``SET LOCAL``: they end with the transaction or
  savepoint, so a pooled connection is left as it was). A timeout is SQLSTATE 57014 and
  becomes :class:`QueryTimeout`; a 57014 before the timeout could have fired
  (``pg_cancel_backend`` by an administrator, a server-side cancel) is not a timeout and
  becomes :class:`DatabaseUnavailable` (503: try again).
- SQLite: ``PRAGMA query_only = ON`` for the duration (the previous value is restored) and a
  progress handler that interrupts the statement once the deadline has passed.

Result columns and logical types come from the cursor description (PostgreSQL type OIDs, so they
are known for empty results too). SQLite describes no types: the caller passes the logical types
of the output columns (``column_types``, derived by the services from the parsed query and the
catalog); without them a column's type is inferred from its first non-null value, and is
``"unknown"`` when it has none.

Values are converted to JSON-ready form by :mod:`prismiq_django.execution.values` (one precomputed
converter per column); the labels of time buckets of instants by
:mod:`prismiq_django.execution.buckets`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from typing import Any

from django.db import (
    DataError,
    connections,
)

from prismiq_django.backends.mysql.types import description_logical_type
from prismiq_django.backends.postgresql.loaders import pg_type_names
from prismiq_django.backends.postgresql.types import pg_result_type
from prismiq_django.exceptions import (
    QueryTimeout,
)
from prismiq_django.execution.buckets import bucket_labeller, bucket_zones
from prismiq_django.execution.columns import convert_rows
from prismiq_django.execution.rails import Prelude, guarded_statement
from prismiq_django.execution.results import CompiledStatement, QueryResult
from prismiq_django.execution.values import (
    Converter,
    column_converter,
    infer_type,
)
from prismiq_django.ops.gcpause import gc_paused

logger = logging.getLogger("prismiq_django.execution")


class UnloadableValue(Exception):
    """psycopg refused a value of the result while loading it (not a database error)."""


def fetch_rows(cursor: Any, size: int, *, tolerant: bool) -> list[tuple[Any, ...]]:
    """``cursor.fetchmany(size)``; :class:`UnloadableValue` when a loader refuses a value.

    A ``DataError`` raised while fetching comes from psycopg's loaders, never from the server
    (the client-side cursor received every row with the statement): it has no SQLSTATE. On the
    tolerant run it is a database error like any other (:class:`QueryExecutionError`).
    """
    try:
        with gc_paused():
            fetched: Any = cursor.fetchmany(size)
            # mysqlclient answers a tuple: a list, whose tail the caller deletes.
            rows: list[tuple[Any, ...]] = fetched if isinstance(fetched, list) else list(fetched)
    except DataError as exc:
        cause = exc.__cause__
        if tolerant or cause is None or getattr(cause, "sqlstate", "") is not None:
            raise
        raise UnloadableValue() from exc
    return rows


def describe_result(
    connection: Any,
    description: Sequence[Any],
    compiled: CompiledStatement,
    column_types: Sequence[str] | None,
    wall_clock: Collection[int],
    rows: Sequence[Sequence[Any]],
) -> tuple[list[str], list[str], list[Converter | None]]:
    """The output names, logical types and value converters of a result.

    Names are ``compiled.columns`` (the cursor's when their count differs); types come from the
    PostgreSQL type OIDs of ``description``, else the hints ``column_types``, else (SQLite without
    hints) the first non-null value of ``rows``. On MySQL the hints first, else the type codes of
    ``description``. See :func:`execute_compiled` for ``wall_clock``.
    """
    names = [d[0] for d in description]
    if len(compiled.columns) == len(names):
        names = list(compiled.columns)
    hints = list(column_types) if column_types and len(column_types) == len(names) else None
    vendor = connection.vendor
    pg_types = (
        pg_type_names(connection, [d[1] for d in description]) if vendor == "postgresql" else None
    )
    types: list[str] = []
    converters: list[Converter | None] = []
    zones = bucket_zones(compiled)
    for index in range(len(names)):
        hint = hints[index] if hints else None
        logical: str
        typname = ""
        if pg_types is not None:
            typname, category = pg_types[index]
            logical = pg_result_type(typname, category)
            if logical == "unknown" and hint:
                logical = hint
        elif vendor == "mysql":
            # The parser's type where it knows one (a tinyint(1) is a boolean, LONGTEXT JSON on
            # MariaDB, SUM of integers an integer as on PostgreSQL), else the description's.
            logical = (
                hint if hint and hint != "unknown" else description_logical_type(description[index])
            )
        else:
            logical = hint or infer_type([row[index] for row in rows])
        types.append(logical)
        zone = zones.get(index)
        converters.append(
            bucket_labeller(vendor, zone)
            if zone is not None and logical == "datetime"
            else column_converter(vendor, logical, typname, wall_clock=index in wall_clock)
        )
    return names, types, converters


def execute_compiled(
    compiled: CompiledStatement,
    *,
    alias: str,
    timeout: float,
    column_types: Sequence[str] | None = None,
    wall_clock: Collection[int] = (),
    json_sql: str | None = None,
    json_params: Sequence[object] = (),
    count: tuple[str, Sequence[object]] | None = None,
) -> QueryResult:
    """Run ``compiled`` with the safety rails and return a JSON-ready :class:`QueryResult`.

    The statement's LIMIT is ``compiled.limit + 1``; at most ``compiled.limit`` rows are returned
    and ``truncated`` tells whether more existed. ``column_types`` (optional) are the logical types
    of the output columns as the parser knows them: used on SQLite, whose cursor describes no
    types, and on PostgreSQL only for columns whose database type has no logical mapping.
    ``wall_clock`` lists the output columns holding truncated datetimes (naive wall-clock times
    of the site's zone): on SQLite they are returned without an offset, as PostgreSQL does;
    other SQLite datetimes are Django's naive UTC and get ``+00:00`` when ``USE_TZ``. The time
    buckets of instants (``compiled.zoned_buckets``, in the zone ``compiled.tz_name``) are
    labelled with that zone's offset at their start when ``USE_TZ``
    (:mod:`prismiq_django.execution.buckets`).

    ``json_sql`` (PostgreSQL only, with ``column_types``) is the statement wrapped by
    :func:`prismiq_django.query.jsonrows.json_rows_sql`: it is run instead, each row arrives as the
    JSON text of its values, and the result carries ``rows_json`` built by joining them (no
    per-value work in Python), with ``compiled.params`` followed by ``json_params`` (the zone of
    its bucket labels: :func:`prismiq_django.query.bucketlabels.zone_params`). On another
    database it is ignored.

    PostgreSQL dates and timestamps Python cannot represent (``infinity``, ``-infinity``, BC,
    after year 9999), times ``24:00:00`` and intervals beyond ``timedelta`` make psycopg refuse
    the row; the statement then runs once more with loaders that turn them into the strings of
    :func:`prismiq_django.backends.postgresql.values.pg_temporal_text` (the ones the JSON path
    writes) and
    :func:`prismiq_django.backends.postgresql.values.pg_time_text`, and the seconds of
    :func:`prismiq_django.backends.postgresql.values.pg_interval_seconds`. Results without such
    values pay nothing
    for it. Both runs share one deadline, ``timeout`` seconds from the call: the second gets
    what the first left, and none left is :class:`QueryTimeout` without running it.

    ``count`` (``(sql, params)`` of a statement answering one integer) runs first in the same
    read-only transaction; its answer is the result's ``total_rows``.

    Raises :class:`QueryTimeout`, :class:`DatabaseUnavailable`, :class:`ValueOutOfRange` or
    :class:`QueryExecutionError`.
    """
    prelude = Prelude(*count) if count is not None else None
    if (
        json_sql is not None
        and column_types is not None
        and connections[alias].vendor == "postgresql"
    ):
        params = (*compiled.params, *json_params)
        result = _execute_json_rows(
            compiled, json_sql, params, list(column_types), alias, timeout, prelude
        )
        return _counted(result, prelude)
    ends_at = time.monotonic() + timeout
    try:
        result = _execute_python(
            compiled, alias, timeout, column_types, wall_clock, tolerant=False, prelude=prelude
        )
    except UnloadableValue as exc:
        left = ends_at - time.monotonic()
        if left <= 0:
            logger.warning(
                "prismiq query stopped by the statement timeout (%ss) before its tolerant re-run",
                timeout,
            )
            raise QueryTimeout() from exc
        result = _execute_python(
            compiled, alias, left, column_types, wall_clock, tolerant=True, prelude=prelude
        )
    return _counted(result, prelude)


def _counted(result: QueryResult, prelude: Prelude | None) -> QueryResult:
    if prelude is not None:
        result.total_rows = int(prelude.value or 0)
    return result


def _execute_python(
    compiled: CompiledStatement,
    alias: str,
    timeout: float,
    column_types: Sequence[str] | None,
    wall_clock: Collection[int],
    *,
    tolerant: bool,
    prelude: Prelude | None = None,
) -> QueryResult:
    """Run ``compiled`` and convert its values in Python (see :func:`execute_compiled`)."""
    limit = compiled.limit
    started = time.perf_counter()
    statement = guarded_statement(
        alias, timeout, compiled.sql, compiled.params, tolerant=tolerant, prelude=prelude
    )
    with statement as (connection, cursor):
        raw_rows = fetch_rows(cursor, limit + 1, tolerant=tolerant)
        description = cursor.description or ()
        if connection.vendor == "postgresql":
            pg_type_names(connection, [d[1] for d in description])  # pg_type read in the run
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    truncated = len(raw_rows) > limit
    if truncated:
        del raw_rows[limit:]
    names, types, converters = describe_result(
        connection, description, compiled, column_types, wall_clock, raw_rows
    )
    with gc_paused():
        rows = convert_rows(raw_rows, converters)
    return QueryResult(
        columns=names,
        column_types=types,
        rows=rows,
        row_count=len(rows),
        truncated=truncated,
        execution_time_ms=round(elapsed_ms, 3),
    )


def _execute_json_rows(
    compiled: CompiledStatement,
    json_sql: str,
    params: Sequence[object],
    column_types: list[str],
    alias: str,
    timeout: float,
    prelude: Prelude | None = None,
) -> QueryResult:
    """Run the JSON-wrapped statement: one ``text`` JSON array per row, joined into rows_json."""
    limit = compiled.limit
    started = time.perf_counter()
    statement = guarded_statement(alias, timeout, json_sql, params, prelude=prelude)
    with (
        statement as (_, cursor),
        gc_paused(),
    ):
        texts: list[tuple[str]] = cursor.fetchmany(limit + 1)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    truncated = len(texts) > limit
    if truncated:
        del texts[limit:]
    rows_json = ("[" + ",".join([row[0] for row in texts]) + "]").encode()
    return QueryResult(
        columns=list(compiled.columns),
        column_types=column_types,
        row_count=len(texts),
        truncated=truncated,
        execution_time_ms=round(elapsed_ms, 3),
        rows_json=rows_json,
    )


__all__ = ["UnloadableValue", "describe_result", "execute_compiled", "fetch_rows"]
