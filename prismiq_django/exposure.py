"""Filter the raw introspected catalog down to what end users may see (SPEC section 2).

A table is in the exposed catalog when it is listed in ``PRISMIQ["EXPOSED_TABLES"]`` (when that
setting is not None it alone decides) or has an :class:`~prismiq_django.models.ExposedTable` row
with ``is_exposed``; and it is never a protected table
(:func:`prismiq_django.protected.is_protected_table`), whatever the configuration says. Columns
with an :class:`~prismiq_django.models.ExposedColumn` row marked ``is_hidden`` are removed in both
modes; display names, descriptions, format hints and the tenant column come from the rows.

A table whose configured tenant column does not exist is left out (fail closed) and logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

import orjson

from prismiq_django.gcpause import gc_paused
from prismiq_django.protected import protected_table_test
from prismiq_django.query.catalog import Catalog, Column, Relationship, Table

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


def _table_primitive(t: Table) -> list[object]:
    return [
        t.name,
        t.schema_name,
        t.display_name,
        t.description,
        t.row_count,
        t.kind,
        t.tenant_column,
        [
            [
                c.name,
                c.data_type,
                c.type,
                c.is_nullable,
                c.is_primary_key,
                c.default_value,
                c.display_name,
                c.description,
                c.format_hint,
            ]
            for c in t.columns
        ],
    ]


def _relationships_primitive(catalog: Catalog) -> list[list[str]]:
    return [[r.from_table, r.from_column, r.to_table, r.to_column] for r in catalog.relationships]


def catalog_to_primitive(catalog: Catalog) -> dict[str, object]:
    """Encode a catalog (without row scopes) as plain lists and dicts, e.g. for a cache."""
    return {
        "tables": [_table_primitive(t) for t in catalog.tables.values()],
        "relationships": _relationships_primitive(catalog),
    }


def _table_from_primitive(item: object) -> Table:
    """One table of :func:`catalog_to_primitive`'s list back as a :class:`Table`."""
    if not isinstance(item, list):
        raise TypeError("not an encoded table")
    name, schema, display, desc, rows, kind, tenant, cols = item
    # Positional arguments, in the dataclasses' field order (cheaper than keywords).
    columns = tuple([Column(*col) for col in cols])
    return Table(name, columns, schema, display, desc, rows, kind, tenant)


def catalog_from_primitive(data: dict[str, object]) -> Catalog:
    """Decode :func:`catalog_to_primitive`'s output. Raises on malformed input."""
    tables_data = data["tables"]
    rels_data = data["relationships"]
    if not isinstance(tables_data, list) or not isinstance(rels_data, list):
        raise TypeError("not a primitive catalog")
    with gc_paused():  # tens of thousands of columns, no cycles (see prismiq_django.gcpause)
        tables = [_table_from_primitive(item) for item in tables_data]
        return Catalog.build(tables, [Relationship(*r) for r in rels_data])


#: Version of the encoding of :func:`catalog_to_bytes`. It is part of the schema cache's keys,
#: so an entry written by another release (another layout) is never read, only left to expire.
CATALOG_FORMAT: Final = 3


class TableFragments:
    """JSON fragments of tables, by table identity, kept from one encoding to the next.

    Tables are immutable, and a catalog rebuilt from unchanged rows shares them with the previous
    one (see :mod:`prismiq_django.introspection`), so only new or changed tables are encoded
    again. Only the tables of the last call are kept (each with a reference, so that its ``id``
    cannot be reused while it is a key). Thread-safe: a call reads one dict and replaces it.
    """

    def __init__(self, encode: Callable[[Table], bytes]) -> None:
        self._encode = encode
        self._last: dict[int, tuple[Table, bytes]] = {}

    def lines(self, tables: Iterable[Table]) -> list[bytes]:
        """Return the tables' fragments, in order."""
        previous = self._last
        kept: dict[int, tuple[Table, bytes]] = {}
        parts = []
        for table in tables:
            hit = previous.get(id(table))
            part = hit[1] if hit is not None and hit[0] is table else self._encode(table)
            kept[id(table)] = (table, part)
            parts.append(part)
        self._last = kept
        return parts

    def document(self, head: bytes, tables: Iterable[Table], tail: bytes) -> bytes:
        """Return ``head`` + the JSON array of the tables' fragments, in order, + ``tail`` (one
        copy of the megabytes, not one per concatenation)."""
        parts = [head, b"["]
        for line in self.lines(tables):
            parts += (line, b",")
        if len(parts) > 2:
            parts.pop()  # the last comma
        parts += (b"]", tail)
        return b"".join(parts)


