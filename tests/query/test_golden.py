"""Golden table: every operator, aggregation, join type and bucket compiles to reviewed SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from prismiq_django.query import Catalog, build
from tests.query.catalogs import SHOP, tenant_catalog
from tests.query.golden_cases import GOLDEN

NOW = datetime(2024, 10, 2, 15, 0, tzinfo=UTC)


def _catalog(name: str) -> Catalog:
    return SHOP if name == "SHOP" else tenant_catalog(7)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
@pytest.mark.parametrize("case", GOLDEN, ids=[case["name"] for case in GOLDEN])
def test_golden(case: dict[str, Any], dialect: str) -> None:
    tz = UTC if case["tz"] == "UTC" else ZoneInfo(case["tz"])
    compiled = build(case["definition"], _catalog(case["catalog"]), dialect, now=NOW, tz=tz)
    assert (compiled.sql, compiled.params) == case[dialect]
    assert compiled.sql.count("%s") == len(compiled.params)


def test_golden_covers_every_operator_aggregation_join_and_bucket() -> None:
    from prismiq_django.query.ast import AGGREGATIONS, JOIN_TYPES, OPERATORS, TRUNC_UNITS

    operators: set[str] = set()
    aggregations: set[str] = set()
    joins: set[str] = set()
    units: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "operator" in node:
                operators.add({"in_": "in"}.get(node["operator"], node["operator"]))
            if node.get("aggregation"):
                aggregations.add(node["aggregation"])
            if "join_type" in node:
                joins.add(node["join_type"])
            for key in ("date_trunc", "interval"):
                if key in node:
                    units.add(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for case in GOLDEN:
        walk(case["definition"])
    assert operators == OPERATORS
    assert aggregations == AGGREGATIONS
    assert joins == JOIN_TYPES
    assert units == TRUNC_UNITS


def test_compiled_metadata() -> None:
    compiled = build(
        {
            "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                }
            ],
            "columns": [
                {"table_id": "c", "column": "name", "alias": "Kunde"},
                {"table_id": "o", "column": "*", "aggregation": "count"},
            ],
            "limit": 5,
        },
        SHOP,
        "postgresql",
    )
    assert compiled.tables == frozenset({"shop_order", "shop_customer"})
    assert compiled.columns == ("Kunde", "count")
    assert compiled.limit == 5
    assert compiled.params[-1] == 6


def test_explain_sql() -> None:
    from prismiq_django.query import get_dialect

    assert get_dialect("postgresql").explain_sql("SELECT 1", analyze=False) == (
        "EXPLAIN (FORMAT JSON) SELECT 1"
    )
    assert get_dialect("postgresql").explain_sql("SELECT 1", analyze=True) == (
        "EXPLAIN (FORMAT JSON, ANALYZE) SELECT 1"
    )
    assert get_dialect("sqlite").explain_sql("SELECT 1", analyze=True) == (
        "EXPLAIN QUERY PLAN SELECT 1"
    )


def test_params_follow_text_order_with_scopes_in_on_and_where() -> None:
    from prismiq_django.query import Catalog, RowScope, Table
    from tests.query.catalogs import CUSTOMER, ITEM, ORDER, RELATIONSHIPS

    tables = [Table(t.name, t.columns, tenant_column="tenant_id") for t in (CUSTOMER, ORDER, ITEM)]
    scopes = [
        RowScope("shop_customer", "tenant_id", (101,)),
        RowScope("shop_order", "tenant_id", (102, 103)),
        RowScope("shop_orderitem", "tenant_id", (104,)),
    ]
    catalog = Catalog.build(tables, RELATIONSHIPS, scopes)
    compiled = build(
        {
            "tables": [
                {"id": "o", "name": "shop_order"},
                {"id": "c", "name": "shop_customer"},
                {"id": "i", "name": "shop_orderitem"},
            ],
            "joins": [
                {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c",
                 "to_column": "id", "join_type": "LEFT"},
                {"from_table_id": "i", "from_column": "order_id", "to_table_id": "o",
                 "to_column": "id"},
            ],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "c", "column": "name", "operator": "eq", "value": "on-c"},
                {"table_id": "i", "column": "quantity", "operator": "eq", "value": 105},
                {"table_id": "o", "column": "status", "operator": "eq", "value": "where-o"},
            ],
            "limit": 7,
        },
        catalog,
        "postgresql",
    )  # fmt: skip
    assert compiled.sql == (
        'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" '
        'LEFT OUTER JOIN "shop_customer" "t1" ON "t0"."customer_id" = "t1"."id" '
        'AND "t1"."tenant_id" = %s AND "t1"."name" = %s '
        'INNER JOIN "shop_orderitem" "t2" ON "t0"."id" = "t2"."order_id" '
        'WHERE "t0"."tenant_id" IN (%s, %s) AND "t2"."tenant_id" = %s '
        'AND "t2"."quantity" = %s AND "t0"."status" = %s LIMIT %s'
    )
    assert compiled.params == (101, "on-c", 102, 103, 104, 105, "where-o", 8)
