"""The ``tables`` and ``joins`` sections: declared table ids, and the join tree over them.

Joins are reordered so that each one brings exactly one new table into the FROM clause, starting
from the first declared table (a join given the other way round is flipped, LEFT <-> RIGHT);
every declared table must end up connected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from prismiq_django.query.ast import JOIN_TYPES, Join, JoinType, TableRef
from prismiq_django.query.catalog import JOINABLE_TYPES, NUMERIC_TYPES
from prismiq_django.query.parse.state import ParseState, show, suggest
from prismiq_django.query.tenancy import missing_tenant_scope

_FLIP: Final[dict[str, JoinType]] = {
    "LEFT": "RIGHT",
    "RIGHT": "LEFT",
    "INNER": "INNER",
    "FULL": "FULL",
}


def parse_tables(st: ParseState, data: Mapping[str, Any]) -> None:
    """Fill ``st.refs`` (id -> :class:`TableRef`) from ``tables``.

    A table that is unknown or lacks its tenant scope is refused and its id remembered in
    ``st.bad_ids`` so that references to it are not reported a second time.
    """
    errors_before = len(st.errors)
    items = st.list_of(data, "tables", required=True)
    if not items and isinstance(data.get("tables"), list):
        st.error("invalid_definition", "At least one table is required.", "tables")
    if len(items) > st.limits.max_tables:
        st.error("too_complex", f"At most {st.limits.max_tables} tables.", "tables")
    if len(st.errors) > errors_before:
        st.tables_refused = True
        return
    catalog = st.catalog
    for i, raw in enumerate(items):
        item = st.mapping(raw, "tables", i)
        if item is None:
            continue
        table_id = st.text(item, "id", "tables", i)
        name = item.get("name")
        table = None
        if isinstance(name, str):
            table = catalog.table(name)
            if table is None:
                st.error(
                    "table_not_found",
                    f"Table {show(name)} not found.{suggest(name, catalog.tables)}",
                    "tables",
                    i,
                    "name",
                )
            else:
                unscoped = missing_tenant_scope(catalog, table, i)
                if unscoped is not None:
                    st.errors.append(unscoped)
                    table = None
        elif name is None:
            st.error("invalid_definition", "'name' is required.", "tables", i, "name")
        else:
            st.error("invalid_value", "'name' must be a string.", "tables", i, "name")
        if table_id is None:
            continue
        if table_id in st.refs:
            st.error(
                "invalid_definition",
                f"Duplicate table id {show(table_id)}.",
                "tables",
                i,
                "id",
            )
            continue
        if table is not None:
            st.refs[table_id] = TableRef(table_id, table, i)
        else:
            st.bad_ids.add(table_id)


def parse_joins(st: ParseState, data: Mapping[str, Any]) -> tuple[Join, ...]:
    """Read ``joins``; return them in emission order (empty when anything was refused)."""
    items = st.list_of(data, "joins", required=False)
    if len(items) > st.limits.max_tables:
        st.error("too_complex", f"At most {st.limits.max_tables} joins.", "joins")
        return ()
    pending: list[Join] = []
    for i, raw in enumerate(items):
        item = st.mapping(raw, "joins", i)
        if item is None:
            continue
        left = st.column_ref(item, "from_table_id", "from_column", "joins", i)
        right = st.column_ref(item, "to_table_id", "to_column", "joins", i)
        kind_raw = item.get("join_type", "INNER")
        kind = kind_raw.upper() if isinstance(kind_raw, str) else None
        if kind not in JOIN_TYPES:
            st.error(
                "invalid_join", f"Unknown join type {show(kind_raw)}.", "joins", i, "join_type"
            )
            continue
        if left is None or right is None:
            continue
        lt, rt = left.type, right.type
        if (
            lt not in JOINABLE_TYPES
            or rt not in JOINABLE_TYPES
            or (lt != rt and not (lt in NUMERIC_TYPES and rt in NUMERIC_TYPES))
        ):
            st.error("invalid_join", f"Cannot join a {lt} column to a {rt} column.", "joins", i)
            continue
        if left.ref.position == right.ref.position:
            st.error("invalid_join", "A join needs two different tables.", "joins", i)
            continue
        pending.append(Join(left, right, cast(JoinType, kind), i))
    if st.errors or not st.refs:
        return ()
    return _order_joins(st, pending)


def _order_joins(st: ParseState, pending: list[Join]) -> tuple[Join, ...]:
    first = min(st.refs.values(), key=lambda r: r.position)
    introduced = {first.position}
    ordered: list[Join] = []
    progress = True
    while pending and progress:
        progress = False
        for join in list(pending):
            lp, rp = join.left.ref.position, join.right.ref.position
            if lp in introduced and rp in introduced:
                st.error(
                    "invalid_join",
                    "This join connects two tables that are already joined.",
                    "joins",
                    join.index,
                )
            elif lp in introduced:
                ordered.append(join)
                introduced.add(rp)
            elif rp in introduced:
                ordered.append(Join(join.right, join.left, _FLIP[join.kind], join.index))
                introduced.add(lp)
            else:
                continue
            pending.remove(join)
            progress = True
    for join in pending:
        st.error(
            "invalid_join",
            "This join is not connected to the first table.",
            "joins",
            join.index,
        )
    for ref in st.refs.values():
        if ref.position not in introduced:
            st.error(
                "invalid_join",
                f"Table id {show(ref.id)} is not joined to the other tables.",
                "tables",
                ref.position,
            )
    return tuple(ordered)


__all__ = ["parse_joins", "parse_tables"]
