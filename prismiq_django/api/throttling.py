"""Rate limiting of the query endpoints with django-ratelimit.

Policy: ``PRISMIQ["RATE_LIMIT"]`` (django-ratelimit rate syntax, e.g. ``"120/m"``, ``"10/5s"``;
``None`` turns limiting off) per caller (:func:`rate_limit_key`: the user, whether the site
authenticates with sessions or stateless tokens; the client IP when anonymous) and per endpoint
group (all query endpoints share the group ``"prismiq.query"`` by default). Counters are kept
in the Django cache named by django-ratelimit's own setting ``RATELIMIT_USE_CACHE`` (default
``"default"``); point it at the same shared cache as ``PRISMIQ["CACHE_ALIAS"]`` (Redis in
production) so all workers count together. On django-redis a request is counted in one round
trip (:mod:`prismiq_django.cache.counters`: a Lua script, ``INCR`` and the window's expiry
together; a window starts at the caller's first request), and a ``query/execute`` request
sends its count in the same round trip as its result-cache read
(:mod:`prismiq_django.cache.pipeline`), settled before any work is done or anything served.
On any other cache the counters are django-ratelimit's.

Every response of a limited endpoint carries:

- ``X-RateLimit-Limit``: requests allowed per window;
- ``X-RateLimit-Remaining``: requests left in the current window;
- ``X-RateLimit-Reset``: **seconds** until the window resets (a delta, not an epoch; rounded
  up, so waiting that long is always enough).

Past the limit the answer is 429 ``{"detail": ..., "code": "rate_limited"}`` with
``Retry-After`` (seconds). If the counter cache is unreachable the request is let through and a
warning is logged (the analytics API degrades, it does not lock everyone out).

Views opt in with :class:`RateLimitMixin` (DRF class-based views and viewsets), which adds the
DRF throttle class :class:`PrismiqRateThrottle` to the site's own ``throttle_classes``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from django.conf import settings
from django.http import HttpResponseBase
from django_ratelimit.core import get_usage, user_or_ip
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from prismiq_django.cache.counters import (
    PendingCount,
    RateUsage,
    count_sent,
    defer_count,
    pending_for,
    redis_counter,
    unavailable,
)
from prismiq_django.conf import prismiq_settings
from prismiq_django.tenancy.identity import caller_pk

logger = logging.getLogger("prismiq_django.throttling")

DEFAULT_GROUP: Final = "prismiq.query"
#: The counter of the export endpoints (``EXPORT_RATE_LIMIT``), apart from the query endpoints'.
EXPORT_GROUP: Final = "prismiq.export"
_ATTR: Final = "prismiq_rate_usage"


class RateLimited(Throttled):
    """429: the caller exceeded ``RATE_LIMIT``; ``wait`` is the ``Retry-After`` in seconds."""

    default_detail = "Too many requests."
    default_code = "rate_limited"


def rate_limit_key(group: str, request: Any) -> str:
    """django-ratelimit key of the caller:

    - ``user:<pk>`` for a caller with a user primary key
      (:func:`prismiq_django.identity.caller_pk`): a session user and a stateless token user of
      the same id share one budget (a token's ``user_id`` ``"1"`` and ``1`` are both ``user:1``);
    - ``subject:<pk as given>`` for an authenticated caller without one (a signed token whose
      ``user_id`` is no primary key of this site's user model, e.g. from another service): one
      budget per token subject, never shared with a user's;
    - ``ip:<address>`` when anonymous; the address honours django-ratelimit's
      ``RATELIMIT_IP_META_KEY`` (set it behind a proxy).

    Text UTF-8 cannot encode (a lone surrogate, which JSON and so a token's claim can carry) is
    written as its backslash escape: django-ratelimit encodes the key, and a key it cannot
    encode would fail the count, letting the request through unlimited.
    """
    user = getattr(request, "user", None)
    pk = caller_pk(user)
    if pk is not None:
        key = f"user:{pk}"
    elif user is not None and getattr(user, "is_authenticated", False):
        key = f"subject:{getattr(user, 'pk', None)}"
    else:
        key = f"ip:{user_or_ip(request)}"
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def limiting(setting: str = "RATE_LIMIT") -> bool:
    """Whether requests are counted against ``setting`` (``RATE_LIMIT`` or
    ``EXPORT_RATE_LIMIT``): it holds a rate and django-ratelimit's ``RATELIMIT_ENABLE`` is on."""
    return bool(getattr(prismiq_settings, setting)) and getattr(settings, "RATELIMIT_ENABLE", True)


def _counter_alias() -> str:
    return str(getattr(settings, "RATELIMIT_USE_CACHE", "default"))


def _record(request: Any, usage: RateUsage) -> RateUsage:
    raw = getattr(request, "_request", request)
    setattr(raw, _ATTR, usage)
    return usage


def count_request(
    request: Any, group: str = DEFAULT_GROUP, setting: str = "RATE_LIMIT"
) -> RateUsage | None:
    """Count ``request`` against the rate of ``setting`` (``RATE_LIMIT`` or
    ``EXPORT_RATE_LIMIT``) in the counter ``group``; return the usage (None when not limited).

    Stores the usage on the request for :func:`apply_headers`. Returns None when limiting is off
    (the setting is None, or django-ratelimit's ``RATELIMIT_ENABLE`` is False) or the counter
    cache failed (logged as a warning).
    """
    if not limiting(setting):
        return None
    rate = getattr(prismiq_settings, setting)
    alias = _counter_alias()
    try:
        counter = redis_counter(
            alias, group=group, caller=rate_limit_key(group, request), rate=rate
        )
    except Exception as exc:
        unavailable(exc)
        return None
    if counter is not None:
        usage = counter.count()
        return None if usage is None else _record(request, usage)
    return _ratelimit_usage(request, group, rate)


def _ratelimit_usage(request: Any, group: str, rate: str) -> RateUsage | None:
    """The count on a cache that is not django-redis: django-ratelimit's counters."""
    try:
        usage = get_usage(request, group=group, key=rate_limit_key, rate=rate, increment=True)
    except Exception as exc:
        unavailable(exc)
        return None
    if usage is None:  # RATELIMIT_ENABLE = False
        return None
    if usage["limit"] == 0 and usage["time_left"] == -1:  # django-ratelimit: counter unreadable
        logger.warning(
            "Rate limit counter unreadable; request not limited",
            extra={"event": "ratelimit_unavailable"},
        )
        return None
    return _record(
        request,
        RateUsage(
            limit=int(usage["limit"]),
            count=int(usage["count"]),
            # django-ratelimit counts a window ending at second w until int(now) > w, so the
            # true reset is up to one second after ``time_left``: round up, clients may trust it.
            reset_seconds=max(0, int(usage["time_left"])) + 1,
        ),
    )


def defer_request_count(
    request: Any, group: str = DEFAULT_GROUP, setting: str = "RATE_LIMIT"
) -> bool:
    """Attach ``request``'s count as a :class:`~prismiq_django.cache.counters.PendingCount`
    instead of sending it: the first result-cache read of the request sends it (see
    :func:`settled_count`). Returns False (nothing attached) when the count cannot be deferred
    (limiting off, counters not on django-redis): count it now instead."""
    if not limiting(setting):
        return False
    rate = getattr(prismiq_settings, setting)
    try:
        counter = redis_counter(
            _counter_alias(), group=group, caller=rate_limit_key(group, request), rate=rate
        )
    except Exception:
        return False
    if counter is None:
        return False

    def on_counted(usage: RateUsage | None) -> None:
        if usage is None:
            return
        _record(request, usage)
        if usage.limited:
            raise RateLimited(wait=usage.reset_seconds)

    defer_count(request, PendingCount(counter, on_counted))
    return True


@contextmanager
def settled_count(request: Any) -> Iterator[None]:
    """Run a view's handler whose count may be deferred (:func:`defer_request_count`); when the
    handler ends without having sent it (an error before the cache read, a path without one),
    send it then. Over the limit, the answer is the 429, whatever the handler answered or
    raised: a deferred count refuses exactly the requests an immediate one would."""
    try:
        yield
    except BaseException:
        pending = pending_for(request)
        if pending is not None:
            pending.settle()
        raise
    pending = pending_for(request)
    if pending is not None:
        pending.settle()


def enforce(request: Any, group: str = DEFAULT_GROUP, setting: str = "RATE_LIMIT") -> None:
    """Count ``request``; raise :class:`RateLimited` when it is over the limit."""
    usage = count_request(request, group, setting)
    if usage is not None and usage.limited:
        raise RateLimited(wait=usage.reset_seconds)


def apply_headers(request: Any, response: HttpResponseBase) -> HttpResponseBase:
    """Add ``X-RateLimit-*`` (and ``Retry-After`` on 429) when ``request`` was counted."""
    raw = getattr(request, "_request", request)
    usage = getattr(raw, _ATTR, None)
    if not isinstance(usage, RateUsage):
        return response
    response["X-RateLimit-Limit"] = str(usage.limit)
    response["X-RateLimit-Remaining"] = str(usage.remaining)
    response["X-RateLimit-Reset"] = str(usage.reset_seconds)
    if response.status_code == 429 and not response.has_header("Retry-After"):
        response["Retry-After"] = str(usage.reset_seconds)
    return response


class PrismiqRateThrottle(BaseThrottle):
    """The DRF throttle of ``RATE_LIMIT``: counts the request with django-ratelimit's counters,
    keyed by :func:`rate_limit_key` (user, token subject or IP) and the view's
    ``rate_limit_group``; past the limit it raises :class:`RateLimited` (429 with
    ``Retry-After``, answered by the one exception handler). A view's ``rate_limit_applies``
    (see :class:`RateLimitMixin`) decides which requests count."""

    usage: RateUsage | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        if count_sent(request):  # counted before the handler (the hot path's replay): once
            self.usage = getattr(getattr(request, "_request", request), _ATTR, None)
            if self.usage is not None and self.usage.limited:
                raise RateLimited(wait=self.usage.reset_seconds)
            return True
        policy_of = getattr(view, "rate_limit_for", None)
        if policy_of is not None:
            policy = policy_of(request)
            if policy is None:
                return True
            group, setting = policy
        else:
            applies = getattr(view, "rate_limit_applies", None)
            if applies is not None and not applies(request):
                return True
            group, setting = getattr(view, "rate_limit_group", DEFAULT_GROUP), "RATE_LIMIT"
        deferrable = getattr(view, "rate_limit_deferrable", None)
        if (
            deferrable is not None
            and deferrable(request)
            and defer_request_count(request, group, setting)
        ):
            return True
        self.usage = count_request(request, group, setting)
        if self.usage is not None and self.usage.limited:
            raise RateLimited(wait=self.usage.reset_seconds)
        return True

    def wait(self) -> float | None:
        return None if self.usage is None else float(self.usage.reset_seconds)


class RateLimitMixin:
    """DRF view mixin: :class:`PrismiqRateThrottle` after the site's own throttle classes
    (``throttle_classes``), and the ``X-RateLimit-*`` headers on every response.

    Put it first in the bases: ``class ExecuteView(RateLimitMixin, APIView)``. On a viewset,
    ``rate_limit_actions`` restricts limiting to some actions (e.g. ``{"execute"}``); ``None``
    limits every action. ``rate_limit_group`` names the counter (views sharing a group share it)
    and ``rate_limit_setting`` the setting holding its rate (exports: ``EXPORT_RATE_LIMIT``).
    """

    rate_limit_group: str = DEFAULT_GROUP
    rate_limit_setting: str = "RATE_LIMIT"
    rate_limit_actions: frozenset[str] | None = None

    @property
    def throttle_classes(self) -> list[type[BaseThrottle]]:
        """The site's ``DEFAULT_THROTTLE_CLASSES`` (read per request), then ours."""
        # api_settings hands out the classes; DRF's stubs typed the setting as the dotted paths
        # before 3.18.2 and as the classes since: read untyped, so both check.
        configured: Any = api_settings.DEFAULT_THROTTLE_CLASSES
        site: list[type[BaseThrottle]] = list(configured)
        return [*site, PrismiqRateThrottle]

    def rate_limit_applies(self, request: Request) -> bool:
        """Whether this request is counted; override for finer policy."""
        if self.rate_limit_actions is None:
            return True
        return getattr(self, "action", None) in self.rate_limit_actions

    def rate_limit_deferrable(self, request: Request) -> bool:
        """Whether this request's count may wait for its result-cache read (default: no)."""
        return False

    def rate_limit_for(self, request: Request) -> tuple[str, str] | None:
        """``(group, setting)`` this request is counted in, or None when it is not counted."""
        if not self.rate_limit_applies(request):
            return None
        return self.rate_limit_group, self.rate_limit_setting

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        return apply_headers(request, response)


__all__ = [
    "DEFAULT_GROUP",
    "EXPORT_GROUP",
    "PrismiqRateThrottle",
    "RateLimitMixin",
    "RateLimited",
    "RateUsage",
    "apply_headers",
    "count_request",
    "defer_request_count",
    "enforce",
    "limiting",
    "rate_limit_key",
    "settled_count",
]
