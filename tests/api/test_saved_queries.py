"""``saved-queries``: CRUD, the ownership rule (own + shared visible; only the owner writes; 404 for
another user's private query, 403 for a shared one), validation on save, and ``execute``."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from prismiq_django.models import SavedQuery
from tests.api.conftest import api, configure, definition

URL = api("saved-queries")


@pytest.fixture
def bob_client(client_for: Any, bob: User) -> APIClient:
    client: APIClient = client_for(bob)
    return client


def _create(client: APIClient, name: str, *, shared: bool = False, **extra: Any) -> dict[str, Any]:
    payload = {"name": name, "query": definition(limit=2), "is_shared": shared, **extra}
    response = client.post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def test_create_sets_owner_and_returns_all_fields(
    client: APIClient, alice: User, bob: User
) -> None:
    data = _create(client, "orders", description="first two", owner=bob.pk)
    assert set(data) == {
        "id", "name", "description", "query", "filters", "is_shared", "owner", "created_at",
        "updated_at",
    }  # fmt: skip
    assert data["filters"] == []  # declared parameters (issue 23 item 11): none by default
    assert data["owner"] == alice.pk  # the body's owner is ignored
    assert data["description"] == "first two"
    assert data["query"] == definition(limit=2)
    assert SavedQuery.objects.get(pk=data["id"]).owner_id == alice.pk


def test_list_shows_own_and_shared(client: APIClient, bob_client: APIClient) -> None:
    _create(client, "alice-private")
    _create(client, "alice-shared", shared=True)
    _create(bob_client, "bob-private")
    alice_names = sorted(q["name"] for q in client.get(URL).json())
    bob_names = sorted(q["name"] for q in bob_client.get(URL).json())
    assert alice_names == ["alice-private", "alice-shared"]
    assert bob_names == ["alice-shared", "bob-private"]


def test_other_users_private_query_is_404_for_every_action(
    client: APIClient, bob_client: APIClient
) -> None:
    pk = _create(client, "private")["id"]
    detail = api(f"saved-queries/{pk}")
    assert bob_client.get(detail).status_code == 404
    assert (
        bob_client.put(detail, {"name": "x", "query": definition()}, format="json").status_code
        == 404
    )
    assert bob_client.patch(detail, {"name": "x"}, format="json").status_code == 404
    assert bob_client.delete(detail).status_code == 404
    assert bob_client.post(api(f"saved-queries/{pk}/execute"), {}, format="json").status_code == 404
    saved = SavedQuery.objects.get(pk=pk)
    assert saved.name == "private"


def test_every_saved_query_404_has_one_text_naming_no_model(
    client: APIClient, bob_client: APIClient
) -> None:
    private = _create(client, "private")["id"]
    missing = private + 1000
    answers = [
        bob_client.get(api(f"saved-queries/{private}")),
        bob_client.patch(api(f"saved-queries/{private}"), {"name": "x"}, format="json"),
        bob_client.delete(api(f"saved-queries/{private}")),
        bob_client.post(api(f"saved-queries/{private}/execute"), {}, format="json"),
        client.get(api(f"saved-queries/{missing}")),
        client.put(api(f"saved-queries/{missing}"), {"name": "x", "query": {}}, format="json"),
        client.post(api(f"saved-queries/{missing}/execute"), {}, format="json"),
        client.get(api("saved-queries/abc")),
        client.get(api("saved-queries/99999999999999999999999")),
    ]
    for response in answers:
        assert response.status_code == 404, response.content
        assert response.json() == {"detail": "Not found."}
        assert "SavedQuery" not in response.content.decode()


def test_shared_query_is_readable_and_runnable_but_not_writable(
    client: APIClient, bob_client: APIClient
) -> None:
    pk = _create(client, "shared", shared=True)["id"]
    detail = api(f"saved-queries/{pk}")
    assert bob_client.get(detail).json()["name"] == "shared"
    executed = bob_client.post(api(f"saved-queries/{pk}/execute"), {}, format="json")
    assert executed.status_code == 200
    assert executed.json()["row_count"] == 2
    assert (
        bob_client.put(detail, {"name": "x", "query": definition()}, format="json").status_code
        == 403
    )
    assert bob_client.patch(detail, {"name": "x"}, format="json").status_code == 403
    assert bob_client.delete(detail).status_code == 403
    assert SavedQuery.objects.get(pk=pk).name == "shared"


def test_owner_updates_and_deletes(client: APIClient) -> None:
    pk = _create(client, "mine")["id"]
    detail = api(f"saved-queries/{pk}")
    patched = client.patch(detail, {"name": "renamed", "is_shared": True}, format="json")
    assert patched.status_code == 200
    assert patched.json()["name"] == "renamed"
    assert patched.json()["is_shared"] is True
    new_query = definition(limit=1)
    put = client.put(detail, {"name": "full", "query": new_query}, format="json")
    assert put.status_code == 200
    assert put.json()["query"] == new_query
    assert client.delete(detail).status_code == 204
    assert not SavedQuery.objects.filter(pk=pk).exists()
    assert client.get(detail).status_code == 404


def test_invalid_query_is_refused_on_save_with_codes(client: APIClient) -> None:
    bad = definition(columns=[{"table_id": "o", "column": "nope"}])
    response = client.post(URL, {"name": "bad", "query": bad}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Query validation failed"
    assert body["errors"][0]["code"] == "column_not_found"
    assert body["errors"][0]["path"] == "/query/columns/0/column"
    assert not SavedQuery.objects.exists()
    pk = _create(client, "ok")["id"]
    patched = client.patch(api(f"saved-queries/{pk}"), {"query": bad}, format="json")
    assert patched.status_code == 400
    assert SavedQuery.objects.get(pk=pk).query == definition(limit=2)


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"query": definition()}, "/name"),
        ({"name": "", "query": definition()}, "/name"),
        ({"name": "x" * 201, "query": definition()}, "/name"),
        ({"name": "n"}, "/query"),
        ({"name": "n", "query": definition(), "is_shared": "often"}, "/is_shared"),
    ],
)
def test_bad_fields_are_400(client: APIClient, payload: dict[str, Any], path: str) -> None:
    response = client.post(URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid request"
    assert path in [e["path"] for e in body["errors"]]


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"note": "a\x00b"}, "/query/note"),
        ({"\x00key": 1}, "/query/\x00key"),
        ({"tags": ["ok", {"deep": "x\x00"}]}, "/query/tags/1/deep"),
    ],
)
def test_nul_characters_anywhere_in_the_query_are_400_not_500(
    client: APIClient, extra: dict[str, Any], path: str
) -> None:
    """PostgreSQL's jsonb cannot store NUL: refused on create and update, ignored keys too."""
    response = client.post(URL, {"name": "n", "query": {**definition(), **extra}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "invalid_value", "message": "Text may not contain NUL characters.", "path": path}
    ]
    pk = _create(client, "ok")["id"]
    patched = client.patch(
        api(f"saved-queries/{pk}"), {"query": {**definition(), **extra}}, format="json"
    )
    assert patched.status_code == 400
    assert SavedQuery.objects.get(pk=pk).query == definition(limit=2)


