"""SQLite declared column types (Django's names included) to logical types."""

from __future__ import annotations

from typing import Final

from prismiq_django.query.catalog import (
    LogicalType,
)

_SQLITE_RULES: Final[tuple[tuple[str, LogicalType], ...]] = (
    ("bool", "boolean"),
    ("int", "integer"),
    ("datetime", "datetime"),
    ("timestamp", "datetime"),
    ("date", "date"),
    ("time", "time"),
    ("interval", "duration"),
    ("decimal", "decimal"),
    ("numeric", "decimal"),
    ("real", "float"),
    ("floa", "float"),
    ("doub", "float"),
    ("json", "json"),
    ("uuid", "uuid"),
    ("char", "string"),
    ("clob", "string"),
    ("text", "string"),
    ("blob", "binary"),
)


def sqlite_logical_type(declared: str) -> LogicalType:
    """Map a SQLite declared column type (Django's names included) to a logical type."""
    lowered = declared.lower()
    for needle, logical in _SQLITE_RULES:
        if needle in lowered:
            return logical
    return "unknown"


__all__ = ["sqlite_logical_type"]
