"""Filter values: JSON scalars coerced to the Python type of a column, and relative date ranges.

:func:`coerce` is pure: it returns the value (``int``, ``Decimal``, ``float``, ``str``, ``bool``,
``date``, aware UTC ``datetime``, naive ``time``, ``UUID``) or :data:`FAIL`. It refuses what a
database could not compare faithfully: integers beyond 64 bits, decimals beyond 38 digits either
side of the point, non-finite floats, text with NUL or unpaired surrogates, numbers spelled with
non-ASCII digits or underscores.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Final, cast
from uuid import UUID

from prismiq_django.query import dates
from prismiq_django.query.catalog import LogicalType
from prismiq_django.query.limits import INT64_MAX, INT64_MIN, MAX_STRING_VALUE
from prismiq_django.query.parse.state import FAIL, ParseState, show, suggest

#: Numbers given as text: ASCII digits only (``int``/``Decimal`` would also take "1_000" and "١٢").
_ASCII_INTEGER: Final = re.compile(r"[+-]?[0-9]+", re.ASCII)
_ASCII_DECIMAL: Final = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
_DECIMAL_MAX: Final = Decimal(10) ** 38
_DECIMAL_MIN: Final = Decimal(10) ** -38


def valid_text(value: str) -> bool:
    """Whether ``value`` can be bound as text: no NUL, not too long, encodable as UTF-8."""
    if "\x00" in value or len(value) > MAX_STRING_VALUE:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def coerce_value(st: ParseState, raw: Any, type_: LogicalType, *path: str | int) -> object:
    """Coerce a JSON scalar to the Python type of ``type_``; record an error and return
    ``FAIL`` when it does not fit."""
    value = coerce(raw, type_, st.tz)
    if value is FAIL:
        st.error("invalid_value", not_valid_message(raw, type_), *path)
    return value


def _number_text(raw: Any) -> str | None:
    """``raw`` as the number the caller wrote (a JSON number or digits in a string), or None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float) and math.isfinite(raw):
        return repr(raw)
    if isinstance(raw, str) and len(raw) <= 400 and _ASCII_DECIMAL.fullmatch(raw):
        return raw
    return None


def not_valid_message(raw: Any, type_: LogicalType) -> str:
    """Why ``raw`` is not a value of a ``type_`` column: a number beyond the column's range says
    so (with the range), anything else is "not a valid <type> value"."""
    text = _number_text(raw) if type_ in ("integer", "decimal") else None
    if text is not None:
        shown = text if len(text) <= 40 else text[:37] + "..."
        try:
            number = Decimal(text)
        except InvalidOperation:
            return f"{show(raw)} is not a valid {type_} value."
        if type_ == "integer":
            if number == number.to_integral_value() and not INT64_MIN <= number <= INT64_MAX:
                return (
                    f"{shown} is out of the range of an integer column "
                    f"({INT64_MIN} to {INT64_MAX})."
                )
        elif abs(number) >= _DECIMAL_MAX:
            return f"{shown} is out of the range of a decimal column (at most 38 integer digits)."
        elif number and abs(number) < _DECIMAL_MIN:
            return f"{shown} is too small for a decimal column (at most 38 decimal places)."
    return f"{show(raw)} is not a valid {type_} value."


