"""Request dict -> validated :class:`~prismiq_django.query.ast.Query`.

:func:`parse` checks every name against the :class:`Catalog`, coerces every value to its column's
type, enforces the complexity :class:`Limits`, and reports *all* problems of a request at once as
one :class:`QueryValidationError` (each with a stable code and a JSON-pointer path). Whatever the
input — wrong JSON shapes, hostile strings, huge lists, deep nesting — nothing but a
``QueryError`` escapes. Unknown keys are ignored.

This module runs the sections in order and validates paging; each section lives in its own
module: ``parse_tables`` (tables, joins), ``parse_select`` (columns, time_series),
``parse_filters`` (filter trees; values in ``parse_values``), ``parse_group`` and
``parse_order``. ``parse_state`` holds the error list and the shared reading helpers,
``parse_exprs`` the column-expression rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

from prismiq_django.query import dates
from prismiq_django.query.ast import Expr, Query, expr_key
from prismiq_django.query.catalog import Catalog
from prismiq_django.query.errors import QueryValidationError
from prismiq_django.query.limits import DEFAULT_LIMITS, MAX_IDENTIFIER_BYTES, Limits
from prismiq_django.query.parse.filters import parse_filters
from prismiq_django.query.parse.group import parse_group_by, resolve_group_by
from prismiq_django.query.parse.order import (
    check_order_grouped,
    check_order_sortable,
    parse_order_by,
)
from prismiq_django.query.parse.select import parse_columns
from prismiq_django.query.parse.state import ParseState
from prismiq_django.query.parse.tables import parse_joins, parse_tables


def parse(
    data: object,
    catalog: Catalog,
    *,
    limits: Limits = DEFAULT_LIMITS,
    now: datetime | None = None,
    tz: tzinfo = UTC,
    naive_datetimes: bool = False,
) -> Query:
    """Validate a query definition against ``catalog`` and return its AST.

    ``now`` (default: the current time) and ``tz`` (default UTC; a ``ZoneInfo`` or UTC) resolve
    ``date_relative`` filters and naive datetime values, and name the zone of date truncation.
    ``naive_datetimes`` (``not settings.USE_TZ``): the stored datetimes are naive wall-clock
    times in ``tz`` (:attr:`Query.naive_datetimes`).
    Raises :class:`QueryValidationError` listing every problem found.
    """
    current = now if now is not None else datetime.now(tz)
    st = ParseState(catalog, limits, current, tz)
    if not isinstance(data, (dict, Mapping)):
        st.error("invalid_definition", "The query definition must be an object.")
        raise QueryValidationError(st.errors)
    parse_tables(st, data)
    joins = parse_joins(st, data)
    select = parse_columns(st, data)
    where, having = parse_filters(st, data)
    group_by_raw = parse_group_by(st, data)
    order = parse_order_by(st, data, select)
    limit, offset = parse_paging(st, data)
    check_order_sortable(st, order, select)
    if st.errors:
        raise QueryValidationError(st.errors)
    aggregated = (
        bool(having)
        or bool(group_by_raw)
        or any(s.expr.is_aggregate for s in select)
        or any(o.expr is not None and o.expr.is_aggregate for o in order)
        or isinstance(data.get("time_series"), (dict, Mapping))
    )
    group_by: tuple[Expr, ...] = ()
    if aggregated:
        group_by = resolve_group_by(st, group_by_raw, select)
        check_order_grouped(st, order, group_by)
        if st.errors:
            raise QueryValidationError(st.errors)
    return Query(
        tables=tuple(st.refs.values()),
        joins=joins,
        select=select,
        where=where,
        having=having,
        group_by=group_by,
        order_by=order,
        limit=limit,
        offset=offset,
        tz_name=dates.tz_name(tz),
        naive_datetimes=naive_datetimes,
    )


#: Largest accepted ``offset``.
MAX_OFFSET: Final = 2**62


def parse_paging(st: ParseState, data: Mapping[str, Any]) -> tuple[int, int]:
    """``limit`` (capped at ``max_rows``; default ``max_rows``) and ``offset`` (default 0)."""
    limit = st.limits.max_rows
    raw = data.get("limit")
    if raw is not None:
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
            st.error("invalid_value", "'limit' must be an integer >= 0.", "limit")
        else:
            limit = min(raw, st.limits.max_rows)
    offset = 0
    raw = data.get("offset")
    if raw is not None:
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
            st.error("invalid_value", "'offset' must be an integer >= 0.", "offset")
        elif raw > MAX_OFFSET:
            st.error("invalid_value", f"'offset' must be at most {MAX_OFFSET}.", "offset")
        else:
            offset = raw
    return limit, offset


__all__ = ["DEFAULT_LIMITS", "MAX_IDENTIFIER_BYTES", "Limits", "expr_key", "parse"]
