"""The saved query serializer: ``owner`` read-only, ``query`` validated against the caller's exposed
schema (400 with per-problem codes when invalid).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from prismiq_django import services
from prismiq_django.api.errors import prefix_errors, request_error_items
from prismiq_django.api.serializers.dashboards import DashboardFilterSerializer
from prismiq_django.api.serializers.queries import QueryDefinitionField
from prismiq_django.models import SavedQuery
from prismiq_django.query.errors import ErrorDetail, QueryValidationError, pointer
from prismiq_django.services.saved_queries import declared_filters, merged_definition


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


@extend_schema_field(DashboardFilterSerializer(many=True))
class DeclaredFiltersField(serializers.JSONField):
    """A saved query's ``filters`` as sent; checked by the filter declarations' own parser."""

    def to_internal_value(self, data: Any) -> Any:
        return data


class SavedQuerySerializer(serializers.ModelSerializer[SavedQuery]):
    """A saved query. ``owner`` is the creating user (read-only); ``query`` is validated against
    the caller's exposed schema and refused with 400 and per-problem codes when invalid.
    """

    query = QueryDefinitionField(help_text="The query definition.")
    filters = DeclaredFiltersField(
        required=False,
        help_text="Declared parameters (DashboardFilter objects): saved-queries/{id}/execute "
        "takes their values as filter_values.",
    )
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
            "filters",
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
            self._query_problems.append(
                ErrorDetail("invalid_value", "Text may not contain NUL characters.", nul_path)
            )
            return value
        problems = services.validate(self.context.get("request"), value)
        self._query_problems += prefix_errors(problems, "query")
        return value

    def validate_filters(self, value: object) -> object:
        """Refuse declarations the dashboards would refuse (paths under ``/filters``)."""
        try:
            declared_filters(value)
        except QueryValidationError as exc:
            self._query_problems += list(exc.errors)
        return [] if value is None else value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The declared filters must fit the query: each default value its column's type and
        each filter type its column (the merge run without request values)."""
        instance = self.instance
        query = attrs.get("query", getattr(instance, "query", None))
        filters = attrs.get("filters", getattr(instance, "filters", None))
        if filters:
            merged_definition(
                query, declared_filters(filters), None, request=self.context.get("request")
            )
        return attrs


__all__ = ["SavedQuerySerializer"]
