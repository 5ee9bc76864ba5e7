"""The result of one statement: :class:`QueryResult` (SPEC section 4 shape) and its JSON encoding.

:class:`CompiledStatement` is what execution needs of :class:`prismiq_django.query.Compiled`.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import orjson

from prismiq_django.execution.values import (
    EncodedJSON,
    json_default,
    stdlib_json_default,
)
from prismiq_django.ops.gcpause import gc_paused


class CompiledStatement(Protocol):
    """What execution needs of :class:`prismiq_django.query.Compiled`. Its ``zoned_buckets``
    and ``tz_name``, where a statement has them, name the bucket columns labelled with an
    offset (:func:`prismiq_django.execution.buckets.bucket_zones`)."""

    @property
    def sql(self) -> str: ...
    @property
    def params(self) -> tuple[object, ...]: ...
    @property
    def columns(self) -> tuple[str, ...]: ...
    @property
    def limit(self) -> int: ...


class QueryResult:
    """A query result in the SPEC section 4 shape; every value in ``rows`` is JSON-ready.

    The rows exist in one or both of two forms, each made from the other on first use:
    ``rows`` (a list of lists) and ``rows_json`` (the UTF-8 JSON text of that list, as the wire
    carries it). Results built by PostgreSQL's JSON path and results read from the cache carry
    only ``rows_json``: :meth:`wire_dict` embeds it in the response without parsing it, and the
    cache stores it as it is. ``rows`` parses it when something needs the values.

    Optional parts of the wire form (SPEC section 11, issue "count_total"), present only when
    set: ``total_rows`` (the rows of the whole result, counted by the database in the same
    transaction) and ``page`` (``{page, page_size, has_next}`` of a paginated run).
    """

    __slots__ = (
        "_rows",
        "_rows_json",
        "cached_at",
        "column_types",
        "columns",
        "execution_time_ms",
        "is_from_cache",
        "page",
        "row_count",
        "total_rows",
        "truncated",
    )

    def __init__(
        self,
        columns: list[str],
        column_types: list[str],
        rows: list[list[Any]] | None = None,
        row_count: int = 0,
        truncated: bool = False,
        execution_time_ms: float = 0.0,
        is_from_cache: bool = False,
        cached_at: str | None = None,
        *,
        rows_json: bytes | None = None,
        total_rows: int | None = None,
    ) -> None:
        if rows is None and rows_json is None:
            rows = []
        self.columns = columns
        self.column_types = column_types
        self._rows = rows
        self._rows_json = rows_json
        self.row_count = row_count
        self.truncated = truncated
        self.execution_time_ms = execution_time_ms
        self.is_from_cache = is_from_cache
        self.cached_at = cached_at
        self.total_rows = total_rows
        self.page: dict[str, Any] | None = None

    @property
    def rows(self) -> list[list[Any]]:
        """The rows as lists of JSON-ready values (parsed from ``rows_json`` on first use).

        The caller may change the list it gets (a view hook masking values): ``rows_json`` is
        then made from it again, so what is rendered is always what ``rows`` holds.
        """
        if self._rows is None:
            data = self._rows_json or b"[]"
            with gc_paused():  # 100k-row lists: see prismiq_django.ops.gcpause
                try:
                    self._rows = orjson.loads(data)
                except orjson.JSONDecodeError:
                    # Valid JSON orjson cannot read: numbers beyond a double or beyond 64 bits in
                    # json/jsonb documents PostgreSQL's JSON path writes as they are stored.
                    self._rows = json.loads(data)
        self._rows_json = None
        return self._rows

    @property
    def rows_parsed(self) -> bool:
        """Whether ``rows`` exists as Python lists (False: only the JSON text, never parsed)."""
        return self._rows is not None

    @property
    def rows_json(self) -> bytes:
        """The rows as the JSON text of the wire (encoded from ``rows`` on first use)."""
        if self._rows_json is None:
            self._rows_json = encode_json(self._rows or [])
        return self._rows_json

    def _head(self) -> dict[str, Any]:
        head = {
            "columns": self.columns,
            "column_types": self.column_types,
            "rows": None,
            "row_count": self.row_count,
            "truncated": self.truncated,
            "execution_time_ms": self.execution_time_ms,
            "is_from_cache": self.is_from_cache,
            "cached_at": self.cached_at,
        }
        if self.total_rows is not None:
            head["total_rows"] = self.total_rows
        if self.page is not None:
            head.update(self.page)
        return head

    def as_dict(self) -> dict[str, Any]:
        """Return the wire form (SPEC section 4) with ``rows`` as Python lists."""
        return {**self._head(), "rows": self.rows}

    def wire_dict(self) -> dict[str, Any]:
        """Return the wire form with ``rows`` as :class:`EncodedJSON` of ``rows_json``.

        What the HTTP layer renders: the rows are written as they are, never parsed again.
        """
        return {**self._head(), "rows": EncodedJSON(self.rows_json)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueryResult):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"QueryResult(columns={self.columns!r}, row_count={self.row_count}, "
            f"truncated={self.truncated}, is_from_cache={self.is_from_cache})"
        )


def encode_json(value: Any) -> bytes:
    """Encode JSON-ready ``value`` as compact UTF-8 JSON (orjson; exact big integers too).

    orjson refuses integers beyond 64 bits; the standard library writes them exactly, so those
    (rare) values take the slow path instead of failing.
    """
    try:
        return orjson.dumps(value, default=json_default)
    except orjson.JSONEncodeError:
        return json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), default=stdlib_json_default
        ).encode()


__all__ = ["CompiledStatement", "QueryResult", "encode_json"]
