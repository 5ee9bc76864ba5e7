"""Stateless JWT for the example site (djangorestframework-simplejwt).

``POST api/token/`` with ``{"username", "password"}`` answers ``{"access", "refresh"}``; the access
token is sent as ``Authorization: Bearer <access>`` and authenticated by
``JWTStatelessUserAuthentication`` without reading the database. Whatever prismiq_django needs to
know about the caller must therefore be in the token: the user id (simplejwt's ``user_id``) and,
for ``metrics`` (``IsStaffUser``: a JSON ``true``), the ``is_staff`` claim added here. A site
would add its tenant claim the same way (read by its ``TENANT_CALLBACK`` from ``request.auth``).

``api/token/`` is rate limited (``TOKEN_RATE_LIMIT``, per address and per username: the demo
login is public); ``api/token/refresh/`` answers 401 for a user deleted since the token was issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django_ratelimit.core import get_usage
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.views import TokenObtainPairView


class StaffClaimTokenObtainPairSerializer(TokenObtainPairSerializer):
    """simplejwt's obtain-pair serializer, with an ``is_staff`` claim (a JSON boolean) in both
    tokens: the refresh token hands it on to every access token it refreshes."""

    @classmethod
    def get_token(cls, user: Any) -> Token:
        token = super().get_token(user)
        token["is_staff"] = bool(user.is_staff)
        return token


class ExistingUserTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh serializer, answering 401 ``no_active_account`` for a refresh token
    whose user no longer exists (simplejwt 5.5 reads the row with ``.get()`` and lets
    ``DoesNotExist`` escape: a 500) or whose ``user_id`` claim is not a valid id at all."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except (ObjectDoesNotExist, ValidationError, ValueError, TypeError) as exc:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from exc


def token_rate_limit() -> str | None:
    """The example's ``TOKEN_RATE_LIMIT`` setting (django-ratelimit syntax, None = off)."""
    rate: str | None = getattr(settings, "TOKEN_RATE_LIMIT", None)
    return rate or None


def _username_key(group: str, request: Any) -> str:
    """The username a login attempt names (the same budget whatever address it comes from)."""
    data = getattr(request, "data", None)
    name = data.get("username") if isinstance(data, Mapping) else None
    text = name if isinstance(name, str) else ""
    return "username:" + text.casefold().encode("utf-8", "backslashreplace").decode("utf-8")


class RateLimitedTokenObtainPairView(TokenObtainPairView):
    """``POST api/token/`` (simplejwt's obtain-pair view, with the ``is_staff`` claim) limited by
    django-ratelimit at ``TOKEN_RATE_LIMIT`` twice: per client address (``RATELIMIT_IP_META_KEY``
    behind a proxy) and per username tried, so that guessing one password is bounded whether it
    comes from one address or many. Every attempt counts, successful or not. Past either limit:
    429 ``{"detail": ...}`` with ``Retry-After`` (seconds until the window resets); the counters
    live in django-ratelimit's cache (``RATELIMIT_USE_CACHE``)."""

    serializer_class = StaffClaimTokenObtainPairSerializer

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rate = token_rate_limit()
        if rate:
            waits = []
            for key in ("ip", _username_key):
                usage = get_usage(
                    request, group="example.token", key=key, rate=rate, increment=True
                )
                if usage is not None and usage["should_limit"]:
                    waits.append(max(1, int(usage["time_left"])))
            if waits:
                raise Throttled(wait=max(waits))
        response: Response = super().post(request, *args, **kwargs)
        return response
