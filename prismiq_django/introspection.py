"""Read the database schema into a raw (unfiltered) :class:`Catalog` in a fixed number of queries.

:func:`introspect` returns every table, view, materialized view, partitioned parent and foreign
table of the configured schemas with their columns (database type name, logical type,
nullability, default, primary key, comment), single-column foreign keys and row estimates. What
end users may see is decided afterwards by :mod:`prismiq_django.exposure`.

- PostgreSQL: three ``pg_catalog`` queries whatever the table count (relations; columns; primary
  and foreign keys). Only relations the connection's role may ``SELECT`` are listed, so a
  read-only role sees exactly what it can query. Partitions are left out (their parent is shown
  once, with the sum of the partitions' row estimates). Domains take the logical type of their
  base type, enums are strings, arrays are ``array``; generated columns have no default. With
  several schemas (``PRISMIQ["DB_SCHEMA"]``) a name found in more than one keeps the first
  schema listed, like a ``search_path``.
- SQLite: ``sqlite_master`` joined to the ``pragma_table_info`` and ``pragma_foreign_key_list``
  table-valued functions, two queries (three when ``sqlite_stat1`` exists for row estimates).
  Columns declared ``text`` with a ``JSON_VALID`` check (Django's ``JSONField``) are ``json``.
"""

from __future__ import annotations

import logging
import operator
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.exceptions import DatabaseUnavailable, QueryExecutionError
from prismiq_django.gcpause import gc_paused
from prismiq_django.pgsession import (
    PIN_SQL,
    outside_transaction,
    several_statements_per_message,
)
from prismiq_django.query.catalog import (
    Catalog,
    Column,
    LogicalType,
    Relationship,
    Table,
    TableKind,
)

logger = logging.getLogger("prismiq_django.introspection")

# --- logical types ----------------------------------------------------------------------------

_PG_TYPES: Final[dict[str, LogicalType]] = {
    **dict.fromkeys(("int2", "int4", "int8", "oid", "xid", "cid", "regclass"), "integer"),
    **dict.fromkeys(("numeric", "money"), "decimal"),
    **dict.fromkeys(("float4", "float8"), "float"),
    "bool": "boolean",
    "date": "date",
    **dict.fromkeys(("timestamp", "timestamptz"), "datetime"),
    **dict.fromkeys(("time", "timetz"), "time"),
    "interval": "duration",
    **dict.fromkeys(("json", "jsonb"), "json"),
    "uuid": "uuid",
    "bytea": "binary",
    **dict.fromkeys(
        (
            *("text", "varchar", "bpchar", "char", "name", "citext", "xml", "inet", "cidr"),
            *("macaddr", "macaddr8", "bit", "varbit", "tsvector", "tsquery", "jsonpath"),
        ),
        "string",
    ),
}
_PG_CATEGORIES: Final[dict[str, LogicalType]] = {
    "A": "array",
    "B": "boolean",
    "E": "string",  # enums
    "G": "string",  # geometric types travel as text
    "I": "string",  # inet/cidr
    "N": "decimal",
    "S": "string",
    "T": "duration",
    "V": "string",  # bit strings
}


def pg_logical_type(typname: str, category: str = "") -> LogicalType:
    """Map a PostgreSQL type (``pg_type.typname`` and ``typcategory``) to a logical type."""
    if typname.startswith("_") or category == "A":
        return "array"
    found = _PG_TYPES.get(typname)
    if found is not None:
        return found
    return _PG_CATEGORIES.get(category, "unknown")


_SQLITE_RULES: Final[tuple[tuple[str, LogicalType], ...]] = (
    ("bool", "boolean"),
    ("int", "integer"),
    ("datetime", "datetime"),
    ("timestamp", "datetime"),
    ("date", "date"),
    ("time", "time"),
    ("interval", "duration"),
    ("decimal", "decimal"),
    ("numeric", "decimal"),
    ("real", "float"),
    ("floa", "float"),
    ("doub", "float"),
    ("json", "json"),
    ("uuid", "uuid"),
    ("char", "string"),
    ("clob", "string"),
    ("text", "string"),
    ("blob", "binary"),
)


def sqlite_logical_type(declared: str) -> LogicalType:
    """Map a SQLite declared column type (Django's names included) to a logical type."""
    lowered = declared.lower()
    for needle, logical in _SQLITE_RULES:
        if needle in lowered:
            return logical
    return "unknown"


# --- shared -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ForeignKey:
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


def is_system_schema(name: str) -> bool:
    """True for PostgreSQL's own schemas, which are never introspected: ``information_schema``
    and every name beginning with ``pg_`` (reserved by PostgreSQL for ``pg_catalog``,
    ``pg_toast``, ``pg_temp_N``...: they hold ``pg_authid``'s password hashes, other sessions'
    queries in ``pg_stat_activity`` and the like). Compared without case, so nothing spelled like
    one is read either."""
    lowered = name.lower()
    return lowered.startswith("pg_") or lowered == "information_schema"


