"""Pagination and ``total_rows`` of ``execute`` (SPEC section 11, issue 23 item 12).

:class:`Paging` carries what the caller asked; :func:`paged_statements` turns a definition parsed
without a row cap into the statement of the page (or of the usual ``MAX_ROWS`` result) and, for
``count_total``, the statement counting the whole result, which runs first in the same
read-only transaction (:func:`prismiq_django.execution.execute_compiled`'s ``count``).
:func:`finish` sets ``page``, ``page_size`` and ``has_next`` on the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from prismiq_django.conf import prismiq_settings
from prismiq_django.execution import QueryResult
from prismiq_django.query import Catalog, Compiled, ErrorDetail, QueryValidationError
from prismiq_django.query.ast import Query
from prismiq_django.query.compiler import compile_query
from prismiq_django.query.dialects import Dialect
from prismiq_django.query.limits import Limits
from prismiq_django.query.paging import (
    MAX_PAGE_OFFSET,
    Page,
    count_query,
    count_sql,
    page_of,
)

#: Rows of a page when the caller gives no ``page_size``.
DEFAULT_PAGE_SIZE: Final = 500


@dataclass(frozen=True, slots=True)
class Paging:
    """``page`` (from 1; None: no pagination), ``page_size`` and ``count_total`` of a run."""

    page: int | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    count_total: bool = False


@dataclass(frozen=True, slots=True)
class PagedStatements:
    """What runs: the statement, its query, the count (``(sql, params)``) and the page."""

    query: Query
    compiled: Compiled
    count: tuple[str, tuple[object, ...]] | None
    page: Page | None
    whole_limit: int | None


@dataclass(frozen=True, slots=True)
class CountedStatement:
    """The identity of a run with its count, for the result cache: a result with
    ``total_rows`` is never served to a run without, nor the other way round."""

    sql: str
    params: tuple[object, ...]
    tables: frozenset[str]
    columns: tuple[str, ...]
    limit: int


def uncapped(limits: Limits) -> Limits:
    """``limits`` without a row cap: a page, not the whole result, is bounded."""
    return replace(limits, max_rows=MAX_PAGE_OFFSET)


def _whole_limit(definition: object, query: Query) -> int | None:
    given = definition.get("limit") if isinstance(definition, Mapping) else None
    return query.limit if given is not None else None


def paged_statements(
    definition: object,
    query: Query,
    catalog: Catalog,
    dialect: Dialect,
    paging: Paging,
    max_rows: int,
) -> PagedStatements:
    """The statements of ``query`` (parsed with :func:`uncapped` limits from ``definition``).

    Raises :class:`QueryValidationError` at ``/offset`` when the definition's offset and the
    page's start together pass the largest offset.
    """
    whole = _whole_limit(definition, query)
    page: Page | None = None
    if paging.page is not None:
        try:
            page = page_of(query, page=paging.page, size=paging.page_size, whole_limit=whole)
        except ValueError as exc:
            raise QueryValidationError(
                [
                    ErrorDetail(
                        "invalid_value", "offset and page start beyond the last row.", "/offset"
                    )
                ]
            ) from exc
        run = page.query
    else:
        run = replace(query, limit=min(query.limit, max_rows))
    compiled = compile_query(run, catalog, dialect)
    count = None
    if paging.count_total:
        counted = compile_query(count_query(query), catalog, dialect)
        count = (count_sql(counted.sql), counted.params)
    return PagedStatements(run, compiled, count, page, whole)


def cache_identity(statements: PagedStatements) -> Compiled | CountedStatement:
    """What the result cache keys the run by."""
    compiled = statements.compiled
    if statements.count is None:
        return compiled
    count_text, count_params = statements.count
    return CountedStatement(
        sql=f"{compiled.sql}\n-- total_rows: {count_text}",
        params=(*compiled.params, *count_params),
        tables=compiled.tables,
        columns=compiled.columns,
        limit=compiled.limit,
    )


def finish(result: QueryResult, statements: PagedStatements) -> QueryResult:
    """Set the page fields and bound ``total_rows`` by the definition's own limit."""
    if result.total_rows is not None and statements.whole_limit is not None:
        result.total_rows = min(result.total_rows, statements.whole_limit)
    page = statements.page
    if page is not None:
        has_next = page.has_next(result.truncated)
        result.truncated = has_next
        result.page = {"page": page.number, "page_size": page.size, "has_next": has_next}
    return result


def max_page_size() -> int:
    """``MAX_PAGE_SIZE``: the largest ``page_size`` accepted."""
    return prismiq_settings.MAX_PAGE_SIZE


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "CountedStatement",
    "PagedStatements",
    "Paging",
    "cache_identity",
    "finish",
    "max_page_size",
    "paged_statements",
    "uncapped",
]
