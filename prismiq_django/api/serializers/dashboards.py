"""Dashboards on the wire (SPEC section 9): the rendering of dashboards and widgets, and the
serializers that document every request and answer in the OpenAPI document.

Requests are checked by the services (one 400 with JSON pointers for every problem), so the
request serializers here only describe; the answers are built by :func:`dashboard_wire` and
:func:`widget_wire` (ids and owners as strings, times as ISO 8601).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from prismiq_django.api.serializers.queries import (
    ANY_VALUE_SCHEMA,
    AnyValueField,
    JSONBooleanField,
    QueryDefinitionField,
)
from prismiq_django.models import Dashboard, Widget
from prismiq_django.query.dashboard_shapes import WIDGET_TYPES
from prismiq_django.query.filter_decl import FILTER_TYPES

_TIME = serializers.DateTimeField()


def widget_wire(widget: Widget) -> dict[str, Any]:
    """A widget as the API returns it."""
    return {
        "id": str(widget.pk),
        "type": widget.type,
        "title": widget.title,
        "query": widget.query,
        "saved_query": str(widget.saved_query_id) if widget.saved_query_id is not None else None,
        "position": widget.position,
        "config": widget.config,
        "created_at": _TIME.to_representation(widget.created_at),
        "updated_at": _TIME.to_representation(widget.updated_at),
    }


def dashboard_wire(dashboard: Dashboard) -> dict[str, Any]:
    """A dashboard with its widgets (prefetched: no query per widget) and filters."""
    return {
        "id": str(dashboard.pk),
        "name": dashboard.name,
        "description": dashboard.description,
        "layout": dashboard.layout,
        "widgets": [widget_wire(w) for w in dashboard.widgets.all()],
        "filters": dashboard.filters,
        "owner": str(dashboard.owner_id),
        "is_public": dashboard.is_public,
        "created_at": _TIME.to_representation(dashboard.created_at),
        "updated_at": _TIME.to_representation(dashboard.updated_at),
    }


# A pattern, not an enum: drf-spectacular would name the shared "type" enums by a hash.
@extend_schema_field(
    {"type": "string", "pattern": f"^({'|'.join(WIDGET_TYPES)})$", "description": "Widget type."}
)
class WidgetTypeField(serializers.ChoiceField):
    """A widget type (documented inline: no shared enum component to collide with)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=list(WIDGET_TYPES), **kwargs)


@extend_schema_field(
    {"type": "string", "pattern": f"^({'|'.join(FILTER_TYPES)})$", "description": "Filter type."}
)
class FilterTypeField(serializers.ChoiceField):
    """A dashboard filter type."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=list(FILTER_TYPES), **kwargs)


class LayoutSerializer(serializers.Serializer[Any]):
    columns = serializers.IntegerField(min_value=1, max_value=48, default=12)
    row_height = serializers.IntegerField(min_value=1, max_value=1000, default=50)
    margin = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=100),
        min_length=2,
        max_length=2,
        default=[10, 10],  # the documented default: the API completes a layout without margin
    )


class PositionSerializer(serializers.Serializer[Any]):
    x = serializers.IntegerField(min_value=0)
    y = serializers.IntegerField(min_value=0)
    w = serializers.IntegerField(min_value=1, help_text="x + w <= layout.columns")
    h = serializers.IntegerField(min_value=1)


class LayoutItemSerializer(PositionSerializer):
    id = serializers.CharField(help_text="A widget of this dashboard.")


@extend_schema_field({"type": "object", "additionalProperties": True})
class ConfigField(serializers.JSONField):
    """The widget's drawing options: a JSON object of at most 16 KB."""


class WidgetInputSerializer(serializers.Serializer[Any]):
    """A widget as sent: at most one of ``query`` / ``saved_query``; ``text`` needs neither."""

    type = WidgetTypeField()
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    query = QueryDefinitionField(required=False, allow_null=True)
    saved_query = serializers.CharField(required=False, allow_null=True)
    position = PositionSerializer()
    config = ConfigField(required=False)


class WidgetPatchSerializer(WidgetInputSerializer):
    """The fields of a widget to change; the whole widget is checked again."""

    type = WidgetTypeField(required=False)
    position = PositionSerializer(required=False)


class DashboardWidgetItemSerializer(WidgetInputSerializer):
    """A widget in a dashboard body; in a PATCH, ``id`` keeps an existing widget."""

    id = serializers.CharField(required=False)


class WidgetSerializer(WidgetInputSerializer):
    id = serializers.CharField()
    title = serializers.CharField()
    query = QueryDefinitionField(allow_null=True)
    saved_query = serializers.CharField(allow_null=True)
    config = ConfigField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DashboardFilterOptionSerializer(serializers.Serializer[Any]):
    value = AnyValueField()
    label = serializers.CharField(required=False)  # type: ignore[assignment]


