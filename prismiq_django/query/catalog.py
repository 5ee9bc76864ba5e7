"""The exposed schema as value objects: tables, columns, relationships, row scopes.

A :class:`Catalog` is what the parser validates names against and what the compiler takes
identifiers from. It only ever contains what the caller may see: unexposed tables and hidden
columns are simply absent. It is immutable; per-request row scopes are added with
:meth:`Catalog.with_row_scopes`, which returns a new catalog sharing the tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeAlias

LogicalType: TypeAlias = Literal[
    "integer",
    "decimal",
    "float",
    "string",
    "boolean",
    "date",
    "datetime",
    "time",
    "duration",
    "json",
    "uuid",
    "binary",
    "array",
    "unknown",
]

LOGICAL_TYPES: frozenset[str] = frozenset(LogicalType.__args__)  # type: ignore[attr-defined]
NUMERIC_TYPES: frozenset[str] = frozenset({"integer", "decimal", "float"})
#: What ``date_trunc``, ``time_series`` and ``date_relative`` accept.
TEMPORAL_TYPES: frozenset[str] = frozenset({"date", "datetime"})
#: Types with a portable ordering: range operators, ``min``/``max``.
ORDERED_TYPES: frozenset[str] = frozenset(
    {"integer", "decimal", "float", "string", "date", "datetime", "time"}
)
#: Types with portable equality: ``eq``/``neq`` and list operators.
EQUALITY_TYPES: frozenset[str] = ORDERED_TYPES | {"boolean", "uuid"}
#: Types a join condition or ``count_distinct`` may compare.
JOINABLE_TYPES: frozenset[str] = EQUALITY_TYPES | {"binary"}
#: No portable equality/ordering (PostgreSQL ``json`` has neither; ``unknown`` may be ``point``):
#: such values can be neither grouped nor sorted.
UNSORTABLE_TYPES: frozenset[str] = frozenset({"json", "unknown"})

TableKind: TypeAlias = Literal["table", "view", "materialized_view", "foreign_table", "partitioned"]


@dataclass(frozen=True, slots=True)
class Column:
    """One exposed column.

    ``data_type`` is the database's own type name (``"timestamp with time zone"``, ``"varchar"``);
    ``type`` is the logical type every dialect maps it to.
    """

    name: str
    data_type: str
    type: LogicalType
    is_nullable: bool = True
    is_primary_key: bool = False
    default_value: str | None = None
    display_name: str | None = None
    description: str | None = None
    format_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """One exposed table or view with its visible columns (hidden ones are not here).

    ``tenant_column`` names the column a row scope must restrict; a table that has one can only be
    compiled when the catalog carries a row scope for it (fail closed).
    """

    name: str
    columns: tuple[Column, ...]
    schema_name: str | None = None
    display_name: str | None = None
    description: str | None = None
    row_count: int | None = None
    kind: TableKind = "table"
    tenant_column: str | None = None
    _by_name: Mapping[str, Column] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", MappingProxyType({c.name: c for c in self.columns}))

    def column(self, name: str) -> Column | None:
        """Return the visible column called ``name`` (exact, case-sensitive) or None."""
        return self._by_name.get(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self._by_name)


@dataclass(frozen=True, slots=True)
class Relationship:
    """A foreign key between two exposed columns (``from`` references ``to``)."""

    from_table: str
    from_column: str
    to_table: str
    to_column: str


@dataclass(frozen=True, slots=True)
class RowScope:
    """A mandatory predicate on one table: ``column = value`` or ``column IN values``.

    Applied by the compiler to every reference of the table (joined ones included; in the ON
    clause of outer joins). An empty ``values`` tuple matches no row.
    """

    table: str
    column: str
    values: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    """The exposed tables by name, their relationships, and the row scopes in force.

    ``session_settings`` are ``(name, value)`` pairs the glue sets in the database session for
    the statements of this catalog's request (PostgreSQL's ``PG_SESSION_SETTINGS``: custom
    settings read by a site's row-level-security policies); the compiler never reads them.
    """

    tables: Mapping[str, Table]
    relationships: tuple[Relationship, ...] = ()
    row_scopes: Mapping[str, tuple[RowScope, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    session_settings: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(
        cls,
        tables: Iterable[Table],
        relationships: Iterable[Relationship] = (),
        row_scopes: Iterable[RowScope] = (),
    ) -> Catalog:
        """Build a catalog; relationships between tables not in it are dropped."""
        by_name = {t.name: t for t in tables}
        rels = tuple(
            r
            for r in relationships
            if r.from_table in by_name
            and r.to_table in by_name
            and by_name[r.from_table].column(r.from_column) is not None
            and by_name[r.to_table].column(r.to_column) is not None
        )
        return cls(MappingProxyType(by_name), rels)._with_scopes(row_scopes)

    def table(self, name: str) -> Table | None:
        """Return the exposed table called ``name`` (exact match) or None."""
        return self.tables.get(name)

    def scopes_for(self, table: str) -> tuple[RowScope, ...]:
        return self.row_scopes.get(table, ())

    def with_row_scopes(self, scopes: Iterable[RowScope]) -> Catalog:
        """Return a copy of this catalog whose row scopes are exactly ``scopes``."""
        return self._with_scopes(scopes)

    def with_session_settings(self, pairs: Iterable[tuple[str, str]]) -> Catalog:
        """Return a copy of this catalog whose session settings are exactly ``pairs``."""
        return Catalog(self.tables, self.relationships, self.row_scopes, tuple(pairs))

    def _with_scopes(self, scopes: Iterable[RowScope]) -> Catalog:
        grouped: dict[str, list[RowScope]] = {}
        for scope in scopes:
            grouped.setdefault(scope.table, []).append(scope)
        frozen = MappingProxyType({k: tuple(v) for k, v in grouped.items()})
        return Catalog(self.tables, self.relationships, frozen, self.session_settings)


__all__ = [
    "EQUALITY_TYPES",
    "JOINABLE_TYPES",
    "LOGICAL_TYPES",
    "NUMERIC_TYPES",
    "ORDERED_TYPES",
    "TEMPORAL_TYPES",
    "UNSORTABLE_TYPES",
    "Catalog",
    "Column",
    "LogicalType",
    "Relationship",
    "RowScope",
    "Table",
    "TableKind",
]
