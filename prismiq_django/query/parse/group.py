"""The ``group_by`` section, and the final GROUP BY of an aggregated query.

When ``group_by`` is empty it is derived from the non-aggregated output columns. When it is given,
a grouped column that is selected (possibly truncated) groups by its selected expression, every
non-aggregated output column must be grouped, and the ``time_series`` bucket always is. ``json``
and ``unknown`` values cannot be grouped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prismiq_django.query.ast import ColumnKey, ColumnRef, Expr, ExprKey, SelectItem, expr_key
from prismiq_django.query.catalog import UNSORTABLE_TYPES
from prismiq_django.query.parse.state import ParseState, show


def parse_group_by(st: ParseState, data: Mapping[str, Any]) -> list[ColumnRef]:
    """The columns listed in ``group_by`` (request order)."""
    out: list[ColumnRef] = []
    items = st.list_of(data, "group_by", required=False)
    if len(items) > st.limits.max_columns:
        st.error("too_complex", f"At most {st.limits.max_columns} group_by.", "group_by")
        return out
    for i, raw in enumerate(items):
        item = st.mapping(raw, "group_by", i)
        if item is None:
            continue
        col = st.column_ref(item, "table_id", "column", "group_by", i)
        if col is not None:
            out.append(col)
    return out


def resolve_group_by(
    st: ParseState, raw: list[ColumnRef], select: tuple[SelectItem, ...]
) -> tuple[Expr, ...]:
    """The GROUP BY expressions of an aggregated query, without duplicates, in a stable order."""
    paths = st.select_paths
    for s, path in zip(select, paths, strict=True):
        if not s.expr.is_aggregate and s.expr.type in UNSORTABLE_TYPES:
            st.error(
                "invalid_definition",
                f"A {s.expr.type} column cannot be grouped; aggregate it with count.",
                *path,
            )
    for i, col in enumerate(raw):
        if col.type in UNSORTABLE_TYPES:
            st.error("invalid_definition", f"A {col.type} column cannot be grouped.", "group_by", i)
    plain = [s.expr for s in select if not s.expr.is_aggregate]
    result: dict[ExprKey, Expr] = {}
    if not raw:
        for expr in plain:
            result.setdefault(expr_key(expr), expr)
        return tuple(result.values())
    selected: dict[ColumnKey, list[Expr]] = {}
    for expr in plain:
        selected.setdefault(expr.col.key, []).append(expr)
    grouped_cols: set[ColumnKey] = set()
    for col in raw:
        ident = col.key
        grouped_cols.add(ident)
        for expr in selected.get(ident) or [Expr(col)]:
            result.setdefault(expr_key(expr), expr)
    for s, path in zip(select, paths, strict=True):
        if s.expr.is_aggregate:
            continue
        if path == ("time_series",):  # the bucket is always grouped
            result.setdefault(expr_key(s.expr), s.expr)
        elif s.expr.col.key not in grouped_cols:
            st.error(
                "invalid_definition",
                f"Output column {show(s.name)} must be aggregated or listed in group_by.",
                *path,
            )
    return tuple(result.values())


__all__ = ["parse_group_by", "resolve_group_by"]
