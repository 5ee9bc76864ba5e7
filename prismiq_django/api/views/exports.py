"""``POST query/export``: a definition's whole result as a CSV or XLSX download (SPEC 11)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from rest_framework.request import Request

from prismiq_django.api.errors import nested_errors
from prismiq_django.api.openapi import EXPORT_EXAMPLES
from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.renderers import CSVFileRenderer, PrismiqJSONRenderer, XLSXFileRenderer
from prismiq_django.api.serializers import ExportRequestSerializer
from prismiq_django.api.throttling import EXPORT_GROUP, RateLimitMixin
from prismiq_django.api.views.base import (
    EXPORT_FILE,
    QUERY_ERRORS,
    RATE_LIMITED,
    PrismiqAPIView,
    file_response,
)


class ExportView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Stream the whole result (the definition's own limit, else ``EXPORT_MAX_ROWS``) as a file.

    Counted against ``EXPORT_RATE_LIMIT``, apart from the query endpoints. Errors found before
    the first byte (validation, the statement failing at once, timeout, rate limit) are the
    usual JSON answers.
    """

    rate_limit_group = EXPORT_GROUP
    rate_limit_setting = "EXPORT_RATE_LIMIT"
    renderer_classes = [PrismiqJSONRenderer, CSVFileRenderer, XLSXFileRenderer]

    @extend_schema(
        operation_id="query_export",
        request=ExportRequestSerializer,
        responses={200: EXPORT_FILE, 429: RATE_LIMITED, **QUERY_ERRORS},
        examples=EXPORT_EXAMPLES,
        tags=["query"],
    )
    def post(self, request: Request) -> StreamingHttpResponse:
        envelope = ExportRequestSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        values = envelope.validated_data
        with nested_errors("query"):
            started = self.perform_export(
                request,
                values["query"],
                file_format=values["format"],
                filename=values.get("filename"),
            )
        return file_response(started)


__all__ = ["ExportView"]
