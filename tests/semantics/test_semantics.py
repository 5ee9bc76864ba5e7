"""Compiled definitions return the same rows as hand-written SQL, on SQLite and PostgreSQL.

Each test builds a definition with the dialect of the ``default`` connection, executes it, and
compares the normalised rows with a hand-written statement (or a Python oracle for calendar
logic) over the fixture rows of ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from prismiq_django.query import Catalog, build
from tests.query.catalogs import SHOP, tenant_catalog
from tests.semantics.conftest import CUSTOMERS, ORDERS, SKU_WIDGET, run

pytestmark = pytest.mark.usefixtures("shop")

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2024, 10, 2, 15, 0, tzinfo=UTC)  # a Wednesday


def norm(value: Any) -> Any:
    """Normalise a database value so that both vendors compare equal."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (Decimal, float)):
        return round(float(value), 4)
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            if value.tzinfo
            else (value.isoformat(" "))
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) == 26 and value[10] == " ":
        return value[:19]
    return value


def rows(data: dict[str, Any], catalog: Catalog = SHOP, **kw: Any) -> list[tuple[Any, ...]]:
    compiled = build(data, catalog, connection.vendor, **kw)
    return [tuple(norm(v) for v in r) for r in run(compiled.sql, compiled.params)]


def expected(sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    return [tuple(norm(v) for v in r) for r in run(sql, params)]


def t(id_: str, name: str) -> dict[str, str]:
    return {"id": id_, "name": name}


def c(table_id: str, column: str, **kw: Any) -> dict[str, Any]:
    return {"table_id": table_id, "column": column, **kw}


def customer_ids(*filters: dict[str, Any]) -> list[tuple[Any, ...]]:
    return rows(
        {
            "tables": [t("c", "shop_customer")],
            "columns": [c("c", "id")],
            "filters": list(filters),
            "order_by": [c("c", "id")],
        }
    )


def ids_where(condition: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    return expected(f"SELECT id FROM shop_customer WHERE {condition} ORDER BY id", params)


# MySQL and MariaDB have no FULL join: the compiler refuses one there (400 invalid_definition,
# tests/backends/mysql/test_dialect.py); the other joins run on every vendor.
_FULL = pytest.param(
    "FULL",
    marks=pytest.mark.skipif(
        connection.vendor == "mysql", reason="MySQL/MariaDB have no FULL join (refused: 400)"
    ),
)


def f(column: str, operator: str, value: Any = None, **kw: Any) -> dict[str, Any]:
    return {"table_id": "c", "column": column, "operator": operator, "value": value, **kw}


def _exact(sql: str, mysql: str) -> dict[str, str]:
    return {"postgresql": sql, "sqlite": sql, "mysql": mysql}


OPERATOR_CASES = [
    (f("name", "eq", "Alice"), "name = 'Alice'"),
    (f("name", "neq", "Alice"), "name <> 'Alice'"),
    (f("id", "gt", 3), "id > 3"),
    (f("id", "gte", "3"), "id >= 3"),
    (f("id", "lt", 3.0), "id < 3"),
    (f("id", "lte", 3), "id <= 3"),
    # Equality compares exactly; hand-written with a binary comparison on MySQL, whose usual
    # collations ignore case (customer 7 lives in 'PARIS').
    (
        f("city", "in_", ["Paris", "Lyon"]),
        _exact("city IN ('Paris', 'Lyon')", "BINARY city IN ('Paris', 'Lyon')"),
    ),
    (f("city", "in", []), "1 = 0"),
    (
        f("city", "not_in", ["Paris"]),
        _exact("city NOT IN ('Paris')", "BINARY city NOT IN ('Paris')"),
    ),
    (f("city", "not_in", []), "1 = 1"),
    (
        f("city", "in_or_null", ["Lyon"]),
        _exact("city IN ('Lyon') OR city IS NULL", "BINARY city IN ('Lyon') OR city IS NULL"),
    ),
    # Case-sensitive LIKE: hand-written with GLOB on SQLite, whose LIKE ignores ASCII case, and
    # with a binary comparison on MySQL, whose usual collations ignore case.
    (
        f("name", "like", "Al%"),
        {
            "postgresql": "name LIKE 'Al%'",
            "sqlite": "name GLOB 'Al*'",
            "mysql": "BINARY name LIKE 'Al%'",
        },
    ),
    (
        f("name", "like", "al%"),
        {
            "postgresql": "name LIKE 'al%'",
            "sqlite": "name GLOB 'al*'",
            "mysql": "BINARY name LIKE 'al%'",
        },
    ),
    (
        f("name", "not_like", "%e"),
        {
            "postgresql": "name NOT LIKE '%e'",
            "sqlite": "name NOT GLOB '*e'",
            "mysql": "BINARY name NOT LIKE '%e'",
        },
    ),
    (f("name", "like", "%50\\%\\_%"), "id = 3"),
    (f("name", "like", "_h%"), "id = 3"),
    (f("name", "ilike", "al%"), "lower(name) LIKE 'al%'"),
    (f("name", "not_ilike", "AL%"), "lower(name) NOT LIKE 'al%'"),
    (f("name", "contains", "50%_"), "id = 3"),
    (f("name", "contains", "%"), "id = 3"),
    (f("name", "contains", "_"), "id = 3"),
    (f("name", "contains", "LIC"), "lower(name) LIKE '%lic%'"),
    (f("name", "contains", "\\"), "id = 4"),
    (f("name", "contains", "'"), "id = 4"),
    (f("name", "contains", '"Q"'), "id = 4"),
    (f("name", "starts_with", "ALICE"), "lower(name) LIKE 'alice%'"),
    (f("name", "ends_with", "_off"), "id = 3"),
    (f("name", "ends_with", "E"), "lower(name) LIKE '%e'"),
    (f("id", "between", [2, 4]), "id BETWEEN 2 AND 4"),
    (f("created_at", "between", ["2024-01-01", "2024-02-28T00:00:00+01:00"]), "id IN (1, 2, 5, 7)"),
    (f("created_at", "gte", "2024-03-31T02:30:00+02:00"), "id IN (3, 4)"),
    (f("created_at", "lt", "2024-01-01"), "id = 6"),
    (f("is_active", "eq", False), "is_active = %s"),
    (f("name", "is_null"), "name IS NULL"),
    (f("name", "is_not_null"), "name IS NOT NULL"),
    (f("name", "eq", None), "name IS NULL"),
    (f("name", "neq", None), "name IS NOT NULL"),
]


@pytest.mark.parametrize(("filter_", "condition"), OPERATOR_CASES)
def test_operator_matches_hand_written_sql(
    filter_: dict[str, Any], condition: str | dict[str, str]
) -> None:
    if isinstance(condition, dict):
        condition = condition[connection.vendor]
    got = customer_ids(filter_)
    params: tuple[object, ...] = (False,) if "%s" in condition else ()
    sql_condition = condition.replace("%", "%%").replace("%%s", "%s")
    assert got == ids_where(sql_condition, params)


def test_operators_are_not_vacuous() -> None:
    # The cases above must select something in most cases, or they would prove little.
    non_empty = [case for case in OPERATOR_CASES if customer_ids(case[0])]
    assert len(non_empty) >= len(OPERATOR_CASES) - 6


def test_decimal_and_uuid_values() -> None:
    got = rows(
        {
            "tables": [t("o", "shop_order")],
            "columns": [c("o", "id")],
            "filters": [{"table_id": "o", "column": "total", "operator": "gt", "value": 10.5}],
            "order_by": [c("o", "id")],
        }
    )
    assert got == expected("SELECT id FROM shop_order WHERE total > 10.5 ORDER BY id")
    assert len(got) == 7
    exact = rows(
        {
            "tables": [t("o", "shop_order")],
            "columns": [c("o", "id")],
            "filters": [{"table_id": "o", "column": "total", "operator": "eq", "value": "0.01"}],
        }
    )
    assert exact == [(4,)]
    sku = rows(
        {
            "tables": [t("p", "shop_product")],
            "columns": [c("p", "name")],
            "filters": [
                {"table_id": "p", "column": "sku", "operator": "in", "value": [str(SKU_WIDGET)]}
            ],
        }
    )
    assert sku == [("Widget",)]


DECIMAL_CASES = [
    ({"operator": "between", "value": ["10.50", 99.99]}, "total BETWEEN 10.5 AND 99.99"),
    ({"operator": "in", "value": ["10.50", 0.01, 300]}, "total IN (10.5, 0.01, 300)"),
    ({"operator": "not_in", "value": ["10.5"]}, "total NOT IN (10.5)"),
    ({"operator": "lte", "value": "19.99"}, "total <= 19.99"),
    ({"operator": "neq", "value": 120}, "total <> 120"),
]


@pytest.mark.parametrize(("filter_", "condition"), DECIMAL_CASES)
def test_decimal_comparisons(filter_: dict[str, Any], condition: str) -> None:
    got = rows(
        {
            "tables": [t("o", "shop_order")],
            "columns": [c("o", "id")],
            "filters": [{"table_id": "o", "column": "total", **filter_}],
            "order_by": [c("o", "id")],
        }
    )
    assert got == expected(f"SELECT id FROM shop_order WHERE {condition} ORDER BY id")
    assert got


@pytest.mark.parametrize(
    ("aggregation", "operator", "value", "sql"),
    [
        ("sum", "gt", "20.00", "SUM(total) > 20"),
        ("avg", "gte", 60, "AVG(total) >= 60"),
        ("max", "between", ["100", "500.5"], "MAX(total) BETWEEN 100 AND 500.5"),
        ("min", "eq", "0.01", "MIN(total) = 0.01"),
        ("count_distinct", "lt", 3, "COUNT(DISTINCT total) < 3"),
    ],
)
def test_having_on_decimal_aggregates(
    aggregation: str, operator: str, value: Any, sql: str
) -> None:
    got = rows(
        {
            "tables": [t("o", "shop_order")],
            "columns": [c("o", "customer_id")],
            "filters": [
                {"table_id": "o", "column": "total", "aggregation": aggregation,
                 "operator": operator, "value": value}
            ],
            "order_by": [c("o", "customer_id")],
        }
    )  # fmt: skip
    want = expected(
        f"SELECT customer_id FROM shop_order GROUP BY customer_id HAVING {sql} ORDER BY 1"
    )
    assert got == want
    assert got


AGGREGATIONS = [
    ("count", "COUNT(o.total)"),
    ("count_distinct", "COUNT(DISTINCT o.customer_id)"),
    ("sum", "SUM(o.total)"),
    ("avg", "AVG(o.total)"),
    ("min", "MIN(o.total)"),
    ("max", "MAX(o.ordered_at)"),
]


@pytest.mark.parametrize(("aggregation", "sql"), AGGREGATIONS)
def test_aggregation_by_status(aggregation: str, sql: str) -> None:
    column = {"count_distinct": "customer_id", "max": "ordered_at"}.get(aggregation, "total")
    got = rows(
        {
            "tables": [t("o", "shop_order")],
            "columns": [c("o", "status"), c("o", column, aggregation=aggregation, alias="v")],
            "order_by": [c("o", "status")],
        }
    )
    want = expected(f"SELECT o.status, {sql} FROM shop_order o GROUP BY o.status ORDER BY 1")
    assert got == want
    assert len(got) == 4


def test_count_star_and_having_and_order_by_aggregate() -> None:
    got = rows(
        {
            "tables": [t("o", "shop_order")],
            "columns": [c("o", "customer_id"), c("o", "*", aggregation="count", alias="n")],
            "filters": [
                {
                    "table_id": "o",
                    "column": "*",
                    "aggregation": "count",
                    "operator": "gte",
                    "value": 2,
                },
                {
                    "table_id": "o",
                    "column": "total",
                    "aggregation": "sum",
                    "operator": "gt",
                    "value": 20,
                },
            ],
            "order_by": [c("o", "total", aggregation="sum", direction="DESC")],
        }
    )
    want = expected(
        "SELECT customer_id, COUNT(*) FROM shop_order GROUP BY customer_id "
        "HAVING COUNT(*) >= 2 AND SUM(total) > 20 ORDER BY SUM(total) DESC"
    )
    assert got == want
    assert [r[0] for r in got] == [5, 1, 6]


def test_top_customers_by_revenue_three_tables() -> None:
    got = rows(
        {
            "tables": [t("c", "shop_customer"), t("o", "shop_order"), t("i", "shop_orderitem")],
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                },
                {
                    "from_table_id": "i",
                    "from_column": "order_id",
                    "to_table_id": "o",
                    "to_column": "id",
                },
            ],
            "columns": [
                c("c", "name"),
                c("i", "quantity", aggregation="sum", alias="units"),
                c("o", "id", aggregation="count_distinct", alias="orders"),
            ],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "neq", "value": "cancelled"}
            ],
            "order_by": [{"alias": "units", "direction": "DESC"}, c("c", "name")],
            "limit": 10,
        }
    )
    want = expected(
        "SELECT c.name, SUM(i.quantity), COUNT(DISTINCT o.id) FROM shop_customer c "
        "JOIN shop_order o ON o.customer_id = c.id JOIN shop_orderitem i ON i.order_id = o.id "
        "WHERE o.status <> 'cancelled' GROUP BY c.name ORDER BY 2 DESC, 1 LIMIT 11"
    )
    assert got == want
    assert got[0][0] == "Eve"


