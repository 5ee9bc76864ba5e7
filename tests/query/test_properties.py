"""Property tests: random definitions with hostile strings never reach SQL text.

For every generated definition: the compiled SQL's quoted identifiers are catalog names,
generated table aliases or the validated output aliases; its string literals come from a closed
vocabulary; every other word is SQL grammar; placeholders and parameters match one to one, and
every string value of the request is in ``params``. Arbitrary JSON never raises anything but
``QueryValidationError``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from prismiq_django.query import QueryValidationError, build
from prismiq_django.query.dialects import escape_like, like_to_glob
from prismiq_django.query.errors import ERROR_CODES
from tests.query.catalogs import SHOP
from tests.query.sqlscan import scan
from tests.query.strategies import TEXT, definitions

CATALOG_NAMES = {t.name for t in SHOP.tables.values()} | {
    c.name for t in SHOP.tables.values() for c in t.columns
}
LITERALS = {
    "\\", "UTC", "minute", "hour", "day", "week", "month", "quarter", "year",
    "294277-01-01",  # where timestamp ends: dates after it are truncated with date arithmetic
    # the first, partial month, quarter and year of PostgreSQL's earliest values
    "-infinity", "4714-11-24 BC", "4714-12-01 BC", "4713-01-01 BC", "4713-01-03 00:00:00+00 BC",
    # the first day of timestamptz values, whose wall-clock time may precede the earliest value
    "4714-11-25 00:00:00+00 BC",
}  # fmt: skip
WORDS = {
    "SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE",
    "GLOB", "ESCAPE", "BETWEEN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "JOIN", "ON", "GROUP",
    "BY", "HAVING", "ORDER", "ASC", "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "COUNT",
    "DISTINCT", "SUM", "AVG", "MIN", "MAX", "date_trunc", "AT", "TIME", "ZONE", "CAST",
    "timestamp", "date", "django_datetime_trunc", "django_date_trunc", "%s", "(", ")", ",", ".",
    "=", "<>", "<", ">", "<=", ">=", "*", "1", "0",
    # Truncating dates past timestamp's range (PostgreSQL).
    "CASE", "WHEN", "THEN", "ELSE", "END", "isfinite", "extract", "isodow", "integer",
    "make_date", "month", "quarter", "year", "-",
    # Labelling the first, partial bucket of PostgreSQL's earliest values.
    "timestamptz",
}  # fmt: skip


def string_values(node: Any, tables: dict[str, str]) -> list[str]:
    """Every string value compared with a string column (not an aggregate), recursively."""
    out: list[str] = []
    if isinstance(node, dict):
        if "operator" in node and node["operator"] not in ("is_null", "is_not_null"):
            table = SHOP.tables[tables[node["table_id"]]]
            column = table.column(node["column"])
            if column is not None and column.type == "string" and not node.get("aggregation"):
                value = node.get("value")
                values = value if isinstance(value, list) else [value]
                out += [v for v in values if isinstance(v, str)]
        for key in ("all", "any", "not"):
            if key in node:
                out += string_values(node[key], tables)
    elif isinstance(node, list):
        for item in node:
            out += string_values(item, tables)
    return out


def check(definition: dict[str, Any], dialect: str) -> None:
    compiled = build(definition, SHOP, dialect)
    parts = scan(compiled.sql)
    aliases = {c["alias"] for c in definition["columns"]}
    generated = {f"t{i}" for i in range(len(definition["tables"]))}
    assert set(parts.identifiers) <= CATALOG_NAMES | generated | aliases
    assert set(parts.literals) <= LITERALS
    for word in parts.rest:
        assert (
            word in WORDS
            or word.isdigit()
            or all(part in WORDS or part.isdigit() for part in word.split("."))
        ), word
    assert compiled.sql.replace("%%", "").count("%s") == len(compiled.params)
    assert compiled.sql.replace("%%", "").count("%") == compiled.sql.replace("%%", "").count("%s")
    params = [p for p in compiled.params if isinstance(p, str)]
    tables = {t["id"]: t["name"] for t in definition["tables"]}
    for value in string_values(definition["filters"], tables):
        escaped = escape_like(value)
        glob = like_to_glob(value)
        assert any(p in (value, glob) or escaped in p for p in params), value
    assert compiled.columns == tuple(c["alias"] for c in definition["columns"])


@settings(max_examples=150, deadline=None)
@given(definitions(), st.sampled_from(["postgresql", "sqlite"]))
def test_request_strings_never_reach_sql_text(definition: dict[str, Any], dialect: str) -> None:
    check(definition, dialect)


JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        TEXT,
        st.sampled_from(["shop_order", "o", "id", "total", "eq", "in_", "sum", "day", "LEFT"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["tables", "columns", "filters", "joins", "order_by", "group_by", "limit",
                 "offset", "time_series", "id", "name", "table_id", "column", "operator",
                 "value", "aggregation", "alias", "date_trunc", "all", "any", "not",
                 "from_table_id", "to_table_id", "from_column", "to_column", "join_type",
                 "direction", "preset", "last", "unit", "interval", "date_column"]
            ) | TEXT,
            children,
            max_size=5,
        ),
    ),
    max_leaves=25,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_arbitrary_json_only_raises_validation_errors(data: Any) -> None:
    try:
        compiled = build(data, SHOP, "postgresql")
    except QueryValidationError as exc:
        errors = exc.errors
    else:
        assert compiled.sql.startswith("SELECT ")
        return
    assert errors
    assert all(e.path == "" or e.path.startswith("/") for e in errors)


@settings(max_examples=150, deadline=None)
@given(definitions(), st.data())
def test_mutated_definitions_only_raise_validation_errors(
    definition: dict[str, Any], data: st.DataObject
) -> None:
    # Replace one random leaf with hostile JSON: still nothing but QueryValidationError.
    path: list[Any] = []
    node: Any = definition
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        key = data.draw(
            st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node)))
        )
        path.append(key)
        node = node[key]
    if not path:
        return
    parent: Any = definition
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(JSON)
    try:
        compiled = build(definition, SHOP, "sqlite")
    except QueryValidationError as exc:
        errors = exc.errors
    else:
        assert compiled.sql.startswith("SELECT ")
        # Every value is a bound parameter: one placeholder per parameter (literal % doubled).
        assert compiled.sql.replace("%%", "").count("%s") == len(compiled.params)
        return
    assert errors
    assert all(e.code in ERROR_CODES for e in errors)
    assert all(e.path == "" or e.path.startswith("/") for e in errors)
