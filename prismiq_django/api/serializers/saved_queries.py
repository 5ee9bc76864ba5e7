"""The saved query serializer: ``owner`` read-only, ``query`` validated against the caller's exposed
schema (400 with per-problem codes when invalid).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from prismiq_django import services
from prismiq_django.api.errors import prefix_errors
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

    def validate_query(self, value: object) -> object:
        """Refuse a definition the services would refuse (raised as a core validation error, so
        the answer carries codes and JSON pointers under ``/query``).

        Text holding a NUL character is refused anywhere in the stored JSON, ignored keys
        included: PostgreSQL's ``jsonb`` cannot store it.
        """
        nul_path = _nul_path(value, ("query",))
        if nul_path is not None:
            raise QueryValidationError(
                [ErrorDetail("invalid_value", "Text may not contain NUL characters.", nul_path)]
            )
        problems = services.validate(self.context.get("request"), value)
        if problems:
            raise QueryValidationError(prefix_errors(problems, "query"))
        return value


__all__ = ["SavedQuerySerializer"]
