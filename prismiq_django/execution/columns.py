"""Whole-column conversion: :func:`convert_rows` applies one converter per column, column-wise.

The fast paths return exactly what the per-value converter of :mod:`prismiq_django.execution.values`
would (or None, and the per-value path runs).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

import orjson

from prismiq_django.execution.values import (
    MAX_EXACT_FLOAT_INT,
    Converter,
    as_float,
    as_iso,
    as_seconds,
    as_uuid_text,
    json_safe,
    to_number,
)

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
        all(map(math.isfinite, present)) and max(map(abs, present)) < MAX_EXACT_FLOAT_INT
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
        converted: list[Any] = orjson.loads(orjson.dumps(list(column)))  # faster than isoformat()
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


def _kept_as_is(text: str) -> bool:
    """Whether :func:`as_uuid_text` leaves ``text`` unchanged (cheap test, no parsing)."""
    if len(text) == 36:
        return text[8] == "-" and text == text.lower()
    return len(text) != 32


def _uuid_column(column: Sequence[Any]) -> list[Any] | None:
    kinds, has_none = _kinds(column)
    if kinds <= {str}:  # canonical already (36 characters) or not a UUID: as it is
        if all(v is None or _kept_as_is(v) for v in column):
            return list(column)
        return None  # 32 hex digits (Django's UUIDField on SQLite): the per-value path
    if kinds <= {UUID}:
        return _map(str, column, has_none)
    return None


ColumnConverter = Callable[[Sequence[Any]], "list[Any] | None"]

# Whole-column fast paths of some converters: they return exactly what the per-value converter
# would (or None when the column holds values they do not handle, and the per-value path runs).
_COLUMN_FAST: Final[dict[Converter, ColumnConverter]] = {
    to_number: _number_column,
    as_float: _float_column,
    as_iso: _temporal_column,
    as_seconds: _duration_column,
    as_uuid_text: _uuid_column,
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


__all__ = ["ColumnConverter", "convert_column", "convert_rows"]
