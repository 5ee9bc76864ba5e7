"""The hot path's replay of repeated cached runs (prismiq_django.api.replay, services.hits).

A body seen before whose result the cache serves is answered without the handler: these tests
check that such answers are Django's (status, body, headers), that everything decided per
request is still decided per request (permissions, tenants, the rate count, invalidation), and
that what is not a plain cached run is never replayed. Real WSGI environs, URLconf, views,
services and database, as in ``test_hotpath.py``; the cache is locmem, or Redis in its pass.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string
from rest_framework.permissions import BasePermission

from prismiq_django import services
from prismiq_django.api import hotpath
from prismiq_django.cache import invalidate
from prismiq_django.models import ExposedTable
from prismiq_django.services.hits import MAX_BODY_KEY
from tests.api.conftest import add_second_tenant, configure, definition
from tests.api.test_hotpath import EXECUTE, cached, call, test_transaction_kept
from tests.tokens import access_token

pytestmark = pytest.mark.usefixtures("jwt_auth", "exposed", "shop", "canary", "cached")
__all__ = ["cached", "test_transaction_kept"]  # fixtures of test_hotpath.py, used here

COUNT_ORDERS = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [{"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"}],
}


def answered(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[bool]:
    """One entry per call of the replay ``owner.name``: True when it answered."""
    seen: list[bool] = []
    real = getattr(owner, name)

    def spy(*args: Any) -> Any:
        answer = real(*args)
        seen.append(answer is not None)
        return answer

    monkeypatch.setattr(owner, name, spy)
    return seen


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per request the hot path tried to replay: True when it answered it."""
    return answered(monkeypatch, hotpath, "replayed")


def test_a_repeated_hit_is_replayed_as_django_answers_it(alice: User, replays: list[bool]) -> None:
    hot, plain = hotpath.HotPath(WSGIHandler()), WSGIHandler()
    token = access_token(alice)
    query = {**definition(), "limit": 9101}  # a statement no other test cached
    body = {"query": query}
    first = call(hot, body, token=token)
    assert first.json()["is_from_cache"] is False
    answers = [call(hot, body, token=token) for _ in range(3)]
    assert replays == [False, True, True, True]  # the first run computed and stored it
    django = call(plain, body, token=token)
    assert django.json()["is_from_cache"] is True
    for answer in answers:
        assert answer.comparable() == django.comparable()
    # The same definition spelled with other bytes is read and replayed as well.
    spaced = b'{ "query" : ' + orjson.dumps(query) + b" }"
    assert call(hot, spaced, token=token).comparable()[2] == django.body
    assert replays[-1] is True


def test_an_invalidated_result_is_computed_again(alice: User, replays: list[bool]) -> None:
    hot = hotpath.HotPath(WSGIHandler())
    token = access_token(alice)
    body = {"query": {**COUNT_ORDERS, "limit": 9102}}  # a statement no other test cached
    assert call(hot, body, token=token).json()["rows"] == [[10]]
    assert call(hot, body, token=token).json()["is_from_cache"] is True
    invalidate("shop_order")
    again = call(hot, body, token=token).json()
    assert (again["is_from_cache"], again["rows"]) == (False, [[10]])
    assert replays == [False, True, False]
    # A new catalog (results stay valid): the replay's catalog is not the current one, so the
    # full run answers (from the cache) before the replay does again.
    services.invalidate_catalog()
    for _ in range(2):
        got = call(hot, body, token=token)
        assert (got.json()["is_from_cache"], got.json().get("rows")) == (True, [[10]]), got.body
    assert replays[-2:] == [False, True]


@pytest.mark.parametrize(
    "extra", [{"bypass_cache": True}, {"page": 1, "page_size": 2}, {"count_total": True}]
)
def test_bypass_and_paging_are_never_replayed(
    alice: User, replays: list[bool], extra: dict[str, Any]
) -> None:
    hot, plain = hotpath.HotPath(WSGIHandler()), WSGIHandler()
    token = access_token(alice)
    body = {"query": definition(), **extra}
    call(hot, {"query": definition()}, token=token)  # the plain run is cached
    for _ in range(2):
        got, django = call(hot, body, token=token), call(plain, body, token=token)
        assert (got.status, _rows(got)) == (django.status, _rows(django))
    assert replays[1:] == [False, False]  # the first, the plain run, may be a replay


def _rows(answer: Any) -> dict[str, Any]:
    """The answer without what differs between a computed and a cached one."""
    moving = {"is_from_cache", "cached_at", "execution_time_ms"}
    return {k: v for k, v in answer.json().items() if k not in moving}


