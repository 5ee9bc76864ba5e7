"""CSV spelled by PostgreSQL itself: the ``COPY`` statement of a CSV export.

For a compiled statement whose every output column PostgreSQL can spell exactly as the Python
path of a CSV export does (SPEC sections 4 and 11), :func:`csv_copy_sql` returns::

    COPY (SELECT <text of c0>, <text of c1>, ... FROM (<compiled>) AS "q"("c0", ...) LIMIT %s)
    TO STDOUT (FORMAT csv)

The inner statement keeps its parameters, order and rows (the outer query is a plain scan of
the ordered subquery, as in :mod:`prismiq_django.query.jsonrows`), and the outer ``LIMIT`` (a
bound parameter, the export's row count) drops the one extra row the compiled ``LIMIT`` asks for.
Each column becomes text the way the JSON answer spells its value (through ``to_json`` for dates
and timestamps, with the expanded years of the JSON path), null stays null (an empty field):

- integers, text, uuids: as they are; text starting with ``=``, ``+``, ``-`` or ``@`` gets a
  leading ``'`` when ``escape_formulas`` (spreadsheet formula injection);
- booleans: ``true`` / ``false``;
- numerics and floats: their text, null where the JSON answer has null (NaN, infinities, beyond
  a double);
- dates and timestamps: ISO 8601 as the JSON answer (PostgreSQL's ``to_json``) writes them
  (the session must be in UTC, as for the JSON path); see :func:`_temporal_sql`. Time buckets
  of a ``timestamptz`` carry the site zone's offset, as in the JSON answer
  (:mod:`prismiq_django.query.bucketlabels`).

Everything else (json, time, interval, bytea, arrays...) returns None: the export then reads the
rows through a cursor and spells them in Python. No request text reaches this SQL: generated
names, the compiled statement, and quote-free literals (no ``%`` either: ``%s`` placeholders).

Pure: no Django, no I/O.
"""

from __future__ import annotations

from typing import Final

from prismiq_django.query.ast import Expr, Query
from prismiq_django.query.bucketlabels import ZONE_JOIN, label_sql, zoned_bucket
from prismiq_django.query.jsonrows import (
    ELIGIBLE_TYPES,
    base_type,
    expanded_json_sql,
    in_python_range,
    output_json_sql,
    zoned_label_sql,
)

#: Logical types spelled by this module (the others keep the Python path).
_SPELLED: Final = frozenset(
    {"integer", "string", "uuid", "boolean", "decimal", "float", "date", "datetime"}
)


#: Blank-padded types: their padding would be lost in the text expressions (the Python path
#: keeps it).
_PADDED: Final = frozenset({"character", "bpchar", '"char"'})


def _escaped(name: str) -> str:
    """Formula escaping of text ``name`` by the code of its first character: integer tests,
    which cost less than comparing text.

    A code above 64 (``@``: letters, most text, anything not ASCII) takes ``name`` as it is
    after that one comparison; the others are tested against ``=`` 61, ``+`` 43, ``-`` 45 and
    ``@`` 64 (``ascii('')`` is 0: an empty text stays empty; null stays null). The common case
    first saves about 20 ms of a 1,000,000-row export over the four-value ``IN`` alone
    (benchmarks/RESULTS.md, Exports).
    """
    return (
        f"CASE WHEN ascii({name}) > 64 THEN {name}"
        f" WHEN ascii({name}) IN (61, 43, 45, 64) THEN '''' || {name} ELSE {name} END"
    )


def _text_sql(expr: Expr, name: str, *, escape_formulas: bool) -> str | None:
    """The CSV text of output column ``name`` of the subquery, or None when not spelled here."""
    if expr.aggregation in ("count", "count_distinct"):
        return name
    if zoned_label_sql(expr, name) is not None:  # an eligible timestamptz's bucket
        return label_sql(name, _temporal_sql(name, "timestamp", truncated=True))
    part = output_json_sql(expr, name)
    if part is None or expr.type not in _SPELLED:
        return None
    column = expr.col.column
    base = base_type(column.data_type) if column is not None else ""
    if ELIGIBLE_TYPES.get(base) not in _SPELLED or base in _PADDED:
        return None
    if expr.type == "string":
        return _escaped(f"{name}::text") if escape_formulas else name
    if expr.type == "boolean":
        return f"CASE WHEN {name} THEN 'true' WHEN NOT {name} THEN 'false' END"
    if expr.type in ("date", "datetime"):
        return _temporal_sql(name, base, truncated=expr.date_trunc is not None)
    return part


#: Column types whose values are ``timestamptz`` (in the session's zone, UTC: ``+00``).
_ZONED: Final = frozenset({"timestamp with time zone", "timestamptz"})


def _temporal_sql(name: str, base: str, *, truncated: bool) -> str:
    """ISO 8601 text of a date or timestamp, as ``to_json`` writes it.

    Years 1..9999 take PostgreSQL's own ISO text (``DateStyle`` ISO, pinned by the rails) with
    the ``T`` and, for ``timestamptz``, the ``+00:00`` of JSON: about half the cost of
    ``to_json`` and a JSON read. A ``timestamptz`` is written as its UTC wall-clock time
    (``AT TIME ZONE INTERVAL '00:00'``, a ``timestamp``: in the session's UTC the same digits
    as its own text, with no zone to look up, which saves about 40 ms of a 1,000,000-row
    export) followed by ``+00:00``. Other values (infinities, BC, after 9999) take the JSON
    path's expanded years. A truncated naive timestamp is a naive wall-clock time; a truncated
    date a date; a truncated ``timestamptz`` that wall-clock time with the site zone's offset
    (:func:`~prismiq_django.query.bucketlabels.label_sql`).

    A date (the column's own type, as its buckets and extremes are) is a ``cstring``:
    ``date_out``'s text, the expanded years through ``textout``. ``COPY`` copies a cstring
    once to write it; a ``text`` is one copy more (``textin``), about 20 ms of a 1,000,000-row
    export.
    """
    slow = f"({expanded_json_sql(name)} #>> '{{}}')"
    if base == "date":
        return f"CASE WHEN {in_python_range(name)} THEN date_out({name}) ELSE textout({slow}) END"
    if base in _ZONED and not truncated:
        fast = f"replace(({name} AT TIME ZONE INTERVAL '00:00')::text, ' ', 'T') || '+00:00'"
    else:
        fast = f"replace({name}::text, ' ', 'T')"
    return f"CASE WHEN {in_python_range(name)} THEN {fast} ELSE {slow} END"


def csv_copy_sql(query: Query, sql: str, *, escape_formulas: bool = True) -> str | None:
    """The ``COPY ... TO STDOUT`` statement of ``sql`` (compiled from ``query``), or None.

    Its parameters are ``sql``'s, then :func:`~prismiq_django.query.bucketlabels.zone_params`
    of ``query`` (the zone of its bucket labels, if any), then the number of rows to export.
    """
    if not query.select:
        return None
    names = [f'"c{index}"' for index in range(len(query.select))]
    parts = []
    for item, name in zip(query.select, names, strict=True):
        part = _text_sql(item.expr, name, escape_formulas=escape_formulas)
        if part is None:
            return None
        parts.append(part)
    # Only generated names, fixed literals and the compiled statement: no request text.
    zone = ZONE_JOIN if any(zoned_bucket(item.expr) for item in query.select) else ""
    columns = ", ".join(names)
    select = f'SELECT {", ".join(parts)} FROM ({sql}) AS "q"({columns}){zone} LIMIT %s'  # noqa: S608
    return f"COPY ({select}) TO STDOUT (FORMAT csv)"


__all__ = ["csv_copy_sql"]
