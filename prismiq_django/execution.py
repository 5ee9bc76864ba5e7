"""Run compiled statements with the safety rails (SPEC sections 4 and 6).

Every statement runs on the analytics alias inside ``transaction.atomic`` that is always rolled
back (a savepoint when the connection is already in a transaction), read-only and with a
database-side deadline:

- PostgreSQL: ``set_config('transaction_read_only', 'on', true)`` and
  ``set_config('statement_timeout', ..., true)`` in one statement before the query (both are
  ``SET LOCAL``: they end with the transaction or savepoint, so a pooled connection is left as
  it was). A timeout is SQLSTATE 57014 and becomes :class:`QueryTimeout`.
- SQLite: ``PRAGMA query_only = ON`` for the duration (the previous value is restored) and a
  progress handler that interrupts the statement once the deadline has passed.

Result columns and logical types come from the cursor description (PostgreSQL type OIDs, so they
are known for empty results too). SQLite describes no types: the caller passes the logical types
of the output columns (``column_types``, derived by the services from the parsed query and the
catalog); without them a column's type is inferred from its first non-null value, and is
``"unknown"`` when it has none.

Values are converted to JSON-ready form with one converter per column, precomputed; columns whose
values are already JSON-ready (integers, text on PostgreSQL) are not touched.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any, Final, Protocol
from uuid import UUID

import orjson
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.exceptions import (
    DatabaseUnavailable,
    PrismiqError,
    QueryExecutionError,
    QueryTimeout,
)
from prismiq_django.introspection import pg_logical_type

logger = logging.getLogger("prismiq_django.execution")

#: How many SQLite virtual-machine instructions run between two deadline checks.
SQLITE_PROGRESS_STEPS: Final = 10_000
_MAX_EXACT_FLOAT_INT: Final = 2**53
# Whole decimals between 2**53 and 2**63 stay exact integers; beyond, every JSON encoder
# (orjson included) can only carry them as floats.
_MAX_INT64: Final = 2**63


class CompiledStatement(Protocol):
    """What execution needs of :class:`prismiq_django.query.Compiled`."""

    @property
    def sql(self) -> str: ...
    @property
    def params(self) -> tuple[object, ...]: ...
    @property
    def columns(self) -> tuple[str, ...]: ...
    @property
    def limit(self) -> int: ...


@dataclass(slots=True)
class QueryResult:
    """A query result in the SPEC section 4 shape; every value in ``rows`` is JSON-ready."""

    columns: list[str]
    column_types: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    execution_time_ms: float
    is_from_cache: bool = False
    cached_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the wire form (SPEC section 4)."""
        return {
            "columns": self.columns,
            "column_types": self.column_types,
            "rows": self.rows,
            "row_count": self.row_count,
            "truncated": self.truncated,
            "execution_time_ms": self.execution_time_ms,
            "is_from_cache": self.is_from_cache,
            "cached_at": self.cached_at,
        }


# --- value converters (hot path: keep them small; None is handled by the caller) -------------


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        if _MAX_EXACT_FLOAT_INT <= abs(value) < _MAX_INT64 and value == value.to_integral_value():
            return int(value)
        return float(value)
    return _json_safe(value)


