"""Embed tokens of a dashboard (SPEC section 10): ``POST dashboards/{id}/embed-tokens`` issues
one, ``POST dashboards/{id}/embed-tokens/revoke`` invalidates every one issued so far. Both are
for the dashboard's editors (its owner, a dashboard admin of its tenant): 404 for a dashboard the
caller may not see, 403 for one it may only read. An embed token itself can call neither.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.views.base import INVALID, NOT_FOUND
from prismiq_django.api.views.dashboards import DASHBOARD_ID, FORBIDDEN, TAGS, DashboardAPIView
from prismiq_django.services import embed as service

EMBED_TOKEN = inline_serializer(
    "EmbedToken",
    {
        "token": serializers.CharField(help_text="Present as 'Authorization: Embed <token>'."),
        "expires_at": serializers.DateTimeField(),
        "url": serializers.CharField(help_text="The embed page of the dashboard for the token."),
    },
)
EMBED_TOKEN_REQUEST = inline_serializer(
    "EmbedTokenRequest",
    {
        "expires_in": serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="Seconds (default 600, at most EMBED_TOKEN_MAX_AGE).",
        ),
        "locked_filters": serializers.DictField(
            required=False, help_text="{filter_id: value}: overrides what requests send."
        ),
    },
)


def embed_url(request: Request, dashboard_id: int, token: str) -> str:
    """The browser UI's embed page for ``token`` when the site mounts it, else the API's
    dashboard with ``?embed=<token>`` (absolute URLs)."""
    try:
        path = reverse("prismiq_django_ui:embed", kwargs={"token": token})
    except NoReverseMatch:
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        path = reverse(f"{namespace or 'prismiq_django'}:dashboard-detail", args=[dashboard_id])
        path = f"{path}?embed={token}"
    return request.build_absolute_uri(path)


class EmbedTokenView(DashboardAPIView):
    """``POST dashboards/{id}/embed-tokens`` ``{expires_in?, locked_filters?}`` →
    201 ``{token, expires_at, url}``."""

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID],
        request=EMBED_TOKEN_REQUEST,
        responses={201: EMBED_TOKEN, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, dashboard_id: str) -> Response:
        dashboard = self.get_dashboard(request, dashboard_id, write=True)
        issued = service.issue_token(request, dashboard, request.data)
        body: dict[str, Any] = {
            "token": issued.token,
            "expires_at": issued.expires_at.isoformat().replace("+00:00", "Z"),
            "url": embed_url(request, dashboard.pk, issued.token),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class EmbedRevokeView(DashboardAPIView):
    """``POST dashboards/{id}/embed-tokens/revoke``: every token issued so far stops working
    (204)."""

    @extend_schema(
        tags=TAGS,
        parameters=[DASHBOARD_ID],
        request=None,
        responses={
            204: OpenApiResponse(description="Revoked."),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, dashboard_id: str) -> Response:
        service.revoke(self.get_dashboard(request, dashboard_id, write=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


__all__ = ["EmbedRevokeView", "EmbedTokenView", "embed_url"]
