"""Questions in plain language (SPEC section 12): ``ask`` -> a query definition, never SQL.

The backend (``ASSISTANT["BACKEND"]``) sees the exposed catalog of the caller (row scopes in
force), its current definition when one is given, and sample values of the exposed text columns
only when ``ASSISTANT["SAMPLE_VALUES"]`` is on (read through :func:`column_values`, so under the
caller's row scopes and on the query rails). Its answer is validated against that same catalog
with one repair round (:func:`prismiq_django.assistant.conversation.converse`), compiled like any
definition and, when asked, run by :func:`prismiq_django.services.queries.execute`: an answer can
reach nothing the caller could not query by hand.

Errors: :class:`AssistantNotConfigured` (no backend: 404), :class:`AnswerInvalid` (the answer
stayed invalid: 422 with its validation errors; nothing ran), :class:`AssistantError`
``unavailable`` (the backend cannot be reached: 503), and the query services' errors when the
valid definition runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from prismiq_django.assistant import Answer, AssistantBackend, AssistantError, Question
from prismiq_django.assistant.conversation import AnswerInvalid, converse
from prismiq_django.assistant.offline import OfflineBackend
from prismiq_django.assistant.openai_compatible import (
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_MODEL,
    OpenAICompatibleBackend,
)
from prismiq_django.conf import import_from_setting, prismiq_settings
from prismiq_django.execution import QueryResult
from prismiq_django.query import Catalog, Compiled, QueryValidationError
from prismiq_django.services.catalog import get_catalog
from prismiq_django.services.queries import execute, prepare
from prismiq_django.services.values import column_values

#: Keys of ``PRISMIQ["ASSISTANT"]``.
ASSISTANT_KEYS: Final = frozenset(
    {"BACKEND", "BASE_URL", "MODEL", "API_KEY", "TIMEOUT", "JSON_SCHEMA", "SAMPLE_VALUES"}
)
#: Sample values per text column, and text columns sampled, when ``SAMPLE_VALUES`` is on.
SAMPLE_LIMIT: Final = 20
SAMPLE_COLUMNS: Final = 50
#: Longest question accepted (characters).
MAX_QUESTION_LENGTH: Final = 2_000


class AssistantNotConfigured(Exception):
    """``ASSISTANT["BACKEND"]`` is not set: ``ask`` does not exist (404)."""


@dataclass(frozen=True, slots=True)
class AskAnswer:
    """A valid answer: the definition, the backend's explanation, the compiled statement and,
    when the caller asked for it, the result."""

    query: dict[str, Any]
    explanation: str
    compiled: Compiled
    result: QueryResult | None = None


def configured_backend() -> AssistantBackend:
    """The backend of ``ASSISTANT["BACKEND"]``: ``"offline"``, ``"openai_compatible"``
    (``BASE_URL``, ``MODEL``, ``API_KEY``, each from the environment's
    ``PRISMIQ_ASSISTANT_*`` when not set; ``TIMEOUT``, ``JSON_SCHEMA``) or the dotted path of a
    class implementing :class:`~prismiq_django.assistant.AssistantBackend`, called without
    arguments. Raises :class:`AssistantNotConfigured` when none is set."""
    options = prismiq_settings.ASSISTANT
    name = options.get("BACKEND")
    if not name:
        raise AssistantNotConfigured()
    if name == "offline":
        return OfflineBackend()
    if name == "openai_compatible":
        return OpenAICompatibleBackend(
            base_url=str(options.get("BASE_URL") or os.environ.get(ENV_BASE_URL, "")),
            model=str(options.get("MODEL") or os.environ.get(ENV_MODEL, "")),
            api_key=options.get("API_KEY") or os.environ.get(ENV_API_KEY) or None,
            timeout=float(options.get("TIMEOUT", 30.0)),
            json_schema=bool(options.get("JSON_SCHEMA", True)),
        )
    backend_class = import_from_setting("ASSISTANT", name)
    backend: AssistantBackend = backend_class()
    return backend


def _samples(request: object, catalog: Catalog) -> dict[tuple[str, str], Sequence[object]]:
    samples: dict[tuple[str, str], Sequence[object]] = {}
    text_columns = [
        (table.name, column.name)
        for table in sorted(catalog.tables.values(), key=lambda t: t.name)
        for column in table.columns
        if column.type == "string"
    ]
    for table, column in text_columns[:SAMPLE_COLUMNS]:
        values = column_values(request, table, column, limit=SAMPLE_LIMIT)
        if values:
            samples[(table, column)] = values
    return samples


def _problems(request: object, catalog: Catalog, definition: object) -> list[dict[str, str]]:
    try:
        prepare(request, definition, catalog)
    except QueryValidationError as exc:
        return [e.as_dict() for e in exc.errors]
    return []


def ask(
    request: object,
    question: str,
    *,
    context: Mapping[str, Any] | None = None,
    run: bool = False,
    backend: AssistantBackend | None = None,
) -> AskAnswer:
    """Answer ``question`` for ``request`` (module docstring); ``context`` is the caller's
    current definition, ``run`` runs the answer (``result``)."""
    if backend is None:
        backend = configured_backend()
    catalog = get_catalog(request)
    samples = _samples(request, catalog) if prismiq_settings.ASSISTANT.get("SAMPLE_VALUES") else {}
    asked = Question(text=question, catalog=catalog, context=context, samples=samples)
    answer: Answer = converse(
        backend, asked, lambda definition: _problems(request, catalog, definition)
    )
    compiled = prepare(request, answer.query, catalog)[2]
    result = execute(request, answer.query) if run else None
    return AskAnswer(answer.query, answer.explanation, compiled, result)


__all__ = [
    "ASSISTANT_KEYS",
    "MAX_QUESTION_LENGTH",
    "SAMPLE_COLUMNS",
    "SAMPLE_LIMIT",
    "AnswerInvalid",
    "AskAnswer",
    "AssistantBackend",
    "AssistantError",
    "AssistantNotConfigured",
    "ask",
    "configured_backend",
]
