"""Embed tokens (SPEC section 10): creation by editors only, the exact grant (one dashboard, read
and execute only), locked filters overriding request values, expiry, tamper detection,
revocation, the token's tenant, and a verification that reads the database once.

Token holders are fresh clients with no session: ``Authorization: Embed <token>`` only.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from example_project.shop.models import Customer, Order
from prismiq_django import services
from prismiq_django.api.authentication import REFUSED
from prismiq_django.models import ExposedTable
from prismiq_django.tenancy import embed as embed_module
from tests.api.conftest import api, configure
from tests.api.test_urls import _methods, _walk

BY_STATUS = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [
        {"table_id": "o", "column": "status"},
        {"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"},
    ],
    "order_by": [{"table_id": "o", "column": "status", "direction": "ASC"}],
}
STATUS_FILTER = {"id": "status", "type": "select", "label": "Status", "field": "status"}


def dashboard_body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Embedded",
        "filters": [STATUS_FILTER],
        "widgets": [
            {
                "type": "table",
                "title": "By status",
                "query": BY_STATUS,
                "position": {"x": 0, "y": 0, "w": 6, "h": 4},
            },
            {
                "type": "text",
                "title": "Note",
                "position": {"x": 6, "y": 0, "w": 6, "h": 2},
                "config": {"content": "Hi"},
            },
        ],
    }
    data.update(overrides)
    return data


def send(client: APIClient, method: str, path: str, data: object = None) -> Any:
    body = json.dumps(data) if data is not None else None
    return getattr(client, method)(api(path), body, content_type="application/json")


def make_dashboard(client: APIClient, **overrides: Any) -> dict[str, Any]:
    response = send(client, "post", "dashboards", dashboard_body(**overrides))
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def issue(client: APIClient, dashboard: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = send(client, "post", f"dashboards/{dashboard['id']}/embed-tokens", body)
    assert response.status_code == 201, response.content
    issued: dict[str, Any] = response.json()
    return issued


def holder(token: str) -> APIClient:
    """A client that presents ``token`` and nothing else."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Embed {token}")
    return client


def run(client: APIClient, dashboard: dict[str, Any], values: object = None) -> Any:
    body = {} if values is None else {"filter_values": values}
    return send(client, "post", f"dashboards/{dashboard['id']}/execute", body)


def table_rows(response: Any, dashboard: dict[str, Any]) -> list[list[Any]]:
    assert response.status_code == 200, response.content
    widget = next(w for w in dashboard["widgets"] if w["type"] == "table")
    entry = response.json()["results"][str(widget["id"])]
    assert "error" not in entry, entry
    rows: list[list[Any]] = entry["rows"]
    return rows


def test_a_token_is_issued_with_its_expiry_and_url(client: APIClient) -> None:
    dashboard = make_dashboard(client)
    before = time.time()
    issued = issue(client, dashboard)
    assert set(issued) == {"token", "expires_at", "url"}
    expires = datetime.fromisoformat(issued["expires_at"].replace("Z", "+00:00"))
    assert before + 599 <= expires.timestamp() <= time.time() + 601  # default 600 s
    assert issued["token"] in issued["url"]
    assert issued["url"].startswith("http")
    longer = issue(client, dashboard, expires_in=3600)
    assert datetime.fromisoformat(longer["expires_at"].replace("Z", "+00:00")) > expires


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"expires_in": 86_401}, "/expires_in"),
        ({"expires_in": 0}, "/expires_in"),
        ({"expires_in": "600"}, "/expires_in"),
        ({"expires_in": True}, "/expires_in"),
        ({"locked_filters": {"nope": "paid"}}, "/locked_filters/nope"),
        ({"locked_filters": {"status": ["paid"]}}, "/locked_filters/status"),
        ({"locked_filters": ["status"]}, "/locked_filters"),
    ],
)
def test_a_bad_request_is_a_400_with_a_path(
    client: APIClient, body: dict[str, Any], path: str
) -> None:
    dashboard = make_dashboard(client)
    response = send(client, "post", f"dashboards/{dashboard['id']}/embed-tokens", body)
    assert response.status_code == 400, response.content
    assert [e["path"] for e in response.json()["errors"]] == [path]


