"""The after-response jobs (cache write + single-flight lock release) of a response that is
never closed still run: a site view that wraps a prismiq view and answers its own response, a
failure after the prismiq view returned, a response dropped without ``close()``.

Losing them would keep the lock for ``QUERY_TIMEOUT`` + 5 s: every identical request in any
worker would wait that long, and the result would never be cached.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from prismiq_django import cache
from prismiq_django.api.views import ExecuteView
from prismiq_django.execution import QueryResult
from prismiq_django.ops import afterresponse
from tests.ops.test_afterresponse import _close, _entry_key
from tests.support.ops import customer_query

_inner = ExecuteView.as_view()


def wrapped(request: HttpRequest) -> HttpResponse:
    """A site's own view: runs the prismiq view, answers a response of its own."""
    inner = _inner(request)
    inner.render()
    return HttpResponse(inner.content, status=inner.status_code, content_type="application/json")


def wrapped_then_fails(request: HttpRequest) -> HttpResponse:
    """A site's own view that fails after the prismiq view computed its result."""
    _inner(request).render()
    raise RuntimeError("site bug after the query ran")


class Escaping(ExecuteView):
    """A site subclass whose hook fails after the run and whose handler lets that escape
    (DRF re-raises when the handler answers None): Django answers its own 500."""

    def perform_execute(
        self, request: Request, definition: object, *, bypass_cache: bool = False
    ) -> QueryResult:
        super().perform_execute(request, definition, bypass_cache=bypass_cache)
        raise RuntimeError("audit store down")

    def get_exception_handler(self) -> Callable[[Exception, Any], Response | None]:
        return lambda exc, context: None


urlpatterns = [
    path("wrapped/", wrapped),
    path("wrapped-fails/", wrapped_then_fails),
    path("escaping/", Escaping.as_view()),
]


def _lock_key(entry_key: str) -> str:
    return cache.LOCK_PREFIX + entry_key[len(cache.RESULT_PREFIX) :]


def _client(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.urls(__name__)
def test_a_wrapping_site_view_still_stores_and_releases(
    exposed_shop: dict[str, Any], user: Any
) -> None:
    definition = customer_query()
    response = _client(user).post(
        "/wrapped/", {"query": definition}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    key = _entry_key(user, definition)
    assert caches["default"].get(_lock_key(key)) is None  # released
    assert caches["default"].get(key) is not None  # stored


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "path",
    [
        "/wrapped-fails/",  # a site view fails after the prismiq view answered
        "/escaping/",  # an exception escapes the view
    ],
)
def test_a_failure_around_the_prismiq_view_still_releases_the_lock(
    exposed_shop: dict[str, Any], user: Any, path: str
) -> None:
    definition = customer_query()
    response = _client(user).post(path, {"query": definition}, content_type="application/json")
    assert response.status_code == 500
    key = _entry_key(user, definition)
    assert caches["default"].get(_lock_key(key)) is None
    assert caches["default"].get(key) is not None


def test_a_response_dropped_without_close_still_releases_the_lock(
    exposed_shop: dict[str, Any], user: Any
) -> None:
    definition = customer_query()
    request = APIRequestFactory().post("/x", {"query": definition}, format="json")
    force_authenticate(request, user)
    response = _inner(request)
    response.render()
    assert response.status_code == 200
    key = _entry_key(user, definition)
    assert caches["default"].get(_lock_key(key)) is not None  # held until the jobs run

    del response, request
    gc.collect()  # never runs the jobs itself (it may interrupt a cache client holding a lock)
    assert caches["default"].get(_lock_key(key)) is not None

    _close(HttpResponse(b"next"))  # the next request this process finishes

    assert caches["default"].get(_lock_key(key)) is None
    assert caches["default"].get(key) is not None


def test_a_collected_responses_jobs_run_at_the_next_request_finished_of_any_thread() -> None:
    ran: list[str] = []

    def attach_and_drop() -> None:
        request = APIRequestFactory().get("/")
        afterresponse.open_queue(request)
        defer = afterresponse.defer_for(request)
        assert defer is not None
        defer(lambda: ran.append("job"))
        afterresponse.attach(request, HttpResponse(b"dropped"))  # never closed

    worker = threading.Thread(target=attach_and_drop)
    worker.start()
    worker.join()
    gc.collect()
    assert ran == []  # not inside the collector

    _close(HttpResponse(b"next"))  # another thread's request ends

    assert ran == ["job"]
    _close(HttpResponse(b"again"))
    assert ran == ["job"]  # once
