"""The database-token lookup with its statement kept (prismiq_django.api.tokenlookup), against
DRF's own ``TokenAuthentication`` on the same real database: the same SQL, the same objects, the
same refusals, every request asking the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.test import APIRequestFactory

from prismiq_django.api.jwtmemo import memoized
from prismiq_django.api.tokenlookup import compiled

pytestmark = pytest.mark.django_db


@pytest.fixture
def token() -> Token:
    user = User.objects.create_user("tok-ada", email="ada@example.com", first_name="Ada")
    return Token.objects.create(user=user)


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _outcome(authenticator: TokenAuthentication, key: str) -> tuple[str, Any]:
    """What ``authenticate_credentials`` did: the objects' fields, or the refusal."""
    try:
        user, found = authenticator.authenticate_credentials(key)
    except exceptions.AuthenticationFailed as exc:
        return ("refused", str(exc.detail))
    except DatabaseError as exc:  # PostgreSQL refuses a NUL in text, for DRF's query too
        return ("database error", type(exc).__name__)
    return ("ok", (_fields(user), _fields(found), found.user is user, found._state.db))


def test_the_same_statement_and_the_same_objects_as_drfs_own_lookup(token: Token) -> None:
    with CaptureQueriesContext(connection) as drf:
        expected = TokenAuthentication().authenticate_credentials(token.key)
    for _ in range(3):  # the first builds the statement, the others reuse it
        with CaptureQueriesContext(connection) as ours:
            user, found = compiled(TokenAuthentication()).authenticate_credentials(token.key)
        assert [q["sql"] for q in ours.captured_queries] == [q["sql"] for q in drf.captured_queries]
        assert type(found) is Token
        assert type(user) is User
        assert _fields(found) == _fields(expected[1])
        assert _fields(user) == _fields(expected[0])
        assert found._state.db == expected[1]._state.db
        assert not found._state.adding
        assert not user._state.adding
        with CaptureQueriesContext(connection) as later:
            assert found.user is user  # select_related's user: no query
            user.email  # noqa: B018 - every field loaded
        assert later.captured_queries == []


def test_each_request_asks_the_database_a_revoked_token_or_an_inactive_user_is_refused_at_once(
    token: Token,
) -> None:
    authenticator = compiled(TokenAuthentication())
    key = token.key
    assert _outcome(authenticator, key)[0] == "ok"
    User.objects.filter(pk=token.user_id).update(is_active=False)  # no signal, no save()
    assert _outcome(authenticator, key) == ("refused", "User inactive or deleted.")
    assert _outcome(authenticator, key) == _outcome(TokenAuthentication(), key)
    User.objects.filter(pk=token.user_id).update(is_active=True)
    assert _outcome(authenticator, key)[0] == "ok"
    Token.objects.filter(pk=key).delete()
    assert _outcome(authenticator, key) == ("refused", "Invalid token.")
    assert _outcome(authenticator, key) == _outcome(TokenAuthentication(), key)


@pytest.mark.parametrize(
    "key",
    [
        "' OR '1'='1",
        "x'); DROP TABLE authtoken_token; --",
        "%s%s%(key)s",
        "ключ-🔑",
        "a" * 20_000,
        "\\",
    ],
)
def test_hostile_keys_get_drfs_own_answer(token: Token, key: str) -> None:
    assert _outcome(compiled(TokenAuthentication()), key) == _outcome(TokenAuthentication(), key)
    assert Token.objects.filter(pk=token.key).exists()


@pytest.mark.parametrize("key", [123, None, 1.5, b"bytes"])
def test_a_key_of_another_type_from_site_code_gets_drfs_own_answer(
    token: Token, key: object
) -> None:
    """DRF's header parsing always gives a string; a site calling the method with something
    else gets the ORM's handling of it, as from DRF's class."""
    ours = _outcome(compiled(TokenAuthentication()), key)  # type: ignore[arg-type]
    assert ours == _outcome(TokenAuthentication(), key)  # type: ignore[arg-type]
    assert ours == ("refused", "Invalid token.")


