"""The tenancy property (SPEC section 8), through the app: for any query definition over
tenant-scoped tables, every returned row belongs to the caller's tenant.

Hypothesis draws definitions over the four shop tables, all tenant-scoped: one to three table
references (the same table twice included), joins of every type on any pair of integer columns
(foreign keys, ``tenant_id = tenant_id``, nonsense ones), aggregations, nested ``all`` / ``any`` /
``not`` filters whose values are other tenants' (``tenant_id = 2`` asked by tenant 1, ``OR``
branches meant to escape the scope), HAVING filters, time buckets, ordering and limits. The
callers are tenant 1, 2, 3 and the list [1, 3]. The data is hostile too: orders and items that
point at another tenant's customer, order and product.

Every definition runs through :func:`prismiq_django.services.execute` — the exposure models,
``TENANT_CALLBACK``, the compiler, the rails and the result cache (on: each definition is run
for two callers in turn, so a cache key that ignored the tenant would hand the first caller's
rows to the second). Each table reference selects *witness* columns, ungrouped: its
``tenant_id`` and, half the time, its ``id``. A row belongs to the caller when every witness
is NULL (the missing side of an outer join) or names the caller's tenant — ``tenant_id`` by its
value, ``id`` through the table's real owner (read from the database, so a wrong ``tenant_id``
in the output could not hide a leak). Aggregates are grouped by the witnesses, so they only
ever combine rows of the caller's tenant.

200 examples in the default passes; ``make test-slow`` runs 10,000 (``-m slow``) and prints how
many cross-tenant rows it saw.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from example_project.shop.models import Customer, Order, OrderItem, Product
from prismiq_django import services
from prismiq_django.models import ExposedTable
from prismiq_django.query import QueryValidationError

TENANT_IDS = (1, 2, 3)
CALLERS: tuple[Any, ...] = (1, 2, 3, [1, 3])
TABLES = ("shop_customer", "shop_product", "shop_order", "shop_orderitem")
#: Columns a definition may use, by logical kind.
COLUMNS: dict[str, dict[str, str]] = {
    "shop_customer": {
        "id": "int",
        "tenant_id": "int",
        "name": "text",
        "city": "text",
        "country": "text",
        "is_active": "bool",
        "created_at": "time",
    },
    "shop_product": {
        "id": "int",
        "tenant_id": "int",
        "name": "text",
        "category": "text",
        "price": "num",
    },
    "shop_order": {
        "id": "int",
        "tenant_id": "int",
        "customer_id": "int",
        "status": "text",
        "ordered_at": "time",
        "shipped_on": "date",
        "total": "num",
    },
    "shop_orderitem": {
        "id": "int",
        "tenant_id": "int",
        "order_id": "int",
        "product_id": "int",
        "quantity": "int",
        "unit_price": "num",
    },
}
TEXTS = ["a", "Ann", "t2", "paid", "shipped", "Oslo", "%", "_", "'", "x' OR '1'='1", "DE", ""]
AGGREGATIONS = {
    "int": ["sum", "avg", "min", "max", "count", "count_distinct"],
    "num": ["sum", "avg", "min", "max", "count"],
    "text": ["min", "max", "count", "count_distinct"],
    "bool": ["count"],
    "time": ["min", "max", "count"],
    "date": ["min", "max", "count"],
}
BUCKETS = ["day", "week", "month", "year"]


def tenant_of(request: Any) -> Any:
    """The TENANT_CALLBACK: the tenant the test put on the request."""
    return request.prismiq_test_tenant


class Census:
    """What the runs saw, for the slow run's report."""

    queries = 0
    refused = 0
    rows = 0
    foreign_rows = 0


