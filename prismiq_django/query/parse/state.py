"""The state of one parse run and the reading helpers every section of the parser shares.

A :class:`ParseState` collects *every* problem of a request (``errors``) instead of stopping at
the first; the section parsers (``parse_tables``, ``parse_select``, ``parse_filters``,
``parse_group``, ``parse_order``) take it as their first argument. Its helpers read one field of
the request, record an error with its JSON-pointer path when the field does not fit, and return
None (or :data:`FAIL` where None is a valid result).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any, Final, TypeAlias

from prismiq_django.query.ast import AGGREGATIONS, ColumnRef, TableRef
from prismiq_django.query.catalog import Catalog
from prismiq_django.query.errors import ErrorCode, ErrorDetail, pointer
from prismiq_django.query.limits import Limits

#: "This part of the request was refused" where None is a valid parse result.
FAIL: Final = object()

#: The parts of a JSON pointer: ``("filters", 0, "all", 1)``.
Path: TypeAlias = tuple[str | int, ...]


def show(value: object) -> str:
    """A short, safe rendering of a request value for an error message."""
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(name: object, candidates: Iterable[str]) -> str:
    """Return a "Did you mean 'x'?" hint among ``candidates`` (exposed names only), or ''."""
    if not isinstance(name, str) or len(name) > 200:
        return ""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {match[0]!r}?" if match else ""


class ParseState:
    """One parse run: the inputs, the error list, and what earlier sections resolved."""

    def __init__(self, catalog: Catalog, limits: Limits, now: datetime, tz: tzinfo) -> None:
        self.catalog = catalog
        self.limits = limits
        self.now = now
        self.tz = tz
        self.errors: list[ErrorDetail] = []
        self.refs: dict[str, TableRef] = {}
        self.bad_ids: set[str] = set()  # declared ids whose table was refused (reported once)
        self.tables_refused = False  # "tables" itself was refused: table ids are not reported
        self.filter_count = 0
        self.select_paths: list[Path] = []  # path of each select item
        self.order_paths: list[Path] = []  # path of each order item

    def error(self, code: ErrorCode, message: str, *path: str | int) -> None:
        self.errors.append(ErrorDetail(code, message, pointer(*path)))

    def list_of(self, data: Mapping[str, Any], key: str, *, required: bool) -> list[Any]:
        """``data[key]`` as a list; [] (and an error unless optional and absent) otherwise."""
        value = data.get(key)
        if value is None:
            if required:
                self.error("invalid_definition", f"'{key}' is required.", key)
            return []
        if not isinstance(value, list):
            self.error("invalid_definition", f"'{key}' must be a list.", key)
            return []
        return value

    def mapping(self, item: object, *path: str | int) -> Mapping[str, Any] | None:
        # dict first: the usual case, and a much cheaper check than the Mapping ABC.
        if isinstance(item, (dict, Mapping)):
            return item
        self.error("invalid_definition", "Expected an object.", *path)
        return None

    def text(self, item: Mapping[str, Any], key: str, *path: str | int) -> str | None:
        """``item[key]`` as a non-empty string, or None (with an error)."""
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
        if value is None:
            self.error("invalid_definition", f"'{key}' is required.", *path, key)
        else:
            self.error("invalid_value", f"'{key}' must be a non-empty string.", *path, key)
        return None

    def aggregation(self, item: Mapping[str, Any], *path: str | int) -> object:
        """``item["aggregation"]``: an aggregation name, None (absent or ``"none"``) or FAIL."""
        value = item.get("aggregation")
        if value is None or value == "none":
            return None
        if isinstance(value, str) and value in AGGREGATIONS:
            return value
        self.error(
            "invalid_aggregation",
            f"Unknown aggregation {show(value)}.{suggest(value, AGGREGATIONS)}",
            *path,
            "aggregation",
        )
        return FAIL

    def table_ref(self, item: Mapping[str, Any], key: str, *path: str | int) -> TableRef | None:
        """The declared table whose id is ``item[key]``.

        An id whose declaration was itself refused (or all of ``tables``) is not reported again.
        """
        table_id = item.get(key)
        if isinstance(table_id, str) and table_id in self.refs:
            return self.refs[table_id]
        if table_id is None:
            self.error("invalid_definition", f"'{key}' is required.", *path, key)
        elif self.tables_refused or (isinstance(table_id, str) and table_id in self.bad_ids):
            pass
        elif not isinstance(table_id, str):
            self.error("invalid_value", f"'{key}' must be a string.", *path, key)
        else:
            self.error(
                "invalid_reference",
                f"Unknown table id {show(table_id)}.{suggest(table_id, self.refs)}",
                *path,
                key,
            )
        return None

    def column_ref(
        self,
        item: Mapping[str, Any],
        table_key: str,
        column_key: str,
        *path: str | int,
        star: bool = False,
    ) -> ColumnRef | None:
        """The visible column ``item[column_key]`` of table ``item[table_key]``.

        ``star`` accepts ``"*"`` (``count(*)``), returned as a reference without a column.
        """
        ref = self.table_ref(item, table_key, *path)
        name = item.get(column_key)
        if not isinstance(name, str) or not name:
            if name is None:
                self.error("invalid_definition", f"'{column_key}' is required.", *path, column_key)
            else:
                msg = f"'{column_key}' must be a non-empty string."
                self.error("invalid_value", msg, *path, column_key)
            return None
        if ref is None:
            return None
        if name == "*" and star:
            return ColumnRef(ref, None)
        column = ref.table.column(name)
        if column is None:
            self.error(
                "column_not_found",
                f"Column {show(name)} not found in table {ref.table.name!r}."
                f"{suggest(name, ref.table.column_names)}",
                *path,
                column_key,
            )
            return None
        return ColumnRef(ref, column)


__all__ = ["FAIL", "ParseState", "Path", "show", "suggest"]
