"""``GET metrics``: the app's Prometheus metrics in the text exposition format.

Protected by ``PRISMIQ["METRICS_PERMISSION_CLASSES"]`` (default: staff users), with the site's
DRF authentication classes. Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR``
in the environment before the workers start; the answer then sums every worker (see
``docs/operations.md``). When the analytics database is a streaming replica, each scrape first
reads its replay lag into ``prismiq_replica_lag_seconds``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from prismiq_django.conf import prismiq_settings
from prismiq_django.ops.observability import REPLICA_LAG, render_metrics
from prismiq_django.ops.replica import replica_status


class _FirstRenderer(BaseContentNegotiation):
    """Errors (401/403) are rendered with the first renderer whatever ``Accept`` says, so that a
    scraper's ``Accept: text/plain`` never turns a refusal into a 406."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)


class MetricsView(APIView):
    """Prometheus text format (``text/plain; version=0.0.4``)."""

    content_negotiation_class = _FirstRenderer

    def get_permissions(self) -> list[BasePermission]:
        return [cls() for cls in prismiq_settings.METRICS_PERMISSION_CLASSES]

    def get(self, request: Request) -> HttpResponse:
        status = replica_status()
        if status is not None and status.lag_seconds is not None:
            REPLICA_LAG.set(status.lag_seconds)
        body, content_type = render_metrics()
        return HttpResponse(body, content_type=content_type)


__all__ = ["MetricsView"]
