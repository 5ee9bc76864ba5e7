"""The hot path's answer to a repeated cached ``query/execute``: the handler's work, done once.

Contract (called by :mod:`prismiq_django.api.hotpath` for :class:`~.views.ExecuteView` itself,
after authentication and the permission classes, in place of the throttles and the handler)::

    replayed(view, request, body) -> HttpResponse | None

- It answers what the handler would answer for a body asking for a plain run (no paging, no
  ``bypass_cache``) whose result the cache serves now
  (:func:`prismiq_django.services.hits.replay_body`): the same JSON bytes (the view's renderer
  on the result's wire form), ``Content-Type: application/json``; the view's
  ``finalize_response`` then adds what it adds to any answer (``Allow``, ``X-RateLimit-*``).
- The request is counted once, as the handler's throttle counts it (``RATE_LIMIT``, in the
  result-cache read).
- None otherwise: the site has its own DRF throttle classes, the count cannot travel with the
  read, the body is read for the first time and is not a plain run, or the result is not in the
  cache. The caller then runs the throttles and the handler as usual; a count already sent is
  not sent again (:class:`~prismiq_django.api.throttling.PrismiqRateThrottle` answers from it,
  the 429 included).
"""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.settings import api_settings

from prismiq_django.api.parsers import PrismiqJSONParser
from prismiq_django.api.renderers import PrismiqJSONRenderer
from prismiq_django.api.serializers import execute_envelope, paging_options
from prismiq_django.api.throttling import RateLimited, defer_request_count, limiting
from prismiq_django.services.hits import replay_body

_RENDERER = PrismiqJSONRenderer()


def _definition_of(body: bytes) -> object | None:
    """The definition ``query/execute`` reads from ``body`` when it asks for a plain run (the
    endpoint's own parser and envelope rules), else None (anything they refuse included)."""
    try:
        data = PrismiqJSONParser().parse(io.BytesIO(body))
        query, bypass_cache = execute_envelope(data)
        if bypass_cache or paging_options(data) is not None:
            return None
    except Exception:  # the handler answers it, with its own error
        return None
    return query


def replayed(view: Any, request: Request, body: bytes) -> HttpResponse | None:
    """The answer to ``request`` from the cache (see the module), or None."""
    if api_settings.DEFAULT_THROTTLE_CLASSES:
        return None
    policy = view.rate_limit_for(request)
    if policy is not None and limiting(policy[1]):
        deferred = view.rate_limit_deferrable(request) and defer_request_count(request, *policy)
        if not deferred:
            return None  # counted by the throttle, before the handler
    try:
        result = replay_body(request, body, _definition_of)
    except RateLimited:
        return None  # counted: the throttle answers the 429 from that count
    if result is None:
        return None
    return HttpResponse(_RENDERER.render(result.wire_dict()), content_type=_RENDERER.media_type)


__all__ = ["replayed"]
