"""Django application configuration."""

from __future__ import annotations

from django.apps import AppConfig


class PrismiqConfig(AppConfig):
    """App config: registers system checks, signal handlers and the drf-spectacular extensions."""

    name = "prismiq_django"
    verbose_name = "Prismiq analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.checks import Tags, register
        from django.core.signals import setting_changed

        from prismiq_django import checks  # noqa: F401  (registers the checks)
        from prismiq_django.api.openapi import extensions  # noqa: F401  (registers them)
        from prismiq_django.api.views.docs import forget_openapi_documents
        from prismiq_django.backends.mysql.zones import check_zone_tables
        from prismiq_django.signals import connect

        register(check_zone_tables, Tags.database)  # E009, W005 (MySQL/MariaDB)
        connect()
        setting_changed.connect(forget_openapi_documents, dispatch_uid="prismiq-openapi")
        setting_changed.connect(_forget_tokens, dispatch_uid="prismiq-jwt-memo")
        setting_changed.connect(_forget_memos, dispatch_uid="prismiq-memos")


def _forget_tokens(*, setting: str, **_: object) -> None:
    """Verified tokens are forgotten when the settings that verify them change."""
    if setting in {"SIMPLE_JWT", "REST_FRAMEWORK", "SECRET_KEY"}:
        from prismiq_django.api import jwtmemo

        jwtmemo.clear()


def _forget_memos(*, setting: str, **_: object) -> None:
    """What is remembered per process from settings is forgotten when they change: the primary
    keys read from token claims (the user model, its pk field's validators), the recipes of
    repeated cached runs, the database-token statements and the packed Redis reads (keys of
    another cache or database)."""
    if setting in {"AUTH_USER_MODEL", "DATABASES", "SIMPLE_JWT"}:
        from prismiq_django.tenancy import identity

        identity.forget_claimed_pks()
    if setting in {"AUTH_USER_MODEL", "DATABASES", "USE_TZ"}:
        from prismiq_django.api import tokenlookup

        tokenlookup.forget()
    if setting in {"CACHES", "DATABASES", "PRISMIQ"}:
        from prismiq_django.cache import pipeline
        from prismiq_django.services import hits

        hits.recipes.clear()
        pipeline.forget_packed()