def _listed(value: object) -> list[str]:
    """``PRISMIQ["DB_SCHEMA"]`` (None, a name or a list) as a list of names; ``public`` for None
    or an empty list."""
    if value is None:
        return ["public"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value] or ["public"]
    raise TypeError("DB_SCHEMA must be None, a string or a list of strings")


def system_schemas(value: object) -> list[str]:
    """The names of ``PRISMIQ["DB_SCHEMA"]`` that are PostgreSQL's own (:func:`is_system_schema`),
    which :func:`schema_names` drops and check E002 reports."""
    return [name for name in _listed(value) if is_system_schema(name)]


def schema_names(value: object) -> list[str]:
    """Normalise ``PRISMIQ["DB_SCHEMA"]`` (None, a name or a list) to the list of schemas to
    introspect: ``["public"]`` for None or an empty list, and never a system schema
    (:func:`is_system_schema`: such names are dropped, and check E002 reports them). Only
    system schemas listed: an empty list, so an empty catalog."""
    return [name for name in _listed(value) if not is_system_schema(name)]


def _fetchall(
    cursor: Any, sql: str, params: Sequence[object] | None = None
) -> list[tuple[Any, ...]]:
    if params is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, params)
    rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def _relationships(foreign_keys: Iterable[_ForeignKey]) -> list[Relationship]:
    rels = []
    for fk in foreign_keys:
        if len(fk.columns) == 1 and len(fk.target_columns) == 1:
            rels.append(Relationship(fk.table, fk.columns[0], fk.target, fk.target_columns[0]))
    return rels


def introspect(alias: str, *, db_schema: object = None) -> Catalog:
    """Return the raw catalog of the database ``alias`` (nothing filtered out yet).

    ``db_schema`` is ``PRISMIQ["DB_SCHEMA"]`` (PostgreSQL only). Raises
    :class:`DatabaseUnavailable` when the database cannot be reached or the connection is lost
    while reading (the test of :mod:`prismiq_django.execution`), and
    :class:`QueryExecutionError` (HTTP 500) for any other database error.
    """
    connection = connections[alias]
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        logger.exception("prismiq introspection: database unreachable")
        raise DatabaseUnavailable() from exc
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"introspection of {connection.vendor!r} is not supported")
    try:
        if connection.vendor == "postgresql":
            return _introspect_postgresql(connection, schema_names(db_schema))
        return _introspect_sqlite(connection)
    except DatabaseError as exc:
        from prismiq_django.execution import _connection_lost  # execution imports this module

        # Only a lost connection is "unavailable" (503), by the same test as query execution;
        # any other database error (a statement interrupted or refused...) is a server error.
        if _connection_lost(exc, connection):
            logger.exception("prismiq introspection: database connection failed")
            raise DatabaseUnavailable() from exc
        logger.exception("prismiq introspection: reading the catalog failed")
        raise QueryExecutionError("The database schema could not be read.") from exc


# --- PostgreSQL -------------------------------------------------------------------------------

_PG_KINDS: Final[dict[str, TableKind]] = {
    "r": "table",
    "v": "view",
    "m": "materialized_view",
    "p": "partitioned",
    "f": "foreign_table",
}

_PG_RELATIONS_SQL: Final = """
SELECT c.oid::int, n.nspname, c.relname, c.relkind, c.reltuples::float8, d.description,
       CASE WHEN c.relkind = 'p' THEN (
           SELECT sum(GREATEST(ch.reltuples, 0))::float8
           FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class ch ON ch.oid = i.inhrelid
           WHERE i.inhparent = c.oid) END,
       (SELECT json_agg(json_build_array(cd.objsubid, cd.description))::text
        FROM pg_catalog.pg_description cd
        WHERE cd.objoid = c.oid AND cd.classoid = 'pg_catalog.pg_class'::regclass
          AND cd.objsubid > 0),
       (SELECT json_agg(json_build_array(
                   ad.adnum, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)))::text
        FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = c.oid)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND NOT c.relispartition
  AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
"""

# One narrow row per column (no per-row function calls, no sort): what costs at 20,000 columns
# is the number of values psycopg decodes and the server's per-row work, so the type names are
# formatted once per distinct (type, modifier) pair below and comments/defaults, which few
# columns have, travel per table in the relations query.
_PG_COLUMNS_SQL: Final = """
SELECT a.attrelid::int, a.attnum, a.attname, a.atttypid::int, a.atttypmod, a.attnotnull,
       a.attgenerated <> ''
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped
"""