JOIN_SQL = {
    "INNER": "JOIN",
    "LEFT": "LEFT JOIN",
    "RIGHT": "RIGHT JOIN",
    "FULL": "FULL JOIN",
}


@pytest.mark.parametrize("join_type", ["INNER", "LEFT", "RIGHT", _FULL])
def test_join_types_with_filter_on_nullable_side(join_type: str) -> None:
    definition = {
        "tables": [t("c", "shop_customer"), t("o", "shop_order")],
        "joins": [
            {
                "from_table_id": "c",
                "from_column": "id",
                "to_table_id": "o",
                "to_column": "customer_id",
                "join_type": join_type,
            }
        ],
        "columns": [c("c", "id", alias="cid"), c("o", "id", alias="oid")],
        "filters": [
            {"table_id": "o", "column": "status", "operator": "eq", "value": "paid"},
            {"table_id": "c", "column": "country", "operator": "eq", "value": "FR"},
        ],
    }
    got = sorted(rows(definition), key=repr)
    # Hand-written: a filter on the nullable side of an outer join belongs to its ON clause.
    on_o = join_type in ("LEFT", "FULL")
    on_c = join_type in ("RIGHT", "FULL")
    on = ["o.customer_id = c.id"]
    where = []
    (on if on_o else where).append("o.status = 'paid'")
    (on if on_c else where).append("c.country = 'FR'")
    sql = (
        f"SELECT c.id, o.id FROM shop_customer c {JOIN_SQL[join_type]} shop_order o "
        f"ON {' AND '.join(on)}" + (f" WHERE {' AND '.join(where)}" if where else "")
    )
    want = sorted(expected(sql), key=repr)
    assert got == want
    assert got


