"""The dashboard endpoints (SPEC section 9): list and create, retrieve, PATCH, DELETE, layout,
export and import. Widgets and runs are in :mod:`.dashboard_widgets`.

Access goes through :mod:`prismiq_django.tenancy.access` only: a dashboard the caller may not
see (another tenant's, another user's private one, a missing one) is 404; a write on one it may
only read is 403. Writes are checked whole by the services before anything is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.parsers import PrismiqJSONArrayParser
from prismiq_django.api.serializers import ErrorResponseSerializer
from prismiq_django.api.serializers.dashboards import (
    DashboardExportSerializer,
    DashboardImportSerializer,
    DashboardInputSerializer,
    DashboardPatchSerializer,
    DashboardSerializer,
    LayoutItemSerializer,
    dashboard_wire,
)
from prismiq_django.api.views.base import INVALID, NOT_FOUND, PrismiqAPIView
from prismiq_django.models import Dashboard, DashboardViewer
from prismiq_django.services import dashboards as service
from prismiq_django.tenancy.access import dashboard_for, dashboard_viewer, embed_viewer
from prismiq_django.tenancy.embed import grant_of
from prismiq_django.tenancy.identity import caller_has_account

FORBIDDEN = OpenApiResponse(
    ErrorResponseSerializer, "Visible but not editable by the caller (or no user account)."
)
DASHBOARD_ID = OpenApiParameter(
    "dashboard_id", int, OpenApiParameter.PATH, description="Dashboard id (ASCII digits)."
)
TAGS = ["dashboards"]
WRITE_NEEDS_ACCOUNT = "Changing a dashboard needs an active user account; the caller has none."


class DashboardAPIView(PrismiqAPIView):
    """Base of the dashboard views: the caller as a viewer, and the dashboard in the URL."""

    def get_permissions(self) -> Sequence[BasePermission]:
        """``PRISMIQ["PERMISSION_CLASSES"]``; none for an embed token on the methods that
        accept one (the grant is the permission: :meth:`get_viewer` confines it)."""
        if grant_of(self.request) is not None and self.request.method in self.embed_methods:
            return []
        return super().get_permissions()

    def get_viewer(self, request: Request) -> DashboardViewer:
        """The caller for the access rule (an embed token: its one dashboard, read-only);
        override to change who sees what. Resolved once per request."""
        viewer: DashboardViewer | None = getattr(self, "_viewer", None)
        if viewer is None:
            grant = grant_of(request)
            viewer = embed_viewer(grant) if grant is not None else dashboard_viewer(request, self)
            self._viewer = viewer
        return viewer

    def get_dashboard(self, request: Request, dashboard_id: str, *, write: bool) -> Dashboard:
        """The dashboard of the URL as the caller may use it (404 / 403, see the module).

        A ``write`` also needs an active user row (``caller_has_account``: one indexed read for a
        stateless token user, none for a model instance): a deactivated or deleted user's token
        that has not expired yet reads, but changes nothing (403)."""
        dashboard = dashboard_for(self.get_viewer(request), dashboard_id, write=write)
        if write and not caller_has_account(request.user):
            raise PermissionDenied(WRITE_NEEDS_ACCOUNT)
        return dashboard

    def reload(self, request: Request, dashboard: Dashboard) -> dict[str, Any]:
        """The dashboard as stored now, with its widgets, on the wire."""
        fresh = Dashboard.objects.with_widgets().get(pk=dashboard.pk)
        return dashboard_wire(fresh)


class DashboardListView(DashboardAPIView):
    """``GET dashboards``: own and public dashboards of the caller's tenant (an admin: every
    one of its tenant). ``POST dashboards``: create one, widgets and filters inline (201)."""

    @extend_schema(tags=TAGS, responses={200: DashboardSerializer(many=True)})
    def get(self, request: Request) -> Response:
        rows = Dashboard.objects.visible_to(self.get_viewer(request)).with_widgets()
        return Response([dashboard_wire(d) for d in rows])

    @extend_schema(
        tags=TAGS,
        request=DashboardInputSerializer,
        responses={201: DashboardSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        created = service.create(request, self.get_viewer(request), request.data)
        return Response(self.reload(request, created), status=status.HTTP_201_CREATED)


class DashboardDetailView(DashboardAPIView):
    """One dashboard: GET (an embed token of this dashboard too), PATCH (``widgets`` replaces
    the list in one transaction), DELETE."""

    embed_methods = frozenset({"GET", "HEAD", "OPTIONS"})

    @extend_schema(
        tags=TAGS, parameters=[DASHBOARD_ID], responses={200: DashboardSerializer, 404: NOT_FOUND}
    )
    def get(self, request: Request, dashboard_id: str) -> Response:
        return Response(dashboard_wire(self.get_dashboard(request, dashboard_id, write=False)))

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID],
        request=DashboardPatchSerializer,
        responses={200: DashboardSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def patch(self, request: Request, dashboard_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=True)
        service.update(request, dashboard, request.data)
        return Response(self.reload(request, dashboard))

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID],
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def delete(self, request: Request, dashboard_id: str) -> Response:
        service.delete(self.get_dashboard(request, dashboard_id, write=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DashboardLayoutView(DashboardAPIView):
    """``PUT dashboards/{id}/layout`` ``[{id, x, y, w, h}]``: move and resize in one
    transaction."""

    parser_classes = [PrismiqJSONArrayParser]

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID],
        request=LayoutItemSerializer(many=True),
        responses={200: DashboardSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def put(self, request: Request, dashboard_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=True)
        service.put_layout(dashboard, request.data)
        return Response(self.reload(request, dashboard))


class DashboardExportView(DashboardAPIView):
    """``GET dashboards/{id}/export``: the dashboard without ids or owners."""

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID],
        responses={200: DashboardExportSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, dashboard_id: str) -> Response:
        return Response(service.export(self.get_dashboard(request, dashboard_id, write=False)))


class DashboardImportView(DashboardAPIView):
    """``POST dashboards/import`` ``{export_data, name_override?}``: a new dashboard (201)."""

    @extend_schema(
        tags=TAGS,
        request=DashboardImportSerializer,
        responses={201: DashboardSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        created = service.import_(request, self.get_viewer(request), request.data)
        return Response(self.reload(request, created), status=status.HTTP_201_CREATED)


__all__ = [
    "DASHBOARD_ID",
    "FORBIDDEN",
    "TAGS",
    "DashboardAPIView",
    "DashboardDetailView",
    "DashboardExportView",
    "DashboardImportView",
    "DashboardLayoutView",
    "DashboardListView",
]
