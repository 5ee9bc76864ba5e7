"""The pure query core: JSON query definition -> validated AST -> parameterized SQL.

Imports nothing from Django and does no I/O. Public entry points::

    from prismiq_django.query import Catalog, Limits, parse, compile_query, build

    query = parse(data, catalog, limits=Limits(max_rows=10_000), now=aware_now, tz=site_tz)
    compiled = compile_query(query, catalog, "postgresql")     # or "sqlite"
    compiled.sql, compiled.params, compiled.tables, compiled.columns
"""

from __future__ import annotations

from prismiq_django.query.catalog import (
    Catalog,
    Column,
    LogicalType,
    Relationship,
    RowScope,
    Table,
)
from prismiq_django.query.compiler import Compiled, build, compile_query
from prismiq_django.query.dialects import Dialect, get_dialect
from prismiq_django.query.errors import (
    ErrorDetail,
    QueryError,
    QueryValidationError,
)
from prismiq_django.query.parse import Limits, parse

__all__ = [
    "Catalog",
    "Column",
    "Compiled",
    "Dialect",
    "ErrorDetail",
    "Limits",
    "LogicalType",
    "QueryError",
    "QueryValidationError",
    "Relationship",
    "RowScope",
    "Table",
    "build",
    "compile_query",
    "get_dialect",
    "parse",
]
