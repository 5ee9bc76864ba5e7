"""Views of the HTTP API (SPEC section 5). Thin: parse the envelope, call one service, answer.

Every view derives from :class:`PrismiqAPIView` (or :class:`SavedQueryViewSet`), which fixes the
policy in one place:

- permissions: ``PRISMIQ["PERMISSION_CLASSES"]``, read per request (:func:`configured_permissions`);
- authentication: the site's DRF defaults;
- errors: :func:`prismiq_django.http_errors.exception_handler` (set per view, so the site's global
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

import re
import sys
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, NoReturn

import orjson
from django.core.signals import setting_changed
from django.db import IntegrityError, router, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from prismiq_django import __version__, afterresponse, services
from prismiq_django.execution import QueryResult
from prismiq_django.http_errors import exception_handler, nested_errors
from prismiq_django.identity import caller_pk
from prismiq_django.models import SavedQuery
from prismiq_django.negotiation import PrismiqContentNegotiation
from prismiq_django.openapi import (
    DEFINITION_EXAMPLES,
    RESULT_EXAMPLES,
    VALIDATION_ERROR_EXAMPLE,
)
from prismiq_django.parsers import PrismiqJSONParser
from prismiq_django.permissions import SavedQueryAccess, configured_permissions
from prismiq_django.renderers import PrismiqJSONRenderer
from prismiq_django.serializers import (
    ColumnValuesParamsSerializer,
    ColumnValuesSerializer,
    ErrorResponseSerializer,
    ExecuteRequestSerializer,
    ExplainRequestSerializer,
    ExplainResponseSerializer,
    PreviewParamsSerializer,
    PreviewRequestSerializer,
    QueryDefinitionSerializer,
    QueryResultSerializer,
    SavedQueryExecuteSerializer,
    SavedQuerySerializer,
    SchemaResponseSerializer,
    SqlResponseSerializer,
    TableListSerializer,
    TableSchemaSerializer,
    ValidateResponseSerializer,
    ValidationErrorResponseSerializer,
    execute_envelope,
)
from prismiq_django.throttling import RateLimitMixin

_INVALID = OpenApiResponse(ValidationErrorResponseSerializer, "Invalid query or request.")
_NOT_FOUND = OpenApiResponse(ErrorResponseSerializer, "Unknown or unexposed object.")
_TIMEOUT = OpenApiResponse(ErrorResponseSerializer, "Statement timeout (code query_timeout).")
_DOWN = OpenApiResponse(ErrorResponseSerializer, "The analytics database is unreachable.")
_QUERY_ERRORS: dict[int, OpenApiResponse] = {400: _INVALID, 503: _DOWN, 504: _TIMEOUT}
_NAME = OpenApiParameter("name", str, OpenApiParameter.PATH, description="Exposed table name.")
_COLUMN = OpenApiParameter("column", str, OpenApiParameter.PATH, description="Column name.")


class PrismiqAPIView(APIView):
    """Base of every API view (also mixed into the viewset and the OpenAPI views): permissions,
    error mapping, JSON input, OpenAPI inspector."""

    parser_classes: Sequence[type[BaseParser]] = [PrismiqJSONParser]
    renderer_classes: Sequence[type[BaseRenderer]] = [PrismiqJSONRenderer]
    content_negotiation_class = PrismiqContentNegotiation
    schema: ViewInspector | None = AutoSchema()

    def get_permissions(self) -> Sequence[BasePermission]:
        """``PRISMIQ["PERMISSION_CLASSES"]``, instantiated for this request."""
        return configured_permissions()

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
        self, request: Request, definition: object, *, bypass_cache: bool = False
    ) -> QueryResult:
        """Run ``definition`` for ``request`` (``query/execute``, saved-query ``execute``)."""
        return services.execute(request, definition, bypass_cache=bypass_cache)

    def perform_preview(self, request: Request, definition: object, *, limit: int) -> QueryResult:
        """Run ``definition`` with at most ``limit`` rows (``query/preview``)."""
        return services.preview(request, definition, limit=limit)

    def perform_explain(self, request: Request, definition: object, *, analyze: bool) -> Any:
        """Return the database's plan for ``definition`` (``query/explain``)."""
        return services.explain(request, definition, analyze=analyze)


# The views below that count against RATE_LIMIT carry ``type: ignore[misc]``: RateLimitMixin's
# finalize_response is typed with HttpResponseBase where DRF's stubs say Response.


