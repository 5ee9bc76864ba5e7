"""The URLconf a site mounts: ``path("api/analytics/", include("prismiq_django.urls"))``.

A thin re-export of :mod:`prismiq_django.api.urls` (the public path stays this one).
"""

from __future__ import annotations

from prismiq_django.api.urls import app_name, router, urlpatterns

__all__ = ["app_name", "router", "urlpatterns"]
