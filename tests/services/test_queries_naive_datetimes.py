"""Sites with ``USE_TZ = False``: naive datetimes stored as the site's wall-clock time.

Django converts nothing then on SQLite and MySQL/MariaDB (a ``DateTimeField`` holds the local
time as written), and on PostgreSQL it sets the session's ``TimeZone`` to ``TIME_ZONE`` (a
``timestamptz`` holds the instant that wall-clock time names in the site's zone). Time buckets,
datetime filter values and ``date_relative`` ranges must all read the stored values as that
local time: an order at 23:30 on 1 January in Paris is in the 1 January day bucket, whatever
the backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from example_project.shop.models import Customer, Order
from prismiq_django import services
from tests.support.glue import exposed_table

PARIS_NAIVE = {"USE_TZ": False, "TIME_ZONE": "Europe/Paris"}
SETTINGS = {"EXPOSED_TABLES": ["shop_order"], "RESULT_CACHE_TTL": 0, "RATE_LIMIT": None}


@pytest.fixture
def paris_naive() -> Iterator[None]:
    with override_settings(**PARIS_NAIVE, PRISMIQ=SETTINGS):
        yield


def _orders(*moments: datetime) -> None:
    customer = Customer.objects.create(
        tenant_id=1, name="Ada", email="a@x", city="Paris", country="FR",
        created_at=datetime(2024, 1, 1),
    )  # fmt: skip
    for moment in moments:
        Order.objects.create(
            tenant_id=1, customer=customer, status="paid", ordered_at=moment,
            total=Decimal("1.00"),
        )  # fmt: skip


def _ids_where(*filters: dict[str, Any]) -> list[str]:
    definition = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "ordered_at"}],
        "filters": list(filters),
        "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "ASC"}],
    }
    return [row[0] for row in services.execute(None, definition).rows]


def _day_buckets() -> list[list[Any]]:
    definition = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [
            {"table_id": "o", "column": "ordered_at", "date_trunc": "day", "alias": "day"},
            {"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"},
        ],
        "order_by": [{"alias": "day", "direction": "ASC"}],
    }
    return services.execute(None, definition).rows


@pytest.mark.django_db
def test_a_naive_local_value_lands_in_its_own_local_day_bucket(paris_naive: None) -> None:
    _orders(datetime(2024, 1, 1, 23, 30), datetime(2024, 1, 2, 0, 30), datetime(2024, 7, 1, 23, 30))
    assert _day_buckets() == [
        ["2024-01-01T00:00:00", 1],
        ["2024-01-02T00:00:00", 1],
        ["2024-07-01T00:00:00", 1],
    ]


@pytest.mark.django_db
def test_hour_buckets_keep_the_stored_wall_clock_hour(paris_naive: None) -> None:
    _orders(datetime(2024, 1, 1, 23, 30))
    definition = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "ordered_at", "date_trunc": "hour"}],
    }
    assert services.execute(None, definition).rows == [["2024-01-01T23:00:00"]]


@pytest.mark.django_db
def test_a_datetime_filter_value_compares_with_the_stored_local_time(paris_naive: None) -> None:
    _orders(datetime(2024, 1, 1, 23, 30), datetime(2024, 1, 2, 0, 30))
    after_midnight = {
        "table_id": "o", "column": "ordered_at", "operator": "gte", "value": "2024-01-02T00:00:00",
    }  # fmt: skip
    assert _ids_where(after_midnight) == ["2024-01-02T00:30:00"]
    # A value with an offset names an instant: 23:00 UTC is midnight in Paris.
    with_offset = {**after_midnight, "value": "2024-01-01T23:00:00+00:00"}
    assert _ids_where(with_offset) == ["2024-01-02T00:30:00"]
    listed = {**after_midnight, "operator": "in", "value": ["2024-01-01T23:30:00"]}
    assert _ids_where(listed) == ["2024-01-01T23:30:00"]
    between = {
        **after_midnight, "operator": "between",
        "value": ["2024-01-01T23:00:00", "2024-01-01T23:59:59"],
    }  # fmt: skip
    assert _ids_where(between) == ["2024-01-01T23:30:00"]


@pytest.mark.django_db
def test_relative_ranges_start_at_local_midnight(paris_naive: None) -> None:
    today = timezone.now().date()
    midnight = datetime(today.year, today.month, today.day)
    _orders(
        midnight - timedelta(days=1, minutes=20),  # 23:40 the day before yesterday
        midnight - timedelta(minutes=20),  # 23:40 yesterday
        midnight + timedelta(minutes=20),  # 00:20 today
    )
    spelled = [
        (midnight - timedelta(minutes=20)).isoformat(),
        (midnight + timedelta(minutes=20)).isoformat(),
    ]
    relative = {"table_id": "o", "column": "ordered_at", "operator": "date_relative"}
    assert _ids_where({**relative, "value": {"preset": "today"}}) == spelled[1:]
    assert _ids_where({**relative, "value": {"last": 2, "unit": "day"}}) == spelled


TABLE = "svc_naive_wall_clock"


@pytest.fixture
def timestamp_table() -> Iterator[None]:
    """``at timestamp``: PostgreSQL's naive type; MySQL's instant, written here in UTC (23:30
    and 00:30 in Paris, 1 and 2 January)."""
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET time_zone = '+00:00'")
        rows = "(1, '2024-01-01 22:30:00'), (2, '2024-01-01 23:30:00')"
    else:
        rows = "(1, '2024-01-01 23:30:00'), (2, '2024-01-02 00:30:00')"
    create = f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, at timestamp NULL)"
    with exposed_table(TABLE, create, rows), override_settings(**PARIS_NAIVE):
        yield


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_naive_timestamps_are_bucketed_and_compared_as_stored(
    timestamp_table: None,
) -> None:
    _timestamp_buckets_and_filter()


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_mysql_timestamps_stay_instants_bucketed_in_the_site_zone(timestamp_table: None) -> None:
    _timestamp_buckets_and_filter()


def _timestamp_buckets_and_filter() -> None:
    definition: dict[str, Any] = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {"table_id": "t", "column": "id"},
            {"table_id": "t", "column": "at", "date_trunc": "day", "alias": "day"},
        ],
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }
    assert services.execute(None, definition).rows == [
        [1, "2024-01-01T00:00:00"],
        [2, "2024-01-02T00:00:00"],
    ]
    definition["filters"] = [
        {"table_id": "t", "column": "at", "operator": "gte", "value": "2024-01-02T00:00:00"}
    ]
    assert services.execute(None, definition).rows == [[2, "2024-01-02T00:00:00"]]
