"""The result cache: compiled statements -> query results, on the Django cache ``CACHE_ALIAS``.

The contract is :func:`fetch_result` (:mod:`~prismiq_django.cache.results`); keys are made in
:mod:`~prismiq_django.cache.keys`, entries in :mod:`~prismiq_django.cache.codec`, and outages are
remembered by :mod:`~prismiq_django.cache.breaker`.
"""

from __future__ import annotations

from prismiq_django.cache.breaker import BREAKER_SECONDS, breaker
from prismiq_django.cache.codec import COMPRESS_ABOVE
from prismiq_django.cache.keys import (
    GLOBAL_GENERATION_KEY,
    LOCK_PREFIX,
    RESULT_PREFIX,
    TABLE_GENERATION_PREFIX,
    CompiledStatement,
    database_identity,
    generation_keys,
    result_key,
    table_key,
)
from prismiq_django.cache.results import (
    Defer,
    StaleRead,
    fetch_result,
    invalidate,
    invalidate_all,
    peek_result,
)

__all__ = [
    "BREAKER_SECONDS",
    "COMPRESS_ABOVE",
    "GLOBAL_GENERATION_KEY",
    "LOCK_PREFIX",
    "RESULT_PREFIX",
    "TABLE_GENERATION_PREFIX",
    "CompiledStatement",
    "Defer",
    "StaleRead",
    "breaker",
    "database_identity",
    "fetch_result",
    "generation_keys",
    "invalidate",
    "invalidate_all",
    "peek_result",
    "result_key",
    "table_key",
]