@pytest.fixture
def hostile_shop(db: None, settings: Any) -> dict[str, dict[int, int]]:
    """Three tenants' rows, some pointing across tenants; the four tables tenant-scoped;
    the result cache on. Returns ``{table: {id: owning tenant}}``."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    customers: dict[int, list[Customer]] = {}
    products: dict[int, list[Product]] = {}
    orders: dict[int, list[Order]] = {}
    for t in TENANT_IDS:
        customers[t] = [
            Customer.objects.create(
                tenant_id=t,
                name=f"{name}-t{t}",
                email=f"{name}{t}@example.com",
                city=city,
                country=country,
                is_active=i % 2 == 0,
                created_at=start + timedelta(days=40 * i + t),
            )
            for i, (name, city, country) in enumerate(
                [("Ann", "Berlin", "DE"), ("Bo", "Oslo", "NO"), ("Cy", "Paris", "FR")]
            )
        ]
        products[t] = [
            Product.objects.create(
                tenant_id=t,
                name=f"{name}-t{t}",
                category=category,
                price=Decimal(price),
                sku=UUID(int=t * 100 + i),
            )
            for i, (name, category, price) in enumerate(
                [("pen", "office", "1.50"), ("lamp", "home", "20.00"), ("mug", "home", "7.25")]
            )
        ]
    for t in TENANT_IDS:
        other = TENANT_IDS[t % 3]  # the next tenant: 1 -> 2, 2 -> 3, 3 -> 1
        orders[t] = []
        for i, status in enumerate(["paid", "shipped", "refunded", "pending"]):
            # The last order of every tenant belongs to another tenant's customer.
            customer = customers[other][0] if i == 3 else customers[t][i % 3]
            orders[t].append(
                Order.objects.create(
                    tenant_id=t,
                    customer=customer,
                    status=status,
                    ordered_at=start + timedelta(days=30 * i + 7 * t, hours=t),
                    shipped_on=date(2024, 3, t) if i % 2 else None,
                    total=Decimal(10 * (i + 1) + t) + Decimal("0.25"),
                )
            )
    for t in TENANT_IDS:
        other = TENANT_IDS[t % 3]
        for i in range(6):
            # Items 4 and 5 point at another tenant's order and product.
            crossing = i >= 4
            OrderItem.objects.create(
                tenant_id=t,
                order=orders[other][i % 4] if crossing else orders[t][i % 4],
                product=products[other][i % 3] if crossing else products[t][i % 3],
                quantity=i + t,
                unit_price=Decimal(i) + Decimal("0.5"),
            )
    settings.PRISMIQ = {
        "EXPOSED_TABLES": None,
        "TENANT_CALLBACK": "tests.tenancy.test_isolation_property.tenant_of",
        # The catalog built once (as in production); results cached.
        "SCHEMA_CACHE_TTL": 3600,
        "RESULT_CACHE_TTL": 300,
        "RATE_LIMIT": None,
    }
    for name in TABLES:
        ExposedTable.objects.create(name=name, is_exposed=True, tenant_column="tenant_id")
    services.invalidate_catalog()
    cache.clear()
    models = {
        "shop_customer": Customer,
        "shop_product": Product,
        "shop_order": Order,
        "shop_orderitem": OrderItem,
    }
    return {
        name: dict(model.objects.values_list("id", "tenant_id"))  # type: ignore[attr-defined]
        for name, model in models.items()
    }


def _value(draw: st.DrawFn, kind: str) -> Any:
    if kind == "int":
        return draw(st.integers(-1, 40))
    if kind == "num":
        return draw(st.sampled_from([0, 1.5, 7.25, 20, 31.25, 100]))
    if kind == "text":
        return draw(st.sampled_from(TEXTS))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "date":
        return draw(st.sampled_from(["2024-03-01", "2024-03-02", "2024-12-31"]))
    return draw(st.sampled_from(["2024-01-05T00:00:00+00:00", "2024-03-01T12:00:00+00:00"]))


def _leaf(draw: st.DrawFn, refs: list[tuple[str, str]]) -> dict[str, Any]:
    ref, table = draw(st.sampled_from(refs))
    # Half the filters aim at the tenant column with other tenants' values.
    column = "tenant_id" if draw(st.booleans()) else draw(st.sampled_from(sorted(COLUMNS[table])))
    kind = COLUMNS[table][column]
    ops = ["eq", "neq", "is_null", "is_not_null"]
    if kind in {"int", "num", "date", "time"}:
        ops += ["gt", "gte", "lt", "lte", "between", "in_", "not_in"]
    if kind == "text":
        ops += ["in_", "contains", "starts_with", "like", "ilike"]
    op = draw(st.sampled_from(ops))
    if op in {"in_", "not_in"}:
        value: Any = draw(
            st.lists(
                st.sampled_from([1, 2, 3]) if kind == "int" else st.just(_value(draw, kind)),
                max_size=3,
            )
        )
    elif op == "between":
        value = sorted([_value(draw, kind), _value(draw, kind)], key=str)
        if kind in {"int", "num"}:
            value = sorted(value)
    elif op in {"is_null", "is_not_null"}:
        value = None
    else:
        value = _value(draw, kind)
    return {"table_id": ref, "column": column, "operator": op, "value": value}


def _filter(draw: st.DrawFn, refs: list[tuple[str, str]], depth: int) -> dict[str, Any]:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return _leaf(draw, refs)
    kind = draw(st.sampled_from(["all", "any", "not"]))
    if kind == "not":
        return {"not": _filter(draw, refs, depth - 1)}
    return {kind: [_filter(draw, refs, depth - 1) for _ in range(draw(st.integers(1, 3)))]}


JOIN_COLUMNS = {
    table: [c for c, k in cols.items() if k == "int"] for table, cols in COLUMNS.items()
}


#: MySQL/MariaDB have no FULL join (refused with the joins' path: tests/backends/mysql).
JOIN_TYPES = ["INNER", "LEFT", "RIGHT"] + ([] if connection.vendor == "mysql" else ["FULL"])


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A random definition with witness columns (aliases ``w<i>_tenant`` / ``w<i>_id``)."""
    count = draw(st.integers(1, 3))
    refs = [(f"r{i}", draw(st.sampled_from(TABLES))) for i in range(count)]
    joins = []
    for i in range(1, count):
        j = draw(st.integers(0, i - 1))
        joins.append(
            {
                "from_table_id": refs[j][0],
                "from_column": draw(st.sampled_from(JOIN_COLUMNS[refs[j][1]])),
                "to_table_id": refs[i][0],
                "to_column": draw(st.sampled_from(JOIN_COLUMNS[refs[i][1]])),
                "join_type": draw(st.sampled_from(JOIN_TYPES)),
            }
        )
    columns: list[dict[str, Any]] = []
    for i, (ref, _table) in enumerate(refs):
        columns.append({"table_id": ref, "column": "tenant_id", "alias": f"w{i}_tenant"})
        if draw(st.booleans()):
            columns.append({"table_id": ref, "column": "id", "alias": f"w{i}_id"})
    extra = draw(st.integers(0, 3))
    aggregated = False
    for k in range(extra):
        ref, table = draw(st.sampled_from(refs))
        column = draw(st.sampled_from(sorted(COLUMNS[table])))
        kind = COLUMNS[table][column]
        item: dict[str, Any] = {"table_id": ref, "column": column, "alias": f"x{k}"}
        choice = draw(st.integers(0, 3))
        if choice == 0 and kind in {"time", "date"}:
            item["date_trunc"] = draw(st.sampled_from(BUCKETS))
        elif choice >= 2:
            item["aggregation"] = draw(st.sampled_from(AGGREGATIONS[kind]))
            aggregated = True
        columns.append(item)
    if draw(st.integers(0, 4)) == 0:
        columns.append(
            {"table_id": refs[0][0], "column": "*", "aggregation": "count", "alias": "n"}
        )
        aggregated = True
    definition: dict[str, Any] = {
        "tables": [{"id": ref, "name": table} for ref, table in refs],
        "joins": joins,
        "columns": columns,
        "filters": [_filter(draw, refs, 3) for _ in range(draw(st.integers(0, 3)))],
    }
    if aggregated and draw(st.booleans()):
        ref, _table = draw(st.sampled_from(refs))
        definition["filters"].append(
            {
                "table_id": ref,
                "column": "id",
                "aggregation": "count",
                "operator": draw(st.sampled_from(["gt", "gte", "lt", "eq"])),
                "value": draw(st.integers(0, 3)),
            }
        )
    if draw(st.booleans()):
        picked = draw(st.sampled_from(columns))
        definition["order_by"] = [
            {"alias": picked.get("alias"), "direction": draw(st.sampled_from(["ASC", "DESC"]))}
        ]
    if draw(st.booleans()):
        definition["limit"] = draw(st.integers(0, 50))
    return definition


