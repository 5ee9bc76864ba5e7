"""Input serializers of the HTTP API, and the docs-only query definition and result.

Two kinds live here:

- *Input* serializers for the request envelopes and query parameters (``bypass_cache``, ``limit``,
  ``search`` ...). They check only the envelope: the query definition itself is passed to the
  services untouched, because the query core validates it and reports every problem with a stable
  code and a JSON pointer (a serializer would report fewer problems, with other codes).
- *Docs-only* serializers describing responses for the OpenAPI document. Views return the
  services' dicts directly (no per-row serializer cost); these classes only feed drf-spectacular.
  :mod:`prismiq_django.api.openapi` maps :class:`QueryDefinitionSerializer`,
  :class:`QueryResultSerializer` and :class:`QueryDefinitionField` to full schemas.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from prismiq_django import services
from prismiq_django.services.paging import DEFAULT_PAGE_SIZE, Paging, max_page_size

ANY_VALUE_SCHEMA: dict[str, Any] = {
    "nullable": True,
    "oneOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {}},
    ],
}


class QueryDefinitionField(serializers.JSONField):
    """Any JSON value, documented as ``QueryDefinition``; validation is left to the query core.

    The value is taken as it is: the API's only parser is JSON, so it is JSON already (DRF's
    ``JSONField`` would serialize it again just to prove that, a third of an envelope's cost).
    """

    def to_internal_value(self, data: Any) -> Any:
        return data


@extend_schema_field(ANY_VALUE_SCHEMA)
class AnyValueField(serializers.JSONField):
    """A JSON value of any type (a cell, a bound parameter, a plan)."""


class QueryParamIntegerField(serializers.IntegerField):
    """An integer in a query parameter: ASCII digits, optionally after ``-``, nothing else.

    DRF's ``IntegerField`` goes through ``int()``, which also takes other scripts' digits
    (``١٢``), ``1_000``, surrounding spaces and ``12.0``; the query core refuses all of them in a
    definition, so the API refuses them here too (400 ``invalid_value``).
    """

    _TEXT = re.compile(r"-?[0-9]+\Z")  # [0-9], not \d: ASCII only

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not self._TEXT.match(data):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value


class JSONIntegerField(serializers.IntegerField):
    """An integer in a JSON body: a JSON integer, as the query core requires for its own
    ``limit``/``offset`` (no ``true``, ``12.0``, ``"12"``)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value


