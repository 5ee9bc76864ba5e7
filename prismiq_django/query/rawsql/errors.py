"""Errors of the raw SQL checker: stable codes, messages that only repeat what the caller wrote.

A message never quotes the database, a hidden column or an unexposed table's real name: a name
that does not resolve is reported as the caller spelled it, exactly like an absent one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from prismiq_django.query.errors import QueryError

SQLErrorCode: TypeAlias = Literal[
    "sql_syntax_error",
    "sql_empty",
    "sql_multiple_statements",
    "sql_not_a_query",
    "sql_forbidden_clause",
    "sql_unsupported",
    "sql_forbidden_function",
    "table_not_found",
    "column_not_found",
    "sql_ambiguous_column",
    "sql_invalid_parameter",
    "sql_missing_parameter",
    "sql_too_long",
    "sql_execution_error",
    "invalid_definition",
]

SQL_ERROR_CODES: frozenset[str] = frozenset(SQLErrorCode.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SQLProblem:
    """One problem with a raw statement: ``{code, message}`` as ``sql/validate`` returns it."""

    code: SQLErrorCode
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class RawSQLError(QueryError):
    """The statement is refused; ``errors`` holds at least one :class:`SQLProblem`."""

    def __init__(self, errors: Sequence[SQLProblem]) -> None:
        if not errors:
            raise ValueError("RawSQLError needs at least one SQLProblem")
        self.errors: tuple[SQLProblem, ...] = tuple(errors)
        super().__init__("; ".join(e.message for e in self.errors))


def refuse(code: SQLErrorCode, message: str) -> RawSQLError:
    """A :class:`RawSQLError` with one problem (``raise refuse(...)``)."""
    return RawSQLError([SQLProblem(code, message)])


def shown(name: str) -> str:
    """The caller's own spelling of a name, shortened for a message."""
    text = repr(name)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["SQL_ERROR_CODES", "RawSQLError", "SQLErrorCode", "SQLProblem", "refuse", "shown"]
