"""The one-round-trip rate counter on Redis, and its count fused with the result-cache read.

A cached ``query/execute`` hit costs one Redis round trip (``EVALSHA`` + ``MGET`` in one
pipeline); whatever path a request takes, it is counted exactly once and refused past the limit
before anything is computed or served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from redis.connection import Connection
from redis.exceptions import NoScriptError
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.api.views import ExecuteView
from prismiq_django.cache import breaker
from prismiq_django.cache.counters import COUNT_SCRIPT_SHA, parse_rate, redis_counter
from tests.support.ops import API, DEAD_REDIS, customer_query

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


class Trips:
    """Round trips (packets) and commands redis-py sends while counting."""

    def __init__(self) -> None:
        self.trips = 0
        self.commands = 0


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trips]:
    seen = Trips()
    send = Connection.send_packed_command

    def counted(conn: Connection, command: Any, check_health: bool = True) -> None:
        seen.trips += 1
        chunks = command if isinstance(command, list | tuple) else [command]
        data = b"".join(bytes(chunk) for chunk in chunks)
        lines = data.split(b"\r\n")
        seen.commands += sum(1 for line in lines if line[:1] == b"*" and line[1:].isdigit())
        send(conn, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return seen


@pytest.fixture
def limited(settings: Any, exposed_shop: Any) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "RATE_LIMIT": "3/m"}


def _client(user: Any) -> APIClient:
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    client.force_authenticate(user)
    return client


def _execute(client: APIClient, query: Any = None) -> Any:
    body = {"query": customer_query() if query is None else query}
    return client.post(API + "query/execute", body, format="json")


def test_a_cached_hit_is_one_round_trip(
    limited: None, user: Any, trips: Trips, settings: Any
) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "SCHEMA_CACHE_TTL": 300}
    alice = _client(user)
    assert _execute(alice).status_code == 200  # the miss: stores the entry (and the catalog)
    trips.trips = trips.commands = 0
    hit = _execute(alice)
    assert hit.status_code == 200
    assert hit.json()["is_from_cache"] is True
    assert (trips.trips, trips.commands) == (1, 2)  # EVALSHA + MGET, one pipeline
    assert hit["X-RateLimit-Limit"] == "3"
    assert hit["X-RateLimit-Remaining"] == "1"
    assert 1 <= int(hit["X-RateLimit-Reset"]) <= 60


def test_a_hit_over_the_limit_is_refused_and_not_served(
    limited: None, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = _client(user)
    assert [_execute(alice).status_code for _ in range(3)] == [200, 200, 200]
    ran: list[object] = []
    real = services.execute
    monkeypatch.setattr(services, "execute", lambda *a, **k: ran.append(a) or real(*a, **k))
    refused = _execute(alice)
    assert refused.status_code == 429
    assert refused.json() == {"detail": refused.json()["detail"], "code": "rate_limited"}
    assert "rows" not in refused.json()
    assert refused["Retry-After"] == refused["X-RateLimit-Reset"]
    assert refused["X-RateLimit-Remaining"] == "0"
    assert len(ran) == 1  # the view ran (the count travels with the read), nothing was served


def test_without_a_catalog_in_memory_the_count_goes_first(
    limited: None, user: Any, trips: Trips
) -> None:
    """Schema cache off: the catalog is built (database, cache) for every request, so the count
    is sent alone before that, never after."""
    alice = _client(user)
    _execute(alice)
    trips.trips = trips.commands = 0
    assert _execute(alice).json()["is_from_cache"] is True
    assert (trips.trips, trips.commands) == (2, 2)


@pytest.mark.parametrize("schema_ttl", [0, 300])
def test_a_miss_over_the_limit_never_reaches_the_database(
    limited: None, user: Any, django_assert_max_num_queries: Any, settings: Any, schema_ttl: int
) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "SCHEMA_CACHE_TTL": schema_ttl}
    alice = _client(user)
    for _ in range(3):
        _execute(alice, customer_query(limit=1))
    with django_assert_max_num_queries(0):
        refused = _execute(alice, customer_query(limit=2))  # not cached: would run a statement
    assert refused.status_code == 429


def test_an_invalid_definition_is_counted_and_refused_past_the_limit(
    limited: None, user: Any
) -> None:
    alice = _client(user)
    bad = {"tables": [{"id": "c", "name": "no_such_table"}], "columns": []}
    answers = [_execute(alice, bad) for _ in range(4)]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert _execute(alice).status_code == 429  # the 400s used the budget


def test_execute_shares_the_budget_of_the_other_query_endpoints(limited: None, user: Any) -> None:
    alice = _client(user)
    assert _execute(alice).status_code == 200
    assert alice.post(API + "query/validate", customer_query(), format="json").status_code == 200
    assert _execute(alice).status_code == 200
    assert alice.post(API + "query/sql", customer_query(), format="json").status_code == 429
    assert _execute(alice).status_code == 429


def test_bypass_and_cache_off_are_counted_once(limited: None, user: Any, settings: Any) -> None:
    alice = _client(user)
    body = {"query": customer_query(), "bypass_cache": True}
    first = alice.post(API + "query/execute", body, format="json")
    assert first["X-RateLimit-Remaining"] == "2"
    settings.PRISMIQ = {**settings.PRISMIQ, "RESULT_CACHE_TTL": 0}
    assert _execute(alice)["X-RateLimit-Remaining"] == "1"
    assert _execute(alice)["X-RateLimit-Remaining"] == "0"
    assert _execute(alice).status_code == 429


def test_an_open_breaker_never_skips_the_count(limited: None, user: Any) -> None:
    """After a result-cache failure the breaker skips the cache for a while: the count must
    still be sent (alone), or a flood right after any cache hiccup would be unlimited."""
    alice = _client(user)
    breaker.trip("default")
    answers = [_execute(alice) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert all(a.json().get("is_from_cache") is not True for a in answers[:3])


def _result_cache_on_a_dead_redis(settings: Any) -> None:
    """The result cache on cache ``dead``: a Redis that refuses every connection at once."""
    settings.CACHES = {
        **settings.CACHES,
        "dead": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    settings.PRISMIQ = {**settings.PRISMIQ, "CACHE_ALIAS": "dead"}


def test_result_cache_down_counters_up_still_limits(
    limited: None, user: Any, settings: Any
) -> None:
    _result_cache_on_a_dead_redis(settings)
    alice = _client(user)
    assert [_execute(alice).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_one_redis_down_lets_execute_through_with_a_warning(
    limited: None, user: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _result_cache_on_a_dead_redis(settings)
    settings.RATELIMIT_USE_CACHE = "dead"
    alice = _client(user)
    with caplog.at_level(logging.WARNING, logger="prismiq_django.throttling"):
        answers = [_execute(alice) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert "X-RateLimit-Limit" not in answers[0]
    assert any("unavailable" in r.getMessage() for r in caplog.records)


class AuditedExecuteView(ExecuteView):
    """A site's override: its count is never deferred (it may do anything before a read)."""

    calls: list[object] = []

    def perform_execute(self, request: Any, definition: object, **kwargs: Any) -> Any:
        AuditedExecuteView.calls.append(definition)
        return super().perform_execute(request, definition, **kwargs)


