"""The filter merge (SPEC section 9): declared filters + their values -> extra filter nodes.

Pure, no Django, and the only place a dashboard filter (or a saved query's declared parameter)
turns into query filters. :func:`merge_filters` returns a copy of the query definition whose
top-level ``filters`` list ends with one node per (filter, matching table reference):

- a filter applies to every table reference of the query whose exposed name equals its
  ``table``; with no ``table``, to the first table of the query that has an exposed column
  ``field``; where it matches nothing it does not apply;
- its value is the request's (a null one switches it off), else ``default_value``, else
  ``date_preset``, else the filter is off;
- ``select`` -> ``eq``; ``multi_select`` -> ``in_`` (empty list: off); ``text`` -> ``contains``
  (empty string: off); ``number_range`` ``{min, max}`` -> ``gte``/``lte`` (a null bound is no
  bound); ``date_range`` ``{start, end}`` -> ``gte start`` and ``lt end + 1 day`` (both days
  included whole), a preset or ``{last, unit}`` -> ``date_relative``.

Values are checked against the column's type exactly as the parser will coerce them; a value that
does not fit is an ``invalid_value`` at the path it came from (``/filter_values/<i>/value`` for a
request's, ``<declaration>/default_value`` for a default). A filter whose type cannot apply to
the column it matched (``text`` on a number) is ``invalid_operator`` at ``<declaration>/field``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta, tzinfo
from typing import Any, Final, TypeAlias

from prismiq_django.query.catalog import NUMERIC_TYPES, TEMPORAL_TYPES, Catalog, Column
from prismiq_django.query.errors import ErrorDetail, QueryValidationError
from prismiq_django.query.filter_decl import DeclaredFilter, FilterValue
from prismiq_django.query.limits import DEFAULT_LIMITS
from prismiq_django.query.parse.filters import operator_fits
from prismiq_django.query.parse.state import FAIL
from prismiq_django.query.parse.values import coerce

#: The operator each filter type needs the column to support.
_OPERATOR: Final = {
    "select": "eq",
    "multi_select": "in",
    "text": "contains",
    "number_range": "gte",
    "date_range": "date_relative",
}


def merge_filters(
    query: Mapping[str, Any],
    catalog: Catalog,
    declared: Sequence[DeclaredFilter],
    values: Mapping[str, FilterValue],
    *,
    tz: tzinfo,
    max_list_values: int = DEFAULT_LIMITS.max_list_values,
) -> dict[str, Any]:
    """Return ``query`` with the filters of ``declared`` (valued by ``values``) ANDed to its
    top-level ``filters``; ``query`` itself is not changed. Raises
    :class:`QueryValidationError` with every problem (see the module docstring)."""
    merged = dict(query)
    refs = _table_refs(query)
    nodes: list[dict[str, Any]] = []
    errors: list[ErrorDetail] = []
    for declaration in declared:
        chosen = _chosen(declaration, values)
        if chosen is None:
            continue
        for table_id, table_name, column in _targets(declaration, refs, catalog):
            nodes.extend(
                _nodes(
                    declaration, chosen, table_id, table_name, column, tz, max_list_values, errors
                )
            )
    if errors:
        raise QueryValidationError(errors)
    if not nodes:
        return merged
    existing = query.get("filters")
    if existing is None:
        existing = []
    if not isinstance(existing, list):
        return merged  # the parser refuses it with its own path
    merged["filters"] = [*existing, *nodes]
    return merged


def _table_refs(query: Mapping[str, Any]) -> list[tuple[str, str]]:
    tables = query.get("tables")
    if not isinstance(tables, list):
        return []
    return [
        (item["id"], item["name"])
        for item in tables
        if isinstance(item, Mapping)
        and isinstance(item.get("id"), str)
        and isinstance(item.get("name"), str)
    ]


def _is_off(type_: str, value: object) -> bool:
    if value is None:
        return True
    if type_ == "multi_select":
        return value == []
    if type_ == "text":
        return value == ""
    if isinstance(value, Mapping) and type_ in ("number_range", "date_range"):
        keys = ("min", "max") if type_ == "number_range" else ("start", "end")
        return set(value) <= set(keys) and all(value.get(k) is None for k in keys)
    return False


def _chosen(declaration: DeclaredFilter, values: Mapping[str, FilterValue]) -> FilterValue | None:
    """The value in force: the request's, else the default, else the date preset; None = off."""
    given = values.get(declaration.id)
    if given is not None:
        return None if _is_off(declaration.type, given.value) else given
    default = declaration.default_value
    if not _is_off(declaration.type, default):
        return FilterValue(default, f"{declaration.path}/default_value")
    if declaration.type == "date_range" and declaration.date_preset is not None:
        return FilterValue(declaration.date_preset, f"{declaration.path}/date_preset")
    return None


