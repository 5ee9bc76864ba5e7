"""Saved queries: a named query definition owned by a user, optionally shared with the users of
its tenant.

Visibility lives in one place, :meth:`SavedQueryQuerySet.visible_to` (own + shared, within the
caller's tenant: a saved query records the tenant in force when it was created, and another
tenant's is absent, a 404, whether shared or not); the write rule
(only the owner changes or deletes) is :class:`prismiq_django.permissions.SavedQueryAccess`. Both
know the caller by :func:`prismiq_django.identity.caller_pk`, so a stateless token user (no user
row read) owns what the user of the same primary key owns.
The stored ``query`` is validated against the caller's exposed schema when saved and again when run
(exposure may have changed since). ``filters`` declares its parameters, valued at run time by
``filter_values`` (:mod:`prismiq_django.services.saved_queries`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from prismiq_django.models.tenant import tenant_field, tenant_filter
from prismiq_django.tenancy.identity import caller_pk


class SavedQueryQuerySet(models.QuerySet["SavedQuery"]):
    """Query set of saved queries with the visibility rule."""

    def in_tenant(self, tenants: tuple[str, ...] | None) -> SavedQueryQuerySet:
        """The saved queries of the tenant keys ``tenants``
        (:func:`prismiq_django.tenancy.access.tenant_keys`); the tenant-less ones when None."""
        return self.filter(tenant_filter(tenants))

    def visible_to(self, user: Any, tenants: tuple[str, ...] | None = None) -> SavedQueryQuerySet:
        """Saved queries ``user`` may see: their own and the shared ones of the tenant keys
        ``tenants`` (None, the default: only tenant-less ones, what a caller without tenant
        sees); the shared ones only when ``user`` is authenticated without a usable primary key
        (:func:`caller_pk`); none when anonymous. Filters on the owner's key: reads no user
        row."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        rows = self.in_tenant(tenants)
        pk = caller_pk(user)
        if pk is None:
            return rows.filter(is_shared=True)
        return rows.filter(Q(owner_id=pk) | Q(is_shared=True))


class SavedQuery(models.Model):
    """A named query definition (SPEC section 3) owned by ``owner``."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    query = models.JSONField(help_text="The query definition, as sent to query/execute.")
    filters = models.JSONField(
        default=list,
        blank=True,
        help_text="Declared parameters: DashboardFilter objects (SPEC section 9) that "
        "saved-queries/{id}/execute values with filter_values, merged like dashboard filters.",
    )
    is_shared = models.BooleanField(
        default=False, help_text="Visible to (and runnable by) every user of the same tenant."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="prismiq_saved_queries",
    )
    tenant = tenant_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SavedQueryQuerySet.as_manager()

    class Meta:
        verbose_name = "saved query"
        verbose_name_plural = "saved queries"
        ordering = ("-updated_at", "-id")
        indexes = (
            models.Index(fields=("owner", "is_shared"), name="prismiq_savedquery_owner"),
            models.Index(fields=("tenant", "is_shared"), name="prismiq_savedquery_tenant"),
        )

    def __str__(self) -> str:
        return self.name


__all__ = ["SavedQuery", "SavedQueryQuerySet"]
