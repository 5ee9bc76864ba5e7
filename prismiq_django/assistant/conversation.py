"""One question to a backend: its answer, validated, with one repair round.

The caller supplies ``validate`` (the same validation every query definition gets, against the
caller's catalog). An answer that does not validate — or is not a definition at all — is sent
back once with its errors; a second invalid answer is :class:`AnswerInvalid` (HTTP 422).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from prismiq_django.assistant.base import Answer, AssistantBackend, AssistantError, Question

Validate = Callable[[dict[str, Any]], Sequence[Mapping[str, str]]]


class AnswerInvalid(Exception):
    """The backend's answer stayed invalid after the repair round; ``errors`` says why."""

    def __init__(self, errors: Sequence[Mapping[str, str]]) -> None:
        super().__init__("The assistant's answer is not a valid query.")
        self.errors: list[dict[str, str]] = [dict(e) for e in errors]


def _attempt(
    backend: AssistantBackend, question: Question, validate: Validate
) -> tuple[Answer | None, list[dict[str, str]]]:
    try:
        answer = backend.answer(question)
    except AssistantError as exc:
        if exc.unavailable:
            raise
        return None, [{"code": "invalid_definition", "message": exc.message, "path": ""}]
    return answer, [dict(e) for e in validate(answer.query)]


def converse(backend: AssistantBackend, question: Question, validate: Validate) -> Answer:
    """Ask ``backend``; return a valid answer or raise :class:`AnswerInvalid`.

    :class:`AssistantError` ``unavailable`` propagates (the service answers 503).
    """
    answer, errors = _attempt(backend, question, validate)
    if answer is not None and not errors:
        return answer
    repair = replace(
        question, errors=tuple(errors), previous=answer.query if answer is not None else {}
    )
    answer, errors = _attempt(backend, repair, validate)
    if answer is not None and not errors:
        return answer
    raise AnswerInvalid(errors)


__all__ = ["AnswerInvalid", "Validate", "converse"]