def test_the_expiry_is_at_most_embed_token_max_age(client: APIClient, settings: Any) -> None:
    configure(settings, EMBED_TOKEN_MAX_AGE=60)
    dashboard = make_dashboard(client)
    response = send(client, "post", f"dashboards/{dashboard['id']}/embed-tokens", {})
    assert response.status_code == 400  # the default 600 is beyond the site's maximum
    assert issue(client, dashboard, expires_in=60)["token"]


def test_only_editors_issue_and_revoke(client: APIClient, client_for: Any, bob: User) -> None:
    dashboard = make_dashboard(client, is_public=True)
    private = make_dashboard(client, name="private")
    other = client_for(bob)
    for path in ("embed-tokens", "embed-tokens/revoke"):
        assert send(other, "post", f"dashboards/{dashboard['id']}/{path}", {}).status_code == 403
        assert send(other, "post", f"dashboards/{private['id']}/{path}", {}).status_code == 404
        assert send(
            APIClient(), "post", f"dashboards/{dashboard['id']}/{path}", {}
        ).status_code in {
            401,
            403,
        }
    bob.is_staff = True  # a dashboard admin (DASHBOARD_ADMIN_PERMISSION_CLASSES) may
    bob.save()
    assert issue(client_for(bob), private)["token"]


def test_the_token_grants_reading_and_running_its_dashboard(client: APIClient) -> None:
    dashboard = make_dashboard(client)
    token = issue(client, dashboard)["token"]
    embed = holder(token)
    read = send(embed, "get", f"dashboards/{dashboard['id']}")
    assert read.status_code == 200, read.content
    assert read.json()["name"] == "Embedded"
    mine = table_rows(run(client, dashboard), dashboard)
    assert table_rows(run(embed, dashboard), dashboard) == mine
    widget = dashboard["widgets"][0]["id"]
    one = send(embed, "post", f"dashboards/{dashboard['id']}/widgets/{widget}/execute", [])
    assert one.status_code == 200, one.content
    assert one.json()["rows"] == mine
    # ?embed= on a GET (the embed page's links) works too.
    by_query = APIClient().get(api(f"dashboards/{dashboard['id']}?embed={token}"))
    assert by_query.status_code == 200


def test_nothing_else(client: APIClient) -> None:
    dashboard = make_dashboard(client)
    other = make_dashboard(client, name="other")
    token = issue(client, dashboard)["token"]
    embed = holder(token)
    # Another dashboard: absent.
    assert send(embed, "get", f"dashboards/{other['id']}").status_code == 404
    assert run(embed, other).status_code == 404
    # Writes, the list, exports, tokens, other endpoints: refused like an anonymous caller.
    widget = dashboard["widgets"][0]["id"]
    base = f"dashboards/{dashboard['id']}"
    for method, path, data in [
        ("patch", base, {"name": "x"}),
        ("delete", base, None),
        ("put", f"{base}/layout", []),
        ("post", f"{base}/widgets", dashboard_body()["widgets"][0]),
        ("patch", f"{base}/widgets/{widget}", {"title": "x"}),
        ("post", f"{base}/widgets/{widget}/duplicate", None),
        ("post", f"{base}/widgets/{widget}/export", {"format": "csv"}),
        ("get", f"{base}/export", None),
        ("post", f"{base}/embed-tokens", {}),
        ("post", f"{base}/embed-tokens/revoke", {}),
        ("get", "dashboards", None),
        ("post", "dashboards/import", {}),
        ("post", "query/execute", {"query": BY_STATUS}),
        ("get", "schema", None),
        ("get", "saved-queries", None),
    ]:
        response = send(embed, method, path, data)
        assert response.status_code in {401, 403}, (method, path, response.content)
    assert send(client, "get", base).json()["name"] == "Embedded"  # nothing changed


@pytest.mark.django_db
def test_every_other_endpoint_of_the_urlconf_refuses_the_token(
    client: APIClient, canary: None
) -> None:
    """The URLconf walk, with a valid token: only the dashboard's read and runs answer."""
    from prismiq_django import urls as prismiq_urls

    dashboard = make_dashboard(client)
    embed = holder(issue(client, dashboard)["token"])
    granted = {
        ("dashboard-detail", "get"),
        ("dashboard-detail", "head"),
        ("dashboard-detail", "options"),
        ("dashboard-execute", "post"),
        ("dashboard-widget-execute", "post"),
    }
    checked = 0
    for path, name, pattern in _walk(prismiq_urls.urlpatterns):
        if name in {"health-live", "health-ready"}:
            continue
        for method in _methods(pattern):
            if (name, method) in granted:
                continue
            response = getattr(embed, method)(api(path), {}, format="json")
            assert response.status_code in {401, 403, 404}, (method, path, response.content)
            checked += 1
    assert checked > 40