def test_an_overridden_perform_execute_is_counted_before_it_runs(
    limited: None, user: Any, settings: Any
) -> None:
    from rest_framework.test import APIRequestFactory, force_authenticate

    # no result cache: nothing is left for after the response (the factory never closes one)
    settings.PRISMIQ = {**settings.PRISMIQ, "RESULT_CACHE_TTL": 0}
    view = AuditedExecuteView.as_view()
    AuditedExecuteView.calls = []
    factory = APIRequestFactory(REMOTE_ADDR="10.0.0.1")
    statuses = []
    for _ in range(4):
        request = factory.post("/x", {"query": customer_query()}, format="json")
        force_authenticate(request, user)
        statuses.append(view(request).status_code)
    assert statuses == [200, 200, 200, 429]
    assert len(AuditedExecuteView.calls) == 3  # the refused one never reached the override
    assert ExecuteView().rate_limit_deferrable(None) is True  # type: ignore[arg-type]
    assert AuditedExecuteView().rate_limit_deferrable(None) is False  # type: ignore[arg-type]


def test_the_counter_script_starts_a_window_and_reports_its_end(settings: Any) -> None:
    counter = redis_counter("default", group="g", caller="user:1", rate="2/3s")
    assert counter is not None
    first, second, third = counter.count(), counter.count(), counter.count()
    assert [u.count for u in (first, second, third) if u] == [1, 2, 3]
    assert third is not None
    assert third.limited
    assert third.remaining == 0
    assert third.reset_seconds in (1, 2, 3)
    ttl = counter.redis().pttl(counter.key)
    assert 0 < ttl <= 3000
    time.sleep(ttl / 1000 + 0.05)  # Retry-After rounded up is always enough
    again = counter.count()
    assert again is not None
    assert again.count == 1


