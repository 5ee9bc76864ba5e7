"""Stateless token authentication in tests: djangorestframework-simplejwt's real tokens and its
``JWTStatelessUserAuthentication`` (``request.user`` is a ``TokenUser`` built from the claims).

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``): the :func:`jwt_auth` fixture, and
helpers to mint tokens (:func:`access_token`), forge bad ones and build clients that send them.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.utils import timezone
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authentication import TokenAuthentication
from rest_framework.test import APIClient
from rest_framework.views import APIView
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

#: The example project's authentication classes: stateless tokens first, so that a refused
#: caller is answered 401 with ``WWW-Authenticate: Bearer``; then sessions and HTTP Basic.
JWT_FIRST = [
    "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication",
    "rest_framework.authentication.SessionAuthentication",
    "rest_framework.authentication.BasicAuthentication",
]

#: DRF's database-backed tokens first (``Authorization: Token <key>``; the row and its user are
#: read on every request), then sessions and HTTP Basic.
TOKEN_FIRST = [
    "rest_framework.authentication.TokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
    "rest_framework.authentication.BasicAuthentication",
]


class KeyAuthentication(TokenAuthentication):
    """DRF's database tokens under another keyword (``Authorization: Key <key>``): a subclass,
    as sites write them, so prismiq's kept lookup does not apply and DRF's own query runs."""

    keyword = "Key"


#: A claim value meaning "remove this claim" in :func:`access_token`.
DROP = object()


@pytest.fixture
def jwt_auth(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Authenticate with :data:`JWT_FIRST` for this test (see :func:`authenticate_with`)."""
    authenticate_with(JWT_FIRST, settings, monkeypatch)


def authenticate_with(paths: list[str], settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Authenticate with the classes ``paths`` for this test.

    ``REST_FRAMEWORK`` is overridden (what drf-spectacular and a site read), and so are the
    ``authentication_classes`` of DRF's ``APIView`` and drf-spectacular's views: DRF copies the
    setting into those class attributes when ``rest_framework.views`` is imported, so a settings
    override alone would not reach views that are already loaded.
    """
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_AUTHENTICATION_CLASSES": list(paths),
    }
    classes = list(api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    for view in (APIView, SpectacularAPIView, SpectacularSwaggerView):
        monkeypatch.setattr(view, "authentication_classes", classes)


class CopyCountingToken(AccessToken):
    """A site's own token class with its own copying (``SIMPLE_JWT["AUTH_TOKEN_CLASSES"]``)."""

    copies = 0
    copied_by_its_hook = False

    def __copy__(self) -> CopyCountingToken:
        type(self).copies += 1
        mine = object.__new__(type(self))
        mine.__dict__.update(self.__dict__)
        mine.copied_by_its_hook = True
        return mine


def access_token(user: Any = None, **claims: Any) -> str:
    """A signed access token: ``AccessToken.for_user(user)`` (or a token without a user), with
    ``claims`` set on top; a claim given as :data:`DROP` is removed."""
    token = AccessToken.for_user(user) if user is not None else AccessToken()
    for name, value in claims.items():
        if value is DROP:
            del token[name]
        else:
            token[name] = value
    return str(token)


def expired_token(user: Any) -> str:
    """A token for ``user`` that expired a minute ago (signed correctly)."""
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=59))
    return str(token)


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def payload_of(token: str) -> dict[str, Any]:
    """The claims of ``token``, unverified (PyJWT)."""
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def tampered_token(token: str, **claims: Any) -> str:
    """``token`` with ``claims`` changed in its payload and the original signature kept."""
    header, _, signature = token.split(".")
    return ".".join([header, _b64({**payload_of(token), **claims}), signature])


def unsigned_token(token: str, **claims: Any) -> str:
    """``token``'s claims (plus ``claims``) under ``{"alg": "none"}`` with an empty signature."""
    return jwt.encode({**payload_of(token), **claims}, None, algorithm="none")


def foreign_token(token: str, key: str = "not-this-sites-key-0123456789abcdef") -> str:
    """``token``'s claims signed with another key (HS256)."""
    return jwt.encode(payload_of(token), key, algorithm=jwt_settings.ALGORITHM)


def bearer(token: str, **defaults: Any) -> APIClient:
    """An API client sending ``Authorization: Bearer <token>`` on every request."""
    client = APIClient(**defaults)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


__all__ = [
    "DROP",
    "JWT_FIRST",
    "TOKEN_FIRST",
    "CopyCountingToken",
    "KeyAuthentication",
    "access_token",
    "authenticate_with",
    "bearer",
    "expired_token",
    "foreign_token",
    "jwt_auth",
    "payload_of",
    "tampered_token",
    "unsigned_token",
]
