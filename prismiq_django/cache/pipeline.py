"""The result cache's read, with the request's rate count in the same Redis round trip, and
its write.

Contract::

    read_many(alias, keys, pending) -> {key: value}   # like cache.get_many(keys)
    store(cache, key, value, ttl)                     # like cache.set(key, value, timeout=ttl)

- Without a :class:`~prismiq_django.cache.counters.PendingCount` (or one already sent) it is
  ``get_many`` through :func:`~prismiq_django.cache.breaker.guarded_call`.
- With one whose counter lives on the same django-redis client as cache ``alias``, the count
  (``EVALSHA``) and the read (``MGET``) go in one pipeline; the count is reported
  (``on_counted``, which may raise: the 429) **before** any value is decoded or returned, so
  nothing is served to a caller over its limit.
- Otherwise (another cache, not django-redis, the breaker open after a recent failure) the count
  is sent alone first, then the values are read as without one: a result-cache outage never
  stops requests from being counted.
- Failures are the breaker's (:class:`~prismiq_django.cache.breaker.CacheDown`, logged); when
  the fused round trip itself fails the count is reported as unavailable (None) first, so the
  request is let through exactly as when the counters alone are down.
- On django-redis both go out on a connection each thread keeps (:func:`_held_connection`)
  as the bytes redis-py would write; ``store`` writes what django-redis' ``set`` writes.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from django.core.cache import BaseCache
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

from prismiq_django.cache.breaker import CacheDown, breaker, guarded_call
from prismiq_django.cache.counters import (
    Counter,
    PendingCount,
    default_client_of,
    fusable_client,
    unavailable,
)

_T = TypeVar("_T")


def read_many(alias: str, keys: Sequence[str], pending: PendingCount | None) -> dict[str, Any]:
    """The values of ``keys`` found in cache ``alias``, counting ``pending`` on the way (see the
    module's contract). Raises CacheDown, or what ``pending``'s ``on_counted`` raises."""
    if pending is not None and not _fusable(alias, pending):
        pending.settle()
        pending = None
    if pending is None or not pending.claim():
        return dict(guarded_call(alias, lambda c: c.get_many(keys)))
    counter = pending.counter
    try:
        count_reply, values = guarded_call(alias, lambda c: _send(c, counter, keys))
    except CacheDown:
        unavailable(CacheDown("fused read failed"))
        pending.counted(None)
        raise
    try:
        usage = counter.usage(count_reply)
    except Exception as exc:
        unavailable(exc)
        usage = None
    pending.counted(usage)  # may raise: nothing below runs for a caller over its limit
    return dict(guarded_call(alias, lambda c: _decode(c, keys, values)))


def _fusable(alias: str, pending: PendingCount) -> bool:
    return (
        not pending.done
        and pending.counter.alias == alias
        and not breaker.is_open(alias)
        and fusable_client(alias) is not None
    )


_PACKED_SIZE: Final = 1024
#: (client, counter key, period, keys) -> (the django-redis client it was made for, the bytes of
#: the pair): a repeated read sends bytes packed once. The client is kept and compared by
#: identity, so a rebuilt cache (other KEY_PREFIX, VERSION, key function) packs anew.
_packed: OrderedDict[tuple[int, str, int, tuple[str, ...]], tuple[Any, bytes]] = OrderedDict()
_packed_lock = threading.Lock()


def packed_pair(client: Any, connection: Any, counter: Counter, keys: Sequence[str]) -> bytes:
    """The ``EVALSHA`` + ``MGET`` of ``counter`` and ``keys`` as the bytes redis-py writes."""
    memo = (id(client), counter.key, counter.period_ms, tuple(keys))
    with _packed_lock:
        found = _packed.get(memo)
        if found is not None and found[0] is client:
            _packed.move_to_end(memo)
            return found[1]
    made = [client.make_key(key) for key in keys]
    data = b"".join(connection.pack_commands([counter.command(), ("MGET", *made)]))
    with _packed_lock:
        _packed[memo] = (client, data)
        while len(_packed) > _PACKED_SIZE:
            _packed.popitem(last=False)
    return data


def forget_packed() -> None:
    """Empty the memo of packed reads (settings changed)."""
    with _packed_lock:
        _packed.clear()


def _send(cache: BaseCache, counter: Counter, keys: Sequence[str]) -> tuple[Any, Any]:
    """``EVALSHA`` (the count) and ``MGET`` (the values) written in one send on this thread's
    connection (:func:`_held_connection`) and both replies read: what a redis-py pipeline
    does, without its per-command bookkeeping (half the client CPU of a hit). Error replies are
    returned as exception values (the pipeline's ``raise_on_error=False``); a broken or
    timed-out connection is dropped and the pair sent once more on a new one (redis-py's
    default retry for a pipeline; as there, a reply lost after the server ran the count counts
    that request twice)."""
    client = cache.client  # type: ignore[attr-defined]  # django-redis' DefaultClient
    connection = _held_connection(client.get_client(write=True).connection_pool)

    def exchange() -> tuple[Any, Any]:
        connection.send_packed_command([packed_pair(client, connection, counter, keys)])
        return _reply(connection), _reply(connection)

    return _once_more_on_a_fresh_socket(connection, exchange)


def _once_more_on_a_fresh_socket(connection: Any, exchange: Callable[[], _T]) -> _T:
    """``exchange()`` on ``connection``, once more after a broken or timed-out socket (redis-py
    reconnects on the next send); on any failure the connection is disconnected, since a reply
    may be left unread on it."""
    try:
        try:
            return exchange()
        except (ConnectionError, TimeoutError):  # a stale socket: once more on a fresh one
            connection.disconnect()
            return exchange()
    except BaseException:
        connection.disconnect()  # a reply may be left unread: never reuse the socket
        raise


def store(cache: BaseCache, key: str, value: object, ttl: int) -> None:
    """``cache.set(key, value, timeout=ttl)`` (``ttl`` > 0 seconds). On django-redis with its
    default client: the same key, value bytes and expiry (``SET <key> <value> PX <ms>``) sent
    on this thread's connection, without redis-py's command path; an error reply is raised.
    Any other cache: its own ``set``."""
    client = default_client_of(cache)
    if client is None or ttl <= 0:
        cache.set(key, value, timeout=ttl)
        return
    connection = _held_connection(client.get_client(write=True).connection_pool)
    data = connection.pack_command(
        "SET", client.make_key(key), client.encode(value), "PX", int(ttl * 1000)
    )

    def exchange() -> None:
        connection.send_packed_command(data)
        reply = _reply(connection)
        if isinstance(reply, Exception):
            raise reply

    _once_more_on_a_fresh_socket(connection, exchange)


class _Holder:
    """A connection kept by one thread (or greenlet) for its fused reads and writes."""

    __slots__ = ("__weakref__", "connection", "give_back", "pid", "pool")

    def __init__(self, pool: Any, connection: Any, pid: int) -> None:
        self.pool, self.connection, self.pid = pool, connection, pid
        self.give_back = weakref.finalize(self, _give_back, pool, connection, pid)
        self.give_back.atexit = False


def _give_back(pool: Any, connection: Any, pid: int) -> None:
    if os.getpid() == pid:  # a forked child's pool is a copy: nothing to give back
        pool.release(connection)


_held = threading.local()


def _held_connection(pool: Any) -> Any:
    """This thread's connection of redis-py ``pool``: taken from the pool once and kept for the
    fused reads and writes of this thread, so a request skips the pool's lock, its bookkeeping
    and the readiness poll of every checkout. Safe because only this module uses it, always
    reads every reply it asked for, and disconnects it on any failure (redis-py reconnects a
    disconnected connection on its next send). It goes back to its pool when the thread (or
    greenlet) that kept it is gone, when the cache is rebuilt (a new pool), and a forked
    process takes its own."""
    holder: _Holder | None = getattr(_held, "holder", None)
    pid = os.getpid()
    if holder is not None and holder.pool is pool and holder.pid == pid:
        return holder.connection
    if holder is not None:
        holder.give_back()
    holder = _Holder(pool, pool.get_connection(), pid)
    _held.holder = holder
    return holder.connection


def _reply(connection: Any) -> Any:
    """The next reply on ``connection``; an error reply (``NOSCRIPT`` from a Redis that lost
    the counting script, ``WRONGTYPE``...) is returned as its exception, read whole, so the
    reply after it stays in step and the count's own handling decides (it loads the script)."""
    try:
        return connection.read_response()
    except ResponseError as error:
        return error


def _decode(cache: BaseCache, keys: Sequence[str], values: Any) -> dict[str, Any]:
    if isinstance(values, Exception):
        raise values
    client = cache.client  # type: ignore[attr-defined]
    # django-redis stores an int as its digits and decodes with int() first: digits are read
    # as int() reads them, anything else as django-redis decodes it.
    return {
        key: int(value) if value.isdigit() else client.decode(value)
        for key, value in zip(keys, values, strict=True)
        if value is not None
    }


__all__ = ["forget_packed", "packed_pair", "read_many", "store"]
