"""Points of SPEC section 9 (dashboards) checked from outside, through the HTTP API, that the
other dashboard tests leave open: a widget's timeout stays in its entry, listing costs the same
queries for one dashboard as for many, and the document's layout matches what the API accepts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from example_project.shop.models import OrderItem
from tests.api.conftest import Shop, api, configure
from tests.api.test_dashboards import ORDER_COUNT, create, pos, post
from tests.api.test_openapi import _document
from tests.api.test_query_endpoints import _slow_query


@pytest.mark.django_db(transaction=True)
def test_a_widgets_timeout_is_a_504_entry_and_the_other_widgets_still_answer(
    alice: User, exposed: dict[str, Any], client_for: Any, shop: Shop, settings: Any
) -> None:
    """``{error: {status: 504, detail, code: "query_timeout"}}`` in the slow widget's entry, the
    same body ``query/execute`` answers; the fast widget's rows next to it (on PostgreSQL each in
    its own worker connection, on SQLite one after the other)."""
    client: APIClient = client_for(alice)
    first = OrderItem.objects.first()
    assert first is not None
    OrderItem.objects.bulk_create(
        OrderItem(
            tenant_id=1,
            order_id=first.order_id,
            product_id=first.product_id,
            quantity=1,
            unit_price=Decimal(1),
        )
        for _ in range(3000)
    )
    board = create(
        client,
        filters=[],
        widgets=[
            {"type": "table", "title": "slow", "query": _slow_query(), "position": pos()},
            {"type": "metric", "title": "fast", "query": ORDER_COUNT, "position": pos(6)},
        ],
    )
    slow, fast = (w["id"] for w in board["widgets"])
    configure(settings, QUERY_TIMEOUT=0.2)

    response = post(client, f"dashboards/{board['id']}/execute", {"bypass_cache": True})

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    alone = post(client, "query/execute", {"query": _slow_query()})
    assert alone.status_code == 504
    assert results[slow] == {"error": {"status": 504, **alone.json()}}
    assert results[slow]["error"]["code"] == "query_timeout"
    assert results[fast]["rows"] == [[10]]


def _list(client: APIClient) -> tuple[int, int]:
    """``(queries, dashboards)`` of one ``GET dashboards``."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(api("dashboards"))
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), len(response.json())


@pytest.mark.django_db
def test_listing_six_dashboards_costs_the_queries_of_listing_one(
    client: APIClient, django_assert_num_queries: Any
) -> None:
    """The widgets of every listed dashboard come in one prefetch: no query per dashboard."""
    create(client)
    queries_for_one, listed = _list(client)
    assert listed == 1
    for n in range(5):
        create(client, name=f"Sales {n}")
    with django_assert_num_queries(queries_for_one):
        response = client.get(api("dashboards"))
    assert len(response.json()) == 6
    assert all(len(d["widgets"]) == 4 for d in response.json())


@pytest.mark.django_db
def test_the_documented_layout_is_the_one_the_api_accepts(client: APIClient) -> None:
    """Every layout field has a default (SPEC: ``{columns: 12, row_height: 50, margin: [10,
    10]}``): the document requires none of them, and a partial layout is completed."""
    layout = _document(client)["components"]["schemas"]["Layout"]
    assert layout.get("required", []) == []
    assert layout["properties"]["margin"]["default"] == [10, 10]
    assert layout["properties"]["columns"]["default"] == 12
    assert layout["properties"]["row_height"]["default"] == 50
    created = post(client, "dashboards", {"name": "n", "layout": {"columns": 24}})
    assert created.status_code == 201, created.content
    assert created.json()["layout"] == {"columns": 24, "row_height": 50, "margin": [10, 10]}


@pytest.mark.django_db
def test_the_document_offers_both_bodies_of_a_widget_execute(client: APIClient) -> None:
    """SPEC: ``POST dashboards/{id}/widgets/{wid}/execute`` (body: optional ``[{filter_id,
    value}]``); the API also takes ``{filter_values, bypass_cache}``. The document offers both,
    and both answer the same rows."""
    doc = _document(client)
    path = next(p for p in doc["paths"] if p.endswith("/widgets/{widget_id}/execute/"))
    schema = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    forms = schema.get("oneOf", [schema])
    assert {"type": "array", "items": {"$ref": "#/components/schemas/DashboardFilterValue"}} in (
        forms
    )
    assert {"$ref": "#/components/schemas/WidgetExecute"} in forms
    board = create(client)
    metric = board["widgets"][2]["id"]
    values = [{"filter_id": "status", "value": ["paid"]}]
    url = f"dashboards/{board['id']}/widgets/{metric}/execute"
    bare = post(client, url, values)
    wrapped = post(client, url, {"filter_values": values})
    assert bare.status_code == wrapped.status_code == 200, (bare.content, wrapped.content)
    assert bare.json()["rows"] == wrapped.json()["rows"]
