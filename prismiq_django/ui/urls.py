"""URLconf of the browser pages; a site mounts it with ``include("prismiq_django.ui.urls")``.

URL names are in the ``prismiq_django_ui`` namespace (``reverse("prismiq_django_ui:dashboards")``).
The pages need the API's URLconf (``prismiq_django.urls``) mounted too: they call it.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from prismiq_django.ui import views

app_name = "prismiq_django_ui"

urlpatterns: list[URLPattern] = [
    path("", views.DashboardListPage.as_view(), name="dashboards"),
    path("dashboards/<int:pk>/", views.DashboardPage.as_view(), name="dashboard"),
    path("dashboards/<int:pk>/edit/", views.DashboardEditorPage.as_view(), name="dashboard-edit"),
    path("query/", views.QueryBuilderPage.as_view(), name="builder"),
    path("saved-queries/", views.SavedQueriesPage.as_view(), name="saved-queries"),
    path("embed/<str:token>/", views.EmbedPage.as_view(), name="embed"),
]
