"""URLconf of the API; a site mounts it with ``include("prismiq_django.urls")``.

Every path answers with and without its trailing slash (``/?$``), so clients need not care and no
redirect ever turns a POST into a GET. URL names are in the ``prismiq_django`` namespace
(``reverse("prismiq_django:query-execute")``); the request log uses them as endpoint labels.

The last route catches every other path under the mount (:class:`views.NotFoundView`): JSON 404
for authorised callers, the usual 401/403 for everyone else, never Django's HTML 404 page. It
must stay last.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, re_path
from rest_framework.routers import SimpleRouter

from prismiq_django.api import views
from prismiq_django.ops import health, metrics

app_name = "prismiq_django"

_NAME = r"(?P<name>[^/]+)"
_COLUMN = r"(?P<column>[^/]+)"
# ASCII digits only, as for saved queries: any other id falls through to the catch-all's 404.
_DASHBOARD = r"dashboards/(?P<dashboard_id>[0-9]+)"
_WIDGET = _DASHBOARD + r"/widgets/(?P<widget_id>[0-9]+)"

router = SimpleRouter()
router.trailing_slash = "/?"  # the constructor only takes a bool (slash or none)
router.register("saved-queries", views.SavedQueryViewSet, basename="saved-query")

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^schema/?$", views.SchemaView.as_view(), name="schema"),
    re_path(r"^tables/?$", views.TableListView.as_view(), name="table-list"),
    re_path(rf"^tables/{_NAME}/?$", views.TableDetailView.as_view(), name="table-detail"),
    re_path(
        rf"^tables/{_NAME}/columns/{_COLUMN}/values/?$",
        views.ColumnValuesView.as_view(),
        name="column-values",
    ),
    re_path(r"^query/validate/?$", views.ValidateView.as_view(), name="query-validate"),
    re_path(r"^query/sql/?$", views.SqlView.as_view(), name="query-sql"),
    re_path(r"^query/execute/?$", views.ExecuteView.as_view(), name="query-execute"),
    re_path(r"^query/preview/?$", views.PreviewView.as_view(), name="query-preview"),
    re_path(r"^query/explain/?$", views.ExplainView.as_view(), name="query-explain"),
    re_path(r"^query/export/?$", views.ExportView.as_view(), name="query-export"),
    # Raw SQL (staff) and questions, SPEC section 12; query/sql above only shows the statement
    # a definition compiles to.
    re_path(r"^sql/validate/?$", views.SqlValidateView.as_view(), name="sql-validate"),
    re_path(r"^sql/execute/?$", views.SqlExecuteView.as_view(), name="sql-execute"),
    re_path(r"^ask/?$", views.AskView.as_view(), name="ask"),
    *router.urls,
    re_path(r"^dashboards/?$", views.DashboardListView.as_view(), name="dashboard-list"),
    re_path(r"^dashboards/import/?$", views.DashboardImportView.as_view(), name="dashboard-import"),
    re_path(rf"^{_DASHBOARD}/?$", views.DashboardDetailView.as_view(), name="dashboard-detail"),
    re_path(
        rf"^{_DASHBOARD}/layout/?$", views.DashboardLayoutView.as_view(), name="dashboard-layout"
    ),
    re_path(
        rf"^{_DASHBOARD}/export/?$", views.DashboardExportView.as_view(), name="dashboard-export"
    ),
    re_path(
        rf"^{_DASHBOARD}/execute/?$",
        views.DashboardExecuteView.as_view(),
        name="dashboard-execute",
    ),
    re_path(
        rf"^{_DASHBOARD}/embed-tokens/?$",
        views.EmbedTokenView.as_view(),
        name="dashboard-embed-tokens",
    ),
    re_path(
        rf"^{_DASHBOARD}/embed-tokens/revoke/?$",
        views.EmbedRevokeView.as_view(),
        name="dashboard-embed-tokens-revoke",
    ),
    re_path(
        rf"^{_DASHBOARD}/widgets/?$", views.WidgetListView.as_view(), name="dashboard-widget-list"
    ),
    re_path(rf"^{_WIDGET}/?$", views.WidgetDetailView.as_view(), name="dashboard-widget-detail"),
    re_path(
        rf"^{_WIDGET}/duplicate/?$",
        views.WidgetDuplicateView.as_view(),
        name="dashboard-widget-duplicate",
    ),
    re_path(
        rf"^{_WIDGET}/execute/?$",
        views.WidgetExecuteView.as_view(),
        name="dashboard-widget-execute",
    ),
    re_path(
        rf"^{_WIDGET}/export/?$",
        views.WidgetExportView.as_view(),
        name="dashboard-widget-export",
    ),
    re_path(r"^health/?$", health.HealthView.as_view(), name="health"),
    re_path(r"^health/live/?$", health.LiveView.as_view(), name="health-live"),
    re_path(r"^health/ready/?$", health.ReadyView.as_view(), name="health-ready"),
    re_path(r"^metrics/?$", metrics.MetricsView.as_view(), name="metrics"),
    re_path(r"^openapi/?$", views.OpenApiView.as_view(), name="openapi"),
    re_path(r"^docs/?$", views.DocsView.as_view(), name="docs"),
    # Must stay last: everything no route above matched (label "not-found" in the request log).
    re_path(r"^(?P<unmatched>.*)$", views.NotFoundView.as_view(), name="not-found"),
]
