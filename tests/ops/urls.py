"""Test URLconf: the real API plus two views that exercise the request id plumbing."""

from __future__ import annotations

import logging
import time

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django.api.views import PrismiqAPIView

logger = logging.getLogger("prismiq_django.tests")


class BoomView(PrismiqAPIView):
    """An API view with a bug: must answer a generic 500 that quotes the request id."""

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret detail: SELECT password FROM auth_user")


def echo(request: HttpRequest) -> JsonResponse:
    """Log twice around a pause (concurrent requests interleave their records)."""
    logger.info("before")
    time.sleep(0.02)
    logger.info("after")
    return JsonResponse({"ok": True})


def timed(request: HttpRequest) -> JsonResponse:
    """A view that reports a Server-Timing metric of its own."""
    response = JsonResponse({"ok": True})
    response["Server-Timing"] = "db;dur=1.5"
    return response


urlpatterns = [
    path("api/analytics/", include("prismiq_django.urls")),
    path("ops-test/boom/", BoomView.as_view()),
    path("ops-test/echo/", echo),
    path("ops-test/timed/", timed),
]
