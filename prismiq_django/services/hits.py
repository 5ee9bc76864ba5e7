"""Repeated cached runs answered from a memo of their cache keys.

Contract::

    replay_hit(request, definition, catalog, version, inputs) -> QueryResult | None
    replay_body(request, body, definition_of) -> QueryResult | None

- ``replay_hit`` is called by :func:`prismiq_django.services.queries.execute` for a run on the
  process's unverified catalog (``version``: its token) without paging or ``bypass_cache``;
  ``inputs`` are the compile inputs besides the definition and the catalog
  (:func:`~prismiq_django.services.memo.compile_inputs`). ``replay_body`` is the same for a
  request body (``query/execute`` served by :mod:`prismiq_django.api.hotpath`):
  ``definition_of(body)`` is the definition the endpoint reads from it, or None when the body
  is not a plain run (paging, ``bypass_cache``, anything malformed). Bodies seen before skip
  ``definition_of``: the same bytes are read the same way.
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

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from prismiq_django.cache import generation_keys, peek_result, result_key
from prismiq_django.cache.counters import pending_for
from prismiq_django.cache.keys import database_identity
from prismiq_django.catalog.store import CATALOG_VERSION_KEY, database_alias, unverified_catalog
from prismiq_django.execution import QueryResult
from prismiq_django.ops.observability import fingerprint, record_query
from prismiq_django.query import Catalog
from prismiq_django.services.memo import (
    CatalogLRU,
    CompileInputs,
    MemoKey,
    compile_inputs,
    compiled_memo,
    keyed,
    memo_key,
)
from prismiq_django.tenancy.scopes import cache_scopes

RECIPES_SIZE: Final = 512
#: Bodies longer than this are never remembered (a definition is a few hundred bytes).
MAX_BODY_KEY: Final = 16_384
_BODY: Final = b"body:"  # the key material of a body (canonical JSON never starts so)


@dataclass(frozen=True, slots=True)
class _Recipe:
    key: str
    gen_keys: list[str]
    fingerprint: str


_RecipeKey = tuple[MemoKey, tuple[str, str, str, str, str]]

#: (memo key, database identity) -> :class:`_Recipe`.
recipes: Final[CatalogLRU[_RecipeKey, _Recipe]] = CatalogLRU(RECIPES_SIZE)


def _recipe(memo: MemoKey, catalog: Catalog) -> _Recipe | None:
    """The keys of the statement ``memo`` compiled to (None when it is not in the memo)."""
    found = compiled_memo.get(memo, catalog)
    if found is None:
        return None
    compiled = found[1]
    return _Recipe(
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


def _remembered(
    key: MemoKey, catalog: Catalog, memo_of: Callable[[], MemoKey | None]
) -> _Recipe | None:
    """The recipe remembered for ``key``; the first time, made from the compiled memo's entry
    of ``memo_of()`` (None when there is none)."""
    recipe_key = (key, database_identity(database_alias()))
    recipe = recipes.get(recipe_key, catalog)
    if recipe is None:
        memo = memo_of()
        recipe = None if memo is None else _recipe(memo, catalog)
        if recipe is not None:
            recipes.put(recipe_key, catalog, recipe)
    return recipe


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
    recipe = None if memo is None else _remembered(memo, catalog, lambda: memo)
    return None if recipe is None else _serve(request, recipe, version)


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

    def memo_of_body() -> MemoKey | None:  # the body is read only the first time
        definition = definition_of(body)
        return None if definition is None else memo_key(definition, catalog, *inputs)

    recipe = _remembered(material, catalog, memo_of_body)
    return None if recipe is None else _serve(request, recipe, version)


__all__ = [
    "MAX_BODY_KEY",
    "RECIPES_SIZE",
    "recipes",
    "replay_body",
    "replay_hit",
]
