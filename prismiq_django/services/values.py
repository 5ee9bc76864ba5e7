"""The distinct values of one exposed column (``tables/{name}/columns/{column}/values``).

The values are read by a query definition built here (the column, ``is_not_null``, ``contains``
for ``search``, grouped and sorted), run like any other under the caller's row scopes. Its
errors speak of the endpoint's own parameters, never of that inner definition: ``/column`` (a
column whose values cannot be listed: ``json`` and ``unknown`` values have no order),
``/search`` (search on a column that is not text) and ``/limit``.
"""

from __future__ import annotations

from typing import Any, Final

from prismiq_django.exceptions import ObjectNotFound
from prismiq_django.query import ErrorDetail, QueryValidationError
from prismiq_django.services.catalog import get_catalog
from prismiq_django.services.queries import execute_on

#: Largest ``limit`` of :func:`column_values` (SPEC section 5).
MAX_COLUMN_VALUES: Final = 1_000
#: Logical types whose values cannot be listed (no order, no grouping).
UNLISTED_TYPES: Final = frozenset({"json", "unknown"})


def _parameter_path(path: str) -> str:
    """The endpoint parameter an error of the inner definition is about."""
    if path.startswith("/filters/1"):
        return "/search"
    if path.startswith("/limit"):
        return "/limit"
    return "/column"


def column_values(
    request: object,
    table: str,
    column: str,
    *,
    limit: int = 100,
    search: str | None = None,
) -> list[Any]:
    """Return the distinct non-null values of an exposed column, sorted, at most ``limit``.

    ``search`` keeps values containing it (case-insensitive; text columns only). Raises
    :class:`ObjectNotFound` for an unknown, unexposed or hidden table or column and
    :class:`QueryValidationError` with paths ``/column``, ``/search`` or ``/limit`` (module
    docstring); goes through the same parser and row scopes as any query.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise QueryValidationError(
            [ErrorDetail("invalid_value", "The limit must be an integer >= 0.", "/limit")]
        )
    # One catalog (and one TENANT_CALLBACK call) for the lookup and the run.
    catalog = get_catalog(request)
    found = catalog.table(table)
    target = found.column(column) if found is not None else None
    if target is None:
        raise ObjectNotFound(f"Column {column!r} of table {table!r} not found.")
    if target.type in UNLISTED_TYPES:
        message = (
            f"Column {column!r} holds {target.type} values, which have no order: its values "
            "are not offered for listing."
        )
        raise QueryValidationError([ErrorDetail("invalid_value", message, "/column")])
    if search and target.type != "string":
        message = (
            f"search matches text, and column {column!r} is {target.type}: leave search out, "
            "or filter the column in a query (eq, between ...)."
        )
        raise QueryValidationError([ErrorDetail("invalid_value", message, "/search")])
    ref = {"table_id": "t", "column": column}
    filters: list[dict[str, Any]] = [{**ref, "operator": "is_not_null", "value": None}]
    if search:
        filters.append({**ref, "operator": "contains", "value": search})
    definition = {
        "tables": [{"id": "t", "name": table}],
        "columns": [ref],
        "filters": filters,
        "group_by": [ref],
        "order_by": [{**ref, "direction": "ASC"}],
        "limit": min(limit, MAX_COLUMN_VALUES),
    }
    try:
        result = execute_on(request, definition, catalog=catalog)
    except QueryValidationError as exc:
        raise QueryValidationError(
            [ErrorDetail(e.code, e.message, _parameter_path(e.path)) for e in exc.errors]
        ) from exc
    return [row[0] for row in result.rows]


__all__ = ["MAX_COLUMN_VALUES", "UNLISTED_TYPES", "column_values"]