@pytest.mark.parametrize("key", ["\x00", "key\x00nul", "\x00' OR '1'='1"])
def test_a_nul_in_the_key_is_refused_without_a_query_on_every_database(
    token: Token, key: str
) -> None:
    """DRF's class sends it, and PostgreSQL refuses NUL in text (DRF's 500 there)."""
    with CaptureQueriesContext(connection) as seen:
        assert _outcome(compiled(TokenAuthentication()), key) == ("refused", "Invalid token.")
    assert seen.captured_queries == []
    if connection.vendor == "postgresql":
        assert _outcome(TokenAuthentication(), key) == ("database error", "DataError")


def test_the_real_key_after_hostile_ones_and_a_settings_change(token: Token, settings: Any) -> None:
    authenticator = compiled(TokenAuthentication())
    assert _outcome(authenticator, "' OR 1=1 --")[0] == "refused"
    settings.USE_TZ = not settings.USE_TZ  # the statement is built again
    assert _outcome(authenticator, token.key) == _outcome(TokenAuthentication(), token.key)
    settings.USE_TZ = not settings.USE_TZ
    assert _outcome(authenticator, token.key) == _outcome(TokenAuthentication(), token.key)


def test_the_whole_header_path_is_drfs(token: Token) -> None:
    """Header parsing and its refusals are DRF's; only the lookup is changed."""
    factory = APIRequestFactory()
    authenticator = compiled(TokenAuthentication())
    assert type(authenticator) is TokenAuthentication  # isinstance checks, OpenAPI unchanged
    for header in (f"Token {token.key}", f"token {token.key}"):
        request = factory.get("/", HTTP_AUTHORIZATION=header)
        user, found = authenticator.authenticate(request)  # type: ignore[misc]
        assert (user.pk, found.pk) == (token.user_id, token.key)
    for header in ("Token", "Token a b", "Bearer x", "Token \u00e9t\u00e9", "Token  "):
        request = factory.get("/", HTTP_AUTHORIZATION=header)
        assert _answer(authenticator, request) == _answer(TokenAuthentication(), request)


def _answer(authenticator: TokenAuthentication, request: Any) -> Any:
    """``authenticate``'s answer: None, the (user pk, token pk), or the refusal's text."""
    try:
        found = authenticator.authenticate(request)
    except exceptions.AuthenticationFailed as exc:
        return str(exc.detail)
    return None if found is None else (found[0].pk, found[1].pk)


def test_a_subclass_or_another_class_is_left_as_it_is() -> None:
    class OwnTokens(TokenAuthentication):
        keyword = "Key"

    own = OwnTokens()
    assert memoized(own) is own
    assert "authenticate_credentials" not in vars(own)
    plain = TokenAuthentication()
    assert memoized(plain) is plain
    assert "authenticate_credentials" in vars(plain)


def test_a_django_whose_populators_differ_gets_drfs_own_lookup(
    token: Token, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where Django's internals are not the ones reproduced, DRF's own method runs (and keeps
    running: the answer is the same every time, the ORM's query each time)."""
    from prismiq_django.api import tokenlookup

    def newer(klass_info: Any, select: Any, db: str, fetch_mode: Any) -> list[Any]:
        raise AssertionError("never called with three arguments")

    monkeypatch.setattr(tokenlookup, "get_related_populators", newer)
    tokenlookup.forget()
    authenticator = compiled(TokenAuthentication())
    for _ in range(2):
        with CaptureQueriesContext(connection) as seen:
            assert _outcome(authenticator, token.key) == _outcome(TokenAuthentication(), token.key)
        assert len(seen.captured_queries) == 2  # ours (DRF's ORM) and DRF's own, one each
    assert _outcome(authenticator, "missing") == ("refused", "Invalid token.")
    monkeypatch.undo()
    tokenlookup.forget()
    assert _outcome(authenticator, token.key) == _outcome(TokenAuthentication(), token.key)
