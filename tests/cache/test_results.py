"""Result cache on the configured cache (locmem pass and Redis pass) with real query execution."""

from __future__ import annotations

import gc
import logging
import threading
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import caches

from prismiq_django import cache
from prismiq_django.ops.observability import REGISTRY
from prismiq_django.query import RowScope
from tests.support.ops import DEAD_REDIS, Counter, Stmt, customer_stmt, make_result, run


def _cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("prismiq_cache_requests_total", {"result": result}) or 0.0


def _fetch(stmt: Stmt, compute: Any, *, scopes: object = (), bypass: bool = False) -> Any:
    return cache.fetch_result(
        alias="default", compiled=stmt, scopes=scopes, compute=compute, bypass=bypass
    )


def test_miss_then_hit(customers: list[Any]) -> None:
    compute = Counter(lambda: run(customer_stmt(1)))
    misses, hits = _cache_count("miss"), _cache_count("hit")

    first = _fetch(customer_stmt(1), compute)
    second = _fetch(customer_stmt(1), compute)

    assert compute.calls == 1
    assert first.is_from_cache is False
    assert first.cached_at is None
    assert second.is_from_cache is True
    cached_at = datetime.fromisoformat(second.cached_at)
    assert cached_at.tzinfo is not None
    assert cached_at.utcoffset().total_seconds() == 0
    assert (
        second.rows
        == first.rows
        == [["Customer 0", "Paris"], ["Customer 2", "Paris"], ["Customer 4", "Lyon"]]
    )
    assert second.columns == first.columns == ["name", "city"]
    assert second.column_types == first.column_types
    assert second.row_count == 3
    assert second.truncated is False
    assert _cache_count("miss") == misses + 1
    assert _cache_count("hit") == hits + 1


def test_bypass_recomputes_and_refreshes_the_entry(customers: list[Any]) -> None:
    compute = Counter(lambda: run(customer_stmt(1)))
    bypasses = _cache_count("bypass")
    _fetch(customer_stmt(1), compute)
    first_hit = _fetch(customer_stmt(1), compute)
    time.sleep(0.01)

    forced = _fetch(customer_stmt(1), compute, bypass=True)
    later_hit = _fetch(customer_stmt(1), compute)

    assert compute.calls == 2
    assert forced.is_from_cache is False
    assert forced.cached_at is None
    assert later_hit.is_from_cache is True
    assert later_hit.cached_at > first_hit.cached_at
    assert _cache_count("bypass") == bypasses + 1


def test_entries_expire_after_the_ttl(customers: list[Any], settings: Any) -> None:
    settings.PRISMIQ = {"RESULT_CACHE_TTL": 1}
    compute = Counter(lambda: run(customer_stmt(1)))
    _fetch(customer_stmt(1), compute)
    assert _fetch(customer_stmt(1), compute).is_from_cache is True

    time.sleep(1.3)

    again = _fetch(customer_stmt(1), compute)
    assert again.is_from_cache is False
    assert compute.calls == 2


def test_ttl_zero_disables_the_cache(customers: list[Any], settings: Any) -> None:
    settings.PRISMIQ = {"RESULT_CACHE_TTL": 0}
    compute = Counter(lambda: run(customer_stmt(1)))
    results = [_fetch(customer_stmt(1), compute) for _ in range(3)]
    assert compute.calls == 3
    assert not any(r.is_from_cache for r in results)


def test_a_new_row_is_not_seen_until_the_table_is_invalidated(customers: list[Any]) -> None:
    from example_project.shop.models import Customer

    compute = Counter(lambda: run(customer_stmt(1)))
    assert _fetch(customer_stmt(1), compute).row_count == 3
    Customer.objects.create(
        tenant_id=1,
        name="Customer 9",
        email="x@example.com",
        city="Nice",
        country="FR",
        created_at=customers[0].created_at,
    )
    stale = _fetch(customer_stmt(1), compute)
    assert stale.is_from_cache is True
    assert stale.row_count == 3

    assert cache.invalidate("shop_customer") > 0

    fresh = _fetch(customer_stmt(1), compute)
    assert fresh.is_from_cache is False
    assert fresh.row_count == 4
    assert _fetch(customer_stmt(1), compute).is_from_cache is True


