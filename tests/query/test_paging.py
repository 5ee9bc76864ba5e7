"""Pages (stable order, window, has_next) and the count statement, in the pure core."""

from __future__ import annotations

from typing import Any

import pytest

from prismiq_django.query import Catalog, compile_query, get_dialect, parse
from prismiq_django.query.limits import Limits
from prismiq_django.query.paging import (
    MAX_PAGE_OFFSET,
    count_query,
    count_sql,
    page_of,
    stable_order,
)
from tests.query.catalogs import SHOP

UNCAPPED = Limits(max_rows=MAX_PAGE_OFFSET)


def _query(**extra: Any) -> Any:
    definition = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [
            {"table_id": "o", "column": "status"},
            {"table_id": "o", "column": "total"},
            {"table_id": "o", "column": "id"},
        ],
        **extra,
    }
    catalog: Catalog = SHOP
    return parse(definition, catalog, limits=UNCAPPED)


def _sql(query: Any, vendor: str = "postgresql") -> tuple[str, tuple[object, ...]]:
    compiled = compile_query(query, SHOP, get_dialect(vendor))
    return compiled.sql, compiled.params


def test_every_output_not_in_the_order_is_appended_ascending() -> None:
    query = _query(order_by=[{"table_id": "o", "column": "total", "direction": "DESC"}])
    order = stable_order(query)
    assert [(o.output, o.direction) for o in order] == [(1, "DESC"), (0, "ASC"), (2, "ASC")]


def test_no_order_orders_by_every_output() -> None:
    assert [(o.output, o.direction) for o in stable_order(_query())] == [
        (0, "ASC"),
        (1, "ASC"),
        (2, "ASC"),
    ]


def test_unsortable_outputs_are_not_tie_breakers() -> None:
    definition = {
        "tables": [{"id": "p", "name": "shop_product"}],
        "columns": [
            {"table_id": "p", "column": "attributes"},
            {"table_id": "p", "column": "name"},
        ],
    }
    query = parse(definition, SHOP, limits=UNCAPPED)
    assert [o.output for o in stable_order(query)] == [1]


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_page_sql_has_the_stable_order_the_window_and_one_more_row(vendor: str) -> None:
    page = page_of(_query(), page=3, size=20, whole_limit=None)
    sql, params = _sql(page.query, vendor)
    asc = " ASC NULLS LAST" if vendor == "sqlite" else " ASC"  # PostgreSQL's default order
    assert sql.endswith(f" ORDER BY 1{asc}, 2{asc}, 3{asc} LIMIT %s OFFSET %s")
    assert params[-2:] == (21, 40)


def test_pages_respect_the_definitions_offset_and_limit() -> None:
    query = _query(offset=5, limit=45)
    first = page_of(query, page=1, size=20, whole_limit=45)
    third = page_of(query, page=3, size=20, whole_limit=45)
    beyond = page_of(query, page=4, size=20, whole_limit=45)
    assert (first.query.offset, first.query.limit) == (5, 20)
    assert (third.query.offset, third.query.limit) == (45, 5)  # rows 40..44 of the whole
    assert beyond.query.limit == 0
    assert first.has_next(True)
    assert not third.has_next(True)  # the extra row is beyond the definition's limit
    assert not beyond.has_next(True)
    assert not first.has_next(False)


def test_a_page_ending_exactly_at_the_limit_has_no_next() -> None:
    page = page_of(_query(limit=40), page=2, size=20, whole_limit=40)
    assert page.query.limit == 20
    assert not page.has_next(True)
    assert page_of(_query(limit=41), page=2, size=20, whole_limit=41).has_next(True)


def test_pages_start_at_one_and_stop_before_the_offset_bound() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        page_of(_query(), page=0, size=20, whole_limit=None)
    with pytest.raises(ValueError, match="too far"):
        page_of(_query(), page=MAX_PAGE_OFFSET, size=5000, whole_limit=None)


def test_count_statement_drops_the_order_and_keeps_scopes_and_filters() -> None:
    query = _query(
        filters=[{"table_id": "o", "column": "status", "operator": "eq", "value": "x'; --"}],
        order_by=[{"table_id": "o", "column": "id", "direction": "DESC"}],
        limit=7,
    )
    sql, params = _sql(count_query(query))
    counted = count_sql(sql)
    assert counted.startswith('SELECT count(*) FROM (SELECT "t0"."status"')
    assert "ORDER BY" not in counted
    assert counted.endswith(" LIMIT %s) AS q")
    assert params == ("x'; --", 8)  # the value bound, never spliced
