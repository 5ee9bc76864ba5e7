"""Row scopes through HTTP: with a tenant column and ``TENANT_CALLBACK``, every endpoint answers
with the caller's tenant's rows only — a saved query shared within a tenant runs with each
caller's own rows, and is absent (404) for another tenant — and a caller without a tenant gets
nothing (fail closed)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.models import ExposedTable
from tests.api.conftest import add_second_tenant, api, configure

TENANTS = {"alice": 1, "bob": 2, "dave": 1}


def tenant_of(request: Any) -> int | None:
    """The site's TENANT_CALLBACK in these tests: a fixed tenant per username."""
    return TENANTS.get(getattr(request.user, "username", ""))


COUNT_ORDERS = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [{"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"}],
}
JOINED = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {
            "from_table_id": "o",
            "from_column": "customer_id",
            "to_table_id": "c",
            "to_column": "id",
            "join_type": "LEFT",
        }
    ],
    "columns": [{"table_id": "c", "column": "name"}, {"table_id": "o", "column": "status"}],
    "order_by": [{"table_id": "c", "column": "name", "direction": "ASC"}],
}


@pytest.fixture
def scoped(client: APIClient, settings: Any, shop: Any) -> None:
    """Tenant 2 gets one customer with two orders; both tables are tenant-scoped."""
    add_second_tenant()
    configure(settings, EXPOSED_TABLES=None, TENANT_CALLBACK="tests.api.test_tenants.tenant_of")
    for name in ("shop_order", "shop_customer"):
        ExposedTable.objects.create(name=name, is_exposed=True, tenant_column="tenant_id")
    services.invalidate_catalog()


def _count(client: APIClient) -> int:
    response = client.post(api("query/execute"), {"query": COUNT_ORDERS}, format="json")
    assert response.status_code == 200, response.content
    count: int = response.json()["rows"][0][0]
    return count


def test_each_tenant_sees_its_own_rows(
    scoped: None, client: APIClient, client_for: Any, bob: User
) -> None:
    bob_client = client_for(bob)
    assert _count(client) == 10
    assert _count(bob_client) == 2
    bob_rows = bob_client.post(api("query/execute"), {"query": JOINED}, format="json").json()
    assert sorted(bob_rows["rows"]) == [["Zed", "paid"], ["Zed", "refunded"]]
    statuses = bob_client.get(api("tables/shop_order/columns/status/values")).json()["values"]
    assert statuses == ["paid", "refunded"]
    alice_statuses = client.get(api("tables/shop_order/columns/status/values")).json()["values"]
    assert "refunded" not in alice_statuses


def test_shared_saved_query_runs_in_the_callers_tenant(
    scoped: None, client: APIClient, client_for: Any, bob: User
) -> None:
    """Shared means within the tenant (SPEC section 8): another user of tenant 1 runs it on
    tenant 1's rows; tenant 2 does not see it at all."""
    created = client.post(
        api("saved-queries"),
        {"name": "count", "query": COUNT_ORDERS, "is_shared": True},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    mine = client.post(api(f"saved-queries/{pk}/execute"), {}, format="json").json()
    dave = client_for(User.objects.create_user("dave"))
    colleague = dave.post(api(f"saved-queries/{pk}/execute"), {}, format="json").json()
    theirs = client_for(bob).post(api(f"saved-queries/{pk}/execute"), {}, format="json")
    assert mine["rows"] == [[10]]
    assert colleague["rows"] == [[10]]
    assert theirs.status_code == 404


def test_the_sql_carries_the_scope_as_a_parameter(scoped: None, client_for: Any, bob: User) -> None:
    body = client_for(bob).post(api("query/sql"), COUNT_ORDERS, format="json").json()
    assert 2 in body["params"]
    assert "tenant_id" in body["sql"]


def test_caller_without_tenant_gets_nothing(scoped: None, client_for: Any, db: None) -> None:
    carol = client_for(User.objects.create_user("carol"))
    response = carol.post(api("query/execute"), {"query": COUNT_ORDERS}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_definition"
    values = carol.get(api("tables/shop_order/columns/status/values"))
    assert values.status_code in {400, 404}
    assert "paid" not in values.content.decode()


TENANT_CALLS: list[str] = []


def counting_tenant_of(request: Any) -> int | None:
    """``tenant_of`` that records every call (how often a request resolves its tenant)."""
    TENANT_CALLS.append(getattr(request.user, "username", ""))
    return tenant_of(request)


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "tables/shop_order/columns/status/values", None),
        ("get", "tables/shop_order/columns/status/values?search=paid", None),
        ("post", "query/execute", {"query": COUNT_ORDERS}),
        ("post", "query/preview", {"query": COUNT_ORDERS}),
    ],
)
def test_one_request_resolves_its_tenant_once(
    client_for: Any, bob: User, scoped: None, settings: Any, method: str, path: str, payload: Any
) -> None:
    configure(settings, TENANT_CALLBACK="tests.api.test_tenants.counting_tenant_of")
    # The module the setting names (pytest may have imported this file under another name).
    calls: list[str] = import_module("tests.api.test_tenants").TENANT_CALLS
    calls.clear()
    response = getattr(client_for(bob), method)(api(path), payload, format="json")
    assert response.status_code == 200, response.content
    assert calls == ["bob"]
    if "values" in path:
        assert set(response.json()["values"]) <= {"refunded", "paid"}
        assert response.json()["values"]


def test_an_export_with_declared_filters_resolves_its_tenant_once(
    client_for: Any, bob: User, scoped: None, settings: Any
) -> None:
    """A saved query's and a dashboard widget's export: the filters are merged on the same
    catalog the export runs on (one TENANT_CALLBACK call, not one for each)."""
    from tests.api.test_dashboards import body as dashboard_body
    from tests.api.test_saved_query_parameters import FILTERS, ORDERS

    configure(settings, TENANT_CALLBACK="tests.api.test_tenants.counting_tenant_of")
    calls: list[str] = import_module("tests.api.test_tenants").TENANT_CALLS
    bob_client = client_for(bob)
    saved = bob_client.post(
        api("saved-queries"), {"name": "n", "query": ORDERS, "filters": FILTERS}, format="json"
    )
    assert saved.status_code == 201, saved.content
    board = bob_client.post(api("dashboards"), dashboard_body(), format="json")
    assert board.status_code == 201, board.content
    widget = board.json()["widgets"][0]["id"]
    country = [{"filter_id": "country", "value": "DE"}]
    for method, path, payload in [
        ("get", f"saved-queries/{saved.json()['id']}/export?format=csv", None),
        ("post", f"dashboards/{board.json()['id']}/widgets/{widget}/export",
         {"format": "csv", "filter_values": country}),
    ]:  # fmt: skip
        calls.clear()
        response = getattr(bob_client, method)(api(path), payload, format="json")
        assert response.status_code == 200, response.content
        assert b"".join(response.streaming_content)
        assert calls == ["bob"]
