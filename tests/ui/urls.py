"""URLconf of the UI tests: the API, the browser pages, Django's login view, the admin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/analytics/", include("prismiq_django.urls")),
    path("analytics/", include("prismiq_django.ui.urls")),
]
