"""Views of the browser pages: each renders a shell whose ES module does the work through the API.

Every page but the embed page needs a logged-in user (``LoginRequiredMixin``: anonymous browsers
are redirected to ``settings.LOGIN_URL``). The API still decides what each call may do: a page
shows nothing the API would not answer to the same session. The page's configuration — the API's
base URL, the CSRF token, which optional endpoints exist — travels in a ``json_script`` element,
never inside inline JavaScript, so the embed page's Content-Security-Policy can forbid inline
scripts.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import get_token
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.generic import TemplateView

from prismiq_django.services.embed import verify_token
from prismiq_django.tenancy.embed import EmbedGrant, InvalidEmbedToken
from prismiq_django.ui.features import available_features
from prismiq_django.ui.security import embed_content_security_policy


def api_base() -> str:
    """The URL prefix the API's URLconf is mounted at (``/api/analytics/``), found by reversing
    its ``schema`` route."""
    schema = reverse("prismiq_django:schema")
    return schema[: schema.rindex("schema")]


def _page_url(name: str, **kwargs: Any) -> str | None:
    try:
        return reverse(f"prismiq_django_ui:{name}", kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def _id_template(name: str) -> str:
    """The page's URL with ``{id}`` where the dashboard id goes (filled in by the page's JS)."""
    return (_page_url(name, pk=0) or "").replace("/0/", "/{id}/")


class PageMixin:
    """Context shared by every page: ``ui_config`` (rendered with ``json_script``)."""

    #: Which ES module of ``static/prismiq_django/ui/`` drives the page.
    page: str = ""
    #: Title shown in the page's heading and ``<title>``.
    title: str = ""
    #: False for pages that must not touch the session (the embed page): no CSRF cookie.
    uses_session: bool = True
    request: HttpRequest

    def page_config(self, **kwargs: Any) -> dict[str, Any]:
        """What the page's module is told: API base, CSRF token, features, page urls and ids."""
        if not self.uses_session:
            return {
                "page": self.page,
                "api": api_base(),
                "csrf_token": None,
                "features": available_features(),
                "urls": {},
                **kwargs,
            }
        return {
            "page": self.page,
            "api": api_base(),
            "csrf_token": get_token(self.request),
            "user_id": str(self.request.user.pk),
            "features": available_features(),
            "urls": {
                "dashboards": _page_url("dashboards"),
                "builder": _page_url("builder"),
                "saved_queries": _page_url("saved-queries"),
                "dashboard": _id_template("dashboard"),
                "dashboard_edit": _id_template("dashboard-edit"),
            },
            **kwargs,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["page"] = self.page
        context["title"] = self.title
        context["ui_config"] = self.page_config(**self.extra_config(**kwargs))
        return context

    def extra_config(self, **kwargs: Any) -> dict[str, Any]:
        """Page-specific additions to ``ui_config`` (the object id, for instance)."""
        return {}


class DashboardListPage(LoginRequiredMixin, PageMixin, TemplateView):
    """The dashboards the user may see, with links to view and edit, and a form to create one."""

    template_name = "prismiq_django/ui/dashboards.html"
    page = "dashboards"
    title = "Dashboards"


class DashboardPage(LoginRequiredMixin, PageMixin, TemplateView):
    """One dashboard: filters, widgets, one ``dashboards/{id}/execute`` per load or change."""

    template_name = "prismiq_django/ui/dashboard.html"
    page = "dashboard"
    title = "Dashboard"

    def extra_config(self, **kwargs: Any) -> dict[str, Any]:
        return {"dashboard_id": str(kwargs["pk"]), "embed_token": None}


class DashboardEditorPage(LoginRequiredMixin, PageMixin, TemplateView):
    """The editor of one dashboard: widgets on a gridstack grid, filters, save."""

    template_name = "prismiq_django/ui/editor.html"
    page = "editor"
    title = "Edit dashboard"

    def extra_config(self, **kwargs: Any) -> dict[str, Any]:
        return {"dashboard_id": str(kwargs["pk"])}


class QueryBuilderPage(LoginRequiredMixin, PageMixin, TemplateView):
    """The query builder; ``?saved=<id>`` opens a saved query, ``?dashboard=<id>`` preselects
    the dashboard a widget is saved to."""

    template_name = "prismiq_django/ui/builder.html"
    page = "builder"
    title = "Query builder"

    def extra_config(self, **kwargs: Any) -> dict[str, Any]:
        params = self.request.GET
        saved = params.get("saved", "")
        dashboard = params.get("dashboard", "")
        return {
            "saved_query_id": saved if saved.isascii() and saved.isdigit() else None,
            "dashboard_id": dashboard if dashboard.isascii() and dashboard.isdigit() else None,
        }


class SavedQueriesPage(LoginRequiredMixin, PageMixin, TemplateView):
    """The saved queries the user may see: run, export, open in the builder, delete."""

    template_name = "prismiq_django/ui/saved_queries.html"
    page = "saved"
    title = "Saved queries"


@method_decorator(xframe_options_exempt, name="dispatch")
class EmbedPage(PageMixin, TemplateView):
    """A dashboard read-only for the holder of an embed token (no login, no session use).

    The token is verified when the page is served (an invalid one gets a 403 page without
    script); the page's calls carry ``Authorization: Embed <token>`` and no cookies, and the
    API decides what the token grants. Locked filters are not shown as controls (the server
    applies them whatever a request sends). Framing is governed by the
    Content-Security-Policy's ``frame-ancestors`` (``PRISMIQ["EMBED_FRAME_ANCESTORS"]``), not
    by ``X-Frame-Options``.
    """

    template_name = "prismiq_django/ui/dashboard.html"
    page = "dashboard"
    title = "Dashboard"
    uses_session = False

    #: The page of a token that does not verify (tampered, expired, revoked): no script.
    refused_html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dashboard</title>'
        "</head><body><main><p>This embedded dashboard is not available: its link is invalid"
        " or has expired.</p></main></body></html>"
    )

    def extra_config(self, **kwargs: Any) -> dict[str, Any]:
        grant: EmbedGrant = kwargs["grant"]
        return {
            "dashboard_id": str(grant.dashboard_id),
            "embed_token": kwargs["token"],
            "locked_filters": sorted(grant.locked_filters),
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """The dashboard of the token (verified here: signature, expiry, revocation), or a
        403 page without script when it does not verify."""
        try:
            kwargs["grant"] = verify_token(kwargs["token"])
        except InvalidEmbedToken:
            response: HttpResponse = HttpResponseForbidden(self.refused_html)
        else:
            response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = embed_content_security_policy()
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        return response
