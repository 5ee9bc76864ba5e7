"""The ``Embed`` authentication scheme (SPEC section 10), a DRF authentication class the site adds::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.SessionAuthentication",
            "prismiq_django.api.authentication.EmbedAuthentication",
        ],
    }

A request carrying ``Authorization: Embed <token>`` (or, on ``GET``, ``?embed=<token>``) is
authenticated as an anonymous user whose ``request.auth`` is the token's
:class:`~prismiq_django.tenancy.embed.EmbedGrant`. The grant counts only on the endpoints that
accept it — reading its dashboard and running it or its widgets
(:attr:`~prismiq_django.api.views.base.PrismiqAPIView.embed_methods`); everywhere else the
request is an anonymous one, refused as any other would be. A token that is tampered with,
expired or revoked is a 401; a request without an ``Embed`` credential is left to the other
classes.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from prismiq_django.services.embed import verify_token
from prismiq_django.tenancy.embed import EmbedGrant, InvalidEmbedToken

#: The scheme's keyword in ``Authorization`` (compared case-insensitively).
KEYWORD = "Embed"
#: The query parameter of the embed page's ``GET`` requests.
QUERY_PARAMETER = "embed"
#: The answer to a token that does not verify (the same for every reason).
REFUSED = "Invalid, expired or revoked embed token."


class EmbedAuthentication(BaseAuthentication):
    """``Authorization: Embed <token>``: see the module docstring. Verifying costs one read by
    primary key (the dashboard's revocation version); the signature needs no database."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, EmbedGrant] | None:
        token = self.token_of(request)
        if token is None:
            return None
        try:
            grant = verify_token(token)
        except InvalidEmbedToken:
            raise AuthenticationFailed(REFUSED) from None
        return AnonymousUser(), grant

    def token_of(self, request: Request) -> str | None:
        """The token the request presents, or None when it presents none."""
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == KEYWORD.lower().encode():
            if len(parts) != 2:
                raise AuthenticationFailed("Expected 'Authorization: Embed <token>'.")
            try:
                return parts[1].decode("ascii")
            except UnicodeError:
                raise AuthenticationFailed(REFUSED) from None
        if request.method in ("GET", "HEAD"):
            token = request.query_params.get(QUERY_PARAMETER)
            if token:
                return token
        return None

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


__all__ = ["KEYWORD", "QUERY_PARAMETER", "REFUSED", "EmbedAuthentication"]
