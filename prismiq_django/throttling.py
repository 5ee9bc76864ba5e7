"""Public path of the rate limiting a site's own views can use
(``from prismiq_django.throttling import RateLimitMixin``).

Re-exports :mod:`prismiq_django.api.throttling`.
"""

from __future__ import annotations

from prismiq_django.api.throttling import (
    DEFAULT_GROUP,
    PrismiqRateThrottle,
    RateLimited,
    RateLimitMixin,
    RateUsage,
    apply_headers,
    count_request,
    enforce,
    rate_limit_key,
)

__all__ = [
    "DEFAULT_GROUP",
    "PrismiqRateThrottle",
    "RateLimitMixin",
    "RateLimited",
    "RateUsage",
    "apply_headers",
    "count_request",
    "enforce",
    "rate_limit_key",
]
