"""Serializers of the raw SQL and question endpoints (SPEC section 12): the request envelopes
(checked here; the statement and the question themselves are checked by the services) and the
docs-only answers."""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers

from prismiq_django.api.serializers.queries import (
    AnyValueField,
    JSONBooleanField,
    QueryDefinitionField,
    QueryResultSerializer,
)
from prismiq_django.query.errors import ERROR_CODES
from prismiq_django.query.rawsql import MAX_SQL_LENGTH, SQL_ERROR_CODES
from prismiq_django.services.ask import MAX_QUESTION_LENGTH


class JSONStringField(serializers.CharField):
    """A JSON string, kept exactly as sent (no trimming; a number is not turned into text)."""

    default_error_messages = {"invalid": "Must be a JSON string."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value: str = super().to_internal_value(data)
        return value


class StatementField(JSONStringField):
    """The statement as sent, NUL characters included: the checker refuses those itself
    (``sql_syntax_error``), so ``sql/validate`` answers ``valid: false`` like for any refusal."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class SqlValidateRequestSerializer(serializers.Serializer[Any]):
    """``POST sql/validate``: ``{sql, params?}`` (with ``params`` the binding is checked too)."""

    sql = StatementField(
        allow_blank=True,
        help_text=f"One SELECT statement (at most {MAX_SQL_LENGTH} characters); "
        "parameters as :name.",
    )
    params = serializers.DictField(
        child=AnyValueField(),
        required=False,
        help_text="Values of the :name parameters (JSON scalars), by name.",
    )


class SqlExecuteRequestSerializer(SqlValidateRequestSerializer):
    """``POST sql/execute``: ``{sql, params?: {name: value}, bypass_cache?: false}``."""

    bypass_cache = JSONBooleanField(
        default=False, help_text="Run on the database even when a cached result exists."
    )


_SQL_CODES = ", ".join(sorted(SQL_ERROR_CODES))
_QUERY_CODES = ", ".join(sorted(ERROR_CODES))


# Codes are documented as text: drf-spectacular would give every ``code`` enum one name.
class SqlErrorItemSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text=f"One of: {_SQL_CODES}.")
    message = serializers.CharField(help_text="Repeats only what the statement itself says.")


class SqlValidateResponseSerializer(serializers.Serializer[Any]):
    valid = serializers.BooleanField()
    errors = SqlErrorItemSerializer(many=True)  # type: ignore[assignment]  # a field, not .errors
    tables = serializers.ListField(
        child=serializers.CharField(), help_text="Exposed tables the statement reads."
    )


class SqlInvalidItemSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(
        help_text=f"One of: {_SQL_CODES}; for the envelope {_QUERY_CODES}."
    )
    message = serializers.CharField()
    path = serializers.CharField(help_text="/sql, /params or the envelope key at fault.")


class SqlInvalidResponseSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text='"Query validation failed" or "Invalid request".')
    errors = SqlInvalidItemSerializer(many=True)  # type: ignore[assignment]  # a field


class AskContextSerializer(serializers.Serializer[Any]):
    query = QueryDefinitionField(
        required=False, help_text="The caller's current definition (a follow-up refines it)."
    )


class AskRequestSerializer(serializers.Serializer[Any]):
    """``POST ask``: ``{question, context?: {query?}, execute?: false}``."""

    question = JSONStringField(max_length=MAX_QUESTION_LENGTH, help_text="Plain language.")
    context = AskContextSerializer(required=False)  # type: ignore[assignment]  # popped by DRF
    execute = JSONBooleanField(default=False, help_text="Also run the answer (``result``).")


class AskResponseSerializer(serializers.Serializer[Any]):
    query = QueryDefinitionField(help_text="The answer: a valid query definition, never SQL.")
    explanation = serializers.CharField()
    sql = serializers.CharField(help_text="The statement the definition compiles to.")
    params = serializers.ListField(child=AnyValueField(), help_text="Its bound parameters.")
    result = QueryResultSerializer(required=False, help_text="With execute: true.")


class AskInvalidItemSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text=f"One of: {_QUERY_CODES}.")
    message = serializers.CharField()
    path = serializers.CharField(help_text="JSON pointer into the answer's definition.")


class AskInvalidResponseSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="invalid_answer")
    errors = AskInvalidItemSerializer(many=True)  # type: ignore[assignment]  # a field


__all__ = [
    "AskContextSerializer",
    "AskInvalidResponseSerializer",
    "AskRequestSerializer",
    "AskResponseSerializer",
    "JSONStringField",
    "SqlErrorItemSerializer",
    "SqlExecuteRequestSerializer",
    "SqlInvalidResponseSerializer",
    "SqlValidateRequestSerializer",
    "SqlValidateResponseSerializer",
    "StatementField",
]
