"""Time buckets of values near years 1 and 9999 (issue 15 item 6) and the offset of buckets of
instants (item 13), through HTTP on the real database (SQLite by default, PostgreSQL with
``DATABASE_URL``)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from example_project.shop.models import Customer, Order
from tests.api.conftest import api, configure
from tests.api.test_dashboards import create, pos, post


def _order_at(moment: datetime) -> None:
    customer = Customer.objects.create(
        tenant_id=1, name="Edge", email="e@x", city="C", country="FR", created_at=moment
    )
    Order.objects.create(
        tenant_id=1, customer=customer, status="paid", total=Decimal(1), ordered_at=moment
    )


def _bucket_query(unit: str) -> dict[str, Any]:
    return {
        "query": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "ordered_at", "date_trunc": unit, "alias": "b"},
                {"table_id": "o", "column": "id", "aggregation": "count", "alias": "n"},
            ],
            "filters": [{"table_id": "o", "column": "status", "operator": "eq", "value": "paid"}],
        }
    }


@pytest.mark.parametrize(
    ("moment", "zone", "unit"),
    [
        (datetime(1, 1, 1, 3, tzinfo=UTC), "America/New_York", "day"),  # 31 Dec 1 BC there
        (datetime(1, 1, 1, 3, tzinfo=UTC), "America/New_York", "week"),
        (datetime(1, 1, 1, 0, tzinfo=UTC), "UTC", "week"),  # 0001-01-01 is a Monday
        (datetime(9999, 12, 31, 23, 30, tzinfo=UTC), "Europe/Paris", "year"),  # 10000 there
        (datetime(9999, 12, 31, 23, 30, tzinfo=UTC), "Asia/Tokyo", "hour"),
    ],
    ids=["ny-day", "ny-week", "utc-week", "paris-year", "tokyo-hour"],
)
def test_buckets_near_year_1_and_9999_are_a_result_or_a_400_never_a_500(
    client: APIClient, moment: datetime, zone: str, unit: str
) -> None:
    """SQLite's ``django_datetime_trunc`` raised OverflowError in Python for these: a 500. Now a
    bucket the database can compute is a result, one it cannot is 400 ``invalid_value`` at the
    bucket's path, as on PostgreSQL (whose range is wider: there they are results)."""
    _order_at(moment)
    with override_settings(TIME_ZONE=zone):
        response = client.post(api("query/execute"), _bucket_query(unit), format="json")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        body = response.json()
        assert [(e["code"], e["path"]) for e in body["errors"]] == [
            ("invalid_value", "/query/columns/0/date_trunc")
        ]
    else:
        rows = response.json()["rows"]
        assert sum(row[1] for row in rows) >= 1
    if connection.vendor == "postgresql" or zone == "UTC":
        assert response.status_code == 200  # within the database's range
    if connection.vendor == "sqlite" and zone != "UTC":
        assert response.status_code == 400  # Python's datetime cannot hold that wall-clock time


#: Orders around Europe/Paris's two changes of 2024: clocks go forward at 01:00 UTC on 31 March
#: (02:00 CET -> 03:00 CEST) and back at 01:00 UTC on 27 October (03:00 CEST -> 02:00 CET), so the
#: wall-clock hour 02:00 of 27 October happens twice.
DST_ORDERS = [
    datetime(2024, 3, 30, 12, 0, tzinfo=UTC),  # 13:00 CET
    datetime(2024, 3, 31, 0, 30, tzinfo=UTC),  # 01:30 CET, before the change
    datetime(2024, 3, 31, 10, 0, tzinfo=UTC),  # 12:00 CEST
    datetime(2024, 10, 27, 0, 30, tzinfo=UTC),  # 02:30 CEST, the first 02:00 hour
    datetime(2024, 10, 27, 1, 30, tzinfo=UTC),  # 02:30 CET, the second one
    datetime(2024, 10, 27, 2, 30, tzinfo=UTC),  # 03:30 CET
]
#: The definition's orders only (the shop's own end on 25 March).
SINCE_DST_ORDERS = {
    "table_id": "o",
    "column": "ordered_at",
    "operator": "gte",
    "value": "2024-03-30T00:00:00+00:00",
}


def _series(interval: str, **extra: Any) -> dict[str, Any]:
    return {
        "tables": [{"id": "o", "name": "shop_order"}],
        "time_series": {"table_id": "o", "date_column": "ordered_at", "interval": interval},
        "columns": [{"table_id": "o", "column": "id", "aggregation": "count", "alias": "n"}],
        "filters": [SINCE_DST_ORDERS],
        **extra,
    }


def _truncated(moment: datetime, interval: str) -> datetime:
    wall = moment.replace(tzinfo=None, minute=0, second=0, microsecond=0)
    if interval == "hour":
        return wall
    wall = wall.replace(hour=0)
    return wall if interval == "day" else wall.replace(day=1)


@pytest.fixture
def dst_orders(client: APIClient) -> APIClient:
    for moment in DST_ORDERS:
        _order_at(moment)
    return client


