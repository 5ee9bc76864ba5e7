"""The saved-query endpoints: a viewset over :class:`~prismiq_django.models.SavedQuery` (own and
shared queries; another user's shared query is read-only), and ``execute`` of a saved query.
"""

from __future__ import annotations

from django.db import IntegrityError, connections, router, transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from prismiq_django.api.errors import nested_errors
from prismiq_django.api.openapi import (
    RESULT_EXAMPLES,
)
from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.permissions import SavedQueryAccess, configured_permissions
from prismiq_django.api.renderers import CSVFileRenderer, PrismiqJSONRenderer, XLSXFileRenderer
from prismiq_django.api.serializers import (
    ErrorResponseSerializer,
    ExportParamsSerializer,
    QueryResultSerializer,
    SavedQueryExecuteSerializer,
    SavedQuerySerializer,
    paging_options,
)
from prismiq_django.api.throttling import EXPORT_GROUP, RateLimitMixin
from prismiq_django.api.views.base import (
    EXPORT_FILE,
    INVALID,
    NOT_FOUND,
    QUERY_ERRORS,
    RATE_LIMITED,
    PrismiqAPIView,
    file_response,
    result_response,
)
from prismiq_django.models import SavedQuery
from prismiq_django.services import get_catalog
from prismiq_django.services.saved_queries import saved_query_definition
from prismiq_django.tenancy.access import AMBIGUOUS_QUERY_TENANT, single_tenant, tenant_keys
from prismiq_django.tenancy.identity import caller_pk

_FORBIDDEN = OpenApiResponse(ErrorResponseSerializer, "Shared query of another user: read-only.")
_NO_ACCOUNT = OpenApiResponse(
    ErrorResponseSerializer,
    "The caller has no active user account to own the query (a stateless token whose user id "
    "names no existing user).",
)


@extend_schema(tags=["saved queries"])
@extend_schema_view(
    create=extend_schema(responses={201: SavedQuerySerializer, 400: INVALID, 403: _NO_ACCOUNT}),
    retrieve=extend_schema(responses={200: SavedQuerySerializer, 404: NOT_FOUND}),
    update=extend_schema(
        responses={200: SavedQuerySerializer, 400: INVALID, 403: _FORBIDDEN, 404: NOT_FOUND}
    ),
    partial_update=extend_schema(
        responses={200: SavedQuerySerializer, 400: INVALID, 403: _FORBIDDEN, 404: NOT_FOUND}
    ),
    destroy=extend_schema(responses={204: None, 403: _FORBIDDEN, 404: NOT_FOUND}),
)
class SavedQueryViewSet(RateLimitMixin, PrismiqAPIView, viewsets.ModelViewSet[SavedQuery]):  # type: ignore[misc]
    """Saved queries: a user lists their own and the shared ones of its tenant; only the owner
    changes or deletes one (404 for another user's private query, 403 for a shared one, 404
    for any query of another tenant, shared or not)."""

    serializer_class = SavedQuerySerializer
    rate_limit_actions = frozenset({"execute"})
    # ASCII digits only ([0-9], not \d: Django's int() would read "١٢" as 12). Any other id
    # falls through to the catch-all route: the same JSON 404 as an id that does not exist.
    lookup_value_regex = "[0-9]+"
    queryset = SavedQuery.objects.none()  # for the OpenAPI generator; see get_queryset

    def get_queryset(self) -> QuerySet[SavedQuery]:
        """Own and shared saved queries of the caller's tenant (``TENANT_CALLBACK``)."""
        return SavedQuery.objects.visible_to(self.request.user, tenant_keys(self.request))

    def get_permissions(self) -> list[BasePermission]:
        return [*configured_permissions(), SavedQueryAccess()]

    def perform_create(self, serializer: BaseSerializer[SavedQuery]) -> None:
        """Save with the caller as owner, by primary key (a stateless token user is no model
        instance); :class:`SavedQueryAccess` has already refused a caller without a user row.

        The user row may still be deleted between that check and the insert: the owner's
        foreign key then fails (when the insert commits: the constraint is deferred), and the
        caller gets the same 403 as a caller without an account, not a 500. (Under
        ``ATOMIC_REQUESTS`` the constraint is checked when the request's transaction commits,
        after this view.)

        The query records the caller's tenant (403 when the caller has several tenant values:
        which one would it belong to?)."""
        owner_id = caller_pk(self.request.user)
        if owner_id is None:  # only when a site drops SavedQueryAccess from get_permissions
            raise PermissionDenied(SavedQueryAccess.create_message)
        tenant = single_tenant(tenant_keys(self.request), AMBIGUOUS_QUERY_TENANT)
        alias = router.db_for_write(SavedQuery)
        try:
            with transaction.atomic(using=alias):
                serializer.save(owner_id=owner_id, tenant=tenant)
                # Deferred constraints are checked here, inside this savepoint, not when an
                # enclosing transaction (ATOMIC_REQUESTS) commits after the view: a 500 there.
                # (MySQL's InnoDB checks them in the insert: Django's check_constraints there
                # would scan the whole table for nothing.)
                if connections[alias].features.can_defer_constraint_checks:
                    connections[alias].check_constraints(table_names=[SavedQuery._meta.db_table])
        except IntegrityError:  # the owner's row is gone (no other constraint can fail here)
            raise PermissionDenied(SavedQueryAccess.create_message) from None

    @extend_schema(
        request=SavedQueryExecuteSerializer,
        responses={200: QueryResultSerializer, 404: NOT_FOUND, **QUERY_ERRORS},
        examples=RESULT_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def execute(self, request: Request, pk: str | None = None) -> Response:
        """Run the saved query for the caller (their exposed schema and row scopes apply), its
        declared ``filters`` valued by ``filter_values``."""
        saved = self.get_object()
        options = SavedQueryExecuteSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        # The declared filters valued by filter_values (errors at /filter_values/...).
        definition = saved_query_definition(
            request, saved.query, saved.filters, options.validated_data.get("filter_values")
        )
        with nested_errors("query"):
            paging = paging_options(request.data)
            # paging only when asked: a site's perform_execute override may predate it
            extra = {"paging": paging} if paging is not None else {}
            result = self.perform_execute(
                request, definition, bypass_cache=options.validated_data["bypass_cache"], **extra
            )
        return result_response(result)

    @extend_schema(
        parameters=[ExportParamsSerializer],
        responses={200: EXPORT_FILE, 404: NOT_FOUND, 429: RATE_LIMITED, **QUERY_ERRORS},
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[PrismiqJSONRenderer, CSVFileRenderer, XLSXFileRenderer],
    )
    def export(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        """Download the whole result of the saved query as CSV or XLSX (``?format=``), streamed;
        its own rate limit ``EXPORT_RATE_LIMIT``."""
        saved = self.get_object()
        params = ExportParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        # Declared filters with their defaults (a GET carries no filter_values).
        catalog = get_catalog(request)  # for the filters and the export: one callback
        definition = saved_query_definition(
            request, saved.query, saved.filters, None, catalog=catalog
        )
        with nested_errors("query"):
            started = self.perform_export(
                request,
                definition,
                file_format=params.validated_data["format"],
                filename=saved.name,
                catalog=catalog,
            )
        return file_response(started)

    def rate_limit_for(self, request: Request) -> tuple[str, str] | None:
        """``execute`` counts against ``RATE_LIMIT``, ``export`` against ``EXPORT_RATE_LIMIT``."""
        if getattr(self, "action", None) == "export":
            return EXPORT_GROUP, "EXPORT_RATE_LIMIT"
        return super().rate_limit_for(request)


__all__ = ["SavedQueryViewSet"]
