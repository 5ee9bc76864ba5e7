"""OpenAPI description of the query definition and result (drf-spectacular): :mod:`.components`
(schemas), :mod:`.examples`, and :mod:`.extensions` (registered from ``AppConfig.ready()``)."""

from __future__ import annotations

from prismiq_django.api.openapi.components import (
    AGGREGATIONS,
    DATE_TRUNCS,
    DEFINITION_COMPONENTS,
    DIRECTIONS,
    JOIN_TYPES,
    LOGICAL_TYPE_SCHEMA,
    OPERATORS,
    PRESETS,
    QUERY_DEFINITION_SCHEMA,
    QUERY_RESULT_SCHEMA,
    RELATIVE_UNITS,
    Schema,
)
from prismiq_django.api.openapi.examples import (
    DEFINITION_EXAMPLES,
    ENVELOPE_EXAMPLES,
    EXAMPLE_DEFINITION,
    EXAMPLE_RESULT,
    EXPORT_EXAMPLES,
    RESULT_EXAMPLES,
    VALIDATION_ERROR_EXAMPLE,
)

__all__ = [
    "AGGREGATIONS",
    "DATE_TRUNCS",
    "DEFINITION_COMPONENTS",
    "DEFINITION_EXAMPLES",
    "DIRECTIONS",
    "ENVELOPE_EXAMPLES",
    "EXAMPLE_DEFINITION",
    "EXAMPLE_RESULT",
    "EXPORT_EXAMPLES",
    "JOIN_TYPES",
    "LOGICAL_TYPE_SCHEMA",
    "OPERATORS",
    "PRESETS",
    "QUERY_DEFINITION_SCHEMA",
    "QUERY_RESULT_SCHEMA",
    "RELATIVE_UNITS",
    "RESULT_EXAMPLES",
    "VALIDATION_ERROR_EXAMPLE",
    "Schema",
]
