"""Under Django's ASGI handler the after-response jobs run after the body was sent, and also
when the client disconnects while the view is still running (Django then drops the response
and only sends ``request_finished``)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.urls import path
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django.api.views import PrismiqAPIView
from prismiq_django.ops import afterresponse

EVENTS: list[str] = []
VIEW_STARTED = threading.Event()
VIEW_DONE = threading.Event()


class Deferring(PrismiqAPIView):
    """Queues a job like a computed result's cache write; optionally slow."""

    def get_permissions(self) -> Sequence[BasePermission]:
        return []

    def get(self, request: Request) -> Response:
        defer = afterresponse.defer_for(request)
        assert defer is not None
        defer(lambda: EVENTS.append("job"))
        VIEW_STARTED.set()
        if request.query_params.get("slow"):
            time.sleep(0.5)
        VIEW_DONE.set()
        return Response({"ok": True})


urlpatterns = [path("deferring/", Deferring.as_view())]


def _serve(query: bytes, *, disconnect_early: bool) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/deferring/",
        "raw_path": b"/deferring/",
        "query_string": query,
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if not disconnect_early:
            await asyncio.sleep(30)
        while not VIEW_STARTED.is_set():  # the client leaves while the view runs
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            EVENTS.append("body sent")

    async def main() -> None:
        await ASGIHandler()(scope, receive, send)

    asyncio.run(main())


@pytest.mark.urls(__name__)
def test_the_jobs_run_after_the_body_was_sent() -> None:
    EVENTS.clear()
    _serve(b"", disconnect_early=False)
    assert EVENTS == ["body sent", "job"]


@pytest.mark.urls(__name__)
def test_the_jobs_run_when_the_client_disconnects_during_the_view() -> None:
    EVENTS.clear()
    VIEW_STARTED.clear()
    VIEW_DONE.clear()
    _serve(b"slow=1", disconnect_early=True)
    assert VIEW_DONE.wait(5)
    deadline = time.monotonic() + 5
    while "job" not in EVENTS and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "body sent" not in EVENTS
    assert EVENTS == ["job"]