# Primary and foreign keys ('p', 'f' rows), then the distinct column types found by the columns
# query ('t' rows: type oid, modifier, format_type, base type name for domains, category).
_PG_KEYS_AND_TYPES_SQL: Final = """
SELECT con.contype::text, con.conrelid::int, con.confrelid::int, con.conkey, con.confkey,
       con.conname::text, NULL::text, NULL::text, NULL::text
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype IN ('p', 'f') AND n.nspname = ANY(%s) AND NOT c.relispartition
  AND con.conparentid = 0
UNION ALL
SELECT 't', x.typid::int, x.typmod, NULL, NULL, NULL,
       pg_catalog.format_type(x.typid, x.typmod), COALESCE(bt.typname, t.typname)::text,
       t.typcategory::text
FROM unnest(%s::oid[], %s::int4[]) AS x (typid, typmod)
JOIN pg_catalog.pg_type t ON t.oid = x.typid
LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
ORDER BY 1, 2, 6
"""

_NO_DETAILS: Final[dict[int, str]] = {}


def _by_attnum(text: str | None) -> dict[int, str]:
    """Decode the relations query's ``[[attnum, text], ...]`` (comments, defaults) to a dict."""
    if text is None:
        return _NO_DETAILS
    return {int(num): str(value) for num, value in orjson.loads(text)}


def _introspect_postgresql(connection: BaseDatabaseWrapper, schemas: list[str]) -> Catalog:
    # Tens of thousands of short-lived tuples and columns, no reference cycles: see gcpause.
    with gc_paused():
        with connection.cursor() as cursor:
            relations = _pinned_fetchall(connection, cursor, _PG_RELATIONS_SQL, [schemas])
            columns = _fetchall(cursor, _PG_COLUMNS_SQL, [schemas])
            pairs = {(row[3], row[4]) for row in columns}
            keys_and_types = _fetchall(
                cursor,
                _PG_KEYS_AND_TYPES_SQL,
                [schemas, [p[0] for p in pairs], [p[1] for p in pairs]],
            )
        return _build_postgresql(schemas, relations, columns, keys_and_types)


# Inside a transaction, the savepoint whose rollback ends the relations query's pins.
_PIN_SAVEPOINT: Final = "prismiq_catalog"


