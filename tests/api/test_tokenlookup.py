"""The database-token lookup with its statement kept (prismiq_django.api.tokenlookup), against
DRF's own ``TokenAuthentication`` on the same real database: the same SQL, the same objects, the
same refusals, every request asking the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
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


@pytest.fixture
def kept_connection() -> Any:
    """The default connection as a production site keeps it (``CONN_MAX_AGE``,
    ``CONN_HEALTH_CHECKS``), between requests as Django's signals leave it."""
    saved = {k: connection.settings_dict[k] for k in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.settings_dict.update(CONN_MAX_AGE=600, CONN_HEALTH_CHECKS=True)
    connection.close()
    connection.ensure_connection()
    connection.health_check_enabled = True  # SQLite's in-memory test database never reconnects
    yield connection
    connection.settings_dict.update(saved)
    connection.close()
    connection.health_check_enabled = bool(saved["CONN_HEALTH_CHECKS"])


def _request(authenticator: TokenAuthentication, key: str) -> tuple[str, Any]:
    """One request's authentication, between Django's request signals."""
    request_started.send(sender=__name__)
    try:
        return _outcome(authenticator, key)
    finally:
        request_finished.send(sender=__name__)


@pytest.mark.django_db(transaction=True)
def test_with_health_checks_the_lookup_is_the_check_no_select_1_before_it(
    kept_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = User.objects.create_user("tok-health")
    key = Token.objects.create(user=user).key
    checks: list[bool] = []
    is_usable = kept_connection.is_usable

    def counted() -> bool:
        checks.append(True)
        return bool(is_usable())

    monkeypatch.setattr(kept_connection, "is_usable", counted)
    assert _request(TokenAuthentication(), key)[0] == "ok"
    assert len(checks) == 1  # DRF's own class: Django's SELECT 1 first
    authenticator = compiled(TokenAuthentication())
    for _ in range(3):
        checks.clear()
        with CaptureQueriesContext(kept_connection) as seen:
            assert _request(authenticator, key) == _request(TokenAuthentication(), key)
        assert len(checks) == 1  # DRF's class's only; none before ours
        assert len(seen.captured_queries) == 2
    checks.clear()
    assert _request(authenticator, "' OR '1'='1") == ("refused", "Invalid token.")
    assert checks == []


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_between_requests_is_replaced_and_the_lookup_sent_again(
    kept_connection: Any,
) -> None:
    if kept_connection.vendor not in {"postgresql", "mysql"}:
        pytest.skip("no server to drop a connection on SQLite")
    user = User.objects.create_user("tok-dropped")
    key = Token.objects.create(user=user).key
    authenticator = compiled(TokenAuthentication())
    assert _request(authenticator, key)[0] == "ok"
    for _ in range(2):
        with kept_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_backend_pid()"
                if kept_connection.vendor == "postgresql"
                else "SELECT CONNECTION_ID()"
            )
            (dropped,) = cursor.fetchone()
        _drop(kept_connection, dropped)
        assert _request(authenticator, key)[0] == "ok"
        with kept_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_backend_pid()"
                if kept_connection.vendor == "postgresql"
                else "SELECT CONNECTION_ID()"
            )
            assert cursor.fetchone()[0] != dropped


def _drop(kept: Any, backend: int) -> None:
    """End ``backend``'s session from another connection, as a restarted server or a proxy's
    idle timeout would."""
    other = kept.copy()
    try:
        with other.cursor() as cursor:
            if kept.vendor == "postgresql":
                cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
            else:
                cursor.execute(f"KILL {int(backend)}")
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_failing_lookup_on_a_working_connection_is_raised_once_not_retried(
    kept_connection: Any,
) -> None:
    user = User.objects.create_user("tok-failing")
    key = Token.objects.create(user=user).key
    authenticator = compiled(TokenAuthentication())
    assert _request(authenticator, key)[0] == "ok"
    table = Token._meta.db_table
    with kept_connection.schema_editor() as editor:
        editor.alter_db_table(Token, table, "prismiq_test_moved_tokens")
    try:
        with CaptureQueriesContext(kept_connection) as seen:
            ours = _request(authenticator, key)
        assert len(seen.captured_queries) == 1
        assert ours[0] == "database error"
        assert ours == _request(TokenAuthentication(), key)
    finally:
        with kept_connection.schema_editor() as editor:
            editor.alter_db_table(Token, "prismiq_test_moved_tokens", table)
    assert _request(authenticator, key)[0] == "ok"


@pytest.mark.django_db(transaction=True)
def test_on_a_connection_that_prepares_statements_the_lookup_is_prepared_once(
    kept_connection: Any,
) -> None:
    """``OPTIONS: {"server_side_binding": True, "prepare_threshold": N}`` (docs/deployment.md's
    advice for database tokens): psycopg prepares the lookup on the connection; the answers
    stay DRF's."""
    if kept_connection.vendor != "postgresql":
        pytest.skip("prepared statements of psycopg, on PostgreSQL")
    options = kept_connection.settings_dict.setdefault("OPTIONS", {})
    saved = dict(options)
    options.update(server_side_binding=True, prepare_threshold=2)
    kept_connection.close()
    try:
        user = User.objects.create_user("tok-prepared")
        key = Token.objects.create(user=user).key
        authenticator = compiled(TokenAuthentication())
        for _ in range(4):
            assert _request(authenticator, key) == _request(TokenAuthentication(), key)
        assert _request(authenticator, "' OR '1'='1") == ("refused", "Invalid token.")
        with kept_connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%authtoken_token%"],
            )
            assert cursor.fetchone()[0] == 1  # one statement: ours and DRF's are the same SQL
    finally:
        options.clear()
        options.update(saved)
        kept_connection.close()
