"""The question backend protocol: a question in plain language -> a query definition.

A backend never produces SQL. It answers with a QueryDefinition dict (SPEC section 3) and a
short explanation; the caller validates and compiles the definition like any other, so an answer
can reach nothing the caller could not query by hand. A backend sees only what it is given: the
exposed catalog (names, types, display names, descriptions) and, when the site turns
``ASSISTANT["SAMPLE_VALUES"]`` on, a few distinct values of the exposed text columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from prismiq_django.query.catalog import Catalog


class AssistantError(Exception):
    """The backend could not produce a definition (not understood, or unreachable).

    ``message`` is safe to show to the caller: it never carries a server's or model's raw text.
    """

    def __init__(self, message: str, *, unavailable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unavailable = unavailable


@dataclass(frozen=True, slots=True)
class Question:
    """What a backend is asked: the question, the caller's catalog, and optional context.

    ``context`` is the caller's current definition (a follow-up question refines it);
    ``samples`` maps ``(table, column)`` to a few distinct values, empty unless the site allows
    sample values; ``errors`` (repair rounds only) lists the validation problems of the
    backend's previous answer, ``previous`` being that answer.
    """

    text: str
    catalog: Catalog
    context: Mapping[str, Any] | None = None
    samples: Mapping[tuple[str, str], Sequence[object]] = field(default_factory=dict)
    errors: Sequence[Mapping[str, str]] = ()
    previous: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A backend's answer: a QueryDefinition dict (not yet validated) and an explanation."""

    query: dict[str, Any]
    explanation: str


@runtime_checkable
class AssistantBackend(Protocol):
    """A question backend (``ASSISTANT["BACKEND"]``).

    ``answer`` is called once per question, and once more with ``question.errors`` set when the
    first answer does not validate (the repair round). It raises :class:`AssistantError` when it
    cannot answer; anything else it returns is validated by the caller.
    """

    def answer(self, question: Question) -> Answer: ...


__all__ = ["Answer", "AssistantBackend", "AssistantError", "Question"]
