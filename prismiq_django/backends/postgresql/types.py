"""PostgreSQL types (``pg_type.typname`` and ``typcategory``) to logical types."""

from __future__ import annotations

from typing import Final

from prismiq_django.query.catalog import (
    LogicalType,
)

_PG_TYPES: Final[dict[str, LogicalType]] = {
    **dict.fromkeys(("int2", "int4", "int8", "oid", "xid", "cid", "regclass"), "integer"),
    **dict.fromkeys(("numeric", "money"), "decimal"),
    **dict.fromkeys(("float4", "float8"), "float"),
    "bool": "boolean",
    "date": "date",
    **dict.fromkeys(("timestamp", "timestamptz"), "datetime"),
    **dict.fromkeys(("time", "timetz"), "time"),
    "interval": "duration",
    **dict.fromkeys(("json", "jsonb"), "json"),
    "uuid": "uuid",
    "bytea": "binary",
    **dict.fromkeys(
        (
            *("text", "varchar", "bpchar", "char", "name", "citext", "xml", "inet", "cidr"),
            *("macaddr", "macaddr8", "bit", "varbit", "tsvector", "tsquery", "jsonpath"),
        ),
        "string",
    ),
}
_PG_CATEGORIES: Final[dict[str, LogicalType]] = {
    "A": "array",
    "B": "boolean",
    "E": "string",  # enums
    "G": "string",  # geometric types travel as text
    "I": "string",  # inet/cidr
    "N": "decimal",
    "S": "string",
    "T": "duration",
    "V": "string",  # bit strings
}


def pg_logical_type(typname: str, category: str = "") -> LogicalType:
    """Map a PostgreSQL type (``pg_type.typname`` and ``typcategory``) to a logical type."""
    if typname.startswith("_") or category == "A":
        return "array"
    found = _PG_TYPES.get(typname)
    if found is not None:
        return found
    return _PG_CATEGORIES.get(category, "unknown")


def pg_result_type(typname: str, category: str = "") -> LogicalType:
    """The logical type of a result column of PostgreSQL type ``typname``: that of
    :func:`pg_logical_type`, except ``money``, which psycopg reads as the text ``lc_monetary``
    spells: ``string``. (Compiled statements read money columns as ``numeric``: see
    ``PostgreSQLDialect.column_sql``; only raw SQL answers money.)"""
    if typname == "money":
        return "string"
    return pg_logical_type(typname, category)


__all__ = ["pg_logical_type", "pg_result_type"]
