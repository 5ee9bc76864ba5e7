"""Database values to JSON-ready values, one precomputed converter per result column.

This is the hot path of every query (10,000-100,000 rows): converters are chosen once per column
by :func:`column_converter` and applied column-wise by :func:`convert_rows`; columns whose values
are already JSON-ready (integers, text on PostgreSQL) get no converter at all.

Conversions (SPEC section 4): decimals -> JSON numbers (whole numbers between 2**53 and 2**63 stay
exact integers, others become floats; NaN/Infinity -> null), dates/times -> ISO 8601, UUIDs ->
strings, bytes -> base64, intervals -> seconds, JSON text -> JSON, PostgreSQL arrays -> lists.
PostgreSQL dates and timestamps Python cannot represent (infinities, BC, after year 9999) arrive
as the strings of :func:`pg_temporal_text`, times of ``24:00:00`` as those of :func:`pg_time_text`
and intervals beyond ``timedelta`` as the seconds of :func:`pg_interval_seconds` (see
:mod:`prismiq_django.execution`).
Anything else falls back to :func:`json_safe`, which always returns something both the standard
``json`` module (``allow_nan=False``) and orjson can encode.
"""

from __future__ import annotations

import base64
import math
import operator
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

import orjson
from django.conf import settings

_MAX_EXACT_FLOAT_INT: Final = 2**53
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
        if _MAX_EXACT_FLOAT_INT <= abs(value) < _MAX_INT64 and value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, float):
        return float(f"{value:.{_SQLITE_DECIMAL_DIGITS}g}") if math.isfinite(value) else None
    return json_safe(value)


