"""Repeated cached runs answered from a memo of their cache keys.

Contract::

    replay_hit(request, definition, catalog, version, inputs) -> QueryResult | None
    replay_body(request, body, definition_of) -> QueryResult | None

- ``replay_hit`` is called by :func:`prismiq_django.services.queries.execute` for a run on the
  process's unverified catalog (``version``: its token) without paging or ``bypass_cache``;
  ``inputs`` are the compile inputs besides the definition and the catalog
  (:func:`compile_inputs`). ``replay_body`` is the same for a request body
  (``query/execute`` served by :mod:`prismiq_django.api.hotpath`): ``definition_of(body)`` is
  the definition the endpoint reads from it, or None when the body is not a plain run (paging,
  ``bypass_cache``, anything malformed). Bodies seen before skip ``definition_of``: the same
  bytes are read the same way.
- Both answer only what the full run would answer from the result cache, with the same read: a
  definition this process compiled before (the memo of :mod:`~prismiq_django.services.memo`,
  the same key: definition, catalog by identity, row scopes, session settings, limits, time
  zone, vendor) whose entry :func:`~prismiq_django.cache.peek_result` serves now (one round
  trip with the request's rate count, the catalog token checked). The statement's cache key
  and generation keys are remembered (:data:`RECIPES_SIZE` of them, per memo key and database
  identity), so a hit computes neither.
- A hit is recorded as the full run records one (``record_query``).
- None otherwise, having done nothing but that read and the count: the caller runs in full (its
  read no longer sends the count). They raise only what the count's ``on_counted`` raises (the
  429).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Final, NamedTuple

from django.conf import settings
from django.db import connections
from django.utils import timezone

from prismiq_django.cache import generation_keys, peek_result, result_key
from prismiq_django.cache.counters import pending_for
from prismiq_django.cache.keys import database_identity
from prismiq_django.catalog.store import CATALOG_VERSION_KEY, database_alias, unverified_catalog
from prismiq_django.conf import prismiq_settings
from prismiq_django.execution import QueryResult
from prismiq_django.ops.observability import fingerprint, record_query
from prismiq_django.query import Catalog, Limits
from prismiq_django.services.memo import MemoKey, compiled_memo, keyed, memo_key
from prismiq_django.tenancy.scopes import cache_scopes

RECIPES_SIZE: Final = 512
#: Bodies longer than this are never remembered (a definition is a few hundred bytes).
MAX_BODY_KEY: Final = 16_384
_BODY: Final = b"body:"  # the key material of a body (canonical JSON never starts so)


#: (the ``settings.PRISMIQ`` object, its limits), swapped whole: made again when that object is
#: replaced, as :mod:`prismiq_django.conf` resolves settings (held, so identity is safe).
_limits: tuple[object, Limits | None] = (None, None)


def limits() -> Limits:
    """The complexity limits from settings."""
    global _limits
    owner = getattr(settings, "PRISMIQ", None)
    held, made = _limits
    if made is not None and held is owner:
        return made
    made = Limits(
        max_rows=prismiq_settings.MAX_ROWS,
        max_tables=prismiq_settings.MAX_TABLES,
        max_columns=prismiq_settings.MAX_COLUMNS,
        max_filters=prismiq_settings.MAX_FILTERS,
        max_depth=prismiq_settings.MAX_DEPTH,
        max_list_values=prismiq_settings.MAX_LIST_VALUES,
    )
    _limits = (owner, made)
    return made


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
class _Recipe:
    catalog: Catalog  # holds the tables and relationships whose identities are in the key
    key: str
    gen_keys: list[str]
    fingerprint: str


_RecipeKey = tuple[MemoKey, tuple[str, str, str, str, str]]


class _Recipes:
    """Bounded LRU of (memo key, database identity) -> :class:`_Recipe`, thread safe."""

    def __init__(self, size: int = RECIPES_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[_RecipeKey, _Recipe] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _RecipeKey, catalog: Catalog) -> _Recipe | None:
        """The recipe of ``key`` if it was made on ``catalog``'s very tables and relationships
        (by identity, as :class:`~prismiq_django.services.memo.CompiledMemo` checks)."""
        with self._lock:
            recipe = self._entries.get(key)
            if recipe is None:
                return None
            if (
                recipe.catalog.tables is not catalog.tables
                or recipe.catalog.relationships is not catalog.relationships
            ):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return recipe

    def put(self, key: _RecipeKey, recipe: _Recipe) -> None:
        with self._lock:
            self._entries[key] = recipe
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


recipes: Final = _Recipes()


def _recipe(memo: MemoKey, catalog: Catalog) -> _Recipe | None:
    """The keys of the statement ``memo`` compiled to (None when it is not in the memo)."""
    found = compiled_memo.get(memo, catalog)
    if found is None:
        return None
    compiled = found[1]
    return _Recipe(
        catalog=catalog,
        key=result_key(alias=database_alias(), compiled=compiled, scopes=cache_scopes(catalog)),
        gen_keys=generation_keys(compiled.tables),
        fingerprint=fingerprint(compiled.sql),
    )


def _serve(request: object, recipe: _Recipe, version: str) -> QueryResult | None:
    started = time.perf_counter()
    result = peek_result(
        key=recipe.key,
        gen_keys=recipe.gen_keys,
        expect={CATALOG_VERSION_KEY: version},
        pending=pending_for(request),
    )
    if result is not None:
        record_query(
            fingerprint=recipe.fingerprint,
            duration_s=time.perf_counter() - started,
            rows=result.row_count,
            cache_hit=True,
            status="ok",
        )
    return result


def replay_hit(
    request: object,
    definition: object,
    catalog: Catalog,
    version: str,
    inputs: CompileInputs,
) -> QueryResult | None:
    """The cached result of ``definition`` when the full run would serve it from the cache
    (see the module's contract), else None."""
    memo = memo_key(definition, catalog, *inputs)
    if memo is None:
        return None
    key = (memo, database_identity(database_alias()))
    recipe = recipes.get(key, catalog)
    if recipe is None:
        recipe = _recipe(memo, catalog)
        if recipe is None:
            return None
        recipes.put(key, recipe)
    return _serve(request, recipe, version)


def replay_body(
    request: object, body: bytes, definition_of: Callable[[bytes], object | None]
) -> QueryResult | None:
    """The cached result of the run ``body`` asks for, when the full run would serve it from
    the cache (see the module's contract), else None."""
    if len(body) > MAX_BODY_KEY:
        return None
    unverified = unverified_catalog(request)
    if unverified is None:
        return None
    catalog, version = unverified
    inputs = compile_inputs()
    material = keyed(_BODY + body, catalog, *inputs)
    if material is None:
        return None
    key = (material, database_identity(database_alias()))
    recipe = recipes.get(key, catalog)
    if recipe is None:
        definition = definition_of(body)
        memo = None if definition is None else memo_key(definition, catalog, *inputs)
        recipe = None if memo is None else _recipe(memo, catalog)
        if recipe is None:
            return None
        recipes.put(key, recipe)
    return _serve(request, recipe, version)


__all__ = [
    "MAX_BODY_KEY",
    "RECIPES_SIZE",
    "CompileInputs",
    "compile_inputs",
    "limits",
    "recipes",
    "replay_body",
    "replay_hit",
]
