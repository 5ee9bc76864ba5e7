"""OpenAPI description of the query definition and the query result (drf-spectacular).

The definition is validated by the query core, not by DRF serializers (the core reports every
problem with a code and a JSON-pointer path), so the HTTP layer accepts it as plain JSON. This
module gives that JSON a complete schema anyway: drf-spectacular extensions map the docs-only
serializers :class:`~prismiq_django.serializers.QueryDefinitionSerializer`,
:class:`~prismiq_django.serializers.QueryResultSerializer` and the field
:class:`~prismiq_django.serializers.QueryDefinitionField` to named components (``QueryDefinition``,
``FilterNode`` ... ``QueryResult``) registered in the generator's component registry, so they appear
in any drf-spectacular document that includes these endpoints (the app's own ``openapi`` view or a
site-wide one). Examples use the demo shop schema of the example project.

Importing this module registers the extensions; :mod:`prismiq_django.serializers` does so.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Final

from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
    OpenApiViewExtension,
)
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema

from prismiq_django.query.catalog import LOGICAL_TYPES

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.utils import Direction

Schema = dict[str, Any]

AGGREGATIONS: Final = ["none", "sum", "avg", "count", "count_distinct", "min", "max"]
DATE_TRUNCS: Final = ["minute", "hour", "day", "week", "month", "quarter", "year"]
JOIN_TYPES: Final = ["INNER", "LEFT", "RIGHT", "FULL"]
DIRECTIONS: Final = ["ASC", "DESC"]
OPERATORS: Final = [
    "eq", "neq", "gt", "gte", "lt", "lte", "in_", "in", "not_in", "in_or_null",
    "like", "ilike", "not_like", "not_ilike", "contains", "starts_with", "ends_with",
    "between", "is_null", "is_not_null", "date_relative",
]  # fmt: skip
PRESETS: Final = [
    "today", "yesterday", "last_7_days", "last_30_days", "this_week", "last_week", "this_month",
    "last_month", "this_quarter", "last_quarter", "this_year", "last_year",
]  # fmt: skip
RELATIVE_UNITS: Final = ["day", "week", "month", "quarter", "year"]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _str(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def _aggregation(description: str) -> Schema:
    return {"type": "string", "enum": AGGREGATIONS, "description": description}


_SCALAR: Final[list[Schema]] = [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]

#: Every component of the query definition, by name (OpenAPI 3.0 schema objects).
DEFINITION_COMPONENTS: Final[dict[str, Schema]] = {
    "DateTrunc": {
        "type": "string",
        "enum": DATE_TRUNCS,
        "description": "A time unit (closed vocabulary; never pasted into SQL).",
    },
    "TableRef": {
        "type": "object",
        "description": "A table of the query. `id` is the caller's handle used everywhere else.",
        "properties": {
            "id": _str("Caller-chosen handle, unique in the query.", example="o"),
            "name": _str("An exposed table name (see `GET tables`).", example="shop_order"),
            "alias": _str("Optional display alias."),
        },
        "required": ["id", "name"],
    },
    "Join": {
        "type": "object",
        "description": "Join two tables of the query on one column each.",
        "properties": {
            "from_table_id": _str("Id of a table in `tables`."),
            "from_column": _str("Column of that table."),
            "to_table_id": _str("Id of a table in `tables`."),
            "to_column": _str("Column of that table."),
            "join_type": {"type": "string", "enum": JOIN_TYPES, "default": "INNER"},
        },
        "required": ["from_table_id", "from_column", "to_table_id", "to_column"],
    },
    "ColumnSpec": {
        "type": "object",
        "description": (
            'An output column. `column: "*"` is allowed only with `aggregation: "count"`. '
            "The output column is named `alias` when given, else the column name."
        ),
        "properties": {
            "table_id": _str("Id of a table in `tables`."),
            "column": _str("Column name, or `*` with `count`."),
            "aggregation": _aggregation("Aggregate function; `none` (default) selects the value."),
            "alias": _str("Output column name."),
            "date_trunc": {
                "allOf": [_ref("DateTrunc")],
                "description": "Truncate a date/timestamp column to this unit.",
            },
        },
        "required": ["table_id", "column"],
    },
    "DateRelative": {
        "description": (
            "A date range relative to now, resolved on the server to a half-open range "
            "`[start, end)` in the site's time zone."
        ),
        "oneOf": [
            {
                "type": "object",
                "properties": {"preset": {"type": "string", "enum": PRESETS}},
                "required": ["preset"],
            },
            {
                "type": "object",
                "properties": {
                    "last": {"type": "integer", "minimum": 1},
                    "unit": {"type": "string", "enum": RELATIVE_UNITS},
                },
                "required": ["last", "unit"],
            },
        ],
    },
    "FilterValue": {
        "description": (
            "Depends on `operator`: a scalar for comparisons and text matches (null with "
            "`eq`/`neq` means IS [NOT] NULL); a list for `in_`/`not_in`/`in_or_null`; "
            "`[low, high]` for `between`; a DateRelative for `date_relative`; ignored by "
            "`is_null`/`is_not_null`. Dates and timestamps are ISO 8601 strings."
        ),
        "nullable": True,
        "oneOf": [
            *_SCALAR,
            {"type": "array", "items": {"nullable": True, "oneOf": _SCALAR}},
            _ref("DateRelative"),
        ],
    },
    "Filter": {
        "type": "object",
        "description": "One condition. With `aggregation` it applies to the aggregate (HAVING).",
        "properties": {
            "table_id": _str("Id of a table in `tables`."),
            "column": _str("Column name."),
            "operator": {"type": "string", "enum": OPERATORS},
            "value": _ref("FilterValue"),
            "aggregation": _aggregation("Filter on this aggregate of the column (HAVING)."),
        },
        "required": ["table_id", "column", "operator"],
    },
    "FilterAll": {
        "type": "object",
        "description": "True when every node is true (AND).",
        "properties": {"all": {"type": "array", "items": _ref("FilterNode")}},
        "required": ["all"],
    },
    "FilterAny": {
        "type": "object",
        "description": "True when at least one node is true (OR).",
        "properties": {"any": {"type": "array", "items": _ref("FilterNode")}},
        "required": ["any"],
    },
    "FilterNot": {
        "type": "object",
        "description": "Negation of one node.",
        "properties": {"not": _ref("FilterNode")},
        "required": ["not"],
    },
    "FilterNode": {
        "description": "A condition or a group of conditions (nesting depth is limited).",
        "oneOf": [_ref("Filter"), _ref("FilterAll"), _ref("FilterAny"), _ref("FilterNot")],
    },
    "GroupBy": {
        "type": "object",
        "properties": {"table_id": _str("Id of a table."), "column": _str("Column name.")},
        "required": ["table_id", "column"],
    },
    "OrderBy": {
        "description": (
            "Sort by a column (by its aggregate when `aggregation` is set; by the truncated value "
            "when the column is selected with `date_trunc`), or by an output alias."
        ),
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "table_id": _str("Id of a table."),
                    "column": _str("Column name."),
                    "aggregation": _aggregation("Sort by this aggregate of the column."),
                    "direction": {"type": "string", "enum": DIRECTIONS, "default": "ASC"},
                },
                "required": ["table_id", "column"],
            },
            {
                "type": "object",
                "properties": {
                    "alias": _str("An output column alias."),
                    "direction": {"type": "string", "enum": DIRECTIONS, "default": "ASC"},
                },
                "required": ["alias"],
            },
        ],
    },
    "TimeSeries": {
        "type": "object",
        "description": "Adds a time-bucket column first; it is grouped and ordered by.",
        "properties": {
            "table_id": _str("Id of a table."),
            "date_column": _str("A date or timestamp column."),
            "interval": _ref("DateTrunc"),
            "alias": _str("Output name of the bucket column."),
        },
        "required": ["table_id", "date_column", "interval"],
    },
}

QUERY_DEFINITION_SCHEMA: Final[Schema] = {
    "type": "object",
    "description": (
        "A query over the exposed tables. Unknown keys are ignored; no field carries SQL. "
        "Names are checked against the exposed schema; problems are reported with a code and "
        "a JSON pointer."
    ),
    "properties": {
        "tables": {"type": "array", "minItems": 1, "items": _ref("TableRef")},
        "joins": {"type": "array", "items": _ref("Join")},
        "columns": {"type": "array", "minItems": 1, "items": _ref("ColumnSpec")},
        "filters": {
            "type": "array",
            "description": "Top-level nodes are combined with AND.",
            "items": _ref("FilterNode"),
        },
        "group_by": {
            "type": "array",
            "description": "Empty with any aggregation: derived from the non-aggregated columns.",
            "items": _ref("GroupBy"),
        },
        "order_by": {"type": "array", "items": _ref("OrderBy")},
        "limit": {
            "type": "integer",
            "minimum": 0,
            "description": "Row limit; missing or above MAX_ROWS means MAX_ROWS.",
        },
        "offset": {"type": "integer", "minimum": 0},
        "time_series": _ref("TimeSeries"),
    },
    "required": ["tables", "columns"],
}

_CELL: Final[Schema] = {
    "description": (
        "A value: decimals as numbers, dates/times as ISO 8601 strings, uuids as strings, json "
        "as JSON, bytes as base64, intervals as seconds."
    ),
    "nullable": True,
    "oneOf": [
        *_SCALAR,
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {}},
    ],
}

QUERY_RESULT_SCHEMA: Final[Schema] = {
    "type": "object",
    "description": "Typed rows of one query.",
    "properties": {
        "columns": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Output column names, filled even when there are no rows.",
        },
        "column_types": {
            "type": "array",
            "items": _ref("LogicalType"),
            "description": "Logical type of each column, from the database's result description.",
        },
        "rows": {"type": "array", "items": {"type": "array", "items": _CELL}},
        "row_count": {"type": "integer", "minimum": 0},
        "truncated": {
            "type": "boolean",
            "description": "More rows existed than were returned (limit or MAX_ROWS).",
        },
        "execution_time_ms": {"type": "number", "minimum": 0},
        "is_from_cache": {"type": "boolean"},
        "cached_at": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "When the cached result was computed; null when not from the cache.",
        },
    },
    "required": [
        "columns", "column_types", "rows", "row_count", "truncated", "execution_time_ms",
        "is_from_cache", "cached_at",
    ],
}  # fmt: skip

LOGICAL_TYPE_SCHEMA: Final[Schema] = {
    "type": "string",
    "enum": sorted(LOGICAL_TYPES),
    "description": "Logical type of a column or result column.",
}

#: The full example of the README: join, aggregate, filter, time bucket, order by an aggregate.
EXAMPLE_DEFINITION: Final[dict[str, Any]] = {
    "tables": [
        {"id": "o", "name": "shop_order"},
        {"id": "c", "name": "shop_customer"},
    ],
    "joins": [
        {
            "from_table_id": "o",
            "from_column": "customer_id",
            "to_table_id": "c",
            "to_column": "id",
            "join_type": "INNER",
        }
    ],
    "columns": [
        {"table_id": "c", "column": "country"},
        {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"},
        {"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"},
    ],
    "filters": [
        {"table_id": "o", "column": "status", "operator": "in_", "value": ["paid", "shipped"]},
        {
            "any": [
                {"table_id": "c", "column": "is_active", "operator": "eq", "value": True},
                {"table_id": "o", "column": "total", "operator": "gte", "value": 100},
            ]
        },
    ],
    "time_series": {
        "table_id": "o",
        "date_column": "ordered_at",
        "interval": "month",
        "alias": "month",
    },
    "order_by": [{"alias": "revenue", "direction": "DESC"}],
    "limit": 100,
}

EXAMPLE_RESULT: Final[dict[str, Any]] = {
    "columns": ["month", "country", "revenue", "orders"],
    "column_types": ["datetime", "string", "decimal", "integer"],
    "rows": [
        ["2024-01-01T00:00:00+00:00", "DE", 1250.5, 9],
        ["2024-01-01T00:00:00+00:00", "FR", 980.0, 7],
    ],
    "row_count": 2,
    "truncated": False,
    "execution_time_ms": 3.2,
    "is_from_cache": False,
    "cached_at": None,
}

DEFINITION_EXAMPLES: Final = [
    OpenApiExample(
        "Revenue per month and country",
        summary="Join, aggregate, filter group, time bucket, order by an aggregate",
        value=EXAMPLE_DEFINITION,
        request_only=True,
    ),
    OpenApiExample(
        "Latest orders",
        summary="Plain columns with a relative date filter",
        value={
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "id"},
                {"table_id": "o", "column": "status"},
                {"table_id": "o", "column": "ordered_at"},
            ],
            "filters": [
                {
                    "table_id": "o",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"preset": "last_30_days"},
                }
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "DESC"}],
            "limit": 20,
        },
        request_only=True,
    ),
]

RESULT_EXAMPLES: Final = [
    OpenApiExample("Result", value=EXAMPLE_RESULT, response_only=True, status_codes=["200"]),
]

VALIDATION_ERROR_EXAMPLE: Final = OpenApiExample(
    "Invalid query",
    value={
        "detail": "Query validation failed",
        "errors": [
            {
                "code": "column_not_found",
                "message": "Column 'totl' not found in table 'shop_order'. Did you mean 'total'?",
                "path": "/columns/1/column",
            }
        ],
    },
    response_only=True,
    status_codes=["400"],
)


def _register(auto_schema: AutoSchema, name: str, schema: Schema) -> Schema:
    # drf-spectacular's post-processing edits component schemas in place: hand it a copy.
    component = ResolvedComponent(  # type: ignore[no-untyped-call]
        name=name, type=ResolvedComponent.SCHEMA, object=name, schema=copy.deepcopy(schema)
    )
    auto_schema.registry.register_on_missing(component)
    return component.ref


def register_definition_components(auto_schema: AutoSchema) -> None:
    """Add every sub-component of ``QueryDefinition`` to the generator's registry."""
    for name, schema in DEFINITION_COMPONENTS.items():
        _register(auto_schema, name, schema)


