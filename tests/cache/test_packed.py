"""The fused read's packed commands (``cache.pipeline``): packed once per client, counter and
keys, byte for byte what redis-py writes, and never reused for another cache's key scheme."""

from __future__ import annotations

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
