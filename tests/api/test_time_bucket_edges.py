"""Time buckets of values near years 1 and 9999 (issue 15 item 6) and the offset of buckets of
instants (item 13), through HTTP on the real database (SQLite by default, PostgreSQL with
``DATABASE_URL``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from example_project.shop.models import Customer, Order
from tests.api.conftest import api


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
