"""SQLite's raw catalog: ``sqlite_master`` joined to ``pragma_table_info`` and
``pragma_foreign_key_list``, two queries (three when ``sqlite_stat1`` exists for row estimates).
Columns declared ``text`` with a ``JSON_VALID`` check (Django's ``JSONField``) are ``json``.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Collection
from typing import Any, Final

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.introspection import ForeignKey, fetchall, relationships
from prismiq_django.backends.sqlite.types import sqlite_logical_type
from prismiq_django.query.catalog import (
    Catalog,
    Column,
    Table,
    TableKind,
)

logger = logging.getLogger("prismiq_django.introspection")

_SQLITE_COLUMNS_SQL: Final = """
SELECT m.type, m.name, m.sql, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk
FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
WHERE m.type IN ('table', 'view')
ORDER BY m.name, p.cid
"""
_SQLITE_FOREIGN_KEYS_SQL: Final = """
SELECT m.name, f.id, f.seq, f."table", f."from", f."to"
FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f
WHERE m.type = 'table'
ORDER BY m.name, f.id, f.seq
"""
_SQLITE_ONE_TABLE_SQL: Final = (
    'SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(%s)'
)
_SQLITE_STATS_SQL: Final = "SELECT tbl, stat FROM sqlite_stat1"
_JSON_CHECK: Final = re.compile(
    r'json_valid\s*\(\s*("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\w+)\s*\)', re.I
)


def _sqlite_json_columns(sql: str | None) -> set[str]:
    if not sql:
        return set()
    found = set()
    for token in _JSON_CHECK.findall(sql):
        if token[0] in '"`[':
            token = token[1:-1].replace('""', '"')
        found.add(token)
    return found


def _sqlite_columns(cursor: Any) -> list[tuple[Any, ...]]:
    try:
        return fetchall(cursor, _SQLITE_COLUMNS_SQL)
    except DatabaseError:
        # A broken view (its table was dropped) makes the whole join fail: go table by table.
        logger.warning("prismiq introspection: bulk SQLite query failed, reading table by table")
    masters = fetchall(
        cursor, "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view')"
    )
    rows: list[tuple[Any, ...]] = []
    for kind, name, sql in masters:
        try:
            info = fetchall(cursor, _SQLITE_ONE_TABLE_SQL, [name])
        except DatabaseError:
            logger.warning("prismiq introspection: skipping unreadable SQLite object %r", name)
            continue
        rows.extend((kind, name, sql, *col) for col in info)
    return sorted(rows, key=lambda r: (r[1], r[3]))


def introspect_sqlite(
    connection: BaseDatabaseWrapper, uuid_columns: Collection[tuple[str, str]] = ()
) -> Catalog:
    """The raw catalog of a SQLite database. ``uuid_columns`` are ``(table, column)`` pairs
    known to hold UUIDs (Django's ``UUIDField`` declares ``char(32)`` and stores 32 hex digits):
    they are typed ``uuid`` instead of ``string``."""
    with connection.cursor() as cursor:
        column_rows = _sqlite_columns(cursor)
        fk_rows = fetchall(cursor, _SQLITE_FOREIGN_KEYS_SQL)
        names = {row[1] for row in column_rows}
        stats_rows = fetchall(cursor, _SQLITE_STATS_SQL) if "sqlite_stat1" in names else []

    estimates: dict[str, int] = {}
    for tbl, stat in stats_rows:
        first = str(stat or "").split(" ", 1)[0]
        if first.isdigit():
            estimates[tbl] = max(estimates.get(tbl, 0), int(first))

    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in column_rows:
        if not row[1].lower().startswith("sqlite_"):
            grouped[row[1]].append(row)

    pk_columns: dict[str, list[str]] = defaultdict(list)
    tables = []
    for name, rows in grouped.items():
        kind: TableKind = "view" if rows[0][0] == "view" else "table"
        json_columns = _sqlite_json_columns(rows[0][2])
        cols = []
        for _, _, _, _, col_name, declared, notnull, default, pk in rows:
            declared = declared or ""
            logical = "json" if col_name in json_columns else sqlite_logical_type(declared)
            if logical == "string" and (name, col_name) in uuid_columns:
                logical = "uuid"
            if pk:
                pk_columns[name].append(col_name)
            cols.append(
                Column(
                    name=col_name,
                    data_type=declared.lower() or "",
                    type=logical,
                    is_nullable=not notnull and not pk,
                    is_primary_key=bool(pk),
                    default_value=default,
                )
            )
        tables.append(
            Table(
                name=name,
                columns=tuple(cols),
                schema_name=None,
                row_count=estimates.get(name) if kind == "table" else None,
                kind=kind,
            )
        )

    by_fk: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
    for row in fk_rows:
        by_fk[(row[0], row[1])].append(row)
    foreign_keys = []
    for (table, _), parts in by_fk.items():
        target = parts[0][3]
        from_cols = tuple(p[4] for p in parts)
        to_cols = tuple(p[5] for p in parts)
        if any(c is None for c in to_cols):
            to_cols = tuple(pk_columns.get(target, ()))
        foreign_keys.append(ForeignKey(table, from_cols, target, to_cols))
    tables.sort(key=lambda t: t.name)
    return Catalog.build(tables, relationships(foreign_keys))


__all__ = ["introspect_sqlite"]
