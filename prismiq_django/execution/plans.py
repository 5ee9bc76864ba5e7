"""Query plans: :func:`explain_compiled` runs EXPLAIN under the rails, :func:`redact_plan` redacts
the plan before it reaches a caller.

A plan is the database's own text, and it names things the caller may not see: index names
(Django's generated names embed column names, hidden ones included) and, under an exposed view, the
tables and expressions the view reads. :func:`redact_plan` keeps the plan's shape, costs and
timings and the names of exposed tables, and removes the rest:

- ``Index Name`` (PostgreSQL), ``key``/``possible_keys`` (MySQL) and ``USING [COVERING] INDEX
  <name>`` (SQLite) become ``(index)``;
- a MySQL ``table`` node whose ``table_name`` is neither a compiler alias nor an exposed table
  (what an exposed view reads) is treated as PostgreSQL's foreign relation node below;
- a PostgreSQL node on a relation that is not an exposed table loses its relation name, schema
  and alias, and it and every node above it lose their expression keys (``Filter``, ``Hash
  Cond``, ``Sort Key``, ``Output``...);
- a SQLite ``SCAN``/``SEARCH`` detail naming something other than an exposed table or a compiler
  alias loses that name.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any, Final

import orjson
from django.db import connections

from prismiq_django.execution.rails import guarded_cursor
from prismiq_django.execution.results import CompiledStatement
from prismiq_django.query import get_dialect

HIDDEN: Final = "(hidden)"
INDEX: Final = "(index)"

_NAME_KEYS: Final = frozenset(
    {"Relation Name", "Schema", "Alias", "CTE Name", "Function Name", "table_name"}
)
#: Index names: PostgreSQL's ``Index Name``, MySQL's ``key`` and ``possible_keys``.
_INDEX_KEYS: Final = frozenset({"Index Name", "key", "possible_keys"})
_EXPRESSION_KEYS: Final = frozenset(
    {
        "Filter",
        "Index Cond",
        "Recheck Cond",
        "Join Filter",
        "Hash Cond",
        "Merge Cond",
        "Sort Key",
        "Group Key",
        "Presorted Key",
        "Output",
        "One-Time Filter",
        "TID Cond",
        "Cache Key",
        "Function Call",
        "Table Function Name",
        "Subplan Name",
        "Order By",
        # MySQL / MariaDB (EXPLAIN FORMAT=JSON)
        "attached_condition",
        "index_condition",
        "having_condition",
        "used_key_parts",
        "ref",
        "sort_key",
        "condition",
        "expression",
    }
)
_SQLITE_INDEX: Final = re.compile(r"\bUSING (COVERING )?INDEX (\"[^\"]*\"|\S+)")
_SQLITE_OBJECT: Final = re.compile(r"\b(SCAN|SEARCH) (\"[^\"]*\"|\S+)")
_COMPILER_ALIAS: Final = re.compile(r"t\d+")


def redact_plan(plan: Any, exposed: Collection[str]) -> Any:
    """Return ``plan`` (PostgreSQL JSON plan or SQLite rows) without names the caller may not see.

    ``exposed`` holds the names of the exposed tables. The input is not modified.
    """
    if isinstance(plan, list) and all(isinstance(r, dict) and "detail" in r for r in plan):
        return [{**row, "detail": _redact_detail(str(row["detail"]), exposed)} for row in plan]
    return _redact_node(plan, exposed)


def _redact_node(node: Any, exposed: Collection[str]) -> Any:
    return _redact(node, exposed)[0]


def _redact(node: Any, exposed: Collection[str]) -> tuple[Any, bool]:
    """Return the redacted node and whether its subtree reads a relation that is not exposed.

    Expressions are dropped on such a node *and on every node above it*: a join, sort or
    aggregate over a view's hidden tables names their columns in ``Hash Cond``, ``Sort Key``...
    """
    if isinstance(node, list):
        parts = [_redact(item, exposed) for item in node]
        return [p[0] for p in parts], any(p[1] for p in parts)
    if not isinstance(node, dict):
        return node, False
    relation = node.get("Relation Name")
    foreign = relation is not None and relation not in exposed
    table_name = node.get("table_name")  # MySQL: a compiler alias, or what a view reads
    if isinstance(table_name, str) and not _COMPILER_ALIAS.fullmatch(table_name):
        foreign = foreign or table_name not in exposed
    children = {key: _redact(value, exposed) for key, value in node.items()}
    touches = foreign or any(hidden for _, hidden in children.values())
    out: dict[str, Any] = {}
    for key, (value, _) in children.items():
        if key in _INDEX_KEYS:
            out[key] = [INDEX for _ in value] if isinstance(value, list) else INDEX
        elif foreign and key in _NAME_KEYS:
            out[key] = HIDDEN
        elif touches and key in _EXPRESSION_KEYS:
            continue
        else:
            out[key] = value
    return out, touches


def _redact_detail(detail: str, exposed: Collection[str]) -> str:
    detail = _SQLITE_INDEX.sub(lambda m: f"USING {m.group(1) or ''}INDEX {INDEX}", detail)

    def _object(match: re.Match[str]) -> str:
        name = match.group(2).strip('"')
        if name in exposed or _COMPILER_ALIAS.fullmatch(name):
            return match.group(0)
        return f"{match.group(1)} {HIDDEN}"

    return _SQLITE_OBJECT.sub(_object, detail)


# A backslash escape JSON does not have: MariaDB writes the quotes of the statement's string
# literals (``attached_condition``) as \' in its JSON plans.
_MYSQL_BAD_ESCAPE: Final = re.compile(r"(?<!\\)((?:\\\\)*)\\'")


def _mysql_plan(text: str | bytes) -> Any:
    """MySQL's/MariaDB's JSON plan, read even with MariaDB's ``\'`` escapes."""
    if isinstance(text, bytes):
        text = text.decode()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return orjson.loads(_MYSQL_BAD_ESCAPE.sub(r"\1'", text))


