"""Signal handlers: keep the cached catalog in step with the exposure models and migrations.

Connected from :meth:`prismiq_django.apps.PrismiqConfig.ready`. Bulk operations that send no
signals (``QuerySet.update``, ``bulk_create``) call
:func:`prismiq_django.services.invalidate_catalog` themselves (the admin actions and the sync do).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_migrate, post_save


def _invalidate(**kwargs: Any) -> None:
    from prismiq_django import services

    services.invalidate_catalog()


def connect() -> None:
    """Connect the handlers (idempotent: ``dispatch_uid`` prevents duplicates)."""
    from prismiq_django.models import ExposedColumn, ExposedTable

    for model in (ExposedTable, ExposedColumn):
        post_save.connect(_invalidate, sender=model, dispatch_uid=f"prismiq-save-{model.__name__}")
        post_delete.connect(
            _invalidate, sender=model, dispatch_uid=f"prismiq-delete-{model.__name__}"
        )
    post_migrate.connect(_invalidate, dispatch_uid="prismiq-post-migrate")


__all__ = ["connect"]
