from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from rest_framework_simplejwt.views import TokenRefreshView

from example_project.tokens import (
    ExistingUserTokenRefreshSerializer,
    RateLimitedTokenObtainPairView,
)

urlpatterns = [
    # The landing page: the dashboards; an anonymous browser is sent to the login page first
    # (settings.LOGIN_URL), whose template (shop/templates/registration/login.html) names the
    # demo login and links back here.
    path("", RedirectView.as_view(pattern_name="prismiq_django_ui:dashboards", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    # Stateless JWT (settings.SIMPLE_JWT): POST {"username", "password"} -> {"access", "refresh"},
    # the access token carrying is_staff, at most settings.TOKEN_RATE_LIMIT attempts per address
    # and per username (429 + Retry-After); POST {"refresh"} -> {"access"} (401 for a user deleted
    # since).
    path("api/token/", RateLimitedTokenObtainPairView.as_view(), name="token_obtain_pair"),
    path(
        "api/token/refresh/",
        TokenRefreshView.as_view(serializer_class=ExistingUserTokenRefreshSerializer),
        name="token_refresh",
    ),
    path("api/analytics/", include("prismiq_django.urls")),
    # The browser UI (dashboards, editor, query builder, saved queries, embed page).
    path("analytics/", include("prismiq_django.ui.urls")),
]
