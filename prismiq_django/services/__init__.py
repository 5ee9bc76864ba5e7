"""The single entry point the HTTP layer (and commands) call.

``request`` is the Django/DRF request, or None for "no tenant" (commands, tests). Every function
works on the exposed catalog of that request: unexposed tables and hidden columns do not exist
here, so asking for one fails exactly like asking for something absent.

Errors: :class:`~prismiq_django.query.QueryValidationError` for bad definitions,
:class:`~prismiq_django.exceptions.ObjectNotFound` for unknown names,
:class:`~prismiq_django.exceptions.QueryTimeout`,
:class:`~prismiq_django.exceptions.DatabaseUnavailable` and
:class:`~prismiq_django.exceptions.QueryExecutionError` from execution.

By topic: :mod:`~prismiq_django.services.catalog` (catalog of a request, schema documents),
:mod:`~prismiq_django.services.queries` (validate, compile, execute, preview, explain),
:mod:`~prismiq_django.services.values` (column values), :mod:`~prismiq_django.services.sql`
(staff raw SQL) and :mod:`~prismiq_django.services.ask` (questions -> definitions); the catalog
store itself is :mod:`prismiq_django.catalog.store`.
"""

from __future__ import annotations

from prismiq_django.catalog.store import (
    CATALOG_KEY_PREFIX,
    CATALOG_VERSION_KEY,
    SCHEMA_KEY_PREFIX,
    build_exposed_catalog,
    exposed_catalog,
    invalidate_catalog,
)
from prismiq_django.services.catalog import (
    get_catalog,
    schema,
    schema_json,
    table_dict,
    table_names,
    table_schema,
)
from prismiq_django.services.queries import (
    OUT_OF_RANGE_MESSAGE,
    execute,
    explain,
    limits,
    out_of_range,
    preview,
    to_sql,
    validate,
)
from prismiq_django.services.values import MAX_COLUMN_VALUES, column_values
from prismiq_django.tenancy.scopes import get_row_scopes

__all__ = [
    "CATALOG_KEY_PREFIX",
    "CATALOG_VERSION_KEY",
    "MAX_COLUMN_VALUES",
    "OUT_OF_RANGE_MESSAGE",
    "SCHEMA_KEY_PREFIX",
    "build_exposed_catalog",
    "column_values",
    "execute",
    "explain",
    "exposed_catalog",
    "get_catalog",
    "get_row_scopes",
    "invalidate_catalog",
    "limits",
    "out_of_range",
    "preview",
    "schema",
    "schema_json",
    "table_dict",
    "table_names",
    "table_schema",
    "to_sql",
    "validate",
]
