"""Column-wise fast paths of value conversion return exactly what the per-value converters do."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prismiq_django.execution.columns import convert_column, convert_rows
from prismiq_django.execution.values import CONVERTERS as TYPE_CONVERTERS
from prismiq_django.execution.values import Converter, json_safe, to_number

CONVERTERS = sorted(
    {conv for conv in TYPE_CONVERTERS.values() if conv is not None}, key=lambda c: c.__name__
)

OFFSET_S = timezone(timedelta(hours=-1, seconds=-7))  # isoformat writes the seconds
ELEMENTS = [
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=2**53 - 3, max_value=2**63 + 3, places=1),
    st.integers(min_value=2**53 - 3, max_value=2**63 + 3).map(Decimal),
    st.text(max_size=5),
    st.dates(),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),
    st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=5, minutes=30)), OFFSET_S])),
    st.times(),
    st.timedeltas(),
    st.uuids(),
]
scalars = st.one_of(ELEMENTS)


def _same(left: list[Any], right: list[Any]) -> bool:
    if len(left) != len(right):
        return False
    for a, b in zip(left, right, strict=True):
        if type(a) is not type(b):
            return False
        if isinstance(a, float) and math.isnan(a):
            if not math.isnan(b):
                return False
        elif a != b or (isinstance(a, float) and math.copysign(1, a) != math.copysign(1, b)):
            return False
    return True


def _reference(column: list[Any], conv: Converter) -> list[Any]:
    return [None if v is None else conv(v) for v in column]


@pytest.mark.parametrize("conv", CONVERTERS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_column_paths_equal_per_value_conversion(conv: Converter, data: st.DataObject) -> None:
    # Homogeneous columns (the fast paths' case) with nulls, and mixed ones (the fallback).
    element = data.draw(st.sampled_from([scalars, *ELEMENTS]))
    column = data.draw(st.lists(st.one_of(st.none(), element), max_size=12))
    assert _same(convert_column(column, conv), _reference(column, conv))


def test_typical_columns_take_the_fast_path_and_keep_formats() -> None:
    stamp = datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    rows = [
        (1, Decimal("12.50"), stamp, date(2024, 1, 2), None, timedelta(seconds=90), UUID(int=1)),
        (2, None, None, None, time(1, 2), None, None),
        (3, Decimal("9007199254740993"), stamp, date(2024, 1, 3), None, None, None),
    ]
    temporal = TYPE_CONVERTERS["date"]
    assert temporal is not None
    out = convert_rows(
        rows,
        [
            None,
            to_number,
            temporal,
            temporal,
            temporal,
            TYPE_CONVERTERS["duration"],
            TYPE_CONVERTERS["uuid"],
        ],
    )
    assert out == [
        [
            1,
            12.5,
            "2024-01-02T03:04:05.500000+00:00",
            "2024-01-02",
            None,
            90.0,
            "00000000-0000-0000-0000-000000000001",
        ],
        [2, None, None, None, "01:02:00", None, None],
        [3, 9007199254740993, "2024-01-02T03:04:05.500000+00:00", "2024-01-03", None, None, None],
    ]
    assert isinstance(out[2][1], int)  # whole numbers >= 2**53 stay exact
    assert convert_column([Decimal("NaN"), Decimal("1.5")], to_number) == [None, 1.5]
    assert convert_column([float("inf"), 1.0], TYPE_CONVERTERS["float"]) == [None, 1.0]  # type: ignore[arg-type]
    assert convert_column(["a", None], json_safe) == ["a", None]
    assert convert_column([b"\x00", "x"], json_safe) == ["AA==", "x"]
