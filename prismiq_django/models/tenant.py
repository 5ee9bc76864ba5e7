"""The tenant a stored object belongs to (SPEC section 8), one rule for every model that has one.

Saved queries and dashboards record, in ``tenant``, the key of the tenant value in force when
they were created (``str(value)`` of what ``PRISMIQ["TENANT_CALLBACK"]`` returned; NULL when the
site has no callback or it returned None). :func:`tenant_filter` is the only way they are
confined to a caller's tenant keys: another tenant's object is never in the query set, so it is
absent — a 404 — exactly like a missing one.
"""

from __future__ import annotations

from typing import Final

from django.db import models
from django.db.models import Q

#: Longest tenant key an object records (the column's size).
TENANT_KEY_LENGTH: Final = 255


def tenant_field() -> models.CharField[str | None, str | None]:
    """The ``tenant`` column: NULL, not "" (no tenant at all is not the tenant "", which a
    callback may return), not editable through forms or the admin."""
    return models.CharField(
        max_length=TENANT_KEY_LENGTH,
        null=True,
        blank=True,
        editable=False,
        help_text="The tenant in force when the object was created (None: no tenant).",
    )


def tenant_filter(tenants: tuple[str, ...] | None) -> Q:
    """The condition "belongs to one of ``tenants``": the tenant-less objects only when
    ``tenants`` is None (a caller without tenant), nothing when it is ``()``."""
    if tenants is None:
        return Q(tenant__isnull=True)
    return Q(tenant__in=tenants)


__all__ = ["TENANT_KEY_LENGTH", "tenant_field", "tenant_filter"]
