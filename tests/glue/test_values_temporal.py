"""``values.pg_temporal_text``: PostgreSQL's text of dates Python cannot hold, as JSON strings."""

from __future__ import annotations

import pytest

from prismiq_django.values import expanded_year, pg_temporal_text


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