class QueryDefinitionSerializerExtension(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """``QueryDefinitionSerializer`` (docs only) -> the ``QueryDefinition`` component."""

    target_class = "prismiq_django.serializers.QueryDefinitionSerializer"

    def get_name(self, auto_schema: AutoSchema, direction: Direction) -> str | None:
        return "QueryDefinition"

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> Schema:
        register_definition_components(auto_schema)
        return copy.deepcopy(QUERY_DEFINITION_SCHEMA)


class QueryResultSerializerExtension(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """``QueryResultSerializer`` (docs only) -> the ``QueryResult`` component."""

    target_class = "prismiq_django.serializers.QueryResultSerializer"

    def get_name(self, auto_schema: AutoSchema, direction: Direction) -> str | None:
        return "QueryResult"

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> Schema:
        _register(auto_schema, "LogicalType", LOGICAL_TYPE_SCHEMA)
        return copy.deepcopy(QUERY_RESULT_SCHEMA)


class QueryDefinitionFieldExtension(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """``QueryDefinitionField`` (a JSON field) -> a reference to ``QueryDefinition``."""

    target_class = "prismiq_django.serializers.QueryDefinitionField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Direction) -> Schema:
        from prismiq_django.serializers import QueryDefinitionSerializer

        component = auto_schema.resolve_serializer(QueryDefinitionSerializer, direction)
        return component.ref


# --- operations endpoints (views of prismiq_django.health / .metrics, documented from here) ----

_CHECK: Final[Schema] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["up", "down"]},
        "latency_ms": {"type": "number"},
    },
    "required": ["status", "latency_ms"],
}
_HEALTH: Final[Schema] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
        "version": {"type": "string"},
        "uptime_seconds": {"type": "number"},
        "checks": {
            "type": "object",
            "properties": {"database": _CHECK, "cache": _CHECK},
            "required": ["database", "cache"],
        },
    },
    "required": ["status", "version", "uptime_seconds", "checks"],
}


