"""The hot path (prismiq_django.api.hotpath.HotPath) answers ``query/execute`` for bearer-token
callers as the plain WSGI application does: same status, body and headers (the request id and
the timing aside), with the site's hook-style middleware run hook by hook; everything else goes
to the plain application untouched, body included.

Each test calls both applications with real WSGI environs, through the real URLconf, views,
services and database; the result cache is on (locmem, or Redis in the Redis pass).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

from prismiq_django import services
from prismiq_django.api.hotpath import HotPath
from prismiq_django.models import ExposedTable
from tests.api.conftest import api, configure, definition
from tests.tokens import TOKEN_FIRST, access_token, authenticate_with, tampered_token

pytestmark = pytest.mark.usefixtures("jwt_auth", "exposed", "shop", "canary", "cached")

EXECUTE = api("query/execute")
VARYING = {"x-request-id", "server-timing"}


@pytest.fixture
def cached(settings: Any) -> None:
    configure(settings, SCHEMA_CACHE_TTL=300, RESULT_CACHE_TTL=300)


@pytest.fixture(autouse=True)
def test_transaction_kept() -> Iterator[None]:
    """As Django's test client does: the end of a request must not close the connection that
    holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body

    @property
    def code(self) -> int:
        return int(self.status.split()[0])

    def json(self) -> Any:
        return orjson.loads(self.body)

    def comparable(self) -> tuple[str, dict[str, str], bytes]:
        kept = {k: v for k, v in self.headers.items() if k not in VARYING}
        return self.status, kept, self.body


def call(
    app: Any,
    body: object,
    *,
    token: str | None = None,
    path: str = EXECUTE,
    method: str = "POST",
    **extra: Any,
) -> Answer:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)) if raw else "",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    environ.update(extra)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, headers

    iterable = app(environ, start_response)
    try:
        content = b"".join(iterable)
    finally:
        getattr(iterable, "close", lambda: None)()
    return Answer(seen["status"], seen["headers"], content)


@pytest.fixture
def apps() -> tuple[HotPath, WSGIHandler]:
    return HotPath(WSGIHandler()), WSGIHandler()


def test_a_hit_is_the_plain_applications_answer(apps: Any, alice: User) -> None:
    hot, plain = apps
    token = access_token(alice)
    body = {"query": definition()}
    first = call(plain, body, token=token)
    assert first.code == 200, first.body
    answers = [call(hot, body, token=token), call(plain, body, token=token)]
    assert answers[0].json()["is_from_cache"] is True
    assert answers[0].comparable() == answers[1].comparable()
    assert hot.answered == 1


@pytest.mark.parametrize(
    "body",
    [
        {"query": definition(), "bypass_cache": True},
        {"query": {"tables": [{"id": "t", "name": "no_such_table"}], "columns": []}},
        {"query": definition(limit=-1)},
        {"query": definition(), "bypass_cache": "yes"},
        {"query": definition(), "page": 2, "page_size": 2},
        {"query": None},
        [1, 2],
        b'{"query": ',
        b'{"query": {}, "query": {}}',
    ],
    ids=[
        "bypass",
        "unknown-table",
        "bad-limit",
        "bad-envelope",
        "paged",
        "null",
        "array",
        "broken-json",
        "duplicate-key",
    ],
)
def test_misses_and_errors_are_the_plain_answers(apps: Any, alice: User, body: object) -> None:
    hot, plain = apps
    token = access_token(alice)
    got, expected = call(hot, body, token=token), call(plain, body, token=token)
    assert hot.answered == 1  # answered by the view's own code, errors included
    assert got.status == expected.status
    if got.code == 200:  # the first run stores what the second may serve: the same rows
        assert _rows_of(got) == _rows_of(expected)
    else:
        assert got.comparable() == expected.comparable()


def _rows_of(answer: Answer) -> dict[str, Any]:
    timing = {"execution_time_ms", "is_from_cache", "cached_at"}
    return {k: v for k, v in answer.json().items() if k not in timing}


def test_refused_tokens_go_to_django_and_get_its_answer(apps: Any, alice: User) -> None:
    hot, plain = apps
    bad = tampered_token(access_token(alice), user_id="999999")
    got, expected = (
        call(hot, {"query": definition()}, token=bad),
        call(plain, {"query": definition()}, token=bad),
    )
    assert got.code == 401
    assert got.comparable() == expected.comparable()
    assert hot.answered == 0


