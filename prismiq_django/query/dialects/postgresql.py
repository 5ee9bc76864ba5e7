"""PostgreSQL 15+: ``ILIKE``, ``date_trunc`` with the time zone as a bound parameter."""

from __future__ import annotations

from prismiq_django.query.catalog import Column
from prismiq_django.query.dialects.base import Dialect, naive_timestamp


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
    explain_analyzes = True

    def column_sql(self, sql: str, column: Column) -> str:
        # money is read as numeric: its text is spelled by lc_monetary ("$1,234.56"), it has no
        # comparison with numbers and no avg. The cast keeps the amount (its scale comes from
        # lc_monetary's fraction digits either way).
        if column.data_type == "money":
            return f"CAST({sql} AS numeric)"
        return sql

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
        if naive_timestamp(column):
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


__all__ = ["PostgreSQLDialect"]
