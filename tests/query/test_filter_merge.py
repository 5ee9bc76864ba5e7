"""The filter merge, pure: which nodes it adds, and every refusal with its path (no database).

The same cases run against real SQLite and PostgreSQL, compared with hand-written SQL, in
tests/services/test_filter_merge_sql.py.
"""

from __future__ import annotations

import copy
from datetime import UTC
from typing import Any

import pytest

from prismiq_django.query import QueryValidationError, parse
from prismiq_django.query.filter_decl import (
    DeclaredFilter,
    FilterValue,
    parse_declarations,
    parse_values,
)
from prismiq_django.query.filter_merge import merge_filters
from tests.query.catalogs import SHOP

ORDERS: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
    "columns": [{"table_id": "o", "column": "id"}],
    "filters": [{"table_id": "o", "column": "total", "operator": "gt", "value": 0}],
}


def merge(
    filters: list[dict[str, Any]],
    values: list[dict[str, Any]] | None = None,
    query: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The nodes the merge appends to ``query`` (``ORDERS`` by default)."""
    base = ORDERS if query is None else query
    declared = parse_declarations(filters)
    merged = merge_filters(base, SHOP, declared, parse_values(values, declared), tz=UTC)
    return merged["filters"][len(base.get("filters", [])) :]


def node(table_id: str, column: str, operator: str, value: object) -> dict[str, Any]:
    return {"table_id": table_id, "column": column, "operator": operator, "value": value}


def errors_of(exc: pytest.ExceptionInfo[QueryValidationError]) -> list[tuple[str, str]]:
    return [(e.code, e.path) for e in exc.value.errors]


CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]] | None, list[dict[str, Any]]]] = [
    (
        "select -> eq on the first table with the field",
        [{"id": "s", "type": "select", "field": "status"}],
        [{"filter_id": "s", "value": "paid"}],
        [node("o", "status", "eq", "paid")],
    ),
    (
        "table null: the first table that has the column (shop_customer)",
        [{"id": "k", "type": "select", "field": "country", "table": None}],
        [{"filter_id": "k", "value": "DE"}],
        [node("c", "country", "eq", "DE")],
    ),
    (
        "table null and both tables have the column: only the first",
        [{"id": "t", "type": "select", "field": "tenant_id"}],
        [{"filter_id": "t", "value": 1}],
        [node("o", "tenant_id", "eq", 1)],
    ),
    (
        "table named: that table, even when another comes first",
        [{"id": "t", "type": "select", "field": "tenant_id", "table": "shop_customer"}],
        [{"filter_id": "t", "value": 1}],
        [node("c", "tenant_id", "eq", 1)],
    ),
    (
        "table named but not in the query: does not apply",
        [{"id": "p", "type": "select", "field": "category", "table": "shop_product"}],
        [{"filter_id": "p", "value": "tools"}],
        [],
    ),
    (
        "field nowhere in the query: does not apply",
        [{"id": "p", "type": "select", "field": "category"}],
        [{"filter_id": "p", "value": "tools"}],
        [],
    ),
    (
        "multi_select -> in_",
        [{"id": "m", "type": "multi_select", "field": "status"}],
        [{"filter_id": "m", "value": ["paid", "shipped"]}],
        [node("o", "status", "in_", ["paid", "shipped"])],
    ),
    (
        "multi_select empty list: off",
        [{"id": "m", "type": "multi_select", "field": "status", "default_value": ["paid"]}],
        [{"filter_id": "m", "value": []}],
        [],
    ),
    (
        "text -> contains; empty text: off",
        [
            {"id": "q", "type": "text", "field": "name"},
            {"id": "r", "type": "text", "field": "city"},
        ],
        [{"filter_id": "q", "value": "an"}, {"filter_id": "r", "value": ""}],
        [node("c", "name", "contains", "an")],
    ),
    (
        "number_range -> gte/lte; a null bound is none",
        [{"id": "n", "type": "number_range", "field": "total"}],
        [{"filter_id": "n", "value": {"min": 50, "max": None}}],
        [node("o", "total", "gte", 50)],
    ),
    (
        "number_range both bounds",
        [{"id": "n", "type": "number_range", "field": "total"}],
        [{"filter_id": "n", "value": {"min": "10.5", "max": 99}}],
        [node("o", "total", "gte", "10.5"), node("o", "total", "lte", 99)],
    ),
    (
        "date_range: start included, the end day included whole (lt the next day)",
        [{"id": "d", "type": "date_range", "field": "ordered_at"}],
        [{"filter_id": "d", "value": {"start": "2024-01-01", "end": "2024-01-31"}}],
        [node("o", "ordered_at", "gte", "2024-01-01"), node("o", "ordered_at", "lt", "2024-02-01")],
    ),
    (
        "date_range open start, over a year end and a leap day",
        [{"id": "d", "type": "date_range", "field": "shipped_on"}],
        [{"filter_id": "d", "value": {"end": "2024-02-29"}}],
        [node("o", "shipped_on", "lt", "2024-03-01")],
    ),
    (
        "date_range preset name / {preset} / {last, unit} -> date_relative",
        [
            {"id": "a", "type": "date_range", "field": "ordered_at"},
            {"id": "b", "type": "date_range", "field": "created_at"},
            {"id": "c", "type": "date_range", "field": "shipped_on"},
        ],
        [
            {"filter_id": "a", "value": "last_30_days"},
            {"filter_id": "b", "value": {"preset": "this_year"}},
            {"filter_id": "c", "value": {"last": 3, "unit": "month"}},
        ],
        [
            node("o", "ordered_at", "date_relative", {"preset": "last_30_days"}),
            node("c", "created_at", "date_relative", {"preset": "this_year"}),
            node("o", "shipped_on", "date_relative", {"last": 3, "unit": "month"}),
        ],
    ),
    (
        "no request value: the default",
        [{"id": "s", "type": "select", "field": "status", "default_value": "paid"}],
        None,
        [node("o", "status", "eq", "paid")],
    ),
    (
        "the request's value wins over the default",
        [{"id": "s", "type": "select", "field": "status", "default_value": "paid"}],
        [{"filter_id": "s", "value": "shipped"}],
        [node("o", "status", "eq", "shipped")],
    ),
    (
        "a null request value switches the default off",
        [{"id": "s", "type": "select", "field": "status", "default_value": "paid"}],
        [{"filter_id": "s", "value": None}],
        [],
    ),
    (
        "no value and no default: date_preset",
        [{"id": "d", "type": "date_range", "field": "ordered_at", "date_preset": "last_month"}],
        None,
        [node("o", "ordered_at", "date_relative", {"preset": "last_month"})],
    ),
    (
        "default wins over date_preset",
        [
            {
                "id": "d",
                "type": "date_range",
                "field": "ordered_at",
                "date_preset": "last_month",
                "default_value": {"start": "2024-03-01", "end": None},
            }
        ],
        None,
        [node("o", "ordered_at", "gte", "2024-03-01")],
    ),
    (
        "nothing at all: off",
        [{"id": "s", "type": "select", "field": "status"}],
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    ("name", "filters", "values", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_merge_nodes(
    name: str,
    filters: list[dict[str, Any]],
    values: list[dict[str, Any]] | None,
    expected: list[dict[str, Any]],
) -> None:
    assert merge(filters, values) == expected


def test_merged_query_keeps_existing_filters_and_parses_and_the_input_is_untouched() -> None:
    before = copy.deepcopy(ORDERS)
    declared = parse_declarations([{"id": "s", "type": "select", "field": "status"}])
    merged = merge_filters(ORDERS, SHOP, declared, {"s": FilterValue("paid", "/x")}, tz=UTC)
    assert ORDERS == before
    assert merged["filters"] == [ORDERS["filters"][0], node("o", "status", "eq", "paid")]
    from datetime import datetime

    query = parse(merged, SHOP, now=datetime(2024, 5, 1, tzinfo=UTC), tz=UTC)
    assert len(query.where) == 2


def test_a_named_table_referenced_twice_is_filtered_on_both_references() -> None:
    self_join: dict[str, Any] = {
        "tables": [{"id": "a", "name": "shop_order"}, {"id": "b", "name": "shop_order"}],
        "columns": [{"table_id": "a", "column": "id"}],
    }
    nodes = merge(
        [{"id": "s", "type": "select", "field": "status", "table": "shop_order"}],
        [{"filter_id": "s", "value": "paid"}],
        self_join,
    )
    assert nodes == [node("a", "status", "eq", "paid"), node("b", "status", "eq", "paid")]


def test_query_without_filters_gets_a_list() -> None:
    bare = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "id"}],
    }
    assert merge(
        [{"id": "s", "type": "select", "field": "status"}], [{"filter_id": "s", "value": "x"}], bare
    ) == [node("o", "status", "eq", "x")]


@pytest.mark.parametrize(
    ("filters", "value", "code"),
    [
        ([{"id": "n", "type": "number_range", "field": "total"}], {"min": "ten"}, "invalid_value"),
        (
            [{"id": "n", "type": "number_range", "field": "total"}],
            {"min": "1e400"},
            "invalid_value",
        ),
        (
            [{"id": "s", "type": "select", "field": "customer_id"}],
            "1; DROP TABLE x",
            "invalid_value",
        ),
        ([{"id": "s", "type": "select", "field": "customer_id"}], 2**70, "invalid_value"),
        (
            [{"id": "m", "type": "multi_select", "field": "customer_id"}],
            [1, "two"],
            "invalid_value",
        ),
        ([{"id": "q", "type": "text", "field": "name"}], "nul\x00byte", "invalid_value"),
        (
            [{"id": "d", "type": "date_range", "field": "ordered_at"}],
            {"start": "2024-02-30"},
            "invalid_value",
        ),
        (
            [{"id": "d", "type": "date_range", "field": "ordered_at"}],
            {"end": "9999-12-31"},
            "invalid_value",
        ),
        (
            [{"id": "d", "type": "date_range", "field": "ordered_at"}],
            {"start": "2024-01-01T10:00"},
            "invalid_value",
        ),
        (
            [{"id": "d", "type": "date_range", "field": "ordered_at"}],
            "next_century",
            "invalid_value",
        ),
        (
            [{"id": "d", "type": "date_range", "field": "ordered_at"}],
            {"last": 0, "unit": "day"},
            "invalid_value",
        ),
        (
            [{"id": "d", "type": "date_range", "field": "ordered_at"}],
            {"start": "2024-01-01", "x": 1},
            "invalid_value",
        ),
        ([{"id": "s", "type": "select", "field": "status"}], ["a"], "invalid_value"),
        ([{"id": "s", "type": "select", "field": "status"}], {"a": 1}, "invalid_value"),
        ([{"id": "m", "type": "multi_select", "field": "status"}], "paid", "invalid_value"),
        ([{"id": "m", "type": "multi_select", "field": "status"}], ["x"] * 1001, "too_complex"),
    ],
)
def test_bad_request_values_are_refused_at_their_path(
    filters: list[dict[str, Any]], value: object, code: str
) -> None:
    fid = filters[0]["id"]
    with pytest.raises(QueryValidationError) as exc:
        merge(filters, [{"filter_id": fid, "value": value}])
    assert errors_of(exc) == [(code, "/filter_values/0/value")]


def test_the_path_is_the_index_in_the_request() -> None:
    filters = [
        {"id": "s", "type": "select", "field": "status"},
        {"id": "n", "type": "number_range", "field": "total"},
    ]
    with pytest.raises(QueryValidationError) as exc:
        merge(
            filters,
            [{"filter_id": "s", "value": "paid"}, {"filter_id": "n", "value": {"max": "lots"}}],
        )
    assert errors_of(exc) == [("invalid_value", "/filter_values/1/value")]


def test_unknown_and_repeated_filter_ids() -> None:
    filters = [{"id": "s", "type": "select", "field": "status"}]
    with pytest.raises(QueryValidationError) as exc:
        merge(
            filters,
            [
                {"filter_id": "nope", "value": 1},
                {"filter_id": "s", "value": "a"},
                {"filter_id": "s", "value": "b"},
                "junk",
            ],
        )
    assert errors_of(exc) == [
        ("invalid_reference", "/filter_values/0/filter_id"),
        ("invalid_definition", "/filter_values/2/filter_id"),
        ("invalid_definition", "/filter_values/3"),
    ]
    with pytest.raises(QueryValidationError) as exc:
        merge(filters, {"s": "paid"})  # type: ignore[arg-type]
    assert errors_of(exc) == [("invalid_definition", "/filter_values")]


def test_a_type_that_cannot_apply_to_the_column_names_the_declaration() -> None:
    filters = [
        {"id": "s", "type": "select", "field": "status"},
        {"id": "q", "type": "text", "field": "total"},
        {"id": "d", "type": "date_range", "field": "status", "table": "shop_order"},
        {"id": "n", "type": "number_range", "field": "status"},
    ]
    values = [
        {"filter_id": "q", "value": "1"},
        {"filter_id": "d", "value": "today"},
        {"filter_id": "n", "value": {"min": 1}},
    ]
    with pytest.raises(QueryValidationError) as exc:
        merge(filters, values)
    assert errors_of(exc) == [
        ("invalid_operator", "/filters/1/field"),
        ("invalid_operator", "/filters/2/field"),
        ("invalid_operator", "/filters/3/field"),
    ]


def test_a_default_that_does_not_fit_the_column_names_the_default() -> None:
    declared = (
        DeclaredFilter("s", "select", "customer_id", default_value="abc", path="/filters/4"),
    )
    with pytest.raises(QueryValidationError) as exc:
        merge_filters(ORDERS, SHOP, declared, {}, tz=UTC)
    assert errors_of(exc) == [("invalid_value", "/filters/4/default_value")]


def test_declarations_are_checked_with_paths() -> None:
    with pytest.raises(QueryValidationError) as exc:
        parse_declarations(
            [
                {"id": "ok", "type": "select", "field": "status"},
                {"id": "ok", "type": "select", "field": "status"},
                {"id": "bad id!", "type": "slider", "field": ""},
                {
                    "id": "d",
                    "type": "date_range",
                    "field": "x",
                    "date_preset": "soon",
                    "default_value": 5,
                },
                {
                    "id": "o",
                    "type": "select",
                    "field": "x",
                    "options": [{"label": "no value"}],
                    "table": 3,
                },
                "junk",
            ]
        )
    assert errors_of(exc) == [
        ("invalid_definition", "/filters/1/id"),
        ("invalid_definition", "/filters/2/id"),
        ("invalid_definition", "/filters/2/type"),
        ("invalid_definition", "/filters/2/field"),
        ("invalid_value", "/filters/3/date_preset"),
        ("invalid_value", "/filters/3/default_value"),
        ("invalid_definition", "/filters/4/table"),
        ("invalid_definition", "/filters/4/options/0"),
        ("invalid_definition", "/filters/5"),
    ]
    with pytest.raises(QueryValidationError):
        parse_declarations({"id": "x"})
    with pytest.raises(QueryValidationError):
        parse_declarations([{"id": f"f{i}", "type": "text", "field": "x"} for i in range(51)])
    assert parse_declarations(None) == ()
