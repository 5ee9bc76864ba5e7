"""Rules the parser and the compiler share: one definition each, the same answer on both sides."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest

from prismiq_django.query import (
    Catalog,
    QueryValidationError,
    RowScope,
    Table,
    compile_query,
    get_dialect,
    parse,
)
from prismiq_django.query.ast import ColumnRef, Expr, TableRef, expr_key
from prismiq_django.query.limits import INT64_MAX, INT64_MIN
from prismiq_django.query.tenancy import missing_tenant_scope
from tests.query.catalogs import ORDER, SHOP

TENANT_ORDER = Table(ORDER.name, ORDER.columns, tenant_column="tenant_id")
QUERY: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [{"table_id": "o", "column": "id"}],
}


def _refusal(call: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(QueryValidationError) as info:
        call()
    return [(e.code, e.message, e.path) for e in info.value.errors]


def test_parser_and_compiler_refuse_an_unscoped_tenant_table_identically() -> None:
    unscoped = Catalog.build([TENANT_ORDER])
    scoped = unscoped.with_row_scopes([RowScope("shop_order", "tenant_id", (1,))])
    expected = [
        (
            "invalid_definition",
            "Table 'shop_order' needs a tenant scope and none is in force.",
            "/tables/0/name",
        )
    ]
    assert _refusal(lambda: parse(QUERY, unscoped)) == expected
    query = parse(QUERY, scoped)
    assert _refusal(lambda: compile_query(query, unscoped, "postgresql")) == expected
    detail = missing_tenant_scope(unscoped, TENANT_ORDER, 0)
    assert detail is not None
    assert (detail.code, detail.message, detail.path) == expected[0]
    assert missing_tenant_scope(scoped, TENANT_ORDER, 0) is None
    assert missing_tenant_scope(unscoped, ORDER, 0) is None  # no tenant column: nothing needed
    # A scope on another column restricts rows but does not isolate tenants.
    other = unscoped.with_row_scopes([RowScope("shop_order", "status", ("paid",))])
    assert missing_tenant_scope(other, TENANT_ORDER, 3) is not None


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (INT64_MAX, True),
        (INT64_MIN, True),
        (str(INT64_MAX), True),
        (INT64_MAX + 1, False),
        (INT64_MIN - 1, False),
        (str(INT64_MIN - 1), False),
    ],
)
def test_integer_values_are_bounded_by_the_shared_64_bit_range(
    value: object, accepted: bool
) -> None:
    data = {
        **QUERY,
        "filters": [{"table_id": "o", "column": "id", "operator": "eq", "value": value}],
    }
    if accepted:
        parse(data, SHOP)
    else:
        assert [code for code, _, _ in _refusal(lambda: parse(data, SHOP))] == ["invalid_value"]


def test_sqlite_binds_whole_decimals_as_integers_exactly_within_the_same_range() -> None:
    adapt = get_dialect("sqlite").adapt
    assert adapt(Decimal(INT64_MAX), "decimal") == INT64_MAX
    assert adapt(Decimal(INT64_MIN), "decimal") == INT64_MIN
    assert isinstance(adapt(Decimal(INT64_MAX) + 1, "decimal"), float)
    assert isinstance(adapt(Decimal(INT64_MIN) - 1, "decimal"), float)


def test_count_star_is_spelled_star_in_every_key() -> None:
    ref = TableRef("o", ORDER, 2)
    star = ColumnRef(ref, None)
    total = ColumnRef(ref, ORDER.column("total"))
    assert (star.name, star.key) == ("*", (2, "*"))
    assert (total.name, total.key) == ("total", (2, "total"))
    assert expr_key(Expr(star, "count")) == (2, "*", "count", None)
    assert expr_key(Expr(total, "sum")) == (2, "total", "sum", None)


def test_parse_module_keeps_its_public_names() -> None:
    # Not "import ... as": the package attribute "parse" is the function, not the module.
    module = importlib.import_module("prismiq_django.query.parse")

    assert set(module.__all__) == {
        "DEFAULT_LIMITS",
        "MAX_IDENTIFIER_BYTES",
        "Limits",
        "expr_key",
        "parse",
    }
    assert module.parse is parse
    assert module.expr_key is expr_key
    assert module.DEFAULT_LIMITS == module.Limits()
    assert module.MAX_IDENTIFIER_BYTES == 63


def test_sort_and_group_keys_resolve_to_the_first_matching_output() -> None:
    data = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [
            {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "a"},
            {"table_id": "o", "column": "ordered_at", "date_trunc": "month", "alias": "m"},
            {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "b"},
            {"table_id": "o", "column": "ordered_at", "date_trunc": "day", "alias": "d"},
        ],
        "order_by": [
            {"table_id": "o", "column": "ordered_at", "direction": "DESC"},
            {"table_id": "o", "column": "total", "aggregation": "sum"},
            {"table_id": "o", "column": "total", "aggregation": "max"},
        ],
    }
    query = parse(data, SHOP)
    assert [(o.output, o.expr is None) for o in query.order_by] == [
        (1, True),
        (0, True),
        (None, False),
    ]
    assert [(e.col.column and e.col.column.name, e.date_trunc) for e in query.group_by] == [
        ("ordered_at", "month"),
        ("ordered_at", "day"),
    ]
    sql = compile_query(query, SHOP, "postgresql").sql
    assert sql.endswith(' GROUP BY 2, 4 ORDER BY 2 DESC, 1 ASC, MAX("t0"."total") ASC LIMIT %s')
