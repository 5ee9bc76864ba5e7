"""Verify each simplejwt access token once per process, not once per request.

Contract (used by :meth:`~prismiq_django.api.views.base.PrismiqAPIView.get_authenticators`)::

    memoized(authenticator) -> authenticator        # the same object unless it is simplejwt's

- Only instances of the two classes of djangorestframework-simplejwt themselves
  (``JWTAuthentication`` and ``JWTStatelessUserAuthentication``, exactly those types: a subclass
  may verify differently) are changed: their ``get_validated_token`` remembers what simplejwt's
  own verification returned for a raw token. Everything else (reading the header, the 401s, the
  ``WWW-Authenticate`` challenge, ``get_user``: the user row of ``JWTAuthentication`` is still
  read on every request) is simplejwt's code, and the instance keeps its type.
- A remembered token is reused only while it would still verify: until its ``exp`` plus
  simplejwt's ``LEEWAY`` (a signature, ``nbf`` and ``iat`` that verified once verify again
  later). A token that failed is never remembered: it is verified again, and refused again.
- Each request gets its own copy of the token (its payload dict included), so what a view does
  to ``request.auth`` never reaches another request.
- The memo holds at most :data:`MAX_TOKENS` tokens (oldest first out) and is emptied when the
  ``SIMPLE_JWT`` or ``REST_FRAMEWORK`` settings change (:func:`clear`, connected in the app's
  ``ready``).
"""

from __future__ import annotations

import copy
import functools
import threading
import time
from collections import OrderedDict
from typing import Any, Final

from rest_framework.authentication import BaseAuthentication

from prismiq_django.api.tokenlookup import compiled

#: Tokens remembered per process (an access token is a few hundred bytes).
MAX_TOKENS: Final = 4096

_lock = threading.Lock()
_tokens: OrderedDict[bytes, tuple[float, Any]] = OrderedDict()


def clear(**_: object) -> None:
    """Forget every remembered token (settings changed, or a test wants a cold start)."""
    with _lock:
        _tokens.clear()


def _valid_until(token: Any) -> float | None:
    """Epoch seconds after which ``token`` would be refused as expired (None: do not memo)."""
    exp = token.payload.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    leeway = token.get_token_backend().get_leeway().total_seconds()
    return float(exp) + float(leeway)


def _remembered(raw: bytes) -> Any | None:
    with _lock:
        found = _tokens.get(raw)
        if found is None:
            return None
        until, token = found
        if time.time() >= until:
            del _tokens[raw]
            return None
        _tokens.move_to_end(raw)
    return token


def _remember(raw: bytes, token: Any) -> None:
    until = _valid_until(token)
    if until is None or time.time() >= until:
        return
    with _lock:
        _tokens[raw] = (until, token)
        _tokens.move_to_end(raw)
        while len(_tokens) > MAX_TOKENS:
            _tokens.popitem(last=False)


def _own_copy(token: Any) -> Any:
    """A shallow copy of ``token`` with its own payload dict. simplejwt's ``AccessToken`` and
    ``UntypedToken`` (no slots, no copy hooks) are copied field by field, which is what
    ``copy.copy`` makes of them without its generic reduce path; any other class by
    ``copy.copy``."""
    kind = type(token)
    if kind in _plain_token_classes():
        mine = object.__new__(kind)
        mine.__dict__.update(token.__dict__)
    else:
        mine = copy.copy(token)
    mine.payload = dict(token.payload)
    return mine


@functools.cache
def _plain_token_classes() -> tuple[type, ...]:
    from rest_framework_simplejwt.tokens import AccessToken, UntypedToken

    return (AccessToken, UntypedToken)


def _memo_method(authenticator: Any) -> Any:
    """``authenticator.get_validated_token`` remembering what simplejwt's own returns."""
    verify = authenticator.get_validated_token  # simplejwt's, bound

    def get_validated_token(raw_token: bytes) -> Any:
        key = bytes(raw_token)
        token = _remembered(key)
        if token is None:
            token = verify(raw_token)
            _remember(key, token)
        return _own_copy(token)

    return get_validated_token


def _simplejwt_classes() -> tuple[type, ...]:
    try:
        from rest_framework_simplejwt.authentication import (
            JWTAuthentication,
            JWTStatelessUserAuthentication,
        )
    except ImportError:  # simplejwt is the site's choice, not a dependency
        return ()
    return (JWTAuthentication, JWTStatelessUserAuthentication)


def memoized(authenticator: BaseAuthentication) -> BaseAuthentication:
    """``authenticator``; when it is exactly one of simplejwt's classes, with its
    ``get_validated_token`` remembering tokens (set on this instance only: its type, and so
    ``isinstance`` checks and drf-spectacular's security scheme, are unchanged); when it is
    exactly DRF's ``TokenAuthentication``, with its lookup's statement kept
    (:func:`prismiq_django.api.tokenlookup.compiled`: nothing remembered about tokens)."""
    if type(authenticator) in _simplejwt_classes():
        authenticator.get_validated_token = _memo_method(authenticator)  # type: ignore[attr-defined]
        return authenticator
    return compiled(authenticator)


def is_stateless_jwt(kind: object) -> bool:
    """True when ``kind`` is exactly simplejwt's ``JWTStatelessUserAuthentication`` class."""
    classes = _simplejwt_classes()
    return bool(classes) and kind is classes[1]


def remembered_count() -> int:
    """How many tokens the memo holds now (for tests and diagnostics)."""
    with _lock:
        return len(_tokens)


__all__ = ["MAX_TOKENS", "clear", "is_stateless_jwt", "memoized", "remembered_count"]
