"""Per-vendor SQL details: quoting, date truncation, case-insensitive matching, parameters.

A :class:`Dialect` holds only what differs between databases; the compiler does the rest.
Dialects are registered by Django's ``connection.vendor`` (``"postgresql"``, ``"sqlite"``) and
looked up with :func:`get_dialect`. A new vendor (MySQL: backtick quoting, ``DATE_FORMAT``
truncation, no ``NULLS LAST``) is one subclass plus one registry entry.

Every fragment a dialect returns uses ``%s`` placeholders and doubles any literal ``%``, as Django
cursors expect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from prismiq_django.query.catalog import Column, LogicalType, Table
from prismiq_django.query.errors import ErrorDetail, QueryValidationError
from prismiq_django.query.limits import INT64_MAX, INT64_MIN

#: The escape character used in every LIKE pattern, on every dialect.
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """Escape ``\\``, ``%`` and ``_`` so that ``text`` matches literally inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern (``\\`` escapes) to an equivalent SQLite GLOB pattern."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            literal = next(chars, "") if ch == LIKE_ESCAPE else ch
            out.append(f"[{literal}]" if literal in ("*", "?", "[") else literal)
    return "".join(out)


class Dialect:
    """SQL generation details of one database vendor. Instances are stateless and shared."""

    vendor: ClassVar[str] = ""
    #: Whether ``NULLS FIRST/LAST`` must be spelled out to match PostgreSQL's default ordering
    #: (NULLs sort as larger than every value).
    explicit_nulls_order: ClassVar[bool] = False

    def quote(self, name: str) -> str:
        """Quote an identifier taken from the catalog (or a validated output alias)."""
        return '"' + name.replace('"', '""').replace("%", "%%") + '"'

    def table_sql(self, table: Table) -> str:
        """The (schema-qualified) quoted name of a catalog table."""
        if table.schema_name:
            return self.quote(table.schema_name) + "." + self.quote(table.name)
        return self.quote(table.name)

    def date_trunc(
        self, sql: str, unit: str, column: Column, tz_name: str
    ) -> tuple[str, tuple[object, ...]]:
        """Truncate ``sql`` (a date or datetime column) to ``unit``, weeks starting Monday.

        Datetimes are truncated in the wall-clock time of ``tz_name`` and come back as naive
        local timestamps; dates come back as dates. ``unit`` is from the closed vocabulary.
        """
        raise NotImplementedError

    def like(
        self, sql: str, pattern: str, *, negate: bool, case_insensitive: bool
    ) -> tuple[str, object]:
        """Match ``sql`` against a LIKE ``pattern`` (``%``, ``_``, ``\\`` escapes).

        Returns the SQL fragment (one ``%s``) and its parameter; a vendor may rewrite the
        pattern (SQLite turns case-sensitive matches into GLOB patterns).
        """
        raise NotImplementedError

    def order_suffix(self, descending: bool) -> str:
        if not self.explicit_nulls_order:
            return " DESC" if descending else " ASC"
        return " DESC NULLS FIRST" if descending else " ASC NULLS LAST"

    def adapt(self, value: object, type_: LogicalType) -> object:
        """Convert a coerced Python value to what the vendor's Django cursor compares right."""
        return value

    def limit_offset(self, limit: int, offset: int) -> tuple[str, tuple[object, ...]]:
        if offset:
            return " LIMIT %s OFFSET %s", (limit, offset)
        return " LIMIT %s", (limit,)

    def explain_sql(self, sql: str, *, analyze: bool) -> str:
        """Wrap a compiled statement so that running it returns the plan."""
        raise NotImplementedError


def _naive_timestamp(column: Column) -> bool:
    kind = column.data_type.lower()
    return (
        kind.startswith("timestamp")
        and not kind.startswith("timestamptz")
        and ("with time zone" not in kind)
    )


