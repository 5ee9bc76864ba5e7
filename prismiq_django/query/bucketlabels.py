"""PostgreSQL's own spelling of the labels of time buckets of instants (the JSON path of
:mod:`prismiq_django.query.jsonrows`, the ``COPY`` export of :mod:`prismiq_django.query.csvrows`).

A bucket of a ``timestamptz`` is a naive wall-clock start in the site's zone; its label is that
start with the zone's offset at it, exactly as the Python path writes it
(:mod:`prismiq_django.execution.buckets`): the offset in force at the bucket's first instant
(``fold=0``: a start repeated when clocks go back takes the offset before the change, a start
that clocks skip the offset before the change too), ``+HH:MM`` with ``:SS`` when the offset has
seconds; before year 1 the offset at 0001-01-01 (the zone's LMT), after 9999 the offset of the
same wall-clock time in the year 9600-9999 of the same place in the 400-year Gregorian cycle;
``infinity`` and ``-infinity`` without offset.

In SQL: ``x AT TIME ZONE <zone>`` is PostgreSQL's instant of a wall-clock time ``x``, which
takes the offset before the change for a skipped time (as ``fold=0`` does) but the offset
*after* it for a repeated one. So the instant ``x - <offset a day earlier>`` is tried first:
when it is earlier and its wall-clock time is ``x``, ``x`` is repeated and that is its first
occurrence. (Offsets that change twice within a day are not seen: no zone does.)

The zone is the statement's one extra parameter, read through the ``"z"("zone")`` relation the
wrapping statement joins (:data:`ZONE_JOIN`). No ``%`` (``mod()`` instead): the statements are
run with ``%s`` placeholders. Pure: no Django, no I/O.
"""

from __future__ import annotations

from typing import Final

from prismiq_django.query.ast import Expr, Query
from prismiq_django.query.dialects.base import zoned_timestamp

#: Joined by a wrapping statement whose select list labels a bucket: the zone, one parameter.
ZONE_JOIN: Final = ' CROSS JOIN (SELECT CAST(%s AS text)) AS "z"("zone")'
_ZONE: Final = '"z"."zone"'


def zoned_bucket(expr: Expr) -> bool:
    """Whether output expression ``expr`` is the time bucket of a ``timestamptz``."""
    column = expr.col.column
    return expr.date_trunc is not None and column is not None and zoned_timestamp(column)


def zone_params(query: Query) -> tuple[object, ...]:
    """The parameters :data:`ZONE_JOIN` adds: the zone's name when ``query`` has a zoned
    bucket, else none (and no join)."""
    if any(zoned_bucket(item.expr) for item in query.select):
        return (query.tz_name,)
    return ()


def _offset_text(seconds: str) -> str:
    """``+HH:MM`` (``:SS`` when there are seconds) of an offset of ``seconds`` (an integer)."""
    size = f"abs({seconds})"

    def two(value: str) -> str:
        return f"lpad(CAST({value} AS text), 2, '0')"

    return (
        f"CASE WHEN {seconds} < 0 THEN '-' ELSE '+' END || {two(f'{size} / 3600')} || ':'"
        f" || {two(f'mod({size}, 3600) / 60')}"
        f" || CASE WHEN mod({size}, 60) <> 0 THEN ':' || {two(f'mod({size}, 60)')} ELSE '' END"
    )


def label_sql(name: str, naive_text: str) -> str:
    """The label (text) of the bucket ``name`` (a ``timestamp``: the wall-clock start), whose
    naive ISO text is the SQL ``naive_text``; NULL stays NULL."""
    year = f"CAST(extract(year FROM {name}) AS integer)"
    stand_in = (
        f"CASE WHEN NOT isfinite({name}) THEN timestamp '2000-01-01'"
        f" WHEN {name} < timestamp '0001-01-01' THEN timestamp '0001-01-01'"
        f" WHEN {name} >= timestamp '10000-01-01'"
        f" THEN {name} - make_interval(years => {year} - 9600 - mod({year}, 400))"
        f" ELSE {name} END"
    )
    x, a, before, e = '"x"."x"', '"a"."a"', '"b"."o"', '"e"."e"'
    offset = (
        f"CASE WHEN {e} < {a} AND ({e} AT TIME ZONE {_ZONE}) = {x} THEN {before}"
        f" ELSE {x} - ({a} AT TIME ZONE 'UTC') END"
    )
    seconds = '"s"."s"'
    # Only generated names, the caller's SQL of a column and fixed literals: no request text.
    return (
        f"(SELECT CASE WHEN NOT isfinite({name}) THEN {naive_text}"  # noqa: S608
        f" ELSE {naive_text} || {_offset_text(seconds)} END"
        f' FROM (SELECT {stand_in}) AS "x"("x")'
        f' CROSS JOIN LATERAL (SELECT {x} AT TIME ZONE {_ZONE}) AS "a"("a")'
        f" CROSS JOIN LATERAL (SELECT (({a} - interval '1 day') AT TIME ZONE {_ZONE})"
        f" - (({a} - interval '1 day') AT TIME ZONE 'UTC')) AS \"b\"(\"o\")"
        f' CROSS JOIN LATERAL (SELECT ({x} - {before}) AT TIME ZONE \'UTC\') AS "e"("e")'
        f" CROSS JOIN LATERAL (SELECT CAST(extract(epoch FROM {offset}) AS integer))"
        ' AS "s"("s"))'
    )


__all__ = ["ZONE_JOIN", "label_sql", "zone_params", "zoned_bucket"]
