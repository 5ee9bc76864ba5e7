"""The base of every view of the HTTP API (SPEC section 5).

Thin: parse the envelope, call one service, answer.

Every view derives from :class:`PrismiqAPIView` (or :class:`SavedQueryViewSet`), which fixes the
policy in one place:

- permissions: ``PRISMIQ["PERMISSION_CLASSES"]``, read per request (:func:`configured_permissions`);
- authentication: the site's DRF defaults;
- errors: :func:`prismiq_django.api.errors.exception_handler` (set per view, so the site's global
  ``EXCEPTION_HANDLER`` is untouched);
- output: JSON rendered by orjson (:class:`PrismiqJSONRenderer`);
- input: JSON bodies only (``415`` otherwise), parsed by :class:`PrismiqJSONParser` (strict,
  depth-limited);
- rate limiting (``RATE_LIMIT``) on the endpoints that run or compile queries;
- OpenAPI: drf-spectacular's ``AutoSchema`` whatever the site's ``DEFAULT_SCHEMA_CLASS`` is.

The query definition is handed to :mod:`prismiq_django.services` as received; the core validates
it. When it is nested in an envelope (``{"query": ...}``) error paths are prefixed with ``/query``
so that each stays a JSON pointer into the request body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, cast

from django.db import DataError
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
)
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.settings import api_settings as drf_settings
from rest_framework.views import APIView

from prismiq_django import services
from prismiq_django.api.errors import exception_handler
from prismiq_django.api.jwtmemo import memoized
from prismiq_django.api.negotiation import PrismiqContentNegotiation
from prismiq_django.api.parsers import PrismiqJSONParser
from prismiq_django.api.permissions import configured_permissions
from prismiq_django.api.renderers import PrismiqJSONRenderer
from prismiq_django.api.serializers import (
    ErrorResponseSerializer,
    ValidationErrorResponseSerializer,
)
from prismiq_django.execution import QueryResult
from prismiq_django.ops import afterresponse
from prismiq_django.query import Catalog
from prismiq_django.services.exports import ExportFile, ExportFormat
from prismiq_django.services.exports import export as start_export
from prismiq_django.services.paging import Paging
from prismiq_django.tenancy.embed import grant_of

logger = logging.getLogger("prismiq_django.api")
INVALID = OpenApiResponse(ValidationErrorResponseSerializer, "Invalid query or request.")
NOT_FOUND = OpenApiResponse(ErrorResponseSerializer, "Unknown or unexposed object.")
TIMEOUT = OpenApiResponse(ErrorResponseSerializer, "Statement timeout (code query_timeout).")
DOWN = OpenApiResponse(ErrorResponseSerializer, "The analytics database is unreachable.")
QUERY_ERRORS: dict[int, OpenApiResponse] = {400: INVALID, 503: DOWN, 504: TIMEOUT}
RATE_LIMITED = OpenApiResponse(
    ErrorResponseSerializer, "Rate limited (code rate_limited; Retry-After in seconds)."
)
EXPORT_FILE = OpenApiResponse(
    OpenApiTypes.BINARY,
    "The file, streamed as an attachment (text/csv or the XLSX media type). A failure after "
    "the first byte aborts the download (no last chunk): a failed download, never a short file.",
)
NAME_PARAM = OpenApiParameter("name", str, OpenApiParameter.PATH, description="Exposed table name.")
COLUMN_PARAM = OpenApiParameter("column", str, OpenApiParameter.PATH, description="Column name.")


class PrismiqAPIView(APIView):
    """Base of every API view (also mixed into the viewset and the OpenAPI views): permissions,
    error mapping, JSON input, OpenAPI inspector."""

    parser_classes: Sequence[type[BaseParser]] = [PrismiqJSONParser]
    renderer_classes: Sequence[type[BaseRenderer]] = [PrismiqJSONRenderer]
    content_negotiation_class = PrismiqContentNegotiation
    schema: ViewInspector | None = AutoSchema()

    #: HTTP methods of this view an embed token may call (SPEC section 10): none but the
    #: dashboard's read and runs. Elsewhere a token's request is an anonymous one.
    embed_methods: frozenset[str] = frozenset()

    def get_authenticators(self) -> list[BaseAuthentication]:
        """The site's authentication classes; simplejwt's verify each token once per process
        (:mod:`prismiq_django.api.jwtmemo`)."""
        return [memoized(authenticator) for authenticator in super().get_authenticators()]

    def perform_authentication(self, request: Request) -> None:
        """DRF's, with one difference: a credential the database cannot even compare (Django's
        ``DataError`` while an authentication class looks it up: a NUL character, which
        PostgreSQL's text cannot hold, or a value of the wrong form for the key's column) is
        refused as a wrong one is (401, DRF's "Incorrect authentication credentials."), where
        DRF would let the error become a 500. The request is then anonymous."""
        try:
            request.user  # noqa: B018 - DRF authenticates on first access
        except DataError:
            logger.info("prismiq refused a credential its database could not compare")
            unauthenticated = drf_settings.UNAUTHENTICATED_USER
            request.user = unauthenticated() if unauthenticated else None  # type: ignore[assignment]
            token = drf_settings.UNAUTHENTICATED_TOKEN
            request.auth = token() if token else None
            raise AuthenticationFailed() from None

    def get_permissions(self) -> Sequence[BasePermission]:
        """``PRISMIQ["PERMISSION_CLASSES"]``, instantiated for this request."""
        return configured_permissions()

    def check_permissions(self, request: Request) -> None:
        """An embed grant counts only where :attr:`embed_methods` accepts it: anywhere else the
        request loses it (``request.auth`` becomes None) before the permission classes run,
        so the token's holder is refused like any anonymous caller and its tenant value is
        never used."""
        if grant_of(request) is not None and request.method not in self.embed_methods:
            request.auth = None
        super().check_permissions(request)

    def get_exception_handler(self) -> Callable[[Exception, Any], Response | None]:
        return exception_handler

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        """DRF's request, with a queue for work that runs after the response is sent."""
        drf_request = super().initialize_request(request, *args, **kwargs)
        afterresponse.open_queue(drf_request)
        return drf_request

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Hand the queued after-response work (cache writes) to the response's closers."""
        response = super().finalize_response(request, response, *args, **kwargs)
        afterresponse.attach(request, response)
        return response

    def handle_exception(self, exc: Exception) -> Response:
        """Answer errors in JSON, also on views that render YAML or HTML when they succeed."""
        self.request.accepted_renderer = PrismiqJSONRenderer()
        self.request.accepted_media_type = PrismiqJSONRenderer.media_type
        return super().handle_exception(exc)

    # Hooks: every run goes through one of these, so a site can subclass a view to audit, wrap or
    # refuse runs without copying request handling. They raise what the services raise.

    def perform_execute(
        self,
        request: Request,
        definition: object,
        *,
        bypass_cache: bool = False,
        paging: Paging | None = None,
    ) -> QueryResult:
        """Run ``definition`` for ``request`` (``query/execute``, saved-query ``execute``);
        ``paging``: the page and ``count_total`` the body asked for (None: neither)."""
        return services.execute(request, definition, bypass_cache=bypass_cache, paging=paging)

    def perform_export(
        self,
        request: Request,
        definition: object,
        *,
        file_format: str,
        filename: object,
        default_name: str = "export",
        catalog: Catalog | None = None,
    ) -> ExportFile:
        """Start the export of ``definition`` (``query/export``, saved-query and widget
        ``export``); ``default_name`` names the file when the caller did not; ``catalog``: the
        request's catalog when the view built it already (filters merged)."""
        return start_export(
            request,
            definition,
            file_format=cast(ExportFormat, file_format),
            filename=filename,
            default_name=default_name,
            catalog=catalog,
        )

    def perform_preview(self, request: Request, definition: object, *, limit: int) -> QueryResult:
        """Run ``definition`` with at most ``limit`` rows (``query/preview``)."""
        return services.preview(request, definition, limit=limit)

    def perform_explain(self, request: Request, definition: object, *, analyze: bool) -> Any:
        """Return the database's plan for ``definition`` (``query/explain``)."""
        return services.explain(request, definition, analyze=analyze)


def result_response(result: QueryResult) -> Response:
    return Response(result.wire_dict())


def file_response(export: ExportFile) -> StreamingHttpResponse:
    """The download of a started export: its chunks as they come, as an attachment.

    A failure after the first byte propagates out of the iterator: the server ends the
    response without its last chunk (a failed download, never a short file). Closing the
    response (the client left) closes the iterator, which ends the transaction.
    """
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class NotFoundView(PrismiqAPIView):
    """The last route of the URLconf: a path under the mount that matches no endpoint (an unknown
    subpath, ``tables/a%2Fb`` once WSGI has decoded the slash) answers the API's JSON 404
    ``{detail: "Not found."}`` for every method, instead of Django's HTML page.

    It runs the same permission classes as every endpoint first, deliberately: an anonymous or
    unpermitted caller gets the same 401/403 as anywhere else, so the answers do not tell which
    paths exist. It is not in the OpenAPI document and not rate limited.
    """

    schema = None  # not an operation of the API: excluded from the OpenAPI document

    def not_found(self, request: Any, *args: Any, **kwargs: Any) -> NoReturn:
        """Every method: 404 (reached only once the permission classes let the caller in)."""
        raise Http404

    get = post = put = patch = delete = head = options = trace = not_found


__all__ = [
    "COLUMN_PARAM",
    "DOWN",
    "EXPORT_FILE",
    "INVALID",
    "NAME_PARAM",
    "NOT_FOUND",
    "QUERY_ERRORS",
    "RATE_LIMITED",
    "TIMEOUT",
    "NotFoundView",
    "PrismiqAPIView",
    "file_response",
    "result_response",
]
