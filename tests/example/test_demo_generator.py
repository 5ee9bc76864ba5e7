"""The demo row generator alone (no database): repeatable, and the same data for every backend."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from example_project.shop.management.commands.load_demo_data import (
    COLUMNS,
    DemoGenerator,
    DemoPlan,
    Encoding,
    Row,
)
from example_project.shop.models import Customer, Order, OrderItem, Product

PLAN = DemoPlan(orders=500, customers=50, products=12, tenants=4, end_date=date(2025, 3, 31))


def _rows(plan: DemoPlan, vendor: str, chunk: int = 64) -> dict[str, list[Row]]:
    generator = DemoGenerator(plan, Encoding.for_vendor(vendor))
    rows: dict[str, list[Row]] = {
        "customers": generator.customers(),
        "products": generator.products(),
        "orders": [],
        "items": [],
    }
    for orders, items in generator.order_chunks(chunk):
        rows["orders"] += orders
        rows["items"] += items
    return rows


def _normalized(rows: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Undo the per-backend encodings: timestamps' zone suffix, booleans and UUID spelling."""
    flags = {"t": True, "f": False, 1: True, 0: False}
    customers = [
        (*row[:6], flags[row[6]], row[7].removesuffix("+00"), row[8]) for row in rows["customers"]
    ]
    products = [(*row[:5], uuid.UUID(row[5]), row[6]) for row in rows["products"]]
    orders = [(*row[:4], row[4].removesuffix("+00"), *row[5:]) for row in rows["orders"]]
    return {"customers": customers, "products": products, "orders": orders, "items": rows["items"]}


def test_rows_have_one_value_per_model_column() -> None:
    rows = _rows(PLAN, "sqlite")
    widths = {
        "customers": len(COLUMNS[Customer]),
        "products": len(COLUMNS[Product]),
        "orders": len(COLUMNS[Order]),
        "items": len(COLUMNS[OrderItem]),
    }
    for name, width in widths.items():
        assert rows[name]
        assert {len(row) for row in rows[name]} == {width}


def test_the_same_plan_gives_the_same_rows_whatever_the_chunk_size() -> None:
    assert _rows(PLAN, "postgresql", chunk=7) == _rows(PLAN, "postgresql", chunk=500)


def test_postgresql_and_sqlite_get_the_same_data() -> None:
    postgres, sqlite = _rows(PLAN, "postgresql"), _rows(PLAN, "sqlite")
    assert postgres != sqlite  # the encodings do differ ...
    assert _normalized(postgres) == _normalized(sqlite)  # ... and only the encodings
    assert postgres["customers"][0][7].endswith("+00")
    assert len(sqlite["products"][0][5]) == 32


def test_every_value_is_copy_safe_text() -> None:
    """COPY's text format would misread tabs, newlines or backslashes in generated text."""
    rows = _rows(PLAN, "postgresql")
    for table in rows.values():
        for row in table:
            for value in row:
                if isinstance(value, str):
                    assert not set(value) & {"\t", "\n", "\r", "\\"}, value


def test_ids_are_dense_and_references_valid() -> None:
    rows = _rows(PLAN, "sqlite")
    assert [row[0] for row in rows["orders"]] == list(range(1, 501))
    assert [row[0] for row in rows["items"]] == list(range(1, len(rows["items"]) + 1))
    customer_tenant = {row[0]: row[1] for row in rows["customers"]}
    product_tenant = {row[0]: row[1] for row in rows["products"]}
    order_tenant = {row[0]: row[1] for row in rows["orders"]}
    for order in rows["orders"]:
        assert customer_tenant[order[2]] == order[1]
    for item in rows["items"]:
        assert order_tenant[item[2]] == item[1] == product_tenant[item[3]]
    for product in rows["products"]:
        attributes = json.loads(product[6])
        assert attributes["color"]
        assert isinstance(attributes["in_stock"], bool)


def test_one_item_per_order_when_asked() -> None:
    rows = _rows(DemoPlan(orders=300, customers=20, products=5, items_per_order=1), "sqlite")
    assert len(rows["items"]) == 300


def test_a_single_day_has_no_shipped_orders_after_it() -> None:
    plan = DemoPlan(orders=200, customers=20, products=5, days=1, end_date=date(2025, 1, 31))
    rows = _rows(plan, "sqlite")
    assert {row[4][:10] for row in rows["orders"]} == {"2025-01-31"}
    assert all(row[5] is None for row in rows["orders"])
    assert "shipped" not in {row[3] for row in rows["orders"]}


def test_order_chunks_need_customers_and_products_first() -> None:
    generator = DemoGenerator(PLAN, Encoding.for_vendor("sqlite"))
    with pytest.raises(RuntimeError, match="before order_chunks"):
        next(generator.order_chunks(10))
