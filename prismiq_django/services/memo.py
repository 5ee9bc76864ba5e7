"""A per-process memo of parsed and compiled definitions: a cached hit skips parse + compile.

Contract::

    compiled_once(definition, catalog, limits, tz, vendor, naive) -> (Query, Compiled)

parses and compiles like ``parse`` + ``compile_query`` (raising the same
:class:`~prismiq_django.query.QueryValidationError`), from the memo when the same inputs were
compiled before in this process.

- The key is everything compilation depends on, and nothing is guessed: the definition as
  canonical JSON (orjson, sorted keys: ``1``, ``1.0``, ``true`` and ``"1"`` stay apart), the
  catalog's tables and relationships **by identity**, checked again on every read (the entry
  holds them, so an identity can never be reused while the entry lives; a rebuilt catalog,
  after any exposure or schema change, is another object and never matches), the row scopes
  and session settings in force (a tenant, or a user with other scopes, never shares an entry
  with another), the complexity limits (``MAX_ROWS``...), the time zone object, whether
  datetimes are naive (``USE_TZ = False``) and the database vendor. Scope values are keyed
  by ``repr`` (``1``, ``True``, ``1.0`` and ``"1"`` stay apart; they compare equal in Python).
- Definitions with ``date_relative`` anywhere (their SQL depends on the clock) and definitions
  that cannot be written as canonical JSON (a non-string key, a value orjson does not know, a
  scope value that cannot be hashed) are never memoized: :func:`memo_key` returns None.
- Only successful compilations are stored; refusals are parsed again every time (their errors
  depend on the same inputs, but are cheap and rare).
- Bounded (:data:`MEMO_SIZE` entries, least recently used evicted), per process, thread safe.
  Entries are immutable (frozen dataclasses) and shared between requests. The table is a
  :class:`CatalogLRU`, which the replay of cached runs (:mod:`~prismiq_django.services.hits`)
  uses for its own entries too.
- :func:`limits` and :func:`compile_inputs` read those inputs for the current request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import tzinfo
from typing import Final, Generic, NamedTuple, TypeVar

import orjson
from django.conf import settings
from django.db import connections
from django.utils import timezone

from prismiq_django.catalog.store import database_alias
from prismiq_django.conf import prismiq_settings
from prismiq_django.query import Catalog, Compiled, Limits, compile_query, get_dialect, parse
from prismiq_django.query.ast import Query

MEMO_SIZE: Final = 512
K = TypeVar("K")
V = TypeVar("V")


def _made_limits() -> Limits:
    return Limits(
        max_rows=prismiq_settings.MAX_ROWS,
        max_tables=prismiq_settings.MAX_TABLES,
        max_columns=prismiq_settings.MAX_COLUMNS,
        max_filters=prismiq_settings.MAX_FILTERS,
        max_depth=prismiq_settings.MAX_DEPTH,
        max_list_values=prismiq_settings.MAX_LIST_VALUES,
    )


def limits() -> Limits:
    """The complexity limits from settings (made once per ``settings.PRISMIQ`` object)."""
    return prismiq_settings.derived("limits", _made_limits)


class CompileInputs(NamedTuple):
    """What compiling a definition depends on besides the definition and the catalog."""

    limits: Limits
    tz: tzinfo
    vendor: str
    naive_datetimes: bool


def compile_inputs() -> CompileInputs:
    """The compile inputs of this request: the limits, the current time zone, the analytics
    database's vendor, ``not USE_TZ``."""
    return CompileInputs(
        limits(),
        timezone.get_current_timezone(),
        connections[database_alias()].vendor,
        not settings.USE_TZ,
    )


@dataclass(frozen=True, slots=True)
class MemoKey:
    """What a compiled statement depends on (see the module's contract)."""

    definition: bytes
    tables_id: int
    relationships_id: int
    row_scopes: tuple[tuple[str, str], ...]
    session_settings: tuple[tuple[str, str], ...]
    limits: Limits
    tz: tzinfo
    vendor: str
    naive_datetimes: bool


def memo_key(
    definition: object,
    catalog: Catalog,
    limits: Limits,
    tz: tzinfo,
    vendor: str,
    naive_datetimes: bool = False,
) -> MemoKey | None:
    """The memo key of compiling ``definition`` on ``catalog``, or None when it must not be
    memoized."""
    try:
        canonical = orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    if b"date_relative" in canonical:
        return None
    return keyed(canonical, catalog, limits, tz, vendor, naive_datetimes)


def keyed(
    material: bytes,
    catalog: Catalog,
    limits: Limits,
    tz: tzinfo,
    vendor: str,
    naive_datetimes: bool = False,
) -> MemoKey | None:
    """A :class:`MemoKey` of ``material`` (what stands for the definition: its canonical JSON)
    with everything else compilation depends on; None when a scope value cannot be hashed."""
    scopes = tuple(
        (table, repr(tuple(catalog.row_scopes[table]))) for table in sorted(catalog.row_scopes)
    )
    key = MemoKey(
        material,
        id(catalog.tables),
        id(catalog.relationships),
        scopes,
        tuple(catalog.session_settings),
        limits,
        tz,
        vendor,
        naive_datetimes,
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


class CatalogLRU(Generic[K, V]):
    """A bounded LRU of ``key -> value`` made on a catalog, thread safe: an entry is served only
    for a catalog with the very tables and relationships it was made on (checked by identity on
    top of the key; the entry holds them, so an ``id`` in a key is never reused while it lives).
    """

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[K, tuple[Catalog, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, catalog: Catalog) -> V | None:
        """The value of ``key`` if it was made on ``catalog``'s tables and relationships."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            made_on, value = entry
            if (
                made_on.tables is not catalog.tables
                or made_on.relationships is not catalog.relationships
            ):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: K, catalog: Catalog, value: V) -> None:
        with self._lock:
            self._entries[key] = (catalog, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class CompiledMemo(CatalogLRU[MemoKey, tuple[Query, Compiled]]):
    """The bounded LRU of :class:`MemoKey` -> (query, compiled)."""


compiled_memo: Final = CompiledMemo()


def compiled_once(
    definition: object,
    catalog: Catalog,
    limits: Limits,
    tz: tzinfo,
    vendor: str,
    naive_datetimes: bool = False,
) -> tuple[Query, Compiled]:
    """``definition`` parsed and compiled on ``catalog`` (see the module's contract);
    ``naive_datetimes`` is ``parse``'s (True when ``USE_TZ`` is False)."""
    key = memo_key(definition, catalog, limits, tz, vendor, naive_datetimes)
    if key is not None:
        found = compiled_memo.get(key, catalog)
        if found is not None:
            return found
    query = parse(
        definition,
        catalog,
        limits=limits,
        now=timezone.now(),
        tz=tz,
        naive_datetimes=naive_datetimes,
    )
    compiled = compile_query(query, catalog, get_dialect(vendor))
    if key is not None:
        compiled_memo.put(key, catalog, (query, compiled))
    return query, compiled


__all__ = [
    "MEMO_SIZE",
    "CatalogLRU",
    "CompileInputs",
    "CompiledMemo",
    "MemoKey",
    "compile_inputs",
    "compiled_memo",
    "compiled_once",
    "keyed",
    "limits",
    "memo_key",
]