def _caller(tenant: Any) -> Any:
    request = RequestFactory().post("/api/analytics/query/execute")
    request.user = AnonymousUser()
    request.prismiq_test_tenant = tenant
    return request


def foreign_rows(
    result: Any, caller: Any, owners: dict[str, dict[int, int]], definition: dict[str, Any]
) -> int:
    """How many rows of ``result`` show a witness of another tenant than ``caller``'s."""
    allowed = set(caller) if isinstance(caller, list) else {caller}
    tables = [t["name"] for t in definition["tables"]]
    witnesses: list[tuple[int, Callable[[Any], bool]]] = []
    for index, name in enumerate(result.columns):
        if not name.startswith("w"):
            continue
        ref = int(name[1 : name.index("_")])
        if name.endswith("_tenant"):
            witnesses.append((index, lambda v: v in allowed))
        else:
            table_owners = owners[tables[ref]]
            witnesses.append((index, lambda v, o=table_owners: o.get(v) in allowed))
    assert witnesses, result.columns
    return sum(
        1
        for row in result.rows
        if not all(row[i] is None or belongs(row[i]) for i, belongs in witnesses)
    )


def check(definition: dict[str, Any], owners: dict[str, dict[int, int]], first: Any) -> None:
    """Run ``definition`` for ``first`` and then for another caller; no foreign row."""
    second = CALLERS[(CALLERS.index(first) + 1) % len(CALLERS)]
    for caller in (first, second):
        Census.queries += 1
        try:
            result = services.execute(_caller(caller), definition)
        except QueryValidationError:
            Census.refused += 1
            continue
        foreign = foreign_rows(result, caller, owners, definition)
        Census.rows += result.row_count
        Census.foreign_rows += foreign
        assert foreign == 0, (caller, definition, result.rows)


