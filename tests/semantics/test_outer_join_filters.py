"""Filters on the nullable side of an outer join (issue 15 item 12), checked against hand-written
SQL on the real database (SQLite by default, PostgreSQL with ``DATABASE_URL``): the documented
rule of docs/query-language.md ("Joins and row scopes"), with its example."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from example_project.shop.models import Customer, Order
from prismiq_django import services

pytestmark = pytest.mark.django_db

SHOP = {"EXPOSED_TABLES": ["shop_customer", "shop_order"]}


def _shop() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    people = {
        name: Customer.objects.create(
            tenant_id=1, name=name, email=f"{name}@x", city="C", country="FR", created_at=when
        )
        for name in ("ada", "bob", "cy")
    }
    for name, status in (("ada", "paid"), ("ada", "refunded"), ("bob", "refunded")):
        Order.objects.create(
            tenant_id=1, customer=people[name], status=status, total=Decimal(1), ordered_at=when
        )
    # cy has no order at all


def _definition(*filters: dict[str, Any]) -> dict[str, Any]:
    return {
        "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
        "joins": [
            {
                "from_table_id": "c",
                "from_column": "id",
                "to_table_id": "o",
                "to_column": "customer_id",
                "join_type": "LEFT",
            }
        ],
        "columns": [
            {"table_id": "c", "column": "name"},
            {"table_id": "o", "column": "status"},
        ],
        "filters": list(filters),
        "order_by": [
            {"table_id": "c", "column": "name", "direction": "ASC"},
            {"table_id": "o", "column": "status", "direction": "ASC"},
        ],
    }


def _by_hand(condition_on: str, where: str = "1 = 1") -> list[list[Any]]:
    """The hand-written statement: LEFT JOIN with ``condition_on`` in its ON clause."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.name, o.status FROM shop_customer c"
            f" LEFT JOIN shop_order o ON o.customer_id = c.id AND ({condition_on})"
            f" WHERE {where} ORDER BY c.name ASC, o.status ASC NULLS LAST"
            if connection.vendor == "postgresql"
            else "SELECT c.name, o.status FROM shop_customer c"
            f" LEFT JOIN shop_order o ON o.customer_id = c.id AND ({condition_on})"
            f" WHERE {where} ORDER BY c.name ASC, o.status IS NULL, o.status ASC"
        )
        return [list(row) for row in cursor.fetchall()]


@override_settings(PRISMIQ=SHOP)
def test_a_filter_on_the_joined_table_restricts_the_matches_and_keeps_every_customer() -> None:
    """``status eq paid`` on the LEFT-joined orders goes into the join's ON clause: every
    customer stays, with its paid orders or a NULL row (not WHERE semantics, which would keep
    only ada)."""
    _shop()
    paid = {"table_id": "o", "column": "status", "operator": "eq", "value": "paid"}
    result = services.execute(None, _definition(paid))
    assert result.rows == [["ada", "paid"], ["bob", None], ["cy", None]]
    assert result.rows == _by_hand("o.status = 'paid'")


@override_settings(PRISMIQ=SHOP)
def test_in_or_null_and_is_null_stay_in_where() -> None:
    """A filter true for the join's NULL row stays in WHERE: ``is_null`` is the anti-join
    (customers without orders), ``in_or_null`` keeps the matching orders and the customers
    without any."""
    _shop()
    none = {"table_id": "o", "column": "id", "operator": "is_null", "value": None}
    assert services.execute(None, _definition(none)).rows == [["cy", None]]
    assert services.execute(None, _definition(none)).rows == _by_hand("1 = 1", "o.id IS NULL")
    kept = {"table_id": "o", "column": "status", "operator": "in_or_null", "value": ["paid"]}
    result = services.execute(None, _definition(kept))
    assert result.rows == [["ada", "paid"], ["cy", None]]
    assert result.rows == _by_hand("1 = 1", "(o.status IN ('paid') OR o.status IS NULL)")
