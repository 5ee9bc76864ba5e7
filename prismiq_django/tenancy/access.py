"""Who may see and change which dashboard: the one access helper (SPEC sections 8 and 9).

:func:`dashboard_viewer` turns a request into a :class:`~prismiq_django.models.DashboardViewer`
(the caller's user key, its tenant keys from ``PRISMIQ["TENANT_CALLBACK"]``, whether it passes
``DASHBOARD_ADMIN_PERMISSION_CLASSES``); :func:`dashboard_for` fetches one dashboard for it:

- not visible (another tenant's, another user's private one, absent): ``Http404``, the same
  answer for all three;
- visible but the caller may not change it, for a write: ``PermissionDenied`` (403).

Visibility itself is :meth:`~prismiq_django.models.dashboards.DashboardQuerySet.visible_to` /
``editable_by``. An embed token (issue 17) plugs in by building a viewer with ``dashboard_ids``
and ``read_only`` instead of calling :func:`dashboard_viewer`.

Tenant keys are the text of each value the callback returns (``str(value)``): a scalar is one
tenant, a list/tuple/set several (the caller sees the dashboards of any of them), None means no
tenant (only tenant-less dashboards), an empty list no tenant value at all (no dashboard).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from prismiq_django.conf import prismiq_settings
from prismiq_django.models.dashboards import TENANT_KEY_LENGTH, Dashboard, DashboardViewer
from prismiq_django.query.dashboard_shapes import is_id
from prismiq_django.tenancy.embed import EmbedGrant
from prismiq_django.tenancy.identity import caller_pk
from prismiq_django.tenancy.scopes import tenant_value

#: Why a caller with several (or no) tenant values cannot create a dashboard.
AMBIGUOUS_TENANT = "Creating a dashboard needs exactly one tenant value; the caller has {n}."
#: The same for a saved query.
AMBIGUOUS_QUERY_TENANT = "Saving a query needs exactly one tenant value; the caller has {n}."


def tenant_keys(request: object) -> tuple[str, ...] | None:
    """The caller's tenant keys (sorted, unique), or None when it has no tenant (no callback,
    no request, or the callback returned None)."""
    value = tenant_value(request)
    if value is None:
        return None
    values = value if isinstance(value, list | tuple | set | frozenset) else (value,)
    return tuple(sorted({str(v) for v in values}))


def is_dashboard_admin(request: Any, view: Any = None) -> bool:
    """Whether ``request`` passes every class of ``DASHBOARD_ADMIN_PERMISSION_CLASSES``."""
    classes = prismiq_settings.DASHBOARD_ADMIN_PERMISSION_CLASSES
    if not classes or request is None:
        return False
    return all(permission().has_permission(request, view) for permission in classes)


def dashboard_viewer(request: Any, view: Any = None) -> DashboardViewer:
    """The viewer of ``request`` (see the module docstring)."""
    user = getattr(request, "user", None)
    return DashboardViewer(
        user_pk=caller_pk(user),
        tenants=tenant_keys(request),
        is_admin=is_dashboard_admin(request, view),
    )


def single_tenant(tenants: tuple[str, ...] | None, message: str = AMBIGUOUS_TENANT) -> str | None:
    """The tenant key an object created by a caller of tenant keys ``tenants`` records: None
    for a caller without tenant, its one key otherwise; ``PermissionDenied`` (``message``) when
    that is not one value (several tenants, an empty list, a key longer than the column)."""
    if tenants is None:
        return None
    if len(tenants) != 1 or len(tenants[0]) > TENANT_KEY_LENGTH:
        raise PermissionDenied(message.format(n=len(tenants)))
    return tenants[0]


def embed_viewer(grant: EmbedGrant) -> DashboardViewer:
    """The viewer of an embed token: nobody's user, the token's dashboard only, in the
    dashboard's tenant, read-only."""
    return DashboardViewer(
        user_pk=None,
        tenants=None if grant.tenant_key is None else (grant.tenant_key,),
        dashboard_ids=frozenset({grant.dashboard_id}),
        read_only=True,
    )


def creation_tenant(viewer: DashboardViewer) -> str | None:
    """The tenant a dashboard created by ``viewer`` records (:func:`single_tenant`)."""
    return single_tenant(viewer.tenants)


def dashboard_for(
    viewer: DashboardViewer, pk: int | str, *, write: bool = False, widgets: bool = True
) -> Dashboard:
    """The dashboard ``pk`` as ``viewer`` may use it: ``Http404`` if not visible,
    ``PermissionDenied`` for a ``write`` on one it may only read. Widgets prefetched."""
    if not is_id(pk):  # beyond a 64-bit key: no such row (and no database error)
        raise Http404
    rows = Dashboard.objects.visible_to(viewer)
    if widgets:
        rows = rows.with_widgets()
    dashboard = rows.filter(pk=pk).first()
    if dashboard is None:
        raise Http404
    if write and not Dashboard.objects.editable_by(viewer).filter(pk=dashboard.pk).exists():
        raise PermissionDenied("Only the owner of a dashboard (or an admin) may change it.")
    return dashboard


__all__ = [
    "AMBIGUOUS_QUERY_TENANT",
    "AMBIGUOUS_TENANT",
    "creation_tenant",
    "dashboard_for",
    "dashboard_viewer",
    "embed_viewer",
    "is_dashboard_admin",
    "single_tenant",
    "tenant_keys",
]
