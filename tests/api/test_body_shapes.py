"""A body that is valid JSON but not an object (``[]``, ``"x"``, ``1``, ``null``) gets one answer on
every endpoint that takes a body: 400, ``Invalid request``, one ``invalid_definition`` item at the
JSON pointer ``""`` (the whole body)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from prismiq_django.parsers import NOT_AN_OBJECT_MESSAGE
from tests.api.conftest import api, definition

NOT_OBJECTS = [[], ["tables"], "x", "", 1, 0, 1.5, True, False, None]

EXPECTED = {
    "detail": "Invalid request",
    "errors": [{"code": "invalid_definition", "message": NOT_AN_OBJECT_MESSAGE, "path": ""}],
}


@pytest.fixture
def saved_pk(client: APIClient) -> int:
    created = client.post(api("saved-queries"), {"name": "q", "query": definition()}, format="json")
    assert created.status_code == 201, created.content
    pk: int = created.json()["id"]
    return pk


@pytest.mark.parametrize("payload", NOT_OBJECTS, ids=[json.dumps(p) for p in NOT_OBJECTS])
def test_every_body_endpoint_refuses_a_non_object_alike(
    client: APIClient, saved_pk: int, payload: Any
) -> None:
    targets = [
        ("post", "query/validate"),
        ("post", "query/sql"),
        ("post", "query/execute"),
        ("post", "query/preview"),
        ("post", "query/explain"),
        ("post", "saved-queries"),
        ("put", f"saved-queries/{saved_pk}"),
        ("patch", f"saved-queries/{saved_pk}"),
        ("post", f"saved-queries/{saved_pk}/execute"),
    ]
    for method, path in targets:
        response = getattr(client, method)(
            api(path), json.dumps(payload), content_type="application/json"
        )
        assert response.status_code == 400, (method, path, response.content)
        assert response.json() == EXPECTED, (method, path)
    # Nothing was changed by the refused writes.
    stored = client.get(api(f"saved-queries/{saved_pk}")).json()
    assert stored["name"] == "q"
    assert stored["query"] == definition()


def test_bare_preview_with_query_parameter_still_takes_an_object(client: APIClient) -> None:
    response = client.post(
        api("query/preview") + "?limit=1", json.dumps(definition()), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["row_count"] == 1
