"""The schema endpoints' service: the exposed catalog of a request and its TableSchema documents
(SPEC section 5), the ``schema`` body rendered once per catalog version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson

from prismiq_django.catalog.codec import (
    TableFragments,
)
from prismiq_django.catalog.store import (
    SCHEMA_KEY_PREFIX,
    Defer,
    configuration_key,
    current_memo,
    exposed_catalog,
    exposed_with_tenants,
    memo_catalog,
    store_entry,
)
from prismiq_django.conf import prismiq_settings
from prismiq_django.exceptions import (
    ObjectNotFound,
)
from prismiq_django.ops.gcpause import gc_paused
from prismiq_django.query import (
    Catalog,
    Table,
)
from prismiq_django.tenancy.scopes import scoped_catalog

logger = logging.getLogger("prismiq_django.services")


def get_catalog(request: object = None) -> Catalog:
    """Return the exposed catalog with the row scopes of ``request`` in force."""
    return scoped_catalog(request, *exposed_with_tenants())


# --- schema -----------------------------------------------------------------------------------


def table_dict(table: Table) -> dict[str, Any]:
    """Return the TableSchema of SPEC section 5 (plus each column's ``format_hint``)."""
    return {
        "name": table.name,
        "schema_name": table.schema_name,
        "display_name": table.display_name or table.name,
        "description": table.description,
        # The estimate counts every tenant's rows: not shown for a table with a tenant column.
        "row_count": None if table.tenant_column else table.row_count,
        "columns": [
            {
                "name": c.name,
                "data_type": c.data_type,
                "type": c.type,
                "is_nullable": c.is_nullable,
                "is_primary_key": c.is_primary_key,
                "default_value": c.default_value,
                "display_name": c.display_name or c.name,
                "description": c.description,
                "format_hint": c.format_hint,
            }
            for c in table.columns
        ],
    }


def _relationship_dicts(catalog: Catalog) -> list[dict[str, str]]:
    return [
        {
            "from_table": r.from_table,
            "from_column": r.from_column,
            "to_table": r.to_table,
            "to_column": r.to_column,
        }
        for r in catalog.relationships
    ]


def schema(request: object) -> dict[str, Any]:
    """Return ``{"tables": [TableSchema], "relationships": [...]}`` sorted by table name."""
    catalog = get_catalog(request)
    return {
        "tables": [table_dict(table) for table in _sorted_tables(catalog)],
        "relationships": _relationship_dicts(catalog),
    }


def _sorted_tables(catalog: Catalog) -> Iterator[Table]:
    """The catalog's tables by name; a table of a cached catalog's index that is damaged and gone
    from the catalog built instead (see :class:`~prismiq_django.exposure.EncodedTables`) is left
    out."""
    for name in sorted(catalog.tables):
        table = catalog.tables.get(name)
        if table is not None:
            yield table


# What PrismiqJSONRenderer writes for table_dict (plain orjson, no options), kept per table.
_rendered_tables = TableFragments(lambda table: orjson.dumps(table_dict(table)))


def render_schema(catalog: Catalog) -> bytes:
    """:func:`schema`'s dict as the renderer writes it, byte for byte; tables unchanged since
    the last rendering are not rendered again."""
    with gc_paused():  # one dict per column, no cycles (see gcpause)
        tail = b',"relationships":' + orjson.dumps(_relationship_dicts(catalog)) + b"}"
        return _rendered_tables.document(b'{"tables":', _sorted_tables(catalog), tail)


def schema_json(request: object, *, defer: Defer | None = None) -> bytes:
    """Return :func:`schema` as the JSON body of the ``schema`` response, rendered once per
    catalog version.

    The body does not depend on ``request``: row scopes restrict rows, not the schema
    (:func:`table_dict` reads no scope, and hides ``row_count`` of every tenant table whoever
    asks). So it is kept in this process's memo and in the Django cache next to the catalog,
    under the same version token: a request then costs one small cache read, a fresh process one
    read of the body (not a decoding of the catalog), and :func:`invalidate_catalog` drops it
    everywhere with the catalog.

    ``defer``, when given, receives the jobs that encode and write new cache entries (megabytes
    at 1,000 tables) instead of running them at once, e.g. to run them after the response has
    been sent. Until they ran, other processes rebuild as if nothing were cached.
    """
    ttl = prismiq_settings.SCHEMA_CACHE_TTL
    if ttl <= 0:
        return render_schema(exposed_catalog())
    config_key = configuration_key()
    memo, cache = current_memo(config_key, ttl)
    body = memo.schema
    if body is not None:
        return body
    key = f"{SCHEMA_KEY_PREFIX}{memo.version}:{config_key}"
    if cache is not None:
        try:
            stored = cache.get(key)
            if isinstance(stored, bytes):
                body = stored
        except Exception:
            logger.warning("prismiq schema cache read failed", exc_info=True)
    if body is None:
        rendered = render_schema(memo_catalog(memo, cache, config_key, ttl, defer))
        if cache is not None:
            store_entry(cache, key, lambda: rendered, ttl, defer)
        body = rendered
    memo.schema = body
    return body


def table_names(request: object) -> list[str]:
    """Return the exposed table names, sorted."""
    return sorted(get_catalog(request).tables)


def table_schema(request: object, name: str) -> dict[str, Any]:
    """Return one TableSchema; raises :class:`ObjectNotFound` for unknown or unexposed names."""
    table = get_catalog(request).table(name)
    if table is None:
        raise ObjectNotFound(f"Table {name!r} not found.")
    return table_dict(table)


__all__ = [
    "get_catalog",
    "render_schema",
    "schema",
    "schema_json",
    "table_dict",
    "table_names",
    "table_schema",
]
