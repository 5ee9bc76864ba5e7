"""Database values to JSON-ready values, one precomputed converter per result column.

This is the hot path of every query (10,000-100,000 rows): converters are chosen once per column
by :func:`column_converter` and applied column-wise by
:func:`prismiq_django.execution.columns.convert_rows`; columns whose values
are already JSON-ready (integers, text on PostgreSQL) get no converter at all.

Conversions (SPEC section 4): decimals -> JSON numbers (whole numbers between 2**53 and 2**63 stay
exact integers, others become floats; NaN/Infinity -> null), dates/times -> ISO 8601, UUIDs ->
strings, bytes -> base64, intervals -> seconds, JSON text -> JSON, PostgreSQL arrays -> lists.
PostgreSQL dates and timestamps Python cannot represent (infinities, BC, after year 9999) arrive
as the strings of :func:`pg_temporal_text`, times of ``24:00:00`` as those of :func:`pg_time_text`
and intervals beyond ``timedelta`` as the seconds of :func:`pg_interval_seconds` (see
:mod:`prismiq_django.backends.postgresql.loaders`).
Anything else falls back to :func:`json_safe`, which always returns something both the standard
``json`` module (``allow_nan=False``) and orjson can encode.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

import orjson
from django.conf import settings

from prismiq_django.backends.mysql.values import (
    mysql_boolean,
    mysql_datetime,
    mysql_integer,
    mysql_time,
)
from prismiq_django.backends.postgresql.values import pg_array_text

MAX_EXACT_FLOAT_INT: Final = 2**53
# Whole decimals between 2**53 and 2**63 stay exact integers; beyond, every JSON encoder
# (orjson included) can only carry them as floats.
_MAX_INT64: Final = 2**63
# Significant digits kept of a SQLite REAL in a decimal column (see to_number).
_SQLITE_DECIMAL_DIGITS: Final = 12


# --- value converters (hot path: keep them small; None is handled by the caller) -------------


def to_number(value: Any) -> Any:
    """Return a decimal as a JSON number (see the module docstring); others via json_safe.

    A float in a decimal column is a SQLite REAL standing for a decimal: sums of such values carry
    binary noise (``2387.3999999999996``, ``518024.920000001`` over 20,000 rows), so it is
    rounded to 12 significant digits. A REAL holds under 16 digits to begin with, and every
    addition loses some; PostgreSQL's ``numeric`` values are Decimals and keep every digit.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        if MAX_EXACT_FLOAT_INT <= abs(value) < _MAX_INT64 and value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, float):
        return float(f"{value:.{_SQLITE_DECIMAL_DIGITS}g}") if math.isfinite(value) else None
    return json_safe(value)


