"""Tables that can never be exposed, whatever the configuration.

The app's own tables hold other users' saved queries and dashboards; Django's auth, session,
admin-log, contenttypes and migrations tables hold credentials and internals. Both the system checks
and the runtime catalog filter consult :func:`is_protected_table`; code that tests many names at
once (a catalog build: one name per table) takes :func:`protected_table_test` once instead, so that
the user model is looked up once rather than once per table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

PROTECTED_PREFIXES: Final = ("prismiq_django_", "auth_")
PROTECTED_TABLES: Final = frozenset(
    {
        "django_session",
        "django_admin_log",
        "django_content_type",
        "django_migrations",
        "django_cache_table",
        "authtoken_token",
    }
)


def _user_model_table() -> str | None:
    """The user model's bare table name: the last part of PostgreSQL's schema-qualified spelling
    ``schema"."table`` (the catalog names tables without their schema)."""
    try:
        from django.contrib.auth import get_user_model

        db_table = str(get_user_model()._meta.db_table)
    except Exception:  # auth not installed or apps not ready: nothing to add
        return None
    return _bare(db_table)


def _bare(db_table: str) -> str:
    """The table of ``db_table``, without PostgreSQL's ``schema"."`` qualification."""
    return db_table.rsplit('"."', 1)[-1].strip('"')


def _cache_tables() -> set[str]:
    """The tables of the site's database caches (``DatabaseCache``'s ``LOCATION``), which hold
    sessions with the ``cache`` and ``cached_db`` session engines."""
    from django.conf import settings

    return {
        _bare(str(conf.get("LOCATION", ""))).lower()
        for conf in getattr(settings, "CACHES", {}).values()
        if _is_database_cache(conf.get("BACKEND"))
    }


def _is_database_cache(backend: object) -> bool:
    from django.core.cache.backends.db import DatabaseCache
    from django.utils.module_loading import import_string

    try:
        found = import_string(str(backend))
    except Exception:  # Django refuses such a cache when it is used
        return False
    return isinstance(found, type) and issubclass(found, DatabaseCache)


def protected_table_test() -> Callable[[str], bool]:
    """Return :func:`is_protected_table` with the site's user model and cache tables looked up
    now, once.

    For testing many names in one go (a catalog build, a sync); the result reflects the user model
    as it is at this call, so take a new one for each build rather than keeping it.
    """
    site_tables = _cache_tables()
    user_table = _user_model_table()
    if user_table is not None:
        site_tables.add(user_table.lower())

    def is_protected(name: str) -> bool:
        lowered = name.lower()
        return (
            lowered in PROTECTED_TABLES
            or lowered.startswith(PROTECTED_PREFIXES)
            or lowered in site_tables
        )

    return is_protected


def is_protected_table(name: str) -> bool:
    """Return True when ``name`` (a bare table name, any case) may never be exposed.

    Covers the app's own tables, ``auth_*`` (groups, permissions, the default user table), the
    site's custom user model table (its bare name, also when ``db_table`` names a schema as
    ``schema"."table``, in every schema), sessions (and the tables of ``DatabaseCache`` caches,
    which may hold them), admin log, contenttypes and migrations.
    """
    return protected_table_test()(name)


__all__ = ["PROTECTED_PREFIXES", "PROTECTED_TABLES", "is_protected_table", "protected_table_test"]