HOSTILE = [
    b'{"query": {"tables": []}',  # not JSON
    b'{"query": null}',
    b'{"query": 1, "x": [}',
    b'{"query": {"tables": []}}',  # no table
    b'{"query": []}',
    b'{"query": {"tables": [{"id": "o", "name": "shop_order"}]}, "bypass_cache": "false"}',
    b'{"query": {"tables": [{"id": "o", "name": "shop_order"}]}, "bypass_cache": null}',
    orjson.dumps(
        {"query": {**COUNT_ORDERS, "columns": [{"table_id": "o", "column": "id; DROP TABLE x--"}]}}
    ),
    orjson.dumps({"query": {"tables": [{"id": "o", "name": "sh\u00f6p_\u00f6rd\u00e9r"}]}}),
    orjson.dumps({"query": {"tables": [{"id": "\u0000", "name": "shop_order\u202e"}]}}),
    b'{"query": {"tables": [{"id": "o", "name": "shop_order"}], "limit": 1' + b"0" * 40 + b"}}",
    orjson.dumps({"query": {**COUNT_ORDERS, "limit": -1}}),
]


@pytest.mark.parametrize("body", HOSTILE)
def test_malformed_and_hostile_bodies_get_django_s_answer(
    alice: User, replays: list[bool], body: bytes
) -> None:
    hot, plain = hotpath.HotPath(WSGIHandler()), WSGIHandler()
    token = access_token(alice)
    for _ in range(2):
        got = call(hot, body, token=token)
        assert got.code == 400, got.body
        assert got.comparable() == call(plain, body, token=token).comparable()
    assert not any(replays)


def test_a_body_read_twice_the_same_way_and_a_huge_one_not_remembered(
    alice: User, replays: list[bool]
) -> None:
    """Duplicate keys: the endpoint's parser keeps the last, and so does a replay of those
    bytes. A body beyond ``MAX_BODY_KEY`` is answered right every time, never from a recipe."""
    hot, plain = hotpath.HotPath(WSGIHandler()), WSGIHandler()
    token = access_token(alice)
    last = {**COUNT_ORDERS, "limit": 9104}
    doubled = b'{"query": {"tables": []}, "query": ' + orjson.dumps(last) + b"}"
    answers = [call(hot, doubled, token=token) for _ in range(3)]
    assert [a.json()["rows"] for a in answers] == [[[10]]] * 3
    assert replays == [False, True, True]
    assert answers[-1].comparable() == call(plain, doubled, token=token).comparable()
    padded = b'{"query": ' + orjson.dumps(last) + b" " * (MAX_BODY_KEY + 1) + b"}"
    for _ in range(2):
        got = call(hot, padded, token=token)
        assert (got.json()["rows"], got.json()["is_from_cache"]) == ([[10]], True)
    assert replays[-2:] == [False, False]


def tenant_of(request: Any) -> int | None:
    """The site's TENANT_CALLBACK here: the token's ``tenant`` claim."""
    token = getattr(request, "auth", None)
    return None if token is None else token.get("tenant")


def test_tenants_never_share_a_replay(
    alice: User, bob: User, settings: Any, replays: list[bool]
) -> None:
    add_second_tenant()
    configure(settings, EXPOSED_TABLES=None, TENANT_CALLBACK="tests.api.test_replay.tenant_of")
    ExposedTable.objects.create(name="shop_order", is_exposed=True, tenant_column="tenant_id")
    services.invalidate_catalog()
    hot = hotpath.HotPath(WSGIHandler())
    body = {"query": COUNT_ORDERS}
    tokens = {"alice": access_token(alice, tenant=1), "bob": access_token(bob, tenant=2)}
    for _ in range(3):
        got = call(hot, body, token=tokens["alice"])
        assert got.json().get("rows") == [[10]], got.body
        got = call(hot, body, token=tokens["bob"])
        assert got.json().get("rows") == [[2]], got.body
    assert replays[-2:] == [True, True]


class Refusing(BasePermission):
    """Lets a caller in until the test says otherwise."""

    open = True

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and Refusing.open)


