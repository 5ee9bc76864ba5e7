"""Row scopes: which tenant's rows a request may read (``PRISMIQ["TENANT_CALLBACK"]``).

A table with a tenant column and no tenant value is refused by the compiler (fail closed).
"""

from __future__ import annotations

from prismiq_django.catalog.codec import (
    tenant_columns,
)
from prismiq_django.conf import prismiq_settings
from prismiq_django.query import (
    Catalog,
    RowScope,
)


def get_row_scopes(request: object, catalog: Catalog) -> list[RowScope]:
    """Return the row scopes for ``request``: one per table that has a tenant column.

    The tenant value comes from ``PRISMIQ["TENANT_CALLBACK"](request)``; a list, tuple or set
    means "any of these tenants". With no request, no callback or a None value there is no
    scope, and the compiler refuses every tenant table (fail closed).
    """
    return row_scopes_for(request, tenant_columns(catalog))


def row_scopes_for(request: object, tenants: tuple[tuple[str, str], ...]) -> list[RowScope]:
    """:func:`get_row_scopes` for the catalog whose tenant tables are ``tenants``."""
    if not tenants or request is None:
        return []
    callback = prismiq_settings.tenant_callback
    if callback is None:
        return []
    value = callback(request)
    if value is None:
        return []
    values = tuple(value) if isinstance(value, list | tuple | set | frozenset) else (value,)
    return [RowScope(table, column, values) for table, column in tenants]


def scoped_catalog(
    request: object, catalog: Catalog, tenants: tuple[tuple[str, str], ...]
) -> Catalog:
    scopes = row_scopes_for(request, tenants)
    return catalog.with_row_scopes(scopes) if scopes else catalog


__all__ = ["get_row_scopes", "row_scopes_for", "scoped_catalog"]
