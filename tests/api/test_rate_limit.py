"""``RATE_LIMIT`` applies to the endpoints that compile or run queries (not to schema reads), with
the ``X-RateLimit-*`` headers and a 429 + ``Retry-After`` past the limit."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle

from prismiq_django.api.throttling import PrismiqRateThrottle
from prismiq_django.api.views import ExecuteView
from tests.api.conftest import api, configure, definition


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("query/execute", {"query": definition()}),
        ("query/validate", definition()),
        ("query/sql", definition()),
        ("query/preview", {"query": definition()}),
        ("query/explain", {"query": definition()}),
    ],
)
def test_query_endpoints_are_rate_limited(
    client: APIClient, settings: Any, counters: str, path: str, payload: object
) -> None:
    configure(settings, RATE_LIMIT="2/m")
    first = client.post(api(path), payload, format="json")
    assert first.status_code == 200
    assert first["X-RateLimit-Limit"] == "2"
    assert first["X-RateLimit-Remaining"] == "1"
    assert int(first["X-RateLimit-Reset"]) >= 0
    assert client.post(api(path), payload, format="json").status_code == 200
    refused = client.post(api(path), payload, format="json")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1


def test_saved_query_execute_is_limited_but_crud_is_not(
    client: APIClient, settings: Any, counters: str
) -> None:
    configure(settings, RATE_LIMIT="1/m")
    created = [
        client.post(api("saved-queries"), {"name": f"q{i}", "query": definition()}, format="json")
        for i in range(3)
    ]
    assert [r.status_code for r in created] == [201, 201, 201]
    pk = created[0].json()["id"]
    assert client.post(api(f"saved-queries/{pk}/execute"), {}, format="json").status_code == 200
    assert client.post(api(f"saved-queries/{pk}/execute"), {}, format="json").status_code == 429
    assert client.get(api("saved-queries")).status_code == 200


def test_schema_reads_are_not_limited(client: APIClient, settings: Any, counters: str) -> None:
    configure(settings, RATE_LIMIT="1/m")
    for _ in range(3):
        response = client.get(api("schema"))
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response


class RefuseEverything(BaseThrottle):
    """A site's own throttle class that refuses every request (DRF's answer, not prismiq's)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        return False

    def wait(self) -> float:
        return 7.0


def test_the_throttle_is_a_drf_throttle_class_after_the_sites_own(
    client: APIClient, settings: Any, counters: str
) -> None:
    configure(settings, RATE_LIMIT="5/m")
    view = ExecuteView()
    assert view.throttle_classes[-1] is PrismiqRateThrottle
    settings.REST_FRAMEWORK = {
        **getattr(settings, "REST_FRAMEWORK", {}),
        "DEFAULT_THROTTLE_CLASSES": [f"{__name__}.RefuseEverything"],
    }
    assert [cls.__name__ for cls in view.throttle_classes] == [
        "RefuseEverything",
        "PrismiqRateThrottle",
    ]
    refused = client.post(api("query/execute"), {"query": definition()}, format="json")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "7"
    assert "code" not in refused.json()  # the site's throttle answered (DRF's body)
    # DRF consults every throttle class: ours counted the request too, like any of them.
    assert refused["X-RateLimit-Remaining"] == "4"
