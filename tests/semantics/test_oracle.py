"""Random filter trees on ``shop_order``: the database agrees with a Python three-valued oracle.

Hypothesis draws nested ``all``/``any``/``not`` trees over every operator, with values taken
near the fixture data (so that filters do select rows); the rows the compiled statement returns
on the ``default`` connection must be exactly those the oracle accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from prismiq_django.query import build, dates
from tests.query.catalogs import SHOP
from tests.semantics.conftest import ORDERS, run

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2024, 10, 2, 15, 0, tzinfo=UTC)

ROWS = [
    {
        "id": o[0],
        "status": o[3],
        "ordered_at": datetime.fromisoformat(o[4]).replace(tzinfo=UTC),
        "shipped_on": date.fromisoformat(o[5]) if o[5] else None,
        "total": Decimal(o[6]),
        "customer_id": o[2],
    }
    for o in ORDERS
]
STATUSES = ["paid", "shipped", "pending", "cancelled", "PAID", "pa", "id", "a%", "p_i", "x"]
PATTERNS = ["p%", "%d", "%a%", "_aid", "P%", "%\\%", "s%ed", "%", "", "%i_"]


def _values(column: str) -> st.SearchStrategy[Any]:
    if column == "status":
        return st.sampled_from(STATUSES)
    if column in ("id", "customer_id"):
        return st.integers(0, 12)
    if column == "total":
        return st.sampled_from([Decimal(o[6]) for o in ORDERS] + [Decimal("0"), Decimal("50")]).map(
            str
        )
    if column == "ordered_at":
        moments = [r["ordered_at"] for r in ROWS]
        return st.tuples(st.sampled_from(moments), st.sampled_from([0, -1, 1, -3600, 86400])).map(
            lambda m: (m[0] + timedelta(seconds=m[1])).isoformat()
        )
    shipped = [r["shipped_on"] for r in ROWS if r["shipped_on"]]
    return st.tuples(st.sampled_from(shipped), st.integers(-1, 1)).map(
        lambda d: (d[0] + timedelta(days=d[1])).isoformat()
    )


OPS = {
    "status": ["eq", "neq", "gt", "lt", "in", "not_in", "in_or_null", "like", "ilike",
               "not_like", "not_ilike", "contains", "starts_with", "ends_with", "between",
               "is_null", "is_not_null"],
    "id": ["eq", "neq", "gte", "lte", "in", "not_in", "between"],
    "customer_id": ["eq", "in_or_null", "not_in"],
    "total": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in"],
    "ordered_at": ["gt", "gte", "lt", "lte", "between", "eq", "date_relative"],
    "shipped_on": ["eq", "neq", "lt", "gte", "is_null", "is_not_null", "in_or_null", "between",
                   "date_relative"],
}  # fmt: skip


@st.composite
def leaf(draw: st.DrawFn) -> dict[str, Any]:
    column = draw(st.sampled_from(sorted(OPS)))
    op = draw(st.sampled_from(OPS[column]))
    value: Any = None
    if op in ("in", "not_in", "in_or_null"):
        value = draw(st.lists(_values(column), max_size=3))
    elif op == "between":
        value = sorted(draw(st.lists(_values(column), min_size=2, max_size=2)))
    elif op in ("like", "ilike", "not_like", "not_ilike"):
        value = draw(st.sampled_from(PATTERNS))
    elif op in ("contains", "starts_with", "ends_with"):
        value = draw(st.sampled_from([*STATUSES, "%", "_", "AI", "ed"]))
    elif op == "date_relative":
        value = draw(
            st.one_of(
                st.sampled_from(list(dates.PRESETS)).map(lambda p: {"preset": p}),
                st.fixed_dictionaries(
                    {"last": st.integers(1, 12), "unit": st.sampled_from(sorted(dates.UNITS))}
                ),
            )
        )
    elif op in ("eq", "neq") and draw(st.integers(0, 5)) == 0:
        value = None
    elif op not in ("is_null", "is_not_null"):
        value = draw(_values(column))
    return {"table_id": "o", "column": column, "operator": op, "value": value}


TREES = st.recursive(
    leaf(),
    lambda kids: st.one_of(
        st.lists(kids, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(kids, max_size=3).map(lambda xs: {"any": xs}),
        kids.map(lambda x: {"not": x}),
    ),
    max_leaves=5,
)


def _like(pattern: str, flags: int = 0) -> Callable[[str], bool]:
    regex = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "%":
            regex.append(".*")
        elif ch == "_":
            regex.append(".")
        else:
            regex.append(re.escape(next(chars, "") if ch == "\\" else ch))
    compiled = re.compile("".join(regex), flags | re.DOTALL)
    return lambda text: compiled.fullmatch(text) is not None


def _coerce(column: str, value: Any) -> Any:
    if value is None or column not in ("total", "ordered_at", "shipped_on"):
        return value
    if column == "total":
        return Decimal(value)
    if column == "ordered_at":
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)
    if column == "shipped_on":
        return date.fromisoformat(value)
    return value


def _relative(value: dict[str, Any]) -> tuple[date, date]:
    if "preset" in value:
        return dates.relative_range(*dates.PRESETS[value["preset"]], now=NOW, tz=PARIS)
    n = value["last"]
    return dates.relative_range(value["unit"], n - 1, n, now=NOW, tz=PARIS)


def truth(node: dict[str, Any], row: dict[str, Any]) -> bool | None:
    """SQL's three-valued truth of a filter node for one row."""
    if "all" in node:
        results = [truth(n, row) for n in node["all"]]
        return False if False in results else (None if None in results else True)
    if "any" in node:
        results = [truth(n, row) for n in node["any"]]
        return True if True in results else (None if None in results else False)
    if "not" in node:
        inner = truth(node["not"], row)
        return None if inner is None else not inner
    column, op, raw = node["column"], node["operator"], node["value"]
    cell = row[column] if column in row else row[node["table_id"], column]
    if op == "is_null" or (op == "eq" and raw is None):
        return cell is None
    if op == "is_not_null" or (op == "neq" and raw is None):
        return cell is not None
    if op in ("in", "not_in", "in_or_null"):
        values = [_coerce(column, v) for v in raw]
        if not values:
            return {"in": False, "not_in": True}.get(op, cell is None)
        if cell is None:
            return True if op == "in_or_null" else None
        return (cell in values) != (op == "not_in")
    if cell is None:
        return None
    if op == "date_relative":
        start, end = _relative(raw)
        day = cell.astimezone(PARIS).date() if isinstance(cell, datetime) else cell
        return start <= day < end
    if op in ("like", "not_like"):
        return _like(raw)(cell) != (op == "not_like")
    if op in ("ilike", "not_ilike"):
        return _like(raw, re.IGNORECASE)(cell) != (op == "not_ilike")
    if op in ("contains", "starts_with", "ends_with"):
        text, needle = cell.lower(), raw.lower()
        return {"contains": needle in text, "starts_with": text.startswith(needle)}.get(
            op, text.endswith(needle)
        )
    if op == "between":
        low, high = (_coerce(column, v) for v in raw)
        return low <= cell <= high
    value = _coerce(column, raw)
    return {
        "eq": cell == value,
        "neq": cell != value,
        "gt": cell > value,
        "gte": cell >= value,
        "lt": cell < value,
        "lte": cell <= value,
    }[op]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(filters=st.lists(TREES, max_size=3))
def test_database_agrees_with_three_valued_oracle(shop: None, filters: list[Any]) -> None:
    definition = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "id"}],
        "filters": filters,
        "order_by": [{"table_id": "o", "column": "id"}],
    }
    compiled = build(definition, SHOP, connection.vendor, now=NOW, tz=PARIS)
    got = [row[0] for row in run(compiled.sql, compiled.params)]
    want = [r["id"] for r in ROWS if all(truth(f, r) is True for f in filters)]
    event(
        "selects none" if not want else "selects all" if len(want) == len(ROWS) else "selects some"
    )
    assert got == want
