"""Declared filters (a dashboard's ``filters``, a saved query's parameters) and their values.

Pure, no Django. :func:`parse_declarations` reads and checks the stored JSON list
(``DashboardFilter`` of SPEC section 9) into :class:`DeclaredFilter` objects, every problem an
:class:`ErrorDetail` with a JSON pointer under the given path. :func:`parse_values` reads a
request's ``[{filter_id, value}]``. :func:`value_shape_error` is the check of a value that does not
depend on any column (a date range is a mapping of dates or a preset, a multi-select a list...);
the column-dependent coercion happens in :mod:`~prismiq_django.query.filter_merge`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal, TypeAlias, cast

from prismiq_django.query import dates
from prismiq_django.query.errors import ErrorCode, ErrorDetail, QueryValidationError

FilterType: TypeAlias = Literal["date_range", "select", "multi_select", "text", "number_range"]
FILTER_TYPES: Final[tuple[str, ...]] = FilterType.__args__  # type: ignore[attr-defined]

#: A filter id: a slug (letters, digits, ``_``, ``-``), unique in its dashboard.
SLUG: Final = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
#: Most filters one dashboard (or saved query) declares, and most options one filter lists.
MAX_DECLARED: Final = 50
MAX_OPTIONS: Final = 1_000
_TEXT_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class DeclaredFilter:
    """One declared filter. ``path`` is the JSON pointer of its declaration (for errors about its
    default); ``default_value`` is None when the declaration has none."""

    id: str
    type: FilterType
    field: str
    table: str | None = None
    default_value: object = None
    date_preset: str | None = None
    path: str = ""


@dataclass(frozen=True, slots=True)
class FilterValue:
    """A value for a declared filter and the JSON pointer it came from (request or default)."""

    value: object
    path: str


def _is_scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool))


def _is_date(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def value_shape_error(type_: str, value: object) -> str | None:
    """Why ``value`` cannot be a value of a filter of ``type_`` whatever the column, or None.

    None (no value: the filter is off) is always fine. ``select``: a scalar; ``multi_select``: a
    list of scalars; ``text``: a string; ``number_range``: ``{min?, max?}`` of numbers or numeric
    strings (null = no bound); ``date_range``: ``{start?, end?}`` of ISO dates (null = open), a
    preset name, ``{preset}`` or ``{last, unit}``.
    """
    if value is None:
        return None
    if type_ == "select":
        return None if _is_scalar(value) else "A select filter takes one value."
    if type_ == "multi_select":
        if isinstance(value, list) and all(_is_scalar(v) for v in value):
            return None
        return "A multi_select filter takes a list of values."
    if type_ == "text":
        return None if isinstance(value, str) else "A text filter takes a string."
    if type_ == "number_range":
        if isinstance(value, Mapping) and set(value) <= {"min", "max"}:
            bounds = [value.get("min"), value.get("max")]
            if all(b is None or (_is_scalar(b) and not isinstance(b, bool)) for b in bounds):
                return None
        return "A number_range filter takes {min, max} (numbers or null)."
    return _date_range_error(value)


def _date_range_error(value: object) -> str | None:
    expected = (
        "A date_range filter takes {start, end} (ISO dates, both included), a preset name, "
        "{preset} or {last, unit}."
    )
    if isinstance(value, str):
        return None if value in dates.PRESETS else f"Unknown preset. {expected}"
    if not isinstance(value, Mapping):
        return expected
    if "preset" in value:
        preset = value["preset"]
        known = isinstance(preset, str) and preset in dates.PRESETS
        return None if known else f"Unknown preset. {expected}"
    if "last" in value or "unit" in value:
        last, unit = value.get("last"), value.get("unit")
        if (
            isinstance(last, int)
            and not isinstance(last, bool)
            and 1 <= last <= dates.MAX_LAST
            and isinstance(unit, str)
            and unit in dates.UNITS
        ):
            return None
        return f"Expected {{'last': 1..{dates.MAX_LAST}, 'unit': day|week|month|quarter|year}}."
    if not set(value) <= {"start", "end"}:
        return expected
    for key in ("start", "end"):
        bound = value.get(key)
        if bound is not None and not _is_date(bound):
            return f"'{key}' must be an ISO date (YYYY-MM-DD). {expected}"
    return None


def parse_declarations(raw: object, path: str = "/filters") -> tuple[DeclaredFilter, ...]:
    """Read a list of ``DashboardFilter`` declarations; raise :class:`QueryValidationError`
    with every problem (paths under ``path``). Unknown keys are ignored but kept in storage."""
    errors: list[ErrorDetail] = []
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise QueryValidationError([ErrorDetail("invalid_definition", "Expected a list.", path)])
    if len(raw) > MAX_DECLARED:
        raise QueryValidationError(
            [ErrorDetail("too_complex", f"At most {MAX_DECLARED} filters.", path)]
        )
    out: list[DeclaredFilter] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        here = f"{path}/{i}"
        if not isinstance(item, Mapping):
            errors.append(ErrorDetail("invalid_definition", "Expected an object.", here))
            continue
        before = len(errors)
        fid, type_, field = item.get("id"), item.get("type"), item.get("field")
        if not isinstance(fid, str) or not SLUG.fullmatch(fid):
            errors.append(_bad(here, "id", "A filter id is a slug: letters, digits, _ or -."))
        elif fid in seen:
            errors.append(_bad(here, "id", f"Filter id {fid!r} is used twice."))
        else:
            seen.add(fid)
        if type_ not in FILTER_TYPES:
            errors.append(_bad(here, "type", f"The type is one of {', '.join(FILTER_TYPES)}."))
        if not isinstance(field, str) or not 1 <= len(field) <= 255:
            errors.append(_bad(here, "field", "'field' is a column name."))
        table = item.get("table")
        if table is not None and (not isinstance(table, str) or not 1 <= len(table) <= 255):
            errors.append(_bad(here, "table", "'table' is a table name or null."))
        label = item.get("label", "")
        if not isinstance(label, str) or len(label) > _TEXT_MAX:
            errors.append(_bad(here, "label", f"'label' is a string of <= {_TEXT_MAX}."))
        preset = item.get("date_preset")
        if preset is not None and (not isinstance(preset, str) or preset not in dates.PRESETS):
            errors.append(_bad(here, "date_preset", "Unknown date preset."))
        errors.extend(_options_errors(item.get("options"), here))
        if type_ in FILTER_TYPES:
            problem = value_shape_error(str(type_), item.get("default_value"))
            if problem is not None:
                errors.append(_bad(here, "default_value", problem))
        if len(errors) == before:
            out.append(
                DeclaredFilter(
                    id=cast(str, fid),
                    type=cast(FilterType, type_),
                    field=cast(str, field),
                    table=cast("str | None", table),
                    default_value=item.get("default_value"),
                    date_preset=cast("str | None", preset),
                    path=here,
                )
            )
    if errors:
        raise QueryValidationError(errors)
    return tuple(out)


def _options_errors(options: object, here: str) -> list[ErrorDetail]:
    if options is None:
        return []
    if not isinstance(options, list) or len(options) > MAX_OPTIONS:
        return [_bad(here, "options", f"'options' is a list of <= {MAX_OPTIONS} items.")]
    for j, option in enumerate(options):
        if (
            not isinstance(option, Mapping)
            or not _is_scalar(option.get("value"))
            or not isinstance(option.get("label", ""), str)
        ):
            return [_bad(f"{here}/options", str(j), "An option is {value, label}.")]
    return []


def _bad(here: str, key: str, message: str) -> ErrorDetail:
    code: ErrorCode = (
        "invalid_value" if key in ("default_value", "date_preset") else "invalid_definition"
    )
    return ErrorDetail(code, message, f"{here}/{key}")


def parse_values(
    raw: object, declared: Sequence[DeclaredFilter], path: str = "/filter_values"
) -> dict[str, FilterValue]:
    """Read a request's ``[{filter_id, value}]`` into ``{filter id: FilterValue}``.

    An unknown or repeated ``filter_id`` and a value of the wrong shape for its filter's type are
    refused (:class:`QueryValidationError`, paths ``<path>/<i>/filter_id`` / ``<path>/<i>/value``).
    A value of null means "off" (it overrides the declared default).
    """
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise QueryValidationError(
            [ErrorDetail("invalid_definition", "Expected a list of {filter_id, value}.", path)]
        )
    by_id = {f.id: f for f in declared}
    errors: list[ErrorDetail] = []
    out: dict[str, FilterValue] = {}
    for i, item in enumerate(raw):
        here = f"{path}/{i}"
        if not isinstance(item, Mapping):
            errors.append(ErrorDetail("invalid_definition", "Expected {filter_id, value}.", here))
            continue
        fid: Any = item.get("filter_id")
        found = by_id.get(fid) if isinstance(fid, str) else None
        if found is None:
            errors.append(ErrorDetail("invalid_reference", "No such filter.", f"{here}/filter_id"))
            continue
        if fid in out:
            errors.append(
                ErrorDetail(
                    "invalid_definition", "This filter is given twice.", f"{here}/filter_id"
                )
            )
            continue
        value = item.get("value")
        problem = value_shape_error(found.type, value)
        if problem is not None:
            errors.append(ErrorDetail("invalid_value", problem, f"{here}/value"))
            continue
        out[fid] = FilterValue(value, f"{here}/value")
    if errors:
        raise QueryValidationError(errors)
    return out


__all__ = [
    "FILTER_TYPES",
    "MAX_DECLARED",
    "SLUG",
    "DeclaredFilter",
    "FilterType",
    "FilterValue",
    "parse_declarations",
    "parse_values",
    "value_shape_error",
]