def zoned_timestamp(column: Column | None) -> bool:
    """True for a column whose time buckets are computed in the site's time zone: a
    ``datetime`` that is not PostgreSQL's naive ``timestamp`` (``timestamptz``, or SQLite's
    datetimes, which Django stores in UTC)."""
    return column is not None and column.type == "datetime" and not _naive_timestamp(column)


def _date_arithmetic_trunc(sql: str, unit: str) -> str:
    """PostgreSQL: the finite date ``sql`` truncated to ``unit`` without a timestamp."""
    if unit == "week":
        return f"{sql} - (CAST(extract(isodow FROM {sql}) AS integer) - 1)"
    year = f"CAST(extract(year FROM {sql}) AS integer)"
    if unit == "month":
        return f"make_date({year}, CAST(extract(month FROM {sql}) AS integer), 1)"
    if unit == "quarter":
        return f"make_date({year}, CAST(extract(quarter FROM {sql}) AS integer) * 3 - 2, 1)"
    if unit == "year":
        return f"make_date({year}, 1, 1)"
    return sql  # day, hour, minute: a date is its own day


#: PostgreSQL's earliest date and timestamp is 4714-11-24 BC (Julian day 0, a Monday: no day or
#: week starts before it). The month, quarter and year holding it begin earlier, on a day that no
#: date or timestamp holds, so ``date_trunc`` fails on their values; such a bucket is labelled
#: with the earliest value instead (still one bucket, before every other). Unit -> where the
#: first full bucket begins.
#:
#: A ``timestamptz`` is bucketed by its wall-clock time in the site's zone, which for a value
#: within a day of the limits can be outside ``timestamp``'s range (``AT TIME ZONE`` then fails
#: with SQLSTATE 22008). Before the earliest value (a zone behind UTC there: LMT offsets down to
#: about -16 h), that wall-clock time is still in the month, quarter and year above: labelled
#: with the earliest value without converting it. Its week, day, hour or minute, and every bucket
#: after the latest value (294277-01-01 is a Monday), hold no time PostgreSQL can represent: no
#: label would keep them apart from the others, so the conversion's error stands and the query
#: is refused (``ValueOutOfRange``, HTTP 400 ``invalid_value``), never answered with a wrong bucket.
_FIRST_FULL_BUCKET: dict[str, str] = {
    "month": "4714-12-01 BC",
    "quarter": "4713-01-01 BC",
    "year": "4713-01-01 BC",
}
_EARLIEST: str = "4714-11-24 BC"
#: A day after the earliest instant: below it, the wall-clock time in any zone is in November
#: 4714 BC (offsets are under a day), and at or above it, never before the earliest value.
_EARLIEST_DAY_END: str = "4714-11-25 00:00:00+00 BC"


def _earliest_bucket(value: str, unit: str, kind: str) -> str:
    """``WHEN`` branch of a CASE: the finite ``value`` (of type ``kind``) in the first, partial
    bucket of ``unit`` gets the earliest value as its label (empty for the other units)."""
    end = _FIRST_FULL_BUCKET.get(unit)
    if end is None:
        return ""
    return f"WHEN {value} > '-infinity' AND {value} < {kind} '{end}' THEN {kind} '{_EARLIEST}' "


