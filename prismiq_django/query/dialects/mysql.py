"""MySQL 8 and MariaDB 10.11+ as configured by Django's ``mysql`` backend (mysqlclient).

- Identifiers are quoted with backticks (a backtick in a name is doubled).
- Time buckets are computed in the site's zone: Django stores aware datetimes in ``DATETIME``
  columns as naive UTC, and the rails run every statement with the session's ``time_zone`` at
  UTC (so ``TIMESTAMP`` columns read as UTC too); ``CONVERT_TZ(x, 'UTC', <zone>)`` gives the
  wall-clock time, with the zone's name a bound parameter. Named zones need the server's time
  zone tables (``mariadb-tzinfo-to-sql``); without them ``CONVERT_TZ`` answers NULL (check W005
  reports it). A site in UTC converts nothing. Weeks start on Monday (``WEEKDAY``).
- ``CONVERT_TZ`` converts only values within the ``TIMESTAMP`` range (1970 to 2038): outside it
  a value is bucketed by its UTC wall-clock time (a documented MySQL/MariaDB limitation).
- A site with ``USE_TZ = False`` stores naive local times in ``DATETIME`` columns as written:
  those are truncated as stored, with no ``CONVERT_TZ``, and compared with filter values
  spelled in the site's zone (:meth:`MySQLDialect.stores_wall_clock`). ``TIMESTAMP`` columns
  stay instants.
- Every ``DATETIME`` and ``TIMESTAMP`` column is an instant (:meth:`MySQLDialect.zoned_bucket`):
  its buckets are labelled with the site zone's offset, ``+00:00`` outside that range
  (:mod:`prismiq_django.execution.buckets`).
- Pattern matching does not depend on the column's collation: case-sensitive matches compare
  in ``utf8mb4_bin``; case-insensitive ones compare ``LOWER`` of both sides in ``utf8mb4_bin``
  (so accents count, as with PostgreSQL's ``ILIKE``). Patterns are rewritten to the escape
  character ``!``, which means the same whatever ``NO_BACKSLASH_ESCAPES`` says.
- Comparisons of strings (``eq``, ``neq``, ``gt``... ``between``, ``in``, ``not_in``,
  ``in_or_null``, row scopes) compare the UTF-8 bytes, that is code points
  (:meth:`MySQLDialect.exact_text`): ``'Paris'`` is neither ``'PARIS'`` nor ``'Paris '`` in a
  ``*_ci`` column, and ``'B' < 'a'``, as with PostgreSQL's ``C`` collation and SQLite. Such a
  comparison cannot use an index on the column. ``ORDER BY`` and ``GROUP BY`` follow the
  column's collation (``'Paris'`` and ``'PARIS'`` are one group in a ``*_ci`` column).
- Output columns are named ``c0``, ``c1``... in the SQL (:meth:`MySQLDialect.output_alias`);
  the answer names them from the definition.
- No ``NULLS FIRST/LAST``: PostgreSQL's order (NULLs after every value ascending) is spelled
  with a leading ``x IS NULL`` key (``Dialect.nulls_sort_low``).
- ``FULL OUTER JOIN`` does not exist (:attr:`MySQLDialect.full_join` is False: refused).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final
from uuid import UUID

from prismiq_django.query.catalog import Column, LogicalType
from prismiq_django.query.dialects.base import LIKE_ESCAPE, Dialect

#: The escape character of the LIKE patterns sent to MySQL (see :func:`mysql_like_pattern`).
MYSQL_LIKE_ESCAPE: Final = "!"


def mysql_like_pattern(pattern: str) -> str:
    """Rewrite a LIKE ``pattern`` written with ``\\`` escapes to the same pattern with ``!``
    escapes: ``\\%`` -> ``!%``, ``\\_`` -> ``!_``, a literal ``!`` -> ``!!``, ``\\x`` -> ``x``
    (a trailing lone ``\\`` is a literal backslash)."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == LIKE_ESCAPE:
            literal = next(chars, LIKE_ESCAPE)
            out.append(
                MYSQL_LIKE_ESCAPE + literal if literal in ("%", "_", MYSQL_LIKE_ESCAPE) else literal
            )
        elif ch == MYSQL_LIKE_ESCAPE:
            out.append(MYSQL_LIKE_ESCAPE * 2)
        else:
            out.append(ch)
    return "".join(out)


def _date_bucket(sql: str, unit: str) -> str:
    """A ``DATE`` expression: the start of ``unit`` holding the date or datetime ``sql``."""
    if unit == "week":
        return f"DATE_SUB(DATE({sql}), INTERVAL WEEKDAY({sql}) DAY)"
    if unit == "month":
        return f"DATE_SUB(DATE({sql}), INTERVAL DAYOFMONTH({sql}) - 1 DAY)"
    if unit == "quarter":
        return f"DATE_ADD(MAKEDATE(YEAR({sql}), 1), INTERVAL (QUARTER({sql}) - 1) * 3 MONTH)"
    if unit == "year":
        return f"MAKEDATE(YEAR({sql}), 1)"
    return f"DATE({sql})"


