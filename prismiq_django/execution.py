"""Run compiled statements with the safety rails (SPEC sections 4 and 6).

Every statement runs on the analytics alias inside ``transaction.atomic`` that is always rolled
back (a savepoint when the connection is already in a transaction), read-only and with a
database-side deadline:

- PostgreSQL: ``set_config('transaction_read_only', 'on', true)``,
  ``set_config('statement_timeout', ..., true)`` and the output settings of
  :mod:`prismiq_django.pgsession` (``DateStyle``, ``IntervalStyle``, ``extra_float_digits``,
  pinned to PostgreSQL's defaults, so that results never depend on the session's) in one
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

Values are converted to JSON-ready form by :mod:`prismiq_django.values` (one precomputed
converter per column).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, Final, Protocol

import orjson
from django.db import (
    DatabaseError,
    DataError,
    InterfaceError,
    OperationalError,
    connections,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.exceptions import (
    DatabaseUnavailable,
    PrismiqError,
    QueryExecutionError,
    QueryTimeout,
    ValueOutOfRange,
)
from prismiq_django.gcpause import gc_paused
from prismiq_django.introspection import pg_logical_type
from prismiq_django.pgsession import (
    PIN_SQL,
    PIN_UNREPORTED_SQL,
    outside_transaction,
    reads_as_pinned,
    several_statements_per_message,
)
from prismiq_django.values import (
    Converter,
    EncodedJSON,
    column_converter,
    convert_rows,
    infer_type,
    json_default,
    pg_interval_seconds,
    pg_temporal_text,
    pg_time_text,
    stdlib_json_default,
)

logger = logging.getLogger("prismiq_django.execution")

#: How many SQLite virtual-machine instructions run between two deadline checks.
SQLITE_PROGRESS_STEPS: Final = 10_000


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


class QueryResult:
    """A query result in the SPEC section 4 shape; every value in ``rows`` is JSON-ready.

    The rows exist in one or both of two forms, each made from the other on first use:
    ``rows`` (a list of lists) and ``rows_json`` (the UTF-8 JSON text of that list, as the wire
    carries it). Results built by PostgreSQL's JSON path and results read from the cache carry
    only ``rows_json``: :meth:`wire_dict` embeds it in the response without parsing it, and the
    cache stores it as it is. ``rows`` parses it when something needs the values.
    """

    __slots__ = (
        "_rows",
        "_rows_json",
        "cached_at",
        "column_types",
        "columns",
        "execution_time_ms",
        "is_from_cache",
        "row_count",
        "truncated",
    )

    def __init__(
        self,
        columns: list[str],
        column_types: list[str],
        rows: list[list[Any]] | None = None,
        row_count: int = 0,
        truncated: bool = False,
        execution_time_ms: float = 0.0,
        is_from_cache: bool = False,
        cached_at: str | None = None,
        *,
        rows_json: bytes | None = None,
    ) -> None:
        if rows is None and rows_json is None:
            rows = []
        self.columns = columns
        self.column_types = column_types
        self._rows = rows
        self._rows_json = rows_json
        self.row_count = row_count
        self.truncated = truncated
        self.execution_time_ms = execution_time_ms
        self.is_from_cache = is_from_cache
        self.cached_at = cached_at

    @property
    def rows(self) -> list[list[Any]]:
        """The rows as lists of JSON-ready values (parsed from ``rows_json`` on first use).

        The caller may change the list it gets (a view hook masking values): ``rows_json`` is
        then made from it again, so what is rendered is always what ``rows`` holds.
        """
        if self._rows is None:
            data = self._rows_json or b"[]"
            with gc_paused():  # 100k-row lists: see prismiq_django.gcpause
                try:
                    self._rows = orjson.loads(data)
                except orjson.JSONDecodeError:
                    # Valid JSON orjson cannot read: numbers beyond a double or beyond 64 bits in
                    # json/jsonb documents PostgreSQL's JSON path writes as they are stored.
                    self._rows = json.loads(data)
        self._rows_json = None
        return self._rows

    @property
    def rows_json(self) -> bytes:
        """The rows as the JSON text of the wire (encoded from ``rows`` on first use)."""
        if self._rows_json is None:
            self._rows_json = encode_json(self._rows or [])
        return self._rows_json

    def _head(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "column_types": self.column_types,
            "rows": None,
            "row_count": self.row_count,
            "truncated": self.truncated,
            "execution_time_ms": self.execution_time_ms,
            "is_from_cache": self.is_from_cache,
            "cached_at": self.cached_at,
        }

    def as_dict(self) -> dict[str, Any]:
        """Return the wire form (SPEC section 4) with ``rows`` as Python lists."""
        return {**self._head(), "rows": self.rows}

    def wire_dict(self) -> dict[str, Any]:
        """Return the wire form with ``rows`` as :class:`EncodedJSON` of ``rows_json``.

        What the HTTP layer renders: the rows are written as they are, never parsed again.
        """
        return {**self._head(), "rows": EncodedJSON(self.rows_json)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueryResult):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"QueryResult(columns={self.columns!r}, row_count={self.row_count}, "
            f"truncated={self.truncated}, is_from_cache={self.is_from_cache})"
        )


def encode_json(value: Any) -> bytes:
    """Encode JSON-ready ``value`` as compact UTF-8 JSON (orjson; exact big integers too).

    orjson refuses integers beyond 64 bits; the standard library writes them exactly, so those
    (rare) values take the slow path instead of failing.
    """
    try:
        return orjson.dumps(value, default=json_default)
    except orjson.JSONEncodeError:
        return json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), default=stdlib_json_default
        ).encode()


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


def _use_fast_loaders(
    connection: BaseDatabaseWrapper, cursor: Any, *, tolerant: bool = False
) -> None:
    """Give this PostgreSQL cursor psycopg's C loaders where they yield the same values.

    Django loads ``timestamptz`` with a Python subclass of psycopg's loader (about 3 µs per
    value) that only re-attaches ``connection.timezone``; when that zone is set (``USE_TZ``), it
    is the session's ``TimeZone``, in which psycopg's own C loader already returns the value.
    ``uuid`` is loaded as its text, which is exactly ``str(UUID)``. ``interval`` keeps psycopg's
    loader but refuses the values it would miscount (:func:`_counted_interval_loader`). Only this
    cursor changes.

    ``tolerant`` also wraps the ``date``, ``timestamp``, ``timestamptz``, ``time``, ``timetz``
    and ``interval`` loaders so that the values Python cannot represent load as their JSON values
    (:func:`_tolerant_loader`).
    """
    raw = getattr(cursor, "cursor", None)
    adapters = getattr(raw, "adapters", None)
    if adapters is None:
        return
    from psycopg.types.datetime import TimestamptzLoader
    from psycopg.types.string import TextLoader

    if getattr(connection, "timezone", None) is not None:
        adapters.register_loader("timestamptz", TimestamptzLoader)  # psycopg picks the C one
    adapters.register_loader("uuid", TextLoader)
    from psycopg.pq import Format

    interval = adapters.types.get("interval")
    if interval is not None:
        inner = adapters.get_loader(interval.oid, Format.TEXT)
        if inner is not None:
            adapters.register_loader(interval.oid, _counted_interval_loader(inner))
    if tolerant:
        naive = getattr(connection, "timezone", None) is None
        for name in _TEMPORAL_PG_TYPES:
            info = adapters.types.get(name)
            inner = adapters.get_loader(info.oid, Format.TEXT) if info is not None else None
            if inner is not None:
                spell = _spelling(name, naive=naive)
                adapters.register_loader(info.oid, _tolerant_loader(inner, spell))


# The types some of whose values psycopg refuses to load; see _spelling.
_TEMPORAL_PG_TYPES: Final = ("date", "timestamp", "timestamptz", "time", "timetz", "interval")
# What a spelling returns for text it does not know: the loader's refusal stands.
_UNSPELLED: Final = object()


def _spelling(name: str, *, naive: bool) -> Callable[[str], Any]:
    """How the tolerant loader of type ``name`` answers the text of a value psycopg refused.

    Dates and timestamps: :func:`prismiq_django.values.pg_temporal_text`; ``time``/``timetz``
    (``24:00:00``): :func:`prismiq_django.values.pg_time_text`; other text stays refused.
    Intervals beyond ``timedelta``: :func:`prismiq_django.values.pg_interval_seconds`, and null
    when the text is not in the expected format (one logged warning per run).
    """
    if name == "interval":
        return _IntervalSeconds()
    if name in ("time", "timetz"):
        return partial(_or_unspelled, pg_time_text)
    return partial(_or_unspelled, partial(pg_temporal_text, naive=naive))


def _or_unspelled(spell: Callable[[str], str | None], text: str) -> object:
    value = spell(text)
    return _UNSPELLED if value is None else value


class _IntervalSeconds:
    """:func:`pg_interval_seconds`, or None and (once) a warning for text it does not read."""

    def __init__(self) -> None:
        self.warned = False

    def __call__(self, text: str) -> float | None:
        seconds = pg_interval_seconds(text)
        if seconds is None and not self.warned:
            self.warned = True
            # Not the text: it is the user's data.
            logger.warning(
                "prismiq answered null for intervals psycopg could not load and whose text is"
                " not in IntervalStyle postgres"
            )
        return seconds


def _tolerant_loader(inner: type, spell: Callable[[str], Any]) -> type:
    """A loader that loads as ``inner`` does, and values ``inner`` refuses as ``spell`` says.

    psycopg raises ``DataError`` for dates and timestamps ``infinity``, ``-infinity``, BC and
    after 9999 (Python's ``date`` has none of them), for times ``24:00:00`` and for intervals
    beyond ``timedelta``; such a value becomes what ``spell`` makes of its text (see
    :func:`_spelling`), which the converters pass through. Only the second run of a statement
    whose first run met such a value uses it (see :func:`execute_compiled`): a Python frame per
    value is too slow for every result.
    """
    from psycopg import DataError as LoadError
    from psycopg.adapt import Loader

    class TolerantLoader(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._inner = inner(oid, context)

        def load(self, data: Any) -> Any:
            try:
                return self._inner.load(data)
            except LoadError:
                value = spell(bytes(data).decode("utf-8", "replace"))
                if value is _UNSPELLED:
                    raise
                return value

    return TolerantLoader


# An interval's years as PostgreSQL writes them first (IntervalStyle postgres), when they are
# 1,000,000 or more: psycopg's 32-bit day count can only wrap around into timedelta's range from
# about 3.1 million years on (days alone stay within 2**31).
_MANY_YEARS: Final = re.compile(rb"[+-]?\d{7,} years? ?")
_INTERVAL_DAYS: Final = re.compile(
    rb"([+-]?\d+) years?(?: ([+-]?\d+) mons?)?(?: ([+-]?\d+) days?)?"
)
_TIMEDELTA_DAYS: Final = 999_999_999


@cache  # one class per inner loader (psycopg's, the same for every cursor)
def _counted_interval_loader(inner: type) -> type:
    """psycopg's ``interval`` loader, refusing the intervals whose days it would miscount.

    psycopg's C loader adds years (365 days), months (30) and days up in a 32-bit integer: from
    about 5.9 million years on the sum wraps around, and when it lands back in ``timedelta``'s
    range (``12000000 years`` as 85,032,704 days) the value is silently wrong instead of refused.
    Such an interval is beyond ``timedelta``: refused here, it takes the tolerant run's seconds
    (:func:`prismiq_django.values.pg_interval_seconds`). Other intervals load as before.
    """
    from psycopg import DataError as LoadError
    from psycopg.adapt import Loader

    class CountedIntervalLoader(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._load = inner(oid, context).load

        def load(self, data: Any) -> Any:
            # Seven digits or a sign and six first: cheap enough to look at every value.
            if len(data) > 12 and 47 < data[6] < 58 and _MANY_YEARS.match(data):
                parts = _INTERVAL_DAYS.match(bytes(data))
                if parts is not None:
                    years, months, days = (int(part or 0) for part in parts.groups())
                    if abs(years * 365 + months * 30 + days) > _TIMEDELTA_DAYS:
                        raise LoadError("interval beyond timedelta")
            return self._load(data)

    return CountedIntervalLoader


class _Unloadable(Exception):
    """psycopg refused a value of the result while loading it (not a database error)."""


def _fetch(cursor: Any, size: int, *, tolerant: bool) -> list[tuple[Any, ...]]:
    """``cursor.fetchmany(size)``; :class:`_Unloadable` when a loader refuses a value.

    A ``DataError`` raised while fetching comes from psycopg's loaders, never from the server
    (the client-side cursor received every row with the statement): it has no SQLSTATE. On the
    tolerant run it is a database error like any other (:class:`QueryExecutionError`).
    """
    try:
        with gc_paused():
            rows: list[tuple[Any, ...]] = cursor.fetchmany(size)
    except DataError as exc:
        cause = exc.__cause__
        if tolerant or cause is None or getattr(cause, "sqlstate", "") is not None:
            raise
        raise _Unloadable() from exc
    return rows


# --- the guarded transaction ------------------------------------------------------------------


@dataclass(slots=True)
class _Deadline:
    """The statement timeout of one run: ``fired`` is set by SQLite's progress handler;
    ``started`` (monotonic) lets a PostgreSQL cancellation be told apart from the timeout."""

    seconds: float
    fired: bool = False
    started: float = field(default_factory=time.monotonic)

    def could_have_fired(self) -> bool:
        """True once ``seconds`` have passed since the run started: before that, the server's
        ``statement_timeout`` (counted from the statement's own, later start) cannot fire."""
        return time.monotonic() - self.started >= self.seconds


@contextmanager
def _postgres_rails(
    connection: BaseDatabaseWrapper, cursor: Any, deadline: _Deadline
) -> Iterator[None]:
    timeout_ms = max(1, math.ceil(deadline.seconds * 1000))
    cursor.execute(
        "SELECT set_config('transaction_read_only', 'on', true), "
        f"set_config('statement_timeout', %s, true), {PIN_SQL}",
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

    try:  # set up inside the try: a failure half way still restores both
        raw.execute("PRAGMA query_only = ON")
        raw.set_progress_handler(check_deadline, SQLITE_PROGRESS_STEPS)
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
    canceled = _is_query_canceled(exc)
    if deadline.fired or (canceled and deadline.could_have_fired()):
        logger.warning("prismiq query stopped by the statement timeout (%ss)", deadline.seconds)
        return QueryTimeout()
    if canceled:  # before the timeout could fire: an administrator or the server stopped it
        logger.warning("prismiq query canceled by the database before its timeout")
        return DatabaseUnavailable()
    if _connection_lost(exc, connection):
        logger.exception("prismiq analytics database connection lost")
        return DatabaseUnavailable()
    if _sqlstate(exc) == _DATETIME_FIELD_OVERFLOW:
        # The data, not a bug: a bucket of a value near PostgreSQL's limits (see the exception).
        logger.warning("prismiq query refused: a timestamp's bucket is out of PostgreSQL's range")
        return ValueOutOfRange()
    logger.exception("prismiq query failed in the database")
    return QueryExecutionError()


_DATETIME_FIELD_OVERFLOW: Final = "22008"


def _sqlstate(exc: DatabaseError) -> str | None:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate if isinstance(sqlstate, str) else None


def _connect(connection: BaseDatabaseWrapper) -> None:
    """Open the connection if needed; :class:`DatabaseUnavailable` when it cannot be reached."""
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        logger.exception("prismiq analytics database unreachable")
        raise DatabaseUnavailable() from exc


@contextmanager
def guarded_cursor(alias: str, timeout: float) -> Iterator[tuple[BaseDatabaseWrapper, Any]]:
    """Yield ``(connection, cursor)`` inside the read-only, timed, always-rolled-back transaction.

    Raises :class:`DatabaseUnavailable` when the database cannot be reached or the connection
    drops, :class:`QueryTimeout` when the deadline fires, :class:`ValueOutOfRange` for
    PostgreSQL's SQLSTATE 22008 (a time bucket beyond its range), :class:`QueryExecutionError`
    for any other database error (the original is chained and logged, never put in the
    message).
    """
    connection = connections[alias]
    rails = _RAILS.get(connection.vendor)
    if rails is None:
        raise QueryExecutionError(f"Database vendor {connection.vendor!r} is not supported.")
    _connect(connection)
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


def _one_message_possible(connection: BaseDatabaseWrapper) -> bool:
    """True when the rails, the statement and the rollback can travel in one message.

    PostgreSQL through psycopg 3 binding parameters on the client (Django's default; see
    :func:`~prismiq_django.pgsession.several_statements_per_message`), with the connection in
    autocommit and outside any ``atomic`` block, and no transaction open on the server either
    (a raw ``BEGIN`` Django does not track: the message's ``ROLLBACK`` would discard its work).
    The message opens and closes its own transaction. And the session must itself have the
    date and interval styles statements are pinned to
    (:func:`~prismiq_django.pgsession.reads_as_pinned`): psycopg decodes the rows by the styles
    the session reports, and the message's ``ROLLBACK`` would end pinned ones before it reads
    them. The message then pins only ``extra_float_digits``. Otherwise the savepoint-safe path
    of :func:`guarded_cursor` is used, which pins all of them.
    """
    return (
        several_statements_per_message(connection)  # first: the others read psycopg 3's
        and outside_transaction(connection)
        and reads_as_pinned(connection.connection)
    )


# The one-message path's rails: the read-only transaction, and the timeout (the one parameter)
# and the pinned settings the session does not report in one SELECT (the reported ones are
# already the pinned values: see _one_message_possible).
_MESSAGE_HEAD: Final = (
    f"BEGIN READ ONLY; SELECT set_config('statement_timeout', %s, true), {PIN_UNREPORTED_SQL}; "
)


@contextmanager
def guarded_statement(
    alias: str, timeout: float, sql: str, params: Sequence[object], *, tolerant: bool = False
) -> Iterator[tuple[BaseDatabaseWrapper, Any]]:
    """Run ``sql`` with ``params`` under the rails; yield ``(connection, cursor)`` on its result.

    Same rails and errors as :func:`guarded_cursor`. On PostgreSQL outside a transaction the
    whole run is one message, one network round trip instead of four (``BEGIN``, the rails, the
    statement, ``ROLLBACK``)::

        BEGIN READ ONLY;
        SELECT set_config('statement_timeout', <ms>, true),
               set_config('extra_float_digits', '1', true);
        <sql>;
        ROLLBACK

    ``statement_timeout`` applies to each statement of a multi-statement message separately.
    ``sql`` is one compiled statement (identifiers from the catalog, values bound), so nothing
    can end the read-only transaction early. When the statement fails, the rest of the message
    is skipped and the failed transaction is rolled back here. ``tolerant``: see
    :func:`_use_fast_loaders`.
    """
    connection = connections[alias]
    if connection.vendor == "postgresql":
        _connect(connection)  # the checks below read the live connection
    if connection.vendor != "postgresql" or not _one_message_possible(connection):
        with guarded_cursor(alias, timeout) as (conn, cursor):
            # PostgreSQL cursors only; others are left alone
            _use_fast_loaders(conn, cursor, tolerant=tolerant)
            cursor.execute(sql, params)
            yield conn, cursor
        return
    deadline = _Deadline(float(timeout))
    timeout_ms = str(max(1, math.ceil(deadline.seconds * 1000)))
    message = f"{_MESSAGE_HEAD}{sql}; ROLLBACK"
    try:
        with connection.cursor() as cursor:
            _use_fast_loaders(connection, cursor, tolerant=tolerant)
            try:
                bound: list[Any] = [timeout_ms, *params]
                cursor.execute(message, bound)
                cursor.cursor.nextset()  # BEGIN -> set_config
                cursor.cursor.nextset()  # set_config -> the statement
            except DatabaseError:
                _rollback_failed(connection)
                raise
            yield connection, cursor
    except DatabaseError as exc:
        raise _translate(exc, connection, deadline) from exc


def _rollback_failed(connection: BaseDatabaseWrapper) -> None:
    """End the transaction a failed one-message run left open (the connection may be gone)."""
    raw = connection.connection
    if raw is None or getattr(raw, "closed", True) or getattr(raw, "broken", False):
        return
    try:
        raw.rollback()
    except Exception:
        logger.warning("prismiq could not roll back a failed statement", exc_info=True)


def execute_compiled(
    compiled: CompiledStatement,
    *,
    alias: str,
    timeout: float,
    column_types: Sequence[str] | None = None,
    wall_clock: Collection[int] = (),
    json_sql: str | None = None,
) -> QueryResult:
    """Run ``compiled`` with the safety rails and return a JSON-ready :class:`QueryResult`.

    The statement's LIMIT is ``compiled.limit + 1``; at most ``compiled.limit`` rows are returned
    and ``truncated`` tells whether more existed. ``column_types`` (optional) are the logical types
    of the output columns as the parser knows them: used on SQLite, whose cursor describes no
    types, and on PostgreSQL only for columns whose database type has no logical mapping.
    ``wall_clock`` lists the output columns holding truncated datetimes (naive wall-clock times
    of the site's zone): on SQLite they are returned without an offset, as PostgreSQL does;
    other SQLite datetimes are Django's naive UTC and get ``+00:00`` when ``USE_TZ``.

    ``json_sql`` (PostgreSQL only, with ``column_types``) is the statement wrapped by
    :func:`prismiq_django.query.jsonrows.json_rows_sql`: it is run instead, each row arrives as the
    JSON text of its values, and the result carries ``rows_json`` built by joining them (no
    per-value work in Python). On another database it is ignored.

    PostgreSQL dates and timestamps Python cannot represent (``infinity``, ``-infinity``, BC,
    after year 9999), times ``24:00:00`` and intervals beyond ``timedelta`` make psycopg refuse
    the row; the statement then runs once more with loaders that turn them into the strings of
    :func:`prismiq_django.values.pg_temporal_text` (the ones the JSON path writes) and
    :func:`prismiq_django.values.pg_time_text`, and the seconds of
    :func:`prismiq_django.values.pg_interval_seconds`. Results without such values pay nothing
    for it. Both runs share one deadline, ``timeout`` seconds from the call: the second gets
    what the first left, and none left is :class:`QueryTimeout` without running it.

    Raises :class:`QueryTimeout`, :class:`DatabaseUnavailable`, :class:`ValueOutOfRange` or
    :class:`QueryExecutionError`.
    """
    if (
        json_sql is not None
        and column_types is not None
        and connections[alias].vendor == "postgresql"
    ):
        return _execute_json_rows(compiled, json_sql, list(column_types), alias, timeout)
    ends_at = time.monotonic() + timeout
    try:
        return _execute_python(compiled, alias, timeout, column_types, wall_clock, tolerant=False)
    except _Unloadable as exc:
        left = ends_at - time.monotonic()
        if left <= 0:
            logger.warning(
                "prismiq query stopped by the statement timeout (%ss) before its tolerant re-run",
                timeout,
            )
            raise QueryTimeout() from exc
        return _execute_python(compiled, alias, left, column_types, wall_clock, tolerant=True)


def _execute_python(
    compiled: CompiledStatement,
    alias: str,
    timeout: float,
    column_types: Sequence[str] | None,
    wall_clock: Collection[int],
    *,
    tolerant: bool,
) -> QueryResult:
    """Run ``compiled`` and convert its values in Python (see :func:`execute_compiled`)."""
    limit = compiled.limit
    started = time.perf_counter()
    statement = guarded_statement(alias, timeout, compiled.sql, compiled.params, tolerant=tolerant)
    with statement as (connection, cursor):
        raw_rows = _fetch(cursor, limit + 1, tolerant=tolerant)
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
        typname = ""
        if pg_types is not None:
            typname, category = pg_types[index]
            logical = pg_logical_type(typname, category)
            if logical == "unknown" and hint:
                logical = hint
        else:
            logical = hint or infer_type([row[index] for row in raw_rows])
        types.append(logical)
        converters.append(
            column_converter(vendor, logical, typname, wall_clock=index in wall_clock)
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
    column_types: list[str],
    alias: str,
    timeout: float,
) -> QueryResult:
    """Run the JSON-wrapped statement: one ``text`` JSON array per row, joined into rows_json."""
    limit = compiled.limit
    started = time.perf_counter()
    with (
        guarded_statement(alias, timeout, json_sql, compiled.params) as (_, cursor),
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
    "guarded_statement",
]
