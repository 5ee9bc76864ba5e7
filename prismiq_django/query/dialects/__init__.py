"""Per-vendor SQL details: quoting, date truncation, case-insensitive matching, parameters.

A :class:`Dialect` holds only what differs between databases; the compiler does the rest.
Dialects are registered by Django's ``connection.vendor`` (``"postgresql"``, ``"sqlite"``,
``"mysql"``) and looked up with :func:`get_dialect`. A vendor is one module of this package (a
subclass of :class:`~prismiq_django.query.dialects.base.Dialect`) plus one registry entry here;
``mysql`` serves MySQL and MariaDB (backtick quoting, ``CONVERT_TZ`` buckets, no ``NULLS LAST``,
no ``FULL`` join).

Every fragment a dialect returns uses ``%s`` placeholders and doubles any literal ``%``, as Django
cursors expect.
"""

from __future__ import annotations

from collections.abc import Callable

from prismiq_django.query.dialects.base import (
    LIKE_ESCAPE,
    Dialect,
    escape_like,
    like_to_glob,
    naive_timestamp,
    zoned_timestamp,
)
from prismiq_django.query.dialects.mysql import MySQLDialect
from prismiq_django.query.dialects.postgresql import PostgreSQLDialect
from prismiq_django.query.dialects.sqlite import SQLiteDialect
from prismiq_django.query.errors import ErrorDetail, QueryValidationError

_REGISTRY: dict[str, Callable[[], Dialect]] = {
    "mysql": MySQLDialect,
    "postgresql": PostgreSQLDialect,
    "sqlite": SQLiteDialect,
}
_INSTANCES: dict[str, Dialect] = {}


def get_dialect(vendor: str) -> Dialect:
    """Return the dialect for Django's ``connection.vendor``.

    Raises :class:`QueryValidationError` (``invalid_definition``) for a vendor with no dialect.
    """
    dialect = _INSTANCES.get(vendor)
    if dialect is None:
        factory = _REGISTRY.get(vendor)
        if factory is None:
            raise QueryValidationError(
                [ErrorDetail("invalid_definition", "This database vendor is not supported.", "")]
            )
        dialect = _INSTANCES[vendor] = factory()
    return dialect


__all__ = [
    "LIKE_ESCAPE",
    "Dialect",
    "MySQLDialect",
    "PostgreSQLDialect",
    "SQLiteDialect",
    "escape_like",
    "get_dialect",
    "like_to_glob",
    "naive_timestamp",
    "zoned_timestamp",
]