@pytest.mark.parametrize(
    ("filter_", "condition"),
    [
        ({"operator": "is_null"}, "o.id IS NULL"),
        ({"operator": "eq", "value": None}, "o.id IS NULL"),
        ({"operator": "in_or_null", "value": [1, 3]}, "(o.id IN (1, 3) OR o.id IS NULL)"),
        ({"not": {"operator": "is_not_null"}}, "NOT (o.id IS NOT NULL)"),
    ],
)
def test_null_accepting_filter_on_outer_side_is_an_anti_join(
    filter_: dict[str, Any], condition: str
) -> None:
    if "not" in filter_:
        node: dict[str, Any] = {"not": {"table_id": "o", "column": "id", **filter_["not"]}}
    else:
        node = {"table_id": "o", "column": "id", **filter_}
    got = rows(
        {
            "tables": [t("c", "shop_customer"), t("o", "shop_order")],
            "joins": [
                {"from_table_id": "c", "from_column": "id", "to_table_id": "o",
                 "to_column": "customer_id", "join_type": "LEFT"}
            ],
            "columns": [c("c", "id", alias="cid"), c("o", "id", alias="oid")],
            "filters": [node],
            "order_by": [c("c", "id"), c("o", "id")],
        }
    )  # fmt: skip
    want = expected(
        "SELECT c.id, o.id FROM shop_customer c LEFT JOIN shop_order o ON o.customer_id = c.id "
        f"WHERE {condition} ORDER BY 1, 2"
    )
    assert got == want
    assert (4, None) in got  # D'Arcy has no orders


