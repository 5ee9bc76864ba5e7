"""Filter the raw introspected catalog down to what end users may see (SPEC section 2).

A table is in the exposed catalog when it is listed in ``PRISMIQ["EXPOSED_TABLES"]`` (when that
setting is not None it alone decides) or has an :class:`~prismiq_django.models.ExposedTable` row
with ``is_exposed``; and it is never a protected table
(:func:`prismiq_django.catalog.protected.is_protected_table`), whatever the configuration says.
Columns
with an :class:`~prismiq_django.models.ExposedColumn` row marked ``is_hidden`` are removed in both
modes; display names, descriptions, format hints and the tenant column come from the rows.

A table whose configured tenant column does not exist is left out (fail closed) and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Final

from prismiq_django.catalog.protected import protected_table_test
from prismiq_django.query.catalog import Catalog, Table

logger = logging.getLogger("prismiq_django.exposure")

#: Column names containing one of these are hidden by "Sync from database".
SECRET_MARKERS: Final = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "hash",
    "salt",
)


def looks_secret(column_name: str) -> bool:
    """Return True when ``column_name`` suggests a secret (password, token, hash...)."""
    lowered = column_name.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


@dataclass(frozen=True, slots=True)
class ColumnConfig:
    """Admin metadata of one column."""

    display_name: str = ""
    description: str = ""
    is_hidden: bool = False
    format_hint: str = ""


@dataclass(frozen=True, slots=True)
class TableConfig:
    """Admin metadata of one table, with its columns' metadata by column name."""

    name: str
    db_schema: str = ""
    display_name: str = ""
    description: str = ""
    is_exposed: bool = False
    tenant_column: str = ""
    columns: dict[str, ColumnConfig] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExposureConfig:
    """The exposure configuration: the settings list (or None) and the admin rows."""

    exposed_names: tuple[str, ...] | None
    tables: tuple[TableConfig, ...] = ()


def load_exposure(exposed_names: Iterable[str] | None) -> ExposureConfig:
    """Read the exposure rows (two queries) and combine them with ``EXPOSED_TABLES``.

    Column rows that leave everything as it is (not hidden, no display name, description or
    format hint) are not read: they make no difference to :func:`apply_exposure`.
    """
    from django.db.models import Q

    from prismiq_django.models import ExposedColumn, ExposedTable

    columns: dict[int, dict[str, ColumnConfig]] = {}
    # Only rows that change something: "Sync from database" creates one row per column, nearly
    # all of them blank, and reading 20,000 blank rows would cost more than the introspection.
    changing = Q(is_hidden=True) | ~Q(display_name="") | ~Q(description="") | ~Q(format_hint="")
    for row in ExposedColumn.objects.filter(changing).values_list(
        "table_id", "name", "display_name", "description", "is_hidden", "format_hint"
    ):
        columns.setdefault(row[0], {})[row[1]] = ColumnConfig(*row[2:])
    tables = tuple(
        TableConfig(
            name=name,
            db_schema=db_schema,
            display_name=display_name,
            description=description,
            is_exposed=is_exposed,
            tenant_column=tenant_column,
            columns=columns.get(pk, {}),
        )
        # Plain tuples: a model instance per row costs ten times more at 1,000 tables.
        for pk, name, db_schema, display_name, description, is_exposed, tenant_column in (
            ExposedTable.objects.values_list(
                "pk",
                "name",
                "db_schema",
                "display_name",
                "description",
                "is_exposed",
                "tenant_column",
            )
        )
    )
    names = None if exposed_names is None else tuple(exposed_names)
    return ExposureConfig(exposed_names=names, tables=tables)


def _matches(config: TableConfig, table: Table) -> bool:
    if config.name != table.name:
        return False
    if not config.db_schema:
        return True
    if table.schema_name is None:  # SQLite: one schema
        return config.db_schema == "main"
    return config.db_schema == table.schema_name


def _config_for(table: Table, configs: dict[str, list[TableConfig]]) -> TableConfig | None:
    rows = configs.get(table.name)
    if rows is None:
        return None
    if len(rows) == 1:
        return rows[0] if _matches(rows[0], table) else None
    candidates = [c for c in rows if _matches(c, table)]
    # A row naming the schema beats a row that leaves it empty.
    candidates.sort(key=lambda c: c.db_schema == "")
    return candidates[0] if candidates else None


def _listed(table: Table, names: frozenset[str]) -> bool:
    if table.name in names:
        return True
    return table.schema_name is not None and f"{table.schema_name}.{table.name}" in names


def _expose_table(table: Table, config: TableConfig | None) -> Table | None:
    if config is None or (
        not config.columns
        and not config.display_name
        and not config.description
        and not config.tenant_column
    ):
        return table  # nothing to change: share the introspected table
    columns = []
    for column in table.columns:
        col_config = config.columns.get(column.name)
        if col_config is None:
            columns.append(column)
            continue
        if col_config.is_hidden:
            continue
        columns.append(
            replace(
                column,
                display_name=col_config.display_name or column.display_name,
                description=col_config.description or column.description,
                format_hint=col_config.format_hint or column.format_hint,
            )
        )
    tenant = config.tenant_column or None
    if tenant is not None and all(c.name != tenant for c in table.columns):
        logger.error(
            "prismiq: table %r names tenant column %r, which does not exist; table not exposed",
            table.name,
            tenant,
        )
        return None
    return Table(
        name=table.name,
        columns=tuple(columns),
        schema_name=table.schema_name,
        display_name=config.display_name or table.display_name,
        description=config.description or table.description,
        row_count=table.row_count,
        kind=table.kind,
        tenant_column=tenant,
    )


def apply_exposure(raw: Catalog, config: ExposureConfig) -> Catalog:
    """Return the exposed catalog: unexposed and protected tables and hidden columns removed."""
    by_name: dict[str, list[TableConfig]] = {}
    for row in config.tables:
        by_name.setdefault(row.name, []).append(row)
    listed = None if config.exposed_names is None else frozenset(config.exposed_names)
    exposed: list[Table] = []
    is_protected = protected_table_test()  # the user model looked up once, not once per table
    for table in raw.tables.values():
        if is_protected(table.name):
            continue
        table_config = _config_for(table, by_name)
        if listed is not None:
            if not _listed(table, listed):
                continue
        elif table_config is None or not table_config.is_exposed:
            continue
        result = _expose_table(table, table_config)
        if result is not None:
            exposed.append(result)
    return Catalog.build(exposed, raw.relationships)


__all__ = [
    "SECRET_MARKERS",
    "ColumnConfig",
    "ExposureConfig",
    "TableConfig",
    "apply_exposure",
    "load_exposure",
    "looks_secret",
]
