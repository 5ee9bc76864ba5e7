"""Rate limiting of the query endpoints (django-ratelimit counters in the real cache)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from django_ratelimit.core import _get_window
from rest_framework.test import APIClient

from tests.support.ops import API, customer_query
from tests.tokens import access_token, bearer


def _client(user: Any = None, ip: str = "10.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    if user is not None:
        client.force_authenticate(user)
    return client


def _validate(client: APIClient) -> Any:
    return client.post(API + "query/validate", customer_query(), format="json")


def _fresh_window(user: Any, period: int, needed: float) -> None:
    """Sleep into a new rate window unless the current one still has ``needed`` seconds.

    django-ratelimit windows end at a per-key integer second ``w`` and requests are counted in
    it until ``int(now) > w``.
    """
    left = _get_window(f"user:{user.pk}", period) + 1 - time.time()
    if left < needed:
        time.sleep(left + 0.1)


@pytest.fixture
def limited(settings: Any, exposed_shop: Any) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "RATE_LIMIT": "3/m"}


def test_the_limit_trips_at_the_configured_count(limited: None, user: Any) -> None:
    alice = _client(user)
    _fresh_window(user, 60, needed=10)
    answers = [_validate(alice) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["X-RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    for answer in answers:
        assert 1 <= int(answer["X-RateLimit-Reset"]) <= 61
    refused = answers[-1]
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["detail"].startswith("Too many requests.")
    assert set(body) == {"detail", "code"}
    assert refused["Retry-After"] == refused["X-RateLimit-Reset"]
    assert "Retry-After" not in answers[0]


def test_query_endpoints_share_one_budget(limited: None, user: Any) -> None:
    alice = _client(user)
    assert _validate(alice).status_code == 200
    assert alice.post(API + "query/sql", customer_query(), format="json").status_code == 200
    body = {"query": customer_query()}
    assert alice.post(API + "query/execute", body, format="json").status_code == 200
    for path in ("query/execute", "query/preview", "query/explain", "query/sql"):
        refused = alice.post(API + path, body, format="json")
        assert refused.status_code == 429, path
    values = alice.get(API + "tables/shop_customer/columns/city/values")
    assert values.status_code == 429


def test_users_are_counted_separately(limited: None, user: Any, other_user: Any) -> None:
    alice, bob = _client(user), _client(other_user)
    for _ in range(3):
        _validate(alice)
    assert _validate(alice).status_code == 429
    answer = _validate(bob)
    assert answer.status_code == 200
    assert answer["X-RateLimit-Remaining"] == "2"


def test_anonymous_callers_are_counted_by_ip(limited: None, settings: Any) -> None:
    settings.PRISMIQ = {
        **settings.PRISMIQ,
        "PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    }
    first, second = _client(ip="192.0.2.1"), _client(ip="192.0.2.2")
    assert [_validate(first).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert _validate(second).status_code == 200


def test_refused_requests_are_not_counted_before_authentication(limited: None, user: Any) -> None:
    anonymous = _client(ip="192.0.2.9")
    refusals = [_validate(anonymous) for _ in range(5)]
    assert {r.status_code for r in refusals} <= {401, 403}
    assert all("X-RateLimit-Limit" not in r for r in refusals)
    answer = _validate(_client(user, ip="192.0.2.9"))
    assert answer.status_code == 200
    assert answer["X-RateLimit-Remaining"] == "2"


def test_the_limit_resets_after_the_window(settings: Any, exposed_shop: Any, user: Any) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "RATE_LIMIT": "2/4s"}
    alice = _client(user)
    _fresh_window(user, 4, needed=2.5)
    assert [_validate(alice).status_code for _ in range(3)] == [200, 200, 429]
    refused = _validate(alice)
    wait = int(refused["X-RateLimit-Reset"])
    assert 1 <= wait <= 5
    assert int(refused["Retry-After"]) == wait
    time.sleep(wait + 0.05)  # Reset is an upper bound: waiting that long is enough
    again = _validate(alice)
    assert again.status_code == 200
    assert again["X-RateLimit-Remaining"] == "1"


def test_only_query_endpoints_are_limited(limited: None, user: Any) -> None:
    alice = _client(user)
    for _ in range(3):
        _validate(alice)
    schema = alice.get(API + "schema")
    assert schema.status_code == 200
    assert "X-RateLimit-Limit" not in schema
    saved = alice.get(API + "saved-queries")
    assert saved.status_code == 200
    assert "X-RateLimit-Limit" not in saved


def test_saved_query_execute_is_limited(limited: None, user: Any) -> None:
    alice = _client(user)
    created = alice.post(
        API + "saved-queries", {"name": "q", "query": customer_query()}, format="json"
    )
    assert created.status_code == 201, created.content
    assert "X-RateLimit-Limit" not in created
    url = API + f"saved-queries/{created.json()['id']}/execute"
    answers = [alice.post(url, {}, format="json") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0]["X-RateLimit-Remaining"] == "2"


def test_no_limit_no_headers(exposed_shop: Any, user: Any) -> None:
    alice = _client(user)
    answers = [_validate(alice) for _ in range(5)]
    assert all(a.status_code == 200 for a in answers)
    assert all("X-RateLimit-Limit" not in a for a in answers)


def test_counter_cache_down_lets_requests_through(
    limited: None, user: Any, settings: Any, caplog: Any
) -> None:
    settings.RATELIMIT_USE_CACHE = "dead"
    settings.CACHES = {
        **settings.CACHES,
        "dead": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    alice = _client(user)
    with caplog.at_level(logging.WARNING, logger="prismiq_django.throttling"):
        answers = [_validate(alice) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert "X-RateLimit-Limit" not in answers[0]
    assert any("unavailable" in r.getMessage() for r in caplog.records)


# --- stateless token users (simplejwt's TokenUser: no user row) ---------------------------------


def test_a_token_user_shares_the_budget_of_its_user(
    limited: None, jwt_auth: None, user: Any
) -> None:
    """``user_id`` "1" (simplejwt 5.5), 1 (before) and the session user 1 are one caller."""
    _fresh_window(user, 60, needed=10)
    as_text = bearer(access_token(user, username="alice"), REMOTE_ADDR="10.0.0.1")
    as_int = bearer(access_token(user, username="alice", user_id=user.pk), REMOTE_ADDR="10.0.0.2")
    session = _client(user, ip="10.0.0.3")
    answers = [_validate(c) for c in (as_text, as_int, session, as_text)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]


def test_a_token_without_a_user_pk_is_counted_per_subject(
    limited: None, jwt_auth: None, user: Any
) -> None:
    """A signed ``user_id`` that is no primary key here still names one caller: its own budget,
    whatever the address, shared with no user (user 1's ``"01"`` is not user 1)."""
    subject = f"0{user.pk}"
    _fresh_window(user, 60, needed=10)
    left = _get_window(f"subject:{subject}", 60) + 1 - time.time()
    if left < 10:
        time.sleep(left + 0.1)
    here = bearer(access_token(user_id=subject, username="alice"), REMOTE_ADDR="198.51.100.7")
    there = bearer(access_token(user_id=subject, username="alice"), REMOTE_ADDR="198.51.100.8")
    other = bearer(access_token(user_id="abc", username="alice"), REMOTE_ADDR="198.51.100.7")
    assert [_validate(here).status_code for _ in range(3)] == [200, 200, 200]
    assert _validate(there).status_code == 429  # the same subject from another address
    assert _validate(other).status_code == 200  # another subject from the same address
    assert _validate(_client(user, ip="198.51.100.7")).status_code == 200  # not user 1's budget
