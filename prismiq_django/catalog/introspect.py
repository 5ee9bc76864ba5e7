"""Read the database schema into a raw (unfiltered) :class:`Catalog` in a fixed number of queries.

:func:`introspect` returns every table, view, materialized view, partitioned parent and foreign
table of the configured schemas with their columns (database type name, logical type,
nullability, default, primary key, comment), single-column foreign keys and row estimates. What
end users may see is decided afterwards by :mod:`prismiq_django.catalog.exposure`.

Each vendor's reading lives in :mod:`prismiq_django.backends` (``postgresql.introspection``,
``sqlite.introspection``):

- PostgreSQL: three ``pg_catalog`` queries whatever the table count (relations; columns; primary
  and foreign keys). Only relations the connection's role may ``SELECT`` are listed, so a
  read-only role sees exactly what it can query. Partitions are left out (their parent is shown
  once, with the sum of the partitions' row estimates). Domains take the logical type of their
  base type, enums are strings, arrays are ``array``; generated columns have no default. With
  several schemas (``PRISMIQ["DB_SCHEMA"]``) a name found in more than one keeps the first
  schema listed, like a ``search_path``.
- SQLite: ``sqlite_master`` joined to the ``pragma_table_info`` and ``pragma_foreign_key_list``
  table-valued functions, two queries (three when ``sqlite_stat1`` exists for row estimates).
  Columns declared ``text`` with a ``JSON_VALID`` check (Django's ``JSONField``) are ``json``,
  and the columns of Django's ``UUIDField`` (declared ``char(32)``, 32 hex digits) are ``uuid``
  (:func:`django_uuid_columns`): results spell them canonically, with dashes.
- MySQL and MariaDB: three ``information_schema`` queries whatever the table count (tables;
  columns; foreign keys with MariaDB's ``JSON_VALID`` checks), the connection's database only;
  ``tinyint(1)`` is ``boolean``, ``TABLE_ROWS`` the row estimate.
"""

from __future__ import annotations

import logging

from django.apps import apps
from django.db import DatabaseError, connections

from prismiq_django.backends.base import connection_lost
from prismiq_django.backends.mysql.introspection import introspect_mysql
from prismiq_django.backends.postgresql.introspection import introspect_postgresql
from prismiq_django.backends.sqlite.introspection import introspect_sqlite
from prismiq_django.exceptions import DatabaseUnavailable, QueryExecutionError
from prismiq_django.query.catalog import (
    Catalog,
)

logger = logging.getLogger("prismiq_django.introspection")


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


def django_uuid_columns() -> set[tuple[str, str]]:
    """``(db_table, column)`` of every ``UUIDField`` of the installed models (for SQLite, where
    the declared type ``char(32)`` does not say it)."""
    found: set[tuple[str, str]] = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_fields:
            if field.get_internal_type() == "UUIDField" and field.column:
                found.add((model._meta.db_table, field.column))
    return found


def introspect(alias: str, *, db_schema: object = None) -> Catalog:
    """Return the raw catalog of the database ``alias`` (nothing filtered out yet).

    ``db_schema`` is ``PRISMIQ["DB_SCHEMA"]`` (PostgreSQL only). Raises
    :class:`DatabaseUnavailable` when the database cannot be reached or the connection is lost
    while reading (the test of :func:`prismiq_django.backends.base.connection_lost`), and
    :class:`QueryExecutionError` (HTTP 500) for any other database error.
    """
    connection = connections[alias]
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        logger.exception("prismiq introspection: database unreachable")
        raise DatabaseUnavailable() from exc
    if connection.vendor not in ("postgresql", "sqlite", "mysql"):
        raise NotImplementedError(f"introspection of {connection.vendor!r} is not supported")
    try:
        if connection.vendor == "postgresql":
            return introspect_postgresql(connection, schema_names(db_schema))
        if connection.vendor == "mysql":
            return introspect_mysql(connection)
        return introspect_sqlite(connection, django_uuid_columns())
    except DatabaseError as exc:
        # Only a lost connection is "unavailable" (503), by the same test as query execution;
        # any other database error (a statement interrupted or refused...) is a server error.
        if connection_lost(exc, connection):
            logger.exception("prismiq introspection: database connection failed")
            raise DatabaseUnavailable() from exc
        logger.exception("prismiq introspection: reading the catalog failed")
        raise QueryExecutionError("The database schema could not be read.") from exc


__all__ = [
    "django_uuid_columns",
    "introspect",
    "is_system_schema",
    "schema_names",
    "system_schemas",
]
