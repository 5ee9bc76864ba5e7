"""The filter merge on real databases: a table of cases, each run twice on SQLite and PostgreSQL.

Each case's merged query goes through the real service (parse, compile, execute); the same rows
must come from a hand-written statement of what the filters mean. The data sits on the edges
that matter: midnight of the first day, the last second of the last day, the day after, a leap
day, rows relative to today for the presets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from example_project.shop.models import Customer, Order
from prismiq_django import services
from prismiq_django.query.filter_decl import parse_declarations, parse_values
from prismiq_django.query.filter_merge import merge_filters

pytestmark = pytest.mark.django_db

QUERY: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
    "columns": [{"table_id": "o", "column": "id"}],
    "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
}
BASE_SQL = (
    "SELECT o.id FROM shop_order o INNER JOIN shop_customer c ON o.customer_id = c.id "
    "WHERE {where} ORDER BY o.id"
)


def _midnight(days_ago: int) -> str:
    today = timezone.now().astimezone(UTC).date()
    return (today - timedelta(days=days_ago)).isoformat() + " 00:00:00"


#: (name, declared filters, request values, hand-written WHERE, its parameters (callables are
#: evaluated at run time)).
CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]] | None, str, list[Any]]] = [
    ("no filter", [], None, "1 = 1", []),
    (
        "select",
        [{"id": "s", "type": "select", "field": "status"}],
        [{"filter_id": "s", "value": "paid"}],
        "o.status = %s",
        ["paid"],
    ),
    (
        "multi_select",
        [{"id": "m", "type": "multi_select", "field": "status"}],
        [{"filter_id": "m", "value": ["paid", "pending"]}],
        "o.status IN (%s, %s)",
        ["paid", "pending"],
    ),
    (
        "multi_select empty is off",
        [{"id": "m", "type": "multi_select", "field": "status"}],
        [{"filter_id": "m", "value": []}],
        "1 = 1",
        [],
    ),
    (
        "text contains, case-insensitive, % literal",
        [{"id": "q", "type": "text", "field": "name"}],
        [{"filter_id": "q", "value": "AN"}],
        "LOWER(c.name) LIKE %s",
        ["%an%"],
    ),
    (
        "text with a percent sign matches it literally",
        [{"id": "q", "type": "text", "field": "name"}],
        [{"filter_id": "q", "value": "100%"}],
        "c.name = %s",
        ["100% Co"],
    ),
    (
        "number_range both bounds included",
        [{"id": "n", "type": "number_range", "field": "total"}],
        [{"filter_id": "n", "value": {"min": 50, "max": "150.00"}}],
        "o.total >= 50 AND o.total <= 150",
        [],
    ),
    (
        "number_range open min",
        [{"id": "n", "type": "number_range", "field": "total"}],
        [{"filter_id": "n", "value": {"min": None, "max": 10}}],
        "o.total <= 10",
        [],
    ),
    (
        "date_range on a timestamp: the end day whole, not the next midnight",
        [{"id": "d", "type": "date_range", "field": "ordered_at"}],
        [{"filter_id": "d", "value": {"start": "2024-01-01", "end": "2024-01-31"}}],
        "o.ordered_at >= %s AND o.ordered_at < %s",
        ["2024-01-01 00:00:00", "2024-02-01 00:00:00"],
    ),
    (
        "date_range on a date, through a leap day",
        [{"id": "d", "type": "date_range", "field": "shipped_on"}],
        [{"filter_id": "d", "value": {"start": "2024-02-01", "end": "2024-02-29"}}],
        "o.shipped_on >= %s AND o.shipped_on <= %s",
        ["2024-02-01", "2024-02-29"],
    ),
    (
        "date_range open end",
        [{"id": "d", "type": "date_range", "field": "ordered_at"}],
        [{"filter_id": "d", "value": {"start": "2024-02-01", "end": None}}],
        "o.ordered_at >= %s",
        ["2024-02-01 00:00:00"],
    ),
    (
        "date_range preset (default date_preset)",
        [{"id": "d", "type": "date_range", "field": "ordered_at", "date_preset": "last_7_days"}],
        None,
        "o.ordered_at >= %s AND o.ordered_at < %s",
        [lambda: _midnight(6), lambda: _midnight(-1)],
    ),
    (
        "date_range {last, unit}",
        [{"id": "d", "type": "date_range", "field": "ordered_at"}],
        [{"filter_id": "d", "value": {"last": 60, "unit": "day"}}],
        "o.ordered_at >= %s AND o.ordered_at < %s",
        [lambda: _midnight(59), lambda: _midnight(-1)],
    ),
    (
        "table null: first table with the field (the customer)",
        [{"id": "k", "type": "select", "field": "country"}],
        [{"filter_id": "k", "value": "FR"}],
        "c.country = %s",
        ["FR"],
    ),
    (
        "named table: the customer's tenant_id, not the order's",
        [{"id": "t", "type": "select", "field": "tenant_id", "table": "shop_customer"}],
        [{"filter_id": "t", "value": 2}],
        "c.tenant_id = %s",
        [2],
    ),
    (
        "table not in the query: no effect",
        [{"id": "p", "type": "select", "field": "category", "table": "shop_product"}],
        [{"filter_id": "p", "value": "tools"}],
        "1 = 1",
        [],
    ),
    (
        "default value, and two filters ANDed",
        [
            {"id": "s", "type": "select", "field": "status", "default_value": "paid"},
            {"id": "k", "type": "select", "field": "country"},
        ],
        [{"filter_id": "k", "value": "DE"}],
        "o.status = %s AND c.country = %s",
        ["paid", "DE"],
    ),
    (
        "null switches the default off",
        [{"id": "s", "type": "select", "field": "status", "default_value": "paid"}],
        [{"filter_id": "s", "value": None}],
        "1 = 1",
        [],
    ),
]


@pytest.fixture
def orders(settings: Any) -> None:
    settings.PRISMIQ = {
        "EXPOSED_TABLES": ["shop_order", "shop_customer"],
        "SCHEMA_CACHE_TTL": 0,
        "RESULT_CACHE_TTL": 0,
        "RATE_LIMIT": None,
    }
    de = Customer.objects.create(
        tenant_id=1, name="Ann", email="a@x", city="Berlin", country="DE", created_at=timezone.now()
    )
    fr = Customer.objects.create(
        tenant_id=2,
        name="100% Co",
        email="b@x",
        city="Paris",
        country="FR",
        created_at=timezone.now(),
    )
    now = timezone.now()
    rows = [
        (de, "paid", datetime(2024, 1, 1, 0, 0, tzinfo=UTC), None, "10.00"),
        (de, "shipped", datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC), "2024-02-01", "50.00"),
        (fr, "paid", datetime(2024, 2, 1, 0, 0, tzinfo=UTC), "2024-02-29", "150.00"),
        (fr, "cancelled", datetime(2024, 2, 29, 12, 0, tzinfo=UTC), "2024-03-01", "150.01"),
        (de, "pending", now - timedelta(days=2), None, "0.50"),
        (fr, "paid", now - timedelta(days=40), None, "99.99"),
        (de, "paid", now - timedelta(days=7, hours=1), None, "7.00"),
    ]
    for customer, status, at, shipped, total in rows:
        Order.objects.create(
            tenant_id=customer.tenant_id,
            customer=customer,
            status=status,
            ordered_at=at,
            shipped_on=shipped,
            total=Decimal(total),
        )


@pytest.mark.parametrize(
    ("name", "filters", "values", "where", "params"), CASES, ids=[c[0] for c in CASES]
)
def test_merged_query_returns_the_rows_of_the_hand_written_sql(
    orders: None,
    name: str,
    filters: list[dict[str, Any]],
    values: list[dict[str, Any]] | None,
    where: str,
    params: list[Any],
) -> None:
    declared = parse_declarations(filters)
    merged = merge_filters(
        QUERY,
        services.get_catalog(None),
        declared,
        parse_values(values, declared),
        tz=timezone.get_current_timezone(),
    )
    got = [row[0] for row in services.execute(None, merged).rows]
    with connection.cursor() as cursor:
        cursor.execute(BASE_SQL.format(where=where), [p() if callable(p) else p for p in params])
        expected = [row[0] for row in cursor.fetchall()]
    assert got == expected
    if where != "1 = 1":
        assert 0 < len(expected) < Order.objects.count(), "the case must select some rows only"