def test_locked_filters_override_what_requests_send(client: APIClient) -> None:
    dashboard = make_dashboard(client)
    token = issue(client, dashboard, locked_filters={"status": "paid"})["token"]
    embed = holder(token)
    everything = table_rows(run(client, dashboard), dashboard)
    assert len(everything) > 1
    paid = [row for row in everything if row[0] == "paid"]
    assert table_rows(run(embed, dashboard), dashboard) == paid
    for values in (
        [{"filter_id": "status", "value": "refunded"}],
        [{"filter_id": "status", "value": None}],
        [{"filter_id": "status", "value": ["not", "a", "scalar"]}],
    ):
        assert table_rows(run(embed, dashboard, values), dashboard) == paid
    widget = dashboard["widgets"][0]["id"]
    path = f"dashboards/{dashboard['id']}/widgets/{widget}/execute"
    overridden = [{"filter_id": "status", "value": "refunded"}]
    assert send(embed, "post", path, overridden).json()["rows"] == paid
    assert send(embed, "post", path, {"filter_values": overridden}).json()["rows"] == paid


def test_expired_tokens_are_refused(client: APIClient, monkeypatch: Any) -> None:
    dashboard = make_dashboard(client)
    token = issue(client, dashboard, expires_in=60)["token"]
    assert send(holder(token), "get", f"dashboards/{dashboard['id']}").status_code == 200
    later = time.time() + 61
    monkeypatch.setattr(embed_module, "clock", lambda: later)
    response = send(holder(token), "get", f"dashboards/{dashboard['id']}")
    # 403 rather than 401: the test site lists SessionAuthentication first (DRF answers 401
    # only when its first class names a WWW-Authenticate scheme).
    assert response.status_code == 403
    assert response.json()["detail"] == REFUSED


def test_tampered_tokens_are_refused(client: APIClient, settings: Any) -> None:
    dashboard = make_dashboard(client)
    token = issue(client, dashboard)["token"]
    payload, _, rest = token.partition(":")
    flipped = ("A" if payload[1] != "A" else "B").join((payload[:1], payload[2:]))
    for bad in (
        f"{flipped}:{rest}",
        token[:-2] + ("aa" if token[-2:] != "aa" else "bb"),
        token + "x",
        "garbage",
        "",
    ):
        response = send(holder(bad), "get", f"dashboards/{dashboard['id']}")
        assert response.status_code == 403, bad
        assert "Embedded" not in response.content.decode()
    # A token signed with another key (another site, or a key rotated away).
    settings.SECRET_KEY = "another-key-entirely"
    assert send(holder(token), "get", f"dashboards/{dashboard['id']}").status_code == 403


def test_a_forged_grant_cannot_widen_the_token(client: APIClient) -> None:
    """Anything a holder may try to change in the payload breaks the signature; only the
    site's key makes a token for another dashboard."""
    dashboard = make_dashboard(client)
    other = make_dashboard(client, name="other")
    token = issue(client, dashboard)["token"]
    grant = embed_module.read_token(token, max_age=86_400)
    assert grant.dashboard_id == int(dashboard["id"])
    forged = embed_module.sign_grant(
        embed_module.EmbedGrant(int(other["id"]), None, None, {}, 0, grant.expires_at)
    )
    payload = forged.partition(":")[0]
    spliced = payload + token[len(token.partition(":")[0]) :]
    assert send(holder(spliced), "get", f"dashboards/{other['id']}").status_code == 403


