"""The ``filters`` section: a tree of ``all``/``any``/``not`` groups over conditions.

Top-level filters are ANDed; each goes to ``where`` (plain) or ``having`` (aggregated); a tree
that mixes both is refused. The filter count and the nesting depth are limited; once the count
is exceeded, parsing of filters stops (one error, not one per extra node).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias, cast

from prismiq_django.query.ast import OPERATORS, Condition, FilterNode, Group, Not, Operator
from prismiq_django.query.catalog import (
    EQUALITY_TYPES,
    ORDERED_TYPES,
    TEMPORAL_TYPES,
    LogicalType,
)
from prismiq_django.query.parse.exprs import parse_expr
from prismiq_django.query.parse.state import FAIL, ParseState, show, suggest
from prismiq_django.query.parse.values import coerce_value, relative_value, valid_text

_EQ_OPS: Final = frozenset({"eq", "neq"})
_ORDER_OPS: Final = frozenset({"gt", "gte", "lt", "lte"})
_LIST_OPS: Final = frozenset({"in", "not_in", "in_or_null"})
_LIKE_OPS: Final = frozenset({"like", "ilike", "not_like", "not_ilike"})
_TEXT_OPS: Final = frozenset({"contains", "starts_with", "ends_with"})
_NULL_OPS: Final = frozenset({"is_null", "is_not_null"})

#: The keys that say what a filter node is; a node has exactly one of them.
_FILTER_SHAPES: Final = ("all", "any", "not", "operator")

#: A parsed node with whether it holds aggregated and plain conditions.
_Parsed: TypeAlias = tuple[FilterNode, bool, bool]


def parse_filters(
    st: ParseState, data: Mapping[str, Any]
) -> tuple[tuple[FilterNode, ...], tuple[FilterNode, ...]]:
    """Return ``(where, having)``: the plain and the aggregated top-level filters."""
    items = st.list_of(data, "filters", required=False)
    where: list[FilterNode] = []
    having: list[FilterNode] = []
    for i, raw in enumerate(items):
        parsed = _filter_node(st, raw, 1, "filters", i)
        if parsed is None:
            continue
        node, has_agg, has_plain = parsed
        if has_agg and has_plain:
            st.error(
                "invalid_definition",
                "A filter group cannot mix aggregated and plain conditions.",
                "filters",
                i,
            )
        elif has_agg:
            having.append(node)
        else:
            where.append(node)
        if st.filter_count > st.limits.max_filters:
            break
    return tuple(where), tuple(having)


def _filter_node(st: ParseState, raw: object, depth: int, *path: str | int) -> _Parsed | None:
    limits = st.limits
    st.filter_count += 1
    if st.filter_count == limits.max_filters + 1:
        st.error("too_complex", f"At most {limits.max_filters} filters.", *path)
    if st.filter_count > limits.max_filters:
        return None
    if depth > limits.max_depth:
        st.error("too_complex", f"Filters nest deeper than {limits.max_depth} levels.", *path)
        return None
    item = st.mapping(raw, *path)
    if item is None:
        return None
    shapes = [key for key in _FILTER_SHAPES if key in item]
    if len(shapes) > 1:
        # {"all": [], "any": [...]} would otherwise keep one part and drop the other.
        st.error(
            "invalid_definition",
            f"A filter has exactly one of 'all', 'any', 'not' or 'operator', not "
            f"{' and '.join(repr(k) for k in shapes)}.",
            *path,
        )
        return None
    if "all" in item:
        return _group(st, "all", item["all"], depth, *path)
    if "any" in item:
        return _group(st, "any", item["any"], depth, *path)
    if "not" in item:
        parsed = _filter_node(st, item["not"], depth + 1, *path, "not")
        if parsed is None:
            return None
        return Not(parsed[0]), parsed[1], parsed[2]
    cond = _condition(st, item, *path)
    if cond is None:
        return None
    agg = cond.expr.is_aggregate
    return cond, agg, not agg


def _group(
    st: ParseState, kind: Literal["all", "any"], children: object, depth: int, *path: str | int
) -> _Parsed | None:
    if not isinstance(children, list):
        st.error("invalid_definition", f"'{kind}' must be a list.", *path, kind)
        return None
    nodes: list[FilterNode] = []
    has_agg = has_plain = False
    for j, child in enumerate(children):
        parsed = _filter_node(st, child, depth + 1, *path, kind, j)
        if parsed is None:
            if st.filter_count > st.limits.max_filters:
                return None
            continue
        nodes.append(parsed[0])
        has_agg |= parsed[1]
        has_plain |= parsed[2]
    return Group(kind, tuple(nodes)), has_agg, has_plain


def _condition(st: ParseState, item: Mapping[str, Any], *path: str | int) -> Condition | None:
    op_raw = item.get("operator")
    op: str | None = op_raw if isinstance(op_raw, str) else None
    if op == "in_":
        op = "in"
    expr = parse_expr(st, item, *path)
    if op is None or op not in OPERATORS:
        if op_raw is None:
            st.error("invalid_definition", "'operator' is required.", *path, "operator")
        else:
            st.error(
                "invalid_operator",
                f"Unknown operator {show(op_raw)}.{suggest(op_raw, OPERATORS)}",
                *path,
                "operator",
            )
        return None
    if expr is None:
        return None
    if expr.col.column is None and expr.aggregation is None:
        return None
    type_ = expr.type
    if not operator_fits(op, type_):
        st.error(
            "invalid_operator",
            f"Operator {op!r} is not available for a {type_} value.",
            *path,
            "operator",
        )
        return None
    value = _filter_value(st, op, type_, item.get("value"), *path, "value")
    if value is FAIL:
        return None
    return Condition(expr, cast(Operator, op), value, path)


def operator_fits(op: str, type_: LogicalType) -> bool:
    """Whether operator ``op`` applies to a value of logical type ``type_``."""
    if op in _NULL_OPS:
        return True
    if op in _EQ_OPS or op in _LIST_OPS:
        return type_ in EQUALITY_TYPES
    if op in _ORDER_OPS or op == "between":
        return type_ in ORDERED_TYPES
    if op in _LIKE_OPS or op in _TEXT_OPS:
        return type_ == "string"
    return type_ in TEMPORAL_TYPES  # date_relative


def _filter_value(
    st: ParseState, op: str, type_: LogicalType, raw: Any, *path: str | int
) -> object:
    if op in _NULL_OPS:
        return None
    if op in _EQ_OPS and raw is None:
        return None
    if op in _LIST_OPS or op == "between":
        if not isinstance(raw, list):
            st.error("invalid_value", f"Operator {op!r} needs a list value.", *path)
            return FAIL
        if op == "between" and len(raw) != 2:
            st.error("invalid_value", "'between' needs exactly [low, high].", *path)
            return FAIL
        if len(raw) > st.limits.max_list_values:
            st.error("too_complex", f"At most {st.limits.max_list_values} list values.", *path)
            return FAIL
        out = []
        ok = True
        for j, element in enumerate(raw):
            value = coerce_value(st, element, type_, *path, j)
            ok = ok and value is not FAIL
            out.append(value)
        return tuple(out) if ok else FAIL
    if op == "date_relative":
        return relative_value(st, raw, type_, *path)
    if op in _TEXT_OPS or op in _LIKE_OPS:
        if not isinstance(raw, str) or not valid_text(raw):
            st.error("invalid_value", f"Operator {op!r} needs a text value.", *path)
            return FAIL
        if op in _LIKE_OPS and (len(raw) - len(raw.rstrip("\\"))) % 2:
            st.error("invalid_value", "A LIKE pattern cannot end with the escape character.", *path)
            return FAIL
        return raw
    return coerce_value(st, raw, type_, *path)


__all__ = ["operator_fits", "parse_filters"]
