"""Fixture dataset for the semantic tests: the demo shop tables, filled through the ORM.

The same rows exist on SQLite (``make test``) and PostgreSQL (CI pass); every test compares what a
compiled definition returns on the ``default`` connection with hand-written SQL (or a Python
oracle for calendar logic) over these rows. Data is created inside each test's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from example_project.shop.models import Customer, Order, OrderItem, Product

SKU_WIDGET = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")


def sql_names(columns: Sequence[str]) -> list[str]:
    """The names a compiled statement's cursor reports for output ``columns``: the aliases, or
    ``c0``, ``c1``... on MySQL (``MySQLDialect.output_alias``; the answer uses the aliases)."""
    if connection.vendor == "mysql":
        return [f"c{n}" for n in range(len(columns))]
    return list(columns)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


CUSTOMERS = [
    # id, tenant, name, email, city, country, active, created_at (UTC)
    (1, 1, "Alice", "alice@example.com", "Paris", "FR", True, "2024-01-05 10:00:00"),
    (2, 1, "bob", "bob@example.com", "Berlin", "DE", True, "2024-02-10 23:30:00"),
    (3, 1, "Chloé 50%_off", "chloe@example.com", "Paris", "FR", False, "2024-03-31 00:30:00"),
    (4, 1, 'D\'Arcy "Q" \\ x', "darcy@example.com", "Lyon", "FR", True, "2024-06-01 12:00:00"),
    (5, 2, "Eve", "eve@example.com", "Paris", "FR", True, "2024-01-01 00:00:00"),
    (6, 1, "ÄRGER", "aerger@example.com", "Wien", "AT", True, "2023-12-31 23:59:59"),
    (7, 1, "alice B", "alice2@example.com", "PARIS", "FR", True, "2024-01-08 08:00:00"),
]
PRODUCTS = [
    # id, tenant, name, category, price
    (1, 1, "Widget", "tools", "9.99"),
    (2, 1, "Gadget", "toys", "19.50"),
    (3, 1, "Gizmo", "tools", "100.00"),
    (4, 2, "Other", "tools", "5.00"),
]
ORDERS = [
    # id, tenant, customer, status, ordered_at (UTC), shipped_on, total
    (1, 1, 1, "paid", "2024-01-07 23:30:00", "2024-01-09", "10.50"),  # Mon 00:30 in Paris
    (2, 1, 1, "shipped", "2024-01-08 08:00:00", "2024-01-10", "120.00"),
    (3, 1, 2, "pending", "2024-03-30 23:30:00", None, "19.99"),  # DST night in Paris
    (4, 1, 2, "paid", "2024-03-31 01:30:00", None, "0.01"),
    (5, 1, 3, "cancelled", "2024-06-30 22:15:00", None, "55.00"),  # July 1st in Paris
    (6, 1, 1, "paid", "2024-12-31 23:00:00", "2025-01-02", "300.00"),  # New Year in Paris
    (7, 1, 6, "shipped", "2024-09-29 12:00:00", "2024-09-30", "42.42"),
    (8, 1, 6, "paid", "2024-09-30 12:00:00", "2024-10-01", "7.00"),
    (9, 1, 7, "paid", "2024-11-15 09:00:00", "2024-11-18", "99.99"),
    (10, 2, 5, "paid", "2024-01-07 12:00:00", "2024-01-08", "1000.00"),
    (11, 1, 5, "paid", "2024-05-05 05:05:05", None, "5.55"),  # tenant 1 order, tenant 2 customer
]
ITEMS = [
    # id, tenant, order, product, quantity, unit_price
    (1, 1, 1, 1, 1, "9.99"),
    (2, 1, 2, 3, 1, "100.00"),
    (3, 1, 2, 2, 1, "19.50"),
    (4, 1, 3, 2, 1, "19.50"),
    (5, 1, 6, 3, 3, "100.00"),
    (6, 1, 7, 1, 4, "9.99"),
    (7, 1, 9, 3, 1, "99.99"),
    (8, 2, 10, 4, 200, "5.00"),
]


@pytest.fixture
def shop(db: None) -> None:
    """Create the fixture rows (rolled back after the test)."""
    Customer.objects.bulk_create(
        Customer(
            id=c[0],
            tenant_id=c[1],
            name=c[2],
            email=c[3],
            city=c[4],
            country=c[5],
            is_active=c[6],
            created_at=_dt(c[7]),
        )
        for c in CUSTOMERS
    )
    Product.objects.bulk_create(
        Product(
            id=p[0],
            tenant_id=p[1],
            name=p[2],
            category=p[3],
            price=Decimal(p[4]),
            sku=SKU_WIDGET if p[0] == 1 else uuid.UUID(int=p[0]),
            attributes={"n": p[0]},
        )
        for p in PRODUCTS
    )
    Order.objects.bulk_create(
        Order(
            id=o[0],
            tenant_id=o[1],
            customer_id=o[2],
            status=o[3],
            ordered_at=_dt(o[4]),
            shipped_on=date.fromisoformat(o[5]) if o[5] else None,
            total=Decimal(o[6]),
        )
        for o in ORDERS
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            id=i[0],
            tenant_id=i[1],
            order_id=i[2],
            product_id=i[3],
            quantity=i[4],
            unit_price=Decimal(i[5]),
        )
        for i in ITEMS
    )


def run(sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """Execute on the ``default`` connection and return the rows as tuples."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return [tuple(row) for row in cursor.fetchall()]