def _status_body(*values: str) -> Schema:
    return {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": list(values)}},
        "required": ["status"],
    }


_OPERATIONS_DOCS: Final[dict[str, Any]] = {
    "prismiq_django.health.LiveView": extend_schema(
        tags=["operations"],
        auth=[],
        responses={200: OpenApiResponse(_status_body("ok"), "The process answers.")},
    ),
    "prismiq_django.health.ReadyView": extend_schema(
        tags=["operations"],
        auth=[],
        responses={
            200: OpenApiResponse(_status_body("ready"), "The analytics database answers."),
            503: OpenApiResponse(_status_body("unavailable"), "It does not."),
        },
    ),
    "prismiq_django.health.HealthView": extend_schema(
        tags=["operations"],
        responses={
            200: OpenApiResponse(_HEALTH, "Healthy or degraded (cache down)."),
            503: OpenApiResponse(_HEALTH, "Unhealthy (database down)."),
        },
    ),
    "prismiq_django.metrics.MetricsView": extend_schema(
        tags=["operations"],
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, "Prometheus text format (METRICS_PERMISSION_CLASSES apply)."
            ),
            403: OpenApiResponse(
                {"type": "object", "properties": {"detail": {"type": "string"}}},
                "Not permitted by METRICS_PERMISSION_CLASSES.",
            ),
        },
    ),
}


