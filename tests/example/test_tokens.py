"""The example site's stateless JWT: ``POST api/token/`` and ``api/token/refresh/`` (simplejwt's
views, with the ``is_staff`` claim), and the settings that put the token first."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from example_project import settings as example_settings
from tests.tokens import JWT_FIRST, bearer, payload_of

pytestmark = [pytest.mark.urls("example_project.urls"), pytest.mark.usefixtures("jwt_auth")]

API = "/api/analytics/"


def _pair(username: str, password: str) -> Any:
    return APIClient().post(
        "/api/token/", {"username": username, "password": password}, format="json"
    )


@pytest.fixture
def demo(db: None) -> User:
    return User.objects.create_superuser("demo", password="demo")


@pytest.fixture
def viewer(db: None) -> User:
    return User.objects.create_user("viewer", password="viewer")


def test_the_example_authenticates_with_stateless_tokens_first() -> None:
    assert example_settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] == JWT_FIRST
    lifetime = example_settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert 0 < lifetime.total_seconds() <= 15 * 60  # short-lived: stateless tokens outlive users


def test_obtain_a_pair_and_query_with_the_access_token(demo: User, settings: Any) -> None:
    settings.PRISMIQ = {"EXPOSED_TABLES": ["shop_order"], "RATE_LIMIT": None}
    response = _pair("demo", "demo")
    assert response.status_code == 200, response.content
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    claims = payload_of(pair["access"])
    assert str(claims["user_id"]) == str(demo.pk)
    assert claims["is_staff"] is True
    assert claims["token_type"] == "access"

    client = bearer(pair["access"])
    assert client.get(API + "tables").json() == {"tables": ["shop_order"]}
    assert client.get(API + "metrics").status_code == 200  # the is_staff claim
    created = client.post(
        API + "saved-queries",
        {
            "name": "orders",
            "query": {
                "tables": [{"id": "o", "name": "shop_order"}],
                "columns": [{"table_id": "o", "column": "id"}],
            },
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == demo.pk


def test_a_non_staff_token_cannot_read_metrics(viewer: User) -> None:
    access = _pair("viewer", "viewer").json()["access"]
    assert payload_of(access)["is_staff"] is False
    assert bearer(access).get(API + "metrics").status_code == 403


def test_refresh_hands_the_claims_on(demo: User) -> None:
    refresh = _pair("demo", "demo").json()["refresh"]
    response = APIClient().post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 200, response.content
    access = response.json()["access"]
    assert payload_of(access)["is_staff"] is True
    assert bearer(access).get(API + "metrics").status_code == 200


def test_refreshing_the_token_of_a_deleted_user_is_a_401(viewer: User) -> None:
    """Issue 15 item 5: simplejwt's serializer let the user's DoesNotExist escape (a 500)."""
    refresh = _pair("viewer", "viewer").json()["refresh"]
    viewer.delete()
    response = APIClient().post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 401, response.content
    assert response.json()["detail"] == "No active account found for the given token."
    assert "access" not in response.json()


def test_refreshing_the_token_of_a_deactivated_user_is_a_401(viewer: User) -> None:
    refresh = _pair("viewer", "viewer").json()["refresh"]
    User.objects.filter(pk=viewer.pk).update(is_active=False)
    response = APIClient().post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 401, response.content


def test_login_attempts_are_rate_limited_per_address_and_per_username(
    demo: User, settings: Any
) -> None:
    """Issue 15 item 10: ``api/token/`` had no limit, so the public demo login could be guessed
    without bound. Past ``TOKEN_RATE_LIMIT`` (counted per address and per username, wrong and
    right passwords alike) the answer is 429 with ``Retry-After``, and no token."""
    from example_project import settings as example

    assert example.TOKEN_RATE_LIMIT == "10/m"  # the example's default (env unset in tests)
    settings.TOKEN_RATE_LIMIT = "3/h"
    one = APIClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        attempt = one.post("/api/token/", {"username": "nobody-a", "password": "x"}, format="json")
        assert attempt.status_code == 401
    refused = one.post("/api/token/", {"username": "demo", "password": "demo"}, format="json")
    assert refused.status_code == 429, refused.content
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "access" not in refused.json()
    # The same username from many addresses is bounded too (the refused attempt above counted).
    for n in range(2):
        spread = APIClient(REMOTE_ADDR=f"198.51.100.{n + 1}")
        guess = spread.post("/api/token/", {"username": "DEMO", "password": "x"}, format="json")
        assert guess.status_code == 401
    elsewhere = APIClient(REMOTE_ADDR="198.51.100.99")
    limited = elsewhere.post("/api/token/", {"username": "demo", "password": "demo"}, format="json")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    # Another user from a fresh address still logs in.
    other = APIClient(REMOTE_ADDR="192.0.2.44")
    User.objects.create_user("other", password="other")
    fine = other.post("/api/token/", {"username": "other", "password": "other"}, format="json")
    assert fine.status_code == 200, fine.content


def test_wrong_credentials_get_no_token(demo: User) -> None:
    response = _pair("demo", "wrong")
    assert response.status_code == 401
    assert "access" not in response.json()


def test_the_sites_whole_document_renders_the_token_views_without_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    doc = SchemaGenerator(urlconf="example_project.urls").get_schema(request=None, public=True)
    validate_schema(doc)
    assert {"/api/token/", "/api/token/refresh/"} <= set(doc["paths"])
    assert "jwtAuth" in doc["components"]["securitySchemes"]
    err = capsys.readouterr().err
    assert "Warning" not in err
    assert "Error" not in err
