"""MySQL's and MariaDB's error numbers that the rails read (``exc.__cause__.args[0]`` of a
Django database error raised by mysqlclient)."""

from __future__ import annotations

from typing import Final

#: MariaDB's ``ER_STATEMENT_TIMEOUT`` (``max_statement_time``) and MySQL's ``ER_QUERY_TIMEOUT``
#: (``MAX_EXECUTION_TIME``): the statement timeout fired.
TIMEOUT_ERRORS: Final = frozenset({1969, 3024})
#: ``ER_QUERY_INTERRUPTED``: ``KILL QUERY`` by an administrator, not the timeout.
INTERRUPTED_ERRORS: Final = frozenset({1317})
#: The client lost the server (2006 gone away, 2013 lost during the query, 2055 lost while
#: reading), could not reach it (2002, 2003), or the server ended the connection (1927
#: ``KILL``, 4031 idle disconnect).
LOST_ERRORS: Final = frozenset({1927, 2002, 2003, 2006, 2013, 2055, 4031})


def mysql_error_code(exc: BaseException) -> int | None:
    """The MySQL error number of a Django database error (None for another driver's)."""
    cause = exc.__cause__
    if cause is None or type(cause).__module__.split(".")[0] != "MySQLdb":
        return None
    args = getattr(cause, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


__all__ = ["INTERRUPTED_ERRORS", "LOST_ERRORS", "TIMEOUT_ERRORS", "mysql_error_code"]