def _targets(
    declaration: DeclaredFilter, refs: list[tuple[str, str]], catalog: Catalog
) -> list[tuple[str, str, Column]]:
    out: list[tuple[str, str, Column]] = []
    for table_id, name in refs:
        if declaration.table is not None and name != declaration.table:
            continue
        table = catalog.table(name)
        column = table.column(declaration.field) if table is not None else None
        if column is None:
            continue
        out.append((table_id, name, column))
        if declaration.table is None:
            break  # the first table that has the field
    return out


def _nodes(
    declaration: DeclaredFilter,
    chosen: FilterValue,
    table_id: str,
    table_name: str,
    column: Column,
    tz: tzinfo,
    max_list_values: int,
    errors: list[ErrorDetail],
) -> list[dict[str, Any]]:
    kind = declaration.type
    type_ = column.type
    fits = operator_fits(_OPERATOR[kind], type_)
    if kind == "number_range":
        fits = type_ in NUMERIC_TYPES
    elif kind == "date_range":
        fits = type_ in TEMPORAL_TYPES
    if not fits:
        errors.append(
            ErrorDetail(
                "invalid_operator",
                f"A {kind} filter cannot apply to {table_name}.{column.name}, a {type_} column.",
                f"{declaration.path}/field",
            )
        )
        return []
    value = chosen.value

    def node(operator: str, operand: object) -> dict[str, Any]:
        return {"table_id": table_id, "column": column.name, "operator": operator, "value": operand}

    def bad(message: str) -> list[dict[str, Any]]:
        errors.append(ErrorDetail("invalid_value", message, chosen.path))
        return []

    def fits_column(raw: object) -> bool:
        return coerce(raw, type_, tz) is not FAIL

    if kind == "select":
        return [node("eq", value)] if fits_column(value) else bad(_not_a(value, type_))
    if kind == "text":
        return [node("contains", value)] if fits_column(value) else bad("Not a valid text value.")
    if kind == "multi_select":
        assert isinstance(value, list)
        if len(value) > max_list_values:
            errors.append(
                ErrorDetail("too_complex", f"At most {max_list_values} values.", chosen.path)
            )
            return []
        wrong = [v for v in value if not fits_column(v)]
        return bad(_not_a(wrong[0], type_)) if wrong else [node("in_", list(value))]
    if kind == "number_range":
        assert isinstance(value, Mapping)
        out = []
        for key, operator in (("min", "gte"), ("max", "lte")):
            bound = value.get(key)
            if bound is None:
                continue
            if not fits_column(bound):
                return bad(f"'{key}': {_not_a(bound, type_)}")
            out.append(node(operator, bound))
        return out
    return _date_nodes(value, node, bad, fits_column)


_Node: TypeAlias = Callable[[str, object], dict[str, Any]]
_Bad: TypeAlias = Callable[[str], list[dict[str, Any]]]


def _date_nodes(
    value: object, node: _Node, bad: _Bad, fits_column: Callable[[object], bool]
) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [node("date_relative", {"preset": value})]
    assert isinstance(value, Mapping)
    if "preset" in value:
        return [node("date_relative", {"preset": value["preset"]})]
    if "last" in value:
        return [node("date_relative", {"last": value["last"], "unit": value["unit"]})]
    out = []
    start, end = value.get("start"), value.get("end")
    if start is not None:
        if not fits_column(start):
            return bad("'start' is not a date this column can compare.")
        out.append(node("gte", start))
    if end is not None:
        try:
            after = (date.fromisoformat(str(end)) + timedelta(days=1)).isoformat()
        except (ValueError, OverflowError):
            return bad("'end' leaves the calendar.")
        if not fits_column(after):
            return bad("'end' is not a date this column can compare.")
        out.append(node("lt", after))  # the end day is included whole
    return out


def _not_a(value: object, type_: str) -> str:
    shown = repr(value) if isinstance(value, (int, float, bool)) else type(value).__name__
    if isinstance(value, str):
        shown = repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    return f"{shown} is not a valid {type_} value."


__all__ = ["merge_filters"]
