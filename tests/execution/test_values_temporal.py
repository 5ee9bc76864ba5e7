"""PostgreSQL's text of dates, times and intervals Python cannot hold, as JSON values.

``values.pg_temporal_text`` and ``values.pg_time_text`` (strings), ``values.pg_interval_seconds``
(``extract(epoch from ...)``; checked against PostgreSQL itself in
``test_pg_times_intervals.py``).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prismiq_django.backends.postgresql.values import (
    expanded_year,
    pg_interval_seconds,
    pg_temporal_text,
    pg_time_text,
)


@pytest.mark.parametrize(
    ("year", "text"),
    [
        (0, "0000"),
        (1, "0001"),
        (9999, "9999"),
        (10000, "+010000"),
        (5874897, "+5874897"),
        (-1, "-000001"),
        (-43, "-000043"),
        (-4712, "-004712"),
    ],
)
def test_expanded_years(year: int, text: str) -> None:
    assert expanded_year(year) == text


@pytest.mark.parametrize(
    ("text", "aware", "naive"),
    [
        ("infinity", "infinity", "infinity"),
        ("-infinity", "-infinity", "-infinity"),
        ("0044-03-15 BC", "-000043-03-15", "-000043-03-15"),
        ("0001-03-15 BC", "0000-03-15", "0000-03-15"),
        ("4713-11-24 BC", "-004712-11-24", "-004712-11-24"),
        ("10000-01-01", "+010000-01-01", "+010000-01-01"),
        ("5874897-12-31", "+5874897-12-31", "+5874897-12-31"),
        ("0044-03-15 12:00:00 BC", "-000043-03-15T12:00:00", "-000043-03-15T12:00:00"),
        (
            "0044-03-15 12:00:00.5+00 BC",
            "-000043-03-15T12:00:00.5+00:00",
            "-000043-03-15T12:00:00.5",
        ),
        (
            "0044-03-15 12:09:21.5+00:09:21 BC",
            "-000043-03-15T12:09:21.5+00:09:21",
            "-000043-03-15T12:09:21.5",
        ),
        ("10000-01-01 00:00:00+05:30", "+010000-01-01T00:00:00+05:30", "+010000-01-01T00:00:00"),
        ("10000-01-01 00:00:00-03", "+010000-01-01T00:00:00-03:00", "+010000-01-01T00:00:00"),
    ],
)
def test_values_python_cannot_hold(text: str, aware: str, naive: str) -> None:
    assert pg_temporal_text(text) == aware
    assert pg_temporal_text(text, naive=True) == naive


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01",  # representable: psycopg loads it, this function is not asked
        "2024-01-01 10:00:00+00",
        "15/03/0044 BC",  # DateStyle SQL: not what this function reads
        "0044-03-15 12h BC",
        "\u0661\u0660\u0660\u0660\u0660-01-01",  # Arabic-Indic digits
        "",
        "infinity BC",
    ],
)
def test_other_text_is_not_taken(text: str) -> None:
    assert pg_temporal_text(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24:00:00", "24:00:00"),
        ("24:00:00+02", "24:00:00+02:00"),
        ("24:00:00-05:30", "24:00:00-05:30"),
        ("24:00:00+05:30:15", "24:00:00+05:30:15"),
    ],
)
def test_times_python_cannot_hold(text: str, expected: str) -> None:
    assert pg_time_text(text) == expected


@pytest.mark.parametrize(
    "text", ["23:59:59", "10:00:00+02", "24:00", "24:00:00 BC", "", "allballs", "24:00:00+2"]
)
def test_other_time_text_is_not_taken(text: str) -> None:
    assert pg_time_text(text) is None


_YEAR = 365.25 * 86400
_MONTH = 30 * 86400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:00", 0.0),
        ("-00:00:00.5", -0.5),
        ("00:00:00.000001", 0.000001),
        ("1 year", _YEAR),
        ("1 year 1 mon", _YEAR + _MONTH),
        ("11 mons", 11 * _MONTH),
        ("-1 years -2 mons +3 days -04:05:06.5", -_YEAR - 2 * _MONTH + 3 * 86400 - 14706.5),
        ("1 mon -3 days +00:00:01.5", _MONTH - 3 * 86400 + 1.5),
        ("1 day", 86400.0),
        ("-1 days", -86400.0),
        ("2562047788:00:54.775807", 9223372036854.775807),
        ("100000000 years", 100_000_000 * _YEAR),
        ("-2 mons +1000000000 days -04:05:06.5", 86399994801293.5),  # the docs' example
        ("-178956970 years -8 mons", -5647452497208000.0),
        # 5842218453753654.775807 exactly, rounded once to the nearest float
        ("178956970 years 7 mons 2147483647 days 2562047788:00:54.775807", 5842218453753655.0),
    ],
)
def test_interval_seconds(text: str, seconds: float) -> None:
    assert pg_interval_seconds(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "@ 1 year",  # IntervalStyle postgres_verbose
        "P1Y",  # iso_8601
        "1-0",  # sql_standard
        "1 year ",
        "1 year2 mons",
        "1 mon 1 year",
        "1 years 2:3:4",
        "infinity",  # PostgreSQL 17's infinite intervals (psycopg does not refuse them)
        "1 year 00:00:00.1234567",
        "\u0661 year",
    ],
)
def test_other_interval_text_is_not_taken(text: str) -> None:
    assert pg_interval_seconds(text) is None


@given(st.text(alphabet="0123456789 +-:.yearsmonsday@PT", max_size=40) | st.text(max_size=20))
def test_interval_text_never_raises(text: str) -> None:
    seconds = pg_interval_seconds(text)
    assert seconds is None or isinstance(seconds, float)