def test_left_join_keeps_customers_without_orders() -> None:
    got = rows(
        {
            "tables": [t("c", "shop_customer"), t("o", "shop_order")],
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                    "join_type": "RIGHT",
                }
            ],
            "columns": [c("c", "name"), c("o", "id", aggregation="count", alias="orders")],
            "order_by": [c("c", "name")],
        }
    )
    want = expected(
        "SELECT c.name, COUNT(o.id) FROM shop_customer c LEFT JOIN shop_order o "
        "ON o.customer_id = c.id GROUP BY c.name ORDER BY 1"
    )
    assert got == want
    assert (norm('D\'Arcy "Q" \\ x'), 0) in got


def test_self_join() -> None:
    got = rows(
        {
            "tables": [t("a", "shop_order"), t("b", "shop_order")],
            "joins": [
                {
                    "from_table_id": "a",
                    "from_column": "customer_id",
                    "to_table_id": "b",
                    "to_column": "customer_id",
                }
            ],
            "columns": [c("a", "id", alias="first"), c("b", "id", alias="second")],
            "filters": [{"table_id": "a", "column": "id", "operator": "lt", "value": 100}],
            "order_by": [c("a", "id"), c("b", "id")],
        }
    )
    want = expected(
        "SELECT a.id, b.id FROM shop_order a JOIN shop_order b ON a.customer_id = b.customer_id "
        "ORDER BY 1, 2"
    )
    assert got == want
    assert len(got) > len(ORDERS)


