"""Rate counters in Redis: one request counted in one round trip, or in none of its own.

Contract::

    counter = redis_counter(alias, group=..., caller=..., rate="120/m")   # None: not on Redis
    usage = counter.count()                   # RateUsage, or None when Redis failed (logged)
    pending = PendingCount(counter, on_counted)   # the same count, sent with another read

- A counter is one Redis key per (group, caller, rate), ``INCR``-ed by a Lua script
  (:data:`COUNT_SCRIPT`, sent as ``EVALSHA``) that also starts the window: on the first request
  (or on a key found without expiry) it sets the key's expiry to the rate's period, atomically
  with the increment, and returns the count and the milliseconds left. A window therefore
  starts at a caller's first request and lasts the period; ``reset_seconds`` (``Retry-After``)
  is the time left rounded up, so waiting that long is always enough.
- The key is the SHA-256 of the group, the caller and the rate, made by the cache's own
  ``make_key`` (its ``KEY_PREFIX`` and ``VERSION`` apply): any caller text (a token's claim)
  is a valid key, and changing the rate starts a fresh counter.
- Only a django-redis cache with its default client (``DefaultClient``) has counters here; for
  any other cache :func:`redis_counter` returns None and the caller counts another way
  (django-ratelimit's counters).
- A :class:`PendingCount` is a count not sent yet: the result cache sends it in the same
  pipeline as its read (:func:`prismiq_django.cache.results.fetch_result`), so a cached hit
  costs one round trip in all. Whoever holds it must settle it before the request does any
  work: :meth:`PendingCount.settle` sends it alone if nobody fused it. ``on_counted`` is
  called exactly once with the usage (None when Redis failed) and may raise (the API raises
  its 429 there), which then propagates from whatever settled it.
- ``NOSCRIPT`` (Redis restarted, ``SCRIPT FLUSH``) loads the script and counts again once.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.core.cache import caches

logger = logging.getLogger("prismiq_django.throttling")

#: KEYS[1] the counter, ARGV[1] the window in milliseconds -> {count, milliseconds left}.
COUNT_SCRIPT: Final = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""
COUNT_SCRIPT_SHA: Final = hashlib.sha1(COUNT_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis' id)
COUNTER_PREFIX: Final = "prismiq:rate:"

_RATE: Final = re.compile(r"^(\d+)/(\d*)([smhd])$")
_PERIODS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class RateUsage:
    """The counter state after counting one request."""

    limit: int
    count: int
    reset_seconds: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def limited(self) -> bool:
        return self.count > self.limit


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120/m"`` -> ``(120, 60)``, ``"10/5s"`` -> ``(10, 5)`` (django-ratelimit's syntax, as
    the system checks accept it); raises ValueError otherwise."""
    found = _RATE.match(rate)
    if found is None:
        raise ValueError(f"not a rate: {rate!r}")
    count, multiplier, unit = found.groups()
    return int(count), _PERIODS[unit] * (int(multiplier) if multiplier else 1)


try:
    from django_redis.client import DefaultClient
except ImportError:  # pragma: no cover - django-redis is an optional dependency
    DefaultClient = None


def fusable_client(alias: str) -> Any | None:
    """The redis-py client behind cache ``alias`` when it is django-redis with its default
    client (whose keys and values this module knows how to make and read), else None."""
    return default_client_of(caches[alias])


def default_client_of(cache: object) -> Any | None:
    """``cache``'s django-redis client when it is the default one (``DefaultClient`` itself),
    else None."""
    if DefaultClient is None:  # pragma: no cover - django-redis is an optional dependency
        return None
    client = getattr(cache, "client", None)
    return client if type(client) is DefaultClient else None


class Counter:
    """One caller's counter in one group at one rate, on the Redis of a django-redis cache."""

    __slots__ = ("_client", "alias", "key", "limit", "period_ms")

    def __init__(self, alias: str, client: Any, key: str, limit: int, period: int) -> None:
        self.alias = alias
        self._client = client
        self.key = key
        self.limit = limit
        self.period_ms = period * 1000

    @property
    def client(self) -> Any:
        """The django-redis client this counter was made for."""
        return self._client

    def redis(self) -> Any:
        """The redis-py client counters are written with (the primary)."""
        return self._client.get_client(write=True)

    def queue(self, pipe: Any) -> None:
        """Add this count to redis-py pipeline ``pipe`` (``transaction=False``)."""
        pipe.evalsha(COUNT_SCRIPT_SHA, 1, self.key, self.period_ms)

    def command(self) -> tuple[object, ...]:
        """This count as the arguments of one Redis command (``EVALSHA``)."""
        return ("EVALSHA", COUNT_SCRIPT_SHA, 1, self.key, self.period_ms)

    def usage(self, reply: object) -> RateUsage:
        """The usage from the script's reply; loads the script and counts again on NOSCRIPT;
        raises what redis-py raised for any other error."""
        if isinstance(reply, Exception):
            if not _is_noscript(reply):
                raise reply
            redis = self.redis()
            redis.script_load(COUNT_SCRIPT)
            reply = redis.evalsha(COUNT_SCRIPT_SHA, 1, self.key, self.period_ms)
        pair: list[int] = list(reply)  # type: ignore[call-overload]
        count, left_ms = int(pair[0]), int(pair[1])
        return RateUsage(
            limit=self.limit,
            count=count,
            reset_seconds=max(1, math.ceil(left_ms / 1000)),
        )

    def count(self) -> RateUsage | None:
        """Count one request now (one round trip); None when Redis failed (logged)."""
        try:
            pipe = self.redis().pipeline(transaction=False)
            self.queue(pipe)
            (reply,) = pipe.execute(raise_on_error=False)
            return self.usage(reply)
        except Exception as exc:
            unavailable(exc)
            return None


