"""OpenAPI description of the query definition and the query result (drf-spectacular).

The definition is validated by the query core, not by DRF serializers (the core reports every
problem with a code and a JSON-pointer path), so the HTTP layer accepts it as plain JSON. This
module gives that JSON a complete schema anyway: drf-spectacular extensions map the docs-only
serializers :class:`~prismiq_django.api.serializers.QueryDefinitionSerializer`,
:class:`~prismiq_django.api.serializers.QueryResultSerializer` and the field
:class:`~prismiq_django.api.serializers.QueryDefinitionField` to named components
(``QueryDefinition``,
``FilterNode`` ... ``QueryResult``) registered in the generator's component registry, so they appear
in any drf-spectacular document that includes these endpoints (the app's own ``openapi`` view or a
site-wide one). Examples use the demo shop schema of the example project.

The extensions live in :mod:`~prismiq_django.api.openapi.extensions`, registered from
:meth:`prismiq_django.apps.PrismiqConfig.ready`.
"""

from __future__ import annotations

from typing import Any, Final

from prismiq_django.query.catalog import LOGICAL_TYPES

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


__all__ = [
    "AGGREGATIONS",
    "DATE_TRUNCS",
    "DEFINITION_COMPONENTS",
    "DIRECTIONS",
    "JOIN_TYPES",
    "LOGICAL_TYPE_SCHEMA",
    "OPERATORS",
    "PRESETS",
    "QUERY_DEFINITION_SCHEMA",
    "QUERY_RESULT_SCHEMA",
    "RELATIVE_UNITS",
    "Schema",
]
