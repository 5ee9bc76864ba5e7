"""Embed tokens (SPEC section 10): issuing, verifying, revoking, and locked filters.

- :func:`issue_token` makes the token of ``POST dashboards/{id}/embed-tokens`` for an editor of
  the dashboard: one dashboard, the creator's tenant value (the one the dashboard was recorded
  under), the locked filter values (checked against the dashboard's filters), an expiry of
  ``expires_in`` seconds (default 600, at most ``EMBED_TOKEN_MAX_AGE``).
- :func:`verify_token` is what :class:`~prismiq_django.api.authentication.EmbedAuthentication`
  calls: the signature and expiry checked in memory, then one read by primary key of the
  dashboard's revocation version (:class:`~prismiq_django.models.DashboardEmbedState`).
- :func:`revoke` invalidates every token issued for a dashboard so far.
- :func:`lock_filter_values` overrides a request's filter values with the token's locked ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from django.db import IntegrityError, router, transaction
from django.db.models import F
from django.utils import timezone

from prismiq_django.conf import prismiq_settings
from prismiq_django.models import Dashboard, DashboardEmbedState
from prismiq_django.query import ErrorDetail, QueryValidationError
from prismiq_django.query.filter_decl import parse_declarations, parse_values
from prismiq_django.tenancy import embed as tokens
from prismiq_django.tenancy.embed import EmbedGrant, InvalidEmbedToken, read_token, sign_grant
from prismiq_django.tenancy.scopes import tenant_value

#: ``expires_in`` when the request names none, in seconds.
DEFAULT_EXPIRES_IN: Final = 600


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token and when it stops working."""

    token: str
    expires_at: datetime
    grant: EmbedGrant


def _refused(message: str, path: str, code: Any = "invalid_value") -> QueryValidationError:
    return QueryValidationError([ErrorDetail(code, message, path)])


def _expires_in(body: Mapping[str, Any]) -> int:
    value = body.get("expires_in", DEFAULT_EXPIRES_IN)
    if value is None:
        value = DEFAULT_EXPIRES_IN
    ceiling = prismiq_settings.EMBED_TOKEN_MAX_AGE
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ceiling:
        raise _refused(f"A number of seconds from 1 to {ceiling}.", "/expires_in")
    return value


def _locked(body: Mapping[str, Any], dashboard: Dashboard) -> dict[str, Any]:
    """The locked filter values, each checked like a request's value for its filter."""
    raw = body.get("locked_filters")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _refused("Expected {filter_id: value}.", "/locked_filters", "invalid_definition")
    ids = list(raw)
    declared = parse_declarations(dashboard.filters, "/filters")
    try:
        parse_values([{"filter_id": k, "value": raw[k]} for k in ids], declared, "/x")
    except QueryValidationError as exc:
        errors = []
        for error in exc.errors:
            index = int(error.path.split("/")[2])
            key = str(ids[index]).replace("~", "~0").replace("/", "~1")
            errors.append(ErrorDetail(error.code, error.message, f"/locked_filters/{key}"))
        raise QueryValidationError(errors) from None
    return {str(k): raw[k] for k in ids}


def _token_tenant(request: object, dashboard: Dashboard) -> Any:
    """The tenant value the token's rows are scoped to: the creator's value that the dashboard
    was recorded under (JSON-native as the callback gave it, else its text)."""
    if dashboard.tenant is None:
        return None
    value = tenant_value(request)
    candidates = value if isinstance(value, list | tuple | set | frozenset) else (value,)
    for candidate in candidates:
        if str(candidate) == dashboard.tenant:
            if isinstance(candidate, str) or (
                isinstance(candidate, int | float) and not isinstance(candidate, bool)
            ):
                return candidate
            return str(candidate)
    return dashboard.tenant


def current_version(dashboard_id: int) -> int:
    """The dashboard's revocation version: one read by primary key (0 when never revoked)."""
    version = (
        DashboardEmbedState.objects.filter(pk=dashboard_id)
        .values_list("version", flat=True)
        .first()
    )
    return int(version or 0)


def issue_token(request: object, dashboard: Dashboard, data: object) -> IssuedToken:
    """A token for ``dashboard`` (the caller has been checked to be an editor of it).

    Raises :class:`QueryValidationError` (400) for a bad ``expires_in`` or ``locked_filters``."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise _refused("Expected an object.", "", "invalid_definition")
    expires_in = _expires_in(data)
    locked = _locked(data, dashboard)
    expires = int(tokens.clock()) + expires_in
    grant = EmbedGrant(
        dashboard_id=dashboard.pk,
        tenant=_token_tenant(request, dashboard),
        tenant_key=dashboard.tenant,
        locked_filters=locked,
        version=current_version(dashboard.pk),
        expires_at=expires,
    )
    return IssuedToken(sign_grant(grant), datetime.fromtimestamp(expires, tz=UTC), grant)


def verify_token(token: str) -> EmbedGrant:
    """The grant of ``token``: intact, unexpired, not revoked. Raises
    :class:`InvalidEmbedToken` otherwise. One database read (the revocation version)."""
    grant = read_token(token, max_age=prismiq_settings.EMBED_TOKEN_MAX_AGE)
    if current_version(grant.dashboard_id) != grant.version:
        raise InvalidEmbedToken("revoked")
    return grant


def revoke(dashboard: Dashboard) -> int:
    """Invalidate every token issued for ``dashboard`` so far; returns the new version."""
    using = router.db_for_write(DashboardEmbedState)
    now = timezone.now()
    rows = DashboardEmbedState.objects.filter(pk=dashboard.pk)
    if not rows.update(version=F("version") + 1, revoked_at=now):
        try:
            with transaction.atomic(using=using):
                DashboardEmbedState.objects.create(dashboard=dashboard, version=1, revoked_at=now)
        except IntegrityError:  # another revoke created it first: count this one too
            rows.update(version=F("version") + 1, revoked_at=now)
    return current_version(dashboard.pk)


def lock_filter_values(values: object, locked: Mapping[str, Any]) -> object:
    """``values`` (a request's ``[{filter_id, value}]``) with every locked filter's entry
    replaced by the locked value, whatever the request sent for it. A body that is not a list
    is returned as it is (its 400 stays the request's)."""
    if not locked:
        return values
    if values is None:
        values = []
    if not isinstance(values, list):
        return values
    kept = [
        v
        for v in values
        if not (
            isinstance(v, Mapping)
            and isinstance(v.get("filter_id"), str)
            and v["filter_id"] in locked
        )
    ]
    return [*kept, *({"filter_id": k, "value": v} for k, v in locked.items())]


__all__ = [
    "DEFAULT_EXPIRES_IN",
    "IssuedToken",
    "current_version",
    "issue_token",
    "lock_filter_values",
    "revoke",
    "verify_token",
]
