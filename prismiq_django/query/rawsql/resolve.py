"""Name resolution of a raw statement: every table to the catalog, every column to a visible one.

A walk over the query's scopes as the database resolves them: CTEs first (a CTE shadows a table
of the same name, as in SQL), then the sources of each ``FROM`` (catalog tables, CTEs, derived
tables), then the expressions, whose unqualified names are looked up in the nearest scope first
(correlated subqueries see the outer ones). Columns are rewritten to their qualified, quoted
catalog spelling; ``*`` and ``t.*`` are expanded to the visible columns. Whatever does not resolve
is refused with the caller's own spelling, exactly as if it did not exist.

The walk records the catalog table references (the renderer replaces each by a subquery of its
visible columns, row scopes applied) and the ``:name`` placeholders. Node kinds were already
checked against the allowlist (:mod:`.allowlist`); this pass checks names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from prismiq_django.query.catalog import LogicalType, Table
from prismiq_django.query.rawsql.errors import refuse, shown
from prismiq_django.query.rawsql.names import Names
from prismiq_django.query.rawsql.types import cast_type, infer_type
from prismiq_django.query.tenancy import missing_tenant_scope

_QUERY_NODES = (exp.Select, exp.SetOperation, exp.Subquery)


@dataclass(slots=True)
class OutCol:
    """An output column of a query or source: its name as the database sees it (None: an
    unnamed expression, which cannot be referenced) and its logical type."""

    name: str | None
    type: LogicalType


@dataclass(slots=True)
class Source:
    """One entry of a ``FROM`` list, known by ``name`` (alias, or table/CTE name)."""

    name: str
    columns: list[OutCol]
    table: Table | None = None


@dataclass(slots=True)
class Scope:
    sources: list[Source]
    ctes: dict[str, list[OutCol]]
    outer: Scope | None = None
    outputs: dict[str, OutCol] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TableUse:
    """A reference to a catalog table and the alias the statement reads it under."""

    node: exp.Table
    table: Table
    alias: str


def _ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


class Resolver:
    """One resolution run; read ``uses``, ``tables`` and ``placeholders`` afterwards."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.uses: list[TableUse] = []
        self.tables: set[str] = set()
        #: Column, Table and Star nodes accounted for, by id (the node kept alive with it).
        self.resolved: dict[int, exp.Expression] = {}
        self.types: dict[int, LogicalType] = {}

    # -- queries ---------------------------------------------------------------------------
    def query(
        self, node: exp.Expression, ctes: dict[str, list[OutCol]], outer: Scope | None
    ) -> list[OutCol]:
        """Resolve a query node; return its output columns."""
        if isinstance(node, exp.Subquery):
            inner = node.this
            if not isinstance(inner, _QUERY_NODES):
                raise refuse("sql_not_a_query", "Only SELECT queries are allowed.")
            cols = self.query(inner, ctes, outer)
            self._modifiers(node, Scope([], ctes, outer), cols)
            return cols
        ctes = self._with(node, ctes, outer)
        if isinstance(node, exp.SetOperation):
            left = self.query(node.this, ctes, outer)
            right = self.query(node.expression, ctes, outer)
            cols = [
                OutCol(a.name, a.type if a.type == b.type else "unknown")
                for a, b in zip(left, right, strict=False)
            ]
            self._modifiers(node, Scope([], ctes, outer), cols)
            return cols
        if isinstance(node, exp.Select):
            return self._select(node, ctes, outer)
        raise refuse("sql_not_a_query", "Only SELECT queries are allowed.")

    def _with(
        self, node: exp.Expression, ctes: dict[str, list[OutCol]], outer: Scope | None
    ) -> dict[str, list[OutCol]]:
        with_ = node.args.get("with_")
        if with_ is None:
            return ctes
        if with_.args.get("recursive"):
            raise refuse("sql_unsupported", "WITH RECURSIVE is not supported.")
        ctes = dict(ctes)
        for cte in with_.expressions:
            alias = cte.args.get("alias")
            body = cte.this
            if alias is None or not isinstance(body, _QUERY_NODES):
                raise refuse("sql_not_a_query", "A CTE must be a SELECT query.")
            cols = self.query(body, ctes, outer)
            ctes[self._key(alias.this)] = self._renamed(cols, alias)
        return ctes

    def _renamed(self, cols: list[OutCol], alias: exp.TableAlias) -> list[OutCol]:
        """Apply a column list ``alias(a, b)`` to ``cols`` (positional renames)."""
        names = alias.args.get("columns") or []
        if len(names) > len(cols):
            raise refuse("sql_unsupported", "The alias names more columns than the query has.")
        out = list(cols)
        for i, ident in enumerate(names):
            out[i] = OutCol(self._spelled(ident), cols[i].type)
        return out

    def _select(
        self, sel: exp.Select, ctes: dict[str, list[OutCol]], outer: Scope | None
    ) -> list[OutCol]:
        scope = Scope([], ctes, outer)
        from_ = sel.args.get("from_")
        if from_ is not None:
            self._add_source(from_.this, scope)
        joins = sel.args.get("joins") or []
        for join in joins:
            self._add_source(join.this, scope)
        self._expand_stars(sel, scope, using=any(j.args.get("using") for j in joins))
        outputs: list[OutCol] = []
        for item in sel.expressions:
            self.expr(item, scope)
            outputs.append(self._output(item))
        for col in outputs:
            if col.name is not None:
                scope.outputs.setdefault(self.names.key(col.name), col)
        for join in joins:
            self._join(join, scope)
        for key in ("where", "having"):
            clause = sel.args.get(key)
            if clause is not None:
                self.expr(clause.this, scope, aliases=key == "having")
        group = sel.args.get("group")
        if group is not None:
            for item in group.expressions:
                self.expr(item, scope, aliases=True)
        distinct = sel.args.get("distinct")
        if distinct is not None:
            for item in distinct.expressions:
                self.expr(item, scope)
            on = distinct.args.get("on")
            if on is not None:
                self.expr(on, scope, aliases=True)
        for window in sel.args.get("windows") or []:
            self.expr(window, scope)
        self._modifiers(sel, scope, outputs)
        return outputs

    def _modifiers(self, node: exp.Expression, scope: Scope, outputs: list[OutCol]) -> None:
        """ORDER BY (output names first, as SQL sorts), LIMIT and OFFSET of a query node."""
        if not scope.outputs:
            for col in outputs:
                if col.name is not None:
                    scope.outputs.setdefault(self.names.key(col.name), col)
        order = node.args.get("order")
        if order is not None:
            for ordered in order.expressions:
                target = ordered.this
                if isinstance(target, exp.Column) and self._output_ref(target, scope):
                    continue
                self.expr(target, scope, aliases=True)
        for key in ("limit", "offset"):
            clause = node.args.get(key)
            if clause is not None:
                self.expr(clause.expression, scope)

    # -- sources ---------------------------------------------------------------------------
    def _add_source(self, node: exp.Expression, scope: Scope) -> None:
        if isinstance(node, exp.Table):
            source = self._table_source(node, scope)
        elif isinstance(node, exp.Subquery):
            cols = self.query(node, scope.ctes, scope.outer)
            alias = node.args.get("alias")
            if alias is None:
                raise refuse("sql_unsupported", "A subquery in FROM needs an alias.")
            source = Source(self._spelled(alias.this), self._renamed(cols, alias))
        else:
            raise refuse("sql_unsupported", "Only tables, CTEs and subqueries may appear in FROM.")
        key = self.names.key(source.name)
        if any(self.names.key(s.name) == key for s in scope.sources):
            raise refuse(
                "sql_unsupported", f"Table name or alias {shown(source.name)} is used twice."
            )
        scope.sources.append(source)

    def _table_source(self, node: exp.Table, scope: Scope) -> Source:
        ident = node.this
        if not isinstance(ident, exp.Identifier):
            raise refuse("sql_unsupported", "Only tables, CTEs and subqueries may appear in FROM.")
        written = self._spelled(ident)
        alias = node.args.get("alias")
        schema = node.args.get("db")
        if node.args.get("catalog") is not None:
            raise refuse("table_not_found", f"Table {shown(written)} not found.")
        key = self.names.key(written)
        self.resolved[id(node)] = node
        if schema is None and key in scope.ctes:
            cols = scope.ctes[key]
            name = self._spelled(alias.this) if alias is not None else written
            ident.set("this", written)
            ident.set("quoted", True)
            return Source(name, self._renamed(cols, alias) if alias is not None else cols)
        table = self.names.table(key)
        if table is None or not self._schema_matches(schema, table):
            raise refuse("table_not_found", f"Table {shown(written)} not found.")
        unscoped = missing_tenant_scope(self.names.catalog, table, 0)
        if unscoped is not None:
            raise refuse(
                "invalid_definition",
                f"Table {table.name!r} needs a tenant scope and none is in force.",
            )
        name = self._spelled(alias.this) if alias is not None else table.name
        cols = [OutCol(c.name, c.type) for c in table.columns]
        self.uses.append(TableUse(node, table, name))
        self.tables.add(table.name)
        return Source(name, self._renamed(cols, alias) if alias is not None else cols, table)

    def _schema_matches(self, schema: exp.Expression | None, table: Table) -> bool:
        if schema is None:
            return True
        if not isinstance(schema, exp.Identifier) or table.schema_name is None:
            return False
        return self.names.key(self._spelled(schema)) == self.names.key(table.schema_name)

    def _join(self, join: exp.Join, scope: Scope) -> None:
        on = join.args.get("on")
        if on is not None:
            self.expr(on, scope)
        for ident in join.args.get("using") or []:
            if not isinstance(ident, exp.Identifier):
                raise refuse("sql_unsupported", "USING takes column names only.")
            key = self.names.key(self._spelled(ident))
            found = [
                c
                for s in scope.sources
                for c in s.columns
                if c.name and self.names.key(c.name) == key
            ]
            if len(found) < 2:
                raise refuse("column_not_found", f"Column {shown(ident.name)} not found.")
            ident.set("this", found[0].name)
            ident.set("quoted", True)

    # -- stars -----------------------------------------------------------------------------
    def _expand_stars(self, sel: exp.Select, scope: Scope, *, using: bool) -> None:
        items: list[exp.Expression] = []
        changed = False
        for item in sel.expressions:
            if isinstance(item, exp.Star):
                sources = scope.sources
            elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
                qualifier = item.args.get("table")
                if item.args.get("db") is not None or not isinstance(qualifier, exp.Identifier):
                    raise refuse("table_not_found", "Qualify * by a table name or alias only.")
                found = self._find_source(qualifier, scope)
                if found is None:
                    raise refuse(
                        "table_not_found", f"Table or alias {shown(qualifier.name)} not found."
                    )
                sources = [found]
            else:
                items.append(item)
                continue
            if using:
                raise refuse(
                    "sql_unsupported", "Name the columns instead of * with JOIN ... USING."
                )
            if not sources:
                raise refuse("sql_unsupported", "SELECT * needs a FROM clause.")
            changed = True
            for source in sources:
                for col in source.columns:
                    if col.name is None:
                        raise refuse(
                            "sql_unsupported", "Name every column of a subquery read with *."
                        )
                    column = exp.Column(this=_ident(col.name), table=_ident(source.name))
                    self.resolved[id(column)] = column
                    self.types[id(column)] = col.type
                    items.append(column)
        if changed:
            sel.set("expressions", items)

    # -- expressions -----------------------------------------------------------------------
    def expr(self, node: exp.Expression, scope: Scope, *, aliases: bool = False) -> None:
        """Resolve every column of ``node``; nested queries see ``scope`` as their outer one."""
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, _QUERY_NODES):
                self.query(current, scope.ctes, scope)
                continue
            if isinstance(current, exp.Column):
                self._column(current, scope, aliases=aliases)
                continue
            if isinstance(current, exp.Star):
                if not isinstance(current.parent, exp.Count):
                    raise refuse(
                        "sql_unsupported", "* is allowed in the select list and COUNT(*) only."
                    )
                self.resolved[id(current)] = current
                continue
            stack.extend(current.iter_expressions(reverse=True))

    def _column(self, col: exp.Column, scope: Scope, *, aliases: bool) -> None:
        ident = col.this
        if not isinstance(ident, exp.Identifier) or col.args.get("db") is not None:
            raise refuse("column_not_found", "Qualify columns by a table name or alias only.")
        written = self._spelled(ident)
        key = self.names.key(written)
        qualifier = col.args.get("table")
        level: Scope | None = scope
        while level is not None:
            if qualifier is not None:
                source = self._find_source(qualifier, level)
                if source is not None:
                    self._bind(col, source, key, written)
                    return
            else:
                found = [
                    (s, c)
                    for s in level.sources
                    for c in s.columns
                    if c.name and self.names.key(c.name) == key
                ]
                if len(found) > 1:
                    raise refuse(
                        "sql_ambiguous_column", f"Column reference {shown(written)} is ambiguous."
                    )
                if found:
                    self._bind(col, found[0][0], key, written)
                    return
                if aliases and level is scope and self._output_ref(col, scope):
                    return
            level = level.outer
        if qualifier is not None:
            raise refuse("table_not_found", f"Table or alias {shown(qualifier.name)} not found.")
        raise refuse("column_not_found", f"Column {shown(written)} not found.")

    def _output_ref(self, col: exp.Column, scope: Scope) -> bool:
        """Bind a bare name to an output column of ``scope`` (ORDER BY/GROUP BY aliases)."""
        ident = col.this
        if col.args.get("table") is not None or not isinstance(ident, exp.Identifier):
            return False
        out = scope.outputs.get(self.names.key(self._spelled(ident)))
        if out is None or out.name is None:
            return False
        ident.set("this", out.name)
        ident.set("quoted", True)
        self.resolved[id(col)] = col
        self.types[id(col)] = out.type
        return True

    def _bind(self, col: exp.Column, source: Source, key: str, written: str) -> None:
        matches = [c for c in source.columns if c.name and self.names.key(c.name) == key]
        if not matches:
            raise refuse("column_not_found", f"Column {shown(written)} not found.")
        if len(matches) > 1:
            raise refuse("sql_ambiguous_column", f"Column reference {shown(written)} is ambiguous.")
        name = matches[0].name
        assert name is not None
        col.set("this", _ident(name))
        col.set("table", _ident(source.name))
        self.resolved[id(col)] = col
        self.types[id(col)] = matches[0].type

    def _find_source(self, qualifier: exp.Expression, level: Scope) -> Source | None:
        """The source of ``level`` (not its outer scopes) a qualifier names, or None."""
        if not isinstance(qualifier, exp.Identifier):
            raise refuse("table_not_found", "Qualify columns by a table name or alias only.")
        key = self.names.key(self._spelled(qualifier))
        for source in level.sources:
            if self.names.key(source.name) == key:
                return source
        return None

    def _output(self, item: exp.Expression) -> OutCol:
        if isinstance(item, exp.Alias):
            return OutCol(self._spelled(item.args["alias"]), self.type_of(item.this))
        if isinstance(item, exp.Column) and isinstance(item.this, exp.Identifier):
            return OutCol(item.this.name, self.type_of(item))
        return OutCol(None, self.type_of(item))

    def type_of(self, node: exp.Expression) -> LogicalType:
        return infer_type(node, self.types, cast_type)

    # -- identifiers -----------------------------------------------------------------------
    def _spelled(self, ident: exp.Expression) -> str:
        if not isinstance(ident, exp.Identifier):
            raise refuse("sql_unsupported", "Expected a name.")
        return self.names.spelled(ident.name, bool(ident.args.get("quoted")))

    def _key(self, ident: exp.Expression) -> str:
        return self.names.key(self._spelled(ident))


__all__ = ["OutCol", "Resolver", "Scope", "Source", "TableUse"]
