from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from example_project.tokens import StaffClaimTokenObtainPairSerializer

urlpatterns = [
    path("", RedirectView.as_view(url="/api/analytics/docs/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    # Stateless JWT (settings.SIMPLE_JWT): POST {"username", "password"} -> {"access", "refresh"},
    # the access token carrying is_staff; POST {"refresh"} -> {"access"}.
    path(
        "api/token/",
        TokenObtainPairView.as_view(serializer_class=StaffClaimTokenObtainPairSerializer),
        name="token_obtain_pair",
    ),
    path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("api/analytics/", include("prismiq_django.urls")),
]
