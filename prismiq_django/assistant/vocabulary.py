"""The words that name the exposed catalog's tables and columns, for the offline backend.

Each table is known by its name, its name without the app prefix (``shop_order`` -> ``order``),
its display name, and their plurals; each column by its name with spaces for underscores, its
display name, and for ``*_id`` columns the name without ``_id``. Only the exposed catalog is
read, so a hidden column or an unexposed table has no word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prismiq_django.query.catalog import (
    NUMERIC_TYPES,
    TEMPORAL_TYPES,
    Catalog,
    Column,
    Relationship,
    Table,
)

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> tuple[str, ...]:
    """Lower-case word tokens of ``text``."""
    return tuple(_WORD.findall(text.lower()))


def plural_forms(phrase: tuple[str, ...]) -> set[tuple[str, ...]]:
    """``phrase`` and its English plural (on the last word), as word tuples."""
    if not phrase:
        return set()
    *head, last = phrase
    forms = {last, last + "s"}
    if last.endswith("y"):
        forms.add(last[:-1] + "ies")
    if last.endswith(("s", "x", "ch", "sh")):
        forms.add(last + "es")
    if last.endswith("s"):
        forms.add(last[:-1])
    return {(*head, form) for form in forms}


def _table_phrases(table: Table) -> set[tuple[str, ...]]:
    base = words(table.name.replace("_", " "))
    phrases = {base}
    if len(base) > 1:
        phrases.add(base[1:])  # without the app label
    if table.display_name:
        phrases.add(words(table.display_name))
    out: set[tuple[str, ...]] = set()
    for phrase in phrases:
        out |= plural_forms(phrase)
    return {p for p in out if p}


def _column_phrases(column: Column) -> set[tuple[str, ...]]:
    phrases = {words(column.name.replace("_", " "))}
    if column.display_name:
        phrases.add(words(column.display_name))
    if column.name.endswith("_id") and len(column.name) > 3:
        phrases.add(words(column.name[:-3].replace("_", " ")))
    out: set[tuple[str, ...]] = set()
    for phrase in phrases:
        out |= plural_forms(phrase)
    return {p for p in out if p}


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Phrase lookups over one catalog (longest phrase first)."""

    catalog: Catalog
    tables: dict[tuple[str, ...], str]
    columns: dict[str, dict[tuple[str, ...], str]]

    @classmethod
    def of(cls, catalog: Catalog) -> Vocabulary:
        tables: dict[tuple[str, ...], str] = {}
        columns: dict[str, dict[tuple[str, ...], str]] = {}
        for table in sorted(catalog.tables.values(), key=lambda t: t.name):
            for phrase in _table_phrases(table):
                tables.setdefault(phrase, table.name)
            by_phrase: dict[tuple[str, ...], str] = {}
            for column in table.columns:
                for phrase in _column_phrases(column):
                    by_phrase.setdefault(phrase, column.name)
            columns[table.name] = by_phrase
        return cls(catalog, tables, columns)

    def table_at(self, tokens: tuple[str, ...], start: int) -> tuple[str, int] | None:
        """The table named by the longest phrase at ``tokens[start:]``: (name, length)."""
        for length in (3, 2, 1):
            name = self.tables.get(tokens[start : start + length])
            if name is not None and start + length <= len(tokens):
                return name, length
        return None

    def column_at(
        self, tokens: tuple[str, ...], start: int, tables: list[str]
    ) -> tuple[str, str, int] | None:
        """The column of one of ``tables`` (first wins) named at ``tokens[start:]``:
        (table, column, length)."""
        for length in (3, 2, 1):
            phrase = tokens[start : start + length]
            if len(phrase) < length:
                continue
            for table in tables:
                column = self.columns.get(table, {}).get(phrase)
                if column is not None:
                    return table, column, length
        return None

    def related(self, table: str) -> list[str]:
        """Tables one foreign key away from ``table``, in name order."""
        out = set()
        for rel in self.catalog.relationships:
            if rel.from_table == table:
                out.add(rel.to_table)
            elif rel.to_table == table:
                out.add(rel.from_table)
        out.discard(table)
        return sorted(out)

    def relationship(self, a: str, b: str) -> Relationship | None:
        for rel in self.catalog.relationships:
            if {rel.from_table, rel.to_table} == {a, b}:
                return rel
        return None

    def column(self, table: str, name: str) -> Column | None:
        found = self.catalog.table(table)
        return found.column(name) if found is not None else None

    def date_column(self, table: str) -> str | None:
        """The table's main date: a datetime first (``*_at`` preferred), else a date."""
        found = self.catalog.table(table)
        if found is None:
            return None
        temporal = [c for c in found.columns if c.type in TEMPORAL_TYPES]
        temporal.sort(key=lambda c: (c.type != "datetime", not c.name.endswith("_at")))
        return temporal[0].name if temporal else None

    def label_column(self, table: str) -> str | None:
        """The column that names a row: ``name``/``title``/``label``, else the first text."""
        found = self.catalog.table(table)
        if found is None:
            return None
        for preferred in ("name", "title", "label"):
            if found.column(preferred) is not None:
                return preferred
        text = [c.name for c in found.columns if c.type == "string"]
        if text:
            return text[0]
        keys = [c.name for c in found.columns if c.is_primary_key]
        return keys[0] if keys else None

    def amount_column(self, table: str) -> str | None:
        """The numeric column that "revenue", "sales", "amount" mean for ``table``."""
        found = self.catalog.table(table)
        if found is None:
            return None
        numeric = [c.name for c in found.columns if c.type in NUMERIC_TYPES]
        for preferred in ("total", "amount", "revenue", "value", "price", "unit_price"):
            if preferred in numeric:
                return preferred
        return None


__all__ = ["Vocabulary", "plural_forms", "words"]