def test_invalidation_only_drops_entries_touching_the_table() -> None:
    orders = Stmt("SELECT 1 FROM o", (), frozenset({"shop_order"}))
    joined = Stmt("SELECT 1 FROM o JOIN c", (), frozenset({"shop_order", "shop_customer"}))
    products = Stmt("SELECT 1 FROM p", (), frozenset({"shop_product"}))
    computes = {s: Counter(lambda: make_result([[1, 2]])) for s in (orders, joined, products)}
    for stmt, compute in computes.items():
        _fetch(stmt, compute)

    cache.invalidate("shop_customer")

    assert _fetch(orders, computes[orders]).is_from_cache is True
    assert _fetch(products, computes[products]).is_from_cache is True
    assert _fetch(joined, computes[joined]).is_from_cache is False


def test_invalidate_all_drops_everything() -> None:
    stmts = [Stmt(f"SELECT {i}", (), frozenset({f"t{i}"})) for i in range(3)]
    computes = [Counter(lambda: make_result([[1, 2]])) for _ in stmts]
    for stmt, compute in zip(stmts, computes, strict=True):
        _fetch(stmt, compute)
    assert cache.invalidate_all() > 0
    assert not any(
        _fetch(stmt, compute).is_from_cache for stmt, compute in zip(stmts, computes, strict=True)
    )
    assert all(c.calls == 2 for c in computes)


def test_a_lost_generation_key_never_resurrects_old_entries() -> None:
    stmt = Stmt("SELECT 1", (), frozenset({"shop_order"}))
    compute = Counter(lambda: make_result([[compute.calls, 0]]))
    _fetch(stmt, compute)  # stored under generation g0
    cache.invalidate("shop_order")  # g1
    _fetch(stmt, compute)  # stored under g1
    # The generation key is evicted (Redis maxmemory, restart without persistence...).
    caches["default"].delete(cache.table_key("shop_order"))
    again = _fetch(stmt, compute)
    assert again.is_from_cache is False
    assert compute.calls == 3


def test_two_tenants_never_share_an_entry(customers: list[Any]) -> None:
    compute_1 = Counter(lambda: run(customer_stmt(1)))
    compute_2 = Counter(lambda: run(customer_stmt(2)))
    scope_1 = (RowScope("shop_customer", "tenant_id", (1,)),)
    scope_2 = (RowScope("shop_customer", "tenant_id", (2,)),)

    one = _fetch(customer_stmt(1), compute_1, scopes=scope_1)
    two = _fetch(customer_stmt(2), compute_2, scopes=scope_2)

    assert two.is_from_cache is False
    assert {r[0] for r in one.rows}.isdisjoint({r[0] for r in two.rows})
    assert _fetch(customer_stmt(2), compute_2, scopes=scope_2).rows == two.rows


def test_same_sql_different_scopes_do_not_share() -> None:
    """Even if two scopes compiled to the same SQL and params, the scopes keep keys apart."""
    stmt = Stmt("SELECT 1", (), frozenset({"t"}))
    compute = Counter(lambda: make_result([[compute.calls, 0]]))
    a = _fetch(stmt, compute, scopes=(RowScope("t", "tenant_id", (1,)),))
    b = _fetch(stmt, compute, scopes=(RowScope("t", "tenant_id", (2,)),))
    c = _fetch(stmt, compute, scopes={"t": (RowScope("t", "owner_id", (1,)),)})
    none = _fetch(stmt, compute, scopes=())
    assert [r.is_from_cache for r in (a, b, c, none)] == [False] * 4
    assert compute.calls == 4