def test_boolean_groups() -> None:
    got = customer_ids(
        {
            "any": [
                {"all": [f("city", "eq", "Paris"), f("is_active", "eq", True)]},
                {"not": {"any": [f("country", "in", ["FR", "AT"]), f("id", "gt", 5)]}},
            ]
        },
        {"all": []},
    )
    city = "BINARY city" if connection.vendor == "mysql" else "city"  # PARIS is not Paris
    want = ids_where(
        f"({city} = 'Paris' AND is_active = %s) OR NOT (country IN ('FR', 'AT') OR id > 5)", (True,)
    )
    assert got == want
    assert got == [(1,), (2,), (5,)]
    assert customer_ids({"any": []}) == []


def test_limit_offset_and_row_cap() -> None:
    definition = {
        "tables": [t("o", "shop_order")],
        "columns": [c("o", "id")],
        "order_by": [c("o", "id", direction="DESC")],
        "limit": 3,
        "offset": 2,
    }
    compiled = build(definition, SHOP, connection.vendor)
    assert compiled.limit == 3
    got = run(compiled.sql, compiled.params)
    assert [r[0] for r in got] == [9, 8, 7, 6]  # limit + 1 rows: the executor sees truncation
    capped = build({**definition, "limit": 10_000}, SHOP, connection.vendor, limits=_limits(5))
    assert capped.limit == 5
    assert len(run(capped.sql, capped.params)) == 6


def _limits(max_rows: int) -> Any:
    from prismiq_django.query import Limits

    return Limits(max_rows=max_rows)


# -- calendar logic: a Python oracle over the fixture rows ----------------------------------


