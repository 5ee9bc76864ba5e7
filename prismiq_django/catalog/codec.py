"""The exposed catalog as bytes and back, for the schema cache.

:func:`catalog_to_bytes` writes compact JSON lines (an index, then one line per table) under
:data:`CATALOG_FORMAT`; :func:`catalog_from_bytes` returns a catalog whose tables
(:class:`EncodedTables`) are decoded when first used. :class:`TableFragments` keeps each table's
encoding while the table is unchanged. :func:`tenant_columns` reads the tenant tables from the
index, without decoding a table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import orjson

from prismiq_django.ops.gcpause import gc_paused
from prismiq_django.query.catalog import Catalog, Column, Relationship, Table


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
    with gc_paused():  # tens of thousands of columns, no cycles (see prismiq_django.ops.gcpause)
        tables = [_table_from_primitive(item) for item in tables_data]
        return Catalog.build(tables, [Relationship(*r) for r in rels_data])


#: Version of the encoding of :func:`catalog_to_bytes`. It is part of the schema cache's keys,
#: so an entry written by another release (another layout) is never read, only left to expire.
CATALOG_FORMAT: Final = 3


class TableFragments:
    """JSON fragments of tables, by table identity, kept from one encoding to the next.

    Tables are immutable, and a catalog rebuilt from unchanged rows shares them with the previous
    one (see :mod:`prismiq_django.catalog.introspect`), so only new or changed tables are encoded
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

    @property
    def decoded_names(self) -> frozenset[str]:
        """The tables decoded so far (the rest are still bytes of the cached document)."""
        return frozenset(self._decoded)

    @property
    def has_fallback(self) -> bool:
        """Whether a damaged line can be served from a freshly built catalog."""
        return self._fallback is not None

    @property
    def rebuilt(self) -> bool:
        """Whether that fallback catalog was built (a damaged line was read)."""
        return self._rebuilt is not None

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


__all__ = [
    "CATALOG_FORMAT",
    "EncodedTables",
    "TableFragments",
    "catalog_from_bytes",
    "catalog_from_primitive",
    "catalog_to_bytes",
    "catalog_to_primitive",
    "tenant_columns",
]