def _result(result: QueryResult) -> Response:
    return Response(result.wire_dict())


_ORJSON_INTS = range(-(2**63), 2**64)  # what orjson writes natively


def exact_param(param: object) -> object:
    """``param`` as ``query/sql`` shows it: a finite ``Decimal`` becomes a JSON number written with
    exactly its own digits (``str(Decimal)``, e.g. ``0.10``, ``1E+30``), an integer beyond 64 bits
    is written whole (both as ``orjson.Fragment``, raw JSON the renderer copies), a non-finite
    ``Decimal`` becomes ``null``; lists are converted item by item, anything else is left to the
    renderer. (The renderer alone writes decimals through ``float``: ``0.1000000000000000055``
    would show as ``0.1``.)"""
    if isinstance(param, Decimal):
        return orjson.Fragment(str(param)) if param.is_finite() else None
    if isinstance(param, int) and not isinstance(param, bool) and param not in _ORJSON_INTS:
        return orjson.Fragment(str(param))
    if isinstance(param, list | tuple):
        return [exact_param(item) for item in param]
    return param


def _is_envelope(data: object) -> bool:
    """True when a preview body is ``{query, limit?}`` rather than a bare definition."""
    return isinstance(data, dict) and "query" in data and "tables" not in data


# --- schema --------------------------------------------------------------------------------------


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
        parameters=[_NAME],
        responses={200: TableSchemaSerializer, 404: _NOT_FOUND},
        tags=["schema"],
    )
    def get(self, request: Request, name: str) -> Response:
        return Response(services.table_schema(request, name))


