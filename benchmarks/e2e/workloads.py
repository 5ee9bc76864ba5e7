"""The measured requests: query definitions and GET paths (issue #7's workload)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Workload:
    """One measured request. ``definition`` goes through the query API; ``path`` is a GET."""

    name: str
    description: str
    definition: dict[str, Any] | None = None
    path: str | None = None
    # For a GET answered through the query engine: the equivalent definition, whose compiled SQL
    # (from query/sql) is the raw side; the GET itself is then timed as a cached request.
    raw_definition: dict[str, Any] | None = None
    #: Repetitions relative to --repeat: more for the 10,000-row listing, whose ratio is the one
    #: closest to its target (its raw time has a long tail), fewer for the 100,000-row one.
    repeat_scale: float = 1.0
    #: How the request authenticates: ``"default"`` (the run's ``--auth``: a bearer token unless
    #: told otherwise), ``"session"`` (session cookie + CSRF token) or ``"basic"`` (HTTP Basic).
    auth: str = "default"


def _col(table: str, column: str, **extra: Any) -> dict[str, Any]:
    return {"table_id": table, "column": column, **extra}


ORDERS_JOIN_CUSTOMERS = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
}
PAID = {"table_id": "o", "column": "status", "operator": "in_", "value": ["paid", "shipped"]}
LISTING_COLUMNS = [
    _col("o", name) for name in ("id", "customer_id", "status", "ordered_at", "shipped_on", "total")
]

WORKLOADS = (
    Workload(
        "monthly_revenue",
        "revenue and order count per month (date_trunc) over orders JOIN customers, paid/shipped",
        definition={
            **ORDERS_JOIN_CUSTOMERS,
            "columns": [
                _col("o", "ordered_at", date_trunc="month", alias="month"),
                _col("o", "total", aggregation="sum", alias="revenue"),
                _col("o", "id", aggregation="count", alias="orders"),
            ],
            "filters": [PAID],
            "order_by": [{"alias": "month", "direction": "ASC"}],
        },
    ),
    Workload(
        "top10_customers",
        "top 10 active customers by revenue since 2025-01-01 in 5 countries (JOIN, filters)",
        definition={
            **ORDERS_JOIN_CUSTOMERS,
            "columns": [
                _col("c", "id"),
                _col("c", "name"),
                _col("c", "country"),
                _col("o", "total", aggregation="sum", alias="revenue"),
                _col("o", "id", aggregation="count", alias="orders"),
            ],
            "filters": [
                PAID,
                {"table_id": "c", "column": "is_active", "operator": "eq", "value": True},
                {
                    "table_id": "c",
                    "column": "country",
                    "operator": "in_",
                    "value": ["US", "GB", "DE", "FR", "JP"],
                },
                {"table_id": "o", "column": "ordered_at", "operator": "gte", "value": "2025-01-01"},
            ],
            "order_by": [{"alias": "revenue", "direction": "DESC"}],
            "limit": 10,
        },
    ),
    Workload(
        "listing_10k",
        "10,000-row raw listing of orders (6 columns, ORDER BY id)",
        definition={
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": LISTING_COLUMNS,
            "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
            "limit": 10_000,
        },
        repeat_scale=2.0,
    ),
    Workload(
        "listing_100k",
        "100,000-row raw listing of orders (6 columns; PRISMIQ_MAX_ROWS raised to 100000)",
        definition={
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": LISTING_COLUMNS,
            "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
            "limit": 100_000,
        },
        repeat_scale=0.6,
    ),
    Workload(
        "count",
        "single-row COUNT(*) of orders",
        definition={
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [_col("o", "*", aggregation="count", alias="orders")],
        },
    ),
    Workload(
        "order_by_id",
        "one order by primary key (6 columns): raw time well under 1 ms, so the fixed cost shows",
        definition={
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": LISTING_COLUMNS,
            "filters": [{**_col("o", "id"), "operator": "eq", "value": 123_456}],
        },
    ),
    Workload(
        "categories",
        "products per category with average price (5,000-row table, 10 groups)",
        definition={
            "tables": [{"id": "p", "name": "shop_product"}],
            "columns": [
                _col("p", "category"),
                _col("p", "id", aggregation="count", alias="products"),
                _col("p", "price", aggregation="avg", alias="avg_price"),
            ],
            "order_by": [{"alias": "products", "direction": "DESC"}],
        },
    ),
    Workload(
        "column_values",
        "GET tables/shop_customer/columns/city/values (distinct values, limit 100)",
        path="tables/shop_customer/columns/city/values",
        raw_definition={
            "tables": [{"id": "t", "name": "shop_customer"}],
            "columns": [_col("t", "city")],
            "filters": [{**_col("t", "city"), "operator": "is_not_null", "value": None}],
            "group_by": [_col("t", "city")],
            "order_by": [{**_col("t", "city"), "direction": "ASC"}],
            "limit": 100,
        },
    ),
    Workload("schema", "GET schema (4 exposed tables, cached catalog)", path="schema"),
    Workload("tables", "GET tables (authenticated like every row above)", path="tables"),
    Workload(
        "tables_session",
        "GET tables with the session cookie (session from the cache, user from the database)",
        path="tables",
        auth="session",
    ),
    Workload(
        "tables_basic_auth",
        "GET tables with HTTP Basic auth: Django hashes the password on every request",
        path="tables",
        auth="basic",
    ),
    Workload(
        "health_live", "GET health/live (floor: Django + gunicorn, no database)", path="health/live"
    ),
)
