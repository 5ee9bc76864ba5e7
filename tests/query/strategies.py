"""Hypothesis strategies: random valid definitions over the shop catalog, with hostile strings.

Every string a definition carries that is not a catalog name (filter values, output aliases,
table ids) is drawn from unrestricted Unicode text mixed with SQL metacharacters, so that any
splicing of request text into SQL would show up in the checks of the property tests.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from prismiq_django.query import Table
from tests.query.catalogs import CUSTOMER, ITEM, ORDER, PRODUCT

HOSTILE = st.sampled_from(
    [
        "'",
        '"',
        "\\",
        "%",
        "_",
        "%s",
        "%%",
        "--",
        ";",
        "/*",
        "*/",
        "$1",
        "?",
        ":x",
        "\n",
        "é",
        "😀",
        "ß",
    ]
)
TEXT = st.lists(
    st.one_of(
        HOSTILE,
        st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=4),
    ),
    max_size=6,
).map("".join)

# (tables, joins) scenarios: ids are hostile text; joins follow the shop's foreign keys.
SCENARIOS: list[tuple[list[Table], list[tuple[int, str, int, str]]]] = [
    ([ORDER], []),
    ([CUSTOMER], []),
    ([PRODUCT], []),
    ([CUSTOMER, ORDER], [(0, "id", 1, "customer_id")]),
    ([ORDER, CUSTOMER], [(0, "customer_id", 1, "id")]),
    ([ORDER, ORDER], [(0, "customer_id", 1, "customer_id")]),
    ([CUSTOMER, ORDER, ITEM], [(0, "id", 1, "customer_id"), (1, "id", 2, "order_id")]),
    ([ITEM, ORDER, PRODUCT], [(0, "order_id", 1, "id"), (2, "id", 0, "product_id")]),
]

NUMERIC = {"integer", "decimal", "float"}
ORDERED = NUMERIC | {"string", "date", "datetime", "time"}
EQUALITY = ORDERED | {"boolean", "uuid"}


def value_for(type_: str) -> st.SearchStrategy[Any]:
    if type_ == "integer":
        return st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-999, 999).map(str))
    if type_ in ("decimal", "float"):
        return st.one_of(
            st.integers(-(10**9), 10**9),
            # Valid numbers only: magnitudes below 1e-38 (other than 0) are refused on purpose.
            st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False).filter(
                lambda x: x == 0 or abs(x) >= 1e-38
            ),
            st.decimals(-(10**6), 10**6, places=2, allow_nan=False).map(str),
        )
    if type_ == "string":
        return TEXT
    if type_ == "boolean":
        return st.booleans()
    if type_ == "date":
        return st.dates().map(lambda d: d.isoformat())
    if type_ == "datetime":
        return st.datetimes().map(lambda d: d.isoformat())
    if type_ == "uuid":
        return st.uuids().map(str)
    return st.none()


def operators_for(type_: str) -> list[str]:
    ops = ["is_null", "is_not_null"]
    if type_ in EQUALITY:
        ops += ["eq", "neq", "in_", "in", "not_in", "in_or_null"]
    if type_ in ORDERED:
        ops += ["gt", "gte", "lt", "lte", "between"]
    if type_ == "string":
        ops += ["like", "ilike", "not_like", "not_ilike", "contains", "starts_with", "ends_with"]
    if type_ in ("date", "datetime"):
        ops += ["date_relative"]
    return ops


def aggregations_for(type_: str) -> list[str]:
    aggs = ["count"]
    if type_ in EQUALITY:
        aggs.append("count_distinct")
    if type_ in NUMERIC:
        aggs += ["sum", "avg"]
    if type_ in ORDERED:
        aggs += ["min", "max"]
    return aggs


@st.composite
def filter_value(draw: st.DrawFn, op: str, type_: str) -> Any:
    if op in ("is_null", "is_not_null"):
        return draw(st.one_of(st.none(), TEXT))
    if op in ("in_", "in", "not_in", "in_or_null"):
        return draw(st.lists(value_for(type_), max_size=4))
    if op == "between":
        return draw(st.lists(value_for(type_), min_size=2, max_size=2))
    if op == "date_relative":
        return draw(
            st.one_of(
                st.sampled_from(["today", "last_week", "this_quarter", "last_year"]).map(
                    lambda p: {"preset": p}
                ),
                st.fixed_dictionaries(
                    {
                        "last": st.integers(1, 100),
                        "unit": st.sampled_from(["day", "week", "month", "quarter", "year"]),
                    }
                ),
            )
        )
    if op in ("eq", "neq"):
        return draw(st.one_of(st.none(), value_for(type_)))
    if op in ("like", "ilike", "not_like", "not_ilike"):
        return draw(TEXT).rstrip("\\")  # a trailing escape character is refused
    if type_ == "string":
        return draw(TEXT)
    return draw(value_for(type_))


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A random *valid* query definition (every alias unique, ordering valid)."""
    tables, join_specs = draw(st.sampled_from(SCENARIOS))
    ids = draw(st.lists(TEXT, min_size=len(tables), max_size=len(tables), unique=True))
    ids = [f"{i}{text}" for i, text in enumerate(ids)]
    joins = [
        {
            "from_table_id": ids[a],
            "from_column": ca,
            "to_table_id": ids[b],
            "to_column": cb,
            "join_type": draw(st.sampled_from(["INNER", "LEFT", "RIGHT", "FULL", "left"])),
        }
        for a, ca, b, cb in join_specs
    ]
    refs = [(ids[i], col) for i, table in enumerate(tables) for col in table.columns]
    aggregated = draw(st.booleans())
    columns: list[dict[str, Any]] = []
    chosen = draw(st.lists(st.sampled_from(refs), min_size=1, max_size=5))
    for n, (tid, col) in enumerate(chosen):
        item: dict[str, Any] = {"table_id": tid, "column": col.name}
        alias = draw(TEXT)
        item["alias"] = f"{alias[:12]}~{n}".replace("[", "(")  # "[" is refused (sqlite3)
        if col.type in ("date", "datetime") and draw(st.booleans()):
            item["date_trunc"] = draw(
                st.sampled_from(
                    ["day", "week", "month", "quarter", "year"]
                    if col.type == "date"
                    else ["minute", "hour", "day", "week", "month", "quarter", "year"]
                )
            )
        elif aggregated and (n > 0 or col.type == "json" or draw(st.booleans())):
            item["aggregation"] = draw(st.sampled_from(aggregations_for(col.type)))
        columns.append(item)
    if aggregated and draw(st.booleans()):
        columns.append({"table_id": ids[0], "column": "*", "aggregation": "count", "alias": "n"})

    def leaf() -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def build(d: st.DrawFn) -> dict[str, Any]:
            tid, col = d(st.sampled_from(refs))
            op = d(st.sampled_from(operators_for(col.type)))
            return {
                "table_id": tid,
                "column": col.name,
                "operator": op,
                "value": d(filter_value(op, col.type)),
            }

        return build()

    tree = st.recursive(
        leaf(),
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(children, max_size=3).map(lambda xs: {"any": xs}),
            children.map(lambda x: {"not": x}),
        ),
        max_leaves=6,
    )
    filters = draw(st.lists(tree, max_size=4))
    if aggregated and draw(st.booleans()):
        tid, col = draw(st.sampled_from(refs))
        agg = draw(st.sampled_from(aggregations_for(col.type)))
        type_ = "integer" if agg.startswith("count") else col.type
        if agg == "avg":
            type_ = "decimal"
        op = draw(st.sampled_from([o for o in operators_for(type_) if o != "date_relative"]))
        filters.append(
            {
                "table_id": tid,
                "column": col.name,
                "aggregation": agg,
                "operator": op,
                "value": draw(filter_value(op, type_)),
            }
        )
    json_names = {c.name for t in tables for c in t.columns if c.type == "json"}
    sortable = [
        c["alias"] for c in columns if c["column"] not in json_names or c.get("aggregation")
    ]
    order_by: list[dict[str, Any]] = []
    if sortable:
        order_by = [
            {"alias": alias, "direction": draw(st.sampled_from(["ASC", "DESC", "desc"]))}
            for alias in draw(st.lists(st.sampled_from(sortable), max_size=2))
        ]
    if draw(st.booleans()):
        # Sort by a column reference: any column in a plain query, an aggregate otherwise.
        tid, col = draw(st.sampled_from(refs))
        key: dict[str, Any] = {"table_id": tid, "column": col.name}
        if aggregated:
            key["aggregation"] = draw(st.sampled_from(aggregations_for(col.type)))
        if col.type != "json" or aggregated:
            order_by.append({**key, "direction": draw(st.sampled_from(["ASC", "DESC"]))})
    definition: dict[str, Any] = {
        "tables": [
            {"id": i, "name": t.name, "alias": draw(TEXT)} for i, t in zip(ids, tables, strict=True)
        ],
        "joins": joins,
        "columns": columns,
        "filters": filters,
        "order_by": order_by,
    }
    if draw(st.booleans()):
        definition["limit"] = draw(st.integers(0, 20_000))
        definition["offset"] = draw(st.integers(0, 1_000))
    return definition
