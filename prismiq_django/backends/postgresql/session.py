"""The PostgreSQL session settings every prismiq statement runs with.

PostgreSQL writes values as text according to settings a site may change for its role, its
database or its connection (``ALTER ROLE ... SET``, ``ALTER DATABASE ... SET``,
``DATABASES[...]["OPTIONS"]["options"] = "-c ..."``):

- ``DateStyle``: dates and timestamps (``06.05.2024`` in ``German``). psycopg reads
  ``timestamptz`` only in ``ISO``, and the spellings of the values Python cannot hold
  (:func:`prismiq_django.backends.postgresql.values.pg_temporal_text`), ``EXPLAIN``'s constants and
  the catalog's
  column defaults are ``ISO`` text by default.
- ``IntervalStyle``: intervals (``P1Y2M`` in ``iso_8601``). psycopg reads only ``postgres``.
- ``extra_float_digits``: below 1, floats lose digits (``0.30000000000000004`` is written
  ``0.3``, ``1234567.891`` ``1e+06`` at -15), in PostgreSQL's JSON too, and so do the catalog's
  row estimates.

Every statement runs with them pinned to PostgreSQL's defaults (:data:`PINNED`) by
``set_config(name, value, true)``, the function form of ``SET LOCAL``: in the same statement as
the statement timeout, ended with the transaction or savepoint, so the session keeps its own
settings. Results are then the ones a session with the defaults gets, whatever the site's.

``DateStyle`` and ``IntervalStyle`` are *reported* settings: the server tells the client their
value, and psycopg decodes dates and intervals by the value reported when it loads the rows
(:func:`reads_as_pinned`). Only the output style of ``DateStyle`` is pinned (``ISO``); its field
order (``DMY``, ``MDY``) only says how ambiguous input such as ``01/02/2024`` is read, and
prismiq writes dates as ISO 8601, which every order reads the same.

``TimeZone`` is pinned too, to the zone Django sets when it opens the connection
(``connection.timezone_name``: UTC under ``USE_TZ``), bound as a parameter
(:func:`time_zone_sql`): Django never sets it again, so a persistent or pooled connection whose
session changed it would otherwise write ``timestamptz`` values (``to_json``, the CSV export's
``COPY`` text, psycopg's loaders) and cast dates against them in that other zone. Buckets and
relative dates bind the site's zone explicitly (``AT TIME ZONE %s``, aware bounds). ``TimeZone``
is a reported setting as well.

Not pinned: settings that change nothing prismiq reads: ``bytea_output`` (psycopg reads ``hex`` and
``escape`` alike) and the input side of ``IntervalStyle`` (prismiq binds no intervals).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, Final

#: The pinned settings the server reports to the client, ``(name, value)``.
REPORTED: Final = (("DateStyle", "ISO"), ("IntervalStyle", "postgres"))
#: The pinned settings it does not report: a client cannot know their value without asking.
UNREPORTED: Final = (("extra_float_digits", "1"),)
#: Every pinned setting and its value (PostgreSQL's default).
PINNED: Final = (*REPORTED, *UNREPORTED)


def _set_config(settings: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"set_config('{name}', '{value}', true)" for name, value in settings)


#: ``set_config`` calls pinning :data:`PINNED` for the current transaction or savepoint (a
#: ``SELECT`` list: constants only, no parameters, no ``%``).
PIN_SQL: Final = _set_config(PINNED)
#: The same for :data:`UNREPORTED` alone: enough where :func:`reads_as_pinned` is true.
PIN_UNREPORTED_SQL: Final = _set_config(UNREPORTED)


#: The site's custom settings (``PRISMIQ["PG_SESSION_SETTINGS"]``) for the statements run in the
#: current context: ``(name, value)`` pairs, set by :func:`session_settings`.
_SESSION_SETTINGS: ContextVar[tuple[tuple[str, str], ...]] = ContextVar(
    "prismiq_session_settings", default=()
)


@contextmanager
def session_settings(pairs: Iterable[tuple[str, str]]) -> Iterator[None]:
    """Within the block, every statement the rails run on PostgreSQL first sets each
    ``(name, value)`` of ``pairs`` with ``set_config(name, value, true)``, in the same
    ``SELECT`` as the statement timeout: local to the read-only transaction (or savepoint), so
    the session never keeps them. Names and values are bound as parameters. Nested blocks
    replace the outer pairs; leaving the block restores them. Context-local (a thread or task
    sees only its own)."""
    token = _SESSION_SETTINGS.set(tuple(pairs))
    try:
        yield
    finally:
        _SESSION_SETTINGS.reset(token)


def current_session_settings() -> tuple[tuple[str, str], ...]:
    """The pairs of the innermost :func:`session_settings` block (``()`` outside any)."""
    return _SESSION_SETTINGS.get()


def session_settings_sql(pairs: tuple[tuple[str, str], ...]) -> tuple[str, list[str]]:
    """``(", set_config(%s, %s, true)" * n, [name, value, ...])``: the ``SELECT``-list items
    (each preceded by a comma) that set ``pairs``, and their parameters."""
    sql = "".join(", set_config(%s, %s, true)" for _ in pairs)
    return sql, [part for pair in pairs for part in pair]


def time_zone_sql(connection: Any) -> tuple[str, list[str]]:
    """``(", set_config('TimeZone', %s, true)", [zone])``: the ``SELECT``-list item (preceded
    by a comma) that pins ``TimeZone`` to the zone Django set on ``connection`` (a Django
    connection wrapper) for the current transaction or savepoint, and its parameter; ``("",
    [])`` when Django sets none (``TIME_ZONE = None`` without ``USE_TZ``)."""
    zone = connection.timezone_name
    if not zone:
        return "", []
    return ", set_config('TimeZone', %s, true)", [str(zone)]


def several_statements_per_message(connection: Any) -> bool:
    """True when one ``execute`` on ``connection`` (a Django connection wrapper, connected) may
    carry several statements with parameters, and its cursor can walk their results.

    psycopg 3 binding parameters on the client (Django's default): its cursor moves from one
    statement's result to the next with ``nextset``. Not psycopg2 (it keeps only the last
    result), nor ``OPTIONS: {"server_side_binding": True}`` (parameters travel in the extended
    protocol, which refuses several statements in one message).
    """
    client_cursor = _client_cursor_class()
    factory = getattr(connection.connection, "cursor_factory", None)
    return (
        client_cursor is not None
        and isinstance(factory, type)
        and issubclass(factory, client_cursor)
    )


@cache  # looked up on every statement: imported once, when PostgreSQL is first used
def _client_cursor_class() -> type | None:
    """psycopg 3's ``ClientCursor``, or None when Django runs on psycopg2."""
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if not is_psycopg3:
        return None
    import psycopg

    return psycopg.ClientCursor