def test_permission_classes_decide_every_replayed_request(
    alice: User, settings: Any, replays: list[bool]
) -> None:
    configure(settings, PERMISSION_CLASSES=["tests.api.test_replay.Refusing"])
    hot, plain = hotpath.HotPath(WSGIHandler()), WSGIHandler()
    token = access_token(alice)
    body = {"query": {**COUNT_ORDERS, "limit": 9103}}  # a statement no other test cached
    call(hot, body, token=token)
    assert call(hot, body, token=token).json()["is_from_cache"] is True
    permission = import_string("tests.api.test_replay.Refusing")  # the copy settings import
    permission.open = False
    try:
        refused = call(hot, body, token=token)
        assert refused.code == 403, refused.body
        assert refused.comparable() == call(plain, body, token=token).comparable()
    finally:
        permission.open = True
    assert replays == [False, True]  # the refused request never reached the replay


class Counting:
    """A site's DRF throttle class: counts the requests it sees."""

    seen = 0

    def allow_request(self, request: Any, view: Any) -> bool:
        Counting.seen += 1
        return True

    def wait(self) -> None:
        return None


def test_site_throttles_see_every_request(alice: User, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_CLASSES": ["tests.api.test_replay.Counting"],
    }
    hot = hotpath.HotPath(WSGIHandler())
    token = access_token(alice)
    throttle = import_string("tests.api.test_replay.Counting")  # the copy settings import
    before = throttle.seen
    for _ in range(3):
        assert call(hot, {"query": COUNT_ORDERS}, token=token).code == 200
    assert throttle.seen - before == 3


@pytest.mark.redis
def test_replayed_requests_are_counted_once_and_refused_over_the_limit(
    settings: Any, replays: list[bool]
) -> None:
    configure(settings, RATE_LIMIT="4/m")
    user = User.objects.create_user(f"replay-{id(settings)}", password="x")
    hot, plain = hotpath.HotPath(WSGIHandler()), WSGIHandler()
    token = access_token(user)
    body = {"query": COUNT_ORDERS}
    left = []
    for step in range(4):
        if step == 2:
            invalidate("shop_order")  # a replay that misses: computed, still counted once
        got = call(hot, body, token=token)
        assert got.code == 200
        left.append(int(got.headers["x-ratelimit-remaining"]))
    assert left == [3, 2, 1, 0]
    assert replays[1:] == [True, False, True]  # the first may replay an earlier test's entry
    refused = call(hot, body, token=token)
    assert refused.code == 429
    assert "retry-after" in refused.headers
    django = call(plain, body, token=token)
    assert (refused.status, refused.body) == (django.status, django.body)


@pytest.mark.redis
def test_a_redis_that_lost_the_counting_script_still_replays_and_counts(
    settings: Any, replays: list[bool]
) -> None:
    """After ``SCRIPT FLUSH`` (a Redis restarted or new) the replay's EVALSHA is refused with
    NOSCRIPT: the script is loaded again, the request counted and the hit still replayed."""
    from django.core.cache import caches

    configure(settings, RATE_LIMIT="3/m")
    user = User.objects.create_user(f"noscript-{id(settings)}", password="x")
    hot = hotpath.HotPath(WSGIHandler())
    token = access_token(user)
    body = {"query": COUNT_ORDERS}
    redis = caches["default"].client.get_client(write=True)  # type: ignore[attr-defined]
    assert call(hot, body, token=token).code == 200
    left = []
    for _ in range(2):
        redis.script_flush()
        got = call(hot, body, token=token)
        assert got.code == 200
        left.append(got.headers["x-ratelimit-remaining"])
    assert left == ["1", "0"]
    assert replays[1:] == [True, True]
    assert call(hot, body, token=token).code == 429


def test_a_repeated_run_through_django_is_replayed_by_the_service(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the hot path (session, Basic or token callers through Django), the service
    answers a repeated hit from its recipe: the same answer, computed once."""
    from prismiq_django.services import queries

    seen = answered(monkeypatch, queries, "replay_hit")
    body = {"query": {**COUNT_ORDERS, "limit": 9173}}  # a statement no other test cached
    answers = [client.post(EXECUTE, body, format="json").json() for _ in range(3)]
    assert [a["is_from_cache"] for a in answers] == [False, True, True]
    # The first run computes (its catalog may not be built yet: then no replay is tried).
    assert seen[-2:] == [True, True]
    assert not any(seen[:-2])
    assert {str(a["rows"]) for a in answers} == {"[[10]]"}


def test_limits_follow_the_settings(settings: Any) -> None:
    from prismiq_django.services.memo import limits

    configure(settings, MAX_ROWS=123)
    assert limits().max_rows == 123
    configure(settings, MAX_ROWS=456)
    assert limits().max_rows == 456