def test_permission_classes_refuse_on_the_hot_path_as_in_django(
    apps: Any, alice: User, settings: Any
) -> None:
    hot, plain = apps
    configure(settings, PERMISSION_CLASSES=["rest_framework.permissions.IsAdminUser"])
    token = access_token(alice)
    got, expected = (
        call(hot, {"query": definition()}, token=token),
        call(plain, {"query": definition()}, token=token),
    )
    assert got.code == 403
    assert got.comparable() == expected.comparable()
    assert hot.answered == 1


def test_each_request_is_counted_once(apps: Any, alice: User, settings: Any) -> None:
    hot, _plain = apps
    configure(settings, RATE_LIMIT="3/m")
    token = access_token(alice)
    answers = [call(hot, {"query": definition()}, token=token) for _ in range(4)]
    assert [a.code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert "retry-after" in answers[3].headers
    assert answers[3].json()["code"] == "rate_limited"


def tenant_claim(request: Any) -> object:
    return getattr(getattr(request, "auth", None), "get", lambda _k: None)("tenant_id")


def test_tenants_get_their_own_rows_on_the_hot_path(apps: Any, alice: User, settings: Any) -> None:
    hot, plain = apps
    configure(settings, EXPOSED_TABLES=None, TENANT_CALLBACK="tests.api.test_hotpath.tenant_claim")
    ExposedTable.objects.create(name="shop_order", is_exposed=True, tenant_column="tenant_id")
    services.invalidate_catalog()
    count = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"}],
    }
    for tenant, rows in ((1, [[10]]), (2, [[0]]), (1, [[10]])):
        token = access_token(alice, tenant_id=tenant)
        got = call(hot, {"query": count}, token=token)
        assert got.json()["rows"] == rows
        again = call(hot, {"query": count}, token=token)
        assert again.json()["is_from_cache"] is True
        assert again.comparable() == call(plain, {"query": count}, token=token).comparable()


class Tagging(MiddlewareMixin):
    """A site's hook-style middleware: runs on the hot path, hook by hook; ``X-Site`` lists the
    hooks that ran."""

    def process_request(self, request: HttpRequest) -> None:
        request.tagged = ["request"]  # type: ignore[attr-defined]

    def process_view(self, request: HttpRequest, *args: Any) -> None:
        request.tagged.append("view")  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response["X-Site"] = ",".join([*request.tagged, "response"])  # type: ignore[attr-defined]
        return response


def wrapping(get_response: Any) -> Any:
    """A site's function middleware: the hot path cannot call it hook by hook."""

    def middleware(request: HttpRequest) -> Any:
        response = get_response(request)
        response["X-Site"] = "wrapped"
        return response

    return middleware