def _float(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return json_safe(value)


def _boolean(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else json_safe(value)


def _temporal(value: Any) -> Any:
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
    return value if isinstance(value, str) else _temporal(value)


def _sqlite_wall_clock(value: Any) -> Any:
    # Truncated buckets are naive wall-clock times of the site's zone, like on PostgreSQL.
    value = _parsed_datetime(value)
    return value if isinstance(value, str) else _temporal(value)


def _sqlite_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return value
    return _temporal(value)


_PG_TIME_OF_DAY: Final = re.compile(r"(\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::\d\d){0,2})?")


def expanded_year(year: int) -> str:
    """``year`` (astronomical: 0 is 1 BC, -1 is 2 BC) as ECMAScript's date-time format writes it.

    Four digits for 0..9999 (``0000``), otherwise a sign and at least six digits (``+010000``,
    ``-000043``): ISO 8601's expanded years as JavaScript's ``Date`` and ``Temporal`` parse them.
    """
    if 0 <= year <= 9999:
        return f"{year:04d}"
    return f"{'-' if year < 0 else '+'}{abs(year):06d}"


def pg_temporal_text(text: str, *, naive: bool = False) -> str | None:
    """The JSON value of a PostgreSQL date/timestamp Python cannot represent, or None.

    ``text`` is PostgreSQL's output (``DateStyle`` ISO, PostgreSQL's default, to which every
    statement is pinned: :mod:`prismiq_django.pgsession`) of ``infinity``,
    ``-infinity``, a BC value (``0044-03-15 12:00:00+00 BC``) or one after year 9999
    (``10000-01-01``). They become ``"infinity"``/``"-infinity"`` and ISO 8601 with an expanded
    astronomical year (:func:`expanded_year`): ``-000043-03-15T12:00:00+00:00``. The time of day
    keeps PostgreSQL's fractional digits (``.5``) and the offset is ``+HH:MM`` (``:SS`` when
    PostgreSQL has them), as PostgreSQL's own JSON writes them: the JSON path
    (:func:`prismiq_django.query.jsonrows.json_rows_sql`) builds the same strings in SQL.
    ``naive`` drops the offset (a ``timestamptz`` read without ``USE_TZ``, as Django does).
    Anything else returns None.
    """
    if text in ("infinity", "-infinity"):
        return text
    bc = text.endswith(" BC")
    if bc:
        text = text[:-3]
    year, _, rest = text.partition("-")
    day, _, time_of_day = rest.partition(" ")
    if not (year.isascii() and year.isdigit() and len(day) == 5):
        return None
    number = int(year)
    if bc:
        number = 1 - number
    elif number <= 9999:
        return None  # representable: not for this function
    out = f"{expanded_year(number)}-{day}"
    if not time_of_day:
        return out
    match = _PG_TIME_OF_DAY.fullmatch(time_of_day)
    if match is None:
        return None
    clock, offset = match.groups()
    if offset is None or naive:
        return f"{out}T{clock}"
    return f"{out}T{clock}{_iso_offset(offset)}"


def _iso_offset(offset: str) -> str:
    # PostgreSQL writes +HH, +HH:MM or +HH:MM:SS; Python's isoformat() at least +HH:MM.
    return offset if len(offset) > 3 else offset + ":00"


def pg_time_text(text: str) -> str | None:
    """The JSON value of a PostgreSQL ``time``/``timetz`` Python cannot represent, or None.

    PostgreSQL's ``time`` runs to ``24:00:00`` inclusive, Python's ``time`` to
    ``23:59:59.999999``: ``24:00:00`` stays that string, and a ``timetz`` keeps its offset as
    ``isoformat()`` writes the other values (``24:00:00+02`` is ``"24:00:00+02:00"``; never
    dropped, as for the other ``timetz`` values). Anything else returns None.
    """
    match = _PG_TIME_OF_DAY.fullmatch(text)
    if match is None or not text.startswith("24:"):
        return None
    clock, offset = match.groups()
    return clock if offset is None else clock + _iso_offset(offset)


# IntervalStyle postgres (PostgreSQL's default): "-1 years -2 mons +3 days -04:05:06.5"; each part
# only when not zero, "00:00:00" for a zero interval.
_PG_INTERVAL: Final = re.compile(
    r"(?:([+-]?\d+) years?(?: |$))?"
    r"(?:([+-]?\d+) mons?(?: |$))?"
    r"(?:([+-]?\d+) days?(?: |$))?"
    r"(?:([+-]?)(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?",
    re.ASCII,
)
_MICROS_PER_DAY: Final = 86_400 * 10**6
# PostgreSQL's extract(epoch from interval): a year (12 months) is 365.25 days, a month 30 days.
_MICROS_PER_YEAR: Final = 365 * _MICROS_PER_DAY + _MICROS_PER_DAY // 4
_MICROS_PER_MONTH: Final = 30 * _MICROS_PER_DAY


def pg_interval_seconds(text: str) -> float | None:
    """The seconds of a PostgreSQL interval from its text, as ``extract(epoch from ...)``.

    ``text`` is PostgreSQL's output in ``IntervalStyle`` ``postgres`` (the default, the only one
    psycopg reads, and the one every statement is pinned to). The result is PostgreSQL's exact
    ``numeric`` epoch rounded once to the nearest float: whole years (12 months) of 365.25 days,
    the other months of 30 days, days of 86,400 seconds, plus the time. Used for the intervals
    beyond Python's ``timedelta`` (999,999,999 days); anything else, and text in another format,
    returns None.
    """
    match = _PG_INTERVAL.fullmatch(text)
    if not text or text.endswith(" ") or match is None:
        return None
    years, months, days, sign, hours, minutes, seconds, fraction = match.groups()
    total_months = int(years or 0) * 12 + int(months or 0)
    whole_years = abs(total_months) // 12  # PostgreSQL's C division truncates towards zero
    if total_months < 0:
        whole_years = -whole_years
    micros = (
        whole_years * _MICROS_PER_YEAR
        + (total_months - 12 * whole_years) * _MICROS_PER_MONTH
        + int(days or 0) * _MICROS_PER_DAY
    )
    if hours is not None:
        clock = (int(hours) * 3600 + int(minutes) * 60 + int(seconds)) * 10**6
        clock += int((fraction or "").ljust(6, "0"))
        micros += -clock if sign == "-" else clock
    return micros / 10**6  # int / int: correctly rounded


def _duration(value: Any) -> Any:
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


def _uuid(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else json_safe(value)


def _binary(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    return json_safe(value)


def pg_array_text(text: str) -> Any:
    """Parse PostgreSQL array text (``{a,"b c",NULL,{1,2}}``) into nested lists of strings.

    psycopg returns this text for arrays of types it has no loader for (arrays of enums).
    """
    root: list[Any] = []
    stack: list[list[Any]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "{":
            new: list[Any] = []
            (stack[-1] if stack else root).append(new)
            stack.append(new)
            i += 1
        elif char == "}":
            if stack:
                stack.pop()
            i += 1
        elif char == "," or not stack:
            i += 1
        elif char == '"':
            i += 1
            chunk = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chunk.append(text[i])
                i += 1
            stack[-1].append("".join(chunk))
            i += 1
        else:
            start = i
            while i < n and text[i] not in ",}":
                i += 1
            element = text[start:i].strip()
            stack[-1].append(None if element == "NULL" else element)
    return root[0] if len(root) == 1 else root


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

_CONVERTERS: Final[dict[str, Converter | None]] = {
    "integer": None,
    "decimal": to_number,
    "float": _float,
    "string": None,
    "boolean": None,
    "date": _temporal,
    "datetime": _temporal,
    "time": _temporal,
    "duration": _duration,
    "json": _json,
    "uuid": _uuid,
    "binary": _binary,
    "array": _array,
    "unknown": json_safe,
}
# SQLite is dynamically typed and its expressions return text/integers for dates and booleans.
_SQLITE_CONVERTERS: Final[dict[str, Converter | None]] = {
    **_CONVERTERS,
    "integer": json_safe,
    "string": json_safe,
    "boolean": _boolean,
    "date": _sqlite_date,
    "datetime": _sqlite_datetime,
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


_NoneType: Final = type(None)
_isoformat: Final = operator.methodcaller("isoformat")
_TEMPORAL_TYPES: Final = frozenset({date, datetime, dtime})
_tzinfo: Final = operator.attrgetter("tzinfo")
_NAIVE_OR_UTC: Final = frozenset({None, UTC})


def _kinds(column: Sequence[Any]) -> tuple[set[type], bool]:
    """Return the exact value types of ``column`` (None excluded) and whether None occurs."""
    kinds = set(map(type, column))
    has_none = _NoneType in kinds
    kinds.discard(_NoneType)
    return kinds, has_none


def _map(func: Callable[[Any], Any], column: Sequence[Any], has_none: bool) -> list[Any]:
    # ``func`` is a C callable here: no Python frame per value.
    if has_none:
        return [None if v is None else func(v) for v in column]
    return list(map(func, column))


def _floats_fit(values: list[Any]) -> bool:
    """True when every non-null float is finite and below 2**53 in magnitude."""
    present = [v for v in values if v is not None] if None in values else values
    return not present or (
        all(map(math.isfinite, present)) and max(map(abs, present)) < _MAX_EXACT_FLOAT_INT
    )


def _number_column(column: Sequence[Any]) -> list[Any] | None:
    kinds, has_none = _kinds(column)
    if not kinds:
        return list(column)
    if kinds <= {Decimal}:
        try:
            floats = _map(float, column, has_none)
        except ValueError:  # a signalling NaN: to_number makes it null
            return None
        # Finite values below 2**53 are exactly what to_number returns; others take that path.
        return floats if _floats_fit(floats) else None
    return None


def _float_column(column: Sequence[Any]) -> list[Any] | None:
    kinds, has_none = _kinds(column)
    if kinds <= {float}:
        values = list(column)
        present = [v for v in values if v is not None] if has_none else values
        return values if all(map(math.isfinite, present)) else None
    return None


def _orjson_formats_like_isoformat(column: Sequence[Any], kinds: set[type]) -> bool:
    # orjson writes dates, naive datetimes and UTC datetimes exactly as isoformat() does
    # (microseconds only when non-zero, "+00:00"); other zones and times take isoformat().
    if kinds == {date}:
        return True
    if kinds != {datetime}:
        return False
    zones = set(map(_tzinfo, filter(None, column)))
    return zones <= _NAIVE_OR_UTC


def _temporal_column(column: Sequence[Any]) -> list[Any] | None:
    kinds, has_none = _kinds(column)
    if not kinds <= _TEMPORAL_TYPES:
        return None
    if kinds and _orjson_formats_like_isoformat(column, kinds):
        converted: list[Any] = orjson.loads(orjson.dumps(list(column)))  # ~4x isoformat()
        return converted
    return _map(_isoformat, column, has_none)


def _duration_column(column: Sequence[Any]) -> list[Any] | None:
    kinds, has_none = _kinds(column)
    if kinds <= {timedelta}:
        return _map(timedelta.total_seconds, column, has_none)
    return None


def _string_column(column: Sequence[Any]) -> list[Any] | None:
    kinds, _ = _kinds(column)
    return list(column) if kinds <= {str} else None


def _uuid_column(column: Sequence[Any]) -> list[Any] | None:
    kinds, has_none = _kinds(column)
    if kinds <= {str}:
        return list(column)
    if kinds <= {UUID}:
        return _map(str, column, has_none)
    return None


ColumnConverter = Callable[[Sequence[Any]], "list[Any] | None"]

# Whole-column fast paths of some converters: they return exactly what the per-value converter
# would (or None when the column holds values they do not handle, and the per-value path runs).
_COLUMN_FAST: Final[dict[Converter, ColumnConverter]] = {
    to_number: _number_column,
    _float: _float_column,
    _temporal: _temporal_column,
    _duration: _duration_column,
    _uuid: _uuid_column,
    json_safe: _string_column,
}


def convert_column(column: Sequence[Any], conv: Converter) -> list[Any]:
    """Return ``[None if v is None else conv(v) for v in column]``, column-wise when possible."""
    fast = _COLUMN_FAST.get(conv)
    if fast is not None:
        converted = fast(column)
        if converted is not None:
            return converted
    return [None if v is None else conv(v) for v in column]


def convert_rows(
    rows: list[tuple[Any, ...]], converters: Sequence[Converter | None]
) -> list[list[Any]]:
    """Apply ``converters`` column-wise (``None`` = leave as is); None values stay None."""
    active = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
    if not active or not rows:
        return list(map(list, rows))
    # One C-level pass per column (zip(*rows) would build an iterator per row).
    columns: list[Any] = [list(map(operator.itemgetter(i), rows)) for i in range(len(rows[0]))]
    for index, conv in active:
        columns[index] = convert_column(columns[index], conv)
    return list(map(list, zip(*columns, strict=True)))


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
        return _CONVERTERS.get(logical, json_safe)
    if logical == "datetime" and wall_clock:
        return _sqlite_wall_clock
    return _SQLITE_CONVERTERS.get(logical, json_safe)


__all__ = [
    "Converter",
    "EncodedJSON",
    "column_converter",
    "convert_column",
    "convert_rows",
    "expanded_year",
    "infer_type",
    "json_default",
    "json_safe",
    "pg_array_text",
    "pg_interval_seconds",
    "pg_temporal_text",
    "pg_time_text",
    "stdlib_json_default",
    "to_number",
]