def _bucket(moment: datetime, unit: str) -> datetime:
    if unit == "minute":
        return moment.replace(second=0, microsecond=0)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day.fromordinal(day.toordinal() - day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=day.month - (day.month - 1) % 3, day=1)
    return day.replace(month=1, day=1)


@pytest.mark.parametrize("unit", ["minute", "hour", "day", "week", "month", "quarter", "year"])
@pytest.mark.parametrize("tz", [UTC, PARIS, ZoneInfo("America/New_York")])
def test_date_trunc_buckets_match_python(unit: str, tz: Any) -> None:
    got = rows(
        {
            "tables": [t("o", "shop_order")],
            "columns": [
                c("o", "ordered_at", date_trunc=unit, alias="bucket"),
                c("o", "*", aggregation="count", alias="n"),
                c("o", "total", aggregation="sum", alias="revenue"),
            ],
            "order_by": [c("o", "ordered_at")],
        },
        tz=tz,
    )
    oracle: dict[datetime, list[Decimal]] = {}
    for o in ORDERS:
        local = datetime.fromisoformat(o[4]).replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
        oracle.setdefault(_bucket(local, unit), []).append(Decimal(o[6]))
    want = [(norm(k), len(v), norm(sum(v))) for k, v in sorted(oracle.items())]
    assert got == want


@pytest.mark.parametrize("unit", ["day", "week", "month", "quarter", "year"])
def test_date_column_buckets_and_time_series(unit: str) -> None:
    got = rows(
        {
            "tables": [t("o", "shop_order")],
            "time_series": {
                "table_id": "o",
                "date_column": "shipped_on",
                "interval": unit,
                "alias": "period",
            },
            "columns": [c("o", "id", aggregation="count", alias="n")],
            "filters": [{"table_id": "o", "column": "shipped_on", "operator": "is_not_null"}],
        },
        tz=PARIS,
    )
    oracle: dict[date, int] = {}
    for o in ORDERS:
        if o[5]:
            day = datetime.fromisoformat(o[5])
            key = _bucket(day, unit).date()
            oracle[key] = oracle.get(key, 0) + 1
    assert got == [(norm(k), v) for k, v in sorted(oracle.items())]


PRESETS = [
    "today",
    "yesterday",
    "last_7_days",
    "last_30_days",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
]


@pytest.mark.parametrize("preset", PRESETS)
def test_date_relative_presets_on_datetime_and_date(preset: str) -> None:
    from prismiq_django.query import dates

    unit, back, span = dates.PRESETS[preset]
    start, end = dates.relative_range(unit, back, span, now=NOW, tz=PARIS)
    for column, index in (("ordered_at", 4), ("shipped_on", 5)):
        got = rows(
            {
                "tables": [t("o", "shop_order")],
                "columns": [c("o", "id")],
                "filters": [
                    {
                        "table_id": "o",
                        "column": column,
                        "operator": "date_relative",
                        "value": {"preset": preset},
                    }
                ],
                "order_by": [c("o", "id")],
            },
            now=NOW,
            tz=PARIS,
        )
        want = []
        for o in ORDERS:
            if not o[index]:
                continue
            if column == "ordered_at":
                local = datetime.fromisoformat(o[index]).replace(tzinfo=UTC).astimezone(PARIS)
                day = local.date()
            else:
                day = date.fromisoformat(o[index])
            if start <= day < end:
                want.append((o[0],))
        assert got == want, (column, start, end)


def test_date_relative_last_n_units() -> None:
    got = rows(
        {
            "tables": [t("o", "shop_order")],
            "columns": [c("o", "id")],
            "filters": [
                {
                    "table_id": "o",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"last": 2, "unit": "quarter"},
                }
            ],
            "order_by": [c("o", "id")],
        },
        now=NOW,
        tz=PARIS,
    )
    # This quarter (Q4 2024, from Oct 1st in Paris) and the one before (from Jul 1st in Paris).
    assert got == [(5,), (7,), (8,), (9,)]


# -- row scopes --------------------------------------------------------------------------------