class JSONBooleanField(serializers.BooleanField):
    """A boolean in a JSON body: ``true`` or ``false`` only. DRF's ``BooleanField`` also takes
    ``"yes"``, ``"on"``, ``1``, ``"0"`` and more; a flag that changes what runs (``bypass_cache``,
    ``analyze``) should not be guessed from a string."""

    default_error_messages = {"invalid": "Must be a JSON boolean: true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if data is not True and data is not False:
            self.fail("invalid")
        return bool(data)


class QueryDefinitionSerializer(serializers.Serializer[Any]):
    """Docs only: the query definition (SPEC section 3); see :mod:`prismiq_django.api.openapi`."""


class QueryResultSerializer(serializers.Serializer[Any]):
    """Docs only: the query result (SPEC section 4); see :mod:`prismiq_django.api.openapi`."""


# --- request envelopes ---------------------------------------------------------------------------


#: The furthest a page may start (rows before it); the definition's own offset adds to it.
MAX_PAGE_START = 2**61


class PagingSerializer(serializers.Serializer[Any]):
    """``page``, ``page_size`` and ``count_total`` of an execute body (SPEC section 11)."""

    page = JSONIntegerField(
        min_value=1,
        required=False,
        help_text="Page to return, from 1, of the whole result in a stable order (the output "
        "columns are appended to the order as tie-breakers). The result adds page, page_size "
        "and has_next.",
    )
    page_size = JSONIntegerField(
        min_value=1,
        required=False,
        help_text=f"Rows per page (default {DEFAULT_PAGE_SIZE}); above MAX_PAGE_SIZE (default "
        "5000) the request is refused. Alone it means page 1.",
    )
    count_total = JSONBooleanField(
        default=False,
        help_text="Add total_rows: the rows of the whole result, counted by the database in "
        "the same read-only transaction.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        page, size = attrs.get("page"), attrs.get("page_size", DEFAULT_PAGE_SIZE)
        if page is not None and (page - 1) * size > MAX_PAGE_START:
            raise serializers.ValidationError({"page": "The page starts beyond the last row."})
        return attrs

    def validate_page_size(self, value: int) -> int:
        largest = max_page_size()
        if value > largest:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {largest}."
            )
        return value


_PAGING_KEYS: frozenset[str] = frozenset({"page", "page_size", "count_total"})


def paging_options(data: object) -> Paging | None:
    """The :class:`~prismiq_django.services.paging.Paging` of an execute body (None when it asks
    for neither a page nor a count); raises ``ValidationError`` for bad values."""
    if not isinstance(data, dict) or not data.keys() & _PAGING_KEYS:
        return None
    options = PagingSerializer(data=data)
    options.is_valid(raise_exception=True)
    values = options.validated_data
    page = values.get("page")
    size = values.get("page_size")
    if page is None and size is not None:
        page = 1
    if page is None and not values["count_total"]:
        return None
    return Paging(page=page, page_size=size or DEFAULT_PAGE_SIZE, count_total=values["count_total"])


class ExecuteRequestSerializer(PagingSerializer):
    """``POST query/execute``: ``{query, bypass_cache?: false, page?, page_size?,
    count_total?: false}``."""

    query = QueryDefinitionField(help_text="The query definition.")
    bypass_cache = JSONBooleanField(
        default=False, help_text="Run on the database even when a cached result exists."
    )


_EXECUTE_KEYS: frozenset[str] = frozenset({"query", "bypass_cache"})


def execute_envelope(data: object) -> tuple[object, bool]:
    """``(query, bypass_cache)`` of a ``query/execute`` body, as :class:`ExecuteRequestSerializer`
    validates it; raises its ``ValidationError`` for a bad envelope.

    The plain shape clients send (an object with a non-null ``query``, a JSON boolean or no
    ``bypass_cache``, nothing else) is read directly: a DRF serializer deep-copies its fields on
    every instantiation, which cost about a tenth of a millisecond per cache hit. Any other body
    goes through the serializer, so answers and error messages are the serializer's
    (``tests/api/test_envelopes.py`` compares the two on generated bodies).
    """
    if type(data) is dict and data.keys() <= _EXECUTE_KEYS and data.get("query") is not None:
        flag = data.get("bypass_cache", False)
        if flag is True or flag is False:
            return data["query"], flag
    envelope = ExecuteRequestSerializer(data=data)
    envelope.is_valid(raise_exception=True)
    return envelope.validated_data["query"], envelope.validated_data["bypass_cache"]


class PreviewParamsSerializer(serializers.Serializer[Any]):
    """``?limit=`` of ``POST query/preview`` (the body's ``limit`` wins when both are given)."""

    limit = QueryParamIntegerField(
        min_value=0, default=100, help_text="Rows to return (capped at MAX_ROWS); ASCII digits."
    )


class PreviewRequestSerializer(PreviewParamsSerializer):
    """``POST query/preview``: ``{query, limit?: 100}``."""

    query = QueryDefinitionField(help_text="The query definition.")
    limit = JSONIntegerField(  # type: ignore[assignment]  # the body's limit: a JSON integer
        min_value=0, default=100, help_text="Rows to return (capped at MAX_ROWS)."
    )


class ExplainRequestSerializer(serializers.Serializer[Any]):
    """``POST query/explain``: ``{query, analyze?: false}``."""

    query = QueryDefinitionField(help_text="The query definition.")
    analyze = JSONBooleanField(
        default=False, help_text="Run the statement to report actual timings (PostgreSQL)."
    )


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"filter_id": {"type": "string"}, "value": ANY_VALUE_SCHEMA},
            "required": ["filter_id"],
        },
    }
)
class FilterValuesField(serializers.JSONField):
    """``[{filter_id, value}]`` as sent: the filter merge checks it (paths
    ``/filter_values/<i>/...``)."""

    def to_internal_value(self, data: Any) -> Any:
        return data


class SavedQueryExecuteSerializer(PagingSerializer):
    """``POST saved-queries/{id}/execute``: ``{bypass_cache?: false, page?, page_size?,
    count_total?: false, filter_values?: [{filter_id, value}]}``."""

    bypass_cache = JSONBooleanField(default=False)
    filter_values = FilterValuesField(
        required=False,
        help_text="Values of the filters the saved query declares (its 'filters'), merged "
        "exactly like dashboard filters; null switches one off, a missing one takes its default.",
    )


class ExportRequestSerializer(serializers.Serializer[Any]):
    """``POST query/export``: ``{query, format: "csv"|"xlsx", filename?}``."""

    query = QueryDefinitionField(help_text="The query definition.")
    format = serializers.ChoiceField(choices=["csv", "xlsx"], help_text="The file format.")
    filename = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Name of the downloaded file (made safe: ASCII letters, digits, . _ - and "
        "spaces; the extension is added).",
    )


class ExportParamsSerializer(serializers.Serializer[Any]):
    """``?format=`` of ``GET saved-queries/{id}/export``."""

    format = serializers.ChoiceField(
        choices=["csv", "xlsx"], default="csv", help_text="The file format (default csv)."
    )


class ColumnValuesParamsSerializer(serializers.Serializer[Any]):
    """Query parameters of ``GET tables/{name}/columns/{column}/values``."""

    limit = QueryParamIntegerField(
        min_value=1, max_value=services.MAX_COLUMN_VALUES, default=100, help_text="ASCII digits."
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Case-insensitive substring the values must contain.",
    )


__all__ = [
    "ANY_VALUE_SCHEMA",
    "AnyValueField",
    "ColumnValuesParamsSerializer",
    "ExecuteRequestSerializer",
    "ExplainRequestSerializer",
    "ExportParamsSerializer",
    "ExportRequestSerializer",
    "JSONBooleanField",
    "JSONIntegerField",
    "PagingSerializer",
    "PreviewParamsSerializer",
    "PreviewRequestSerializer",
    "QueryDefinitionField",
    "QueryDefinitionSerializer",
    "QueryParamIntegerField",
    "QueryResultSerializer",
    "SavedQueryExecuteSerializer",
    "execute_envelope",
    "paging_options",
]
