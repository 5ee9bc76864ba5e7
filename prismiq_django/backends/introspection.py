"""What the vendors' introspection share: foreign keys as read, and the query helper."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from prismiq_django.query.catalog import (
    Relationship,
)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


def fetchall(
    cursor: Any, sql: str, params: Sequence[object] | None = None
) -> list[tuple[Any, ...]]:
    if params is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, params)
    rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def relationships(foreign_keys: Iterable[ForeignKey]) -> list[Relationship]:
    rels = []
    for fk in foreign_keys:
        if len(fk.columns) == 1 and len(fk.target_columns) == 1:
            rels.append(Relationship(fk.table, fk.columns[0], fk.target, fk.target_columns[0]))
    return rels


__all__ = ["ForeignKey", "fetchall", "relationships"]
