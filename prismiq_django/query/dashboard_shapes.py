"""Shapes of a dashboard document (SPEC section 9): layout, widgets, positions, configs. Pure.

Every check returns :class:`ErrorDetail` objects with JSON pointers under the path it is given,
so the HTTP layer can answer ``/widgets/2/position/w``; nothing here knows the catalog (widget
queries are validated by the query parser, saved-query ids by the services).

- layout: ``{columns: 1..48 (12), row_height: 1..1000 (50), margin: [0..100, 0..100] ([10, 10])}``;
- a widget: ``type`` from :data:`WIDGET_TYPES`; ``title`` text of <= 200 characters; at most one
  of ``query`` (an object) and ``saved_query`` (an id); a ``text`` widget needs neither, every other
  type exactly one; ``position`` ``{x >= 0, y >= 0, w >= 1, h >= 1}`` integers with ``x + w <=
  layout.columns`` (and ``y + h`` <= :data:`MAX_ROWS`); ``config`` a JSON object of at most
  :data:`MAX_CONFIG_BYTES` bytes as compact UTF-8 JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from prismiq_django.query.errors import ErrorCode, ErrorDetail

WIDGET_TYPES: Final = (
    "metric",
    "bar_chart",
    "line_chart",
    "area_chart",
    "pie_chart",
    "scatter_chart",
    "table",
    "text",
)
#: Largest ``config`` of a widget, in bytes of compact JSON.
MAX_CONFIG_BYTES: Final = 16 * 1024
#: Largest grid: columns of a layout, and the row a widget may reach.
MAX_COLUMNS: Final = 48
MAX_ROWS: Final = 10_000
MAX_TITLE: Final = 200
#: Most widgets on one dashboard.
MAX_WIDGETS: Final = 100
DEFAULT_LAYOUT: Final[Mapping[str, Any]] = {"columns": 12, "row_height": 50, "margin": [10, 10]}


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _err(code: ErrorCode, message: str, path: str) -> ErrorDetail:
    return ErrorDetail(code, message, path)


def check_layout(raw: object, path: str = "/layout") -> tuple[dict[str, Any], list[ErrorDetail]]:
    """The layout with defaults filled in, and its problems. ``None`` is the default layout."""
    if raw is None:
        return dict(DEFAULT_LAYOUT), []
    if not isinstance(raw, Mapping):
        return dict(DEFAULT_LAYOUT), [_err("invalid_definition", "Expected an object.", path)]
    layout = {**DEFAULT_LAYOUT, **{k: raw[k] for k in DEFAULT_LAYOUT if k in raw}}
    errors = []
    columns = layout["columns"]
    if not _int(columns) or not 1 <= columns <= MAX_COLUMNS:
        errors.append(_err("invalid_value", f"An integer 1..{MAX_COLUMNS}.", f"{path}/columns"))
    row_height = layout["row_height"]
    if not _int(row_height) or not 1 <= row_height <= 1000:
        errors.append(_err("invalid_value", "An integer 1..1000.", f"{path}/row_height"))
    margin = layout["margin"]
    if (
        not isinstance(margin, list)
        or len(margin) != 2
        or not all(_int(m) and 0 <= m <= 100 for m in margin)
    ):
        errors.append(_err("invalid_value", "[x, y]: integers 0..100.", f"{path}/margin"))
    return layout, errors


def check_position(raw: object, columns: int, path: str) -> list[ErrorDetail]:
    """Problems of a ``{x, y, w, h}`` position on a grid of ``columns``."""
    if not isinstance(raw, Mapping):
        return [_err("invalid_definition", "Expected {x, y, w, h}.", path)]
    errors = []
    for key, low in (("x", 0), ("y", 0), ("w", 1), ("h", 1)):
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_ROWS:
            errors.append(_err("invalid_value", f"An integer {low}..{MAX_ROWS}.", f"{path}/{key}"))
    if errors:
        return errors
    if raw["x"] + raw["w"] > columns:
        errors.append(
            _err("invalid_value", f"x + w exceeds the layout's {columns} columns.", f"{path}/w")
        )
    if raw["y"] + raw["h"] > MAX_ROWS:
        errors.append(_err("invalid_value", f"y + h exceeds {MAX_ROWS} rows.", f"{path}/h"))
    return errors


def config_size(config: object) -> int:
    """Bytes of ``config`` as compact UTF-8 JSON (what is stored); -1 if not JSON."""
    try:
        return len(json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError, UnicodeEncodeError):
        return -1


def is_id(value: object) -> bool:
    """Whether ``value`` reads as an object id: a positive integer, or one spelled in ASCII
    digits (ids are strings on the wire)."""
    if _int(value):
        return 0 < value < 2**63  # type: ignore[operator]
    return (
        isinstance(value, str)
        and 0 < len(value) <= 19
        and value.isascii()
        and value.isdigit()
        and 0 < int(value) < 2**63
    )


def check_widget(raw: object, columns: int, path: str) -> list[ErrorDetail]:
    """Every problem of one whole widget (see the module docstring), paths under ``path``."""
    if not isinstance(raw, Mapping):
        return [_err("invalid_definition", "Expected a widget object.", path)]
    errors: list[ErrorDetail] = []
    type_ = raw.get("type")
    if type_ not in WIDGET_TYPES:
        errors.append(_err("invalid_value", f"One of {', '.join(WIDGET_TYPES)}.", f"{path}/type"))
    title = raw.get("title", "")
    if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE):
        errors.append(_err("invalid_value", f"Text of <= {MAX_TITLE}.", f"{path}/title"))
    query, saved = raw.get("query"), raw.get("saved_query")
    if query is not None and not isinstance(query, Mapping):
        errors.append(_err("invalid_definition", "A query definition object.", f"{path}/query"))
    if saved is not None and not is_id(saved):
        errors.append(_err("invalid_value", "A saved query id.", f"{path}/saved_query"))
    if query is not None and saved is not None:
        errors.append(
            _err(
                "invalid_definition", "At most one of query and saved_query.", f"{path}/saved_query"
            )
        )
    elif query is None and saved is None and type_ in WIDGET_TYPES and type_ != "text":
        errors.append(
            _err("invalid_definition", f"A {type_} widget needs a query or a saved_query.", path)
        )
    errors.extend(check_position(raw.get("position"), columns, f"{path}/position"))
    config = raw.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        errors.append(_err("invalid_definition", "A JSON object.", f"{path}/config"))
    elif config_size(config) > MAX_CONFIG_BYTES:
        errors.append(
            _err("too_complex", f"At most {MAX_CONFIG_BYTES} bytes of JSON.", f"{path}/config")
        )
    return errors


__all__ = [
    "DEFAULT_LAYOUT",
    "MAX_COLUMNS",
    "MAX_CONFIG_BYTES",
    "MAX_ROWS",
    "MAX_TITLE",
    "MAX_WIDGETS",
    "WIDGET_TYPES",
    "check_layout",
    "check_position",
    "check_widget",
    "config_size",
    "is_id",
]