_encoded_tables = TableFragments(lambda t: orjson.dumps(_table_primitive(t)))


def catalog_to_bytes(catalog: Catalog) -> bytes:
    """Encode a catalog (without row scopes) for the schema cache, as JSON lines: first an index
    (``{"tables": [[name, tenant column, line length], ...], "relationships": [...]}``), then one
    line per table in the same order, each the compact JSON of that table in
    :func:`catalog_to_primitive`'s layout (compact JSON never holds a raw line break).
    Unchanged tables' lines are reused from the previous call.

    The index lets :func:`catalog_from_bytes` find each table's line without reading the others,
    and decode a table only when it is used.
    """
    tables = tuple(catalog.tables.values())
    lines = _encoded_tables.lines(tables)
    entries = zip(tables, lines, strict=True)
    index = {
        "tables": [[t.name, t.tenant_column, len(line)] for t, line in entries],
        "relationships": _relationships_primitive(catalog),
    }
    return b"\n".join([orjson.dumps(index), *lines])


class EncodedTables(Mapping[str, Table]):
    """The tables of an encoded catalog by name, each decoded on first access and then kept.

    What :func:`catalog_from_bytes` puts in a catalog: a worker's first query after an
    invalidation decodes the index and the tables it names, not every column of the catalog.
    Names, ``len``, ``in`` and iteration read the index only; ``values()`` and ``items()`` decode
    every table (once). Thread-safe: the encoded bytes are never changed, and a table decoded by
    two threads at once is kept once (``dict.setdefault``), so every reader gets the same object.

    A line that cannot be decoded (a damaged or foreign entry) raises, unless a ``fallback`` was
    given: then the catalog is built by ``fallback`` (once, whoever asks first) and the table is
    taken from it, or is absent (KeyError; ``get`` gives the default) when that catalog lacks it.
    A tenant column that differs there from the index fails closed: the compiler refuses a table
    whose own tenant column has no row scope.
    """

    __slots__ = (
        "_data",
        "_decoded",
        "_fallback",
        "_fallback_lock",
        "_rebuilt",
        "_spans",
        "tenant_columns",
    )

    def __init__(
        self,
        data: bytes,
        spans: dict[str, tuple[int, int]],
        tenant_columns: tuple[tuple[str, str], ...],
        fallback: Callable[[], Catalog] | None = None,
    ) -> None:
        self._data = data
        self._spans = spans
        self._decoded: dict[str, Table] = {}
        #: ``(table, tenant column)`` of every table that has one, in order (from the index).
        self.tenant_columns = tenant_columns
        self._fallback = fallback
        self._fallback_lock = threading.Lock()
        self._rebuilt: Mapping[str, Table] | None = None

    def __getitem__(self, name: str) -> Table:
        table = self._decoded.get(name)
        if table is not None:
            return table
        start, end = self._spans[name]  # KeyError for an unknown name, as a dict
        try:
            table = _table_from_primitive(orjson.loads(self._data[start:end]))
            if table.name != name:
                raise ValueError("encoded table out of place")
        except Exception:
            if self._fallback is None:
                raise
            table = self._rebuilt_tables()[name]  # KeyError when the built catalog lacks it
        return self._decoded.setdefault(name, table)

    def _rebuilt_tables(self) -> Mapping[str, Table]:
        with self._fallback_lock:
            if self._rebuilt is None:
                assert self._fallback is not None
                self._rebuilt = self._fallback().tables
            return self._rebuilt

    def get(self, name: str, default: Any = None) -> Any:  # one lookup, not try/except
        if name in self._spans:
            try:
                return self[name]
            except KeyError:  # damaged, and not in the catalog built instead
                return default
        return default

    def __contains__(self, name: object) -> bool:
        return name in self._spans

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)

    def __repr__(self) -> str:
        return f"<EncodedTables: {len(self._spans)} tables, {len(self._decoded)} decoded>"


