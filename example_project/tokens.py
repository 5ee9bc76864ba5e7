"""Stateless JWT for the example site (djangorestframework-simplejwt).

``POST api/token/`` with ``{"username", "password"}`` answers ``{"access", "refresh"}``; the access
token is sent as ``Authorization: Bearer <access>`` and authenticated by
``JWTStatelessUserAuthentication`` without reading the database. Whatever prismiq_django needs to
know about the caller must therefore be in the token: the user id (simplejwt's ``user_id``) and,
for ``metrics`` (``IsAdminUser``), the ``is_staff`` claim added here. A site would add its tenant
claim the same way (read by its ``TENANT_CALLBACK`` from ``request.auth``).
"""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import Token


class StaffClaimTokenObtainPairSerializer(TokenObtainPairSerializer):
    """simplejwt's obtain-pair serializer, with an ``is_staff`` claim (a JSON boolean) in both
    tokens: the refresh token hands it on to every access token it refreshes."""

    @classmethod
    def get_token(cls, user: Any) -> Token:
        token = super().get_token(user)
        token["is_staff"] = bool(user.is_staff)
        return token
