"""Logical types of a raw statement's output columns, as far as the statement tells them.

Used where the database's cursor describes no types (SQLite) and for PostgreSQL types with no
logical mapping; anything not derivable is ``"unknown"`` (the executor then looks at values).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot import exp

from prismiq_django.query.catalog import LogicalType

_T = exp.DataType.Type
_CASTS: dict[object, LogicalType] = {
    **dict.fromkeys((_T.SMALLINT, _T.INT, _T.BIGINT, _T.TINYINT, _T.MEDIUMINT), "integer"),
    **dict.fromkeys((_T.DECIMAL, _T.MONEY), "decimal"),
    **dict.fromkeys((_T.DOUBLE, _T.FLOAT), "float"),
    **dict.fromkeys((_T.TEXT, _T.VARCHAR, _T.CHAR, _T.NCHAR, _T.NVARCHAR, _T.BPCHAR), "string"),
    _T.BOOLEAN: "boolean",
    _T.DATE: "date",
    **dict.fromkeys(
        (_T.DATETIME, _T.TIMESTAMP, _T.TIMESTAMPTZ, _T.TIMESTAMPLTZ, _T.TIMESTAMPNTZ), "datetime"
    ),
    **dict.fromkeys((_T.TIME, _T.TIMETZ), "time"),
    _T.INTERVAL: "duration",
    _T.UUID: "uuid",
    **dict.fromkeys((_T.JSON, _T.JSONB), "json"),
}
_INTEGER_RESULTS = (
    exp.Count,
    exp.RowNumber,
    exp.Rank,
    exp.DenseRank,
    exp.Ntile,
    exp.Length,
    exp.StrPosition,
)
_SAME_AS_ARGUMENT = (
    exp.Min,
    exp.Max,
    exp.Lag,
    exp.Lead,
    exp.FirstValue,
    exp.LastValue,
    exp.NthValue,
    exp.Coalesce,
    exp.Abs,
    exp.Paren,
    exp.Neg,
)
_TEXT_RESULTS = (
    exp.Lower,
    exp.Upper,
    exp.Concat,
    exp.DPipe,
    exp.Substring,
    exp.Trim,
    exp.GroupConcat,
)
_NUMERIC_ORDER: tuple[LogicalType, ...] = ("integer", "decimal", "float")


def cast_type(node: exp.DataType) -> LogicalType:
    """The logical type of a CAST target."""
    return _CASTS.get(node.this, "unknown")


def infer_type(
    node: exp.Expression,
    known: Mapping[int, LogicalType],
    cast: Callable[[exp.DataType], LogicalType] = cast_type,
) -> LogicalType:
    """The logical type of ``node``; ``known`` holds the types of resolved column nodes."""
    if isinstance(node, exp.Alias):
        return infer_type(node.this, known, cast)
    if isinstance(node, exp.Column):
        return known.get(id(node), "unknown")
    if isinstance(node, exp.Cast):
        return cast(node.args["to"])
    if isinstance(node, exp.Literal):
        if node.is_string:
            return "string"
        return "integer" if node.is_int else "float"
    if isinstance(node, (exp.Boolean, exp.Predicate, exp.Not, exp.Exists)):
        return "boolean"
    if isinstance(node, _INTEGER_RESULTS):
        return "integer"
    if isinstance(node, _TEXT_RESULTS):
        return "string"
    if isinstance(node, (exp.Avg, exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance)):
        return "float"
    if isinstance(node, (exp.CurrentTimestamp,)):
        return "datetime"
    if isinstance(node, exp.CurrentDate):
        return "date"
    if isinstance(node, exp.Window):
        return infer_type(node.this, known, cast)
    if isinstance(node, _SAME_AS_ARGUMENT):
        return infer_type(node.this, known, cast)
    if isinstance(node, (exp.Sum, exp.Round)):
        inner = infer_type(node.this, known, cast)
        return inner if inner in _NUMERIC_ORDER else "unknown"
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        left = infer_type(node.this, known, cast)
        right = infer_type(node.expression, known, cast)
        if left in _NUMERIC_ORDER and right in _NUMERIC_ORDER:
            return max(left, right, key=_NUMERIC_ORDER.index)
    return "unknown"


__all__ = ["cast_type", "infer_type"]
