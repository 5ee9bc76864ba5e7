"""The guarded read-only transaction every statement runs in, and database errors translated.

:func:`guarded_cursor` opens the always-rolled-back, read-only, timed transaction (the vendor's
rails from :mod:`prismiq_django.backends`); :func:`guarded_statement` runs one statement in it, as
one message on PostgreSQL outside a transaction. Database errors become :class:`QueryTimeout`,
:class:`DatabaseUnavailable`, :class:`ValueOutOfRange` or :class:`QueryExecutionError`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from django.db import (
    DatabaseError,
    connections,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.base import (
    Deadline,
    connection_lost,
    is_query_canceled,
    is_server_timeout,
    value_out_of_range,
)
from prismiq_django.backends.health import sent_as_health_check
from prismiq_django.backends.mysql.rails import mysql_rails
from prismiq_django.backends.postgresql.loaders import use_fast_loaders
from prismiq_django.backends.postgresql.rails import postgres_rails
from prismiq_django.backends.postgresql.session import (
    PIN_UNREPORTED_SQL,
    current_session_settings,
    outside_transaction,
    reads_as_pinned,
    session_settings_sql,
    several_statements_per_message,
    time_zone_sql,
)
from prismiq_django.backends.sqlite.rails import sqlite_rails
from prismiq_django.exceptions import (
    DatabaseUnavailable,
    PrismiqError,
    QueryExecutionError,
    QueryTimeout,
    ValueOutOfRange,
)

logger = logging.getLogger("prismiq_django.execution")


#: Each vendor's rails: a context manager around the run, yielding None (the run uses the
#: cursor as it is) or the cursor the run must use instead (MySQL's gated, timed cursor).
_RAILS: Final = {"postgresql": postgres_rails, "sqlite": sqlite_rails, "mysql": mysql_rails}


def _translate(
    exc: DatabaseError, connection: BaseDatabaseWrapper, deadline: Deadline
) -> PrismiqError:
    canceled = is_query_canceled(exc)
    if deadline.fired or is_server_timeout(exc) or (canceled and deadline.could_have_fired()):
        logger.warning("prismiq query stopped by the statement timeout (%ss)", deadline.seconds)
        return QueryTimeout()
    if canceled:  # before the timeout could fire: an administrator or the server stopped it
        logger.warning("prismiq query canceled by the database before its timeout")
        return DatabaseUnavailable()
    if connection_lost(exc, connection):
        logger.exception("prismiq analytics database connection lost")
        return DatabaseUnavailable()
    if value_out_of_range(exc, connection):
        # The data, not a bug: a bucket of a value near the database's limits (or Python's, for
        # SQLite's functions: see value_out_of_range).
        logger.warning("prismiq query refused: a timestamp's bucket is out of the database's range")
        return ValueOutOfRange()
    logger.exception("prismiq query failed in the database")
    return QueryExecutionError()


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
    deadline = Deadline(float(timeout))
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            try:
                with rails(connection, cursor, deadline) as guarded:
                    yield connection, cursor if guarded is None else guarded
            finally:
                transaction.set_rollback(True, using=alias)
    except DatabaseError as exc:
        raise _translate(exc, connection, deadline) from exc


def _one_message_possible(connection: BaseDatabaseWrapper) -> bool:
    """True when the rails, the statement and the rollback can travel in one message.

    PostgreSQL through psycopg 3 binding parameters on the client (Django's default; see
    :func:`~prismiq_django.backends.postgresql.session.several_statements_per_message`), with the
    connection in
    autocommit and outside any ``atomic`` block, and no transaction open on the server either
    (a raw ``BEGIN`` Django does not track: the message's ``ROLLBACK`` would discard its work).
    The message opens and closes its own transaction. And the session must itself have the
    date and interval styles statements are pinned to
    (:func:`~prismiq_django.backends.postgresql.session.reads_as_pinned`): psycopg decodes the rows
    by the styles
    the session reports, and the message's ``ROLLBACK`` would end pinned ones before it reads
    them; the same for ``TimeZone``, which must be the zone Django set on the connection
    (psycopg attaches the reported zone to ``timestamptz`` values). The message then pins only
    ``extra_float_digits`` and ``TimeZone`` (for the statement's own text and casts).
    Otherwise the savepoint-safe path of :func:`guarded_cursor` is used, which pins all of
    them.
    """
    return (
        several_statements_per_message(connection)  # first: the others read psycopg 3's
        and outside_transaction(connection)
        and reads_as_pinned(connection.connection, connection.timezone_name)
    )


# The one-message path's rails: the read-only transaction, and the timeout (the first
# parameter), the pinned settings the session does not report (the reported ones are already
# the pinned values: see _one_message_possible), TimeZone (bound) and the site's
# PG_SESSION_SETTINGS (name and value bound) in one SELECT.
_MESSAGE_HEAD: Final = (
    f"BEGIN READ ONLY; SELECT set_config('statement_timeout', %s, true), {PIN_UNREPORTED_SQL}"
)


@dataclass(slots=True)
class Prelude:
    """A one-value statement run before the main one in the same transaction (the row count of
    ``count_total``); ``value`` holds its answer once the main statement has run."""

    sql: str
    params: Sequence[object]
    value: Any = None


@contextmanager
def guarded_statement(
    alias: str,
    timeout: float,
    sql: str,
    params: Sequence[object],
    *,
    tolerant: bool = False,
    prelude: Prelude | None = None,
) -> Iterator[tuple[BaseDatabaseWrapper, Any]]:
    """Run ``sql`` with ``params`` under the rails; yield ``(connection, cursor)`` on its result.

    Same rails and errors as :func:`guarded_cursor`. On PostgreSQL outside a transaction the
    whole run is one message, one network round trip instead of four (``BEGIN``, the rails, the
    statement, ``ROLLBACK``)::

        BEGIN READ ONLY;
        SELECT set_config('statement_timeout', <ms>, true),
               set_config('extra_float_digits', '1', true)
               [, set_config('TimeZone', <Django's zone of the connection>, true)]
               [, set_config(<name>, <value>, true) for each PG_SESSION_SETTINGS pair];
        <sql>;
        ROLLBACK

    ``statement_timeout`` applies to each statement of a multi-statement message separately.
    ``sql`` is one compiled statement (identifiers from the catalog, values bound), so nothing
    can end the read-only transaction early. When the statement fails, the rest of the message
    is skipped and the failed transaction is rolled back here. ``tolerant``: see
    :func:`use_fast_loaders`. ``prelude`` runs first in the same transaction (in the message,
    before ``<sql>``, with the same statement timeout); its first column of its first row is
    stored in ``prelude.value``.
    """
    connection = connections[alias]
    if connection.vendor == "postgresql":
        _connect(connection)  # the checks below read the live connection
    if connection.vendor != "postgresql" or not _one_message_possible(connection):
        with guarded_cursor(alias, timeout) as (conn, cursor):
            # PostgreSQL cursors only; others are left alone
            use_fast_loaders(conn, cursor, tolerant=tolerant)
            if prelude is not None:
                cursor.execute(prelude.sql, prelude.params)
                prelude.value = _first_value(cursor)
            cursor.execute(sql, params)
            yield conn, cursor
        return
    deadline = Deadline(float(timeout))
    zone_sql, zone_params = time_zone_sql(connection)
    site_sql, site_params = session_settings_sql(current_session_settings())
    first = f"{prelude.sql}; " if prelude is not None else ""
    message = f"{_MESSAGE_HEAD}{zone_sql}{site_sql}; {first}{sql}; ROLLBACK"
    rest: list[Any] = [*zone_params, *site_params, *(prelude.params if prelude else ()), *params]

    def send() -> Any:
        """The message sent, the cursor on the statement's result; nothing left open when it
        fails. Sent a second time only on a new connection (see sent_as_health_check), with
        the time the first attempt left."""
        left = deadline.seconds - (time.monotonic() - deadline.started)
        timeout_ms = str(max(1, math.ceil(left * 1000)))
        cursor = connection.cursor()
        try:
            use_fast_loaders(connection, cursor, tolerant=tolerant)
            cursor.execute(message, [timeout_ms, *rest])
            cursor.cursor.nextset()  # BEGIN -> set_config
            cursor.cursor.nextset()  # set_config -> the prelude or the statement
            if prelude is not None:
                prelude.value = _first_value(cursor)
                cursor.cursor.nextset()  # the prelude -> the statement
        except BaseException as exc:
            if isinstance(exc, DatabaseError):
                _rollback_failed(connection)
            with contextlib.suppress(DatabaseError):
                cursor.close()
            raise
        return cursor

    try:
        with sent_as_health_check(connection, send) as cursor:
            yield connection, cursor
    except DatabaseError as exc:
        raise _translate(exc, connection, deadline) from exc


def _first_value(cursor: Any) -> Any:
    row = cursor.fetchone()
    return None if row is None else row[0]


def _rollback_failed(connection: BaseDatabaseWrapper) -> None:
    """End the transaction a failed one-message run left open (the connection may be gone)."""
    raw = connection.connection
    if raw is None or getattr(raw, "closed", True) or getattr(raw, "broken", False):
        return
    try:
        raw.rollback()
    except Exception:
        logger.warning("prismiq could not roll back a failed statement", exc_info=True)


__all__ = ["Prelude", "guarded_cursor", "guarded_statement"]
