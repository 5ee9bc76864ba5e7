"""Signed embed tokens (SPEC section 10): what a token says, and its signature.

An embed token is ``django.core.signing.dumps`` of a small JSON object, signed with the site's
``SECRET_KEY`` (HMAC, salted with :data:`SALT`, timestamped): the dashboard's id, the tenant value
its rows are scoped to and the dashboard's recorded tenant key, the locked filter values, the
dashboard's revocation version when it was issued, and its expiry. Its holder can read it but
not change it: any change breaks the signature (:func:`read_token` refuses it).

Nothing here reads the database; the revocation check (one read by primary key) is
:func:`prismiq_django.services.embed.verify_token`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from django.core import signing

#: Salt of the signature: a token is valid for nothing else signed with the site's key.
SALT: Final = "prismiq_django.embed-token"

#: The clock expiries are read with (Unix seconds); tests replace it.
clock: Callable[[], float] = time.time


class InvalidEmbedToken(Exception):
    """The token is not one this site issued as it is (bad signature, altered, malformed), or
    it has expired."""


@dataclass(frozen=True, slots=True)
class EmbedGrant:
    """What a valid embed token grants: reading dashboard ``dashboard_id`` and running it or
    its widgets, nothing else.

    ``tenant``: the tenant value the rows are scoped to (it stands in for ``TENANT_CALLBACK``
    on the requests the token authenticates); ``tenant_key``: the dashboard's recorded tenant
    (None: a tenant-less dashboard). ``locked_filters``: ``{filter id: value}`` that override
    whatever a request sends. ``version``: the dashboard's revocation version at issue time.
    ``expires_at``: Unix time after which it is refused.
    """

    dashboard_id: int
    tenant: Any
    tenant_key: str | None
    locked_filters: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    version: int = 0
    expires_at: int = 0


def sign_grant(grant: EmbedGrant) -> str:
    """The token of ``grant`` (URL-safe text: base64 and ``:``)."""
    payload = {
        "d": grant.dashboard_id,
        "t": grant.tenant,
        "k": grant.tenant_key,
        "f": dict(grant.locked_filters),
        "v": grant.version,
        "e": grant.expires_at,
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEmbedToken("malformed")
    return value


def read_token(token: str, *, max_age: int, now: float | None = None) -> EmbedGrant:
    """The grant ``token`` carries, if it is intact and has not expired (``now``: Unix time,
    for tests). ``max_age`` bounds its age whatever expiry it names (``EMBED_TOKEN_MAX_AGE``).

    Raises :class:`InvalidEmbedToken`. Reads no database.
    """
    if not isinstance(token, str) or not token or len(token) > 8192:
        raise InvalidEmbedToken("malformed")
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvalidEmbedToken("expired") from exc
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise InvalidEmbedToken("bad signature") from exc
    if not isinstance(payload, dict):
        raise InvalidEmbedToken("malformed")
    locked = payload.get("f")
    key = payload.get("k")
    if not isinstance(locked, dict) or not (key is None or isinstance(key, str)):
        raise InvalidEmbedToken("malformed")
    grant = EmbedGrant(
        dashboard_id=_int(payload.get("d")),
        tenant=payload.get("t"),
        tenant_key=key,
        locked_filters=MappingProxyType(dict(locked)),
        version=_int(payload.get("v")),
        expires_at=_int(payload.get("e")),
    )
    if (clock() if now is None else now) >= grant.expires_at:
        raise InvalidEmbedToken("expired")
    return grant


def grant_of(request: object) -> EmbedGrant | None:
    """The embed grant that authenticated ``request`` (DRF's ``request.auth``), or None."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, EmbedGrant) else None


__all__ = ["SALT", "EmbedGrant", "InvalidEmbedToken", "grant_of", "read_token", "sign_grant"]