class PostgreSQLDialect(Dialect):
    """PostgreSQL 15+: ``ILIKE``, ``date_trunc`` with the time zone as a bound parameter."""

    vendor = "postgresql"

    def date_trunc(
        self, sql: str, unit: str, column: Column, tz_name: str
    ) -> tuple[str, tuple[object, ...]]:
        if column.type == "date":
            # Dates after 294276 AD have no timestamp (an error, not a value): truncated with
            # date arithmetic instead; the infinities stay as they are, as date_trunc keeps them.
            # The first, partial bucket of the earliest dates: see _FIRST_FULL_BUCKET.
            return (
                f"CASE {_earliest_bucket(sql, unit, 'date')}WHEN {sql} < '294277-01-01'"
                f" THEN CAST(date_trunc('{unit}', CAST({sql} AS timestamp)) AS date)"
                f" WHEN isfinite({sql}) THEN {_date_arithmetic_trunc(sql, unit)}"
                f" ELSE {sql} END"
            ), ()
        if _naive_timestamp(column):
            truncated = f"date_trunc('{unit}', {sql})"
            earliest = _earliest_bucket(sql, unit, "timestamp")
            return (f"CASE {earliest}ELSE {truncated} END" if earliest else truncated), ()
        truncated = f"date_trunc('{unit}', {sql} AT TIME ZONE %s)"
        earliest = _earliest_bucket(f"({sql} AT TIME ZONE %s)", unit, "timestamp")
        if not earliest:
            return truncated, (tz_name,)
        # The first, partial bucket of the earliest timestamps (see _FIRST_FULL_BUCKET), looked
        # for only below an instant after it in every zone: other rows convert their value once.
        # In its first day a value is labelled without conversion: its wall-clock time may be
        # before the earliest timestamp, which AT TIME ZONE cannot give.
        return (
            f"CASE WHEN {sql} >= timestamptz '4713-01-03 00:00:00+00 BC' THEN {truncated}"
            f" WHEN {sql} > '-infinity' AND {sql} < timestamptz '{_EARLIEST_DAY_END}'"
            f" THEN timestamp '{_EARLIEST}' {earliest}ELSE {truncated} END"
        ), (tz_name,) * 4

    def like(
        self, sql: str, pattern: str, *, negate: bool, case_insensitive: bool
    ) -> tuple[str, object]:
        op = "ILIKE" if case_insensitive else "LIKE"
        return f"{sql} {'NOT ' if negate else ''}{op} %s ESCAPE '\\'", pattern

    def explain_sql(self, sql: str, *, analyze: bool) -> str:
        return f"EXPLAIN (FORMAT JSON{', ANALYZE' if analyze else ''}) {sql}"


def _sqlite_datetime(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")


class SQLiteDialect(Dialect):
    """SQLite 3.39+ as configured by Django's backend.

    Date truncation uses the ``django_date_trunc``/``django_datetime_trunc`` functions Django
    registers on every SQLite connection (so statements must run on a Django connection).
    Values are adapted to Django's storage format: datetimes as naive UTC text, UUIDs as 32 hex
    digits, decimals as numbers (SQLite stores them as REAL). ``LIKE`` is case-insensitive for
    ASCII letters only (``ilike``, ``contains``...: a SQLite limitation); case-sensitive
    ``like``/``not_like`` are compiled to ``GLOB`` so that they match as on PostgreSQL.
    """

    vendor = "sqlite"
    explicit_nulls_order = True

    def date_trunc(
        self, sql: str, unit: str, column: Column, tz_name: str
    ) -> tuple[str, tuple[object, ...]]:
        if column.type == "date":
            return f"django_date_trunc('{unit}', {sql}, NULL, NULL)", ()
        return f"django_datetime_trunc('{unit}', {sql}, %s, 'UTC')", (tz_name,)

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


_REGISTRY: dict[str, Callable[[], Dialect]] = {
    "postgresql": PostgreSQLDialect,
    "sqlite": SQLiteDialect,
}
_INSTANCES: dict[str, Dialect] = {}


def get_dialect(vendor: str) -> Dialect:
    """Return the dialect for Django's ``connection.vendor``.

    Raises :class:`QueryValidationError` (``invalid_definition``) for a vendor with no dialect.
    """
    dialect = _INSTANCES.get(vendor)
    if dialect is None:
        factory = _REGISTRY.get(vendor)
        if factory is None:
            raise QueryValidationError(
                [ErrorDetail("invalid_definition", "This database vendor is not supported.", "")]
            )
        dialect = _INSTANCES[vendor] = factory()
    return dialect


__all__ = [
    "LIKE_ESCAPE",
    "Dialect",
    "PostgreSQLDialect",
    "SQLiteDialect",
    "escape_like",
    "get_dialect",
    "like_to_glob",
    "zoned_timestamp",
]
