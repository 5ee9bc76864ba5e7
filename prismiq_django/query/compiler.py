"""Validated AST -> :class:`Compiled` parameterized SQL for one dialect.

Identifiers come only from the :class:`Catalog` (quoted by the dialect); tables get generated
aliases ``t0``, ``t1``...; every value is a bound ``%s`` parameter. Row scopes are applied to every
reference of a scoped table: in ``WHERE``, or in the ``ON`` clause of the outer join that makes the
table nullable, or — when the query has a ``FULL`` join, where neither placement would hide other
tenants' rows — as a filtered derived table. Plain filters that reference only a table on the
nullable side of an outer join go into that join's ``ON`` clause, unless they hold for its NULL
row (``is_null``: an anti-join), which keeps them in ``WHERE``.

On a site that stores naive datetimes (:attr:`Query.naive_datetimes`, ``USE_TZ = False``),
columns the dialect :meth:`~prismiq_django.query.dialects.Dialect.stores_wall_clock` are
truncated as stored and their filter values (aware instants from the parser) are bound as the
naive wall-clock time of ``Query.tz_name``.

``GROUP BY`` and ``ORDER BY`` refer to selected expressions by ordinal, so an expression with a
bound parameter (the time zone of a truncation) is never repeated with a second parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from prismiq_django.query.ast import (
    Condition,
    Expr,
    ExprKey,
    FilterNode,
    Group,
    Not,
    Query,
    TableRef,
    expr_key,
)
from prismiq_django.query.catalog import Catalog, Column, LogicalType, RowScope
from prismiq_django.query.dates import wall_clock_value
from prismiq_django.query.dialects import Dialect, escape_like, get_dialect
from prismiq_django.query.errors import ErrorDetail, QueryValidationError
from prismiq_django.query.limits import DEFAULT_LIMITS, Limits
from prismiq_django.query.parse import parse
from prismiq_django.query.tenancy import missing_tenant_scope


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement ready for ``cursor.execute(sql, params)``.

    ``tables`` are the catalog table names it reads (for cache tags); ``columns`` are the output
    column names in order; ``limit`` is the number of rows to return — the SQL fetches one more so
    the executor can tell that the result was truncated. ``zoned_buckets`` are the positions of
    the output columns that are time buckets of an instant in the zone ``tz_name``
    (:meth:`~prismiq_django.query.dialects.Dialect.zoned_bucket`): naive wall-clock starts the
    executor labels with that zone's offset.
    """

    sql: str
    params: tuple[object, ...]
    tables: frozenset[str]
    columns: tuple[str, ...]
    limit: int
    zoned_buckets: frozenset[int] = frozenset()
    tz_name: str = "UTC"


