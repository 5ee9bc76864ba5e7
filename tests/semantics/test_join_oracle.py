"""Random outer joins with filters and row scopes agree with a Python model of the documented rules.

The model (docs/query-language.md, "Joins and row scopes"): a top-level filter that reads only a
table on the nullable side of the outer join goes into the ``ON`` clause unless it holds for the
NULL row; row scopes go into ``WHERE``, into the ``ON`` clause of the nullable side, or — with a
``FULL`` join — pre-filter both tables. The model evaluates that with Python three-valued logic
over the fixture rows; the database must return exactly the same ``(customer, order)`` pairs.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prismiq_django.query import build
from tests.query.catalogs import SHOP, tenant_catalog
from tests.semantics.conftest import CUSTOMERS, ORDERS, run
from tests.semantics.test_oracle import NOW, PARIS, ROWS, truth
from tests.semantics.test_oracle import leaf as order_leaf

CUSTOMER_ROWS = [
    {("c", "id"): c[0], ("c", "tenant"): c[1], ("c", "country"): c[5], ("c", "is_active"): c[6]}
    for c in CUSTOMERS
]
ORDER_ROWS = [
    {**{("o", k): v for k, v in row.items()}, ("o", "tenant"): o[1]}
    for row, o in zip(ROWS, ORDERS, strict=True)
]
NULL_CUSTOMER = dict.fromkeys(CUSTOMER_ROWS[0])
NULL_ORDER = dict.fromkeys(ORDER_ROWS[0])


@st.composite
def customer_leaf(draw: st.DrawFn) -> dict[str, Any]:
    column = draw(st.sampled_from(["id", "country", "is_active"]))
    if column == "is_active":
        op = draw(st.sampled_from(["eq", "neq", "is_null", "is_not_null"]))
        value: Any = draw(st.booleans())
    elif column == "id":
        op = draw(st.sampled_from(["eq", "gt", "lt", "in_or_null", "not_in", "is_null"]))
        value = draw(st.integers(0, 8))
        if op in ("in_or_null", "not_in"):
            value = draw(st.lists(st.integers(0, 8), max_size=3))
    else:
        op = draw(st.sampled_from(["eq", "neq", "contains", "in", "is_not_null"]))
        value = draw(st.sampled_from(["FR", "DE", "AT", "f", "x"]))
        if op == "in":
            value = draw(st.lists(st.sampled_from(["FR", "DE", "AT"]), max_size=2))
    return {"table_id": "c", "column": column, "operator": op, "value": value}


def _tree(leaves: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            st.lists(kids, max_size=2).map(lambda xs: {"all": xs}),
            st.lists(kids, min_size=1, max_size=2).map(lambda xs: {"any": xs}),
            kids.map(lambda x: {"not": x}),
        ),
        max_leaves=3,
    )


FILTERS = st.lists(
    st.one_of(
        _tree(customer_leaf()),
        _tree(order_leaf()),
        _tree(st.one_of(customer_leaf(), order_leaf())),  # may read both tables: WHERE
    ),
    max_size=3,
)


def _tables(node: Any) -> set[str]:
    if "table_id" in node:
        return {node["table_id"]}
    children = node.get("all") or node.get("any") or ([node["not"]] if "not" in node else [])
    return set().union(*map(_tables, children)) if children else set()


def model(join_type: str, filters: list[Any], scoped: bool) -> list[tuple[Any, Any]]:
    """The (customer id, order id) pairs the documented rules produce, order aside."""
    nullable = {"LEFT": {"o"}, "RIGHT": {"c"}, "FULL": {"c", "o"}}.get(join_type, set())
    on: dict[str, list[Any]] = {"c": [], "o": []}
    where: list[Any] = []
    for node in filters:
        (table,) = _tables(node) if len(_tables(node)) == 1 else (None,)
        if table in nullable and truth(node, {**NULL_CUSTOMER, **NULL_ORDER}) is not True:
            on[table].append(node)
        else:
            where.append(node)
    customers, orders = CUSTOMER_ROWS, ORDER_ROWS
    if scoped and join_type == "FULL":
        customers = [c for c in customers if c["c", "tenant"] == 1]
        orders = [o for o in orders if o["o", "tenant"] == 1]
    pairs: list[dict[Any, Any]] = []
    matched_c: set[int] = set()
    matched_o: set[int] = set()
    for c in customers:
        for o in orders:
            row = {**c, **o}
            conditions = [o["o", "customer_id"] == c["c", "id"]]
            conditions += [truth(n, row) is True for t in ("c", "o") for n in on[t]]
            if scoped and join_type in ("LEFT", "RIGHT"):
                side = "o" if join_type == "LEFT" else "c"
                conditions.append(row[side, "tenant"] == 1)
            if all(conditions):
                pairs.append(row)
                matched_c.add(c["c", "id"])
                matched_o.add(o["o", "id"])
    if join_type in ("LEFT", "FULL"):
        pairs += [{**c, **NULL_ORDER} for c in customers if c["c", "id"] not in matched_c]
    if join_type in ("RIGHT", "FULL"):
        pairs += [{**NULL_CUSTOMER, **o} for o in orders if o["o", "id"] not in matched_o]
    if scoped and join_type == "INNER":
        pairs = [p for p in pairs if p["c", "tenant"] == 1 and p["o", "tenant"] == 1]
    elif scoped and join_type == "LEFT":
        pairs = [p for p in pairs if p["c", "tenant"] == 1]
    elif scoped and join_type == "RIGHT":
        pairs = [p for p in pairs if p["o", "tenant"] == 1]
    kept = [p for p in pairs if all(truth(n, p) is True for n in where)]
    return sorted(((p["c", "id"], p["o", "id"]) for p in kept), key=repr)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    # MySQL and MariaDB have no FULL join (the compiler refuses it there).
    join_type=st.sampled_from(
        ["INNER", "LEFT", "RIGHT", *(["FULL"] if connection.vendor != "mysql" else [])]
    ),
    filters=FILTERS,
    scoped=st.booleans(),
)
def test_outer_joins_with_filters_and_scopes_follow_the_documented_model(
    shop: None, join_type: str, filters: list[Any], scoped: bool
) -> None:
    definition = {
        "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
        "joins": [
            {"from_table_id": "c", "from_column": "id", "to_table_id": "o",
             "to_column": "customer_id", "join_type": join_type}
        ],
        "columns": [
            {"table_id": "c", "column": "id", "alias": "cid"},
            {"table_id": "o", "column": "id", "alias": "oid"},
        ],
        "filters": filters,
    }  # fmt: skip
    catalog = tenant_catalog(1) if scoped else SHOP
    compiled = build(definition, catalog, connection.vendor, now=NOW, tz=PARIS)
    got = sorted((tuple(r) for r in run(compiled.sql, compiled.params)), key=repr)
    assert got == model(join_type, filters, scoped)
