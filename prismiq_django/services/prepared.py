"""Statements prepared once and run later, possibly in another thread (dashboard runs).

:func:`prepare_definition` parses and compiles on a catalog already built for the request;
:func:`run_prepared` runs the result exactly as ``query/execute`` does (result cache, metrics,
query log, read-only rails).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prismiq_django.exceptions import ValueOutOfRange
from prismiq_django.execution import QueryResult
from prismiq_django.query import Catalog, Compiled, QueryValidationError
from prismiq_django.query.ast import Query
from prismiq_django.services.queries import out_of_range, prepare, record_unrun, run_statement


@dataclass(frozen=True, slots=True)
class Prepared:
    """A definition parsed and compiled on a request's catalog, ready for :func:`run_prepared`
    (several of them can be run by threads: each run opens its own connection)."""

    definition: object
    catalog: Catalog
    query: Query
    compiled: Compiled


def prepare_definition(
    request: object, definition: object, catalog: Catalog | None = None
) -> Prepared:
    """Parse and compile ``definition`` on ``catalog`` (by default the catalog of ``request``);
    raises :class:`QueryValidationError`, counted as ``invalid`` like :func:`execute`'s."""
    started = time.perf_counter()
    try:
        catalog, query, compiled = prepare(request, definition, catalog)
    except QueryValidationError:
        record_unrun("invalid", started)
        raise
    return Prepared(definition, catalog, query, compiled)


def run_prepared(request: object, prepared: Prepared, *, bypass_cache: bool = False) -> QueryResult:
    """Run a :class:`Prepared` statement exactly as :func:`execute` runs one (result cache,
    metrics, query log, rails); safe to call from another thread."""
    try:
        return run_statement(
            request, prepared.catalog, prepared.query, prepared.compiled, bypass=bypass_cache
        )
    except ValueOutOfRange as exc:
        raise out_of_range(prepared.definition, prepared.query) from exc


__all__ = ["Prepared", "prepare_definition", "run_prepared"]