_COMPARE = {
    "eq": " = %s",
    "neq": " <> %s",
    "gt": " > %s",
    "gte": " >= %s",
    "lt": " < %s",
    "lte": " <= %s",
}
#: Operators that compare strings by code point on every vendor (``Dialect.exact_text``).
_EXACT_TEXT = frozenset(
    {"eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "not_in", "in_or_null"}
)
_NO_FULL_JOIN = ErrorDetail(
    "invalid_definition", "This database has no FULL joins: use a LEFT or RIGHT join.", "/joins"
)
_AGG_SQL = {"sum": "SUM(", "avg": "AVG(", "min": "MIN(", "max": "MAX(", "count": "COUNT("}


class _Compiler:
    """One compilation: ``visit_<node>`` methods append their parameters in SQL text order."""

    def __init__(self, query: Query, catalog: Catalog, dialect: Dialect) -> None:
        self.query = query
        self.catalog = catalog
        self.dialect = dialect
        self.params: list[object] = []
        self.aliases = {ref.position: dialect.quote(f"t{ref.position}") for ref in query.tables}

    # -- expressions -----------------------------------------------------------------------
    def visit_expr(self, expr: Expr) -> str:
        col = expr.col
        if col.column is None:
            return "COUNT(*)"
        column = self.aliases[col.ref.position] + "." + self.dialect.quote(col.column.name)
        sql = self.dialect.column_sql(column, col.column)
        if expr.date_trunc is not None and self.wall_clock(col.column):
            sql, params = self.dialect.wall_clock_trunc(sql, expr.date_trunc)
            self.params.extend(params)
        elif expr.date_trunc is not None:
            sql, params = self.dialect.date_trunc(
                sql, expr.date_trunc, col.column, self.query.tz_name
            )
            self.params.extend(params)
        agg = expr.aggregation
        if agg is None:
            return sql
        if agg == "count_distinct":
            return f"COUNT(DISTINCT {sql})"
        return f"{_AGG_SQL[agg]}{sql})"

    def wall_clock(self, column: Column | None) -> bool:
        """Whether ``column`` holds the site's naive wall-clock times as written."""
        if not self.query.naive_datetimes or column is None or column.type != "datetime":
            return False
        return self.dialect.stores_wall_clock(column)

    def value(self, value: object, type_: LogicalType) -> str:
        self.params.append(self.dialect.adapt(value, type_))
        return "%s"

    def values(self, values: tuple[object, ...], type_: LogicalType) -> str:
        adapt = self.dialect.adapt
        self.params.extend(adapt(v, type_) for v in values)
        return ", ".join(["%s"] * len(values))

    # -- filters ---------------------------------------------------------------------------
    def visit_node(self, node: FilterNode) -> str:
        if isinstance(node, Condition):
            return self.visit_condition(node)
        if isinstance(node, Group):
            return self.visit_group(node)
        return self.visit_not(node)

    def visit_group(self, node: Group) -> str:
        if not node.items:
            return "1 = 1" if node.kind == "all" else "1 = 0"
        joiner = " AND " if node.kind == "all" else " OR "
        return "(" + joiner.join(self.visit_node(item) for item in node.items) + ")"

    def visit_not(self, node: Not) -> str:
        return f"NOT ({self.visit_node(node.item)})"

    def visit_condition(self, node: Condition) -> str:
        op = node.operator
        value = node.value
        type_ = node.expr.type
        lhs = self.visit_expr(node.expr)
        if type_ == "datetime" and self.wall_clock(node.expr.col.column):
            value = wall_clock_value(value, self.query.tz_name)
        if op == "is_null" or (op == "eq" and value is None):
            return f"{lhs} IS NULL"
        if op == "is_not_null" or (op == "neq" and value is None):
            return f"{lhs} IS NOT NULL"
        if type_ == "string" and op in _EXACT_TEXT:
            lhs = self.dialect.exact_text(lhs)
        if op in _COMPARE:
            self.value(value, type_)
            return lhs + _COMPARE[op]
        if op in ("in", "not_in", "in_or_null"):
            assert isinstance(value, tuple)
            if not value:
                return {"in": "1 = 0", "not_in": "1 = 1"}.get(op) or f"{lhs} IS NULL"
            listed = self.values(value, type_)
            if op == "in":
                return f"{lhs} IN ({listed})"
            if op == "not_in":
                return f"{lhs} NOT IN ({listed})"
            return f"({lhs} IN ({listed}) OR {lhs} IS NULL)"
        if op == "between":
            assert isinstance(value, tuple)
            self.values(value, type_)
            return f"{lhs} BETWEEN %s AND %s"
        if op == "date_relative":
            assert isinstance(value, tuple)
            self.values(value, type_)
            return f"({lhs} >= %s AND {lhs} < %s)"
        assert isinstance(value, str)
        if op in ("like", "not_like", "ilike", "not_ilike"):
            sql, param = self.dialect.like(
                lhs, value, negate=op.startswith("not_"), case_insensitive=op.endswith("ilike")
            )
        else:
            text = escape_like(value)
            pattern = {"contains": f"%{text}%", "starts_with": f"{text}%"}.get(op, f"%{text}")
            sql, param = self.dialect.like(lhs, pattern, negate=False, case_insensitive=True)
        self.params.append(param)
        return sql

    def visit_scope(self, scope: RowScope, alias: str) -> str:
        col = alias + "." + self.dialect.quote(scope.column)
        if not scope.values:
            return "1 = 0"
        ref_table = self.catalog.table(scope.table)
        column = ref_table.column(scope.column) if ref_table is not None else None
        type_: LogicalType = column.type if column is not None else "unknown"
        if type_ == "string":
            col = self.dialect.exact_text(col)
        if len(scope.values) == 1:
            return f"{col} = {self.value(scope.values[0], type_)}"
        return f"{col} IN ({self.values(scope.values, type_)})"

    # -- statement -------------------------------------------------------------------------
    def scopes(self, ref: TableRef) -> tuple[RowScope, ...]:
        """The row scopes of ``ref``'s table; refuses a tenant table without its scope."""
        unscoped = missing_tenant_scope(self.catalog, ref.table, ref.position)
        if unscoped is not None:
            raise QueryValidationError([unscoped])
        return self.catalog.scopes_for(ref.table.name)

    def compile(self) -> Compiled:
        q = self.query
        d = self.dialect
        quote = d.quote
        select_sql = ", ".join(
            f"{self.visit_expr(item.expr)} AS {d.output_alias(n, item.name)}"
            for n, item in enumerate(q.select)
        )

        home = _homes(q)
        has_full = any(join.kind == "FULL" for join in q.joins)
        if has_full and not d.full_join:
            raise QueryValidationError([_NO_FULL_JOIN])
        scope_map = {ref.position: self.scopes(ref) for ref in q.tables}
        on_extra: dict[int, list[FilterNode]] = {}
        where_nodes: list[FilterNode] = []
        for node in q.where:
            positions = _positions(node)
            home_join = home.get(next(iter(positions))) if len(positions) == 1 else None
            # A filter that holds for the NULL row of an outer join (``is_null``: the anti-join
            # "customers without orders") keeps its WHERE meaning; others restrict the matches.
            if home_join is not None and _on_null_row(node) is not True:
                on_extra.setdefault(home_join, []).append(node)
            else:
                where_nodes.append(node)

        # FROM and JOINs (parameters in text order).
        base = q.tables[0]
        parts = ["SELECT ", select_sql, " FROM ", self.table_source(base, has_full, scope_map)]
        where_refs = [base] if not has_full else []  # scoped in WHERE, rendered after the JOINs
        for k, join in enumerate(q.joins):
            right = join.right.ref
            kind = "INNER" if join.kind == "INNER" else f"{join.kind} OUTER"
            source = self.table_source(right, has_full, scope_map)
            on = [
                f"{self.aliases[join.left.ref.position]}.{quote(join.left.name)} = "
                f"{self.aliases[right.position]}.{quote(join.right.name)}"
            ]
            if not has_full:
                for ref in q.tables:
                    on.extend(self.scope_sql(ref, scope_map, home, k))
            on.extend(self.visit_node(n) for n in on_extra.get(k, ()))
            parts.append(f" {kind} JOIN {source} ON {' AND '.join(on)}")
            if not has_full:
                where_refs.append(right)

        where = [sql for ref in where_refs for sql in self.scope_sql(ref, scope_map, home, None)]
        where.extend(self.visit_node(n) for n in where_nodes)
        if where:
            parts.append(" WHERE " + " AND ".join(where))
        if q.group_by:
            outputs: dict[ExprKey, int] = {}
            for n, item in enumerate(q.select):
                outputs.setdefault(expr_key(item.expr), n + 1)
            group_keys = []
            for e in q.group_by:
                ordinal = outputs.get(expr_key(e))
                group_keys.append(self.visit_expr(e) if ordinal is None else str(ordinal))
            parts.append(" GROUP BY " + ", ".join(group_keys))
        if q.having:
            parts.append(" HAVING " + " AND ".join(self.visit_node(n) for n in q.having))
        if q.order_by:
            keys = []
            for o in q.order_by:
                descending = o.direction == "DESC"
                null_key = ""
                if d.nulls_sort_low:
                    sorted_expr = q.select[o.output].expr if o.output is not None else o.expr
                    assert sorted_expr is not None
                    null_key = (
                        f"{self.visit_expr(sorted_expr)} IS {'NOT ' if descending else ''}NULL, "
                    )
                if o.output is not None:
                    sort_key = str(o.output + 1)
                else:
                    assert o.expr is not None
                    sort_key = self.visit_expr(o.expr)
                keys.append(null_key + sort_key + d.order_suffix(descending))
            parts.append(" ORDER BY " + ", ".join(keys))
        limit_sql, limit_params = d.limit_offset(q.limit + 1, q.offset)
        parts.append(limit_sql)
        self.params.extend(limit_params)
        return Compiled(
            sql="".join(parts),
            params=tuple(self.params),
            tables=frozenset(ref.table.name for ref in q.tables),
            columns=tuple(item.name for item in q.select),
            limit=q.limit,
            zoned_buckets=frozenset(
                index
                for index, item in enumerate(q.select)
                if item.expr.date_trunc is not None
                and item.expr.col.column is not None
                and d.zoned_bucket(item.expr.col.column)
                and not self.wall_clock(item.expr.col.column)
            ),
            tz_name=q.tz_name,
        )

    def table_source(
        self, ref: TableRef, derived: bool, scope_map: dict[int, tuple[RowScope, ...]]
    ) -> str:
        alias = self.aliases[ref.position]
        table_sql = self.dialect.table_sql(ref.table)
        scopes = scope_map[ref.position]
        if not (derived and scopes):
            return f"{table_sql} {alias}"
        inner = " AND ".join(self.visit_scope(s, table_sql) for s in scopes)
        return f"(SELECT * FROM {table_sql} WHERE {inner}) {alias}"  # noqa: S608 - catalog names

    def scope_sql(
        self,
        ref: TableRef,
        scope_map: dict[int, tuple[RowScope, ...]],
        home: dict[int, int | None],
        target: int | None,
    ) -> list[str]:
        if home[ref.position] != target:
            return []
        alias = self.aliases[ref.position]
        return [self.visit_scope(s, alias) for s in scope_map[ref.position]]


def _homes(q: Query) -> dict[int, int | None]:
    """Where each table's single-table predicates go: None = WHERE, k = ON clause of join k.

    A table's home is the first outer join that makes it nullable: the joined table of a
    LEFT/FULL join, every earlier table of a RIGHT/FULL join.
    """
    home: dict[int, int | None] = {ref.position: None for ref in q.tables}
    seen = [q.tables[0].position]
    for k, join in enumerate(q.joins):
        joined = join.right.ref.position
        if join.kind in ("LEFT", "FULL"):
            home[joined] = k
        if join.kind in ("RIGHT", "FULL"):
            for pos in seen:
                if home[pos] is None:
                    home[pos] = k
        seen.append(joined)
    return home


def _on_null_row(node: FilterNode) -> bool | None:
    """The three-valued truth of ``node`` when every column it reads is NULL."""
    if isinstance(node, Condition):
        op, value = node.operator, node.value
        if op == "is_null" or (op == "eq" and value is None) or op == "in_or_null":
            return True
        if op == "is_not_null" or (op == "neq" and value is None):
            return False
        if op in ("in", "not_in") and not value:
            return op == "not_in"
        return None
    if isinstance(node, Not):
        inner = _on_null_row(node.item)
        return None if inner is None else not inner
    results = [_on_null_row(item) for item in node.items]
    if node.kind == "all":
        return False if False in results else (None if None in results else True)
    return True if True in results else (None if None in results else False)


def _positions(node: FilterNode) -> set[int]:
    if isinstance(node, Condition):
        return {node.expr.col.ref.position}
    if isinstance(node, Not):
        return _positions(node.item)
    out: set[int] = set()
    for item in node.items:
        out |= _positions(item)
    return out


def compile_query(query: Query, catalog: Catalog, dialect: str | Dialect) -> Compiled:
    """Compile a parsed query for ``dialect`` (a :class:`Dialect` or a Django vendor name).

    ``catalog`` supplies the row scopes in force. Raises :class:`QueryValidationError`
    (``invalid_definition``) when a table with a tenant column has no scope (fail closed).
    """
    d = get_dialect(dialect) if isinstance(dialect, str) else dialect
    return _Compiler(query, catalog, d).compile()


def build(
    data: object,
    catalog: Catalog,
    dialect: str | Dialect,
    *,
    limits: Limits = DEFAULT_LIMITS,
    now: datetime | None = None,
    tz: tzinfo = UTC,
    naive_datetimes: bool = False,
) -> Compiled:
    """:func:`parse` then :func:`compile_query`; raises :class:`QueryValidationError`."""
    query = parse(data, catalog, limits=limits, now=now, tz=tz, naive_datetimes=naive_datetimes)
    return compile_query(query, catalog, dialect)


__all__ = ["Compiled", "build", "compile_query"]