def _datetime_bucket(
    local: str, unit: str, params: tuple[object, ...]
) -> tuple[str, tuple[object, ...]]:
    """A ``DATETIME``: the start of ``unit`` holding the wall-clock datetime ``local``, whose
    ``params`` are repeated as often as the expression repeats ``local``."""
    if unit == "minute":
        return f"CAST(DATE_FORMAT({local}, '%%Y-%%m-%%d %%H:%%i:00') AS DATETIME)", params
    if unit == "hour":
        return f"CAST(DATE_FORMAT({local}, '%%Y-%%m-%%d %%H:00:00') AS DATETIME)", params
    uses = 1 if unit in ("day", "year") else 2
    return f"CAST({_date_bucket(local, unit)} AS DATETIME)", params * uses


class MySQLDialect(Dialect):
    """MySQL 8 and MariaDB 10.11+ (see the module docstring)."""

    vendor = "mysql"
    explain_analyzes = True  # MariaDB's ANALYZE FORMAT=JSON runs the statement
    full_join = False
    nulls_sort_low = True

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``").replace("%", "%%") + "`"

    def date_trunc(
        self, sql: str, unit: str, column: Column, tz_name: str
    ) -> tuple[str, tuple[object, ...]]:
        if column.type == "date":
            return (sql if unit in ("day", "hour", "minute") else _date_bucket(sql, unit)), ()
        if tz_name == "UTC":
            return self.wall_clock_trunc(sql, unit)
        return _datetime_bucket(f"CONVERT_TZ({sql}, 'UTC', %s)", unit, (tz_name,))

    def wall_clock_trunc(self, sql: str, unit: str) -> tuple[str, tuple[object, ...]]:
        return _datetime_bucket(sql, unit, ())

    def stores_wall_clock(self, column: Column) -> bool:
        # USE_TZ = False: Django writes the local time into DATETIME as it is. A TIMESTAMP
        # stays an instant (read in UTC in the rails' session) and is converted as ever.
        return column.type == "datetime" and not column.data_type.startswith("timestamp")

    def zoned_bucket(self, column: Column) -> bool:
        # DATETIME holds Django's UTC and TIMESTAMP reads as UTC in the rails' session: both
        # are instants, and date_trunc converts both with CONVERT_TZ.
        return column.type == "datetime"

    def like(
        self, sql: str, pattern: str, *, negate: bool, case_insensitive: bool
    ) -> tuple[str, object]:
        not_ = "NOT " if negate else ""
        text = f"CONVERT({sql} USING utf8mb4)"
        if case_insensitive:
            lhs, rhs = f"LOWER({text}) COLLATE utf8mb4_bin", "LOWER(%s)"
        else:
            lhs, rhs = f"{text} COLLATE utf8mb4_bin", "%s"
        return f"{lhs} {not_}LIKE {rhs} ESCAPE '{MYSQL_LIKE_ESCAPE}'", mysql_like_pattern(pattern)

    def output_alias(self, position: int, name: str) -> str:
        # Not the definition's alias: MySQL's names hold only BMP characters (an emoji is
        # error 1300), at most 256 of them, lose their leading spaces, and ignore case in a
        # derived table (the row count's SELECT count(*) FROM (...): 'a' and 'A' collide).
        return self.quote(f"c{position}")

    def exact_text(self, sql: str) -> str:
        # The bytes of the UTF-8 spelling: neither the collation's case and accent folding nor
        # its PAD SPACE rule ('a' = 'a ') applies, as with PostgreSQL's and SQLite's ``=``.
        return f"CAST(CONVERT({sql} USING utf8mb4) AS BINARY)"

    def adapt(self, value: object, type_: LogicalType) -> object:
        if isinstance(value, datetime) and value.tzinfo is not None:
            # Django's storage of aware datetimes (and the session's zone in the rails): UTC.
            return value.astimezone(UTC).replace(tzinfo=None)
        if isinstance(value, UUID):
            # MariaDB's native UUID type (Django's UUIDField from 10.7) reads the dashed form.
            return str(value)
        return value

    def explain_sql(self, sql: str, *, analyze: bool) -> str:
        # MariaDB: ANALYZE FORMAT=JSON runs the statement and adds the actual counts.
        return f"{'ANALYZE' if analyze else 'EXPLAIN'} FORMAT=JSON {sql}"


__all__ = ["MYSQL_LIKE_ESCAPE", "MySQLDialect", "mysql_like_pattern"]
