"""Validation errors: stable codes, JSON-pointer paths, all problems of a request at once."""

from __future__ import annotations

from typing import Any

import pytest

from prismiq_django.query import (
    Catalog,
    Column,
    Limits,
    QueryValidationError,
    RowScope,
    Table,
    build,
    parse,
)
from prismiq_django.query.errors import ERROR_CODES
from tests.query.catalogs import ORDER, SHOP


def errors(data: object, catalog: Catalog = SHOP, **kw: Any) -> list[tuple[str, str]]:
    with pytest.raises(QueryValidationError) as info:
        build(data, catalog, "postgresql", **kw)
    return [(e.code, e.path) for e in info.value.errors]


def messages(data: object, catalog: Catalog = SHOP) -> list[str]:
    with pytest.raises(QueryValidationError) as info:
        parse(data, catalog)
    return [e.message for e in info.value.errors]


ORD = [{"id": "o", "name": "shop_order"}]
ID = [{"table_id": "o", "column": "id"}]


def q(**kw: Any) -> dict[str, Any]:
    return {"tables": ORD, "columns": ID, **kw}


def flt(column: str, operator: object, value: object = None, **kw: Any) -> dict[str, Any]:
    return {"table_id": "o", "column": column, "operator": operator, "value": value, **kw}


CASES: list[tuple[str, object, list[tuple[str, str]]]] = [
    ("not_an_object", [1, 2], [("invalid_definition", "")]),
    (
        "missing_everything",
        {},
        [("invalid_definition", "/tables"), ("invalid_definition", "/columns")],
    ),
    (
        "tables_not_list",
        {"tables": "shop_order", "columns": ID},
        [("invalid_definition", "/tables")],
    ),
    (
        "empty_tables",
        {"tables": [], "columns": []},
        [("invalid_definition", "/tables"), ("invalid_definition", "/columns")],
    ),
    (
        "table_not_object",
        {"tables": ["shop_order"], "columns": ID},
        [("invalid_definition", "/tables/0"), ("invalid_reference", "/columns/0/table_id")],
    ),
    (
        "unknown_table",
        {"tables": [{"id": "o", "name": "orders"}], "columns": ID},
        [("table_not_found", "/tables/0/name")],
    ),
    (
        "table_name_not_string",
        {"tables": [{"id": "o", "name": 5}], "columns": ID},
        [("invalid_value", "/tables/0/name")],
    ),
    (
        "table_id_not_string",
        {"tables": [{"id": 1, "name": "shop_order"}], "columns": ID},
        [("invalid_value", "/tables/0/id"), ("invalid_reference", "/columns/0/table_id")],
    ),
    (
        "duplicate_table_id",
        {"tables": ORD + ORD, "columns": ID},
        [("invalid_definition", "/tables/1/id")],
    ),
    (
        "unknown_table_id",
        q(columns=[{"table_id": "x", "column": "id"}]),
        [("invalid_reference", "/columns/0/table_id")],
    ),
    (
        "unknown_column",
        q(columns=[{"table_id": "o", "column": "totl"}]),
        [("column_not_found", "/columns/0/column")],
    ),
    (
        "column_not_string",
        q(columns=[{"table_id": "o", "column": ["id"]}]),
        [("invalid_value", "/columns/0/column")],
    ),
    (
        "star_without_count",
        q(columns=[{"table_id": "o", "column": "*"}]),
        [("column_not_found", "/columns/0/column")],
    ),
    (
        "unknown_aggregation",
        q(columns=[{"table_id": "o", "column": "id", "aggregation": "median"}]),
        [("invalid_aggregation", "/columns/0/aggregation")],
    ),
    (
        "sum_on_string",
        q(columns=[{"table_id": "o", "column": "status", "aggregation": "sum"}]),
        [("invalid_aggregation", "/columns/0/aggregation")],
    ),
    (
        "avg_on_date",
        q(columns=[{"table_id": "o", "column": "shipped_on", "aggregation": "avg"}]),
        [("invalid_aggregation", "/columns/0/aggregation")],
    ),
    (
        "bad_date_trunc",
        q(columns=[{"table_id": "o", "column": "ordered_at", "date_trunc": "fortnight"}]),
        [("invalid_value", "/columns/0/date_trunc")],
    ),
    (
        "date_trunc_injection",
        q(columns=[{"table_id": "o", "column": "ordered_at", "date_trunc": "day', now()) --"}]),
        [("invalid_value", "/columns/0/date_trunc")],
    ),
    (
        "date_trunc_on_number",
        q(columns=[{"table_id": "o", "column": "total", "date_trunc": "day"}]),
        [("invalid_value", "/columns/0/date_trunc")],
    ),
    (
        "hour_of_a_date",
        q(columns=[{"table_id": "o", "column": "shipped_on", "date_trunc": "hour"}]),
        [("invalid_value", "/columns/0/date_trunc")],
    ),
    ("duplicate_output", q(columns=ID + ID), [("invalid_definition", "/columns/1/column")]),
    (
        "duplicate_alias",
        q(
            columns=[
                {"table_id": "o", "column": "id", "alias": "x"},
                {"table_id": "o", "column": "total", "alias": "x"},
            ]
        ),
        [("invalid_definition", "/columns/1/alias")],
    ),
    (
        "alias_too_long",
        q(columns=[{"table_id": "o", "column": "id", "alias": "é" * 32}]),
        [("invalid_value", "/columns/0/alias")],
    ),
    (
        "alias_nul",
        q(columns=[{"table_id": "o", "column": "id", "alias": "a\x00b"}]),
        [("invalid_value", "/columns/0/alias")],
    ),
    (
        "group_by_json",
        {
            "tables": [{"id": "p", "name": "shop_product"}],
            "columns": [
                {"table_id": "p", "column": "attributes"},
                {"table_id": "p", "column": "*", "aggregation": "count"},
            ],
        },
        [("invalid_definition", "/columns/0")],
    ),
    (
        "order_by_json",
        {
            "tables": [{"id": "p", "name": "shop_product"}],
            "columns": [{"table_id": "p", "column": "id"}],
            "order_by": [{"table_id": "p", "column": "attributes"}],
        },
        [("invalid_definition", "/order_by/0")],
    ),
    (
        "alias_surrogate",
        q(columns=[{"table_id": "o", "column": "id", "alias": "\ud800"}]),
        [("invalid_value", "/columns/0/alias")],
    ),
    (
        "alias_empty",
        q(columns=[{"table_id": "o", "column": "id", "alias": ""}]),
        [("invalid_value", "/columns/0/alias")],
    ),
    (
        "unknown_operator",
        q(filters=[flt("id", "regex", "x")]),
        [("invalid_operator", "/filters/0/operator")],
    ),
    (
        "operator_not_string",
        q(filters=[flt("id", ["eq"], 1)]),
        [("invalid_operator", "/filters/0/operator")],
    ),
    (
        "missing_operator",
        q(filters=[{"table_id": "o", "column": "id"}]),
        [("invalid_definition", "/filters/0/operator")],
    ),
    (
        "like_on_number",
        q(filters=[flt("total", "like", "1%")]),
        [("invalid_operator", "/filters/0/operator")],
    ),
    (
        "gt_on_boolean",
        q(tables=[{"id": "o", "name": "shop_customer"}], filters=[flt("is_active", "gt", True)]),
        [("invalid_operator", "/filters/0/operator")],
    ),
    (
        "relative_on_string",
        q(filters=[flt("status", "date_relative", {"preset": "today"})]),
        [("invalid_operator", "/filters/0/operator")],
    ),
    (
        "bool_is_not_integer",
        q(filters=[flt("id", "eq", True)]),
        [("invalid_value", "/filters/0/value")],
    ),
    ("huge_integer", q(filters=[flt("id", "eq", 2**64)]), [("invalid_value", "/filters/0/value")]),
    ("nan", q(filters=[flt("total", "gt", float("nan"))]), [("invalid_value", "/filters/0/value")]),
    (
        "infinity",
        q(filters=[flt("total", "gt", "Infinity")]),
        [("invalid_value", "/filters/0/value")],
    ),
    (
        "fractional_integer",
        q(filters=[flt("id", "eq", 1.5)]),
        [("invalid_value", "/filters/0/value")],
    ),
    (
        "number_for_string",
        q(filters=[flt("status", "eq", 5)]),
        [("invalid_value", "/filters/0/value")],
    ),
    (
        "bad_date",
        q(filters=[flt("shipped_on", "eq", "2024-02-30")]),
        [("invalid_value", "/filters/0/value")],
    ),
    (
        "bad_datetime",
        q(filters=[flt("ordered_at", "gt", "yesterday")]),
        [("invalid_value", "/filters/0/value")],
    ),
    (
        "nul_in_string",
        q(filters=[flt("status", "eq", "a\x00")]),
        [("invalid_value", "/filters/0/value")],
    ),
    ("list_for_scalar", q(filters=[flt("id", "eq", [1])]), [("invalid_value", "/filters/0/value")]),
    ("scalar_for_in", q(filters=[flt("id", "in", 1)]), [("invalid_value", "/filters/0/value")]),
    (
        "null_in_list",
        q(filters=[flt("id", "in", [1, None])]),
        [("invalid_value", "/filters/0/value/1")],
    ),
    (
        "bad_list_elements",
        q(filters=[flt("id", "in", ["a", 2, "c"])]),
        [("invalid_value", "/filters/0/value/0"), ("invalid_value", "/filters/0/value/2")],
    ),
    (
        "between_arity",
        q(filters=[flt("id", "between", [1, 2, 3])]),
        [("invalid_value", "/filters/0/value")],
    ),
    (
        "between_scalar",
        q(filters=[flt("id", "between", 1)]),
        [("invalid_value", "/filters/0/value")],
    ),
    (
        "bad_preset",
        q(filters=[flt("ordered_at", "date_relative", {"preset": "last_decade"})]),
        [("invalid_value", "/filters/0/value/preset")],
    ),
    (
        "bad_last",
        q(filters=[flt("ordered_at", "date_relative", {"last": 0, "unit": "day"})]),
        [("invalid_value", "/filters/0/value")],
    ),
    (
        "relative_not_object",
        q(filters=[flt("ordered_at", "date_relative", "today")]),
        [("invalid_value", "/filters/0/value")],
    ),
    ("group_not_list", q(filters=[{"any": {"a": 1}}]), [("invalid_definition", "/filters/0/any")]),
    (
        "nested_error_path",
        q(filters=[{"all": [{"not": {"any": [flt("nope", "eq", 1)]}}]}]),
        [("column_not_found", "/filters/0/all/0/not/any/0/column")],
    ),
    (
        "mixed_having_group",
        q(filters=[{"any": [flt("id", "gt", 1), flt("total", "gt", 1, aggregation="sum")]}]),
        [("invalid_definition", "/filters/0")],
    ),
    (
        "join_unknown_id",
        {
            "tables": ORD,
            "columns": ID,
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                }
            ],
        },
        [("invalid_reference", "/joins/0/to_table_id")],
    ),
    (
        "join_bad_type",
        {
            "tables": [*ORD, {"id": "c", "name": "shop_customer"}],
            "columns": ID,
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                    "join_type": "CROSS",
                }
            ],
        },
        [("invalid_join", "/joins/0/join_type")],
    ),
    (
        "join_incompatible_columns",
        {
            "tables": [*ORD, {"id": "c", "name": "shop_customer"}],
            "columns": ID,
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "status",
                    "to_table_id": "c",
                    "to_column": "id",
                }
            ],
        },
        [("invalid_join", "/joins/0")],
    ),
    (
        "join_same_table_id",
        {
            "tables": ORD,
            "columns": ID,
            "joins": [
                {"from_table_id": "o", "from_column": "id", "to_table_id": "o", "to_column": "id"}
            ],
        },
        [("invalid_join", "/joins/0")],
    ),
    (
        "table_not_joined",
        {"tables": [*ORD, {"id": "c", "name": "shop_customer"}], "columns": ID},
        [("invalid_join", "/tables/1")],
    ),
    (
        "join_cycle",
        {
            "tables": [*ORD, {"id": "c", "name": "shop_customer"}],
            "columns": ID,
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                }
            ]
            * 2,
        },
        [("invalid_join", "/joins/1")],
    ),
    (
        "order_unknown_alias",
        q(order_by=[{"alias": "nope"}]),
        [("invalid_reference", "/order_by/0/alias")],
    ),
    (
        "order_bad_direction",
        q(order_by=[{"table_id": "o", "column": "id", "direction": "UP"}]),
        [("invalid_value", "/order_by/0/direction")],
    ),
    (
        "order_ungrouped",
        q(
            columns=[
                {"table_id": "o", "column": "status"},
                {"table_id": "o", "column": "*", "aggregation": "count"},
            ],
            order_by=[{"table_id": "o", "column": "total"}],
        ),
        [("invalid_definition", "/order_by/0")],
    ),
    (
        "not_in_group_by",
        q(
            columns=[{"table_id": "o", "column": "status"}, {"table_id": "o", "column": "total"}],
            group_by=[{"table_id": "o", "column": "status"}],
        ),
        [("invalid_definition", "/columns/1")],
    ),
    ("negative_limit", q(limit=-1), [("invalid_value", "/limit")]),
    ("bool_limit", q(limit=True), [("invalid_value", "/limit")]),
    ("string_offset", q(offset="10"), [("invalid_value", "/offset")]),
    (
        "time_series_bad_interval",
        q(time_series={"table_id": "o", "date_column": "ordered_at", "interval": "decade"}),
        [("invalid_value", "/time_series/interval")],
    ),
    (
        "time_series_on_number",
        q(time_series={"table_id": "o", "date_column": "total", "interval": "day"}),
        [("invalid_value", "/time_series/date_column")],
    ),
    (
        "too_many_tables",
        {"tables": [{"id": str(i), "name": "shop_order"} for i in range(21)], "columns": ID},
        [("too_complex", "/tables")],
    ),
    (
        "too_many_columns",
        q(columns=[{"table_id": "o", "column": "id", "alias": str(i)} for i in range(101)]),
        [("too_complex", "/columns")],
    ),
    (
        "too_many_values",
        q(filters=[flt("id", "in", list(range(1001)))]),
        [("too_complex", "/filters/0/value")],
    ),
    ("too_many_filters", q(filters=[flt("id", "eq", 1)] * 201), [("too_complex", "/filters/200")]),
    (
        "too_deep",
        q(
            filters=[
                {
                    "not": {
                        "not": {
                            "not": {"not": {"not": {"not": {"not": {"not": flt("id", "eq", 1)}}}}}
                        }
                    }
                }
            ]
        ),
        [("too_complex", "/filters/0/not/not/not/not/not/not/not/not")],
    ),
]


