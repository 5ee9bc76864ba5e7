"""Column expressions of a request: a column, optionally truncated, optionally aggregated.

Used by output columns, filters and sort keys. :func:`check_expr` holds the typing rules: which
columns can be truncated, and which aggregation fits which column type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from prismiq_django.query.ast import TRUNC_UNITS, Aggregation, Expr, TruncUnit
from prismiq_django.query.catalog import (
    JOINABLE_TYPES,
    NUMERIC_TYPES,
    ORDERED_TYPES,
    TEMPORAL_TYPES,
)
from prismiq_django.query.parse.state import FAIL, ParseState, show, suggest


def parse_expr(
    st: ParseState,
    item: Mapping[str, Any],
    *path: str | int,
    table_key: str = "table_id",
    column_key: str = "column",
    allow_trunc: bool = False,
) -> Expr | None:
    """Read ``item``'s column reference, ``aggregation`` and (if allowed) ``date_trunc``.

    ``"*"`` is a column only under ``count``. Returns None when anything was refused.
    """
    agg = st.aggregation(item, *path)
    col = st.column_ref(item, table_key, column_key, *path, star=agg == "count")
    trunc_raw = item.get("date_trunc") if allow_trunc else None
    trunc: TruncUnit | None = None
    if trunc_raw is not None:
        if not isinstance(trunc_raw, str) or trunc_raw not in TRUNC_UNITS:
            st.error(
                "invalid_value",
                f"Unknown date_trunc {show(trunc_raw)}.{suggest(trunc_raw, TRUNC_UNITS)}",
                *path,
                "date_trunc",
            )
            return None
        trunc = cast(TruncUnit, trunc_raw)
    if col is None or agg is FAIL:
        return None
    aggregation = cast("Aggregation | None", agg)
    return check_expr(st, Expr(col, aggregation, trunc), *path)


def check_expr(st: ParseState, expr: Expr, *path: str | int) -> Expr | None:
    """Return ``expr`` when its truncation and aggregation fit its column's type, else None."""
    base = expr.col.type
    agg = expr.aggregation
    if expr.date_trunc is not None:
        if base not in TEMPORAL_TYPES:
            st.error(
                "invalid_value",
                "date_trunc needs a date or datetime column.",
                *path,
                "date_trunc",
            )
            return None
        if base == "date" and expr.date_trunc in ("minute", "hour"):
            st.error(
                "invalid_value",
                f"A date column cannot be truncated to the {expr.date_trunc}.",
                *path,
                "date_trunc",
            )
            return None
        if agg is not None:
            st.error(
                "invalid_aggregation",
                "date_trunc cannot be combined with an aggregation.",
                *path,
                "aggregation",
            )
            return None
    if agg is None or agg == "count":
        return expr
    ok = (
        (agg in ("sum", "avg") and base in NUMERIC_TYPES)
        or (agg in ("min", "max") and base in ORDERED_TYPES)
        or (agg == "count_distinct" and base in JOINABLE_TYPES)
    )
    if not ok:
        st.error(
            "invalid_aggregation",
            f"Aggregation {agg!r} is not available for a {base} column.",
            *path,
            "aggregation",
        )
        return None
    return expr


__all__ = ["check_expr", "parse_expr"]