def property_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@property_settings(int(os.environ.get("PRISMIQ_TENANCY_EXAMPLES", "200")))
@given(definition=definitions(), caller=st.sampled_from(CALLERS))
def test_every_row_belongs_to_the_callers_tenant(
    hostile_shop: dict[str, dict[int, int]], definition: dict[str, Any], caller: Any
) -> None:
    check(definition, hostile_shop, caller)


@pytest.mark.slow
@property_settings(10_000)
@given(definition=definitions(), caller=st.sampled_from(CALLERS))
def test_every_row_belongs_to_the_callers_tenant_10000(
    hostile_shop: dict[str, dict[int, int]], definition: dict[str, Any], caller: Any
) -> None:
    check(definition, hostile_shop, caller)


@pytest.fixture(autouse=True)
def census_report(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Any:
    """Print what the property test saw (the slow run's numbers)."""
    Census.queries = Census.refused = Census.rows = Census.foreign_rows = 0
    yield
    if request.node.name.startswith("test_every_row"):
        # A run that refused everything (fail closed) would prove nothing: the generator makes
        # valid definitions, and they return rows.
        assert Census.refused <= Census.queries // 20, (Census.refused, Census.queries)
        assert Census.rows > 0
        with capsys.disabled():
            print(
                f"\n{request.node.name}: {Census.queries} runs of generated definitions "
                f"({Census.refused} refused as invalid), {Census.rows} rows returned, "
                f"{Census.foreign_rows} cross-tenant rows"
            )
