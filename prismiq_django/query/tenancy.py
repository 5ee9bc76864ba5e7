"""The tenant-scope rule, in one place: a table with a tenant column needs a row scope on it.

Both the parser (so that the problem is reported with the others of the request) and the compiler
(fail closed for a query parsed against another catalog) ask :func:`missing_tenant_scope`.
"""

from __future__ import annotations

from prismiq_django.query.catalog import Catalog, Table
from prismiq_django.query.errors import ErrorDetail, pointer


def missing_tenant_scope(catalog: Catalog, table: Table, position: int) -> ErrorDetail | None:
    """Return the error for ``tables[position]`` when ``table`` needs a scope ``catalog`` lacks.

    A table needs one when it has a ``tenant_column``; only a scope on that very column counts
    (a scope on another column restricts rows but does not isolate tenants). None when fine.
    """
    tenant_column = table.tenant_column
    if tenant_column is None:
        return None
    if any(s.column == tenant_column for s in catalog.scopes_for(table.name)):
        return None
    return ErrorDetail(
        "invalid_definition",
        f"Table {table.name!r} needs a tenant scope and none is in force.",
        pointer("tables", position, "name"),
    )


__all__ = ["missing_tenant_scope"]