def test_scope_order_does_not_matter() -> None:
    s1 = RowScope("a", "tenant_id", (1,))
    s2 = RowScope("b", "tenant_id", (1,))
    stmt = Stmt("SELECT 1", (), frozenset({"a", "b"}))
    assert cache.result_key(alias="x", compiled=stmt, scopes=(s1, s2)) == (
        cache.result_key(alias="x", compiled=stmt, scopes=[s2, s1])
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ((1,), ("1",)),
        ((1,), (True,)),
        ((1,), (1.0,)),
        ((1,), (Decimal("1"),)),
        ((None,), ("None",)),
        ((["a", "b"],), ("a", "b")),
        (("a", "b"), ("ab",)),
        (("a,b",), ("a", "b")),
        ((b"x",), ("x",)),
    ],
)
def test_parameter_types_and_shapes_give_distinct_keys(left: tuple[Any, ...], right: Any) -> None:
    key_l = cache.result_key(
        alias="default", compiled=Stmt("Q %s", left, frozenset({"t"})), scopes=()
    )
    key_r = cache.result_key(
        alias="default", compiled=Stmt("Q %s", right, frozenset({"t"})), scopes=()
    )
    assert key_l != key_r
    assert key_l.startswith("prismiq:r:")


def test_alias_and_sql_are_part_of_the_key() -> None:
    stmt = Stmt("SELECT 1", (), frozenset({"t"}))
    keys = {
        cache.result_key(alias="default", compiled=stmt, scopes=()),
        cache.result_key(alias="replica", compiled=stmt, scopes=()),
        cache.result_key(alias="default", compiled=Stmt("SELECT 2", (), stmt.tables), scopes=()),
    }
    assert len(keys) == 3


def test_an_entry_of_older_generations_is_never_served() -> None:
    """Generations live in the entry: a bumped table generation makes it stale, same key."""
    stmt = Stmt("SELECT gen", (), frozenset({"t_gen", "t_other"}))
    compute = Counter(lambda: make_result([[compute.calls, 0]]))
    key = cache.result_key(alias="default", compiled=stmt, scopes=())
    first = _fetch(stmt, compute)
    assert caches["default"].get(key) is not None
    assert _fetch(stmt, compute).is_from_cache is True

    cache.invalidate("t_other")
    stale_payload = caches["default"].get(key)
    assert stale_payload is not None  # still stored, no longer current
    second = _fetch(stmt, compute)
    assert second.is_from_cache is False
    assert second.rows != first.rows
    assert compute.calls == 2
    assert caches["default"].get(key) != stale_payload  # the miss overwrote it

    cache.invalidate_all()
    assert _fetch(stmt, compute).is_from_cache is False
    assert compute.calls == 3
    assert _fetch(stmt, compute).rows == [[3, 0]]


def test_concurrent_identical_misses_compute_once() -> None:
    stmt = Stmt("SELECT slow", (), frozenset({"t_slow"}))
    gate = threading.Lock()
    calls: list[int] = []

    def compute() -> Any:
        with gate:
            calls.append(1)
        time.sleep(0.4)
        return make_result([[1, 2]])

    results: list[Any] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(_fetch(stmt, compute))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)

    assert errors == []
    assert len(results) == 6
    assert len(calls) == 1
    assert sum(1 for r in results if not r.is_from_cache) == 1
    assert all(r.rows == [[1, 2]] for r in results)


def test_a_failing_lock_holder_lets_a_waiter_compute() -> None:
    stmt = Stmt("SELECT flaky", (), frozenset({"t_flaky"}))
    attempts: list[int] = []
    started = threading.Event()

    def failing() -> Any:
        attempts.append(1)
        started.set()
        time.sleep(0.2)
        raise RuntimeError("boom")

    def succeeding() -> Any:
        attempts.append(2)
        return make_result([[2, 2]])

    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            _fetch(stmt, failing)
        except RuntimeError as exc:
            outcome["first"] = exc

    t = threading.Thread(target=first)
    t.start()
    started.wait(5)
    second = _fetch(stmt, succeeding)
    t.join(5)

    assert isinstance(outcome["first"], RuntimeError)
    assert second.rows == [[2, 2]]
    assert attempts == [1, 2]


