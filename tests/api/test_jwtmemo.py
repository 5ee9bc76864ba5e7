"""simplejwt access tokens are verified once per process (prismiq_django.api.jwtmemo), and a
remembered token is never accepted where verifying it again would refuse it."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.authentication import (
    JWTAuthentication,
    JWTStatelessUserAuthentication,
)
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken

from prismiq_django.api import jwtmemo
from tests.api.conftest import api, definition
from tests.tokens import CopyCountingToken, access_token, bearer, tampered_token

pytestmark = pytest.mark.usefixtures("jwt_auth", "exposed", "shop")

EXECUTE = api("query/execute")


@pytest.fixture(autouse=True)
def cold_memo() -> None:
    jwtmemo.clear()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token simplejwt's backend decodes (verifies), in order."""
    seen: list[str] = []
    decode = TokenBackend.decode

    def counted(self: TokenBackend, token: Any, verify: bool = True) -> Any:
        seen.append(token if isinstance(token, str) else token.decode())
        return decode(self, token, verify)

    monkeypatch.setattr(TokenBackend, "decode", counted)
    return seen


def _execute(client: Any) -> Any:
    return client.post(EXECUTE, {"query": definition()}, format="json")


@pytest.mark.django_db
def test_a_token_is_verified_once_across_requests(alice: User, decodes: list[str]) -> None:
    client = bearer(access_token(alice))
    assert [_execute(client).status_code for _ in range(3)] == [200, 200, 200]
    assert len(decodes) == 1
    assert jwtmemo.remembered_count() == 1


@pytest.mark.django_db
def test_a_tampered_token_is_refused_every_time_and_never_remembered(
    alice: User, decodes: list[str]
) -> None:
    good = access_token(alice)
    client = bearer(tampered_token(good, user_id=str(alice.pk + 1000)))
    assert [_execute(client).status_code for _ in range(2)] == [401, 401]
    assert len(decodes) == 2
    assert jwtmemo.remembered_count() == 0


@pytest.mark.django_db
def test_a_remembered_token_stops_working_when_it_expires(alice: User) -> None:
    token = AccessToken.for_user(alice)
    token.set_exp(from_time=timezone.now(), lifetime=timedelta(seconds=1.5))
    client = bearer(str(token))
    assert _execute(client).status_code == 200
    time.sleep(1.6)
    refused = _execute(client)
    assert refused.status_code == 401
    assert jwtmemo.remembered_count() == 0


@pytest.mark.django_db
def test_changed_jwt_settings_send_every_token_to_simplejwt_again(
    alice: User, settings: Any, decodes: list[str]
) -> None:
    client = bearer(access_token(alice))
    assert _execute(client).status_code == 200
    settings.SIMPLE_JWT = {"LEEWAY": 0}  # simplejwt decides what any new setting means
    assert jwtmemo.remembered_count() == 0
    assert _execute(client).status_code == 200
    assert len(decodes) == 2


def test_each_request_gets_its_own_copy_of_the_token() -> None:
    raw = access_token(None, user_id="7").encode()
    authenticator = jwtmemo.memoized(JWTStatelessUserAuthentication())
    first = authenticator.get_validated_token(raw)  # type: ignore[attr-defined]
    first.payload["user_id"] = "changed by a view"
    second = authenticator.get_validated_token(raw)  # type: ignore[attr-defined]
    assert second.payload["user_id"] == "7"
    assert second is not first
    assert second.payload is not first.payload
    assert type(second) is type(first)
    fresh = JWTStatelessUserAuthentication().get_validated_token(raw)  # simplejwt's own
    assert {k: v for k, v in vars(second).items() if k != "payload"} == {
        k: v for k, v in vars(fresh).items() if k not in {"payload", "current_time"}
    } | {"current_time": second.current_time}
    assert str(second) == str(fresh)
    assert second.payload == fresh.payload


def test_only_instances_of_simplejwt_classes_themselves_are_changed() -> None:
    class SiteJWT(JWTStatelessUserAuthentication):
        pass

    site = SiteJWT()
    assert jwtmemo.memoized(site) is site
    for kind in (JWTAuthentication, JWTStatelessUserAuthentication):
        replaced = jwtmemo.memoized(kind())
        assert type(replaced) is kind
        assert replaced.get_validated_token != kind().get_validated_token
        request = APIRequestFactory().get("/", HTTP_AUTHORIZATION="Bearer x")
        assert replaced.authenticate_header(request) == kind().authenticate_header(request)


def test_a_token_without_expiry_is_not_remembered() -> None:
    token = AccessToken()
    token["user_id"] = "7"
    del token["exp"]
    authenticator = jwtmemo.memoized(JWTStatelessUserAuthentication())
    with pytest.raises(InvalidToken):  # simplejwt refuses a token without "exp"
        authenticator.get_validated_token(str(token).encode())  # type: ignore[attr-defined]
    assert jwtmemo.remembered_count() == 0


def test_a_token_class_of_the_site_is_copied_by_its_own_copy_hook(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rest_framework_simplejwt import authentication
    from rest_framework_simplejwt import settings as jwt_settings

    settings.SIMPLE_JWT = {
        **getattr(settings, "SIMPLE_JWT", {}),
        "AUTH_TOKEN_CLASSES": ["tests.tokens.CopyCountingToken"],
    }
    # simplejwt rebuilds its settings object on the change, but its authentication module
    # holds the one it imported: hand it the new one, as a restarted process would have.
    monkeypatch.setattr(authentication, "api_settings", jwt_settings.api_settings)
    raw = access_token(None, user_id="7").encode()
    authenticator = jwtmemo.memoized(JWTStatelessUserAuthentication())
    before = CopyCountingToken.copies
    first = authenticator.get_validated_token(raw)  # type: ignore[attr-defined]
    second = authenticator.get_validated_token(raw)  # type: ignore[attr-defined]
    assert type(first) is type(second) is CopyCountingToken
    assert CopyCountingToken.copies - before == 2
    assert first.copied_by_its_hook
    assert second.copied_by_its_hook
    assert first.payload is not second.payload
    assert first.payload == second.payload