def explain_analyzes(alias: str) -> bool:
    """Whether ``explain_compiled(..., analyze=True)`` on ``alias`` is EXPLAIN ANALYZE (the
    statement runs and the plan has actual rows and times): PostgreSQL and MariaDB
    (``ANALYZE FORMAT=JSON``) yes; SQLite no (its ``EXPLAIN QUERY PLAN`` has no analyzing form),
    nor MySQL (its ``EXPLAIN ANALYZE`` has no JSON form: the plain plan is returned)."""
    connection = connections[alias]
    if connection.vendor == "mysql" and not getattr(connection, "mysql_is_mariadb", False):
        return False
    return get_dialect(connection.vendor).explain_analyzes


def explain_compiled(
    compiled: CompiledStatement, *, alias: str, timeout: float, analyze: bool
) -> Any:
    """Return the database's plan for ``compiled`` (run with the same rails; ANALYZE included).

    PostgreSQL: the parsed ``EXPLAIN (FORMAT JSON)`` document (a list with one plan object).
    MySQL/MariaDB: the parsed ``EXPLAIN FORMAT=JSON`` (``ANALYZE FORMAT=JSON``) document.
    SQLite: ``EXPLAIN QUERY PLAN`` rows as ``[{"id", "parent", "detail"}]``.
    """
    connection = connections[alias]
    analyze = analyze and explain_analyzes(alias)
    explain_sql = get_dialect(connection.vendor).explain_sql(compiled.sql, analyze=analyze)
    with guarded_cursor(alias, timeout) as (conn, cursor):
        cursor.execute(explain_sql, compiled.params)
        rows = cursor.fetchall()
        vendor = conn.vendor
    if vendor == "mysql":
        return _mysql_plan(rows[0][0])
    if vendor == "postgresql":
        plan = rows[0][0]
        return orjson.loads(plan) if isinstance(plan, str | bytes) else plan
    return [{"id": row[0], "parent": row[1], "detail": row[-1]} for row in rows]


__all__ = ["HIDDEN", "INDEX", "explain_analyzes", "explain_compiled", "redact_plan"]
