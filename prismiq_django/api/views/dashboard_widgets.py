"""Widget endpoints and dashboard runs (SPEC section 9).

A widget id that is not one of the URL's dashboard's widgets is 404 (no IDOR: the widget is
looked up among that dashboard's widgets only, after the dashboard's own access check).
``execute`` reads only: anyone who may see the dashboard may run it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django.api.errors import error_entry, nested_errors
from prismiq_django.api.openapi import RESULT_EXAMPLES
from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.parsers import PrismiqJSONArrayParser
from prismiq_django.api.renderers import CSVFileRenderer, PrismiqJSONRenderer, XLSXFileRenderer
from prismiq_django.api.serializers import QueryResultSerializer
from prismiq_django.api.serializers.dashboards import (
    DashboardExecuteSerializer,
    DashboardResultsSerializer,
    WidgetExecuteBodySerializer,
    WidgetExportSerializer,
    WidgetInputSerializer,
    WidgetPatchSerializer,
    WidgetSerializer,
    widget_wire,
)
from prismiq_django.api.throttling import EXPORT_GROUP, RateLimitMixin
from prismiq_django.api.views.base import (
    EXPORT_FILE,
    INVALID,
    NOT_FOUND,
    QUERY_ERRORS,
    RATE_LIMITED,
    file_response,
    result_response,
)
from prismiq_django.api.views.dashboards import (
    DASHBOARD_ID,
    FORBIDDEN,
    TAGS,
    DashboardAPIView,
)
from prismiq_django.models import Dashboard, Widget
from prismiq_django.query import ErrorDetail, QueryValidationError
from prismiq_django.services import dashboard_runs, get_catalog
from prismiq_django.services import dashboards as service
from prismiq_django.services.embed import lock_filter_values
from prismiq_django.tenancy.embed import grant_of

WIDGET_ID = OpenApiParameter(
    "widget_id", int, OpenApiParameter.PATH, description="A widget of this dashboard."
)


class WidgetAPIView(DashboardAPIView):
    def get_widget(self, dashboard: Dashboard, widget_id: str) -> Widget:
        widget = service.widget_of(dashboard, widget_id)
        if widget is None:
            raise Http404
        return widget


class WidgetListView(WidgetAPIView):
    """``POST dashboards/{id}/widgets``: add a widget (201)."""

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID],
        request=WidgetInputSerializer,
        responses={201: WidgetSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, dashboard_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=True)
        widget = service.add_widget(request, dashboard, request.data)
        return Response(widget_wire(Widget.objects.get(pk=widget.pk)), status=201)


class WidgetDetailView(WidgetAPIView):
    """``PATCH`` / ``DELETE dashboards/{id}/widgets/{wid}``."""

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID, WIDGET_ID],
        request=WidgetPatchSerializer,
        responses={200: WidgetSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def patch(self, request: Request, dashboard_id: str, widget_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=True)
        widget = service.change_widget(
            request, dashboard, self.get_widget(dashboard, widget_id), request.data
        )
        return Response(widget_wire(Widget.objects.get(pk=widget.pk)))

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID, WIDGET_ID],
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def delete(self, request: Request, dashboard_id: str, widget_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=True)
        service.delete_widget(dashboard, self.get_widget(dashboard, widget_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WidgetDuplicateView(WidgetAPIView):
    """``POST dashboards/{id}/widgets/{wid}/duplicate``: a copy below the others (201)."""

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID, WIDGET_ID],
        request=None,
        responses={201: WidgetSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, dashboard_id: str, widget_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=True)
        copy = service.duplicate_widget(dashboard, self.get_widget(dashboard, widget_id))
        return Response(widget_wire(Widget.objects.get(pk=copy.pk)), status=201)


def _options(request: Request, *, list_means_values: bool) -> dict[str, Any]:
    """``filter_values``, ``widget_ids``, ``bypass_cache`` of an execute body (a bare list is
    the filter values where ``list_means_values``), an embed token's locked filters applied."""
    options = _body_options(request.data, list_means_values=list_means_values)
    grant = grant_of(request)
    if grant is not None and grant.locked_filters:
        locked = lock_filter_values(options.get("filter_values"), grant.locked_filters)
        options["filter_values"] = locked
    return options


