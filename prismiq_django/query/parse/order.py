"""The ``order_by`` section: sort keys by output alias or by expression.

A ``time_series`` sorts by its bucket first. A sort expression that is already an output column
becomes a reference to that output (``ORDER BY 2``): a plain column matches the first
non-aggregated output reading that column (truncated or not), an aggregate matches the same
aggregate. ``json`` and ``unknown`` values cannot be sorted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from prismiq_django.query.ast import (
    ColumnKey,
    Direction,
    Expr,
    ExprKey,
    OrderItem,
    SelectItem,
    expr_key,
)
from prismiq_django.query.catalog import UNSORTABLE_TYPES
from prismiq_django.query.parse.exprs import parse_expr
from prismiq_django.query.parse.state import ParseState, show, suggest


def parse_order_by(
    st: ParseState, data: Mapping[str, Any], select: tuple[SelectItem, ...]
) -> tuple[OrderItem, ...]:
    """Read ``order_by``; record each item's request path in ``st.order_paths``."""
    out: list[OrderItem] = []
    if isinstance(data.get("time_series"), (dict, Mapping)) and select:
        out.append(OrderItem("ASC", output=0))
        st.order_paths.append(("time_series",))
    items = st.list_of(data, "order_by", required=False)
    if len(items) > st.limits.max_columns:
        st.error("too_complex", f"At most {st.limits.max_columns} order_by.", "order_by")
        return tuple(out)
    if not items:
        return tuple(out)
    names = {s.name: n for n, s in enumerate(select)}
    outputs: tuple[dict[ColumnKey, int], dict[ExprKey, int]] | None = None  # built on first use
    for i, raw in enumerate(items):
        item = st.mapping(raw, "order_by", i)
        if item is None:
            continue
        direction_raw = item.get("direction", "ASC")
        direction = direction_raw.upper() if isinstance(direction_raw, str) else None
        if direction not in ("ASC", "DESC"):
            st.error(
                "invalid_value", "'direction' must be ASC or DESC.", "order_by", i, "direction"
            )
            continue
        dir_ = cast(Direction, direction)
        if "alias" in item and "table_id" not in item:
            alias = item["alias"]
            if isinstance(alias, str) and alias in names:
                out.append(OrderItem(dir_, output=names[alias]))
                st.order_paths.append(("order_by", i))
            else:
                st.error(
                    "invalid_reference",
                    f"No output column is called {show(alias)}.{suggest(alias, names)}",
                    "order_by",
                    i,
                    "alias",
                )
            continue
        expr = parse_expr(st, item, "order_by", i)
        if expr is None:
            continue
        if outputs is None:
            outputs = _outputs(select)
        if expr.aggregation is None:
            position = outputs[0].get(expr.col.key)
        else:
            position = outputs[1].get(expr_key(expr))
        if position is not None:
            out.append(OrderItem(dir_, output=position))
        else:
            out.append(OrderItem(dir_, expr=expr))
        st.order_paths.append(("order_by", i))
    return tuple(out)


def _outputs(
    select: tuple[SelectItem, ...],
) -> tuple[dict[ColumnKey, int], dict[ExprKey, int]]:
    """Output positions by column (first non-aggregated output reading it) and by expression."""
    by_column: dict[ColumnKey, int] = {}
    by_expr: dict[ExprKey, int] = {}
    for n, s in enumerate(select):
        if not s.expr.is_aggregate:
            by_column.setdefault(s.expr.col.key, n)
        by_expr.setdefault(expr_key(s.expr), n)
    return by_column, by_expr


def check_order_sortable(
    st: ParseState, order: tuple[OrderItem, ...], select: tuple[SelectItem, ...]
) -> None:
    """Refuse sort keys whose values have no portable ordering."""
    for o, path in zip(order, st.order_paths, strict=True):
        expr = o.expr if o.output is None else select[o.output].expr
        if expr is not None and expr.type in UNSORTABLE_TYPES:
            st.error("invalid_definition", f"A {expr.type} value cannot be sorted.", *path)


def check_order_grouped(
    st: ParseState, order: tuple[OrderItem, ...], group_by: tuple[Expr, ...]
) -> None:
    """In an aggregated query, refuse plain sort keys on columns that are not grouped."""
    grouped = {e.col.key for e in group_by}
    for o, path in zip(order, st.order_paths, strict=True):
        expr = o.expr
        if expr is not None and not expr.is_aggregate and expr.col.key not in grouped:
            st.error(
                "invalid_definition",
                "In an aggregated query, order_by needs a grouped column or an aggregate.",
                *path,
            )


__all__ = ["check_order_grouped", "check_order_sortable", "parse_order_by"]
