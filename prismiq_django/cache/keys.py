"""Result cache keys: a SHA-256 of a canonical, type-tagged encoding of the database identity, the
compiled SQL, its parameters and the row scopes (order-insensitive); and the generation keys an
entry depends on (one per table read, plus the global one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import Final, Protocol
from uuid import UUID

import orjson
from django.conf import settings

RESULT_PREFIX: Final = "prismiq:r:"
LOCK_PREFIX: Final = "prismiq:lock:"
TABLE_GENERATION_PREFIX: Final = "prismiq:tv:"
GLOBAL_GENERATION_KEY: Final = "prismiq:gen"


#: Part of every key: entries of another layout are never read (they expire on their own).
#: (4: zstd instead of zlib; 5: time buckets of instants labelled with the site zone's offset,
#: so that no cached answer spells them naive.)
_FORMAT_VERSION: Final = 5


_SAFE_NAME = re.compile(r"[A-Za-z0-9_.$-]{1,120}")


class CompiledStatement(Protocol):
    """What the cache needs from :class:`prismiq_django.query.Compiled`."""

    @property
    def sql(self) -> str: ...
    @property
    def params(self) -> tuple[object, ...]: ...
    @property
    def tables(self) -> frozenset[str]: ...


def _canon(value: object) -> object:
    """A JSON-ready, type-tagged, deterministic encoding of a parameter or scope value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, date):
        return ["date", value.isoformat()]
    if isinstance(value, dt_time):
        return ["time", value.isoformat()]
    if isinstance(value, timedelta):
        return ["timedelta", repr(value.total_seconds())]
    if isinstance(value, UUID):
        return ["uuid", value.hex]
    if isinstance(value, Mapping):
        items = [[_canon(k), _canon(v)] for k, v in value.items()]
        return ["map", sorted(items, key=_sort_key)]
    if isinstance(value, set | frozenset):
        return ["set", sorted((_canon(v) for v in value), key=_sort_key)]
    if isinstance(value, list | tuple):
        return [type(value).__name__, [_canon(v) for v in value]]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return ["dc", type(value).__qualname__, _canon(fields)]
    return [f"{type(value).__module__}.{type(value).__qualname__}", repr(value)]


def _sort_key(encoded: object) -> bytes:
    return orjson.dumps(encoded)


def _canon_scopes(scopes: object) -> object:
    """Row scopes, order-insensitive: a mapping or any iterable of scopes becomes a sorted list."""
    if isinstance(scopes, Mapping):
        return _canon(scopes)
    if isinstance(scopes, Iterable) and not isinstance(scopes, str | bytes):
        return ["scopes", sorted((_canon(s) for s in scopes), key=_sort_key)]
    return _canon(scopes)


def table_key(table: str) -> str:
    if _SAFE_NAME.fullmatch(table):
        return TABLE_GENERATION_PREFIX + table
    return TABLE_GENERATION_PREFIX + "h" + hashlib.sha256(table.encode()).hexdigest()[:32]


def database_identity(alias: str) -> tuple[str, str, str, str, str]:
    """Who answers for ``alias``: (alias, engine, name, host, port) from ``settings.DATABASES``.

    Folded into every key so that two sites (or test runs) sharing one Redis through the same
    alias name but different databases can never read each other's entries.
    """
    conf = settings.DATABASES.get(alias, {})
    return (
        alias,
        str(conf.get("ENGINE", "")),
        str(conf.get("NAME", "")),
        str(conf.get("HOST", "")),
        str(conf.get("PORT", "")),
    )


def result_key(*, alias: str, compiled: CompiledStatement, scopes: object) -> str:
    """The cache key of one statement run on ``alias`` under ``scopes`` (pure function)."""
    material = orjson.dumps(
        [
            _FORMAT_VERSION,
            database_identity(alias),
            compiled.sql,
            _canon(tuple(compiled.params)),
            _canon_scopes(scopes),
        ]
    )
    return RESULT_PREFIX + hashlib.sha256(material).hexdigest()


def generation_keys(tables: Iterable[str]) -> list[str]:
    """The generation keys an entry reading ``tables`` depends on (sorted; the global one too)."""
    return sorted({*(table_key(t) for t in tables), GLOBAL_GENERATION_KEY})


__all__ = [
    "GLOBAL_GENERATION_KEY",
    "LOCK_PREFIX",
    "RESULT_PREFIX",
    "TABLE_GENERATION_PREFIX",
    "CompiledStatement",
    "database_identity",
    "generation_keys",
    "result_key",
    "table_key",
]
