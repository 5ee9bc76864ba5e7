"""PostgreSQL's raw catalog in three ``pg_catalog`` queries whatever the table count.

Relations; columns; primary and foreign keys. Only relations the connection's role may ``SELECT``
are listed; partitions are left out (their parent carries the sum of their row estimates);
domains take their base type's logical type, enums are strings, arrays ``array``; with several
schemas a name found in more than one keeps the first schema listed, like a ``search_path``.
"""

from __future__ import annotations

import logging
import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.introspection import fetchall
from prismiq_django.backends.postgresql.session import (
    PIN_SQL,
    outside_transaction,
    several_statements_per_message,
)
from prismiq_django.backends.postgresql.types import pg_logical_type
from prismiq_django.ops.gcpause import gc_paused
from prismiq_django.query.catalog import (
    Catalog,
    Column,
    LogicalType,
    Relationship,
    Table,
    TableKind,
)

logger = logging.getLogger("prismiq_django.introspection")


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


def introspect_postgresql(connection: BaseDatabaseWrapper, schemas: list[str]) -> Catalog:
    # Tens of thousands of short-lived tuples and columns, no reference cycles: see gcpause.
    with gc_paused():
        with connection.cursor() as cursor:
            relations = _pinned_fetchall(connection, cursor, _PG_RELATIONS_SQL, [schemas])
            columns = fetchall(cursor, _PG_COLUMNS_SQL, [schemas])
            pairs = {(row[3], row[4]) for row in columns}
            keys_and_types = fetchall(
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
    """The rows of ``sql`` run with the output settings of
    :mod:`prismiq_django.backends.postgresql.session`.

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
            pinned = fetchall(cursor, sql, params)
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


__all__ = ["introspect_postgresql"]