def _execute(client: APIClient, query: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = client.post(api("query/execute"), {"query": query, **extra}, format="json")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (
            "month",
            [["2024-03-01T00:00:00+01:00", 3], ["2024-10-01T00:00:00+02:00", 3]],
        ),
        (
            "day",
            [
                ["2024-03-30T00:00:00+01:00", 1],
                ["2024-03-31T00:00:00+01:00", 2],  # midnight is before the change
                ["2024-10-27T00:00:00+02:00", 3],  # and here too, still summer time
            ],
        ),
        (
            "hour",
            [
                ["2024-03-30T13:00:00+01:00", 1],
                ["2024-03-31T01:00:00+01:00", 1],
                ["2024-03-31T12:00:00+02:00", 1],
                # The repeated hour is one bucket; its start is its first occurrence (fold=0).
                ["2024-10-27T02:00:00+02:00", 2],
                ["2024-10-27T03:00:00+01:00", 1],
            ],
        ),
    ],
)
def test_buckets_of_instants_carry_the_site_zone_offset_at_their_start(
    dst_orders: APIClient, interval: str, expected: list[list[Any]]
) -> None:
    """Issue 15 item 13: a bucket of a datetime column (an instant: ``timestamptz``, or Django's
    UTC on SQLite and MySQL/MariaDB) was labelled naive (``"2024-03-01T00:00:00"``), which no
    client can place on a timeline; it is the site zone's wall-clock start with that zone's
    offset at the start, across both changes of a Europe/Paris year."""
    with override_settings(TIME_ZONE="Europe/Paris"):
        body = _execute(dst_orders, _series(interval))
    assert body["column_types"] == ["datetime", "integer"]
    assert body["rows"] == expected
    # Each label is the instant its bucket begins at: its offset is Paris's then (fold=0, the
    # first occurrence of a repeated time), and the bucket's orders are at or after it.
    paris = ZoneInfo("Europe/Paris")
    for label, _ in body["rows"]:
        start = datetime.fromisoformat(label)
        wall = start.replace(tzinfo=None)
        assert start.utcoffset() == wall.replace(tzinfo=paris, fold=0).utcoffset()
        held = [m for m in DST_ORDERS if _truncated(m.astimezone(paris), interval) == wall]
        assert held
        assert all(m >= start for m in held)


def test_the_cached_answer_dashboards_and_a_utc_site_spell_buckets_the_same_way(
    dst_orders: APIClient, settings: Any
) -> None:
    configure(settings, RESULT_CACHE_TTL=300)
    query = _series("month")
    with override_settings(TIME_ZONE="Europe/Paris"):
        first = _execute(dst_orders, query)
        cached = _execute(dst_orders, query)
        board = create(
            dst_orders,
            filters=[],
            widgets=[{"type": "table", "title": "Months", "query": query, "position": pos()}],
        )
        ran = post(dst_orders, f"dashboards/{board['id']}/execute", {})
    assert first["is_from_cache"] is False
    assert cached["is_from_cache"] is True
    assert cached["rows"] == first["rows"]
    assert first["rows"] == [["2024-03-01T00:00:00+01:00", 3], ["2024-10-01T00:00:00+02:00", 3]]
    assert ran.status_code == 200, ran.content
    [widget] = ran.json()["results"].values()
    assert widget["rows"] == first["rows"]
    # A site in UTC (the test settings') spells its buckets +00:00, like the plain values.
    utc = _execute(dst_orders, {**query, "columns": [*query["columns"], _LAST]})
    assert utc["rows"] == [
        ["2024-03-01T00:00:00+00:00", 3, "2024-03-31T10:00:00+00:00"],
        ["2024-10-01T00:00:00+00:00", 3, "2024-10-27T02:30:00+00:00"],
    ]


_LAST = {"table_id": "o", "column": "ordered_at", "aggregation": "max", "alias": "last"}


def test_date_buckets_stay_dates(dst_orders: APIClient) -> None:
    by_ship_date = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "time_series": {"table_id": "o", "date_column": "shipped_on", "interval": "month"},
        "columns": [{"table_id": "o", "column": "id", "aggregation": "count", "alias": "n"}],
        "filters": [{"table_id": "o", "column": "shipped_on", "operator": "is_not_null"}],
    }
    with override_settings(TIME_ZONE="Europe/Paris"):
        body = _execute(dst_orders, by_ship_date)
    assert body["column_types"] == ["date", "integer"]
    assert body["rows"] == [["2024-01-01", 1], ["2024-02-01", 1], ["2024-03-01", 2]]


def _download(client: APIClient, query: dict[str, Any], file_format: str) -> bytes:
    response = client.post(
        api("query/export"), {"query": query, "format": file_format}, format="json"
    )
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_exports_print_the_label_in_csv_and_its_wall_clock_time_in_xlsx(
    dst_orders: APIClient,
) -> None:
    """CSV is the JSON answer's text; an XLSX cell holds no offset, so a bucket's cell is its
    wall-clock start in the site's zone (the label without its offset), as before."""
    query = _series("hour")
    query["filters"] = [
        SINCE_DST_ORDERS,
        {**SINCE_DST_ORDERS, "operator": "lt", "value": "2024-10-27T02:00:00+00:00"},
        {**SINCE_DST_ORDERS, "value": "2024-10-27T00:00:00+00:00"},
    ]
    with override_settings(TIME_ZONE="Europe/Paris"):
        text = _download(dst_orders, query, "csv").decode()
        workbook = openpyxl.load_workbook(io.BytesIO(_download(dst_orders, query, "xlsx")))
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["ordered_at", "n"],
        ["2024-10-27T02:00:00+02:00", "2"],
    ]
    assert list(workbook.active.iter_rows(values_only=True)) == [
        ("ordered_at", "n"),
        (datetime(2024, 10, 27, 2, 0), 2),
    ]
