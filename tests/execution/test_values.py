"""Value conversion: every converter output is JSON-ready (property-based) and exact enough."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from prismiq_django.backends.postgresql.values import pg_array_text
from prismiq_django.execution.columns import convert_rows
from prismiq_django.execution.values import json_safe, to_number

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.dates(),
    st.datetimes(timezones=st.just(UTC)),
    st.times(),
    st.timedeltas(),
    st.uuids(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(values)
def test_json_safe_output_always_serialises(value: Any) -> None:
    converted = json_safe(value)
    # Both encoders write it and read it back as the same value, which json_safe leaves as it is.
    assert orjson.loads(orjson.dumps(converted)) == converted
    assert json.loads(json.dumps(converted, allow_nan=False)) == converted
    assert json_safe(converted) == converted


@settings(max_examples=150, deadline=None)
@given(
    st.decimals(
        allow_nan=False,
        allow_infinity=False,
        places=4,
        min_value=Decimal("-1e30"),
        max_value=Decimal("1e30"),
    )
)
def test_decimals_stay_close(value: Decimal) -> None:
    converted = to_number(value)
    assert isinstance(converted, int | float)
    assert math.isclose(float(converted), float(value), rel_tol=1e-15, abs_tol=1e-15)
    if value == value.to_integral_value() and 2**53 <= abs(value) < 2**63:
        assert converted == int(value)  # large whole numbers stay exact within 64 bits


def test_scalar_conversions() -> None:
    assert json_safe(Decimal("NaN")) is None
    assert json_safe(float("inf")) is None
    assert json_safe(date(2024, 1, 2)) == "2024-01-02"
    assert json_safe(datetime(2024, 1, 2, 3, 4, tzinfo=UTC)) == "2024-01-02T03:04:00+00:00"
    assert json_safe(time(1, 2, 3)) == "01:02:03"
    assert json_safe(timedelta(minutes=1, microseconds=5)) == 60.000005
    assert json_safe(UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert json_safe(memoryview(b"\x00\x01")) == "AAE="
    assert json_safe(object()).startswith("<object")


def test_convert_rows_column_wise_keeps_none_and_untouched_columns() -> None:
    rows = [(1, Decimal("1.5"), None), (2, None, date(2024, 1, 1))]
    out = convert_rows(rows, [None, to_number, json_safe])
    assert out == [[1, 1.5, None], [2, None, "2024-01-01"]]
    assert convert_rows([], [to_number]) == []
    assert convert_rows([(1,)], [None]) == [[1]]


def test_pg_array_text() -> None:
    assert pg_array_text("{}") == []
    assert pg_array_text('{a,"b c",NULL,"d\\"e"}') == ["a", "b c", None, 'd"e']
    assert pg_array_text("{{1,2},{3,4}}") == [["1", "2"], ["3", "4"]]
    assert pg_array_text('{"NULL",","}') == ["NULL", ","]


def test_sqlite_reals_in_decimal_columns_lose_binary_noise() -> None:
    assert 0.1 + 0.2 != 0.3
    assert to_number(0.1 + 0.2) == 0.3
    assert to_number(sum([0.1] * 10)) == 1.0
    assert to_number(2387.3999999999996) == 2387.4
    assert to_number(518024.920000001) == 518024.92
    assert to_number(123456789.123) == 123456789.123
    assert to_number(1e300) == 1e300
    assert to_number(float("nan")) is None
    assert to_number(-0.0) == 0.0
    rows = convert_rows([(0.1 + 0.2, 1), (None, 2)], [to_number, None])
    assert rows == [[0.3, 1], [None, 2]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=10**5, places=2), max_size=200))
def test_sums_of_two_place_amounts_come_out_exact(amounts: list[Decimal]) -> None:
    """What SQLite does: add the REALs; the converter gives the decimal sum back.

    Exact while the float error (at most n * 2**-53 * sum = 200 * 1.1e-16 * 2e7 = 4.4e-7 here)
    stays below half a unit of the 12th significant digit (5e-5 for sums below 1e8). Sums with
    heavy cancellation can keep noise beyond that: SQLite has no decimal type.
    """
    real_sum = sum(float(a) for a in amounts)
    assert to_number(real_sum) == float(sum(amounts, Decimal(0)))
