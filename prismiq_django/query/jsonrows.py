"""Rows encoded as JSON by PostgreSQL itself (the fast path of large results).

For a statement whose every output column has a type that PostgreSQL writes in JSON exactly as
the wire format of SPEC section 4 wants it, :func:`json_rows_sql` wraps the compiled statement so
that each result row comes back as one ``text`` value holding a JSON array::

    SELECT json_build_array("c0", "c1", ...)::text FROM (<compiled statement>) AS "q"("c0", ...)

The database then builds the JSON in C, the driver loads one string per row instead of one Python
object per value, and the application only joins the strings. The wrapped statement has the same
parameters, row order (the outer query is a plain scan of the ordered, limited subquery) and
``LIMIT`` as the compiled one, and reads the same rows: nothing about *what* runs changes, only
how the values travel.

Eligible output types, by the database type of the column under the expression (the catalog's
``data_type``) and the expression's logical type:

- ``integer`` (smallint, integer, bigint; ``count`` of anything), ``boolean``, ``uuid``,
  ``date``, ``json``/``jsonb`` and text columns (text, varchar, char, name, citext): PostgreSQL's
  JSON is the same value the Python path produces.
- ``decimal`` (numeric) and ``float`` (real, double precision): JSON numbers; ``NaN`` and
  ``±Infinity`` become ``null`` as on the Python path, and so do numerics too large for a
  double (``1e1000``), which the Python path reads as infinite. numeric values keep all their
  digits otherwise.
- ``datetime`` (timestamp with and without time zone): ISO 8601 in the session's time zone, which
  the caller must only allow when it is UTC (the Python path's zone): fractional seconds are
  written with the digits they need (``.5``) rather than always six. A time bucket of a
  ``timestamptz`` is labelled with the site zone's offset at its start, as the Python path
  labels it (:mod:`prismiq_django.query.bucketlabels`): the zone is then one more parameter,
  after the compiled statement's (:func:`~prismiq_django.query.bucketlabels.zone_params`).
- ``date`` and ``datetime`` values outside years 1..9999 (``infinity``, ``-infinity``, BC, after
  9999), which Python cannot represent: rows holding one are built by a second
  ``json_build_array`` that spells them as the Python path does (expanded astronomical years).

Anything else (time, interval, bytea, arrays, money, enums, domains, network types...), and
selects of more than 100 columns (PostgreSQL's limit on a function's arguments), return
``None``: the caller runs the compiled statement and converts values in Python.

Pure: no Django, no I/O.
"""

from __future__ import annotations

import re
from typing import Final

from prismiq_django.query.ast import Expr, Query
from prismiq_django.query.bucketlabels import ZONE_JOIN, label_sql, zoned_bucket
from prismiq_django.query.dialects.base import zoned_timestamp

#: Eligible database types (``format_type`` spelling, without modifiers, and the ``pg_type`` name)
#: with the logical type they must carry: a domain or an unexpected mapping keeps the Python path.
ELIGIBLE_TYPES: Final[dict[str, str]] = {
    **dict.fromkeys(("smallint", "integer", "bigint", "int2", "int4", "int8"), "integer"),
    **dict.fromkeys(("boolean", "bool"), "boolean"),
    "uuid": "uuid",
    "date": "date",
    **dict.fromkeys(("json", "jsonb"), "json"),
    **dict.fromkeys(
        ("text", "character varying", "varchar", "character", "bpchar", '"char"', "name"),
        "string",
    ),
    "citext": "string",
    "numeric": "decimal",
    **dict.fromkeys(("real", "double precision", "float4", "float8"), "float"),
    **dict.fromkeys(
        ("timestamp with time zone", "timestamp without time zone", "timestamptz", "timestamp"),
        "datetime",
    ),
}
#: The smallest magnitude a decimal cannot have as a double: ``float(Decimal(x))`` is infinite
#: for ``abs(x) >= 2**1024 - 2**970`` (halfway past the largest double, ties to even).
_DOUBLE_OVERFLOW: Final = 2**1024 - 2**970
#: PostgreSQL's ``FUNC_MAX_ARGS``: ``json_build_array`` of more columns is an error, so wider
#: selects (``MAX_COLUMNS`` above 100) keep the Python path.
_MAX_FUNCTION_ARGUMENTS: Final = 100
_MODIFIERS: Final = re.compile(r"\(\d+(?:,\d+)?\)")


def base_type(data_type: str) -> str:
    """``numeric(12,2)`` -> ``numeric``; ``timestamp(3) with time zone`` -> without ``(3)``."""
    return _MODIFIERS.sub("", data_type).strip()


def output_json_sql(expr: Expr, name: str) -> str | None:
    """The JSON-ready SQL of one output column of the subquery (``name``), or None."""
    if expr.aggregation in ("count", "count_distinct"):
        return name
    column = expr.col.column
    if column is None:
        return None
    if ELIGIBLE_TYPES.get(base_type(column.data_type)) != column.type:
        return None
    if expr.date_trunc is not None and zoned_timestamp(column):
        # Its label carries the site zone's offset (bucketlabels.label_sql, for the callers
        # that join the zone); the session's zone is UTC here.
        return None
    if expr.type == "decimal":
        # numeric: NaN, the infinities and values beyond a double's range are JSON null, as on
        # the Python path (float(Decimal) is infinite from 2**1024 - 2**970 on; readers of the
        # wire, orjson included, refuse or overflow on such numbers). abs(NaN) compares greater
        # than every number in PostgreSQL, so one comparison covers all of them.
        return f"CASE WHEN abs({name}) < {_DOUBLE_OVERFLOW}::numeric THEN {name} END"
    if expr.type == "float":
        # float: NaN and the infinities are JSON null (the Python path's rule).
        return f"nullif(nullif(nullif({name}, 'NaN'), 'Infinity'), '-Infinity')"
    return name