def catalog_from_bytes(data: object, fallback: Callable[[], Catalog] | None = None) -> Catalog:
    """Decode :func:`catalog_to_bytes`'s output into a catalog whose tables are decoded one by
    one when first used (:class:`EncodedTables`); relationships are taken as encoded (they were
    checked when the encoded catalog was built). Raises TypeError, ValueError or KeyError on
    anything else (a damaged table line only when that table is first used, and then only
    without a ``fallback``: see :class:`EncodedTables`).
    """
    if not isinstance(data, bytes):
        raise TypeError("not an encoded catalog")
    head_end = data.find(b"\n")
    index = orjson.loads(data if head_end < 0 else data[:head_end])
    if not isinstance(index, dict):
        raise TypeError("not an encoded catalog")
    entries, rels_data = index["tables"], index["relationships"]
    if not isinstance(entries, list) or not isinstance(rels_data, list):
        raise TypeError("not an encoded catalog")
    spans: dict[str, tuple[int, int]] = {}
    tenants: list[tuple[str, str]] = []
    start = head_end + 1
    for name, tenant, length in entries:
        if not isinstance(name, str) or not isinstance(tenant, str | None):
            raise TypeError("not an encoded catalog")
        if not isinstance(length, int) or length <= 0 or name in spans:
            raise ValueError("not an encoded catalog")
        spans[name] = (start, start + length)
        start += length + 1  # the line and its line break
        if tenant:
            tenants.append((name, tenant))
    # The lines must be exactly those of the index (and there are none without an entry).
    if (start - 1 != len(data) or head_end < 0) if entries else head_end >= 0:
        raise ValueError("not an encoded catalog")
    relationships = tuple(Relationship(*r) for r in rels_data)
    return Catalog(EncodedTables(data, spans, tuple(tenants), fallback), relationships)


def tenant_columns(catalog: Catalog) -> tuple[tuple[str, str], ...]:
    """``(table, tenant column)`` of every table of ``catalog`` that has a tenant column, in the
    catalog's order; read from the index of an encoded catalog, without decoding a table."""
    tables = catalog.tables
    if isinstance(tables, EncodedTables):
        return tables.tenant_columns
    return tuple((t.name, t.tenant_column) for t in tables.values() if t.tenant_column)


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

    from prismiq_django import services
    from prismiq_django.conf import prismiq_settings
    from prismiq_django.introspection import introspect
    from prismiq_django.models import ExposedColumn, ExposedTable

    raw = introspect(str(prismiq_settings.DATABASE), db_schema=prismiq_settings.DB_SCHEMA)
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
    services.invalidate_catalog()
    return SyncReport(
        tables_created=len(new_tables),
        columns_created=len(new_columns),
        columns_hidden=sum(1 for c in new_columns if c.is_hidden),
    )


__all__ = [
    "CATALOG_FORMAT",
    "SECRET_MARKERS",
    "ColumnConfig",
    "EncodedTables",
    "ExposureConfig",
    "SyncReport",
    "TableConfig",
    "TableFragments",
    "apply_exposure",
    "catalog_from_bytes",
    "catalog_from_primitive",
    "catalog_to_bytes",
    "catalog_to_primitive",
    "load_exposure",
    "looks_secret",
    "sync_from_database",
    "tenant_columns",
]
