"""MySQL's and MariaDB's rails: a read-only transaction, a statement gate and a server-side
statement timeout on every statement.

- ``START TRANSACTION READ ONLY`` when the run opens the transaction (the outermost ``atomic``);
  inside a caller's transaction (a savepoint) the access mode can no longer change, and the gate
  below is the guard. Django's ``atomic`` rolls it back either way.
- The gate (:func:`check_statement`): MariaDB runs DDL inside a READ ONLY transaction after an
  implicit commit, so the cursor the rails hand out refuses, before sending anything, every
  statement that is not one read: it must start with ``SELECT``, ``WITH`` or ``(`` (optionally
  behind ``EXPLAIN FORMAT=JSON`` / ``ANALYZE FORMAT=JSON``), and hold no ``;``, ``INTO``,
  ``FOR UPDATE``/``FOR SHARE`` or ``LOCK IN`` outside quotes. A refusal is
  :class:`~prismiq_django.exceptions.QueryExecutionError` (HTTP 500, the statement never echoed).
- The timeout: MariaDB ``SET STATEMENT max_statement_time=<seconds>, time_zone='+00:00' FOR
  <statement>`` (error 1969 when it fires); MySQL the ``MAX_EXECUTION_TIME(<ms>)`` and
  ``SET_VAR(time_zone='+00:00')`` optimizer hints after the leading ``SELECT`` (error 3024).
  ``time_zone`` is UTC for the statement alone: ``TIMESTAMP`` columns and ``CONVERT_TZ`` read
  as Django's storage of ``DATETIME`` (UTC), and the session keeps its own setting.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, cast

from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.base import Deadline
from prismiq_django.exceptions import QueryExecutionError

_EXPLAIN_PREFIXES: Final = ("EXPLAIN FORMAT=JSON ", "ANALYZE FORMAT=JSON ")
_READ_STARTS: Final = ("SELECT", "WITH", "(")
# Quoted parts (backticks, single and double quotes, a doubled quote or a backslash escape
# inside) and words outside them.
_TOKENS: Final = re.compile(
    r"`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|(;)|([A-Za-z_]+)", re.S
)
_FORBIDDEN_WORDS: Final = frozenset({"INTO", "LOCK"})
_FOR_LOCKS: Final = frozenset({"UPDATE", "SHARE"})


class RefusedStatement(QueryExecutionError):
    """A statement the MySQL rails will not send (see :func:`check_statement`)."""


def check_statement(sql: str) -> None:
    """Raise :class:`RefusedStatement` unless ``sql`` is one read (see the module docstring)."""
    body = sql.lstrip()
    for prefix in _EXPLAIN_PREFIXES:
        if body.upper().startswith(prefix):
            body = body[len(prefix) :].lstrip()
            break
    if not body.upper().startswith(_READ_STARTS):
        raise RefusedStatement("Only read statements run on the analytics database.")
    previous = ""
    for match in _TOKENS.finditer(body):
        semicolon, word = match.group(1), match.group(2)
        upper = word.upper() if word else ""
        if semicolon or upper in _FORBIDDEN_WORDS or (previous == "FOR" and upper in _FOR_LOCKS):
            raise RefusedStatement("Only read statements run on the analytics database.")
        previous = upper if word else ""


def _mysql_hint(sql: str, timeout_ms: int) -> str | None:
    """``sql`` with MySQL's optimizer hints after its leading ``SELECT`` (None when it has
    none: a ``WITH`` or parenthesised statement)."""
    body = sql.lstrip()
    if body[:6].upper() != "SELECT":
        return None
    hint = f" /*+ MAX_EXECUTION_TIME({timeout_ms}) SET_VAR(time_zone='+00:00') */"
    return body[:6] + hint + body[6:]


class GuardedCursor:
    """The Django cursor of one run, whose ``execute`` gates and times every statement."""

    def __init__(self, cursor: Any, *, mariadb: bool, seconds: float) -> None:
        self._cursor = cursor
        self._mariadb = mariadb
        self._seconds = seconds
        self._connection: BaseDatabaseWrapper | None = None  # set on unbuffered cursors

    def execute(self, sql: str, params: Sequence[object] | None = None) -> Any:
        check_statement(sql)
        seconds = max(0.001, self._seconds)
        if self._mariadb:
            head = f"SET STATEMENT max_statement_time={seconds:.3f}, time_zone='+00:00' FOR "
            return self._cursor.execute(head + sql, params)
        timeout_ms = max(1, math.ceil(seconds * 1000))
        hinted = _mysql_hint(sql, timeout_ms)
        if hinted is not None:
            return self._cursor.execute(hinted, params)
        # No SELECT to carry the hints: the session's limit for this one statement.
        self._cursor.execute(
            "SET @prismiq_met = @@SESSION.max_execution_time, "
            f"@@SESSION.max_execution_time = {timeout_ms}"
        )
        try:
            return self._cursor.execute(sql, params)
        finally:
            self._cursor.execute("SET @@SESSION.max_execution_time = @prismiq_met")

    def unbuffered(self, connection: BaseDatabaseWrapper) -> GuardedCursor:
        """A cursor with the same gate and timeout whose rows stay on the server until fetched
        (mysqlclient's ``SSCursor``): an export reads ``fetchmany`` batches in constant memory
        where the default cursor receives the whole result in ``execute``. Close it before
        the transaction ends: closing reads (and drops) the rows not fetched. The server's
        timeout still bounds the statement, fetching included."""
        from django.db.backends.mysql.base import CursorWrapper
        from MySQLdb.cursors import SSCursor  # type: ignore[import-untyped, import-not-found, unused-ignore]

        raw = connection.connection.cursor(SSCursor)
        unbuffered = GuardedCursor(
            connection.make_cursor(cast(Any, CursorWrapper(raw))),
            mariadb=self._mariadb,
            seconds=self._seconds,
        )
        unbuffered._connection = connection
        return unbuffered

    def close(self) -> None:
        """Close the cursor; an error it raises (an unbuffered cursor reads the rows not fetched,
        and re-raises a failure among them) is Django's, like the others."""
        connection = self._connection
        if connection is None:
            self._cursor.close()
            return
        with connection.wrap_database_errors:
            self._cursor.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


@contextmanager
def mysql_rails(
    connection: BaseDatabaseWrapper, cursor: Any, deadline: Deadline
) -> Iterator[GuardedCursor]:
    """Yield the gated, timed cursor for the run (see the module docstring)."""
    if (
        len(connection.atomic_blocks) == 1
        and not connection.savepoint_ids
        and connection.commit_on_exit
    ):
        # This run's atomic block opened the transaction (autocommit was on): nothing has run
        # in it yet, so its access mode can still be set.
        cursor.execute("START TRANSACTION READ ONLY")
    mariadb = bool(getattr(connection, "mysql_is_mariadb", False))
    yield GuardedCursor(cursor, mariadb=mariadb, seconds=deadline.seconds)


__all__ = [
    "GuardedCursor",
    "RefusedStatement",
    "check_statement",
    "mysql_rails",
]
