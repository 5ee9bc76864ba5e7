"""The race of saving a query with a stateless token against the deletion of its owner.

Its own module: the test commits (``transaction=True``), so it cannot use the ``canary`` table
that the other API tests create inside their rolled-back transaction.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.request import Request

from prismiq_django.models import SavedQuery
from tests.api.conftest import api, definition
from tests.tokens import access_token, bearer

pytestmark = pytest.mark.usefixtures("jwt_auth", "exposed")

SAVED = api("saved-queries")
CREATE_REFUSED = "Saving a query needs an active user account; the caller has none."


@pytest.mark.django_db(transaction=True)
def test_a_user_deleted_while_their_token_saves_a_query_is_403_not_500(
    monkeypatch: pytest.MonkeyPatch, alice: User
) -> None:
    """The race of a create with the deletion of its owner: the account check passes, then the
    user row is deleted (by the admin, another worker) before the insert. The insert's foreign
    key fails; the caller gets the 403 of a missing account, not a 500, and nothing is saved."""
    from prismiq_django.api.permissions import SavedQueryAccess

    check = SavedQueryAccess.has_permission

    def check_then_lose_the_user(self: SavedQueryAccess, request: Request, view: Any) -> bool:
        allowed = check(self, request, view)
        if getattr(view, "action", None) == "create":
            User.objects.filter(pk=alice.pk).delete()  # committed: no transaction around tests
        return allowed

    monkeypatch.setattr(SavedQueryAccess, "has_permission", check_then_lose_the_user)
    client = bearer(access_token(alice))
    response = client.post(SAVED, {"name": "n", "query": definition()}, format="json")
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": CREATE_REFUSED}
    assert not SavedQuery.objects.exists()
    # The connection is usable afterwards.
    assert client.get(SAVED).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_under_atomic_requests_a_user_deleted_while_saving_is_403_not_500(
    monkeypatch: pytest.MonkeyPatch, alice: User
) -> None:
    """Issue 15 item 9: with ``ATOMIC_REQUESTS`` the owner's deferred foreign key was checked
    when the request's transaction committed, after the view: a 500. The insert's constraints
    are checked inside its own savepoint now: the same 403, nothing saved, the request's
    transaction still usable."""
    from django.db import connection

    from prismiq_django.api.permissions import SavedQueryAccess

    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    check = SavedQueryAccess.has_permission

    def check_then_lose_the_user(self: SavedQueryAccess, request: Request, view: Any) -> bool:
        allowed = check(self, request, view)
        if getattr(view, "action", None) == "create":
            User.objects.filter(pk=alice.pk).delete()  # inside the request's transaction
        return allowed

    monkeypatch.setattr(SavedQueryAccess, "has_permission", check_then_lose_the_user)
    client = bearer(access_token(alice))
    response = client.post(SAVED, {"name": "n", "query": definition()}, format="json")
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": CREATE_REFUSED}
    assert not SavedQuery.objects.exists()
    # DRF rolls the request's transaction back on an error answer: the deletion with it.
    assert User.objects.filter(pk=alice.pk).exists()
    assert client.get(SAVED).status_code == 200
