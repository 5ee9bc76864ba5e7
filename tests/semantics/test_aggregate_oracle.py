"""Random grouped queries (keys, time buckets, aggregates, HAVING) agree with Python.

Hypothesis picks the grouping key (a column or a time bucket in a random time zone), a few
aggregates, an optional HAVING condition and a sort on an aggregate; the rows returned on the
``default`` connection must equal a group-by computed in Python over the fixture rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prismiq_django.query import build
from tests.query.catalogs import SHOP
from tests.semantics.conftest import run
from tests.semantics.test_oracle import ROWS
from tests.semantics.test_semantics import _bucket, norm

ZONES = [UTC, ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Kolkata"), ZoneInfo("America/Los_Angeles")]
AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "count": lambda xs: sum(x is not None for x in xs),
    "count_distinct": lambda xs: len({x for x in xs if x is not None}),
    "sum": lambda xs: (
        sum(x for x in xs if x is not None) if any(x is not None for x in xs) else None
    ),
    "avg": lambda xs: sum(v) / len(v) if (v := [Decimal(x) for x in xs if x is not None]) else None,
    "min": lambda xs: min((x for x in xs if x is not None), default=None),
    "max": lambda xs: max((x for x in xs if x is not None), default=None),
}
MEASURES = {
    "total": list(AGGREGATES),
    "customer_id": list(AGGREGATES),
    "shipped_on": ["count", "count_distinct", "min", "max"],
}


def _key(row: dict[str, Any], key: tuple[str, str | None], tz: Any) -> Any:
    column, unit = key
    value = row[column]
    if unit is None:
        return value
    local = value.astimezone(tz).replace(tzinfo=None)
    return _bucket(local, unit)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=st.one_of(
        st.sampled_from([("status", None), ("customer_id", None)]),
        st.tuples(
            st.just("ordered_at"),
            st.sampled_from(["hour", "day", "week", "month", "quarter", "year"]),
        ),
    ),
    measures=st.lists(
        st.sampled_from(sorted(MEASURES)).flatmap(
            lambda col: st.tuples(st.just(col), st.sampled_from(MEASURES[col]))
        ),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    having=st.one_of(st.none(), st.tuples(st.sampled_from(["gt", "lte"]), st.integers(0, 3))),
    tz=st.sampled_from(ZONES),
    descending=st.booleans(),
)
def test_grouped_aggregates_match_python(
    shop: None,
    key: tuple[str, str | None],
    measures: list[tuple[str, str]],
    having: tuple[str, int] | None,
    tz: Any,
    descending: bool,
) -> None:
    key_column = {"table_id": "o", "column": key[0], "alias": "k"}
    if key[1]:
        key_column["date_trunc"] = key[1]
    definition: dict[str, Any] = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [
            key_column,
            *(
                {"table_id": "o", "column": col, "aggregation": agg, "alias": f"m{i}"}
                for i, (col, agg) in enumerate(measures)
            ),
        ],
        "filters": [],
        "order_by": [{"alias": "k", "direction": "DESC" if descending else "ASC"}],
    }
    if having:
        definition["filters"].append(
            {"table_id": "o", "column": "*", "aggregation": "count", "operator": having[0],
             "value": having[1]}
        )  # fmt: skip
    compiled = build(
        definition, SHOP, connection.vendor, tz=tz, now=datetime(2024, 1, 1, tzinfo=UTC)
    )
    got = [tuple(norm(v) for v in row) for row in run(compiled.sql, compiled.params)]

    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in ROWS:
        groups.setdefault(_key(row, key, tz), []).append(row)
    want = []
    for group_key, members in groups.items():
        if having:
            op, n = having
            if not (len(members) > n if op == "gt" else len(members) <= n):
                continue
        values = [AGGREGATES[agg]([m[col] for m in members]) for col, agg in measures]
        want.append((norm(group_key), *(norm(v) for v in values)))
    want.sort(key=lambda r: (r[0] is None, r[0]), reverse=descending)
    assert got == want
