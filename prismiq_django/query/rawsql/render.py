"""The checked statement -> the SQL text that runs, with bound parameters.

Every catalog table reference becomes a subquery of the table's visible columns, with the row
scopes in force as its ``WHERE`` (so neither a hidden column nor another tenant's row exists for
the rest of the statement, whatever it does), under the alias the statement used. The top-level
``LIMIT`` is capped at the row cap plus one (one more row tells the executor it was truncated).
Values (``:name`` parameters, scope values, the cap) become ``%s`` placeholders in text order;
literal ``%`` is doubled, as Django cursors expect. Comments are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from sqlglot import exp

from prismiq_django.query.catalog import Catalog, LogicalType, RowScope, Table
from prismiq_django.query.rawsql.errors import refuse
from prismiq_django.query.rawsql.resolve import TableUse

#: A value slot in generated text: NUL never occurs in an accepted statement (refused up front).
_SLOT = re.compile("\x00(\\d+)\x00")

Adapt = Callable[[object, LogicalType], object]


def _ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


class Values:
    """The values of a statement, each behind a sentinel node until the text is generated."""

    def __init__(self) -> None:
        self.values: list[object] = []

    def slot(self, value: object) -> exp.Expression:
        self.values.append(value)
        return exp.Var(this=f"\x00{len(self.values) - 1}\x00")

    def finish(self, text: str) -> tuple[str, tuple[object, ...]]:
        """Double literal ``%`` and turn slots into ``%s``, collecting values in text order."""
        ordered: list[object] = []

        def place(match: re.Match[str]) -> str:
            ordered.append(self.values[int(match.group(1))])
            return "%s"

        sql = _SLOT.sub(place, text.replace("%", "%%"))
        if "\x00" in sql or len(ordered) != len(self.values):
            raise refuse("sql_unsupported", "The statement could not be rendered.")
        return sql, tuple(ordered)


def _scope_condition(scope: RowScope, table: Table, values: Values, adapt: Adapt) -> exp.Expression:
    column = table.column(scope.column)
    type_: LogicalType = column.type if column is not None else "unknown"
    target = exp.Column(this=_ident(scope.column))
    if not scope.values:
        return exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0))
    if len(scope.values) == 1:
        return exp.EQ(this=target, expression=values.slot(adapt(scope.values[0], type_)))
    return exp.In(this=target, expressions=[values.slot(adapt(v, type_)) for v in scope.values])


def wrap_tables(uses: Sequence[TableUse], catalog: Catalog, values: Values, adapt: Adapt) -> None:
    """Replace each catalog table reference by its visible, scoped subquery (in place)."""
    for use in uses:
        table = use.table
        source = exp.Table(this=_ident(table.name))
        if table.schema_name:
            source.set("db", _ident(table.schema_name))
        inner = exp.Select(
            expressions=[exp.Column(this=_ident(c.name)) for c in table.columns],
            from_=exp.From(this=source),
        )
        conditions = [
            _scope_condition(s, table, values, adapt) for s in catalog.scopes_for(table.name)
        ]
        if conditions:
            inner.set("where", exp.Where(this=exp.and_(*conditions)))
        old_alias = use.node.args.get("alias")
        columns = old_alias.args.get("columns") if old_alias is not None else None
        alias = exp.TableAlias(this=_ident(use.alias), columns=columns or None)
        use.node.replace(exp.Subquery(this=inner, alias=alias))


def cap_rows(root: exp.Expression, max_rows: int, values: Values) -> int:
    """Set the top-level LIMIT to at most ``max_rows + 1``; return the rows to return."""
    limit = root.args.get("limit")
    requested: int | None = None
    if limit is not None:
        value = limit.expression
        if not (isinstance(value, exp.Literal) and value.is_int):
            raise refuse("sql_unsupported", "The outermost LIMIT must be a whole number.")
        requested = int(value.name)
    offset = root.args.get("offset")
    if offset is not None:
        value = offset.expression
        if not (isinstance(value, exp.Literal) and value.is_int):
            raise refuse("sql_unsupported", "The outermost OFFSET must be a whole number.")
        offset.set("expression", values.slot(int(value.name)))
    if requested is None or requested > max_rows:
        returned, fetched = max_rows, max_rows + 1
    else:
        returned = fetched = requested
    root.set("limit", exp.Limit(expression=values.slot(fetched)))
    return returned


__all__ = ["Values", "cap_rows", "wrap_tables"]
