"""Docs-only serializers of the responses (drf-spectacular reads them; views return the services'
dicts directly, with no per-row serializer cost).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from prismiq_django.api.serializers.queries import AnyValueField
from prismiq_django.query.catalog import LOGICAL_TYPES
from prismiq_django.query.errors import ERROR_CODES


class ErrorItemSerializer(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=sorted(ERROR_CODES))
    message = serializers.CharField()
    path = serializers.CharField(help_text="JSON pointer into the request, e.g. /columns/2/column.")


class ValidationErrorResponseSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text='"Query validation failed" or "Invalid request".')
    errors = ErrorItemSerializer(many=True)  # type: ignore[assignment]  # a field, not .errors


class ErrorResponseSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField(
        required=False, help_text="query_timeout, database_unavailable or server_error."
    )
    request_id = serializers.CharField(required=False, help_text="Present on 500 answers.")


class ValidateResponseSerializer(serializers.Serializer[Any]):
    valid = serializers.BooleanField()
    errors = ErrorItemSerializer(many=True)  # type: ignore[assignment]  # a field, not .errors


class SqlResponseSerializer(serializers.Serializer[Any]):
    sql = serializers.CharField(help_text="The exact statement that would run (%s placeholders).")
    params = serializers.ListField(
        child=AnyValueField(),
        help_text=(
            "Bound parameters, in order. Decimals are JSON numbers written with exactly the "
            "decimal's digits (e.g. 0.10, 12345678901234567.89, 1E+30), never rounded through a "
            "binary float; integers are exact whatever their size. A JSON parser that reads "
            "numbers as doubles may still round them."
        ),
    )


class ExplainResponseSerializer(serializers.Serializer[Any]):
    plan = AnyValueField(help_text="The database's plan; JSON where the vendor gives JSON.")
    analyzed = serializers.BooleanField(
        help_text="Whether the plan is EXPLAIN ANALYZE's (the statement ran): true only when "
        "analyze was asked and the database has it (PostgreSQL; not SQLite)."
    )


class TableColumnSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    data_type = serializers.CharField(help_text="The database's type name.")
    type = serializers.ChoiceField(choices=sorted(LOGICAL_TYPES), help_text="Logical type.")
    is_nullable = serializers.BooleanField()
    is_primary_key = serializers.BooleanField()
    default_value = serializers.CharField(allow_null=True)
    display_name = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)


class TableSchemaSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    schema_name = serializers.CharField(allow_null=True)
    display_name = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    row_count = serializers.IntegerField(allow_null=True, help_text="Estimate, or null.")
    columns = TableColumnSerializer(many=True)


class RelationshipSerializer(serializers.Serializer[Any]):
    from_table = serializers.CharField()
    from_column = serializers.CharField()
    to_table = serializers.CharField()
    to_column = serializers.CharField()


class SchemaResponseSerializer(serializers.Serializer[Any]):
    tables = TableSchemaSerializer(many=True)
    relationships = RelationshipSerializer(many=True)


class TableListSerializer(serializers.Serializer[Any]):
    tables = serializers.ListField(child=serializers.CharField())


class ColumnValuesSerializer(serializers.Serializer[Any]):
    values = serializers.ListField(child=AnyValueField(), help_text="Distinct, non-null, sorted.")


__all__ = [
    "ColumnValuesSerializer",
    "ErrorItemSerializer",
    "ErrorResponseSerializer",
    "ExplainResponseSerializer",
    "RelationshipSerializer",
    "SchemaResponseSerializer",
    "SqlResponseSerializer",
    "TableColumnSerializer",
    "TableListSerializer",
    "TableSchemaSerializer",
    "ValidateResponseSerializer",
    "ValidationErrorResponseSerializer",
]
