"""A site URLconf that mounts the API twice (OpenAPI document cache tests)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("api/analytics/", include("prismiq_django.urls")),
    path("second/mount/", include(("prismiq_django.urls", "prismiq_django"), namespace="second")),
]