def _body_options(data: object, *, list_means_values: bool) -> dict[str, Any]:
    if data is None or data == {}:
        return {}
    if list_means_values and isinstance(data, list):
        return {"filter_values": data}
    if not isinstance(data, Mapping):
        raise QueryValidationError([ErrorDetail("invalid_definition", "Expected an object.", "")])
    bypass = data.get("bypass_cache", False)
    if not isinstance(bypass, bool):
        raise QueryValidationError(
            [ErrorDetail("invalid_value", "Must be a JSON boolean.", "/bypass_cache")]
        )
    out: dict[str, Any] = {"filter_values": data.get("filter_values"), "bypass_cache": bypass}
    if not list_means_values:
        out["widget_ids"] = data.get("widget_ids")
    return out


class DashboardExecuteView(RateLimitMixin, DashboardAPIView):  # type: ignore[misc]
    """``POST dashboards/{id}/execute``: every widget (or ``widget_ids``) in one request; an
    embed token's locked filters override the request's values."""

    embed_methods = frozenset({"POST"})

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID],
        request=DashboardExecuteSerializer,
        responses={200: DashboardResultsSerializer, 400: INVALID, 404: NOT_FOUND},
    )
    def post(self, request: Request, dashboard_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=False)
        outcomes = dashboard_runs.execute_dashboard(
            request, dashboard, **_options(request, list_means_values=False)
        )
        results = {
            key: {"error": error_entry(o, request)} if isinstance(o, Exception) else o.wire_dict()
            for key, o in outcomes.items()
        }
        return Response({"results": results})


class WidgetExecuteView(RateLimitMixin, WidgetAPIView):  # type: ignore[misc]
    """``POST dashboards/{id}/widgets/{wid}/execute``: one widget, body ``[{filter_id, value}]``
    (or ``{filter_values, bypass_cache}``); answers a QueryResult or the usual error. An embed
    token's locked filters override the request's values."""

    embed_methods = frozenset({"POST"})

    parser_classes = [PrismiqJSONArrayParser]

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID, WIDGET_ID],
        request=WidgetExecuteBodySerializer,
        responses={200: QueryResultSerializer, 404: NOT_FOUND, **QUERY_ERRORS},
        examples=RESULT_EXAMPLES,
    )
    def post(self, request: Request, dashboard_id: str, widget_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=False)
        widget = self.get_widget(dashboard, widget_id)
        result = dashboard_runs.execute_widget(
            request, dashboard, widget, **_options(request, list_means_values=True)
        )
        return result_response(result)


class WidgetExportView(RateLimitMixin, WidgetAPIView):  # type: ignore[misc]
    """``POST dashboards/{id}/widgets/{wid}/export``: the widget's whole result, with the
    dashboard filters merged in exactly as ``execute`` does, as a CSV or XLSX download.

    Reads only (anyone who may see the dashboard); counted against ``EXPORT_RATE_LIMIT``.
    Errors before the first byte are the usual JSON answers: a bad ``filter_values`` entry has
    the path ``/filter_values/<i>/...``, a widget query that no longer validates ``/query/...``.
    """

    rate_limit_group = EXPORT_GROUP
    rate_limit_setting = "EXPORT_RATE_LIMIT"
    renderer_classes = [PrismiqJSONRenderer, CSVFileRenderer, XLSXFileRenderer]

    @extend_schema(
        tags=TAGS,
        operation_id="dashboards_widgets_export",
        parameters=[DASHBOARD_ID, WIDGET_ID],
        request=WidgetExportSerializer,
        responses={200: EXPORT_FILE, 404: NOT_FOUND, 429: RATE_LIMITED, **QUERY_ERRORS},
    )
    def post(self, request: Request, dashboard_id: str, widget_id: str) -> StreamingHttpResponse:
        dashboard = self.get_dashboard(request, dashboard_id, write=False)
        widget = self.get_widget(dashboard, widget_id)
        data = request.data if request.data is not None else {}
        envelope = WidgetExportSerializer(data=data)
        envelope.is_valid(raise_exception=True)
        values = envelope.validated_data
        raw_values = data.get("filter_values") if isinstance(data, Mapping) else None
        catalog = get_catalog(request)  # for the filters and the export: one callback
        definition = dashboard_runs.widget_definition(
            request, dashboard, widget, filter_values=raw_values, catalog=catalog
        )
        with nested_errors("query"):
            started = self.perform_export(
                request,
                definition,
                file_format=values["format"],
                filename=values.get("filename"),
                default_name=widget.title or dashboard.name or "widget",
                catalog=catalog,
            )
        return file_response(started)


__all__ = [
    "DashboardExecuteView",
    "WidgetDetailView",
    "WidgetDuplicateView",
    "WidgetExecuteView",
    "WidgetExportView",
    "WidgetListView",
]