CASES += [
    (
        "filter_with_two_shapes_all_and_any",
        q(filters=[{"all": [], "any": [flt("id", "eq", 1)]}]),
        [("invalid_definition", "/filters/0")],
    ),
    (
        "filter_with_two_shapes_operator_and_not",
        q(filters=[{**flt("id", "eq", 1), "not": flt("id", "eq", 2)}]),
        [("invalid_definition", "/filters/0")],
    ),
    *(
        (name, q(filters=[flt(column, "gt", value)]), [("invalid_value", "/filters/0/value")])
        for name, column, value in [
            ("decimal_below_1e-38", "total", "1e-400"),
            ("decimal_float_below_1e-38", "total", 1e-300),
            ("decimal_underscores", "total", "1_000"),
            ("decimal_arabic_digits", "total", "١٢"),
            ("integer_arabic_digits", "id", "١٢"),
            ("integer_underscores", "id", "1_0"),
            ("datetime_garbage_after_date", "ordered_at", "20240101T1"),
        ]
    ),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_codes_and_paths(data: object, expected: list[tuple[str, str]]) -> None:
    assert errors(data) == expected


def test_every_error_code_is_covered() -> None:
    seen = {code for _, _, expected in CASES for code, _ in expected}
    assert seen == ERROR_CODES


def test_all_errors_of_a_request_are_reported_at_once() -> None:
    data = {
        "tables": [{"id": "o", "name": "shop_order"}, {"id": "z", "name": "shop_ordr"}],
        "columns": [
            {"table_id": "o", "column": "totl"},
            {"table_id": "o", "column": "status", "aggregation": "avg"},
        ],
        "filters": [flt("id", "eq", "abc"), flt("status", "near", "x")],
        "order_by": [{"alias": "nope"}],
        "limit": -5,
    }
    assert errors(data) == [
        ("table_not_found", "/tables/1/name"),
        ("column_not_found", "/columns/0/column"),
        ("invalid_aggregation", "/columns/1/aggregation"),
        ("invalid_value", "/filters/0/value"),
        ("invalid_operator", "/filters/1/operator"),
        ("invalid_reference", "/order_by/0/alias"),
        ("invalid_value", "/limit"),
    ]


def test_suggestions_only_among_exposed_names() -> None:
    hidden = Table("shop_order", tuple(c for c in ORDER.columns if c.name != "total"))
    secret = Table("shop_orders_secret", (Column("id", "bigint", "integer"),))
    catalog = Catalog.build([hidden])
    assert messages({"tables": [{"id": "o", "name": "shop_ordr"}], "columns": ID}, catalog) == [
        "Table 'shop_ordr' not found. Did you mean 'shop_order'?"
    ]
    # "totals" is close to the hidden column "total": no suggestion, same message as absent.
    msg = messages(q(columns=[{"table_id": "o", "column": "totals"}]), catalog)
    assert msg == ["Column 'totals' not found in table 'shop_order'."]
    assert "secret" not in " ".join(
        messages({"tables": [{"id": "o", "name": "shop_orders_secre"}], "columns": ID}, catalog)
    )
    assert secret.name not in catalog.tables


def test_hidden_and_absent_columns_are_indistinguishable() -> None:
    hidden = Catalog.build(
        [Table("shop_order", tuple(c for c in ORDER.columns if c.name != "total"))]
    )
    absent = q(columns=[{"table_id": "o", "column": "zzz_not_there"}])
    hidden_q = q(columns=[{"table_id": "o", "column": "total"}])
    assert errors(hidden_q, hidden) == errors(absent, hidden)
    assert messages(hidden_q, hidden)[0].replace("'total'", "X") == messages(absent, hidden)[
        0
    ].replace("'zzz_not_there'", "X")


def test_tenant_table_without_scope_fails_closed() -> None:
    table = Table(ORDER.name, ORDER.columns, tenant_column="tenant_id")
    unscoped = Catalog.build([table])
    assert errors(q(), unscoped) == [("invalid_definition", "/tables/0/name")]
    wrong_scope = Catalog.build([table], row_scopes=[RowScope("shop_order", "status", ("x",))])
    assert errors(q(), wrong_scope) == [("invalid_definition", "/tables/0/name")]
    # compile_query checks too, with the catalog it is given (a query parsed elsewhere).
    scoped = Catalog.build([table], row_scopes=[RowScope("shop_order", "tenant_id", (1,))])
    from prismiq_django.query import compile_query

    query = parse(q(), scoped)
    with pytest.raises(QueryValidationError) as info:
        compile_query(query, unscoped, "sqlite")
    assert info.value.errors[0].code == "invalid_definition"


def test_empty_scope_matches_nothing() -> None:
    table = Table(ORDER.name, ORDER.columns, tenant_column="tenant_id")
    catalog = Catalog.build([table], row_scopes=[RowScope("shop_order", "tenant_id", ())])
    assert "WHERE 1 = 0" in build(q(), catalog, "sqlite").sql


def test_limits_are_configurable() -> None:
    tight = Limits(max_tables=1, max_columns=1, max_filters=1, max_depth=1, max_list_values=1)
    assert errors(q(columns=ID * 2), limits=tight) == [("too_complex", "/columns")]
    assert errors(q(filters=[flt("id", "in", [1, 2])]), limits=tight) == [
        ("too_complex", "/filters/0/value")
    ]
    assert errors(q(filters=[{"all": [flt("id", "eq", 1)]}]), limits=tight) == [
        ("too_complex", "/filters/0/all/0")
    ]


def test_unknown_keys_are_ignored() -> None:
    data = q(sql_expression="DROP TABLE x", filters=[flt("id", "eq", 1, extra={"a": 1})], x=1)
    assert "DROP" not in build(data, SHOP, "sqlite").sql


def test_error_messages_never_echo_long_or_hostile_input_unbounded() -> None:
    name = "x" * 10_000
    (message,) = messages({"tables": [{"id": "o", "name": name}], "columns": ID})
    assert len(message) < 200


def test_huge_and_deep_inputs_are_refused_without_walking_them() -> None:
    deep: dict[str, Any] = flt("id", "eq", 1)
    for _ in range(50_000):  # far deeper than Python's recursion limit
        deep = {"not": deep}
    nested_value: Any = 1
    for _ in range(50_000):
        nested_value = [nested_value]
    data = q(
        filters=[deep, flt("id", "in", list(range(1_000_000))), flt("id", "eq", nested_value)],
    )
    assert errors(data) == [
        ("too_complex", "/filters/0" + "/not" * 8),
        ("too_complex", "/filters/1/value"),
        ("invalid_value", "/filters/2/value"),
    ]
    many = q(filters=[flt("id", "eq", 1)] * 100_000, columns=ID * 100_000, tables=ORD * 100_000)
    assert errors(many) == [
        ("too_complex", "/tables"),
        ("too_complex", "/columns"),
        ("too_complex", "/filters/200"),
    ]
