"""The raw SQL checker's entry point: text -> :class:`CheckedSQL` or :class:`RawSQLError`.

Steps, each refusing on its own: parse with sqlglot for the vendor's dialect (exactly one
statement, a query); walk every node against the allowlist (:mod:`.allowlist`); resolve names
against the catalog (:mod:`.resolve`); check that every column, table and ``*`` was accounted
for; render the statement that runs (:mod:`.render`). Pure: no Django, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError

from prismiq_django.query.catalog import Catalog
from prismiq_django.query.dialects import get_dialect
from prismiq_django.query.errors import QueryValidationError
from prismiq_django.query.rawsql.allowlist import (
    ALLOWED_FUNCTION_NAMES,
    CAST_TYPES,
    DEFAULT_FORBIDDEN_FUNCTIONS,
    EXPRESSIONS,
    STRUCTURE_ARGS,
    VAR_PARENTS,
    function_name,
    is_forbidden,
)
from prismiq_django.query.rawsql.errors import RawSQLError, SQLProblem, refuse, shown
from prismiq_django.query.rawsql.names import SQLGLOT_DIALECTS, Names
from prismiq_django.query.rawsql.render import Adapt, Values, cap_rows, wrap_tables
from prismiq_django.query.rawsql.resolve import Resolver

#: Longest statement accepted (characters).
MAX_SQL_LENGTH = 100_000
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_UNIT = re.compile(r"[A-Za-z_]{1,32}")
_NOT_QUERIES = tuple(
    getattr(exp, name)
    for name in (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command", "Copy",
        "Set", "Transaction", "Commit", "Rollback", "Use", "Pragma", "Grant", "Revoke",
        "Analyze", "Describe", "Kill", "Cache", "Uncache", "Refresh", "LoadData", "Show",
        "Declare", "Execute", "TruncateTable", "Summarize", "Comment",
    )
    if hasattr(exp, name)
)  # fmt: skip
_CLAUSES = {
    "into": ("sql_forbidden_clause", "SELECT ... INTO is not allowed."),
    "locks": ("sql_forbidden_clause", "Locking clauses (FOR UPDATE, FOR SHARE) are not allowed."),
    "method": ("sql_unsupported", "NATURAL joins are not allowed: join ON named columns."),
    "sample": ("sql_unsupported", "TABLESAMPLE is not allowed."),
    "laterals": ("sql_unsupported", "LATERAL is not allowed."),
}


@dataclass(frozen=True, slots=True)
class CheckedSQL:
    """A raw statement ready for ``cursor.execute(sql, params)``.

    ``tables`` are the catalog tables it reads; ``column_types`` the logical type of each output
    column where the statement tells it (``""`` where not); ``limit`` the rows to return (the SQL
    fetches one more when the row cap applies); ``parameters`` the ``:name`` placeholders used.
    ``columns`` is empty: output names come from the database's description of the result.
    """

    sql: str
    params: tuple[object, ...]
    tables: frozenset[str]
    column_types: tuple[str, ...]
    limit: int
    parameters: tuple[str, ...]
    columns: tuple[str, ...] = ()


def check_sql(
    sql: object,
    catalog: Catalog,
    vendor: str,
    *,
    params: Mapping[str, object] | None = None,
    max_rows: int = 10_000,
    forbidden_functions: Iterable[str] = DEFAULT_FORBIDDEN_FUNCTIONS,
) -> CheckedSQL:
    """Check ``sql`` against ``catalog`` for Django's ``vendor`` and render what would run.

    ``params`` are the values of its ``:name`` placeholders: every one used must have a value
    and every value must be used; None (validation only) binds None to each. Raises
    :class:`RawSQLError` (``errors`` with stable codes) for anything refused.
    """
    dialect = SQLGLOT_DIALECTS.get(vendor)
    if dialect is None:
        raise refuse("sql_unsupported", "Raw SQL is not supported on this database.")
    root = _parse(sql, dialect)
    assert isinstance(sql, str)
    forbidden = tuple(forbidden_functions)
    written = sql.lower()
    for node in root.walk():
        _check_node(node, forbidden, written)
    names = Names(vendor, catalog)
    for ident in root.find_all(exp.Identifier):
        ident.set("this", names.spelled(ident.name, bool(ident.args.get("quoted"))))
        ident.set("quoted", True)
    resolver = Resolver(names)
    outputs = resolver.query(root, {}, None)
    for node in root.walk():
        if isinstance(node, (exp.Column, exp.Table, exp.Star)) and (
            resolver.resolved.get(id(node)) is not node
        ):
            raise refuse("sql_unsupported", "The statement could not be checked.")
    values = Values()
    used = _bind_parameters(root, params, values)
    wrap_tables(resolver.uses, catalog, values, _adapter(vendor))
    limit = cap_rows(root, max_rows, values)
    text = root.sql(dialect=dialect, identify=True, comments=False)
    final, bound = values.finish(text)
    return CheckedSQL(
        sql=final,
        params=bound,
        tables=frozenset(resolver.tables),
        column_types=tuple("" if c.type == "unknown" else c.type for c in outputs),
        limit=limit,
        parameters=used,
    )


def _parse(sql: object, dialect: str) -> exp.Expression:
    if not isinstance(sql, str):
        raise refuse("sql_syntax_error", "The statement must be a string.")
    if len(sql) > MAX_SQL_LENGTH:
        raise refuse("sql_too_long", f"The statement is longer than {MAX_SQL_LENGTH} characters.")
    if "\x00" in sql:
        raise refuse("sql_syntax_error", "The statement contains a NUL character.")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise refuse("sql_syntax_error", _syntax_message(exc)) from None
    except (SqlglotError, RecursionError, ValueError, KeyError, IndexError, TypeError):
        raise refuse("sql_syntax_error", "The statement could not be parsed.") from None
    if not statements:
        raise refuse("sql_empty", "The statement is empty.")
    if len(statements) > 1:
        raise refuse("sql_multiple_statements", "Exactly one statement is allowed.")
    root = statements[0]
    if isinstance(root, _NOT_QUERIES) or any(isinstance(n, _NOT_QUERIES) for n in root.walk()):
        raise refuse(
            "sql_not_a_query",
            "Only queries are allowed: no data-modifying, schema or session statement anywhere.",
        )
    if not isinstance(root, (exp.Select, exp.SetOperation, exp.Subquery)):
        raise refuse("sql_not_a_query", "Only SELECT queries (WITH, UNION, ...) are allowed.")
    return root


def _syntax_message(exc: ParseError | TokenError) -> str:
    details = getattr(exc, "errors", None) or []
    if details and isinstance(details[0], dict):
        line, col = details[0].get("line"), details[0].get("col")
        if isinstance(line, int) and isinstance(col, int):
            return f"The statement could not be parsed (line {line}, column {col})."
    return "The statement could not be parsed."


def _check_node(node: exp.Expr, forbidden: tuple[str, ...], written: str) -> None:
    """Refuse ``node`` unless its kind (and, for query structure, each clause) is allowed.

    ``written`` is the statement in lower case: a function is named in a message only when the
    statement spells it so (sqlglot may know it under another name).
    """
    if isinstance(node, exp.Func):
        name = function_name(node)
        what = f"Function {shown(name)}" if name in written else "A function of the statement"
        if is_forbidden(name, forbidden):
            raise refuse("sql_forbidden_function", f"{what} is not allowed.")
        allowed = type(node) in EXPRESSIONS or type(node) in STRUCTURE_ARGS
        anonymous = type(node) is exp.Anonymous
        if not allowed or (anonymous and name not in ALLOWED_FUNCTION_NAMES):
            raise refuse("sql_forbidden_function", f"{what} is not allowed.")
    if isinstance(node, exp.Placeholder):
        param = node.args.get("this")
        if set(node.args) - {"this"} and any(v for k, v in node.args.items() if k != "this"):
            raise refuse("sql_invalid_parameter", "Only :name parameters are supported.")
        if not isinstance(param, str) or not _PARAM_NAME.fullmatch(param):
            raise refuse("sql_invalid_parameter", "Only :name parameters are supported.")
        return
    clauses = STRUCTURE_ARGS.get(type(node))
    if clauses is None:
        if type(node) not in EXPRESSIONS:
            raise refuse("sql_unsupported", f"{_describe(node)} is not allowed in raw SQL.")
    else:
        for key, value in node.args.items():
            if value is None or value is False or value == [] or key in clauses:
                continue
            code, message = _CLAUSES.get(key, ("sql_unsupported", "This clause is not allowed."))
            raise refuse(code, message)  # type: ignore[arg-type]
    if isinstance(node, exp.Var):
        if not isinstance(node.parent, VAR_PARENTS) or not _UNIT.fullmatch(str(node.this)):
            raise refuse("sql_unsupported", "Unexpected keyword in the statement.")
    elif isinstance(node, exp.DataType):
        if node.this not in CAST_TYPES or node.args.get("nested"):
            raise refuse("sql_unsupported", "CAST to this type is not allowed.")
        if not isinstance(node.parent, (exp.Cast, exp.DataType)):
            raise refuse("sql_unsupported", "Unexpected type name in the statement.")
    elif isinstance(node, (exp.Identifier, exp.Literal)) and not isinstance(node.this, str):
        raise refuse("sql_unsupported", "Unexpected token in the statement.")


def _describe(node: exp.Expr) -> str:
    if isinstance(node, (exp.RawString, exp.ByteString, exp.HexString, exp.BitString)):
        return "This kind of string literal (dollar quoting, escapes, hex, bits)"
    if isinstance(node, exp.National):
        return "A national string literal"
    if isinstance(node, exp.Parameter):
        return "A positional or session parameter ($1, @x)"
    return f"This SQL construct ({node.key})"


def _bind_parameters(
    root: exp.Expression, params: Mapping[str, object] | None, values: Values
) -> tuple[str, ...]:
    used: list[str] = []
    for node in list(root.find_all(exp.Placeholder)):
        name = str(node.this)
        if name not in used:
            used.append(name)
        value: object = None
        if params is not None:
            if name not in params:
                raise refuse(
                    "sql_missing_parameter", f"Parameter {shown(':' + name)} has no value."
                )
            value = params[name]
        node.replace(values.slot(value))
    if params is not None:
        problems = [
            SQLProblem("sql_invalid_parameter", f"Parameter {shown(str(k))} is not used.")
            for k in params
            if k not in used
        ]
        problems += [
            SQLProblem("sql_invalid_parameter", f"Parameter {shown(k)} must be a JSON scalar.")
            for k in used
            if not _scalar(params[k])
        ]
        if problems:
            raise RawSQLError(problems)
    return tuple(used)


def _scalar(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    return value is None or isinstance(value, (bool, int, float))


def _adapter(vendor: str) -> Adapt:
    try:
        dialect = get_dialect(vendor)
    except QueryValidationError:
        return lambda value, type_: value
    return dialect.adapt


__all__ = ["MAX_SQL_LENGTH", "CheckedSQL", "check_sql"]