def test_compute_errors_propagate_and_nothing_is_cached() -> None:
    stmt = Stmt("SELECT err", (), frozenset({"t_err"}))

    def boom() -> Any:
        raise ValueError("query failed")

    with pytest.raises(ValueError, match="query failed"):
        _fetch(stmt, boom)
    compute = Counter(lambda: make_result([[1, 1]]))
    assert _fetch(stmt, compute).is_from_cache is False
    assert compute.calls == 1


def test_large_results_are_cached() -> None:
    rows = [[i, f"name-{i}", i * 0.5, i % 2 == 0, None] for i in range(60_000)]
    stmt = Stmt("SELECT big", (), frozenset({"t_big"}))
    compute = Counter(lambda: make_result(rows))
    _fetch(stmt, compute)
    hit = _fetch(stmt, compute)
    assert hit.is_from_cache is True
    assert hit.rows == rows
    assert hit.row_count == 60_000
    assert compute.calls == 1
    assert gc.isenabled()  # switched off only while decoding


def test_entries_hold_the_wire_json_of_the_rows() -> None:
    """A hit serves byte for byte the rows JSON the miss answered, also for values orjson
    cannot write (a 70-bit integer) or that are not JSON-ready (a Decimal, a datetime)."""
    rows = [[Decimal("1.10"), datetime(2024, 1, 1, 12, 30)], [2**70, "x"]]
    stmt = Stmt("SELECT exotic", (), frozenset({"t_exotic"}))
    miss = _fetch(stmt, lambda: make_result(rows))
    hit = _fetch(stmt, lambda: make_result([]))
    assert hit.is_from_cache is True
    assert hit.rows_json == miss.rows_json
    assert b"[1180591620717411303424," in hit.rows_json  # exact on the wire
    assert hit.rows == [[1.1, "2024-01-01T12:30:00"], [2**70, "x"]]


def test_a_corrupt_entry_is_dropped_and_recomputed(
    log_lines: Any,
) -> None:
    stmt = Stmt("SELECT corrupt", (), frozenset({"t_corrupt"}))
    compute = Counter(lambda: make_result([[1, 1]]))
    _fetch(stmt, compute)
    key = cache.result_key(alias="default", compiled=stmt, scopes=())
    caches["default"].set(key, b"jnot json", 60)

    again = _fetch(stmt, compute)

    assert again.is_from_cache is False
    assert compute.calls == 2
    assert _fetch(stmt, compute).is_from_cache is True
    assert any('"cache_bad_entry"' in line for line in log_lines())
    assert gc.isenabled()


def test_cache_down_degrades_to_uncached(
    customers: list[Any], dead_cache: str, log_lines: Any, caplog: Any
) -> None:
    errors = _cache_count("error")
    compute = Counter(lambda: run(customer_stmt(1)))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="prismiq_django.cache"):
        results = [_fetch(customer_stmt(1), compute) for _ in range(5)]
        forced = _fetch(customer_stmt(1), compute, bypass=True)
    elapsed = time.monotonic() - started

    assert compute.calls == 6
    assert all(r.row_count == 3 and r.is_from_cache is False for r in [*results, forced])
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    # The breaker: one connect timeout, then the dead cache is skipped.
    assert elapsed < 3.0
    assert _cache_count("error") >= errors + 5
    assert cache.invalidate("shop_customer") == 0
    assert cache.invalidate_all() == 0


def test_the_breaker_is_per_cache_alias(dead_cache: str, settings: Any) -> None:
    stmt = Stmt("SELECT back", (), frozenset({"t_back"}))
    compute = Counter(lambda: make_result([[1, 1]]))
    _fetch(stmt, compute)
    assert cache.breaker.is_open("dead")
    # Another (working) alias is not affected by the dead one tripping.
    settings.PRISMIQ = {**settings.PRISMIQ, "CACHE_ALIAS": "default"}
    _fetch(stmt, compute)
    assert _fetch(stmt, compute).is_from_cache is True


