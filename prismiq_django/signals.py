"""Signal receivers: the cached catalog kept in step with the exposure models and migrations, the
memos that depend on settings dropped on ``setting_changed``, the deferred work run on
``request_finished``.

Connected from :meth:`prismiq_django.apps.PrismiqConfig.ready`. Bulk operations that send no
signals (``QuerySet.update``, ``bulk_create``) call
:func:`prismiq_django.catalog.store.invalidate_catalog` themselves (the admin actions and the sync
do).
"""

from __future__ import annotations

from typing import Any

from django.core.signals import request_finished, setting_changed
from django.db.models.signals import post_delete, post_migrate, post_save

from prismiq_django.catalog.protected import forget_protection_key
from prismiq_django.catalog.store import forget_configuration_key, invalidate_catalog
from prismiq_django.conf import forget_settings
from prismiq_django.ops.afterresponse import run_pending


def _invalidate(**kwargs: Any) -> None:
    invalidate_catalog()


def connect() -> None:
    """Connect the receivers (idempotent: ``dispatch_uid`` prevents duplicates)."""
    # Settings first, in the order the memos depend on each other.
    setting_changed.connect(forget_settings, dispatch_uid="prismiq-settings")
    setting_changed.connect(forget_protection_key, dispatch_uid="prismiq-protection-key")
    setting_changed.connect(forget_configuration_key, dispatch_uid="prismiq-configuration-key")
    request_finished.connect(run_pending, dispatch_uid="prismiq_django.afterresponse")
    from prismiq_django.models import ExposedColumn, ExposedTable

    for model in (ExposedTable, ExposedColumn):
        post_save.connect(_invalidate, sender=model, dispatch_uid=f"prismiq-save-{model.__name__}")
        post_delete.connect(
            _invalidate, sender=model, dispatch_uid=f"prismiq-delete-{model.__name__}"
        )
    post_migrate.connect(_invalidate, dispatch_uid="prismiq-post-migrate")


__all__ = ["connect"]
