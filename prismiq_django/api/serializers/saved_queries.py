"""The saved query serializer: ``owner`` read-only, ``query`` validated against the caller's exposed
schema (400 with per-problem codes when invalid).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from prismiq_django import services
from prismiq_django.api.errors import prefix_errors, request_error_items
from prismiq_django.api.serializers.queries import QueryDefinitionField
from prismiq_django.models import SavedQuery
from prismiq_django.query.errors import ErrorDetail, QueryValidationError, pointer


def _nul_path(value: object, path: tuple[str | int, ...]) -> str | None:
    """The JSON pointer of the first key or string in ``value`` holding ``"\\x00"``, or None."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return pointer(*where)
        elif isinstance(node, dict):
            for key, item in node.items():
                if "\x00" in str(key):
                    return pointer(*where, str(key))
                stack.append((item, (*where, str(key))))
        elif isinstance(node, list):
            stack.extend((item, (*where, index)) for index, item in enumerate(node))
    return None


class SavedQuerySerializer(serializers.ModelSerializer[SavedQuery]):
    """A saved query. ``owner`` is the creating user (read-only); ``query`` is validated against
    the caller's exposed schema and refused with 400 and per-problem codes when invalid.
    """

    query = QueryDefinitionField(help_text="The query definition.")
    owner: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )

    class Meta:
        model = SavedQuery
        fields = (
            "id",
            "name",
            "description",
            "query",
            "is_shared",
            "owner",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "owner", "created_at", "updated_at")

    def to_internal_value(self, data: Any) -> Any:
        """The fields' values; every problem at once: the other fields' errors (``/name`` ...)
        together with the query's (under ``/query``), as one core validation error when the
        query has problems (``Query validation failed``), else DRF's own error."""
        self._query_problems: list[ErrorDetail] = []
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not self._query_problems:
                raise
            fields = request_error_items(exc.detail)
            raise QueryValidationError([*fields, *self._query_problems]) from exc
        if self._query_problems:
            raise QueryValidationError(self._query_problems)
        return value

    def validate_query(self, value: object) -> object:
        """Refuse a definition the services would refuse (reported as core validation errors,
        with codes and JSON pointers under ``/query``, beside the other fields' errors).

        Text holding a NUL character is refused anywhere in the stored JSON, ignored keys
        included: PostgreSQL's ``jsonb`` cannot store it.
        """
        nul_path = _nul_path(value, ("query",))
        if nul_path is not None:
            self._query_problems = [
                ErrorDetail("invalid_value", "Text may not contain NUL characters.", nul_path)
            ]
            return value
        problems = services.validate(self.context.get("request"), value)
        self._query_problems = prefix_errors(problems, "query")
        return value


__all__ = ["SavedQuerySerializer"]
