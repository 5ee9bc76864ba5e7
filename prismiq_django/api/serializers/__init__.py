"""Serializers of the HTTP API: request envelopes and parameters (:mod:`.queries`), docs-only
responses (:mod:`.responses`) and saved queries (:mod:`.saved_queries`)."""

from __future__ import annotations

from prismiq_django.api.serializers.queries import (
    ANY_VALUE_SCHEMA,
    AnyValueField,
    ColumnValuesParamsSerializer,
    ExecuteRequestSerializer,
    ExplainRequestSerializer,
    JSONBooleanField,
    JSONIntegerField,
    PreviewParamsSerializer,
    PreviewRequestSerializer,
    QueryDefinitionField,
    QueryDefinitionSerializer,
    QueryParamIntegerField,
    QueryResultSerializer,
    SavedQueryExecuteSerializer,
    execute_envelope,
)
from prismiq_django.api.serializers.responses import (
    ColumnValuesSerializer,
    ErrorItemSerializer,
    ErrorResponseSerializer,
    ExplainResponseSerializer,
    RelationshipSerializer,
    SchemaResponseSerializer,
    SqlResponseSerializer,
    TableColumnSerializer,
    TableListSerializer,
    TableSchemaSerializer,
    ValidateResponseSerializer,
    ValidationErrorResponseSerializer,
)
from prismiq_django.api.serializers.saved_queries import (
    SavedQuerySerializer,
)

__all__ = [
    "ANY_VALUE_SCHEMA",
    "AnyValueField",
    "ColumnValuesParamsSerializer",
    "ColumnValuesSerializer",
    "ErrorItemSerializer",
    "ErrorResponseSerializer",
    "ExecuteRequestSerializer",
    "ExplainRequestSerializer",
    "ExplainResponseSerializer",
    "JSONBooleanField",
    "JSONIntegerField",
    "PreviewParamsSerializer",
    "PreviewRequestSerializer",
    "QueryDefinitionField",
    "QueryDefinitionSerializer",
    "QueryParamIntegerField",
    "QueryResultSerializer",
    "RelationshipSerializer",
    "SavedQueryExecuteSerializer",
    "SavedQuerySerializer",
    "SchemaResponseSerializer",
    "SqlResponseSerializer",
    "TableColumnSerializer",
    "TableListSerializer",
    "TableSchemaSerializer",
    "ValidateResponseSerializer",
    "ValidationErrorResponseSerializer",
    "execute_envelope",
]