def in_python_range(name: str) -> str:
    """True (or NULL-safe true) when the date/timestamp ``name`` has a year in 1..9999.

    Untyped literals take the column's type (date, timestamp, or timestamptz in the session's
    UTC); ``infinity`` compares above and ``-infinity`` below every value.
    """
    return f"({name} IS NULL OR {name} >= '0001-01-01' AND {name} < '10000-01-01')"


def expanded_json_sql(name: str) -> str:
    """JSON of the date/timestamp ``name`` with an expanded year (any value; see below).

    PostgreSQL's JSON writes ``infinity``, ``-infinity``, ``0044-03-15T12:00:00+00:00 BC`` and
    ``10000-01-01``: the infinities stay, a BC year N becomes the astronomical year 1 - N
    (``0000`` for 1 BC, ``-000043`` for 44 BC) and a year after 9999 gets a ``+`` and six digits
    at least (``+010000``), as :func:`prismiq_django.backends.postgresql.values.pg_temporal_text`
    writes them on the
    Python path. The rest (month, day, time, fraction, offset) is PostgreSQL's own text. No
    ``%`` (``LIKE`` patterns): the statement's parameters are bound with ``%s`` placeholders.
    """
    text = f"(to_json({name}) #>> '{{}}')"
    year = f"split_part({text}, '-', 1)"
    dash = f"strpos({text}, '-')"
    return (
        f"CASE WHEN {in_python_range(name)} THEN to_json({name}) ELSE to_json(CASE"
        f" WHEN right({text}, 8) = 'infinity' THEN {text}"
        f" WHEN right({text}, 3) = ' BC' THEN"
        f" CASE WHEN {year} = '0001' THEN '0000'"
        f" ELSE '-' || lpad(({year}::integer - 1)::text, 6, '0') END"
        f" || substr({text}, {dash}, length({text}) - {dash} - 2)"
        f" ELSE '+' || lpad({year}, greatest(6, {dash} - 1), '0') || substr({text}, {dash})"
        " END) END"
    )


def json_rows_sql(query: Query, sql: str) -> str | None:
    """Return ``sql`` wrapped to yield one JSON array text per row, or None when not eligible.

    ``sql`` must be the PostgreSQL statement compiled from ``query`` (one output column per select
    item, in order). The caller decides whether the session's time zone allows it (UTC only).
    Its parameters are ``sql``'s followed by :func:`~prismiq_django.query.bucketlabels.
    zone_params` of ``query`` (the zone of its bucket labels, if any).

    Dates and timestamps outside years 1..9999 (``infinity``, ``-infinity``, BC, after 9999)
    are written as the Python path writes them (:func:`expanded_json_sql`). Rows whose dates are all
    in that range, i.e. nearly all, are built by the same plain ``json_build_array`` as any other:
    the only cost is two comparisons per date or timestamp column.
    """
    if not query.select or len(query.select) > _MAX_FUNCTION_ARGUMENTS:
        return None
    names = [f'"c{index}"' for index in range(len(query.select))]
    parts = []
    temporal = []
    for item, name in zip(query.select, names, strict=True):
        part = zoned_label_sql(item.expr, name)
        if part is None:
            part = output_json_sql(item.expr, name)
        if part is None:
            return None
        parts.append(part)
        if item.expr.type in ("date", "datetime") and part == name:
            temporal.append(name)
    row = f"json_build_array({', '.join(parts)})::text"
    if temporal:
        expanded = [expanded_json_sql(part) if part in temporal else part for part in parts]
        row = (
            f"CASE WHEN {' AND '.join(map(in_python_range, temporal))} THEN {row}"
            f" ELSE json_build_array({', '.join(expanded)})::text END"
        )
    zone = ZONE_JOIN if any(zoned_bucket(item.expr) for item in query.select) else ""
    # Only generated names and the compiled statement: no request text reaches this SQL.
    return f'SELECT {row} FROM ({sql}) AS "q"({", ".join(names)}){zone}'  # noqa: S608


def zoned_label_sql(expr: Expr, name: str) -> str | None:
    """The label text of output column ``name`` when ``expr`` is the bucket of an eligible
    ``timestamptz`` (:func:`~prismiq_django.query.bucketlabels.label_sql`), else None."""
    column = expr.col.column
    if column is None or not zoned_bucket(expr):
        return None
    if not ELIGIBLE_TYPES.get(base_type(column.data_type)) == column.type == "datetime":
        return None
    return label_sql(name, f"({expanded_json_sql(name)} #>> '{{}}')")


__all__ = [
    "ELIGIBLE_TYPES",
    "base_type",
    "expanded_json_sql",
    "in_python_range",
    "json_rows_sql",
    "output_json_sql",
    "zoned_label_sql",
]