class DashboardFilterSerializer(serializers.Serializer[Any]):
    """A dashboard filter; widgets' queries get it merged in on the server."""

    id = serializers.RegexField(r"^[A-Za-z0-9_-]{1,64}$", help_text="Unique in the dashboard.")
    type = FilterTypeField()
    label = serializers.CharField(required=False, allow_blank=True)  # type: ignore[assignment]
    field = serializers.CharField(help_text="Column name.")
    table = serializers.CharField(required=False, allow_null=True, help_text="Exposed table.")
    default_value = AnyValueField(required=False, allow_null=True)
    date_preset = serializers.CharField(required=False, allow_null=True)
    options = DashboardFilterOptionSerializer(many=True, required=False)


class DashboardInputSerializer(serializers.Serializer[Any]):
    """A new dashboard, with its widgets and filters inline."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    layout = LayoutSerializer(required=False)
    widgets = DashboardWidgetItemSerializer(many=True, required=False)
    filters = DashboardFilterSerializer(many=True, required=False)
    is_public = JSONBooleanField(required=False)


class DashboardPatchSerializer(DashboardInputSerializer):
    """The fields to change; ``widgets`` replaces the list (items with an ``id`` keep it)."""

    name = serializers.CharField(max_length=200, required=False)


class DashboardSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    layout = LayoutSerializer()
    widgets = WidgetSerializer(many=True)
    filters = DashboardFilterSerializer(many=True)
    owner = serializers.CharField()
    is_public = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ExportWidgetSerializer(serializers.Serializer[Any]):
    type = WidgetTypeField()
    title = serializers.CharField(allow_blank=True)
    query = QueryDefinitionField(allow_null=True)
    position = PositionSerializer()
    config = ConfigField()


class DashboardExportSerializer(serializers.Serializer[Any]):
    """A dashboard without ids or owners (filter ids are kept: widgets refer to them)."""

    version = serializers.CharField(help_text='"1"')
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    layout = LayoutSerializer()
    filters = DashboardFilterSerializer(many=True)
    widgets = ExportWidgetSerializer(many=True)


class DashboardImportSerializer(serializers.Serializer[Any]):
    export_data = DashboardExportSerializer()
    name_override = serializers.CharField(required=False, allow_null=True)


class DashboardFilterValueSerializer(serializers.Serializer[Any]):
    filter_id = serializers.CharField()
    value = AnyValueField(allow_null=True)


class DashboardExecuteSerializer(serializers.Serializer[Any]):
    filter_values = DashboardFilterValueSerializer(many=True, required=False)
    widget_ids = serializers.ListField(child=serializers.CharField(), required=False)
    bypass_cache = JSONBooleanField(required=False, default=False)


class WidgetExecuteSerializer(serializers.Serializer[Any]):
    filter_values = DashboardFilterValueSerializer(many=True, required=False)
    bypass_cache = JSONBooleanField(required=False, default=False)


class WidgetExecuteBodySerializer(serializers.Serializer[Any]):
    """Docs only: the body of ``POST dashboards/{id}/widgets/{wid}/execute``, SPEC section 9's
    bare ``[{filter_id, value}]`` or a :class:`WidgetExecuteSerializer` object (the
    ``WidgetExecuteBody`` component, a ``oneOf`` of both: see ``api.openapi.extensions``)."""


class WidgetExportSerializer(serializers.Serializer[Any]):
    """``POST dashboards/{id}/widgets/{wid}/export``: ``{format?, filename?, filter_values?}``."""

    format = serializers.ChoiceField(
        choices=["csv", "xlsx"], default="csv", help_text="The file format (default csv)."
    )
    filename = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Name of the downloaded file (made safe; the extension is added); "
        "default: the widget's title.",
    )
    filter_values = DashboardFilterValueSerializer(
        many=True, required=False, help_text="Values of the dashboard's filters, as for execute."
    )


WIDGET_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "detail"],
            "properties": {
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "code": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ErrorItem"},
                },
                "request_id": {"type": "string"},
            },
        }
    },
}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "oneOf": [{"$ref": "#/components/schemas/QueryResult"}, WIDGET_ERROR_SCHEMA]
        },
    }
)
class ResultsField(serializers.JSONField):
    """``{"<widget id>": QueryResult | {error: {status, detail, code?, errors?}}}``."""


class DashboardResultsSerializer(serializers.Serializer[Any]):
    results = ResultsField()


__all__ = [
    "ANY_VALUE_SCHEMA",
    "DashboardExecuteSerializer",
    "DashboardExportSerializer",
    "DashboardFilterSerializer",
    "DashboardImportSerializer",
    "DashboardInputSerializer",
    "DashboardPatchSerializer",
    "DashboardResultsSerializer",
    "DashboardSerializer",
    "LayoutItemSerializer",
    "WidgetExecuteBodySerializer",
    "WidgetExecuteSerializer",
    "WidgetExportSerializer",
    "WidgetInputSerializer",
    "WidgetPatchSerializer",
    "WidgetSerializer",
    "dashboard_wire",
    "widget_wire",
]
