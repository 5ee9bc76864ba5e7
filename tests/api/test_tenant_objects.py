"""Saved objects stay in their tenant (SPEC section 8): a saved query records the tenant in force
when it was created; listing, reading, running, exporting, editing and sharing happen within the
caller's tenant only, and another tenant's object answers exactly like a missing one (404, same
body). A caller whose callback returns None sees only tenant-less objects.

The tenant is the user's ``last_name`` ("" = none, "a,b" = several), read by :func:`tenant_of`.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from prismiq_django.models import Dashboard, SavedQuery, Widget
from tests.api.conftest import api, configure

COUNT = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [{"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"}],
}


def tenant_of(request: Any) -> Any:
    """The tests' TENANT_CALLBACK: the user's ``last_name`` ("" = None, "a,b" = a list)."""
    user = User.objects.get(pk=request.user.pk)
    if not user.last_name:
        return None
    return user.last_name.split(",") if "," in user.last_name else user.last_name


def user_in(name: str, tenant: str) -> User:
    return User.objects.create_user(name, last_name=tenant)


@pytest.fixture
def tenants(client: APIClient, alice: User, settings: Any) -> None:
    """Alice is of tenant ``acme``; the callback is :func:`tenant_of`."""
    configure(settings, TENANT_CALLBACK="tests.api.test_tenant_objects.tenant_of")
    alice.last_name = "acme"
    alice.save()


def save(client: APIClient, name: str, *, shared: bool) -> int:
    response = client.post(
        api("saved-queries"), {"name": name, "query": COUNT, "is_shared": shared}, format="json"
    )
    assert response.status_code == 201, response.content
    pk: int = response.json()["id"]
    return pk


def every_access(client: APIClient, pk: int) -> dict[str, Any]:
    """Status and body of every endpoint that touches saved query ``pk``."""
    path = f"saved-queries/{pk}"
    answers = {
        "retrieve": client.get(api(path)),
        "execute": client.post(api(f"{path}/execute"), {}, format="json"),
        "export": client.get(api(f"{path}/export?format=csv")),
        "patch": client.patch(api(path), {"is_shared": False}, format="json"),
        "put": client.put(api(path), {"name": "x", "query": COUNT}, format="json"),
        "delete": client.delete(api(path)),
    }
    return {name: (r.status_code, r.content) for name, r in answers.items()}


def test_a_saved_query_records_its_creators_tenant(
    tenants: None, client: APIClient, client_for: Any
) -> None:
    pk = save(client, "mine", shared=True)
    assert SavedQuery.objects.get(pk=pk).tenant == "acme"
    # The tenant is not writable through the API.
    client.patch(api(f"saved-queries/{pk}"), {"tenant": "globex"}, format="json")
    assert SavedQuery.objects.get(pk=pk).tenant == "acme"
    assert "tenant" not in client.get(api(f"saved-queries/{pk}")).json()


def test_another_tenants_saved_queries_are_absent_shared_or_not(
    tenants: None, client: APIClient, client_for: Any
) -> None:
    shared = save(client, "acme shared", shared=True)
    private = save(client, "acme private", shared=False)
    bob = client_for(user_in("bob2", "globex"))
    assert bob.get(api("saved-queries")).json() == []
    missing = every_access(bob, 999_999)
    for pk in (shared, private):
        answers = every_access(bob, pk)
        # Exactly a missing object: the same status and the same body, endpoint by endpoint.
        assert answers == missing, pk
        assert {status for status, _ in answers.values()} == {404}
    assert SavedQuery.objects.filter(pk__in=[shared, private]).count() == 2
    assert SavedQuery.objects.get(pk=shared).is_shared is True


def test_shared_means_shared_within_the_tenant(
    tenants: None, client: APIClient, client_for: Any
) -> None:
    shared = save(client, "acme shared", shared=True)
    private = save(client, "acme private", shared=False)
    dave = client_for(user_in("dave", "acme"))
    assert [q["name"] for q in dave.get(api("saved-queries")).json()] == ["acme shared"]
    assert dave.post(api(f"saved-queries/{shared}/execute"), {}, format="json").status_code == 200
    patched = dave.patch(api(f"saved-queries/{shared}"), {"name": "x"}, format="json")
    assert patched.status_code == 403
    assert dave.get(api(f"saved-queries/{private}")).status_code == 404
    # A query the colleague saves is in acme too: alice sees it once shared.
    theirs = save(dave, "dave shared", shared=True)
    assert SavedQuery.objects.get(pk=theirs).tenant == "acme"
    names = sorted(q["name"] for q in client.get(api("saved-queries")).json())
    assert names == ["acme private", "acme shared", "dave shared"]


def test_a_caller_without_tenant_sees_only_tenantless_saved_queries(
    tenants: None, client: APIClient, client_for: Any
) -> None:
    acme = save(client, "acme shared", shared=True)
    carol = client_for(user_in("carol", ""))
    loose = save(carol, "no tenant", shared=True)
    assert SavedQuery.objects.get(pk=loose).tenant is None
    assert [q["name"] for q in carol.get(api("saved-queries")).json()] == ["no tenant"]
    assert every_access(carol, acme) == every_access(carol, 999_999)
    # ... and a caller with a tenant never sees the tenant-less ones.
    assert [q["name"] for q in client.get(api("saved-queries")).json()] == ["acme shared"]
    assert client.get(api(f"saved-queries/{loose}")).status_code == 404


def test_a_caller_of_several_tenants_reads_them_all_and_cannot_save(
    tenants: None, client: APIClient, client_for: Any
) -> None:
    save(client, "acme shared", shared=True)
    save(client_for(user_in("bob2", "globex")), "globex shared", shared=True)
    both = client_for(user_in("eve", "acme,globex"))
    names = sorted(q["name"] for q in both.get(api("saved-queries")).json())
    assert names == ["acme shared", "globex shared"]
    refused = both.post(api("saved-queries"), {"name": "x", "query": COUNT}, format="json")
    assert refused.status_code == 403
    assert "tenant" in refused.json()["detail"]
    assert not SavedQuery.objects.filter(name="x").exists()


def test_a_dashboard_never_uses_another_tenants_saved_query(
    tenants: None, client: APIClient, client_for: Any
) -> None:
    acme_query = save(client, "acme shared", shared=True)
    bob = client_for(user_in("bob2", "globex"))
    widget = {
        "type": "metric",
        "title": "n",
        "saved_query": acme_query,
        "position": {"x": 0, "y": 0, "w": 3, "h": 2},
    }
    refused = bob.post(api("dashboards"), {"name": "d", "widgets": [widget]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "/widgets/0/saved_query"
    # A link written behind the API's back is not followed either: the widget has no query,
    # and the export does not carry acme's definition.
    created = bob.post(api("dashboards"), {"name": "d"}, format="json").json()
    dashboard = Dashboard.objects.get(pk=created["id"])
    Widget.objects.create(dashboard=dashboard, type="metric", saved_query_id=acme_query)
    results = bob.post(api(f"dashboards/{dashboard.pk}/execute"), {}, format="json").json()
    (entry,) = results["results"].values()
    assert entry["error"]["status"] == 404
    exported = bob.get(api(f"dashboards/{dashboard.pk}/export")).json()
    assert exported["widgets"][0]["query"] is None