#: libpq's ``PQTRANS_IDLE`` (``psycopg.pq.TransactionStatus.IDLE``): no transaction open.
_IDLE: Final = 0


def outside_transaction(connection: Any) -> bool:
    """True when ``connection`` (a connected Django connection wrapper on psycopg 3) is in
    autocommit, outside any ``atomic`` block, and has no transaction open on the server either
    (a raw ``BEGIN`` Django does not track): a message may then open and end its own
    transaction without touching anyone else's work. Reads attributes only (every statement
    asks)."""
    if connection.in_atomic_block or not connection.autocommit:
        return False
    return bool(connection.connection.pgconn.transaction_status == _IDLE)


def reads_as_pinned(raw_connection: Any, zone: str | None = None) -> bool:
    """True when the session itself has the pinned values of :data:`REPORTED` (by what the
    server last reported): output style ``ISO`` and ``IntervalStyle`` ``postgres``; and, when
    ``zone`` is given (the zone :func:`time_zone_sql` pins), ``TimeZone`` ``zone`` (psycopg
    attaches the reported zone to the ``timestamptz`` values it loads).

    psycopg's date, timestamp and interval loaders follow the ``DateStyle`` and
    ``IntervalStyle`` last reported when they load the rows. A statement run under a savepoint
    gets the pins reported before its rows arrive; in a single message ending with
    ``ROLLBACK`` the pins are over before psycopg reads anything, so such a message may only
    rely on the session's own values, and needs to pin only :data:`UNREPORTED` when this is
    true. ``raw_connection`` is the psycopg 3 connection.
    """
    pgconn = raw_connection.pgconn
    date_style = pgconn.parameter_status(b"DateStyle")
    return bool(
        date_style is not None
        and date_style.startswith(b"ISO")
        and pgconn.parameter_status(b"IntervalStyle") == b"postgres"
        and (not zone or pgconn.parameter_status(b"TimeZone") == zone.encode())
    )


__all__ = [
    "PINNED",
    "PIN_SQL",
    "PIN_UNREPORTED_SQL",
    "REPORTED",
    "UNREPORTED",
    "current_session_settings",
    "outside_transaction",
    "reads_as_pinned",
    "session_settings",
    "session_settings_sql",
    "several_statements_per_message",
    "time_zone_sql",
]
