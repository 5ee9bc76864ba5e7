"""Stateless JWT authentication (djangorestframework-simplejwt's ``JWTStatelessUserAuthentication``)
through the real DRF stack: ``request.user`` is a ``TokenUser`` built from the token's claims, never
a row of the user table.

Covers every endpoint for a token user, saved-query ownership by the token's ``user_id`` (string
in simplejwt 5.5, integer before), tokens naming users that do not exist or ids that are not
primary keys, the ``is_staff`` claim and ``metrics``, bad tokens (expired, tampered, unsigned,
foreign key, a refresh token), a tenant read from the token, and that a token request reads no
user row.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from prismiq_django import services
from prismiq_django.models import ExposedTable, SavedQuery
from tests.api.conftest import (
    AUTHENTICATED_CALLS,
    CANARY_SECRET,
    api,
    body_text,
    configure,
    definition,
)
from tests.tokens import (
    DROP,
    access_token,
    bearer,
    expired_token,
    foreign_token,
    tampered_token,
    unsigned_token,
)

pytestmark = pytest.mark.usefixtures("jwt_auth", "exposed", "shop", "canary")

SAVED = api("saved-queries")
MISSING_USER_ID = "987654321"
CREATE_REFUSED = "Saving a query needs an active user account; the caller has none."


@pytest.fixture
def alice_token(alice: User) -> APIClient:
    return bearer(access_token(alice))


@pytest.fixture
def bob_token(bob: User) -> APIClient:
    return bearer(access_token(bob))


def _create(client: APIClient, name: str, *, shared: bool = False) -> dict[str, Any]:
    response = client.post(
        SAVED, {"name": name, "query": definition(limit=2), "is_shared": shared}, format="json"
    )
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def _names(client: APIClient) -> list[str]:
    response = client.get(SAVED)
    assert response.status_code == 200, response.content
    return sorted(q["name"] for q in response.json())


# --- every endpoint ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload"), [*AUTHENTICATED_CALLS, ("get", "health", None)]
)
def test_every_endpoint_answers_a_token_user(
    alice_token: APIClient, method: str, path: str, payload: object
) -> None:
    response = getattr(alice_token, method)(api(path), payload, format="json")
    assert response.status_code == 200, (path, response.content)


def test_a_token_user_runs_queries_with_results(alice_token: APIClient) -> None:
    result = alice_token.post(api("query/execute"), {"query": definition()}, format="json").json()
    assert result["columns"] == ["id", "status", "total"]
    assert result["row_count"] == 10
    assert CANARY_SECRET not in str(result)


def test_the_openapi_document_names_the_bearer_scheme_without_warnings(
    alice_token: APIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = alice_token.get(api("openapi"), {"format": "json"})
    assert response.status_code == 200
    doc = response.json()
    validate_schema(doc)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["jwtAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert {"jwtAuth": []} in doc["paths"][api("query/execute/")]["post"]["security"]
    assert "403" in doc["paths"][api("saved-queries/")]["post"]["responses"]  # no user account
    err = capsys.readouterr().err
    assert "Warning" not in err
    assert "Error" not in err


# --- saved queries: ownership by the token's user id -------------------------------------------


def test_a_token_user_creates_and_owns_a_saved_query(alice: User, alice_token: APIClient) -> None:
    data = _create(alice_token, "mine")
    assert data["owner"] == alice.pk  # the user's key, not the claim's text
    assert SavedQuery.objects.get(pk=data["id"]).owner_id == alice.pk
    detail = api(f"saved-queries/{data['id']}")
    assert alice_token.patch(detail, {"name": "renamed"}, format="json").status_code == 200
    put = alice_token.put(detail, {"name": "full", "query": definition(limit=1)}, format="json")
    assert put.status_code == 200, put.content
    executed = alice_token.post(api(f"saved-queries/{data['id']}/execute"), {}, format="json")
    assert executed.json()["row_count"] == 1
    assert alice_token.delete(detail).status_code == 204
    assert not SavedQuery.objects.filter(pk=data["id"]).exists()


def test_a_token_and_a_session_of_one_user_are_one_owner(
    alice: User, alice_token: APIClient, client_for: Any
) -> None:
    session = client_for(alice)
    by_session = _create(session, "by-session")["id"]
    by_token = _create(alice_token, "by-token")["id"]
    assert _names(session) == _names(alice_token) == ["by-session", "by-token"]
    for pk in (by_session, by_token):
        for client in (session, alice_token):
            patched = client.patch(api(f"saved-queries/{pk}"), {"description": "x"}, format="json")
            assert patched.status_code == 200, patched.content


def test_an_integer_user_id_claim_is_the_same_owner(alice: User, alice_token: APIClient) -> None:
    """simplejwt before 5.5 wrote ``user_id`` as an integer; 5.5 writes a string."""
    pk = _create(alice_token, "mine")["id"]
    as_int = bearer(access_token(alice, user_id=alice.pk))
    assert _names(as_int) == ["mine"]
    assert as_int.patch(api(f"saved-queries/{pk}"), {"name": "x"}, format="json").status_code == 200


def test_another_token_user_cannot_write_and_sees_only_shared(
    alice_token: APIClient, bob_token: APIClient
) -> None:
    private = _create(alice_token, "alice-private")["id"]
    shared = _create(alice_token, "alice-shared", shared=True)["id"]
    _create(bob_token, "bob-private")
    assert _names(bob_token) == ["alice-shared", "bob-private"]
    assert _names(alice_token) == ["alice-private", "alice-shared"]
    for pk, status in ((private, 404), (shared, 403)):
        detail = api(f"saved-queries/{pk}")
        assert bob_token.patch(detail, {"name": "x"}, format="json").status_code == status
        assert bob_token.delete(detail).status_code == status
    assert bob_token.get(api(f"saved-queries/{private}")).status_code == 404
    executed = bob_token.post(api(f"saved-queries/{shared}/execute"), {}, format="json")
    assert executed.json()["row_count"] == 2
    assert sorted(SavedQuery.objects.values_list("name", flat=True)) == [
        "alice-private", "alice-shared", "bob-private",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "claims",
    [
        {"user_id": MISSING_USER_ID},  # a user that does not exist (deleted, or never here)
        {"user_id": "abc"},  # not a primary key of this user model
        {"user_id": "01"},  # not the spelling of one
        {"user_id": 1.0},
        {"user_id": True},
    ],
)
def test_a_token_without_a_user_row_sees_only_shared_and_cannot_save(
    alice_token: APIClient, claims: dict[str, Any]
) -> None:
    private = _create(alice_token, "alice-private")["id"]
    shared = _create(alice_token, "alice-shared", shared=True)["id"]
    stranger = bearer(access_token(**claims))

    def status(method: str, path: str, body: object = None) -> int:
        code: int = getattr(stranger, method)(api(path), body, format="json").status_code
        return code

    assert _names(stranger) == ["alice-shared"]
    assert status("get", f"saved-queries/{private}") == 404
    assert status("post", f"saved-queries/{shared}/execute", {}) == 200
    assert status("patch", f"saved-queries/{shared}", {"name": "x"}) == 403
    refused = stranger.post(SAVED, {"name": "n", "query": definition()}, format="json")
    assert refused.status_code == 403, refused.content
    assert refused.json() == {"detail": CREATE_REFUSED}
    # Refused before the body is read: an invalid body gets the same answer, not a 400.
    assert status("post", "saved-queries", {"name": ""}) == 403
    assert SavedQuery.objects.count() == 2
    # Queries themselves run: the token is valid and authenticated.
    assert status("post", "query/execute", {"query": definition()}) == 200


def test_a_token_for_a_deactivated_user_cannot_save_but_still_reads(
    alice: User, alice_token: APIClient
) -> None:
    """The stateless trade-off: the token stays valid until it expires (nothing reads the row),
    but the one write that needs the row refuses an inactive user."""
    pk = _create(alice_token, "mine")["id"]
    User.objects.filter(pk=alice.pk).update(is_active=False)
    created = alice_token.post(SAVED, {"name": "n", "query": definition()}, format="json")
    assert created.status_code == 403
    assert _names(alice_token) == ["mine"]
    executed = alice_token.post(api(f"saved-queries/{pk}/execute"), {}, format="json")
    assert executed.status_code == 200


def test_a_token_of_a_deactivated_user_changes_no_saved_query(
    alice: User, alice_token: APIClient
) -> None:
    """Issue 15 item 4: sharing, renaming, replacing and deleting were allowed to the token of a
    deactivated user until it expired; every write of its own queries is 403 now, reads still
    work, and another user's private query stays a 404."""
    mine = _create(alice_token, "mine")["id"]
    shared = _create(alice_token, "shared", shared=True)["id"]
    User.objects.filter(pk=alice.pk).update(is_active=False)
    refused = "Changing a saved query needs an active user account; the caller has none."
    writes = [
        alice_token.patch(api(f"saved-queries/{mine}"), {"is_shared": True}, format="json"),
        alice_token.put(
            api(f"saved-queries/{mine}"),
            {"name": "n", "query": definition(), "is_shared": True},
            format="json",
        ),
        alice_token.delete(api(f"saved-queries/{shared}")),
        alice_token.delete(api(f"saved-queries/{mine}")),
    ]
    for response in writes:
        assert response.status_code == 403, response.content
        assert response.json()["detail"] == refused
    assert SavedQuery.objects.get(pk=mine).is_shared is False
    assert SavedQuery.objects.count() == 2
    assert _names(alice_token) == ["mine", "shared"]
    other = SavedQuery.objects.create(
        name="bob-private", query=definition(), owner=User.objects.create_user("bob2")
    )
    assert alice_token.delete(api(f"saved-queries/{other.pk}")).status_code == 404