def test_a_counter_found_without_expiry_gets_one(settings: Any) -> None:
    counter = redis_counter("default", group="g", caller="user:2", rate="5/m")
    assert counter is not None
    counter.redis().set(counter.key, 7)  # e.g. written by hand, or a crash between commands
    usage = counter.count()
    assert usage is not None
    assert usage.count == 8
    assert 0 < counter.redis().pttl(counter.key) <= 60_000


def test_noscript_loads_the_script_and_counts(settings: Any) -> None:
    counter = redis_counter("default", group="g", caller="user:3", rate="5/m")
    assert counter is not None
    usage = counter.usage(NoScriptError("NOSCRIPT No matching script."))
    assert usage.count == 1
    assert counter.redis().script_exists(COUNT_SCRIPT_SHA) == [True]


def test_counter_keys_separate_groups_callers_and_rates_and_honour_the_prefix(
    settings: Any,
) -> None:
    keys = {
        redis_counter("default", group=g, caller=c, rate=r).key  # type: ignore[union-attr]
        for g, c, r in [
            ("a", "user:1", "5/m"),
            ("b", "user:1", "5/m"),
            ("a", "user:10", "5/m"),
            ("a", "user:1", "6/m"),
            ("a", "user:1", "5/2m"),
            ("a", "subject:\ud800", "5/m"),
        ]
    }
    assert len(keys) == 6
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    assert all(key.startswith(prefix) for key in keys)
    assert caches["default"].client is not None


@pytest.mark.parametrize(
    ("rate", "parsed"), [("120/m", (120, 60)), ("10/5s", (10, 5)), ("1/d", (1, 86400))]
)
def test_rates_parse_like_django_ratelimit(rate: str, parsed: tuple[int, int]) -> None:
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "5", "5/x", "x/m", "5/-1m"])
def test_bad_rates_are_refused(rate: str) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate(rate)


def test_a_redis_without_the_script_loads_it_and_still_serves_hits(
    limited: None, user: Any, settings: Any
) -> None:
    """A fresh or restarted Redis (or ``SCRIPT FLUSH``) knows no counting script: the fused
    read's ``EVALSHA`` is refused with NOSCRIPT. The script is loaded, the request counted once
    and the cached entry served, on the first request as on the next."""
    settings.PRISMIQ = {**settings.PRISMIQ, "SCHEMA_CACHE_TTL": 300}
    alice = _client(user)
    redis = caches["default"].client.get_client(write=True)  # type: ignore[attr-defined]
    assert _execute(alice).status_code == 200  # the miss stores the entry
    for remaining in ("1", "0"):
        redis.script_flush()
        hit = _execute(alice)
        assert hit.status_code == 200, hit.content
        assert hit.json()["is_from_cache"] is True
        assert hit["X-RateLimit-Remaining"] == remaining
        assert redis.script_exists(COUNT_SCRIPT_SHA) == [True]
    assert _execute(alice).status_code == 429


def test_a_connection_the_server_closed_is_replaced_and_the_hit_counted_once(
    limited: None, user: Any, settings: Any
) -> None:
    """Each thread keeps one connection for its fused reads; when Redis drops it (a restart,
    ``timeout``, ``CLIENT KILL``) the next read goes out once more on a fresh socket: the hit
    is served and counted once."""
    settings.PRISMIQ = {**settings.PRISMIQ, "SCHEMA_CACHE_TTL": 300}
    alice = _client(user)
    redis = caches["default"].client.get_client(write=True)  # type: ignore[attr-defined]
    assert _execute(alice).status_code == 200  # the miss
    assert _execute(alice)["X-RateLimit-Remaining"] == "1"  # a hit: the fused read's socket
    ours = [c for c in redis.client_list() if c.get("cmd") in {"mget", "evalsha"}]
    assert ours
    for client in ours:
        redis.client_kill_filter(_id=client["id"])
    hit = _execute(alice)
    assert hit.status_code == 200
    assert hit.json()["is_from_cache"] is True
    assert hit["X-RateLimit-Remaining"] == "0"
    assert _execute(alice).status_code == 429
