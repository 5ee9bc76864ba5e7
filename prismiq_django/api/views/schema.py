"""The schema endpoints: the exposed schema, its tables, one table, a column's distinct values."""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django import services
from prismiq_django.api.errors import REQUEST_INVALID_DETAIL
from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.renderers import PrismiqJSONRenderer
from prismiq_django.api.serializers import (
    ColumnValuesParamsSerializer,
    ColumnValuesSerializer,
    SchemaResponseSerializer,
    TableListSerializer,
    TableSchemaSerializer,
)
from prismiq_django.api.throttling import RateLimitMixin
from prismiq_django.api.views.base import (
    COLUMN_PARAM,
    INVALID,
    NAME_PARAM,
    NOT_FOUND,
    QUERY_ERRORS,
    PrismiqAPIView,
)
from prismiq_django.ops import afterresponse
from prismiq_django.query import QueryValidationError

# The views below that count against RATE_LIMIT carry ``type: ignore[misc]``: RateLimitMixin's
# finalize_response is typed with HttpResponseBase where DRF's stubs say Response.


class SchemaView(PrismiqAPIView):
    """The exposed schema: every table with its visible columns, and the relationships."""

    @extend_schema(
        operation_id="schema_retrieve", responses={200: SchemaResponseSerializer}, tags=["schema"]
    )
    def get(self, request: Request) -> HttpResponse:
        # Rendered once per catalog version (services.schema_json): the stored body as it is
        # (megabytes at 1,000 tables; a renderer pass would copy it again). Content negotiation
        # has already happened (406 otherwise) and DRF still adds its headers.
        return HttpResponse(
            services.schema_json(request, defer=afterresponse.defer_for(request)),
            content_type=PrismiqJSONRenderer.media_type,
        )


class TableListView(PrismiqAPIView):
    """Names of the exposed tables."""

    @extend_schema(
        operation_id="tables_list", responses={200: TableListSerializer}, tags=["schema"]
    )
    def get(self, request: Request) -> Response:
        return Response({"tables": services.table_names(request)})


class TableDetailView(PrismiqAPIView):
    """One exposed table; 404 for unknown, unexposed and protected tables alike."""

    @extend_schema(
        operation_id="table_retrieve",
        parameters=[NAME_PARAM],
        responses={200: TableSchemaSerializer, 404: NOT_FOUND},
        tags=["schema"],
    )
    def get(self, request: Request, name: str) -> Response:
        return Response(services.table_schema(request, name))


class ColumnValuesView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Distinct non-null values of one column, sorted (for filter pickers)."""

    @extend_schema(
        operation_id="column_values_list",
        parameters=[NAME_PARAM, COLUMN_PARAM, ColumnValuesParamsSerializer],
        responses={200: ColumnValuesSerializer, 400: INVALID, 404: NOT_FOUND, **QUERY_ERRORS},
        tags=["schema"],
    )
    def get(self, request: Request, name: str, column: str) -> Response:
        params = ColumnValuesParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            values = services.column_values(
                request,
                name,
                column,
                limit=params.validated_data["limit"],
                search=params.validated_data.get("search") or None,
            )
        except QueryValidationError as exc:  # about /column, /search or /limit: the request's
            return Response(
                {"detail": REQUEST_INVALID_DETAIL, "errors": [e.as_dict() for e in exc.errors]},
                status=400,
            )
        return Response({"values": values})


__all__ = ["ColumnValuesView", "SchemaView", "TableDetailView", "TableListView"]
