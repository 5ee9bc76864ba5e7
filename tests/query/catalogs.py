"""Shared test catalog: the demo shop schema as the core sees it (no Django involved)."""

from __future__ import annotations

from prismiq_django.query import Catalog, Column, Relationship, RowScope, Table


def _col(name: str, data_type: str, type_: str, **kw: object) -> Column:
    return Column(name=name, data_type=data_type, type=type_, **kw)  # type: ignore[arg-type]


CUSTOMER = Table(
    "shop_customer",
    (
        _col("id", "bigint", "integer", is_primary_key=True, is_nullable=False),
        _col("tenant_id", "integer", "integer"),
        _col("name", "varchar", "string"),
        _col("email", "varchar", "string"),
        _col("city", "varchar", "string"),
        _col("country", "varchar", "string"),
        _col("is_active", "boolean", "boolean"),
        _col("created_at", "timestamp with time zone", "datetime"),
    ),
)
PRODUCT = Table(
    "shop_product",
    (
        _col("id", "bigint", "integer", is_primary_key=True, is_nullable=False),
        _col("tenant_id", "integer", "integer"),
        _col("name", "varchar", "string"),
        _col("category", "varchar", "string"),
        _col("price", "numeric", "decimal"),
        _col("sku", "uuid", "uuid"),
        _col("attributes", "jsonb", "json"),
    ),
)
ORDER = Table(
    "shop_order",
    (
        _col("id", "bigint", "integer", is_primary_key=True, is_nullable=False),
        _col("tenant_id", "integer", "integer"),
        _col("customer_id", "bigint", "integer"),
        _col("status", "varchar", "string"),
        _col("ordered_at", "timestamp with time zone", "datetime"),
        _col("shipped_on", "date", "date"),
        _col("total", "numeric", "decimal"),
    ),
)
ITEM = Table(
    "shop_orderitem",
    (
        _col("id", "bigint", "integer", is_primary_key=True, is_nullable=False),
        _col("tenant_id", "integer", "integer"),
        _col("order_id", "bigint", "integer"),
        _col("product_id", "bigint", "integer"),
        _col("quantity", "integer", "integer"),
        _col("unit_price", "numeric", "decimal"),
    ),
)
RELATIONSHIPS = (
    Relationship("shop_order", "customer_id", "shop_customer", "id"),
    Relationship("shop_orderitem", "order_id", "shop_order", "id"),
    Relationship("shop_orderitem", "product_id", "shop_product", "id"),
)

SHOP = Catalog.build([CUSTOMER, PRODUCT, ORDER, ITEM], RELATIONSHIPS)


def tenant_catalog(tenant: int = 7) -> Catalog:
    """The shop catalog with ``tenant_column`` set on every table and a scope for ``tenant``."""
    tables = [
        Table(t.name, t.columns, tenant_column="tenant_id")
        for t in (CUSTOMER, PRODUCT, ORDER, ITEM)
    ]
    scopes = [RowScope(t.name, "tenant_id", (tenant,)) for t in tables]
    return Catalog.build(tables, RELATIONSHIPS, scopes)
