"""drf-spectacular extensions: the docs-only serializers of :mod:`prismiq_django.api.serializers` to
the named components of :mod:`~prismiq_django.api.openapi.components`, and the documentation of
the operations views (health, metrics) without changing their modules.

Imported by :meth:`prismiq_django.apps.PrismiqConfig.ready`, which registers them.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Final

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
    OpenApiViewExtension,
)
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from prismiq_django.api.openapi.components import (
    DEFINITION_COMPONENTS,
    LOGICAL_TYPE_SCHEMA,
    QUERY_DEFINITION_SCHEMA,
    QUERY_RESULT_SCHEMA,
    Schema,
)
from prismiq_django.api.openapi.decorators import extend_schema

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.utils import Direction


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

    target_class = "prismiq_django.api.serializers.queries.QueryDefinitionSerializer"

    def get_name(self, auto_schema: AutoSchema, direction: Direction) -> str | None:
        return "QueryDefinition"

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> Schema:
        register_definition_components(auto_schema)
        return copy.deepcopy(QUERY_DEFINITION_SCHEMA)


class QueryResultSerializerExtension(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """``QueryResultSerializer`` (docs only) -> the ``QueryResult`` component."""

    target_class = "prismiq_django.api.serializers.queries.QueryResultSerializer"

    def get_name(self, auto_schema: AutoSchema, direction: Direction) -> str | None:
        return "QueryResult"

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> Schema:
        _register(auto_schema, "LogicalType", LOGICAL_TYPE_SCHEMA)
        return copy.deepcopy(QUERY_RESULT_SCHEMA)


class WidgetExecuteBodyExtension(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """``WidgetExecuteBodySerializer`` (docs only) -> ``WidgetExecuteBody``: a bare list of
    ``DashboardFilterValue`` or the ``WidgetExecute`` object."""

    target_class = "prismiq_django.api.serializers.dashboards.WidgetExecuteBodySerializer"

    def get_name(self, auto_schema: AutoSchema, direction: Direction) -> str | None:
        return "WidgetExecuteBody"

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> Schema:
        from prismiq_django.api.serializers.dashboards import (
            DashboardFilterValueSerializer,
            WidgetExecuteSerializer,
        )

        value = auto_schema.resolve_serializer(DashboardFilterValueSerializer, direction)
        envelope = auto_schema.resolve_serializer(WidgetExecuteSerializer, direction)
        return {"oneOf": [{"type": "array", "items": value.ref}, envelope.ref]}


class QueryDefinitionFieldExtension(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """``QueryDefinitionField`` (a JSON field) -> a reference to ``QueryDefinition``."""

    target_class = "prismiq_django.api.serializers.queries.QueryDefinitionField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Direction) -> Schema:
        from prismiq_django.api.serializers import QueryDefinitionSerializer

        component = auto_schema.resolve_serializer(QueryDefinitionSerializer, direction)
        return component.ref


# --- operations endpoints (views of prismiq_django.ops.health / .metrics, documented here) ----

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
    "prismiq_django.ops.health.LiveView": extend_schema(
        tags=["operations"],
        auth=[],
        responses={200: OpenApiResponse(_status_body("ok"), "The process answers.")},
    ),
    "prismiq_django.ops.health.ReadyView": extend_schema(
        tags=["operations"],
        auth=[],
        responses={
            200: OpenApiResponse(_status_body("ready"), "The analytics database answers."),
            503: OpenApiResponse(_status_body("unavailable"), "It does not."),
        },
    ),
    "prismiq_django.ops.health.HealthView": extend_schema(
        tags=["operations"],
        responses={
            200: OpenApiResponse(_HEALTH, "Healthy or degraded (cache down)."),
            503: OpenApiResponse(_HEALTH, "Unhealthy (database down)."),
        },
    ),
    "prismiq_django.ops.metrics.MetricsView": extend_schema(
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
    target_class = "prismiq_django.ops.health.LiveView"


class ReadyViewDocs(_OperationsViewDocs):  # type: ignore[no-untyped-call]
    target_class = "prismiq_django.ops.health.ReadyView"


class HealthViewDocs(_OperationsViewDocs):  # type: ignore[no-untyped-call]
    target_class = "prismiq_django.ops.health.HealthView"


class MetricsViewDocs(_OperationsViewDocs):  # type: ignore[no-untyped-call]
    target_class = "prismiq_django.ops.metrics.MetricsView"


class EmbedAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """``Authorization: Embed <token>`` (SPEC section 10) as an API-key security scheme."""

    target_class = "prismiq_django.api.authentication.EmbedAuthentication"
    name = "embedToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "'Embed <token>' from POST dashboards/{id}/embed-tokens: reads and "
            "runs that one dashboard only.",
        }


__all__ = [
    "EmbedAuthenticationScheme",
    "HealthViewDocs",
    "LiveViewDocs",
    "MetricsViewDocs",
    "QueryDefinitionFieldExtension",
    "QueryDefinitionSerializerExtension",
    "QueryResultSerializerExtension",
    "ReadyViewDocs",
    "WidgetExecuteBodyExtension",
    "register_definition_components",
]