def _pinned_fetchall(
    connection: BaseDatabaseWrapper, cursor: Any, sql: str, params: Sequence[object]
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` run with the output settings of :mod:`prismiq_django.pgsession`.

    The relations query reads text PostgreSQL writes by the session's settings: the column
    defaults (``pg_get_expr``: ``'06.05.2024'::date`` in ``DateStyle`` German) and the row
    estimates (``float8``: ``1e+03`` for 1,234 at ``extra_float_digits`` -15). The settings are
    pinned for that query alone, in the same message, so introspection stays three queries:
    ``SELECT <pins>; <sql>`` in autocommit (the message is one implicit transaction, which the
    pins end with), and inside a transaction between a savepoint and its rollback. A driver that
    cannot carry several statements with parameters in one message runs the pins, then ``sql``,
    in a rolled-back ``atomic`` block.
    """
    if not several_statements_per_message(connection):
        with transaction.atomic(using=connection.alias):
            cursor.execute(f"SELECT {PIN_SQL}")
            pinned = _fetchall(cursor, sql, params)
            transaction.set_rollback(True, using=connection.alias)
        return pinned
    if outside_transaction(connection):
        cursor.execute(f"SELECT {PIN_SQL}; {sql}", params)
        skip = 1
    else:
        cursor.execute(
            f"SAVEPOINT {_PIN_SAVEPOINT}; SELECT {PIN_SQL}; {sql};"
            f" ROLLBACK TO SAVEPOINT {_PIN_SAVEPOINT}; RELEASE SAVEPOINT {_PIN_SAVEPOINT}",
            params,
        )
        skip = 2
    for _ in range(skip):
        cursor.cursor.nextset()
    rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def _build_postgresql(
    schemas: list[str],
    relations: list[tuple[Any, ...]],
    columns: list[tuple[Any, ...]],
    keys_and_types: list[tuple[Any, ...]],
) -> Catalog:
    rank = {name: i for i, name in enumerate(schemas)}
    chosen: dict[str, tuple[Any, ...]] = {}
    for row in relations:
        current = chosen.get(row[2])
        if current is None or rank[row[1]] < rank[current[1]]:
            chosen[row[2]] = row
    by_oid = {row[0]: row for row in chosen.values()}

    types: dict[tuple[int, int], tuple[str, LogicalType]] = {}
    primary: dict[int, set[int]] = defaultdict(set)
    foreign: list[tuple[int, list[int], int, list[int]]] = []
    for kind, relid, other, conkey, confkey, _, data_type, typname, category in keys_and_types:
        if kind == "t":
            types[(relid, other)] = (data_type, pg_logical_type(typname, category))
        elif relid not in by_oid:
            continue
        elif kind == "p":
            primary[relid].update(conkey or ())
        elif other in by_oid:
            foreign.append((relid, conkey or [], other, confkey or []))

    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in columns:
        if row[0] in by_oid:
            grouped[row[0]].append(row)

    # A rebuild in the same process (after an invalidation) reuses the tables built last time
    # from exactly the same rows: equal inputs make equal (immutable) tables, so sharing them is
    # always correct, and it saves constructing every column again (most of the Python time).
    previous = _last_build.tables if _last_build.types == types else {}
    built: dict[tuple[Any, ...], Table] = {}
    tables = []
    for oid, relation in by_oid.items():
        rows = grouped.get(oid, [])
        rows.sort(key=_ATTNUM)
        keys = frozenset(primary.get(oid, ()))
        made_from = (relation, tuple(rows), keys)
        table = previous.get(made_from)
        if table is None:
            table = _pg_table(relation, rows, keys, types)
        built[made_from] = table
        tables.append(table)
    _last_build.tables = built
    _last_build.types = types

    relationships = []
    for relid, conkey, frelid, confkey in foreign:
        if len(conkey) == 1 and len(confkey) == 1:
            source = _attname(grouped[relid], conkey[0])
            target = _attname(grouped[frelid], confkey[0])
            if source is not None and target is not None:
                relationships.append(
                    Relationship(by_oid[relid][2], source, by_oid[frelid][2], target)
                )
    tables.sort(key=_NAME)
    return Catalog.build(tables, relationships)


def _pg_table(
    relation: tuple[Any, ...],
    rows: list[tuple[Any, ...]],
    keys: frozenset[int],
    types: dict[tuple[int, int], tuple[str, LogicalType]],
) -> Table:
    _, schema, name, relkind, reltuples, comment, parts, comments, defaults = relation
    kind = _PG_KINDS[relkind]
    estimate = parts if relkind == "p" else reltuples
    row_count = None if kind == "view" or estimate is None or estimate < 0 else int(estimate)
    column_comments = _by_attnum(comments)
    column_defaults = _by_attnum(defaults)
    cols = []
    for _, attnum, attname, typid, typmod, notnull, generated in rows:
        data_type, logical = types[(typid, typmod)]
        cols.append(
            # Positional: the dataclass's keyword path costs twice as much per column.
            Column(
                attname,
                data_type,
                logical,
                not notnull,
                attnum in keys,
                None if generated else column_defaults.get(attnum),
                None,
                column_comments.get(attnum),
            )
        )
    return Table(name, tuple(cols), schema, None, comment, row_count, kind)


@dataclass(slots=True)
class _LastBuild:
    """The tables of this process's last PostgreSQL build, by the rows they were made from."""

    tables: dict[tuple[Any, ...], Table] = field(default_factory=dict)
    types: dict[tuple[int, int], tuple[str, LogicalType]] = field(default_factory=dict)


_last_build = _LastBuild()


def _attname(rows: list[tuple[Any, ...]], attnum: int) -> str | None:
    for row in rows:
        if row[1] == attnum:
            return str(row[2])
    return None


_ATTNUM: Final = operator.itemgetter(1)
_NAME: Final = operator.attrgetter("name")


# --- SQLite -----------------------------------------------------------------------------------

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
        return _fetchall(cursor, _SQLITE_COLUMNS_SQL)
    except DatabaseError:
        # A broken view (its table was dropped) makes the whole join fail: go table by table.
        logger.warning("prismiq introspection: bulk SQLite query failed, reading table by table")
    masters = _fetchall(
        cursor, "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view')"
    )
    rows: list[tuple[Any, ...]] = []
    for kind, name, sql in masters:
        try:
            info = _fetchall(cursor, _SQLITE_ONE_TABLE_SQL, [name])
        except DatabaseError:
            logger.warning("prismiq introspection: skipping unreadable SQLite object %r", name)
            continue
        rows.extend((kind, name, sql, *col) for col in info)
    return sorted(rows, key=lambda r: (r[1], r[3]))


def _introspect_sqlite(connection: BaseDatabaseWrapper) -> Catalog:
    with connection.cursor() as cursor:
        column_rows = _sqlite_columns(cursor)
        fk_rows = _fetchall(cursor, _SQLITE_FOREIGN_KEYS_SQL)
        names = {row[1] for row in column_rows}
        stats_rows = _fetchall(cursor, _SQLITE_STATS_SQL) if "sqlite_stat1" in names else []

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
        foreign_keys.append(_ForeignKey(table, from_cols, target, to_cols))
    tables.sort(key=lambda t: t.name)
    return Catalog.build(tables, _relationships(foreign_keys))


__all__ = ["introspect", "pg_logical_type", "schema_names", "sqlite_logical_type"]
