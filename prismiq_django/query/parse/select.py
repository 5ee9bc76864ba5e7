"""The output columns: ``time_series`` (the bucket, always first) then ``columns``.

Every output column has a unique name (its ``alias``, or the column name, or ``count`` for
``count(*)``) that the database can carry faithfully. ``st.select_paths`` records where each
output column came from, for the error paths of later checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from prismiq_django.query.ast import TRUNC_UNITS, Expr, SelectItem, TruncUnit
from prismiq_django.query.catalog import TEMPORAL_TYPES
from prismiq_django.query.limits import MAX_IDENTIFIER_BYTES
from prismiq_django.query.parse.exprs import check_expr, parse_expr
from prismiq_django.query.parse.state import ParseState, Path, show, suggest


def parse_columns(st: ParseState, data: Mapping[str, Any]) -> tuple[SelectItem, ...]:
    """Read ``time_series`` and ``columns`` into the select list."""
    items = st.list_of(data, "columns", required=True)
    if not items and isinstance(data.get("columns"), list):
        st.error("invalid_definition", "At least one column is required.", "columns")
    if len(items) > st.limits.max_columns:
        st.error("too_complex", f"At most {st.limits.max_columns} columns.", "columns")
        return ()
    select: list[SelectItem] = []
    names: dict[str, Path] = {}
    bucket = _parse_time_series(st, data)
    if bucket is not None:
        select.append(bucket)
        names[bucket.name] = ("time_series",)
        st.select_paths.append(("time_series",))
    for i, raw in enumerate(items):
        item = st.mapping(raw, "columns", i)
        if item is None:
            continue
        expr = parse_expr(st, item, "columns", i, allow_trunc=True)
        if expr is None:
            continue
        column = expr.col.column
        default = column.name if column is not None else "count"
        name = _output_name(st, item.get("alias"), default, "columns", i)
        if name is None:
            continue
        if name in names:
            st.error(
                "invalid_definition",
                f"Duplicate output column name {show(name)}; give one of them an alias.",
                "columns",
                i,
                "alias" if "alias" in item else "column",
            )
            continue
        names[name] = ("columns", i)
        st.select_paths.append(names[name])
        select.append(SelectItem(expr, name))
    return tuple(select)


def _parse_time_series(st: ParseState, data: Mapping[str, Any]) -> SelectItem | None:
    raw = data.get("time_series")
    if raw is None:
        return None
    item = st.mapping(raw, "time_series")
    if item is None:
        return None
    col = st.column_ref(item, "table_id", "date_column", "time_series")
    interval = item.get("interval")
    if not isinstance(interval, str) or interval not in TRUNC_UNITS:
        st.error(
            "invalid_value",
            f"Unknown interval {show(interval)}.{suggest(interval, TRUNC_UNITS)}",
            "time_series",
            "interval",
        )
        return None
    if col is None or col.column is None:
        return None
    if col.type not in TEMPORAL_TYPES:
        st.error(
            "invalid_value",
            "time_series needs a date or datetime column.",
            "time_series",
            "date_column",
        )
        return None
    expr = check_expr(st, Expr(col, None, cast(TruncUnit, interval)), "time_series")
    name = _output_name(st, item.get("alias"), col.column.name, "time_series")
    if expr is None or name is None:
        return None
    return SelectItem(expr, name)


def _output_name(st: ParseState, raw: object, default: str, *path: str | int) -> str | None:
    """The output column name: ``raw`` (the alias) if given and carried faithfully, else
    ``default``; None (with an error) for an unusable alias."""
    if raw is None:
        return default
    if not isinstance(raw, str) or not raw:
        st.error("invalid_value", "'alias' must be a non-empty string.", *path, "alias")
        return None
    if "\x00" in raw or "[" in raw:
        # NUL: no database carries it. "[": Python's sqlite3 (as Django configures it) cuts
        # column names at "[" and looks up a value converter by what follows.
        st.error("invalid_value", "'alias' cannot contain a NUL or '[' character.", *path, "alias")
        return None
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:
        st.error("invalid_value", "'alias' is not valid Unicode text.", *path, "alias")
        return None
    if size > MAX_IDENTIFIER_BYTES:
        st.error(
            "invalid_value",
            f"'alias' is longer than {MAX_IDENTIFIER_BYTES} bytes in UTF-8.",
            *path,
            "alias",
        )
        return None
    return raw


__all__ = ["parse_columns"]