def _is_noscript(exc: Exception) -> bool:
    return type(exc).__name__ == "NoScriptError" or str(exc).startswith("NOSCRIPT")


def unavailable(exc: BaseException) -> None:
    """Log that a count failed: the request is let through (the API degrades, it does not lock
    everyone out)."""
    logger.warning(
        "Rate limit counters unavailable (%s); request not limited",
        type(exc).__name__,
        extra={"event": "ratelimit_unavailable"},
    )


#: Counters made per process, by (alias, client, group, caller, rate): making one hashes the
#: caller's key, which is most of a count's CPU outside the round trip.
_made: dict[tuple[str, int, str, str, str], Counter] = {}
_MAX_MADE: Final = 4096


def redis_counter(alias: str, *, group: str, caller: str, rate: str) -> Counter | None:
    """The counter of ``caller`` in ``group`` at ``rate`` on cache ``alias``, or None when that
    cache is not django-redis with its default client."""
    client = fusable_client(alias)
    if client is None:
        return None
    memo_key = (alias, id(client), group, caller, rate)
    made = _made.get(memo_key)
    if made is not None and made.client is client:
        return made
    limit, period = parse_rate(rate)
    digest = hashlib.sha256(
        "\x00".join((group, caller, f"{limit}/{period}")).encode("utf-8", "backslashreplace")
    ).hexdigest()
    key = str(client.make_key(COUNTER_PREFIX + digest))
    counter = Counter(alias, client, key, limit, period)
    if len(_made) >= _MAX_MADE:
        _made.clear()
    _made[memo_key] = counter
    return counter


OnCounted = Callable[[RateUsage | None], None]


class PendingCount:
    """A count to send with the request's first Redis read (see the module's contract)."""

    __slots__ = ("_done", "_lock", "_on_counted", "counter")

    def __init__(self, counter: Counter, on_counted: OnCounted) -> None:
        self.counter = counter
        self._on_counted = on_counted
        self._done = False
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self._done

    def claim(self) -> bool:
        """Take the count to send it (True once; False when it was sent already)."""
        with self._lock:
            if self._done:
                return False
            self._done = True
            return True

    def counted(self, usage: RateUsage | None) -> None:
        """Report the usage of a claimed count (None: Redis failed); may raise."""
        self._on_counted(usage)

    def settle(self) -> None:
        """Send the count now unless it was sent; may raise what ``on_counted`` raises."""
        if self.claim():
            self.counted(self.counter.count())


_ATTR: Final = "prismiq_pending_count"


def defer_count(request: object, pending: PendingCount) -> None:
    """Attach ``pending`` to ``request`` (a Django or DRF request) for :func:`pending_for`."""
    setattr(getattr(request, "_request", request), _ATTR, pending)


def pending_for(request: object) -> PendingCount | None:
    """The count attached to ``request`` and not sent yet, or None."""
    pending = getattr(getattr(request, "_request", request), _ATTR, None)
    if isinstance(pending, PendingCount) and not pending.done:
        return pending
    return None


def count_sent(request: object) -> bool:
    """Whether ``request`` was counted through an attached :class:`PendingCount` already."""
    pending = getattr(getattr(request, "_request", request), _ATTR, None)
    return isinstance(pending, PendingCount) and pending.done


def settle_pending(request: object) -> None:
    """Send ``request``'s pending count now if it has one (before work that does I/O); raises
    what its ``on_counted`` raises."""
    pending = pending_for(request)
    if pending is not None:
        pending.settle()


__all__ = [
    "COUNTER_PREFIX",
    "COUNT_SCRIPT",
    "COUNT_SCRIPT_SHA",
    "Counter",
    "OnCounted",
    "PendingCount",
    "RateUsage",
    "count_sent",
    "default_client_of",
    "defer_count",
    "fusable_client",
    "parse_rate",
    "pending_for",
    "redis_counter",
    "settle_pending",
    "unavailable",
]
