"""Examples of the OpenAPI document (the demo shop schema of the example project)."""

from __future__ import annotations

from typing import Any, Final

from drf_spectacular.utils import OpenApiExample

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

#: Request bodies of the endpoints that take ``{"query": <definition>, ...}`` (``query/execute``,
#: ``preview``, ``explain``): what Swagger UI's "Try it out" sends, instead of a
#: body generated from the schema that no catalog holds ("string" tables and columns).
ENVELOPE_EXAMPLES: Final = [
    OpenApiExample(
        example.name,
        summary=example.summary,
        value={"query": example.value},
        request_only=True,
    )
    for example in DEFINITION_EXAMPLES
]

#: ``query/export``: the envelope with its required ``format``.
EXPORT_EXAMPLES: Final = [
    OpenApiExample(
        example.name,
        summary=f"{example.summary}, as CSV",
        value={"query": example.value, "format": "csv"},
        request_only=True,
    )
    for example in DEFINITION_EXAMPLES
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


__all__ = [
    "DEFINITION_EXAMPLES",
    "ENVELOPE_EXAMPLES",
    "EXAMPLE_DEFINITION",
    "EXAMPLE_RESULT",
    "EXPORT_EXAMPLES",
    "RESULT_EXAMPLES",
    "VALIDATION_ERROR_EXAMPLE",
]
