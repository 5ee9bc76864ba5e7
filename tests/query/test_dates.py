"""Relative date ranges: half-open, local calendar, weeks start on Monday, injectable clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from prismiq_django.query import dates, parse
from tests.query.catalogs import SHOP

PARIS = ZoneInfo("Europe/Paris")
# Sunday 2024-03-31 23:30 UTC is already Monday 2024-04-01 01:30 in Paris (after the DST switch).
SUNDAY_NIGHT_UTC = datetime(2024, 3, 31, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("today", (date(2024, 4, 1), date(2024, 4, 2))),
        ("yesterday", (date(2024, 3, 31), date(2024, 4, 1))),
        ("last_7_days", (date(2024, 3, 26), date(2024, 4, 2))),
        ("last_30_days", (date(2024, 3, 3), date(2024, 4, 2))),
        ("this_week", (date(2024, 4, 1), date(2024, 4, 8))),
        ("last_week", (date(2024, 3, 25), date(2024, 4, 1))),
        ("this_month", (date(2024, 4, 1), date(2024, 5, 1))),
        ("last_month", (date(2024, 3, 1), date(2024, 4, 1))),
        ("this_quarter", (date(2024, 4, 1), date(2024, 7, 1))),
        ("last_quarter", (date(2024, 1, 1), date(2024, 4, 1))),
        ("this_year", (date(2024, 1, 1), date(2025, 1, 1))),
        ("last_year", (date(2023, 1, 1), date(2024, 1, 1))),
    ],
)
def test_presets_in_the_site_time_zone(preset: str, expected: tuple[date, date]) -> None:
    assert dates.relative_range(*dates.PRESETS[preset], now=SUNDAY_NIGHT_UTC, tz=PARIS) == expected


def test_same_instant_in_utc_is_still_sunday() -> None:
    start, end = dates.relative_range("week", 0, 1, now=SUNDAY_NIGHT_UTC, tz=UTC)
    assert (start, end) == (date(2024, 3, 25), date(2024, 4, 1))
    assert start.weekday() == 0


def test_last_n_units_include_the_current_one() -> None:
    now = datetime(2024, 1, 15, 12, tzinfo=UTC)
    assert dates.relative_range("month", 2, 3, now=now, tz=UTC) == (
        date(2023, 11, 1),
        date(2024, 2, 1),
    )
    assert dates.relative_range("quarter", 4, 5, now=now, tz=UTC) == (
        date(2023, 1, 1),
        date(2024, 4, 1),
    )


def test_naive_now_is_local_wall_time() -> None:
    assert dates.relative_range("day", 0, 1, now=datetime(2024, 5, 5, 23, 59), tz=PARIS) == (
        date(2024, 5, 5),
        date(2024, 5, 6),
    )


def test_datetime_bounds_are_local_midnights_across_dst() -> None:
    query = parse(
        {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {
                    "table_id": "o",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"preset": "last_week"},
                }
            ],
        },
        SHOP,
        now=SUNDAY_NIGHT_UTC,
        tz=PARIS,
    )
    start, end = query.where[0].value  # type: ignore[union-attr]
    # Monday 2024-03-25 00:00 CET (UTC+1) and Monday 2024-04-01 00:00 CEST (UTC+2).
    assert start == datetime(2024, 3, 24, 23, tzinfo=UTC)
    assert end == datetime(2024, 3, 31, 22, tzinfo=UTC)
    assert end - start == timedelta(days=7, hours=-1)


def test_ranges_leaving_the_calendar_are_validation_errors() -> None:
    from prismiq_django.query import QueryValidationError

    with pytest.raises(QueryValidationError) as info:
        parse(
            {
                "tables": [{"id": "o", "name": "shop_order"}],
                "columns": [{"table_id": "o", "column": "id"}],
                "filters": [
                    {
                        "table_id": "o",
                        "column": "shipped_on",
                        "operator": "date_relative",
                        "value": {"last": 10_000, "unit": "year"},
                    }
                ],
            },
            SHOP,
            now=datetime(2024, 1, 1, tzinfo=UTC),
        )
    assert [(e.code, e.path) for e in info.value.errors] == [("invalid_value", "/filters/0/value")]


def test_tz_name() -> None:
    assert dates.tz_name(PARIS) == "Europe/Paris"
    assert dates.tz_name(UTC) == "UTC"
    assert dates.tz_name(timezone(timedelta(0))) == "UTC"
    assert dates.tz_name(timezone(timedelta(hours=2))) == "Etc/GMT-2"
    assert dates.tz_name(timezone(timedelta(hours=-5))) == "Etc/GMT+5"
    plus_two = datetime(2024, 1, 1, 12, tzinfo=UTC).astimezone(ZoneInfo("Etc/GMT-2"))
    assert plus_two.hour == 14
    with pytest.raises(ValueError, match="zoneinfo"):
        dates.tz_name(timezone(timedelta(hours=5, minutes=30)))
