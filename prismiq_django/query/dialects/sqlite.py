"""SQLite 3.39+ as configured by Django's backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from prismiq_django.query.catalog import Column, LogicalType
from prismiq_django.query.dialects.base import Dialect, like_to_glob
from prismiq_django.query.limits import INT64_MAX, INT64_MIN


def _sqlite_datetime(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")


class SQLiteDialect(Dialect):
    """SQLite 3.39+ as configured by Django's backend.

    Date truncation uses the ``django_date_trunc``/``django_datetime_trunc`` functions Django
    registers on every SQLite connection (so statements must run on a Django connection).
    Values are adapted to Django's storage format: datetimes as naive UTC text (the compiler
    binds naive local times when the site stores naive datetimes, ``USE_TZ = False``), UUIDs as
    32 hex digits, decimals as numbers (SQLite stores them as REAL). ``LIKE`` is
    case-insensitive for ASCII letters only (``ilike``, ``contains``...: a SQLite limitation);
    case-sensitive ``like``/``not_like`` are compiled to ``GLOB`` so that they match as on
    PostgreSQL.
    """

    vendor = "sqlite"
    explicit_nulls_order = True

    def date_trunc(
        self, sql: str, unit: str, column: Column, tz_name: str
    ) -> tuple[str, tuple[object, ...]]:
        if column.type == "date":
            return f"django_date_trunc('{unit}', {sql}, NULL, NULL)", ()
        return f"django_datetime_trunc('{unit}', {sql}, %s, 'UTC')", (tz_name,)

    def stores_wall_clock(self, column: Column) -> bool:
        # USE_TZ = False: Django stores the local time as written and converts nothing.
        return column.type == "datetime"

    def wall_clock_trunc(self, sql: str, unit: str) -> tuple[str, tuple[object, ...]]:
        return f"django_datetime_trunc('{unit}', {sql}, NULL, NULL)", ()

    def zoned_bucket(self, column: Column) -> bool:
        # Django stores every aware datetime as naive UTC text (USE_TZ), whatever the declared
        # type (datetime or timestamp), and date_trunc converts each one from UTC to the zone.
        return column.type == "datetime"

    def like(
        self, sql: str, pattern: str, *, negate: bool, case_insensitive: bool
    ) -> tuple[str, object]:
        not_ = "NOT " if negate else ""
        if case_insensitive:
            return f"{sql} {not_}LIKE %s ESCAPE '\\'", pattern
        # SQLite's LIKE ignores ASCII case; GLOB is case-sensitive like PostgreSQL's LIKE.
        return f"{sql} {not_}GLOB %s", like_to_glob(pattern)

    def adapt(self, value: object, type_: LogicalType) -> object:
        if isinstance(value, datetime):
            return _sqlite_datetime(value)
        if isinstance(value, (date, time)):
            return value.isoformat()
        if isinstance(value, Decimal):
            # SQLite integers are 64-bit: a whole number beyond that compares as a REAL.
            if value == value.to_integral_value() and INT64_MIN <= value <= INT64_MAX:
                return int(value)
            return float(value)
        if isinstance(value, UUID):
            return value.hex
        return value

    def explain_sql(self, sql: str, *, analyze: bool) -> str:
        return f"EXPLAIN QUERY PLAN {sql}"


__all__ = ["SQLiteDialect"]
