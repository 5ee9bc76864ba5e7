"""The validated query as frozen dataclasses: what :func:`parse` returns and the compiler walks.

Every name in an AST node has already been checked against the :class:`Catalog`; every value has
been coerced to the Python type of its column (``int``, ``Decimal``, ``float``, ``str``, ``bool``,
``date``, aware ``datetime``, ``time``, ``UUID``). The compiler never sees raw request data.

Table references carry a ``position``: the compiler turns it into a generated SQL alias
(``t0``, ``t1``...), so request strings never reach SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from prismiq_django.query.catalog import Column, LogicalType, Table

Aggregation: TypeAlias = Literal["sum", "avg", "count", "count_distinct", "min", "max"]
AGGREGATIONS: frozenset[str] = frozenset(Aggregation.__args__)  # type: ignore[attr-defined]

TruncUnit: TypeAlias = Literal["minute", "hour", "day", "week", "month", "quarter", "year"]
TRUNC_UNITS: frozenset[str] = frozenset(TruncUnit.__args__)  # type: ignore[attr-defined]

JoinType: TypeAlias = Literal["INNER", "LEFT", "RIGHT", "FULL"]
JOIN_TYPES: frozenset[str] = frozenset(JoinType.__args__)  # type: ignore[attr-defined]

Direction: TypeAlias = Literal["ASC", "DESC"]

#: What :attr:`ColumnRef.key` returns: (table position, column name or ``"*"``).
ColumnKey: TypeAlias = tuple[int, str]

Operator: TypeAlias = Literal[
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "in_or_null",
    "like",
    "ilike",
    "not_like",
    "not_ilike",
    "contains",
    "starts_with",
    "ends_with",
    "between",
    "is_null",
    "is_not_null",
    "date_relative",
]
OPERATORS: frozenset[str] = frozenset(Operator.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class TableRef:
    """One entry of ``tables``: ``position`` is its index (the SQL alias is ``t<position>``)."""

    id: str
    table: Table
    position: int


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A resolved column of a table reference. ``column`` is None for ``*`` (``count(*)``)."""

    ref: TableRef
    column: Column | None

    @property
    def type(self) -> LogicalType:
        return "unknown" if self.column is None else self.column.type

    @property
    def name(self) -> str:
        """The column's name, or ``"*"`` for ``count(*)``."""
        column = self.column
        return "*" if column is None else column.name

    @property
    def key(self) -> ColumnKey:
        """Identity of the column read: (table position, column name or ``"*"``)."""
        column = self.column
        return (self.ref.position, "*" if column is None else column.name)


@dataclass(frozen=True, slots=True)
class Join:
    """A join that brings ``right`` into the FROM clause, ``left`` being already there.

    Joins are stored in the order the compiler emits them; ``kind`` is relative to that order
    (a request join given in the other direction was flipped, LEFT <-> RIGHT).
    """

    left: ColumnRef
    right: ColumnRef
    kind: JoinType
    index: int  # position in the request's ``joins`` list (for error paths)


@dataclass(frozen=True, slots=True)
class Expr:
    """A column expression: optional date truncation, then optional aggregation."""

    col: ColumnRef
    aggregation: Aggregation | None = None
    date_trunc: TruncUnit | None = None

    @property
    def is_aggregate(self) -> bool:
        return self.aggregation is not None

    @property
    def type(self) -> LogicalType:
        """The logical type of the expression's result."""
        agg = self.aggregation
        if agg in ("count", "count_distinct"):
            return "integer"
        base = self.col.type
        if agg == "avg":
            return "float" if base == "float" else "decimal"
        if agg == "sum":
            return base
        if self.date_trunc is not None:
            return "date" if base == "date" else "datetime"
        return base


@dataclass(frozen=True, slots=True)
class SelectItem:
    """One output column; ``name`` is the exact output column name (alias or column name)."""

    expr: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Condition:
    """``expr <operator> value``.

    ``value`` is None for ``is_null``/``is_not_null`` and for ``eq``/``neq`` null; a tuple of
    coerced values for ``in``/``not_in``/``in_or_null``/``between``/``date_relative``
    (``(start, end)``, half-open); a coerced scalar otherwise. ``path`` holds the parts of the
    filter's JSON pointer in the request (``errors.pointer(*path)`` spells it).
    """

    expr: Expr
    operator: Operator
    value: object
    path: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """``all`` (AND) or ``any`` (OR) of its items; an empty group is TRUE (all) / FALSE (any)."""

    kind: Literal["all", "any"]
    items: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: FilterNode


FilterNode: TypeAlias = Condition | Group | Not


@dataclass(frozen=True, slots=True)
class OrderItem:
    """Sort key: either an expression, or ``output`` = index of a select item (alias ordering)."""

    direction: Direction
    expr: Expr | None = None
    output: int | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """A validated query definition.

    ``where`` holds the top-level plain filters, ``having`` the aggregated ones (top level is
    AND). ``group_by`` is final (derived when the request left it empty). ``limit`` is the number
    of rows to return (already capped at ``max_rows``); ``tz_name`` is the IANA time zone used for
    date truncation. ``naive_datetimes`` says that the site stores datetimes naive, as wall-clock
    time in that zone (Django's ``USE_TZ = False``): where the vendor keeps them as written
    (:meth:`~prismiq_django.query.dialects.Dialect.stores_wall_clock`), they are truncated as
    stored and compared with filter values spelled in that zone.
    """

    tables: tuple[TableRef, ...]
    joins: tuple[Join, ...]
    select: tuple[SelectItem, ...]
    where: tuple[FilterNode, ...]
    having: tuple[FilterNode, ...]
    group_by: tuple[Expr, ...]
    order_by: tuple[OrderItem, ...]
    limit: int
    offset: int
    tz_name: str
    naive_datetimes: bool = False


#: What :func:`expr_key` returns: (table position, column name or ``"*"``, aggregation, trunc).
ExprKey: TypeAlias = tuple[int, str, str | None, str | None]


def expr_key(expr: Expr) -> ExprKey:
    """Identity of an expression: two expressions with equal keys compile to the same SQL."""
    col = expr.col
    return (col.ref.position, col.name, expr.aggregation, expr.date_trunc)


__all__ = [
    "AGGREGATIONS",
    "JOIN_TYPES",
    "OPERATORS",
    "TRUNC_UNITS",
    "Aggregation",
    "ColumnKey",
    "ColumnRef",
    "Condition",
    "Direction",
    "Expr",
    "ExprKey",
    "FilterNode",
    "Group",
    "Join",
    "JoinType",
    "Not",
    "Operator",
    "OrderItem",
    "Query",
    "SelectItem",
    "TableRef",
    "TruncUnit",
    "expr_key",
]
