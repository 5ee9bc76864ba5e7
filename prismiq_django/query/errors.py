"""Errors of the query core: every bad input becomes one of these, never anything else.

Each problem has a stable ``code`` (SPEC section 5) and a JSON-pointer ``path`` into the request.
:class:`QueryValidationError` carries every problem found in one request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

ErrorCode: TypeAlias = Literal[
    "table_not_found",
    "column_not_found",
    "invalid_reference",
    "invalid_join",
    "invalid_operator",
    "invalid_value",
    "invalid_aggregation",
    "invalid_definition",
    "too_complex",
]

ERROR_CODES: frozenset[str] = frozenset(ErrorCode.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One problem: ``{code, message, path}`` exactly as the API returns it."""

    code: ErrorCode
    message: str
    path: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "path": self.path}


class QueryError(Exception):
    """Base class of every error the query core raises."""


class QueryValidationError(QueryError):
    """The definition is invalid; ``errors`` lists every problem found (at least one)."""

    def __init__(self, errors: Sequence[ErrorDetail]) -> None:
        if not errors:
            raise ValueError("QueryValidationError needs at least one ErrorDetail")
        self.errors: tuple[ErrorDetail, ...] = tuple(errors)
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in self.errors))


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer (RFC 6901) from path parts: ``pointer("columns", 2, "column")``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


__all__ = [
    "ERROR_CODES",
    "ErrorCode",
    "ErrorDetail",
    "QueryError",
    "QueryValidationError",
    "pointer",
]
