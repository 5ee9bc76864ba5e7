"""MySQL's and MariaDB's raw catalog from ``information_schema``, three queries whatever the table
count: tables and views; columns; foreign keys and (MariaDB) the ``JSON_VALID`` checks that mark
its ``JSON`` columns (an alias of ``LONGTEXT`` there). Only the connection's database
(``DATABASE()``) is read, and ``information_schema`` lists only what the user may see.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Final

from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.introspection import ForeignKey, fetchall, relationships
from prismiq_django.backends.mysql.types import mysql_logical_type
from prismiq_django.query.catalog import (
    Catalog,
    Column,
    Table,
    TableKind,
)

_TABLES_SQL: Final = """
SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, TABLE_COMMENT
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')
"""
_COLUMNS_SQL: Final = """
SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
       COLUMN_KEY, COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
"""
# Foreign key parts ('f' rows); on MariaDB also the JSON_VALID checks ('j' rows: table, clause).
_FOREIGN_KEYS_SQL: Final = """
SELECT 'f', TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION, COLUMN_NAME, REFERENCED_TABLE_NAME,
       REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_SCHEMA = DATABASE()
  AND REFERENCED_TABLE_NAME IS NOT NULL
"""
# MariaDB only (MySQL's JSON is a type of its own, and its CHECK_CONSTRAINTS has no table name).
_JSON_CHECKS_SQL: Final = """
UNION ALL
SELECT 'j', TABLE_NAME, CHECK_CLAUSE, 0, NULL, NULL, NULL
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND CHECK_CLAUSE LIKE 'json_valid(%%)'
"""
_JSON_VALID: Final = re.compile(r"json_valid\(\s*`((?:[^`]|``)+)`\s*\)", re.I)
_GENERATED: Final = ("VIRTUAL GENERATED", "STORED GENERATED", "PERSISTENT", "VIRTUAL")


def _json_columns(rows: list[tuple[Any, ...]]) -> set[tuple[str, str]]:
    found = set()
    for table, clause in rows:
        match = _JSON_VALID.fullmatch(str(clause).strip())
        if match is not None:
            found.add((table, match.group(1).replace("``", "`")))
    return found


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def introspect_mysql(connection: BaseDatabaseWrapper) -> Catalog:
    mariadb = bool(getattr(connection, "mysql_is_mariadb", False))
    with connection.cursor() as cursor:
        table_rows = fetchall(cursor, _TABLES_SQL)
        column_rows = fetchall(cursor, _COLUMNS_SQL)
        key_rows = fetchall(cursor, _FOREIGN_KEYS_SQL + (_JSON_CHECKS_SQL if mariadb else ""), [])
    json_columns = _json_columns([(row[1], row[2]) for row in key_rows if row[0] == "j"])
    fk_rows = [row[1:] for row in key_rows if row[0] == "f"]

    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in column_rows:
        grouped[_text(row[0])].append(row)

    tables = []
    for name, kind_text, estimate, comment in table_rows:
        name = _text(name)
        kind: TableKind = "view" if kind_text == "VIEW" else "table"
        cols = []
        for row in sorted(grouped.get(name, ()), key=lambda r: int(r[2])):
            _, col_name, _, data_type, column_type, nullable, key, default, extra, note = row
            col_name = _text(col_name)
            data_type, column_type = _text(data_type), _text(column_type)
            logical = (
                "json"
                if (name, col_name) in json_columns
                else mysql_logical_type(data_type, column_type)
            )
            generated = any(word in _text(extra or "").upper() for word in _GENERATED)
            primary = key == "PRI"
            cols.append(
                Column(
                    col_name,
                    column_type.lower(),
                    logical,
                    nullable == "YES" and not primary,
                    primary,
                    None if generated or default is None else _text(default),
                    None,
                    _text(note) or None,
                )
            )
        description = _text(comment or "") or None if kind == "table" else None
        row_count = int(estimate) if kind == "table" and estimate is not None else None
        tables.append(Table(name, tuple(cols), None, None, description, row_count, kind))

    by_fk: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for row in fk_rows:
        by_fk[(_text(row[0]), _text(row[1]))].append(row)
    foreign_keys = []
    for (table, _), parts in by_fk.items():
        parts.sort(key=lambda r: int(r[2]))
        foreign_keys.append(
            ForeignKey(
                table,
                tuple(_text(p[3]) for p in parts),
                _text(parts[0][4]),
                tuple(_text(p[5]) for p in parts),
            )
        )
    tables.sort(key=lambda t: t.name)
    return Catalog.build(tables, relationships(foreign_keys))


__all__ = ["introspect_mysql"]
