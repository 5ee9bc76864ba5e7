"""MySQL/MariaDB column types (``information_schema``) and cursor type codes to logical types."""

from __future__ import annotations

from typing import Any, Final

from prismiq_django.query.catalog import (
    LogicalType,
)

_MYSQL_TYPES: Final[dict[str, LogicalType]] = {
    **dict.fromkeys(("tinyint", "smallint", "mediumint", "int", "integer", "bigint"), "integer"),
    **dict.fromkeys(("year", "bit"), "integer"),
    **dict.fromkeys(("decimal", "numeric", "dec", "fixed"), "decimal"),
    **dict.fromkeys(("float", "double", "real", "double precision"), "float"),
    "date": "date",
    **dict.fromkeys(("datetime", "timestamp"), "datetime"),
    "time": "time",
    "json": "json",
    "uuid": "uuid",
    **dict.fromkeys(
        (
            *("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"),
            *("inet4", "inet6"),
        ),
        "string",
    ),
    **dict.fromkeys(
        ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"), "binary"
    ),
}


def mysql_logical_type(data_type: str, column_type: str = "") -> LogicalType:
    """Map ``information_schema.COLUMNS`` ``DATA_TYPE`` (and ``COLUMN_TYPE``, which tells
    ``tinyint(1)``, Django's ``BooleanField``, from other tiny integers) to a logical type."""
    lowered = data_type.lower()
    if lowered == "tinyint" and column_type.lower().startswith("tinyint(1)"):
        return "boolean"
    return _MYSQL_TYPES.get(lowered, "unknown")


#: mysqlclient's ``FIELD_TYPE`` codes (``MySQLdb.constants.FIELD_TYPE``) -> logical types.
_FIELD_TYPES: Final[dict[int, LogicalType]] = {
    **dict.fromkeys((1, 2, 3, 8, 9, 13, 16), "integer"),  # TINY SHORT LONG LONGLONG INT24 YEAR BIT
    **dict.fromkeys((0, 246), "decimal"),  # DECIMAL NEWDECIMAL
    **dict.fromkeys((4, 5), "float"),
    **dict.fromkeys((10, 14), "date"),  # DATE NEWDATE
    **dict.fromkeys((7, 12), "datetime"),  # TIMESTAMP DATETIME
    11: "time",
    245: "json",
    # VARCHAR ENUM SET the BLOBs VAR_STRING STRING: text or bytes by the column's character set;
    # the converter takes either (bytes become base64).
    **dict.fromkeys((15, 247, 248, 249, 250, 251, 252, 253, 254), "string"),
}


def description_logical_type(column: Any) -> LogicalType:
    """The logical type of one entry of a mysqlclient cursor ``description`` (``type_code``;
    a ``TINY`` of display width 1 is a boolean, as ``tinyint(1)`` is)."""
    code = column[1]
    if code == 1 and column[2] == 1:
        return "boolean"
    return _FIELD_TYPES.get(code, "unknown")


__all__ = ["description_logical_type", "mysql_logical_type"]
