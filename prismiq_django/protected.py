"""Tables that can never be exposed, whatever the configuration.

The app's own tables hold other users' saved queries and dashboards; Django's auth, session,
admin-log, contenttypes and migrations tables hold credentials and internals. Both the system checks
and the runtime catalog filter consult :func:`is_protected_table`.
"""

from __future__ import annotations

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
    try:
        from django.contrib.auth import get_user_model

        return str(get_user_model()._meta.db_table)
    except Exception:  # auth not installed or apps not ready: nothing to add
        return None


def is_protected_table(name: str) -> bool:
    """Return True when ``name`` (a bare table name, any case) may never be exposed.

    Covers the app's own tables, ``auth_*`` (groups, permissions, the default user table), the
    site's custom user model table, sessions, admin log, contenttypes and migrations.
    """
    lowered = name.lower()
    if lowered in PROTECTED_TABLES or lowered.startswith(PROTECTED_PREFIXES):
        return True
    user_table = _user_model_table()
    return user_table is not None and lowered == user_table.lower()


__all__ = ["PROTECTED_PREFIXES", "PROTECTED_TABLES", "is_protected_table"]
