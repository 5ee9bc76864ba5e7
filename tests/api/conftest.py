"""Fixtures of the HTTP API tests: users and clients, the demo shop tables exposed through settings,
a small deterministic dataset, and a canary table that is never exposed.

Every request goes through the real URLconf, views, services, compiler and database (SQLite by
default, PostgreSQL with ``DATABASE_URL``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from example_project.shop.models import Customer, Order, OrderItem, Product

API = "/api/analytics/"
SHOP_TABLES = ["shop_customer", "shop_product", "shop_order", "shop_orderitem"]
CANARY_TABLE = "api_canary"
CANARY_SECRET = "CANARY-7f3a-never-readable"
TOKEN_SECRET = "tok-SECRET-ann"


def api(path: str) -> str:
    """Absolute URL of an API path (``api("query/execute")``)."""
    return API + path


@dataclass(frozen=True, slots=True)
class Shop:
    """Primary keys of the dataset rows, by short name."""

    customers: dict[str, int]
    products: dict[str, int]
    orders: dict[str, int]


@pytest.fixture
def exposed(settings: Any) -> dict[str, Any]:
    """Expose the four shop tables through ``PRISMIQ["EXPOSED_TABLES"]``; caches and rate limits
    off so that every test sees exactly its own configuration."""
    settings.PRISMIQ = {
        "EXPOSED_TABLES": list(SHOP_TABLES),
        "SCHEMA_CACHE_TTL": 0,
        "RESULT_CACHE_TTL": 0,
        "RATE_LIMIT": None,
        "EXPORT_RATE_LIMIT": None,
        "ASK_RATE_LIMIT": None,
    }
    return dict(settings.PRISMIQ)


def configure(settings: Any, **overrides: Any) -> None:
    """Add ``overrides`` to the ``PRISMIQ`` settings of the running test."""
    settings.PRISMIQ = {**settings.PRISMIQ, **overrides}


@pytest.fixture
def alice(db: None) -> User:
    return User.objects.create_user("alice")


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user("bob")


@pytest.fixture
def client_for() -> Any:
    """``client_for(user)``: an API client authenticated as ``user`` (None: anonymous)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def client(alice: User, exposed: dict[str, Any], shop: Shop, canary: None) -> APIClient:
    """Alice's client, with the shop exposed and loaded and the canary table present."""
    api_client = APIClient()
    api_client.force_authenticate(alice)
    return api_client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


def _at(day: str, hour: int = 12) -> datetime:
    y, m, d = (int(p) for p in day.split("-"))
    return datetime(y, m, d, hour, 0, tzinfo=UTC)


@pytest.fixture
def shop(db: None) -> Shop:
    """Five customers, four products, ten orders over January-March 2024, with items."""
    customers = {
        key: Customer.objects.create(
            tenant_id=1,
            name=name,
            email=f"{key}@example.com",
            city=city,
            country=country,
            is_active=active,
            created_at=_at("2023-12-01"),
            api_token=TOKEN_SECRET if key == "ann" else "",
        ).pk
        for key, name, city, country, active in [
            ("ann", "Ann", "Berlin", "DE", True),
            ("bob", "Bob", "Paris", "FR", False),
            ("cid", "Cid", "Munich", "DE", True),
            ("dee", "Dee", "New York", "US", False),
            ("eve", "Eve O'Hara", "Lyon", "FR", True),
        ]
    }
    products = {
        key: Product.objects.create(
            tenant_id=1,
            name=name,
            category=category,
            price=Decimal(price),
            sku=UUID(int=index + 1),
            attributes={"index": index},
        ).pk
        for index, (key, name, category, price) in enumerate(
            [
                ("widget", "Widget", "tools", "10.00"),
                ("gadget", "Gadget", "tools", "25.50"),
                ("book", "Book", "media", "7.25"),
                ("shirt", "100% cotton_shirt", "apparel", "19.99"),
            ]
        )
    }
    rows = [
        ("o1", "ann", "paid", "2024-01-05", None, "120.00"),
        ("o2", "ann", "shipped", "2024-01-20", date(2024, 1, 22), "35.50"),
        ("o3", "bob", "paid", "2024-01-11", None, "150.00"),
        ("o4", "bob", "shipped", "2024-02-03", date(2024, 2, 5), "40.00"),
        ("o5", "cid", "paid", "2024-02-14", None, "60.25"),
        ("o6", "cid", "cancelled", "2024-02-15", None, "500.00"),
        ("o7", "dee", "pending", "2024-03-01", None, "80.00"),
        ("o8", "dee", "paid", "2024-03-09", None, "210.00"),
        ("o9", "ann", "shipped", "2024-03-18", date(2024, 3, 19), "17.00"),
        ("o10", "cid", "shipped", "2024-03-25", date(2024, 3, 27), "99.99"),
    ]
    orders = {}
    for key, customer, status, day, shipped_on, total in rows:
        orders[key] = Order.objects.create(
            tenant_id=1,
            customer_id=customers[customer],
            status=status,
            ordered_at=_at(day),
            shipped_on=shipped_on,
            total=Decimal(total),
        ).pk
    for index, order_key in enumerate(orders):
        product_key = list(products)[index % len(products)]
        OrderItem.objects.create(
            tenant_id=1,
            order_id=orders[order_key],
            product_id=products[product_key],
            quantity=index + 1,
            unit_price=Decimal("10.00"),
        )
    return Shop(customers=customers, products=products, orders=orders)


