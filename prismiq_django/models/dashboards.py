"""Dashboards (SPEC section 9): a named grid of widgets with dashboard-wide filters.

The access rule lives in one place: :meth:`DashboardQuerySet.visible_to` and
:meth:`DashboardQuerySet.editable_by` take a :class:`DashboardViewer` (who is asking: user key,
tenant keys, admin flag, an optional restriction to some dashboards for embed tokens) and return
the dashboards that viewer may read or change. Nothing else filters dashboards by owner or
tenant. A dashboard records the tenant in force when it was created (``tenant``; None when the
site has no ``TENANT_CALLBACK`` or the callback returned None) and is only ever visible to callers
of that tenant: another tenant's dashboard is absent, exactly like a missing one.

Filters are a validated JSON list on the dashboard (see docs/dashboards.md for why), widgets are
rows (they have their own endpoints and ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q

from prismiq_django.models.saved_queries import SavedQuery
from prismiq_django.models.tenant import TENANT_KEY_LENGTH, tenant_field, tenant_filter
from prismiq_django.query.dashboard_shapes import DEFAULT_LAYOUT, WIDGET_TYPES


def default_layout() -> dict[str, Any]:
    """The layout of a new dashboard: a 12-column grid, 50 px rows, 10 px margins."""
    return {**DEFAULT_LAYOUT, "margin": list(DEFAULT_LAYOUT["margin"])}


@dataclass(frozen=True, slots=True)
class DashboardViewer:
    """Who is asking, as far as dashboards care.

    ``user_pk``: :func:`prismiq_django.tenancy.identity.caller_pk` of the caller (None: owns
    nothing). ``tenants``: the caller's tenant keys; None for a caller without tenant, who sees
    only tenant-less dashboards; ``()`` when its callback gave no value at all (it sees none).
    ``is_admin``: passes ``DASHBOARD_ADMIN_PERMISSION_CLASSES``, reads and edits every dashboard
    of its tenant. ``dashboard_ids``, when not None, narrows everything to those dashboards (an
    embed token names one); ``read_only`` refuses every write.
    """

    user_pk: Any | None
    tenants: tuple[str, ...] | None = None
    is_admin: bool = False
    dashboard_ids: frozenset[int] | None = None
    read_only: bool = False


class DashboardQuerySet(models.QuerySet["Dashboard"]):
    """Dashboards with the access rule (see the module docstring)."""

    def in_tenant(self, viewer: DashboardViewer) -> DashboardQuerySet:
        """The dashboards of ``viewer``'s tenant(s); the tenant-less ones for a tenant-less
        viewer. Never another tenant's."""
        rows = self.filter(tenant_filter(viewer.tenants))
        if viewer.dashboard_ids is not None:
            rows = rows.filter(pk__in=viewer.dashboard_ids)
        return rows

    def visible_to(self, viewer: DashboardViewer) -> DashboardQuerySet:
        """What ``viewer`` may read and run: its own and the public dashboards of its tenant,
        every one of its tenant for an admin; all of them for an embed token's dashboards."""
        rows = self.in_tenant(viewer)
        if viewer.is_admin or viewer.dashboard_ids is not None:
            return rows
        if viewer.user_pk is None:
            return rows.filter(is_public=True)
        return rows.filter(Q(owner_id=viewer.user_pk) | Q(is_public=True))

    def editable_by(self, viewer: DashboardViewer) -> DashboardQuerySet:
        """What ``viewer`` may change or delete: its own dashboards of its tenant, every one of
        its tenant for an admin; nothing for a read-only viewer."""
        if viewer.read_only:
            return self.none()
        rows = self.in_tenant(viewer)
        if viewer.is_admin:
            return rows
        if viewer.user_pk is None:
            return rows.none()
        return rows.filter(owner_id=viewer.user_pk)

    def with_widgets(self) -> DashboardQuerySet:
        """Prefetch the widgets in their order: one query for any number of dashboards."""
        return self.prefetch_related(
            Prefetch("widgets", queryset=Widget.objects.order_by("order", "id"))
        )


class Dashboard(models.Model):
    """A dashboard owned by ``owner`` in the tenant ``tenant``."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    layout = models.JSONField(default=default_layout, help_text="{columns, row_height, margin}.")
    filters = models.JSONField(
        default=list, blank=True, help_text="Dashboard filters: [DashboardFilter], validated."
    )
    is_public = models.BooleanField(
        default=False, help_text="Visible to (and runnable by) every user of the same tenant."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="prismiq_dashboards",
    )
    tenant = tenant_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DashboardQuerySet.as_manager()

    class Meta:
        verbose_name = "dashboard"
        verbose_name_plural = "dashboards"
        ordering = ("-updated_at", "-id")
        indexes = (
            models.Index(fields=("tenant", "owner"), name="prismiq_dashboard_owner"),
            models.Index(fields=("tenant", "is_public"), name="prismiq_dashboard_public"),
        )

    def __str__(self) -> str:
        return self.name

    @property
    def tenant_keys(self) -> tuple[str, ...] | None:
        """The dashboard's tenant as the keys of a viewer of that one tenant (None: none)."""
        return None if self.tenant is None else (self.tenant,)


class Widget(models.Model):
    """One widget of a dashboard: a query (inline or a saved query) drawn as ``type``."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="widgets")
    type = models.CharField(max_length=20, choices=[(t, t) for t in WIDGET_TYPES])
    title = models.CharField(max_length=200, blank=True, default="")
    query = models.JSONField(null=True, blank=True, help_text="A query definition, or empty.")
    saved_query = models.ForeignKey(
        SavedQuery,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prismiq_widgets",
    )
    x = models.PositiveIntegerField(default=0)
    y = models.PositiveIntegerField(default=0)
    w = models.PositiveIntegerField(default=4)
    h = models.PositiveIntegerField(default=4)
    config = models.JSONField(default=dict, blank=True)
    order = models.PositiveIntegerField(default=0, help_text="Place in the dashboard's list.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "widget"
        verbose_name_plural = "widgets"
        ordering = ("dashboard", "order", "id")
        constraints = (
            models.CheckConstraint(condition=Q(w__gte=1) & Q(h__gte=1), name="prismiq_widget_size"),
            models.CheckConstraint(
                condition=~(Q(query__isnull=False) & Q(saved_query__isnull=False)),
                name="prismiq_widget_one_source",
            ),
        )

    def __str__(self) -> str:
        return self.title or f"{self.type} #{self.pk}"

    @property
    def position(self) -> dict[str, int]:
        """``{x, y, w, h}`` as on the wire."""
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}


__all__ = [
    "TENANT_KEY_LENGTH",
    "WIDGET_TYPES",
    "Dashboard",
    "DashboardQuerySet",
    "DashboardViewer",
    "Widget",
    "default_layout",
]
