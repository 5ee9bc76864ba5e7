"""Attacks on saved-query ownership through stateless token users (simplejwt's ``TokenUser``):
one caller passing for another user, and races with the owner's account.

Every test goes through the real DRF stack with real simplejwt tokens signed with the test key.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.test import APIClient
from rest_framework.views import APIView

from example_project.shop.models import Customer
from prismiq_django.models import SavedQuery
from tests.api.conftest import api, definition
from tests.tokens import access_token, bearer, payload_of

pytestmark = pytest.mark.usefixtures("jwt_auth", "exposed", "shop", "canary")

SAVED = api("saved-queries")
CREATE_REFUSED = "Saving a query needs an active user account; the caller has none."


@pytest.fixture
def user_id_field(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``use(name)``: simplejwt's ``USER_ID_FIELD`` set to ``name`` for this test, so that
    ``AccessToken.for_user`` writes ``str(getattr(user, name))`` as the ``user_id`` claim.

    simplejwt rebinds ``rest_framework_simplejwt.settings.api_settings`` when ``SIMPLE_JWT``
    changes, but its other modules imported the object by name: they are pointed at the new
    one here (and put back afterwards).
    """
    from rest_framework_simplejwt import authentication, models, tokens
    from rest_framework_simplejwt import settings as jwt_settings

    def use(name: str) -> None:
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "USER_ID_FIELD": name}
        for module in (authentication, models, tokens):
            monkeypatch.setattr(module, "api_settings", jwt_settings.api_settings)

    return use


def _status(client: APIClient, method: str, path: str, body: object = None) -> int:
    code: int = getattr(client, method)(api(path), body, format="json").status_code
    return code


def test_a_token_naming_users_by_username_never_becomes_the_user_of_that_pk(
    user_id_field: Any, alice: User
) -> None:
    """With ``SIMPLE_JWT["USER_ID_FIELD"] = "username"`` the ``user_id`` claim is a username,
    not a primary key: a user whose username spells another user's pk must not own (see, edit,
    share, delete, run, or create as) that user's saved queries."""
    user_id_field("username")
    private = SavedQuery.objects.create(name="alice-private", query=definition(), owner=alice)
    mallory = User.objects.create_user(str(alice.pk))  # a username anyone could register
    token = access_token(mallory)
    assert payload_of(token)["user_id"] == str(alice.pk)  # what simplejwt writes: the username
    client = bearer(token)

    listed = client.get(SAVED)
    assert listed.status_code == 200
    assert listed.json() == []
    detail = f"saved-queries/{private.pk}"
    assert _status(client, "get", detail) == 404
    assert _status(client, "post", f"{detail}/execute", {}) == 404
    assert _status(client, "patch", detail, {"is_shared": True, "name": "pwned"}) == 404
    assert _status(client, "delete", detail) == 404
    planted = client.post(SAVED, {"name": "planted", "query": definition()}, format="json")
    assert planted.status_code == 403, planted.content
    assert planted.json() == {"detail": CREATE_REFUSED}
    assert list(SavedQuery.objects.values_list("name", "owner_id", "is_shared")) == [
        ("alice-private", alice.pk, False)
    ]


@pytest.mark.parametrize("field", ["id", "pk"])
def test_a_token_naming_users_by_their_pk_still_owns_their_queries(
    user_id_field: Any, alice: User, field: str
) -> None:
    user_id_field(field)
    client = bearer(access_token(alice))
    created = client.post(SAVED, {"name": "mine", "query": definition()}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == alice.pk
    assert [q["name"] for q in client.get(SAVED).json()] == ["mine"]


class AnotherModelAuthentication(BaseAuthentication):
    """A site's authentication of something that is a model instance but not a user (a service
    account, an API client row): ``X-Account: <pk>`` authenticates the account of that pk."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        given = request.META.get("HTTP_X_ACCOUNT")
        if given is None:
            return None
        account = Customer(pk=int(given), name="service account")
        account.is_authenticated = True  # type: ignore[attr-defined]
        return account, None


def test_an_authenticated_instance_of_another_model_is_not_the_user_of_its_pk(
    monkeypatch: pytest.MonkeyPatch, alice: User
) -> None:
    """Its pk is a key of another table: account 1 is not user 1."""
    monkeypatch.setattr(APIView, "authentication_classes", [AnotherModelAuthentication])
    private = SavedQuery.objects.create(name="alice-private", query=definition(), owner=alice)
    client = APIClient(HTTP_X_ACCOUNT=str(alice.pk))
    listed = client.get(SAVED)
    assert listed.status_code == 200
    assert listed.json() == []
    detail = f"saved-queries/{private.pk}"
    assert _status(client, "get", detail) == 404
    assert _status(client, "patch", detail, {"is_shared": True}) == 404
    assert _status(client, "delete", detail) == 404
    planted = client.post(SAVED, {"name": "planted", "query": definition()}, format="json")
    assert planted.status_code == 403, planted.content
    assert list(SavedQuery.objects.values_list("name", "owner_id", "is_shared")) == [
        ("alice-private", alice.pk, False)
    ]
