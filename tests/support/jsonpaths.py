"""Helpers of the JSON-path tests: run one definition through both PostgreSQL paths."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from prismiq_django.execution import QueryResult, execute_compiled
from prismiq_django.query.bucketlabels import zone_params
from prismiq_django.services import queries as query_services


def both_paths(
    definition: dict[str, Any], *, expect_json: bool = True
) -> tuple[QueryResult, QueryResult]:
    """``(by the database's JSON, by the Python path)`` for ``definition`` (no catalog scopes)."""
    _, query, compiled = query_services.prepare(None, definition)
    sql = query_services.json_rows_statement("default", query, compiled)
    if expect_json:
        assert sql is not None, "expected the JSON path to apply"
    types = [item.expr.type for item in query.select]
    wall = frozenset(i for i, item in enumerate(query.select) if item.expr.date_trunc)
    common: dict[str, Any] = {"alias": "default", "timeout": 10.0, "wall_clock": wall}
    json_params = zone_params(query)  # the zone of the bucket labels, if any
    by_db = execute_compiled(
        compiled, column_types=types, json_sql=sql, json_params=json_params, **common
    )
    by_python = execute_compiled(compiled, column_types=types, **common)
    return by_db, by_python


def instant(value: Any) -> Any:
    """ISO datetimes as instants (the paths spell fractional seconds differently)."""
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        return datetime.fromisoformat(value)
    return value


def wire_rows(result: QueryResult) -> list[list[Any]]:
    """The rows as a reader of the wire sees them (``rows`` must read the JSON path's text)."""
    if not result.rows_parsed:  # the JSON path: QueryResult.rows parses rows_json
        return result.rows
    return list(orjson.loads(result.rows_json))


def comparable(result: QueryResult) -> list[list[Any]]:
    return [[instant(v) for v in row] for row in wire_rows(result)]