@pytest.fixture
def canary(db: None) -> None:
    """A table holding a secret that no configuration exposes; no request may ever read it."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {CANARY_TABLE} (id integer PRIMARY KEY, secret varchar(100))")
        cursor.execute(f"INSERT INTO {CANARY_TABLE} VALUES (1, %s)", [CANARY_SECRET])
    # No teardown: the test transaction is rolled back (DDL included, SQLite and PostgreSQL).


def body_text(response: Any) -> str:
    """The response body as text (for "never contains" assertions)."""
    return bytes(response.content).decode("utf-8", errors="replace")


def definition(**overrides: Any) -> dict[str, Any]:
    """A small valid definition over ``shop_order`` (overridable per key)."""
    base: dict[str, Any] = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [
            {"table_id": "o", "column": "id"},
            {"table_id": "o", "column": "status"},
            {"table_id": "o", "column": "total"},
        ],
        "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
    }
    base.update(overrides)
    return base


#: ``(method, path, payload)`` of every endpoint that reads the analytics database: each answers
#: 200 to an authenticated caller with the ``shop`` fixture's tables exposed.
DATABASE_CALLS: list[tuple[str, str, object]] = [
    ("get", "schema", None),
    ("get", "tables", None),
    ("get", "tables/shop_order", None),
    ("get", "tables/shop_order/columns/status/values", None),
    ("post", "query/validate", definition()),
    ("post", "query/sql", definition()),
    ("post", "query/execute", {"query": definition()}),
    ("post", "query/preview", {"query": definition()}),
    ("post", "query/explain", {"query": definition()}),
]
#: :data:`DATABASE_CALLS` and the other endpoints an authenticated caller may read.
AUTHENTICATED_CALLS: list[tuple[str, str, object]] = [
    *DATABASE_CALLS,
    ("get", "saved-queries", None),
    ("get", "openapi", None),
    ("get", "docs", None),
]


@pytest.fixture
def counters(settings: Any) -> str:
    """A private counter cache for this test (never flush a shared cache)."""
    alias = "api_ratelimit"
    settings.CACHES = {
        **settings.CACHES,
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"api-ratelimit-{uuid.uuid4().hex}",
        },
    }
    settings.RATELIMIT_USE_CACHE = alias
    return alias


def add_second_tenant() -> None:
    """Tenant 2: one customer (Zed, Oslo) with two orders ("refunded" and "paid", 5.00 each)."""
    zed = Customer.objects.create(
        tenant_id=2,
        name="Zed",
        email="zed@example.com",
        city="Oslo",
        country="NO",
        created_at=datetime(2023, 1, 1, tzinfo=UTC),
    )
    for status in ("refunded", "paid"):
        Order.objects.create(
            tenant_id=2,
            customer=zed,
            status=status,
            ordered_at=datetime(2024, 2, 1, tzinfo=UTC),
            total=Decimal("5.00"),
        )