def test_hook_style_site_middleware_runs_on_the_hot_path(
    apps: Any, alice: User, settings: Any
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.api.test_hotpath.Tagging"]
    hot, plain = HotPath(WSGIHandler()), WSGIHandler()
    token = access_token(alice)
    call(plain, {"query": definition()}, token=token)  # cached: both answers below are hits
    got = call(hot, {"query": definition()}, token=token)
    assert (hot.active(), hot.answered) == ("", 1)
    assert got.headers["x-site"] == "request,view,response"
    assert got.comparable() == call(plain, {"query": definition()}, token=token).comparable()


def test_it_stands_aside_for_middleware_it_cannot_run_hook_by_hook(
    alice: User, settings: Any
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.api.test_hotpath.wrapping"]
    hot = HotPath(WSGIHandler())
    got = call(hot, {"query": definition()}, token=access_token(alice))
    assert "tests.api.test_hotpath.wrapping" in hot.active()
    assert (got.code, got.headers["x-site"], hot.answered) == (200, "wrapped", 0)


def test_other_requests_reach_django_with_their_body(apps: Any, alice: User) -> None:
    hot, plain = apps
    token = access_token(alice)
    validate = api("query/validate")
    for kwargs in (
        {"path": validate, "token": token},  # another endpoint
        {"token": None, "HTTP_AUTHORIZATION": "Basic YWxpY2U6eA=="},  # another scheme
        {"token": token, "QUERY_STRING": "x=1"},
        {"token": token, "CONTENT_TYPE": "text/plain"},
        {"token": token, "HTTP_ACCEPT": "text/html"},
    ):
        got = call(hot, {"query": definition()} if "path" not in kwargs else definition(), **kwargs)
        expected = call(
            plain, {"query": definition()} if "path" not in kwargs else definition(), **kwargs
        )
        assert got.status == expected.status, kwargs
        assert got.body == expected.body or got.code == expected.code == 200, kwargs
    validated = call(hot, definition(), path=validate, token=token).json()
    assert validated == {"valid": True, "errors": []}
    assert hot.answered == 0


def test_a_bad_host_is_djangos_answer(apps: Any, alice: User, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    hot, plain = apps
    token = access_token(alice)
    got = call(hot, {"query": definition()}, token=token, HTTP_HOST="evil.example")
    assert got.code == 400
    assert (
        got.status
        == call(plain, {"query": definition()}, token=token, HTTP_HOST="evil.example").status
    )
    assert hot.answered == 0


def test_request_signals_are_sent_once_per_request(apps: Any, alice: User) -> None:
    hot, _plain = apps
    sent: list[str] = []

    def started(**_: Any) -> None:
        sent.append("started")

    def finished(**_: Any) -> None:
        sent.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        call(hot, {"query": definition()}, token=access_token(alice))
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert (sent, hot.answered) == (["started", "finished"], 1)


def session_tenant(request: Any) -> object:
    """A TENANT_CALLBACK that reads the session (none for a token caller)."""
    return request.session.get("tenant")


def test_a_callback_reading_the_session_works_on_the_hot_path(
    apps: Any, alice: User, settings: Any
) -> None:
    hot, plain = apps
    configure(settings, TENANT_CALLBACK="tests.api.test_hotpath.session_tenant")
    token = access_token(alice)
    got = call(hot, {"query": definition()}, token=token)
    assert got.status == call(plain, {"query": definition()}, token=token).status
    assert got.code == 200, got.body
    assert hot.answered == 1


def test_bad_tokens_are_never_answered_from_the_cache(apps: Any, alice: User) -> None:
    hot, _plain = apps
    good = access_token(alice)
    assert call(hot, {"query": definition()}, token=good).code == 200
    assert call(hot, {"query": definition()}, token=good + "x").code == 401


def test_the_schema_is_the_plain_applications_answer(apps: Any, alice: User) -> None:
    hot, plain = apps
    token = access_token(alice)
    schema = api("schema")
    expected = call(plain, b"", token=token, path=schema, method="GET")
    got = call(hot, b"", token=token, path=schema, method="GET")
    assert (got.code, hot.answered) == (200, 1)
    assert got.comparable() == expected.comparable()
    assert "shop_order" in {t["name"] for t in got.json()["tables"]}
    for kwargs in ({"token": None}, {"token": token, "QUERY_STRING": "format=json"}):
        passed = call(hot, b"", path=schema, method="GET", **kwargs)
        assert (
            passed.comparable()
            == call(plain, b"", path=schema, method="GET", **kwargs).comparable()
        )
    assert hot.answered == 1


class Unused(MiddlewareMixin):
    """A middleware that turns itself off (Django leaves it out of the chain)."""

    def __init__(self, get_response: Any) -> None:
        from django.core.exceptions import MiddlewareNotUsed

        raise MiddlewareNotUsed


def test_a_middleware_that_is_not_used_is_left_out_as_django_does(
    alice: User, settings: Any
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.api.test_hotpath.Unused"]
    hot, plain = HotPath(WSGIHandler()), WSGIHandler()
    token = access_token(alice)
    call(plain, {"query": definition()}, token=token)
    got = call(hot, {"query": definition()}, token=token)
    assert (hot.active(), hot.answered, got.code) == ("", 1, 200)
    assert got.comparable() == call(plain, {"query": definition()}, token=token).comparable()


@pytest.mark.parametrize(
    "extra",
    [
        {"CONTENT_LENGTH": "not-a-number"},
        {"CONTENT_LENGTH": "0"},
        {"CONTENT_LENGTH": str(10**12)},
        {"CONTENT_LENGTH": "-5"},
    ],
    ids=["garbage", "zero", "huge", "negative"],
)
def test_bodies_of_no_usable_length_are_djangos_to_answer(
    apps: Any, alice: User, extra: dict[str, str]
) -> None:
    hot, plain = apps
    token = access_token(alice)
    got = call(hot, {"query": definition()}, token=token, **extra)
    expected = call(plain, {"query": definition()}, token=token, **extra)
    assert got.status == expected.status
    assert hot.answered == 0


def test_made_up_paths_neither_reach_the_view_nor_crowd_out_the_real_one(
    apps: Any, alice: User
) -> None:
    hot, plain = apps
    token = access_token(alice)
    for n in range(100):  # more than the wrapper remembers
        path = api(f"query/execute/{n}") if n % 2 else f"/api/analytics/qu\u00e9ry/ex\u00e9cute/{n}"
        got = call(hot, {"query": definition()}, token=token, path=path)
        assert got.status == call(plain, {"query": definition()}, token=token, path=path).status
    assert hot.answered == 0
    assert call(hot, {"query": definition()}, token=token).code == 200
    assert hot.answered == 1


def test_a_unicode_path_is_resolved_as_django_decodes_it(apps: Any, alice: User) -> None:
    hot, plain = apps
    token = access_token(alice)
    raw = "/api/analytics/query/execute/\u00e9".encode().decode("iso-8859-1")  # as WSGI carries it
    got = call(hot, {"query": definition()}, token=token, path=raw)
    expected = call(plain, {"query": definition()}, token=token, path=raw)
    assert (got.status, hot.answered) == (expected.status, 0)


def _token_header(user: User) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    key = Token.objects.get_or_create(user=user)[0].key
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


@pytest.fixture
def token_first(alice: User, settings: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """DRF's database tokens as the first authentication class; alice's header."""
    authenticate_with(TOKEN_FIRST, settings, monkeypatch)
    return _token_header(alice)


def test_database_tokens_are_served_reading_the_token_row_on_every_request(
    apps: Any, token_first: dict[str, str]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    hot, plain = apps
    header, body = token_first, {"query": definition()}
    assert call(plain, body, **header).code == 200
    for _ in range(2):
        with CaptureQueriesContext(connection) as seen:
            got = call(hot, body, **header)
        assert any("authtoken_token" in query["sql"] for query in seen.captured_queries)
        expected = call(plain, body, **header)
        assert got.json()["is_from_cache"] is True
        assert got.comparable() == expected.comparable()
    assert hot.answered == 2


def test_a_revoked_token_or_an_inactive_user_is_djangos_401_at_once(
    apps: Any, alice: User, token_first: dict[str, str]
) -> None:
    from rest_framework.authtoken.models import Token

    hot, plain = apps
    header, body = token_first, {"query": definition()}
    first = call(hot, body, **header)
    assert first.code == 200, first.body
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    got, expected = call(hot, body, **header), call(plain, body, **header)
    assert got.code == 401
    assert got.comparable() == expected.comparable()
    alice.is_active = True
    alice.save(update_fields=["is_active"])
    Token.objects.filter(user=alice).delete()
    for bad in (
        header,
        {"HTTP_AUTHORIZATION": "Token ' OR 1=1 --"},
        {"HTTP_AUTHORIZATION": "Token"},
        {"HTTP_AUTHORIZATION": "Token \u00e9\u00e8"},  # not ASCII (WSGI's latin-1 text)
        {"HTTP_AUTHORIZATION": "Token a b"},
        {"HTTP_AUTHORIZATION": "Token " + "9" * 20_000},
    ):
        got, expected = call(hot, body, **bad), call(plain, body, **bad)
        assert got.code == 401
        assert got.comparable() == expected.comparable()
    # A NUL in the key: DRF's TokenAuthentication queries with it, which PostgreSQL refuses
    # (DRF's class alone answers 500 there); prismiq's views refuse it without a query
    # (prismiq_django.api.tokenlookup): the 401 on every database, the hot path as Django.
    nul = {"HTTP_AUTHORIZATION": "Token \x00"}
    got, expected = call(hot, body, **nul), call(plain, body, **nul)
    assert got.code == 401
    assert got.comparable() == expected.comparable()
    assert "NUL" not in got.body.decode()  # the database's text is not echoed
    assert hot.answered == 1


def test_a_scheme_spelt_in_another_case_gets_djangos_answer(
    apps: Any, token_first: dict[str, str]
) -> None:
    """DRF reads the keyword in any case; the hot path lets only ``Token`` through, so the
    others are Django's, with the same answer."""
    hot, plain = apps
    body = {"query": definition()}
    lower = {"HTTP_AUTHORIZATION": token_first["HTTP_AUTHORIZATION"].replace("Token", "token")}
    got, expected = call(hot, body, **lower), call(plain, body, **lower)
    assert got.code == 200
    assert (got.status, got.json()["rows"]) == (expected.status, expected.json()["rows"])
    assert hot.answered == 0


def test_a_scheme_the_first_class_does_not_read_goes_to_django(
    apps: Any, alice: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hot, plain = apps
    body = {"query": definition()}
    header = _token_header(alice)  # JWT first: a Token credential is not the first class's
    got, expected = call(hot, body, **header), call(plain, body, **header)
    assert got.comparable() == expected.comparable()
    authenticate_with(TOKEN_FIRST, settings, monkeypatch)  # Token first: a bearer token is not
    token = access_token(alice)
    got, expected = call(hot, body, token=token), call(plain, body, token=token)
    assert got.comparable() == expected.comparable()
    assert hot.answered == 0
