"""The fused read's packed commands (``cache.pipeline``): packed once per client, counter and
keys, byte for byte what redis-py writes, and never reused for another cache's key scheme."""

from __future__ import annotations

import pytest
from django_redis.cache import RedisCache
from redis import Connection

from prismiq_django.cache import pipeline
from prismiq_django.cache.counters import Counter


def _cache(prefix: str) -> RedisCache:
    return RedisCache("redis://127.0.0.1:6379/15", {"KEY_PREFIX": prefix})  # never connected


def test_packed_once_and_as_redis_py_packs() -> None:
    cache = _cache("site-a")
    client = cache.client
    counter = Counter("default", client, "prismiq:rl:user:1", 10, 60)
    keys = ["prismiq:gen", "prismiq:r:abc"]
    connection = Connection()
    packed = pipeline.packed_pair(client, connection, counter, keys)
    expected = b"".join(
        connection.pack_commands([counter.command(), ("MGET", *(client.make_key(k) for k in keys))])
    )
    assert packed == expected
    assert b"site-a" in packed
    assert pipeline.packed_pair(client, connection, counter, keys) is packed  # remembered


def test_another_cache_packs_its_own_keys() -> None:
    keys = ["prismiq:gen"]
    connection = Connection()
    one, two = _cache("site-a").client, _cache("site-b").client
    counter = Counter("default", one, "prismiq:rl:user:1", 10, 60)
    first = pipeline.packed_pair(one, connection, counter, keys)
    second = pipeline.packed_pair(two, connection, counter, keys)
    assert b"site-a" in first
    assert b"site-b" in second
    pipeline.forget_packed()
    assert pipeline.packed_pair(one, connection, counter, keys) == first


@pytest.mark.redis
def test_a_stored_entry_is_what_django_redis_set_stores() -> None:
    """``pipeline.store`` writes the key, value bytes and expiry ``cache.set`` writes: read back
    by django-redis itself, expiring after its ttl; a django-redis cache only."""
    from django.core.cache import caches

    cache = caches["default"]
    redis = cache.client.get_client(write=True)  # type: ignore[attr-defined]
    for value in (b"\x00entry\xff" * 50, {"rows": [[1, "\u00e9", None]]}, 7, -3, True):
        cache.set("prismiq:test:by-set", value, timeout=30)
        pipeline.store(cache, "prismiq:test:by-store", value, 30)
        assert cache.get("prismiq:test:by-store") == value
        by_set, by_store = (
            redis.get(cache.make_key(name))  # type: ignore[attr-defined]
            for name in ("prismiq:test:by-set", "prismiq:test:by-store")
        )
        assert by_store == by_set
        ttl = redis.pttl(cache.make_key("prismiq:test:by-store"))  # type: ignore[attr-defined]
        assert 29_000 < ttl <= 30_000


def test_another_cache_stores_with_its_own_set() -> None:
    from django.core.cache.backends.locmem import LocMemCache

    cache = LocMemCache("prismiq-store-test", {})
    pipeline.store(cache, "k", b"v", 30)
    assert cache.get("k") == b"v"


@pytest.mark.redis
def test_a_thread_gives_its_kept_connection_back_when_it_ends() -> None:
    """The connection a thread keeps for the fused reads and writes returns to the pool once
    the thread is gone (greenlets too): many short-lived threads never grow the pool."""
    import gc
    import threading

    from django.core.cache import caches

    cache = caches["default"]
    pool = cache.client.get_client(write=True).connection_pool  # type: ignore[attr-defined]

    def work(i: int) -> None:
        pipeline.store(caches["default"], f"prismiq:test:thread-{i}", i, 30)

    pipeline.store(cache, "prismiq:test:main", 1, 30)  # this thread keeps one
    in_use = len(pool._in_use_connections)
    created = pool._created_connections
    for i in range(20):
        thread = threading.Thread(target=work, args=(i,))
        thread.start()
        thread.join()
        gc.collect()
        assert len(pool._in_use_connections) == in_use
    assert pool._created_connections <= created + 1  # one socket, handed from thread to thread
    assert [cache.get(f"prismiq:test:thread-{i}") for i in range(20)] == list(range(20))