def test_a_token_for_a_deactivated_user_changes_no_dashboard(
    alice: User, alice_token: APIClient
) -> None:
    """Issue 15 item 4, dashboards: the owner's writes (PATCH, DELETE, widgets) need an active
    user; reads of what it may see still answer."""
    created = alice_token.post(api("dashboards"), {"name": "Mine", "widgets": []}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    User.objects.filter(pk=alice.pk).update(is_active=False)
    refused = "Changing a dashboard needs an active user account; the caller has none."
    writes = [
        alice_token.patch(api(f"dashboards/{pk}"), {"is_public": True}, format="json"),
        alice_token.delete(api(f"dashboards/{pk}")),
        alice_token.post(
            api(f"dashboards/{pk}/widgets"),
            {
                "type": "text",
                "title": "t",
                "position": {"x": 0, "y": 0, "w": 2, "h": 2},
                "config": {"content": "x"},
            },
            format="json",
        ),
    ]
    for response in writes:
        assert response.status_code == 403, response.content
        assert response.json()["detail"] == refused
    assert alice_token.get(api(f"dashboards/{pk}")).status_code == 200
    assert alice_token.get(api(f"dashboards/{pk}")).json()["is_public"] is False


def test_a_token_for_a_deleted_user_is_not_an_integrity_error(alice: User, bob: User) -> None:
    token = bearer(access_token(bob))
    bob.delete()
    response = token.post(SAVED, {"name": "n", "query": definition()}, format="json")
    assert response.status_code == 403
    assert "Integrity" not in body_text(response)
    assert not SavedQuery.objects.exists()


# --- metrics and the is_staff claim -------------------------------------------------------------


def test_metrics_follow_the_is_staff_claim_not_the_user_row(alice: User) -> None:
    alice.is_staff = True
    alice.save()
    assert bearer(access_token(alice)).get(api("metrics")).status_code == 403  # no claim
    assert bearer(access_token(alice, is_staff=False)).get(api("metrics")).status_code == 403
    staff = bearer(access_token(alice, is_staff=True))
    response = staff.get(api("metrics"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"prismiq_requests_total" in response.content


@pytest.mark.parametrize("claim", ["false", "true", "0", 1, [True], {"is": True}], ids=repr)
def test_only_a_json_true_is_staff_claim_is_staff(alice: User, claim: object) -> None:
    """Issue 15 item 3: DRF's IsAdminUser read the claim by truthiness ("false" was staff)."""
    token = bearer(access_token(alice, is_staff=claim))
    assert token.get(api("metrics")).status_code == 403
    assert bearer(access_token(alice, is_staff=True)).get(api("metrics")).status_code == 200


def test_a_string_is_staff_claim_runs_no_raw_sql(alice: User) -> None:
    """The raw SQL endpoints' default class is the strict one too (a ``"false"`` claim was staff
    for DRF's IsAdminUser)."""
    body = {"sql": "SELECT 1"}
    refused = bearer(access_token(alice, is_staff="false")).post(
        api("sql/validate"), body, format="json"
    )
    assert refused.status_code == 403
    allowed = bearer(access_token(alice, is_staff=True)).post(
        api("sql/validate"), body, format="json"
    )
    assert allowed.status_code != 403, allowed.content


def test_a_string_is_staff_claim_is_no_dashboard_admin(alice: User, bob: User) -> None:
    """The dashboard administrators' default class is the same strict one: a token claiming
    ``"false"`` does not read another user's private dashboard."""
    created = bearer(access_token(bob)).post(
        api("dashboards"), {"name": "Bob's", "widgets": []}, format="json"
    )
    assert created.status_code == 201, created.content
    path = api(f"dashboards/{created.json()['id']}")
    assert bearer(access_token(alice, is_staff="false")).get(path).status_code == 404
    assert bearer(access_token(alice, is_staff=True)).get(path).status_code == 200


def test_the_is_staff_claim_is_trusted_without_the_row(bob: User) -> None:
    """Whatever the row says: the signed token is the user (why access tokens must be short)."""
    assert not bob.is_staff
    assert bearer(access_token(bob, is_staff=True)).get(api("metrics")).status_code == 200


# --- bad tokens never reach prismiq --------------------------------------------------------------


@pytest.fixture
def no_prismiq(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every call into the services (none may happen)."""
    calls: list[str] = []
    for name in ("execute", "preview", "explain", "validate", "table_names", "schema_json"):
        original = getattr(services, name)

        def spy(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(services, name, spy)
    return calls


BAD_TOKENS = {
    "expired": lambda u: expired_token(u),
    "tampered": lambda u: tampered_token(access_token(u), user_id="1", is_staff=True),
    "alg-none": lambda u: unsigned_token(access_token(u)),
    "alg-none-staff": lambda u: unsigned_token(access_token(u), is_staff=True),
    "foreign-key": lambda u: foreign_token(access_token(u)),
    "refresh-as-access": lambda u: str(RefreshToken.for_user(u)),
    "no-user-id": lambda u: access_token(u, user_id=DROP),
    "garbage": lambda u: "not.a.jwt",
    "empty-payload": lambda u: access_token(u).split(".")[0] + "..",
}


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "query/execute", {"query": definition()}),
        ("get", "tables", None),
        ("get", "saved-queries", None),
        ("get", "metrics", None),
    ],
)
def test_a_bad_token_is_401_and_never_reaches_prismiq(
    bob: User, no_prismiq: list[str], kind: str, method: str, path: str, payload: object
) -> None:
    client = bearer(BAD_TOKENS[kind](bob))
    response = getattr(client, method)(api(path), payload, format="json")
    assert response.status_code == 401, (kind, response.content)
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert no_prismiq == []
    assert CANARY_SECRET not in body_text(response)
    assert "shop_order" not in body_text(response)


def test_a_tampered_token_does_not_become_its_new_user(alice: User, bob: User) -> None:
    _create(bearer(access_token(alice)), "alice-private")
    forged = bearer(tampered_token(access_token(bob), user_id=str(alice.pk)))
    assert forged.get(SAVED).status_code == 401


def test_a_malformed_authorization_header_is_401() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer a b")
    assert client.get(api("tables")).status_code == 401


def test_anonymous_callers_get_401_with_a_bearer_challenge(anon: APIClient) -> None:
    response = anon.get(api("tables"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# --- no user row is read -------------------------------------------------------------------------


def _user_table_queries(queries: CaptureQueriesContext) -> list[str]:
    table = User._meta.db_table
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "tables", None),
        ("get", "schema", None),
        ("post", "query/execute", {"query": definition()}),
    ],
)
def test_a_cached_token_request_runs_no_query_at_all(
    settings: Any, alice: User, method: str, path: str, payload: object
) -> None:
    configure(settings, SCHEMA_CACHE_TTL=300, RESULT_CACHE_TTL=300)
    client = bearer(access_token(alice))
    warm = getattr(client, method)(api(path), payload, format="json")
    assert warm.status_code == 200, warm.content
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(api(path), payload, format="json")
        User.objects.filter(pk=-1).exists()  # a marker: the capture was live around the request
    assert response.status_code == 200
    if path == "query/execute":
        assert response.json()["is_from_cache"] is True
    assert len(queries.captured_queries) == 1, queries.captured_queries  # the marker alone


def test_a_session_request_reads_the_user_row_where_a_token_does_not(
    settings: Any, alice: User
) -> None:
    """The contrast the token saves: the same cached request with a session reads the session
    and the user (two queries), with a token nothing."""
    configure(settings, SCHEMA_CACHE_TTL=300, RESULT_CACHE_TTL=300)
    session = APIClient()
    session.force_login(alice)
    token = bearer(access_token(alice))
    for client in (session, token):
        assert client.get(api("tables")).status_code == 200
    with CaptureQueriesContext(connection) as by_session:
        assert session.get(api("tables")).status_code == 200
    with CaptureQueriesContext(connection) as by_token:
        assert token.get(api("tables")).status_code == 200
    assert len(_user_table_queries(by_session)) == 1
    assert len(by_session.captured_queries) == 2  # the session, then the user
    assert by_token.captured_queries == []


def test_listing_saved_queries_reads_no_user_row_and_updating_reads_it_once(
    alice: User, alice_token: APIClient
) -> None:
    """Reads trust the token; a write reads the user row once, by primary key, to check that
    the user is still active (issue 15 item 4: this test asserted no read for an update)."""
    pk = _create(alice_token, "mine", shared=True)["id"]
    with CaptureQueriesContext(connection) as listing:
        assert alice_token.get(SAVED).status_code == 200
        assert (
            alice_token.post(api(f"saved-queries/{pk}/execute"), {}, format="json").status_code
            == 200
        )
    assert _user_table_queries(listing) == []
    with CaptureQueriesContext(connection) as updating:
        patched = alice_token.patch(api(f"saved-queries/{pk}"), {"name": "x"}, format="json")
        assert patched.status_code == 200
    assert len(_user_table_queries(updating)) == 1


def test_creating_reads_the_user_row_once(alice: User, alice_token: APIClient) -> None:
    with CaptureQueriesContext(connection) as queries:
        _create(alice_token, "mine")
    assert len(_user_table_queries(queries)) == 1  # the owner must exist (and be active)


# --- the tenant from a claim ---------------------------------------------------------------------


def tenant_from_token(request: Any) -> object:
    """The README's TENANT_CALLBACK: the ``tenant_id`` claim of a simplejwt token, else none."""
    token = getattr(request, "auth", None)
    if isinstance(token, AccessToken):
        return token.get("tenant_id")
    return None


def test_a_tenant_claim_scopes_rows_without_a_database_read(
    settings: Any, alice: User, client_for: Any
) -> None:
    configure(
        settings,
        EXPOSED_TABLES=None,
        TENANT_CALLBACK="tests.api.test_stateless_tokens.tenant_from_token",
    )
    ExposedTable.objects.create(name="shop_order", is_exposed=True, tenant_column="tenant_id")
    services.invalidate_catalog()
    count = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"}],
    }

    def run(client: APIClient) -> Any:
        return client.post(api("query/execute"), {"query": count}, format="json")

    assert run(bearer(access_token(alice, tenant_id=1))).json()["rows"] == [[10]]
    assert run(bearer(access_token(alice, tenant_id=2))).json()["rows"] == [[0]]
    # No claim, or a session (no token): no tenant, so the tenant table is refused (fail closed).
    for client in (bearer(access_token(alice)), client_for(alice)):
        refused = run(client)
        assert refused.status_code == 400, refused.content
        assert "rows" not in refused.json()
