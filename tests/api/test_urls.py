"""The URLconf: every endpoint refuses anonymous callers (except the two probes), and every path
answers with and without its trailing slash."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver
from rest_framework.test import APIClient

from prismiq_django import urls as prismiq_urls
from tests.api.conftest import API, AUTHENTICATED_CALLS, CANARY_SECRET, api, definition
from tests.tokens import access_token, bearer, expired_token, foreign_token, unsigned_token

#: The only paths anonymous callers may use (SPEC section 5: probes that reveal nothing).
OPEN_PATHS = {"health/live", "health/ready"}

#: Endpoints this issue builds; the walk must find every one of them.
EXPECTED_NAMES = {
    "schema",
    "table-list",
    "table-detail",
    "column-values",
    "query-validate",
    "query-sql",
    "query-execute",
    "query-preview",
    "query-explain",
    "sql-validate",
    "sql-execute",
    "ask",
    "saved-query-list",
    "saved-query-detail",
    "saved-query-execute",
    "dashboard-list",
    "dashboard-import",
    "dashboard-detail",
    "dashboard-layout",
    "dashboard-export",
    "dashboard-execute",
    "dashboard-widget-list",
    "dashboard-widget-detail",
    "dashboard-widget-duplicate",
    "dashboard-widget-execute",
    "dashboard-embed-tokens",
    "dashboard-embed-tokens-revoke",
    "openapi",
    "docs",
}

#: The last route: every other path under the mount (JSON 404, after the usual permission check).
CATCH_ALL = "not-found"

#: Paths under the mount that match no endpoint (``%2F`` reaches Django as a slash).
UNKNOWN_PATHS = [
    "",
    "nope",
    "tables/a%2Fb",
    "tables/shop_order/columns",
    "tables/shop_order/columns/status/values/extra",
    "query",
    "query/run",
    "saved-queries/1/nope",
    "saved-queries/%D9%A1",
    "saved-queries/-1",
    "health/nope",
    "metrics/x",
    "openapi.json",
    "%E2%9C%93/x",
]

ALL_METHODS = ["get", "post", "put", "patch", "delete", "head", "options", "trace"]

_SAMPLES = {"name": "shop_order", "column": "status", "pk": "1"}
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _concrete(regex: str) -> str:
    """Turn ``^tables/(?P<name>[^/]+)/?$`` into ``tables/shop_order``."""
    path = _GROUP.sub(lambda m: _SAMPLES.get(m.group(1), "1"), regex)
    path = path.removeprefix("^").removesuffix("$").removesuffix("/?")
    assert not set(path) & set("()[]?*+\\^$"), f"could not make a concrete path from {regex!r}"
    return path


def _methods(pattern: URLPattern) -> list[str]:
    callback: Any = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted({*actions, "options"})
    view_class = callback.view_class
    return sorted(m for m in view_class.http_method_names if hasattr(view_class, m))


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, str | None, URLPattern]]:
    for pattern in patterns:
        regex = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(list(pattern.url_patterns), regex.removesuffix("$"))
        else:
            yield _concrete(regex.replace("$^", "")), pattern.name, pattern


def test_url_walk_finds_every_endpoint() -> None:
    names = {name for _, name, _ in _walk(prismiq_urls.urlpatterns)}
    assert names >= EXPECTED_NAMES


@pytest.mark.django_db
def test_every_endpoint_refuses_anonymous_callers(
    anon: APIClient, exposed: dict[str, Any], canary: None
) -> None:
    checked = 0
    for path, name, pattern in _walk(prismiq_urls.urlpatterns):
        if path in OPEN_PATHS:
            continue
        for method in _methods(pattern):
            for url in (API + path, API + path + "/"):
                response = getattr(anon, method)(url, {}, format="json")
                assert response.status_code in {401, 403}, (method, url, name, response.content)
                checked += 1
    assert checked >= 2 * (len(EXPECTED_NAMES) + 10)


@pytest.mark.parametrize("token", [None, "expired", "alg-none", "foreign-key", "garbage"])
def test_with_stateless_tokens_only_the_probes_are_open_to_callers_without_a_valid_one(
    jwt_auth: None, exposed: dict[str, Any], canary: None, bob: User, token: str | None
) -> None:
    """With JWTStatelessUserAuthentication first (the example project's setting): no token or a
    bad one gets 401 everywhere but the probes, which answer whatever the header says."""
    bad = {
        None: None,
        "expired": expired_token(bob),
        "alg-none": unsigned_token(access_token(bob), is_staff=True),
        "foreign-key": foreign_token(access_token(bob)),
        "garbage": "x.y.z",
    }[token]
    caller = APIClient() if bad is None else bearer(bad)
    checked = 0
    for path, name, pattern in _walk(prismiq_urls.urlpatterns):
        for method in _methods(pattern):
            for url in (API + path, API + path + "/"):
                response = getattr(caller, method)(url, {}, format="json")
                if path in OPEN_PATHS:
                    assert response.status_code in {200, 503}, (method, url, response.content)
                else:
                    assert response.status_code == 401, (method, url, name, response.content)
                    assert CANARY_SECRET not in response.content.decode()
                checked += 1
    assert checked >= 2 * (len(EXPECTED_NAMES) + 10)


@pytest.mark.django_db
def test_only_the_probes_are_open(anon: APIClient) -> None:
    open_found = {p for p, _, _ in _walk(prismiq_urls.urlpatterns) if p in OPEN_PATHS}
    assert open_found == OPEN_PATHS
    for path in open_found:
        assert anon.get(API + path).status_code in {200, 503}


@pytest.mark.parametrize(("method", "path", "payload"), AUTHENTICATED_CALLS)
def test_paths_work_with_and_without_trailing_slash(
    client: APIClient, method: str, path: str, payload: object
) -> None:
    for url in (api(path), api(path) + "/"):
        response = getattr(client, method)(url, payload, format="json")
        assert response.status_code == 200, (url, response.content)


def test_saved_query_paths_work_with_and_without_trailing_slash(client: APIClient) -> None:
    created = client.post(api("saved-queries"), {"name": "q", "query": definition()}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    for suffix in ("", "/"):
        assert client.get(api(f"saved-queries/{pk}{suffix}")).status_code == 200
        executed = client.post(api(f"saved-queries/{pk}/execute{suffix}"), {}, format="json")
        assert executed.status_code == 200, executed.content
        patched = client.patch(
            api(f"saved-queries/{pk}{suffix}"), {"name": f"q{suffix}"}, format="json"
        )
        assert patched.status_code == 200, patched.content
    assert client.delete(api(f"saved-queries/{pk}")).status_code == 204


def test_options_answers_for_authenticated_callers(client: APIClient) -> None:
    for path, name, pattern in _walk(prismiq_urls.urlpatterns):
        if "options" not in _methods(pattern) or path.startswith("docs") or name == CATCH_ALL:
            continue  # the catch-all answers 404 to every method (test_unknown_paths_...)
        response = client.options(API + path)
        assert response.status_code in {200, 403}, (path, response.content)
        if path.startswith(("query", "tables", "schema", "saved-queries")):
            assert response.status_code == 200, path


def test_catch_all_is_the_last_route() -> None:
    last = prismiq_urls.urlpatterns[-1]
    assert isinstance(last, URLPattern)
    assert last.name == CATCH_ALL
    assert [p for p in prismiq_urls.urlpatterns if getattr(p, "name", None) == CATCH_ALL] == [last]
    assert _methods(last) == sorted(ALL_METHODS)


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_unknown_paths_are_a_json_404_for_every_method(client: APIClient, path: str) -> None:
    for method in ALL_METHODS:
        for url in {API + path, API + path + "/"}:
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 404, (method, url, response.content)
            assert response["Content-Type"] == "application/json", (method, url)
            if method != "head":
                assert response.json() == {"detail": "Not found."}, (method, url)


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_unknown_paths_tell_anonymous_callers_nothing(
    anon: APIClient, exposed: dict[str, Any], path: str
) -> None:
    # The same refusal as on a real endpoint: an anonymous caller cannot map the API.
    known = anon.post(api("query/execute"), {}, format="json")
    assert known.status_code in {401, 403}
    for method in ALL_METHODS:
        response = getattr(anon, method)(API + path, {}, format="json")
        assert response.status_code == known.status_code, (method, path, response.content)
        if method != "head":
            assert response.json() == known.json(), (method, path)


def test_catch_all_is_not_in_the_openapi_document(client: APIClient) -> None:
    response = client.get(api("openapi"), {"format": "json"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "unmatched" not in text
    assert "not-found" not in text.lower().replace("not found", "")
