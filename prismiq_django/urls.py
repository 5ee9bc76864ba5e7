"""URLconf of the API; a site mounts it with ``include("prismiq_django.urls")``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "prismiq_django"

urlpatterns: list[URLPattern | URLResolver] = []