def as_float(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return json_safe(value)


def _boolean(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else json_safe(value)


def as_iso(value: Any) -> Any:
    if isinstance(value, date | dtime):
        return value.isoformat()
    return json_safe(value)


def _parsed_datetime(value: Any) -> Any:
    """SQLite datetime text parsed to a datetime; anything else (unparseable text too) as is."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _sqlite_datetime(value: Any) -> Any:
    # Django stores aware datetimes in SQLite as naive UTC text; expressions return that text.
    value = _parsed_datetime(value)
    if isinstance(value, datetime):
        if value.tzinfo is None and settings.USE_TZ:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    return value if isinstance(value, str) else as_iso(value)


def _sqlite_wall_clock(value: Any) -> Any:
    # Truncated buckets are naive wall-clock times of the site's zone, like on PostgreSQL.
    value = _parsed_datetime(value)
    return value if isinstance(value, str) else as_iso(value)


def _sqlite_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return value
    return as_iso(value)


def as_seconds(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return json_safe(value)


def _json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value if isinstance(value, str) else _binary(value)
    return json_safe(value)


def as_uuid_text(value: Any) -> Any:
    """A UUID in its canonical spelling (``8-4-4-4-12`` lower-case hex): also the 32 hex digits
    Django's ``UUIDField`` stores on SQLite; text that is no UUID is returned as it is."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str) and len(value) in (32, 36):
        try:
            return str(UUID(value))
        except ValueError:
            return value
    return json_safe(value)


def _binary(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    return json_safe(value)


def _array(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("{"):
        return pg_array_text(value)
    return json_safe(value)


def json_safe(value: Any) -> Any:
    """Convert any database value to a JSON-ready one (the fallback of every converter)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return value if -_MAX_INT64 <= value < _MAX_INT64 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return to_number(value)
    if isinstance(value, date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    return str(value)


class EncodedJSON:
    """A value already encoded as JSON (``data``: UTF-8 bytes), embedded as it is when rendered."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def json_default(value: Any) -> Any:
    """The ``default`` hook of orjson for every JSON encoding of the API.

    Rows are JSON-ready already (:func:`json_safe`); this covers the rest of a response:
    :class:`EncodedJSON` is embedded verbatim (an :class:`orjson.Fragment`), decimals become
    numbers (non-finite ones null), bytes text, sets and tuples lists, anything else (lazy
    translation strings...) its ``str``.
    """
    if isinstance(value, EncodedJSON):
        return orjson.Fragment(value.data)
    return stdlib_json_default(value)


def stdlib_json_default(value: Any) -> Any:
    """:func:`json_default` for the standard library's ``json`` (parses :class:`EncodedJSON`)."""
    if isinstance(value, EncodedJSON):
        return orjson.loads(value.data)
    if isinstance(value, date | dtime):
        return value.isoformat()  # as orjson writes them natively
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


Converter = Callable[[Any], Any]

CONVERTERS: Final[dict[str, Converter | None]] = {
    "integer": None,
    "decimal": to_number,
    "float": as_float,
    "string": None,
    "boolean": None,
    "date": as_iso,
    "datetime": as_iso,
    "time": as_iso,
    "duration": as_seconds,
    "json": _json,
    "uuid": as_uuid_text,
    "binary": _binary,
    "array": _array,
    "unknown": json_safe,
}
# SQLite is dynamically typed and its expressions return text/integers for dates and booleans.
SQLITE_CONVERTERS: Final[dict[str, Converter | None]] = {
    **CONVERTERS,
    "integer": json_safe,
    "string": json_safe,
    "boolean": _boolean,
    "date": _sqlite_date,
    "datetime": _sqlite_datetime,
}
# mysqlclient: TIME as timedelta, SUM of integers as Decimal, tinyint(1) as 0/1, naive DATETIMEs
# (Django's UTC), bytes for binary strings, JSON as text.
MYSQL_CONVERTERS: Final[dict[str, Converter | None]] = {
    **CONVERTERS,
    "integer": mysql_integer,
    "string": json_safe,
    "boolean": mysql_boolean,
    "datetime": mysql_datetime,
    "time": mysql_time,
}
# PostgreSQL types whose Python value is already JSON-ready (str/int/bool).
_PG_PLAIN: Final = frozenset(
    {"int2", "int4", "int8", "oid", "text", "varchar", "bpchar", "char", "name", "bool", "citext"}
)


def infer_type(values: Sequence[Any]) -> str:
    """Return the logical type of the first non-null value (``"unknown"`` when there is none).

    Only used for SQLite results run without type hints.
    """
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "float"
        if isinstance(value, Decimal):
            return "decimal"
        if isinstance(value, str):
            return "string"
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, date):
            return "date"
        if isinstance(value, dtime):
            return "time"
        if isinstance(value, bytes | memoryview):
            return "binary"
        return "unknown"
    return "unknown"


def column_converter(
    vendor: str, logical: str, pg_typname: str = "", *, wall_clock: bool = False
) -> Converter | None:
    """Return the converter of one result column (None: values are already JSON-ready).

    ``pg_typname`` is the PostgreSQL type name from the cursor description; ``wall_clock`` marks
    a SQLite column of truncated datetimes (naive wall-clock times, returned without offset).
    """
    if vendor == "postgresql":
        if pg_typname in _PG_PLAIN:
            return None
        if logical == "string":
            return json_safe
        return CONVERTERS.get(logical, json_safe)
    if vendor == "mysql":
        if logical == "datetime" and wall_clock:
            return as_iso  # time buckets: naive wall-clock times of the site's zone
        return MYSQL_CONVERTERS.get(logical, json_safe)
    if logical == "datetime" and wall_clock:
        return _sqlite_wall_clock
    return SQLITE_CONVERTERS.get(logical, json_safe)


__all__ = [
    "CONVERTERS",
    "MAX_EXACT_FLOAT_INT",
    "MYSQL_CONVERTERS",
    "SQLITE_CONVERTERS",
    "Converter",
    "EncodedJSON",
    "as_float",
    "as_iso",
    "as_seconds",
    "as_uuid_text",
    "column_converter",
    "infer_type",
    "json_default",
    "json_safe",
    "stdlib_json_default",
    "to_number",
]
