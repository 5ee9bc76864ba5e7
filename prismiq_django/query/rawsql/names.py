"""How each database spells and compares identifiers, for the raw SQL checker.

PostgreSQL folds unquoted names to lower case (ASCII letters only) and compares exactly, so
``"Shop_Order"`` is not ``shop_order``; SQLite compares every identifier, quoted or not, without
ASCII case; MySQL is taken as SQLite (column names ignore case; the statement always names the
catalog's own spelling, so a table's case rule cannot widen what is read).
"""

from __future__ import annotations

from dataclasses import dataclass

from prismiq_django.query.catalog import Catalog, Column, Table

#: Django ``connection.vendor`` -> sqlglot dialect name.
SQLGLOT_DIALECTS: dict[str, str] = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql"}

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(name: str) -> str:
    return name.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class Names:
    """Identifier rules of one vendor, with the catalog's tables indexed by comparison key."""

    vendor: str
    catalog: Catalog

    @property
    def folds_case(self) -> bool:
        """True where every comparison ignores ASCII case (SQLite, MySQL)."""
        return self.vendor != "postgresql"

    def spelled(self, name: str, quoted: bool) -> str:
        """The name the database sees for an identifier written ``name`` (quoted or not)."""
        if self.vendor == "postgresql" and not quoted:
            return ascii_lower(name)
        return name

    def key(self, name: str) -> str:
        """The comparison key of a name the database sees."""
        return ascii_lower(name) if self.folds_case else name

    def table(self, key: str) -> Table | None:
        if not self.folds_case:
            return self.catalog.table(key)
        for table in self.catalog.tables.values():
            if ascii_lower(table.name) == key:
                return table
        return None

    def column(self, table: Table, key: str) -> Column | None:
        if not self.folds_case:
            return table.column(key)
        for column in table.columns:
            if ascii_lower(column.name) == key:
                return column
        return None


__all__ = ["SQLGLOT_DIALECTS", "Names", "ascii_lower"]
