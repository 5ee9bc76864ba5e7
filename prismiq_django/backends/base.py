"""What every vendor's rails share: the :class:`Deadline` of one run, and the reading of driver
errors (SQLSTATE, a cancelled statement, a lost connection).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Final

from django.db import (
    DatabaseError,
    DataError,
    InterfaceError,
    OperationalError,
)
from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.mysql.errors import (
    INTERRUPTED_ERRORS,
    LOST_ERRORS,
    TIMEOUT_ERRORS,
    mysql_error_code,
)


@dataclass(slots=True)
class Deadline:
    """The statement timeout of one run: ``fired`` is set by SQLite's progress handler;
    ``started`` (monotonic) lets a PostgreSQL cancellation be told apart from the timeout."""

    seconds: float
    fired: bool = False
    started: float = field(default_factory=time.monotonic)

    def could_have_fired(self) -> bool:
        """True once ``seconds`` have passed since the run started: before that, the server's
        ``statement_timeout`` (counted from the statement's own, later start) cannot fire."""
        return time.monotonic() - self.started >= self.seconds


def is_server_timeout(exc: BaseException) -> bool:
    """True for MySQL's and MariaDB's own statement-timeout errors (they name the timeout, so
    no deadline arithmetic is needed to tell them from a cancellation)."""
    return mysql_error_code(exc) in TIMEOUT_ERRORS


def is_query_canceled(exc: BaseException) -> bool:
    if mysql_error_code(exc) in INTERRUPTED_ERRORS:
        return True
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) == "57014" or getattr(cause, "pgcode", None) == "57014"


_LOST_SQLSTATES: Final = frozenset({"57P01", "57P02", "57P03"})  # shutdowns, cannot connect now


def connection_lost(exc: DatabaseError, connection: BaseDatabaseWrapper) -> bool:
    if isinstance(exc, InterfaceError) or mysql_error_code(exc) in LOST_ERRORS:
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


DATETIME_FIELD_OVERFLOW: Final = "22008"


#: What Python's sqlite3 says when a function registered on the connection raised: an
#: ``OverflowError`` becomes SQLite's ``SQLITE_TOOBIG`` (a ``DataError``), anything else a generic
#: failure (an ``OperationalError``).
_SQLITE_FUNCTION_FAILED: Final = frozenset(
    {"string or blob too big", "user-defined function raised exception"}
)


def value_out_of_range(exc: DatabaseError, connection: BaseDatabaseWrapper) -> bool:
    """True when the database could not compute a value of the data, not for a bug:

    - PostgreSQL's SQLSTATE 22008 (``datetime_field_overflow``);
    - on SQLite, a failure inside one of the functions Django registers on the connection. The
      only ones compiled statements call are ``django_date_trunc`` and ``django_datetime_trunc``
      (time buckets), which fail (``OverflowError`` in Python) when a bucket or the wall-clock
      time of a value in the site's zone falls outside Python's years 1..9999, e.g. the week of
      ``0001-01-01`` in America/New_York or the year of ``9999-12-31 23:30`` UTC in
      Europe/Paris. (``string or blob too big`` is also SQLite's answer for a value longer than
      its limit, which is the data's size, not a bug, too.)
    """
    if sqlstate_of(exc) == DATETIME_FIELD_OVERFLOW:
        return True
    cause = exc.__cause__
    return (
        connection.vendor == "sqlite"
        and isinstance(exc, OperationalError | DataError)
        and cause is not None
        and str(cause) in _SQLITE_FUNCTION_FAILED
    )


def sqlstate_of(exc: DatabaseError) -> str | None:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate if isinstance(sqlstate, str) else None


__all__ = [
    "DATETIME_FIELD_OVERFLOW",
    "Deadline",
    "connection_lost",
    "is_query_canceled",
    "is_server_timeout",
    "sqlstate_of",
    "value_out_of_range",
]
