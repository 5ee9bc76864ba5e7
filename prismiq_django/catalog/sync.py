"""Sync from database: the admin action and the ``prismiq_refresh_schema`` command; exposure rows
for every table and column found, new tables not exposed, secret-looking columns hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from prismiq_django.catalog.exposure import looks_secret
from prismiq_django.catalog.introspect import introspect
from prismiq_django.catalog.protected import protected_table_test
from prismiq_django.catalog.store import invalidate_catalog


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What :func:`sync_from_database` created."""

    tables_created: int
    columns_created: int
    columns_hidden: int


def sync_from_database() -> SyncReport:
    """Create exposure rows for every table and column found in the analytics database.

    New tables are *not* exposed; new columns whose names look secret (:func:`looks_secret`)
    are hidden. Protected tables are skipped. Existing rows are left as they are (nothing is
    deleted). Invalidates the cached catalog. Raises
    :class:`~prismiq_django.exceptions.DatabaseUnavailable` when the database is unreachable.
    """
    from django.db import router, transaction

    from prismiq_django.conf import prismiq_settings
    from prismiq_django.models import ExposedColumn, ExposedTable

    raw = introspect(prismiq_settings.DATABASE, db_schema=prismiq_settings.DB_SCHEMA)
    is_protected = protected_table_test()
    wanted = [t for t in raw.tables.values() if not is_protected(t.name)]
    using = router.db_for_write(ExposedTable)
    with transaction.atomic(using=using):
        rows = {(r.db_schema, r.name): r for r in ExposedTable.objects.using(using)}
        new_tables = []
        row_for: dict[str, ExposedTable] = {}
        for table in wanted:
            schema = table.schema_name or ""
            row = rows.get((schema, table.name)) or rows.get(("", table.name))
            if row is None:
                row = ExposedTable(name=table.name, db_schema=schema, is_exposed=False)
                new_tables.append(row)
            row_for[table.name] = row
        ExposedTable.objects.using(using).bulk_create(new_tables)
        if any(r.pk is None for r in new_tables):  # backends that return no ids
            rows = {(r.db_schema, r.name): r for r in ExposedTable.objects.using(using)}
            for table in wanted:
                row_for[table.name] = (
                    rows.get((table.schema_name or "", table.name)) or rows[("", table.name)]
                )
        known = set(ExposedColumn.objects.using(using).values_list("table_id", "name"))
        new_columns = [
            ExposedColumn(table=row_for[t.name], name=c.name, is_hidden=looks_secret(c.name))
            for t in wanted
            for c in t.columns
            if (row_for[t.name].pk, c.name) not in known
        ]
        ExposedColumn.objects.using(using).bulk_create(new_columns)
    invalidate_catalog()
    return SyncReport(
        tables_created=len(new_tables),
        columns_created=len(new_columns),
        columns_hidden=sum(1 for c in new_columns if c.is_hidden),
    )


__all__ = ["SyncReport", "sync_from_database"]