class _OperationsViewDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    """Document an operations view (health, metrics) without changing its module."""

    def view_replacement(self) -> Any:
        documented = type(self.target.__name__, (self.target,), {"schema": SpectacularAutoSchema()})
        key = f"{self.target.__module__}.{self.target.__name__}"
        # Decorating the class (not its method) bases the extended inspector on the class's own
        # drf-spectacular AutoSchema, whatever the site's DEFAULT_SCHEMA_CLASS is.
        return _OPERATIONS_DOCS[key](documented)


class LiveViewDocs(_OperationsViewDocs):  # type: ignore[no-untyped-call]
    target_class = "prismiq_django.health.LiveView"


class ReadyViewDocs(_OperationsViewDocs):  # type: ignore[no-untyped-call]
    target_class = "prismiq_django.health.ReadyView"


class HealthViewDocs(_OperationsViewDocs):  # type: ignore[no-untyped-call]
    target_class = "prismiq_django.health.HealthView"


class MetricsViewDocs(_OperationsViewDocs):  # type: ignore[no-untyped-call]
    target_class = "prismiq_django.metrics.MetricsView"


__all__ = [
    "DEFINITION_COMPONENTS",
    "DEFINITION_EXAMPLES",
    "EXAMPLE_DEFINITION",
    "EXAMPLE_RESULT",
    "QUERY_DEFINITION_SCHEMA",
    "QUERY_RESULT_SCHEMA",
    "RESULT_EXAMPLES",
    "VALIDATION_ERROR_EXAMPLE",
    "QueryDefinitionFieldExtension",
    "QueryDefinitionSerializerExtension",
    "QueryResultSerializerExtension",
]