def relative_value(st: ParseState, raw: Any, type_: LogicalType, *path: str | int) -> object:
    """The ``(start, end)`` bounds of a ``date_relative`` value, or FAIL (with an error).

    ``raw`` is ``{"preset": name}`` or ``{"last": N, "unit": unit}``. Bounds are local dates for a
    date column, the UTC instants of local midnight for a datetime column.
    """
    spec: tuple[dates.Unit, int, int] | None = None
    if isinstance(raw, (dict, Mapping)):
        preset = raw.get("preset")
        if preset is not None:
            spec = dates.PRESETS.get(preset) if isinstance(preset, str) else None
            if spec is None:
                st.error(
                    "invalid_value",
                    f"Unknown preset {show(preset)}.{suggest(preset, dates.PRESETS)}",
                    *path,
                    "preset",
                )
                return FAIL
        else:
            last, unit = raw.get("last"), raw.get("unit")
            if (
                not isinstance(last, int)
                or isinstance(last, bool)
                or not 1 <= last <= dates.MAX_LAST
                or not isinstance(unit, str)
                or unit not in dates.UNITS
            ):
                st.error(
                    "invalid_value",
                    f"Expected {{'last': 1..{dates.MAX_LAST}, 'unit': "
                    "day|week|month|quarter|year}.",
                    *path,
                )
                return FAIL
            spec = (cast(dates.Unit, unit), last - 1, last)
    if spec is None:
        st.error("invalid_value", "Expected {'preset': ...} or {'last': N, 'unit': ...}.", *path)
        return FAIL
    tz = st.tz
    try:
        start, end = dates.relative_range(*spec, now=st.now, tz=tz)
        if type_ == "date":
            return (start, end)
        return (
            dates.local_midnight(start, tz).astimezone(UTC),
            dates.local_midnight(end, tz).astimezone(UTC),
        )
    except (ValueError, OverflowError):
        st.error("invalid_value", "The relative date range leaves the calendar.", *path)
        return FAIL


def coerce(raw: Any, type_: LogicalType, tz: tzinfo) -> object:
    """``raw`` as the Python type of ``type_``, or FAIL. Naive datetimes are taken in ``tz``."""
    if raw is None or isinstance(raw, (list, dict)):
        return FAIL
    try:
        if type_ == "string":
            return raw if isinstance(raw, str) and valid_text(raw) else FAIL
        if type_ == "boolean":
            return raw if isinstance(raw, bool) else FAIL
        if isinstance(raw, bool):
            return FAIL
        if type_ == "integer":
            if isinstance(raw, float):
                if not raw.is_integer():
                    return FAIL
                raw = int(raw)
            elif isinstance(raw, str):
                if len(raw) > 30 or not _ASCII_INTEGER.fullmatch(raw):
                    return FAIL
                raw = int(raw)
            if isinstance(raw, int) and INT64_MIN <= raw <= INT64_MAX:
                return raw
            return FAIL
        if type_ == "decimal":
            if isinstance(raw, str) and len(raw) > 60:
                return FAIL
            if isinstance(raw, float):
                raw = repr(raw)
            if isinstance(raw, int) and abs(raw) >= 10**38:
                return FAIL
            if not isinstance(raw, (int, str)):
                return FAIL
            if isinstance(raw, str) and not _ASCII_DECIMAL.fullmatch(raw):
                return FAIL  # no "1_000", no non-ASCII digits, no NaN/Infinity spellings
            value = Decimal(raw)
            if abs(value) >= _DECIMAL_MAX or (value and abs(value) < _DECIMAL_MIN):
                # Beyond what a database numeric or a double carries: 1e-400 would bind as 0.0.
                return FAIL
            return value
        if type_ == "float":
            if isinstance(raw, str) and len(raw) > 60:
                return FAIL
            if not isinstance(raw, (int, float, str)):
                return FAIL
            number = float(raw)
            return number if math.isfinite(number) else FAIL
        if not isinstance(raw, str) or len(raw) > 64:
            return FAIL
        if type_ == "date":
            return date.fromisoformat(raw)
        if type_ == "datetime":
            parsed = datetime.fromisoformat(raw)  # a bare date means its midnight
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=tz)
            return parsed.astimezone(UTC)
        if type_ == "time":
            parsed_time = time.fromisoformat(raw)
            return FAIL if parsed_time.tzinfo is not None else parsed_time
        if type_ == "uuid":
            return UUID(raw)
    except (ValueError, TypeError, OverflowError, InvalidOperation, ArithmeticError):
        return FAIL
    return FAIL


__all__ = ["coerce", "coerce_value", "not_valid_message", "relative_value", "valid_text"]