class ColumnValuesView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Distinct non-null values of one column, sorted (for filter pickers)."""

    @extend_schema(
        operation_id="column_values_list",
        parameters=[_NAME, _COLUMN, ColumnValuesParamsSerializer],
        responses={200: ColumnValuesSerializer, 400: _INVALID, 404: _NOT_FOUND, **_QUERY_ERRORS},
        tags=["schema"],
    )
    def get(self, request: Request, name: str, column: str) -> Response:
        params = ColumnValuesParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = services.column_values(
            request,
            name,
            column,
            limit=params.validated_data["limit"],
            search=params.validated_data.get("search") or None,
        )
        return Response({"values": values})


# --- queries -------------------------------------------------------------------------------------


class ValidateView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Validate a definition: always 200, with every problem found."""

    @extend_schema(
        operation_id="query_validate",
        request=QueryDefinitionSerializer,
        responses={200: ValidateResponseSerializer},
        examples=DEFINITION_EXAMPLES,
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        problems = services.validate(request, request.data)
        return Response({"valid": not problems, "errors": [p.as_dict() for p in problems]})


class SqlView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """The exact statement and parameters the definition compiles to (nothing runs)."""

    @extend_schema(
        operation_id="query_sql",
        request=QueryDefinitionSerializer,
        responses={200: SqlResponseSerializer, 400: _INVALID},
        examples=[*DEFINITION_EXAMPLES, VALIDATION_ERROR_EXAMPLE],
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        compiled = services.to_sql(request, request.data)
        return Response({"sql": compiled.sql, "params": [exact_param(p) for p in compiled.params]})


class ExecuteView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Run a definition; the result may come from the result cache."""

    @extend_schema(
        operation_id="query_execute",
        request=ExecuteRequestSerializer,
        responses={200: QueryResultSerializer, **_QUERY_ERRORS},
        examples=[*RESULT_EXAMPLES, VALIDATION_ERROR_EXAMPLE],
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        query, bypass_cache = execute_envelope(request.data)
        with nested_errors("query"):
            result = self.perform_execute(request, query, bypass_cache=bypass_cache)
        return _result(result)


class PreviewView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Run a definition with a small limit. Body: ``{query, limit?}`` or a bare definition with
    ``?limit=``."""

    @extend_schema(
        operation_id="query_preview",
        request=PolymorphicProxySerializer(
            component_name="PreviewBody",
            serializers=[PreviewRequestSerializer, QueryDefinitionSerializer],
            resource_type_field_name=None,
        ),
        parameters=[PreviewParamsSerializer],
        responses={200: QueryResultSerializer, **_QUERY_ERRORS},
        examples=RESULT_EXAMPLES,
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        params = PreviewParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        limit = params.validated_data["limit"]
        data = request.data
        if not _is_envelope(data):
            return _result(self.perform_preview(request, data, limit=limit))
        envelope = PreviewRequestSerializer(data=data)
        envelope.is_valid(raise_exception=True)
        if "limit" in data:
            limit = envelope.validated_data["limit"]
        with nested_errors("query"):
            result = self.perform_preview(request, envelope.validated_data["query"], limit=limit)
        return _result(result)


class ExplainView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """The database's plan for the compiled statement."""

    @extend_schema(
        operation_id="query_explain",
        request=ExplainRequestSerializer,
        responses={200: ExplainResponseSerializer, **_QUERY_ERRORS},
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        envelope = ExplainRequestSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        with nested_errors("query"):
            plan = self.perform_explain(
                request,
                envelope.validated_data["query"],
                analyze=envelope.validated_data["analyze"],
            )
        return Response({"plan": plan})


# --- saved queries -------------------------------------------------------------------------------


_FORBIDDEN = OpenApiResponse(ErrorResponseSerializer, "Shared query of another user: read-only.")
_NO_ACCOUNT = OpenApiResponse(
    ErrorResponseSerializer,
    "The caller has no active user account to own the query (a stateless token whose user id "
    "names no existing user).",
)


@extend_schema(tags=["saved queries"])
@extend_schema_view(
    create=extend_schema(responses={201: SavedQuerySerializer, 400: _INVALID, 403: _NO_ACCOUNT}),
    retrieve=extend_schema(responses={200: SavedQuerySerializer, 404: _NOT_FOUND}),
    update=extend_schema(
        responses={200: SavedQuerySerializer, 400: _INVALID, 403: _FORBIDDEN, 404: _NOT_FOUND}
    ),
    partial_update=extend_schema(
        responses={200: SavedQuerySerializer, 400: _INVALID, 403: _FORBIDDEN, 404: _NOT_FOUND}
    ),
    destroy=extend_schema(responses={204: None, 403: _FORBIDDEN, 404: _NOT_FOUND}),
)
class SavedQueryViewSet(RateLimitMixin, PrismiqAPIView, viewsets.ModelViewSet[SavedQuery]):  # type: ignore[misc]
    """Saved queries: a user lists their own and the shared ones; only the owner changes or
    deletes one (404 for another user's private query, 403 for a shared one)."""

    serializer_class = SavedQuerySerializer
    rate_limit_actions = frozenset({"execute"})
    # ASCII digits only ([0-9], not \d: Django's int() would read "١٢" as 12). Any other id
    # falls through to the catch-all route: the same JSON 404 as an id that does not exist.
    lookup_value_regex = "[0-9]+"
    queryset = SavedQuery.objects.none()  # for the OpenAPI generator; see get_queryset

    def get_queryset(self) -> QuerySet[SavedQuery]:
        return SavedQuery.objects.visible_to(self.request.user)

    def get_permissions(self) -> list[BasePermission]:
        return [*configured_permissions(), SavedQueryAccess()]

    def perform_create(self, serializer: BaseSerializer[SavedQuery]) -> None:
        """Save with the caller as owner, by primary key (a stateless token user is no model
        instance); :class:`SavedQueryAccess` has already refused a caller without a user row.

        The user row may still be deleted between that check and the insert: the owner's
        foreign key then fails (when the insert commits: the constraint is deferred), and the
        caller gets the same 403 as a caller without an account, not a 500. (Under
        ``ATOMIC_REQUESTS`` the constraint is checked when the request's transaction commits,
        after this view.)"""
        owner_id = caller_pk(self.request.user)
        if owner_id is None:  # only when a site drops SavedQueryAccess from get_permissions
            raise PermissionDenied(SavedQueryAccess.create_message)
        try:
            with transaction.atomic(using=router.db_for_write(SavedQuery)):
                serializer.save(owner_id=owner_id)
        except IntegrityError:  # the owner's row is gone (no other constraint can fail here)
            raise PermissionDenied(SavedQueryAccess.create_message) from None

    @extend_schema(
        request=SavedQueryExecuteSerializer,
        responses={200: QueryResultSerializer, 404: _NOT_FOUND, **_QUERY_ERRORS},
        examples=RESULT_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def execute(self, request: Request, pk: str | None = None) -> Response:
        """Run the saved query for the caller (their exposed schema and row scopes apply)."""
        saved = self.get_object()
        options = SavedQueryExecuteSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        with nested_errors("query"):
            result = self.perform_execute(
                request, saved.query, bypass_cache=options.validated_data["bypass_cache"]
            )
        return _result(result)


# --- anything else -------------------------------------------------------------------------------


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


# --- OpenAPI -------------------------------------------------------------------------------------

_OPENAPI_SUFFIX = re.compile(r"openapi/?$")
_DOCS_SUFFIX = re.compile(r"docs/?$")


#: Generated OpenAPI documents of this process (without the mount prefix), by
#: :meth:`OpenApiView._document_key`. Generating one costs tens of milliseconds.
_documents: dict[tuple[object, ...], dict[str, Any]] = {}
_documents_lock = threading.Lock()


def forget_openapi_documents(**kwargs: Any) -> None:
    """Drop the generated OpenAPI documents (connected to ``setting_changed``: any setting may
    change the document, e.g. ``REST_FRAMEWORK``, ``SPECTACULAR_SETTINGS``, ``ROOT_URLCONF``)."""
    with _documents_lock:
        _documents.clear()


setting_changed.connect(forget_openapi_documents)


class OpenApiView(PrismiqAPIView, SpectacularAPIView):
    """The OpenAPI 3 document of this API (and only this API), with paths under the mount point.

    The document is generated once per process and kept (:data:`_documents`) under the URLconf's
    pattern list, the API version and the active language; ``setting_changed`` empties the store.
    Each answer prefixes the stored paths with its own mount point (a site may mount the API more
    than once) without changing the stored document. Permissions are checked before, as on every
    view: a refused caller gets the JSON 401/403, never a stored document.
    """

    urlconf = "prismiq_django.urls"
    renderer_classes = SpectacularAPIView.renderer_classes  # YAML (default) and JSON
    custom_settings = {
        "TITLE": "Prismiq analytics API",
        "DESCRIPTION": (
            "Embedded analytics: JSON query definitions over the exposed tables, compiled to "
            "parameterized read-only SQL, answered with typed rows."
        ),
        "VERSION": __version__,
        "SCHEMA_PATH_PREFIX": "/",
        "COMPONENT_SPLIT_REQUEST": False,
    }

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        mount = _OPENAPI_SUFFIX.sub("", request.path).rstrip("/")
        document = response.data  # possibly the stored one: copied, never changed
        response.data = {
            **document,
            "paths": {mount + path: item for path, item in document["paths"].items()},
        }
        return response

    def _document_key(self, version: str | None) -> tuple[object, ...]:
        module = sys.modules.get(str(self.urlconf))
        patterns = getattr(module, "urlpatterns", None)
        return (str(self.urlconf), id(patterns), version, translation.get_language())

    def _get_schema_response(self, request: Request) -> Response:
        """drf-spectacular's hook (called inside its settings patch), with the stored document."""
        if not self.serve_public:  # a per-user document: never stored
            response: Response = super()._get_schema_response(request)  # type: ignore[no-untyped-call]
            return response
        version = self.api_version or request.version or self._get_version_parameter(request)  # type: ignore[no-untyped-call]
        key = self._document_key(version)
        document = _documents.get(key)
        if document is None:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            document = generator.get_schema(request=request, public=True)  # type: ignore[no-untyped-call]
            with _documents_lock:
                _documents[key] = document
        filename = self._get_filename(request, version)  # type: ignore[no-untyped-call]
        return Response(
            data=document, headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )


class DocsView(PrismiqAPIView, SpectacularSwaggerView):
    """Swagger UI over :class:`OpenApiView` (mounted next to it)."""

    title = "Prismiq analytics API"
    renderer_classes = SpectacularSwaggerView.renderer_classes  # the HTML page

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.url = _DOCS_SUFFIX.sub("openapi", request.path)
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        return response


__all__ = [
    "ColumnValuesView",
    "DocsView",
    "ExecuteView",
    "ExplainView",
    "NotFoundView",
    "OpenApiView",
    "PreviewView",
    "PrismiqAPIView",
    "SavedQueryViewSet",
    "SchemaView",
    "SqlView",
    "TableDetailView",
    "TableListView",
    "ValidateView",
    "exact_param",
    "forget_openapi_documents",
]