def test_revoking_invalidates_every_token_issued_so_far(client: APIClient) -> None:
    dashboard = make_dashboard(client)
    other = make_dashboard(client, name="other")
    first, second = (issue(client, dashboard)["token"] for _ in range(2))
    kept = issue(client, other)["token"]
    revoked = send(client, "post", f"dashboards/{dashboard['id']}/embed-tokens/revoke", {})
    assert revoked.status_code == 204
    for token in (first, second):
        assert send(holder(token), "get", f"dashboards/{dashboard['id']}").status_code == 403
    assert send(holder(kept), "get", f"dashboards/{other['id']}").status_code == 200
    fresh = issue(client, dashboard)["token"]
    assert send(holder(fresh), "get", f"dashboards/{dashboard['id']}").status_code == 200
    send(client, "post", f"dashboards/{dashboard['id']}/embed-tokens/revoke", {})
    assert send(holder(fresh), "get", f"dashboards/{dashboard['id']}").status_code == 403


def test_verifying_reads_the_database_once(client: APIClient) -> None:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from prismiq_django.api.authentication import EmbedAuthentication

    dashboard = make_dashboard(client)
    token = issue(client, dashboard)["token"]
    request = Request(
        APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Embed {token}"),
        authenticators=[EmbedAuthentication()],
    )
    with CaptureQueriesContext(connection) as queries:
        user, grant = EmbedAuthentication().authenticate(request) or (None, None)
    assert len(queries) == 1
    assert "prismiq_django_dashboardembedstate" in queries[0]["sql"]
    assert not user.is_authenticated
    assert grant.dashboard_id == int(dashboard["id"])


TENANT_CALLS: list[str] = []


def tenant_of(request: Any) -> Any:
    """Tenant by username; refuses to be asked for an anonymous caller (a token's request must
    never reach the site's callback)."""
    name = getattr(request.user, "username", "")
    assert name, "the tenant callback was called for an anonymous caller"
    TENANT_CALLS.append(name)
    return {"alice": 1, "bob": 2}.get(name)


def test_the_token_carries_its_creators_tenant(
    client: APIClient, client_for: Any, bob: User, settings: Any
) -> None:
    zed = Customer.objects.create(
        tenant_id=2,
        name="Zed",
        email="zed@example.com",
        city="Oslo",
        country="NO",
        created_at=datetime(2023, 1, 1, tzinfo=UTC),
    )
    Order.objects.create(
        tenant_id=2,
        customer=zed,
        status="disputed",
        ordered_at=datetime(2024, 2, 1, tzinfo=UTC),
        total=Decimal("5.00"),
    )
    configure(settings, EXPOSED_TABLES=None, TENANT_CALLBACK="tests.api.test_embed.tenant_of")
    ExposedTable.objects.create(name="shop_order", is_exposed=True, tenant_column="tenant_id")
    services.invalidate_catalog()
    theirs = make_dashboard(client_for(bob), name="globex")
    mine = make_dashboard(client, name="acme")
    their_token = issue(client_for(bob), theirs)["token"]
    my_token = issue(client, mine)["token"]
    TENANT_CALLS.clear()
    assert table_rows(run(holder(their_token), theirs), theirs) == [["disputed", 1]]
    acme = table_rows(run(holder(my_token), mine), mine)
    assert acme
    assert "disputed" not in {row[0] for row in acme}
    assert TENANT_CALLS == []
    # A token of one tenant's dashboard is no key to another tenant's.
    assert send(holder(my_token), "get", f"dashboards/{theirs['id']}").status_code == 404


def loose_tenant_of(request: Any) -> Any:
    """Tenant by username; None for anybody else (an anonymous caller has no tenant)."""
    return {"alice": 1, "bob": 2}.get(getattr(request.user, "username", ""))


def test_elsewhere_the_token_is_worth_nothing_even_on_an_open_site(
    client: APIClient, settings: Any
) -> None:
    """A site that opens query/execute to anonymous callers (AllowAny): a token's holder is an
    anonymous caller there, not one of the token's tenant, so a tenant-scoped table is refused
    (fail closed) rather than read with the token's tenant."""
    configure(
        settings,
        EXPOSED_TABLES=None,
        TENANT_CALLBACK="tests.api.test_embed.loose_tenant_of",
        PERMISSION_CLASSES=["rest_framework.permissions.AllowAny"],
    )
    ExposedTable.objects.create(name="shop_order", is_exposed=True, tenant_column="tenant_id")
    services.invalidate_catalog()
    dashboard = make_dashboard(client)
    embed = holder(issue(client, dashboard)["token"])
    assert table_rows(run(embed, dashboard), dashboard)  # the grant works where it counts
    response = send(embed, "post", "query/execute", {"query": BY_STATUS})
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["code"] == "invalid_definition"
