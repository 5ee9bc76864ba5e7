"""Row scopes and session settings: which tenant's rows a request may read.

The tenant value is ``PRISMIQ["TENANT_CALLBACK"](request)`` (:func:`tenant_value`). It becomes

- a row scope ``tenant_column = value`` (``IN`` for a list) on every table that has a tenant
  column (:func:`get_row_scopes`); a table with a tenant column and no tenant value is refused by
  the compiler (fail closed);
- on PostgreSQL, the text of each setting of ``PRISMIQ["PG_SESSION_SETTINGS"]``
  (:func:`session_settings_for`), set in the read-only transaction before every statement so
  that the site's own row-level-security policies apply as a second wall.

Both travel on the request's :class:`~prismiq_django.query.Catalog` (:func:`scoped_catalog`), so
that every statement run for the request, in any thread, carries them, and the result-cache key
covers them (:func:`cache_scopes`).
"""

from __future__ import annotations

from typing import Any

from prismiq_django.catalog.codec import (
    tenant_columns,
)
from prismiq_django.conf import prismiq_settings
from prismiq_django.query import (
    Catalog,
    RowScope,
)
from prismiq_django.tenancy.embed import grant_of

#: What the callback returns for several tenants.
_MANY = (list, tuple, set, frozenset)
#: Where a request object keeps its tenant value: (callback, user, auth, value).
_KEPT = "_prismiq_tenant_value"


def tenant_value(request: object) -> object | None:
    """The caller's tenant value as ``TENANT_CALLBACK`` returns it (a value, a list, or None);
    None with no request or no callback. For a request authenticated by an embed token, the
    token's tenant value: the callback is not called (the token's holder is nobody the site
    knows).

    The callback is called once per request object: its answer is kept on that object (with
    the callback and the request's user and ``auth`` it was computed for) and reused by every
    later need of the same request (the catalog, saved-object access, filter merges). A
    request whose user or ``auth`` is replaced, or a changed setting, calls it again."""
    if request is None:
        return None
    grant = grant_of(request)
    if grant is not None:
        tenant: object | None = grant.tenant
        return tenant
    callback = prismiq_settings.tenant_callback
    if callback is None:
        return None
    # The object's own attributes: a DRF Request's, not those of the HttpRequest it wraps.
    own: dict[str, Any] | None = getattr(request, "__dict__", None)
    user, auth = getattr(request, "user", None), getattr(request, "auth", None)
    kept = own.get(_KEPT) if own is not None else None
    if kept is not None and kept[0] is callback and kept[1] is user and kept[2] is auth:
        known: object | None = kept[3]
        return known
    value = callback(request)
    if own is not None:
        own[_KEPT] = (callback, user, auth, value)
    return value


def get_row_scopes(request: object, catalog: Catalog) -> list[RowScope]:
    """Return the row scopes for ``request``: one per table that has a tenant column.

    The tenant value comes from ``PRISMIQ["TENANT_CALLBACK"](request)``; a list, tuple or set
    means "any of these tenants". With no request, no callback or a None value there is no
    scope, and the compiler refuses every tenant table (fail closed).
    """
    return row_scopes_for(request, tenant_columns(catalog))


def row_scopes_for(request: object, tenants: tuple[tuple[str, str], ...]) -> list[RowScope]:
    """:func:`get_row_scopes` for the catalog whose tenant tables are ``tenants``."""
    if not tenants:
        return []
    return _scopes(tenant_value(request), tenants)


def _scopes(value: object | None, tenants: tuple[tuple[str, str], ...]) -> list[RowScope]:
    if value is None:
        return []
    values = tuple(value) if isinstance(value, _MANY) else (value,)
    return [RowScope(table, column, values) for table, column in tenants]


def setting_text(value: object | None) -> str:
    """The text a session setting holds for the tenant value ``value``: ``str(value)``; the
    values of a list joined by commas, sorted and unique (``"1,3"``); ``""`` for None (so a
    policy never reads a value left by a previous statement)."""
    if value is None:
        return ""
    if isinstance(value, _MANY):
        return ",".join(sorted({str(v) for v in value}))
    return str(value)


def session_settings_for(value: object | None) -> tuple[tuple[str, str], ...]:
    """``(name, text)`` for each ``PG_SESSION_SETTINGS`` entry, for the tenant value
    ``value`` (every source is ``"tenant"``: check E008)."""
    configured = prismiq_settings.PG_SESSION_SETTINGS
    if not configured:
        return ()
    text = setting_text(value)
    return tuple((name, text) for name, _source in configured)


def scoped_catalog(
    request: object, catalog: Catalog, tenants: tuple[tuple[str, str], ...]
) -> Catalog:
    """``catalog`` with ``request``'s row scopes and session settings (the callback is called
    at most once, and only when something needs its value)."""
    needs_session = bool(prismiq_settings.PG_SESSION_SETTINGS)
    if not tenants and not needs_session:
        return catalog
    value = tenant_value(request)
    scopes = _scopes(value, tenants)
    if scopes:
        catalog = catalog.with_row_scopes(scopes)
    if needs_session:
        catalog = catalog.with_session_settings(session_settings_for(value))
    return catalog


def cache_scopes(catalog: Catalog) -> object:
    """What the result-cache key folds in besides the statement: the row scopes, and the
    session settings when there are any (two tenants never share an entry, even for a table
    that only a row-level-security policy isolates)."""
    if not catalog.session_settings:
        return catalog.row_scopes
    return {"row_scopes": catalog.row_scopes, "session_settings": catalog.session_settings}


__all__ = [
    "cache_scopes",
    "get_row_scopes",
    "row_scopes_for",
    "scoped_catalog",
    "session_settings_for",
    "setting_text",
    "tenant_value",
]
