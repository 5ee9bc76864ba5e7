"""A credential the database cannot compare is refused (401), never a 500.

An authentication class that looks a credential up with the client's text (DRF's
``TokenAuthentication`` subclasses, django-rest-knox and the like) sends a NUL character to
the database as it is: PostgreSQL's text cannot hold one and refuses the statement
(``DataError``). On a plain DRF view that is a 500 any client can cause; prismiq's views answer
it as DRF answers a wrong credential.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import DataError, connection
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from tests.api.conftest import api
from tests.tokens import KeyAuthentication, authenticate_with

KEY_FIRST = [
    "tests.tokens.KeyAuthentication",
    "rest_framework.authentication.SessionAuthentication",
    "rest_framework.authentication.BasicAuthentication",
]
BODY = {
    "query": {
        "tables": [{"id": "c", "name": "shop_customer"}],
        "columns": [{"table_id": "c", "column": "name"}],
    }
}
NUL_KEYS = ["\x00", "abc\x00def", "\x00' OR '1'='1", "x" * 39 + "\x00"]


@pytest.fixture
def key_first(alice: User, settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """``tests.tokens.KeyAuthentication`` first; alice's key."""
    authenticate_with(KEY_FIRST, settings, monkeypatch)
    return str(Token.objects.get_or_create(user=alice)[0].key)


def _answers(client: APIClient, header: str) -> list[Any]:
    return [
        client.post(api("query/execute"), BODY, format="json", HTTP_AUTHORIZATION=header),
        client.get(api("schema"), HTTP_AUTHORIZATION=header),
    ]


def test_the_subclass_authenticates_on_prismiqs_views(
    key_first: str, exposed: dict[str, Any], shop: Any
) -> None:
    for response in _answers(APIClient(), f"Key {key_first}"):
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("key", NUL_KEYS)
def test_a_nul_in_the_credential_is_a_401_on_every_database(
    key_first: str, exposed: dict[str, Any], shop: Any, key: str
) -> None:
    for response in _answers(APIClient(), f"Key {key}"):
        assert response.status_code == 401, response.content
        assert response["WWW-Authenticate"] == "Key"
        text = response.content.decode()
        assert "NUL" not in text
        assert "0x00" not in text
        assert "invalid byte sequence" not in text
    # the connection still works, and the real key after the refused ones
    assert _answers(APIClient(), f"Key {key_first}")[0].status_code == 200


def test_on_postgresql_a_plain_drf_view_lets_the_error_through(db: None) -> None:
    """What the views above are guarded against: DRF's own answer is the database's error."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL's text refuses a NUL")

    class Plain(APIView):
        authentication_classes = [KeyAuthentication]
        permission_classes = [IsAuthenticated]

        def get(self, request: Any) -> Response:
            return Response({})

    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION="Key abc\x00def")
    with pytest.raises(DataError):
        Plain.as_view()(request)


@pytest.mark.django_db(transaction=True)
def test_inside_atomic_requests_the_refusal_leaves_no_broken_transaction(
    settings: Any, monkeypatch: pytest.MonkeyPatch, exposed: dict[str, Any]
) -> None:
    """``ATOMIC_REQUESTS``: the refused lookup aborted the request's transaction (PostgreSQL),
    which is rolled back; the next request on the connection is served."""
    user = User.objects.create_user("atomic-key")
    key = Token.objects.create(user=user).key
    authenticate_with(KEY_FIRST, settings, monkeypatch)
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    client = APIClient()
    refused = client.get(api("schema"), HTTP_AUTHORIZATION="Key abc\x00def")
    assert refused.status_code == 401, refused.content
    assert client.get(api("schema"), HTTP_AUTHORIZATION=f"Key {key}").status_code == 200
