"""The offline backend against a table of questions over the demo schema, each with the query
definition it must produce (reviewed by hand); every expected definition compiles."""

from __future__ import annotations

from typing import Any

import pytest

from prismiq_django.assistant.base import AssistantError, Question
from prismiq_django.assistant.offline import OfflineBackend
from prismiq_django.query import build
from tests.assistant.questions_support import SAMPLES
from tests.query.catalogs import SHOP

QUESTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "total revenue by month",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"}
            ],
            "time_series": {"table_id": "t0", "date_column": "ordered_at", "interval": "month"},
        },
    ),
    (
        "number of orders by status",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "status"},
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"},
            ],
            "order_by": [{"alias": "count", "direction": "DESC"}],
        },
    ),
    (
        "top 10 customers by total",
        {
            "tables": [{"id": "t0", "name": "shop_order"}, {"id": "t1", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t1", "column": "name"},
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"},
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "customer_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "order_by": [{"alias": "sum_total", "direction": "DESC"}],
            "limit": 10,
        },
    ),
    (
        "top 10 customers by revenue",
        {
            "tables": [{"id": "t0", "name": "shop_order"}, {"id": "t1", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t1", "column": "name"},
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"},
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "customer_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "order_by": [{"alias": "sum_total", "direction": "DESC"}],
            "limit": 10,
        },
    ),
    (
        "number of orders by customer",
        {
            "tables": [{"id": "t0", "name": "shop_order"}, {"id": "t1", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t1", "column": "name"},
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"},
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "customer_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "order_by": [{"alias": "count", "direction": "DESC"}],
        },
    ),
    (
        "how many customers",
        {
            "tables": [{"id": "t0", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"}
            ],
        },
    ),
    (
        "How many products are there?",
        {
            "tables": [{"id": "t0", "name": "shop_product"}],
            "columns": [
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"}
            ],
        },
    ),
    (
        "average price by category",
        {
            "tables": [{"id": "t0", "name": "shop_product"}],
            "columns": [
                {"table_id": "t0", "column": "category"},
                {"table_id": "t0", "column": "price", "aggregation": "avg", "alias": "avg_price"},
            ],
            "order_by": [{"alias": "avg_price", "direction": "DESC"}],
        },
    ),
    (
        "number of orders per week in the last 30 days",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"}
            ],
            "filters": [
                {
                    "table_id": "t0",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"preset": "last_30_days"},
                }
            ],
            "time_series": {"table_id": "t0", "date_column": "ordered_at", "interval": "week"},
        },
    ),
    (
        "paid orders by month",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"}
            ],
            "filters": [{"table_id": "t0", "column": "status", "operator": "eq", "value": "paid"}],
            "time_series": {"table_id": "t0", "date_column": "ordered_at", "interval": "month"},
        },
    ),
    (
        "total sales by country",
        {
            "tables": [{"id": "t0", "name": "shop_order"}, {"id": "t1", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t1", "column": "country"},
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"},
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "customer_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "order_by": [{"alias": "sum_total", "direction": "DESC"}],
        },
    ),
    (
        "top 5 products by quantity",
        {
            "tables": [
                {"id": "t0", "name": "shop_orderitem"},
                {"id": "t1", "name": "shop_product"},
            ],
            "columns": [
                {"table_id": "t1", "column": "name"},
                {
                    "table_id": "t0",
                    "column": "quantity",
                    "aggregation": "sum",
                    "alias": "sum_quantity",
                },
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "product_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "order_by": [{"alias": "sum_quantity", "direction": "DESC"}],
            "limit": 5,
        },
    ),
    (
        "number of orders in Berlin",
        {
            "tables": [{"id": "t0", "name": "shop_order"}, {"id": "t1", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"}
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "customer_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "filters": [{"table_id": "t1", "column": "city", "operator": "eq", "value": "Berlin"}],
        },
    ),
    (
        "max total by status",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "status"},
                {"table_id": "t0", "column": "total", "aggregation": "max", "alias": "max_total"},
            ],
            "order_by": [{"alias": "max_total", "direction": "DESC"}],
        },
    ),
    (
        "min price by category",
        {
            "tables": [{"id": "t0", "name": "shop_product"}],
            "columns": [
                {"table_id": "t0", "column": "category"},
                {"table_id": "t0", "column": "price", "aggregation": "min", "alias": "min_price"},
            ],
            "order_by": [{"alias": "min_price", "direction": "DESC"}],
        },
    ),
    (
        "orders by status",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "status"},
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"},
            ],
            "order_by": [{"alias": "count", "direction": "DESC"}],
        },
    ),
    (
        "total revenue in 2024",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"}
            ],
            "filters": [
                {
                    "table_id": "t0",
                    "column": "ordered_at",
                    "operator": "gte",
                    "value": "2024-01-01",
                },
                {"table_id": "t0", "column": "ordered_at", "operator": "lt", "value": "2025-01-01"},
            ],
        },
    ),
    (
        "monthly revenue",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"}
            ],
            "time_series": {"table_id": "t0", "date_column": "ordered_at", "interval": "month"},
        },
    ),
    (
        "daily number of orders",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"}
            ],
            "time_series": {"table_id": "t0", "date_column": "ordered_at", "interval": "day"},
        },
    ),
    (
        "number of distinct customers by status",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "status"},
                {
                    "table_id": "t0",
                    "column": "customer_id",
                    "aggregation": "count_distinct",
                    "alias": "count_distinct_customer_id",
                },
            ],
            "order_by": [{"alias": "count_distinct_customer_id", "direction": "DESC"}],
        },
    ),
    (
        "total revenue where status is paid",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"}
            ],
            "filters": [{"table_id": "t0", "column": "status", "operator": "eq", "value": "paid"}],
        },
    ),
    (
        "number of orders with country FR by city",
        {
            "tables": [{"id": "t0", "name": "shop_order"}, {"id": "t1", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t1", "column": "city"},
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"},
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "customer_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "filters": [{"table_id": "t1", "column": "country", "operator": "eq", "value": "FR"}],
            "order_by": [{"alias": "count", "direction": "DESC"}],
        },
    ),
    (
        "top 3 cities by number of customers",
        {
            "tables": [{"id": "t0", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t0", "column": "city"},
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"},
            ],
            "order_by": [{"alias": "count", "direction": "DESC"}],
            "limit": 3,
        },
    ),
    (
        "bottom 3 products by price",
        {
            "tables": [{"id": "t0", "name": "shop_product"}],
            "columns": [
                {"table_id": "t0", "column": "name"},
                {"table_id": "t0", "column": "price", "aggregation": "sum", "alias": "sum_price"},
            ],
            "order_by": [{"alias": "sum_price", "direction": "ASC"}],
            "limit": 3,
        },
    ),
    (
        "average order total per quarter",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "total", "aggregation": "avg", "alias": "avg_total"}
            ],
            "time_series": {"table_id": "t0", "date_column": "ordered_at", "interval": "quarter"},
        },
    ),
    (
        "sum of quantity by product",
        {
            "tables": [
                {"id": "t0", "name": "shop_orderitem"},
                {"id": "t1", "name": "shop_product"},
            ],
            "columns": [
                {"table_id": "t1", "column": "name"},
                {
                    "table_id": "t0",
                    "column": "quantity",
                    "aggregation": "sum",
                    "alias": "sum_quantity",
                },
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "product_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "order_by": [{"alias": "sum_quantity", "direction": "DESC"}],
        },
    ),
    (
        "number of customers by country and city",
        {
            "tables": [{"id": "t0", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t0", "column": "country"},
                {"table_id": "t0", "column": "city"},
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"},
            ],
            "order_by": [{"alias": "count", "direction": "DESC"}],
        },
    ),
    (
        "total revenue this month",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"}
            ],
            "filters": [
                {
                    "table_id": "t0",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"preset": "this_month"},
                }
            ],
        },
    ),
    (
        "revenue by year in the last 2 years",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"}
            ],
            "filters": [
                {
                    "table_id": "t0",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"last": 2, "unit": "year"},
                }
            ],
            "time_series": {"table_id": "t0", "date_column": "ordered_at", "interval": "year"},
        },
    ),
    (
        "count of shipped orders",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"}
            ],
            "filters": [
                {"table_id": "t0", "column": "status", "operator": "eq", "value": "shipped"}
            ],
        },
    ),
    (
        "number of orders per day last 7 days",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"}
            ],
            "filters": [
                {
                    "table_id": "t0",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"preset": "last_7_days"},
                }
            ],
            "time_series": {"table_id": "t0", "date_column": "ordered_at", "interval": "day"},
        },
    ),
    (
        "highest unit price by product",
        {
            "tables": [{"id": "t0", "name": "shop_product"}],
            "columns": [
                {"table_id": "t0", "column": "name"},
                {"table_id": "t0", "column": "price", "aggregation": "max", "alias": "max_price"},
            ],
            "order_by": [{"alias": "max_price", "direction": "DESC"}],
        },
    ),
    (
        "customers by country",
        {
            "tables": [{"id": "t0", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t0", "column": "country"},
                {"table_id": "t0", "column": "*", "aggregation": "count", "alias": "count"},
            ],
            "order_by": [{"alias": "count", "direction": "DESC"}],
        },
    ),
    (
        "total revenue by customer country",
        {
            "tables": [{"id": "t0", "name": "shop_order"}, {"id": "t1", "name": "shop_customer"}],
            "columns": [
                {"table_id": "t1", "column": "country"},
                {"table_id": "t0", "column": "total", "aggregation": "sum", "alias": "sum_total"},
            ],
            "joins": [
                {
                    "from_table_id": "t0",
                    "from_column": "customer_id",
                    "to_table_id": "t1",
                    "to_column": "id",
                    "join_type": "INNER",
                }
            ],
            "order_by": [{"alias": "sum_total", "direction": "DESC"}],
        },
    ),
    (
        "average total of paid orders",
        {
            "tables": [{"id": "t0", "name": "shop_order"}],
            "columns": [
                {"table_id": "t0", "column": "total", "aggregation": "avg", "alias": "avg_total"}
            ],
            "filters": [{"table_id": "t0", "column": "status", "operator": "eq", "value": "paid"}],
        },
    ),
]


