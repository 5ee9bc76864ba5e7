"""Pages of a query's result (SPEC section 11) and the statement that counts its rows.

The *whole result* of a definition is its rows from its own ``offset``, at most its own
``limit`` of them (no limit: every row; ``MAX_ROWS`` bounds a page, not the whole). Page ``p``
of size ``s`` is rows ``(p - 1) * s`` to ``p * s - 1`` of it, in a stable order: the definition's
``order_by`` followed by every sortable output column not already in it, ascending, as
tie-breakers. Two rows the order cannot tell apart are then equal in every output column, so the
concatenated pages are the whole result in that order.

Pure: no Django, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from prismiq_django.query.ast import OrderItem, Query
from prismiq_django.query.catalog import UNSORTABLE_TYPES

#: Largest offset a page may start at (the parser's bound on ``offset``).
MAX_PAGE_OFFSET = 2**62


@dataclass(frozen=True, slots=True)
class Page:
    """The query of one page and how to tell whether another follows.

    ``query`` returns the page's rows (its compiled statement fetches one more: a row after the
    page); ``has_next`` is decided by :meth:`has_next` from the rows fetched.
    """

    query: Query
    number: int
    size: int
    #: Rows of the whole result before this page, and the whole result's limit (None: none).
    start: int
    whole_limit: int | None

    def has_next(self, fetched_more: bool) -> bool:
        """Whether rows follow this page, given that the statement found a row after it."""
        if not fetched_more:
            return False
        return self.whole_limit is None or self.start + self.size < self.whole_limit


def stable_order(query: Query) -> tuple[OrderItem, ...]:
    """``query``'s order with every sortable output column not in it appended, ascending."""
    ordered = {item.output for item in query.order_by if item.output is not None}
    extra = tuple(
        OrderItem("ASC", output=index)
        for index, item in enumerate(query.select)
        if index not in ordered and item.expr.type not in UNSORTABLE_TYPES
    )
    return query.order_by + extra


def page_of(query: Query, *, page: int, size: int, whole_limit: int | None) -> Page:
    """The query of page ``page`` (from 1) of ``size`` rows of ``query``'s whole result.

    ``whole_limit`` is the definition's own ``limit`` (None when it gave none); ``query.offset``
    is its own offset. Raises ValueError when the page starts beyond :data:`MAX_PAGE_OFFSET`.
    """
    if page < 1 or size < 1:
        raise ValueError("page and size start at 1")
    start = (page - 1) * size
    if query.offset + start > MAX_PAGE_OFFSET:
        raise ValueError("the page starts too far into the result")
    rows = size if whole_limit is None else max(0, min(size, whole_limit - start))
    paged = replace(query, order_by=stable_order(query), limit=rows, offset=query.offset + start)
    return Page(paged, page, size, start, whole_limit)


def count_query(query: Query) -> Query:
    """``query`` without its order, to count the rows of its whole result with :func:`count_sql`.

    ``query`` must have been parsed with no row cap below the definition's own ``limit`` (see
    :func:`page_of`); its compiled ``LIMIT`` is that limit plus one, so the count is at most one
    more than the whole result: the caller takes the smaller of the count and the limit.
    """
    return replace(query, order_by=())


def count_sql(compiled_sql: str) -> str:
    """A statement counting the rows of ``compiled_sql`` (same parameters)."""
    # An unquoted alias: the same name on every vendor (MySQL quotes with backticks).
    return f"SELECT count(*) FROM ({compiled_sql}) AS q"  # noqa: S608


__all__ = ["MAX_PAGE_OFFSET", "Page", "count_query", "count_sql", "page_of", "stable_order"]