def _float(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return _json_safe(value)


def _boolean(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else _json_safe(value)


def _temporal(value: Any) -> Any:
    if isinstance(value, date | dtime):
        return value.isoformat()
    return _json_safe(value)


def _sqlite_datetime(value: Any) -> Any:
    # Django stores aware datetimes in SQLite as naive UTC text; expressions return that text.
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None and settings.USE_TZ:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    return _temporal(value)


def _sqlite_wall_clock(value: Any) -> Any:
    # Truncated buckets are naive wall-clock times of the site's zone, like on PostgreSQL.
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return _temporal(value)


def _sqlite_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return value
    return _temporal(value)


def _duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return _json_safe(value)


def _json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value if isinstance(value, str) else _binary(value)
    return _json_safe(value)


def _uuid(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else _json_safe(value)


def _binary(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    return _json_safe(value)


def _pg_array_text(text: str) -> Any:
    """Parse PostgreSQL array text (``{a,"b c",NULL,{1,2}}``) into nested lists of strings.

    psycopg returns this text for arrays of types it has no loader for (arrays of enums).
    """
    root: list[Any] = []
    stack: list[list[Any]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "{":
            new: list[Any] = []
            (stack[-1] if stack else root).append(new)
            stack.append(new)
            i += 1
        elif char == "}":
            if stack:
                stack.pop()
            i += 1
        elif char == "," or not stack:
            i += 1
        elif char == '"':
            i += 1
            chunk = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chunk.append(text[i])
                i += 1
            stack[-1].append("".join(chunk))
            i += 1
        else:
            start = i
            while i < n and text[i] not in ",}":
                i += 1
            element = text[start:i].strip()
            stack[-1].append(None if element == "NULL" else element)
    return root[0] if len(root) == 1 else root


def _array(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("{"):
        return _pg_array_text(value)
    return _json_safe(value)


def _json_safe(value: Any) -> Any:
    """Convert any database value to a JSON-ready one (the fallback of every converter)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return value if -_MAX_INT64 <= value < _MAX_INT64 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    return str(value)


Converter = Callable[[Any], Any]

_CONVERTERS: Final[dict[str, Converter | None]] = {
    "integer": None,
    "decimal": _decimal,
    "float": _float,
    "string": None,
    "boolean": None,
    "date": _temporal,
    "datetime": _temporal,
    "time": _temporal,
    "duration": _duration,
    "json": _json,
    "uuid": _uuid,
    "binary": _binary,
    "array": _array,
    "unknown": _json_safe,
}
# SQLite is dynamically typed and its expressions return text/integers for dates and booleans.
_SQLITE_CONVERTERS: Final[dict[str, Converter | None]] = {
    **_CONVERTERS,
    "integer": _json_safe,
    "string": _json_safe,
    "boolean": _boolean,
    "date": _sqlite_date,
    "datetime": _sqlite_datetime,
}
# PostgreSQL types whose Python value is already JSON-ready (str/int/bool).
_PG_PLAIN: Final = frozenset(
    {"int2", "int4", "int8", "oid", "text", "varchar", "bpchar", "char", "name", "bool", "citext"}
)


def _infer_type(values: Sequence[Any]) -> str:
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "float"
        if isinstance(value, Decimal):
            return "decimal"
        if isinstance(value, str):
            return "string"
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, date):
            return "date"
        if isinstance(value, dtime):
            return "time"
        if isinstance(value, bytes | memoryview):
            return "binary"
        return "unknown"
    return "unknown"


def _convert_rows(
    rows: list[tuple[Any, ...]], converters: Sequence[Converter | None]
) -> list[list[Any]]:
    """Apply ``converters`` column-wise (``None`` = leave as is); None values stay None."""
    active = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
    if not active or not rows:
        return [list(row) for row in rows]
    columns: list[Any] = list(zip(*rows, strict=True))
    for index, conv in active:
        columns[index] = [None if v is None else conv(v) for v in columns[index]]
    return [list(row) for row in zip(*columns, strict=True)]


# --- PostgreSQL type OIDs ---------------------------------------------------------------------

_PG_TYPE_CACHE: dict[tuple[str, str, int], tuple[str, str]] = {}


def _pg_type_names(connection: BaseDatabaseWrapper, oids: Sequence[int]) -> list[tuple[str, str]]:
    """Return ``(typname, typcategory)`` per OID: builtins from psycopg, others from pg_type."""
    from psycopg.postgres import types as builtin_types

    db_key = (connection.alias, str(connection.settings_dict.get("NAME")))
    missing = []
    for oid in oids:
        key = (*db_key, oid)
        if key in _PG_TYPE_CACHE:
            continue
        info = builtin_types.get(oid)
        if info is not None:
            is_array = info.array_oid == oid
            _PG_TYPE_CACHE[key] = ("_" + info.name, "A") if is_array else (info.name, "")
        else:
            missing.append(oid)
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT oid::int, typname, typcategory FROM pg_catalog.pg_type WHERE oid = ANY(%s)",
                [missing],
            )
            for oid, name, category in cursor.fetchall():
                _PG_TYPE_CACHE[(*db_key, oid)] = (name, category)
    return [_PG_TYPE_CACHE.get((*db_key, oid), ("", "")) for oid in oids]


# --- the guarded transaction ------------------------------------------------------------------


@dataclass(slots=True)
class _Deadline:
    seconds: float
    fired: bool = False


@contextmanager
def _postgres_rails(
    connection: BaseDatabaseWrapper, cursor: Any, deadline: _Deadline
) -> Iterator[None]:
    timeout_ms = max(1, math.ceil(deadline.seconds * 1000))
    cursor.execute(
        "SELECT set_config('transaction_read_only', 'on', true), "
        "set_config('statement_timeout', %s, true)",
        [str(timeout_ms)],
    )
    yield


@contextmanager
def _sqlite_rails(
    connection: BaseDatabaseWrapper, cursor: Any, deadline: _Deadline
) -> Iterator[None]:
    raw = connection.connection
    previous = raw.execute("PRAGMA query_only").fetchone()[0]
    ends_at = time.monotonic() + deadline.seconds

    def check_deadline() -> int:
        if time.monotonic() > ends_at:
            deadline.fired = True
            return 1
        return 0

    raw.execute("PRAGMA query_only = ON")
    raw.set_progress_handler(check_deadline, SQLITE_PROGRESS_STEPS)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)
        raw.execute(f"PRAGMA query_only = {1 if previous else 0}")


_RAILS: Final = {"postgresql": _postgres_rails, "sqlite": _sqlite_rails}


def _is_query_canceled(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) == "57014" or getattr(cause, "pgcode", None) == "57014"


_LOST_SQLSTATES: Final = frozenset({"57P01", "57P02", "57P03"})  # shutdowns, cannot connect now


def _connection_lost(exc: DatabaseError, connection: BaseDatabaseWrapper) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate is not None and (sqlstate.startswith("08") or sqlstate in _LOST_SQLSTATES):
        return True
    if connection.vendor == "postgresql" and sqlstate is None and isinstance(exc, OperationalError):
        return True  # libpq-level failure: the server went away mid-statement
    raw = connection.connection
    if raw is None:
        return True
    return bool(getattr(raw, "closed", False) or getattr(raw, "broken", False))


def _translate(
    exc: DatabaseError, connection: BaseDatabaseWrapper, deadline: _Deadline
) -> PrismiqError:
    if deadline.fired or _is_query_canceled(exc):
        logger.warning("prismiq query stopped by the statement timeout (%ss)", deadline.seconds)
        return QueryTimeout()
    if _connection_lost(exc, connection):
        logger.exception("prismiq analytics database connection lost")
        return DatabaseUnavailable()
    logger.exception("prismiq query failed in the database")
    return QueryExecutionError()


@contextmanager
def guarded_cursor(alias: str, timeout: float) -> Iterator[tuple[BaseDatabaseWrapper, Any]]:
    """Yield ``(connection, cursor)`` inside the read-only, timed, always-rolled-back transaction.

    Raises :class:`DatabaseUnavailable` when the database cannot be reached or the connection
    drops, :class:`QueryTimeout` when the deadline fires, :class:`QueryExecutionError` for any
    other database error (the original is chained and logged, never put in the message).
    """
    connection = connections[alias]
    rails = _RAILS.get(connection.vendor)
    if rails is None:
        raise QueryExecutionError(f"Database vendor {connection.vendor!r} is not supported.")
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        logger.exception("prismiq analytics database unreachable")
        raise DatabaseUnavailable() from exc
    deadline = _Deadline(float(timeout))
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            try:
                with rails(connection, cursor, deadline):
                    yield connection, cursor
            finally:
                transaction.set_rollback(True, using=alias)
    except DatabaseError as exc:
        raise _translate(exc, connection, deadline) from exc


def execute_compiled(
    compiled: CompiledStatement,
    *,
    alias: str,
    timeout: float,
    column_types: Sequence[str] | None = None,
    wall_clock: Collection[int] = (),
) -> QueryResult:
    """Run ``compiled`` with the safety rails and return a JSON-ready :class:`QueryResult`.

    The statement's LIMIT is ``compiled.limit + 1``; at most ``compiled.limit`` rows are returned
    and ``truncated`` tells whether more existed. ``column_types`` (optional) are the logical types
    of the output columns as the parser knows them: used on SQLite, whose cursor describes no
    types, and on PostgreSQL only for columns whose database type has no logical mapping.
    ``wall_clock`` lists the output columns holding truncated datetimes (naive wall-clock times
    of the site's zone): on SQLite they are returned without an offset, as PostgreSQL does;
    other SQLite datetimes are Django's naive UTC and get ``+00:00`` when ``USE_TZ``.

    Raises :class:`QueryTimeout`, :class:`DatabaseUnavailable` or :class:`QueryExecutionError`.
    """
    limit = compiled.limit
    started = time.perf_counter()
    with guarded_cursor(alias, timeout) as (connection, cursor):
        cursor.execute(compiled.sql, compiled.params)
        raw_rows: list[tuple[Any, ...]] = cursor.fetchmany(limit + 1)
        description = cursor.description or ()
        vendor = connection.vendor
        pg_types = (
            _pg_type_names(connection, [d[1] for d in description])
            if vendor == "postgresql"
            else None
        )
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    truncated = len(raw_rows) > limit
    if truncated:
        del raw_rows[limit:]
    names = [d[0] for d in description]
    if len(compiled.columns) == len(names):
        names = list(compiled.columns)
    hints = list(column_types) if column_types and len(column_types) == len(names) else None
    types: list[str] = []
    converters: list[Converter | None] = []
    for index in range(len(names)):
        hint = hints[index] if hints else None
        logical: str
        if pg_types is not None:
            typname, category = pg_types[index]
            logical = pg_logical_type(typname, category)
            if logical == "unknown" and hint:
                logical = hint
            conv = None if typname in _PG_PLAIN else _CONVERTERS.get(logical, _json_safe)
            if logical == "string" and typname not in _PG_PLAIN:
                conv = _json_safe
        else:
            logical = hint or _infer_type([row[index] for row in raw_rows])
            conv = _SQLITE_CONVERTERS.get(logical, _json_safe)
            if logical == "datetime" and index in wall_clock:
                conv = _sqlite_wall_clock
        types.append(logical)
        converters.append(conv)
    rows = _convert_rows(raw_rows, converters)
    return QueryResult(
        columns=names,
        column_types=types,
        rows=rows,
        row_count=len(rows),
        truncated=truncated,
        execution_time_ms=round(elapsed_ms, 3),
    )


def explain_compiled(
    compiled: CompiledStatement, *, alias: str, timeout: float, analyze: bool
) -> Any:
    """Return the database's plan for ``compiled`` (run with the same rails; ANALYZE included).

    PostgreSQL: the parsed ``EXPLAIN (FORMAT JSON)`` document (a list with one plan object).
    SQLite: ``EXPLAIN QUERY PLAN`` rows as ``[{"id", "parent", "detail"}]``.
    """
    from prismiq_django.query import get_dialect

    connection = connections[alias]
    explain_sql = get_dialect(connection.vendor).explain_sql(compiled.sql, analyze=analyze)
    with guarded_cursor(alias, timeout) as (conn, cursor):
        cursor.execute(explain_sql, compiled.params)
        rows = cursor.fetchall()
        vendor = conn.vendor
    if vendor == "postgresql":
        plan = rows[0][0]
        return orjson.loads(plan) if isinstance(plan, str | bytes) else plan
    return [{"id": row[0], "parent": row[1], "detail": row[-1]} for row in rows]


__all__ = [
    "SQLITE_PROGRESS_STEPS",
    "CompiledStatement",
    "QueryResult",
    "execute_compiled",
    "explain_compiled",
    "guarded_cursor",
]