def test_the_table_is_large_enough() -> None:
    assert len(QUESTIONS) >= 30


@pytest.mark.parametrize(("question", "expected"), QUESTIONS, ids=[q for q, _ in QUESTIONS])
def test_question_gives_the_expected_definition(question: str, expected: dict[str, Any]) -> None:
    answer = OfflineBackend().answer(Question(question, SHOP, samples=SAMPLES))
    assert answer.query == expected
    assert answer.explanation
    build(answer.query, SHOP, "postgresql")  # valid against the catalog


@pytest.mark.parametrize(
    "question",
    [
        "total api token by customer",  # a hidden column has no name
        "number of canaries",  # nor an unexposed table
        "average status by city",  # not a number
        "number of orders in Atlantis",  # a value no column holds
        "number of orders by colour",
        "",
    ],
)
def test_what_it_cannot_place_is_refused_not_guessed(question: str) -> None:
    with pytest.raises(AssistantError):
        OfflineBackend().answer(Question(question, SHOP, samples=SAMPLES))


def test_values_are_only_found_through_allowed_samples() -> None:
    with pytest.raises(AssistantError):
        OfflineBackend().answer(Question("number of orders in Berlin", SHOP))
    answer = OfflineBackend().answer(Question("paid orders by month", SHOP))
    assert "filters" not in answer.query  # without samples "paid" names nothing


def test_display_names_are_understood() -> None:
    from prismiq_django.query import Catalog, Column, Table

    table = Table(
        "crm_deal",
        (
            Column("id", "bigint", "integer", is_primary_key=True),
            Column("amt", "numeric", "decimal", display_name="Deal value"),
            Column("stage_code", "varchar", "string", display_name="Pipeline stage"),
        ),
        display_name="Opportunity",
    )
    answer = OfflineBackend().answer(
        Question("total deal value by pipeline stage", Catalog.build([table]))
    )
    assert answer.query["columns"] == [
        {"table_id": "t0", "column": "stage_code"},
        {"table_id": "t0", "column": "amt", "aggregation": "sum", "alias": "sum_amt"},
    ]