def test_repointing_an_alias_at_a_working_server_takes_effect_at_once(settings: Any) -> None:
    working = settings.CACHES
    settings.CACHES = {
        **working,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    stmt = Stmt("SELECT repoint", (), frozenset({"t_repoint"}))
    compute = Counter(lambda: make_result([[1, 1]]))
    assert _fetch(stmt, compute).is_from_cache is False
    assert cache.breaker.is_open("default")

    settings.CACHES = working

    assert not cache.breaker.is_open("default")
    _fetch(stmt, compute)
    assert _fetch(stmt, compute).is_from_cache is True


class _Unwritable:
    """A value no JSON encoder can write (its ``str`` fails too)."""

    def __str__(self) -> str:
        raise RuntimeError("no text form")


def test_an_unencodable_result_is_answered_uncached(log_lines: Any) -> None:
    stmt = Stmt("SELECT odd", (), frozenset({"t_odd"}))
    compute = Counter(lambda: make_result([[_Unwritable(), 1]]))
    first = _fetch(stmt, compute)
    second = _fetch(stmt, compute)
    assert first.is_from_cache is False
    assert second.is_from_cache is False
    assert compute.calls == 2
    assert any('"cache_unencodable"' in line for line in log_lines())


def test_an_outage_hidden_by_ignore_exceptions_still_degrades(
    settings: Any, log_lines: Any
) -> None:
    """django-redis IGNORE_EXCEPTIONS turns errors into None/False: no waiting on a lock."""
    settings.CACHES = {
        **settings.CACHES,
        "quiet": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "IGNORE_EXCEPTIONS": True,
            },
        },
    }
    settings.PRISMIQ = {"CACHE_ALIAS": "quiet"}
    stmt = Stmt("SELECT quiet", (), frozenset({"t_quiet"}))
    compute = Counter(lambda: make_result([[1, 1]]))
    started = time.monotonic()
    results = [_fetch(stmt, compute) for _ in range(3)]
    assert time.monotonic() - started < 5
    assert compute.calls == 3
    assert not any(r.is_from_cache for r in results)
    assert any('"cache_unavailable"' in line for line in log_lines())


def test_a_waiter_stops_waiting_for_a_lock_holder_that_overruns(settings: Any) -> None:
    settings.PRISMIQ = {"QUERY_TIMEOUT": 0.5}  # the lock lives QUERY_TIMEOUT + 5 s
    stmt = Stmt("SELECT stuck", (), frozenset({"t_stuck"}))
    started = threading.Event()
    finished: dict[str, float] = {}

    def stuck() -> Any:
        started.set()
        time.sleep(6.5)
        return make_result([[0, 0]])

    def holder() -> None:
        _fetch(stmt, stuck)
        finished["holder"] = time.monotonic()

    t = threading.Thread(target=holder)
    t.start()
    started.wait(5)
    begin = time.monotonic()
    waiter = _fetch(stmt, lambda: make_result([[1, 1]]))
    finished["waiter"] = time.monotonic()
    t.join(10)

    assert waiter.rows == [[1, 1]]  # computed by the waiter itself
    assert waiter.is_from_cache is False
    assert finished["waiter"] - begin > 4.5
    assert finished["waiter"] < finished["holder"]


def test_the_database_behind_an_alias_is_part_of_the_key(monkeypatch) -> None:
    """Two sites sharing one Redis through the same alias name never share entries."""
    from django.conf import settings

    stmt = Stmt("SELECT 1", (), frozenset({"t"}))
    before = cache.result_key(alias="default", compiled=stmt, scopes=())
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", "another_site")
    after = cache.result_key(alias="default", compiled=stmt, scopes=())
    assert before != after