@pytest.mark.parametrize("join_type", ["INNER", "LEFT", "RIGHT", _FULL])
def test_row_scopes_hide_other_tenants_in_every_join(join_type: str) -> None:
    catalog = tenant_catalog(1)
    got = rows(
        {
            "tables": [t("c", "shop_customer"), t("o", "shop_order")],
            "joins": [
                {
                    "from_table_id": "c",
                    "from_column": "id",
                    "to_table_id": "o",
                    "to_column": "customer_id",
                    "join_type": join_type,
                }
            ],
            "columns": [c("c", "id", alias="cid"), c("o", "id", alias="oid")],
        },
        catalog,
    )
    sql = (
        "SELECT c.id, o.id FROM (SELECT * FROM shop_customer WHERE tenant_id = 1) c "
        f"{JOIN_SQL[join_type]} (SELECT * FROM shop_order WHERE tenant_id = 1) o "
        "ON o.customer_id = c.id"
    )
    assert sorted(got, key=repr) == sorted(expected(sql), key=repr)
    tenant2_customers = {x[0] for x in CUSTOMERS if x[1] == 2}
    tenant2_orders = {x[0] for x in ORDERS if x[1] == 2}
    assert not {r[0] for r in got} & tenant2_customers
    assert not {r[1] for r in got} & tenant2_orders
    if join_type in ("RIGHT", "FULL"):
        assert (None, 11) in got  # tenant-1 order whose customer is another tenant's


def test_scoped_time_series_with_relative_filter_matches_python() -> None:
    got = rows(
        {
            "tables": [t("c", "shop_customer"), t("o", "shop_order")],
            "joins": [
                {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c",
                 "to_column": "id", "join_type": "LEFT"}
            ],
            "time_series": {"table_id": "o", "date_column": "ordered_at", "interval": "month"},
            "columns": [
                c("o", "total", aggregation="sum", alias="revenue"),
                c("c", "id", aggregation="count_distinct", alias="customers"),
            ],
            "filters": [
                {"table_id": "o", "column": "ordered_at", "operator": "date_relative",
                 "value": {"preset": "this_year"}},
                {"table_id": "c", "column": "country", "operator": "neq", "value": "DE"},
            ],
        },
        tenant_catalog(1),
        now=NOW,
        tz=PARIS,
    )  # fmt: skip
    customers = {x[0]: x for x in CUSTOMERS}
    oracle: dict[datetime, tuple[Decimal, set[int]]] = {}
    for o in ORDERS:
        local = datetime.fromisoformat(o[4]).replace(tzinfo=UTC).astimezone(PARIS)
        if o[1] != 1 or local.year != 2024:
            continue
        customer = customers[o[2]]
        # The LEFT join matches only customers of the tenant, and (the filter being on the
        # nullable side, so in the ON clause) only those outside DE; the order always counts.
        visible = customer[1] == 1 and customer[5] != "DE"
        key = _bucket(local.replace(tzinfo=None), "month")
        total, seen = oracle.get(key, (Decimal(0), set()))
        oracle[key] = (total + Decimal(o[6]), seen | ({o[2]} if visible else set()))
    want = [(norm(k), norm(v[0]), len(v[1])) for k, v in sorted(oracle.items())]
    assert got == want
    assert len(got) >= 5


@pytest.mark.parametrize("huge", ["1e30", 2**63, 2**70, "-1e30"])
def test_decimal_values_beyond_64_bits_compare_without_error(huge: Any) -> None:
    """SQLite integers are 64-bit: a bigger whole number must still bind (as a REAL), not fail."""
    below = "lt" if not str(huge).startswith("-") else "gt"
    base = {"tables": [t("o", "shop_order")], "columns": [c("o", "id")]}

    def total(operator: str) -> dict[str, Any]:
        return {"table_id": "o", "column": "total", "operator": operator, "value": huge}

    everything = rows({**base, "filters": [total(below)]})
    nothing = rows({**base, "filters": [total("eq")]})
    assert sorted(everything) == sorted(expected("SELECT id FROM shop_order"))
    assert everything
    assert nothing == []