def test_execute_runs_the_stored_query(client: APIClient) -> None:
    pk = _create(client, "two")["id"]
    result = client.post(api(f"saved-queries/{pk}/execute"), {}, format="json").json()
    assert result["columns"] == ["id", "status", "total"]
    assert result["row_count"] == 2
    assert result["truncated"] is True
    bypass = client.post(api(f"saved-queries/{pk}/execute"), {"bypass_cache": True}, format="json")
    assert bypass.status_code == 200
    for flag in ("x", "on", "1", 0):
        bad = client.post(api(f"saved-queries/{pk}/execute"), {"bypass_cache": flag}, format="json")
        assert bad.status_code == 400, flag
        assert [e["path"] for e in bad.json()["errors"]] == ["/bypass_cache"]


def test_execute_revalidates_against_current_exposure(client: APIClient, settings: Any) -> None:
    pk = _create(client, "orders")["id"]
    configure(settings, EXPOSED_TABLES=["shop_customer"])
    response = client.post(api(f"saved-queries/{pk}/execute"), {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "table_not_found",
        "message": response.json()["errors"][0]["message"],
        "path": "/query/tables/0/name",
    }


@pytest.mark.parametrize(
    "pk", ["abc", "1.5", "-1", "0", "99999999999999999999999", "1e3", "%20", "null"]
)
def test_odd_ids_are_404(client: APIClient, pk: str) -> None:
    _create(client, "one")
    for url in (api(f"saved-queries/{pk}"), api(f"saved-queries/{pk}/execute")):
        method = client.get if url.endswith(pk) else client.post
        response = method(url)
        assert response.status_code == 404, (url, response.content)
        assert response.json() == {"detail": "Not found."}


def test_saved_queries_table_is_never_queryable(client: APIClient, settings: Any) -> None:
    _create(client, "secret-name")
    configure(settings, EXPOSED_TABLES=["prismiq_django_savedquery"])
    assert client.get(api("tables")).json() == {"tables": []}
    query = {
        "tables": [{"id": "s", "name": "prismiq_django_savedquery"}],
        "columns": [{"table_id": "s", "column": "name"}],
    }
    response = client.post(api("query/execute"), {"query": query}, format="json")
    assert response.status_code == 400
    assert "secret-name" not in response.content.decode()


def test_duplicate_names_and_unicode_are_fine(client: APIClient) -> None:
    first = _create(client, "Revenue — 2024 ✓")
    second = _create(client, "Revenue — 2024 ✓")
    assert first["id"] != second["id"]
    names = [q["name"] for q in client.get(URL).json()]
    assert names.count("Revenue — 2024 ✓") == 2


def test_every_fields_errors_are_reported_at_once(client: APIClient) -> None:
    """Issue 23 item 10: an empty name and an invalid query: both reported, like the query
    validator reports every problem of a definition."""
    bad = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "colour"}, {"table_id": "x", "column": "id"}],
    }
    response = client.post(
        api("saved-queries"), {"name": "", "is_shared": "maybe", "query": bad}, format="json"
    )
    assert response.status_code == 400, response.content
    paths = {e["path"] for e in response.json()["errors"]}
    assert {"/name", "/is_shared", "/query/columns/0/column", "/query/columns/1/table_id"} <= paths
    # A valid query with a bad name is DRF's answer, as before.
    only_name = client.post(
        api("saved-queries"), {"name": "", "query": definition()}, format="json"
    )
    assert only_name.json()["detail"] == "Invalid request"
    assert [e["path"] for e in only_name.json()["errors"]] == ["/name"]
