"""Cache writes happen after the response is sent (``prismiq_django.afterresponse``)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse
from rest_framework.test import APIRequestFactory, force_authenticate

from prismiq_django import cache, services
from prismiq_django.api.views import ExecuteView
from prismiq_django.catalog import store
from prismiq_django.ops import afterresponse
from prismiq_django.services import queries as query_services
from tests.support.ops import customer_query


def _close(response: Any) -> None:
    """``response.close()`` as Django's test client does it: the test's transaction stays open."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _entry_key(user: Any, definition: dict[str, Any]) -> str:
    request = APIRequestFactory().get("/")
    request.user = user
    catalog, _, compiled = query_services.prepare(request, definition)
    return cache.result_key(alias="default", compiled=compiled, scopes=catalog.row_scopes)


def test_the_entry_is_written_when_the_response_is_closed(
    exposed_shop: dict[str, Any], user: Any
) -> None:
    definition = customer_query()
    request = APIRequestFactory().post("/x", {"query": definition}, format="json")
    force_authenticate(request, user)
    response = ExecuteView.as_view()(request)
    response.render()
    assert response.status_code == 200
    key = _entry_key(user, definition)
    assert caches["default"].get(key) is None  # answered, not yet stored

    _close(response)  # what the WSGI/ASGI server does after the last byte

    assert caches["default"].get(key) is not None
    again = ExecuteView.as_view()(_authenticated(definition, user))
    again.render()
    assert again.status_code == 200, again.data
    assert again.data["is_from_cache"] is True


def _authenticated(definition: dict[str, Any], user: Any) -> Any:
    request = APIRequestFactory().post("/x", {"query": definition}, format="json")
    force_authenticate(request, user)
    return request


def test_without_a_prismiq_view_the_entry_is_written_at_once(
    exposed_shop: dict[str, Any], user: Any
) -> None:
    request = APIRequestFactory().get("/")
    request.user = user
    definition = customer_query()
    assert services.execute(request, definition).is_from_cache is False
    assert caches["default"].get(_entry_key(user, definition)) is not None
    assert services.execute(request, definition).is_from_cache is True


def test_a_failing_job_is_logged_and_the_others_still_run(caplog: Any) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    request = APIRequestFactory().get("/")
    afterresponse.open_queue(request)
    defer = afterresponse.defer_for(request)
    assert defer is not None
    defer(broken)
    defer(lambda: ran.append("second"))
    response = HttpResponse(b"ok")
    afterresponse.attach(request, response)
    assert ran == []
    with caplog.at_level(logging.ERROR, logger="prismiq_django.cache"):
        _close(response)
    assert ran == ["second"]
    assert "after-response job failed" in caplog.text


def test_no_queue_means_no_deferral() -> None:
    assert afterresponse.defer_for(object()) is None
    assert afterresponse.defer_for(None) is None


def test_the_rendered_schema_is_stored_when_the_response_is_closed(
    settings: Any, customers: list[Any], user: Any
) -> None:
    from prismiq_django.api.views import SchemaView
    from prismiq_django.models import ExposedTable

    ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    settings.PRISMIQ = {"SCHEMA_CACHE_TTL": 600, "RATE_LIMIT": None}
    services.invalidate_catalog()
    request = APIRequestFactory().get("/x")
    force_authenticate(request, user)
    response = SchemaView.as_view()(request)
    assert response.status_code == 200
    version = caches["default"].get(services.CATALOG_VERSION_KEY)
    key = f"{services.SCHEMA_KEY_PREFIX}{version}:{store.configuration_key()}"
    assert caches["default"].get(key) is None  # answered, not yet stored

    _close(response)

    assert caches["default"].get(key) == response.content
