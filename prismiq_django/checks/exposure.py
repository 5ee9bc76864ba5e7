"""E006 / E007: protected tables named by ``EXPOSED_TABLES`` or marked exposed in the admin."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.checks import CheckMessage, Tags, register
from django.core.exceptions import ImproperlyConfigured

from prismiq_django.catalog.protected import protected_table_test
from prismiq_django.checks.messages import error

#: What E006 and E007 say is never exposable.
_PROTECTED_HINT = (
    "Django's auth, session, admin-log, contenttypes and migrations tables, the user and session "
    "models' tables, the tables of credential apps (DRF tokens, simplejwt, oauth2_provider, "
    "allauth, social auth, django-otp, knox, two-factor, axes, user_sessions), database caches, "
    "PRISMIQ['PROTECTED_TABLES'] and prismiq_django's own tables are never queryable."
)


def _protection_test() -> Callable[[str], bool] | None:
    """:func:`protected_table_test`, or None when ``PROTECTED_TABLES`` is invalid (E002 reports
    it; E006/E007 then say nothing rather than judge by a protection the site did not mean)."""
    try:
        return protected_table_test()
    except ImproperlyConfigured:
        return None


def exposed_protected(exposed: Sequence[object]) -> list[CheckMessage]:
    is_protected = _protection_test()
    if is_protected is None:
        return []
    return [
        error(
            f"PRISMIQ['EXPOSED_TABLES'] names {name!r}, which may never be exposed.",
            f"{_PROTECTED_HINT} Remove it.",
            "E006",
        )
        for name in exposed
        if isinstance(name, str) and any(is_protected(table) for table in _tables_named(name))
    ]


def _tables_named(entry: str) -> list[str]:
    """The tables an ``EXPOSED_TABLES`` entry may name: itself, and after each dot the rest
    (``schema.table``, the spelling that exposes a schema's table; a schema may hold dots)."""
    return [entry, *(entry[i + 1 :] for i, char in enumerate(entry) if char == ".")]


@register(Tags.database)
def check_exposed_rows(
    app_configs: object = None, databases: Sequence[str] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """E007: exposure rows naming protected tables (they stay unqueryable at runtime anyway).

    Runs only when Django checks databases (``migrate``, ``check --database default``).
    """
    if not databases:
        return []
    from django.db import DatabaseError, router

    from prismiq_django.models import ExposedTable

    using = router.db_for_read(ExposedTable)
    if using not in databases:
        return []
    try:
        rows = list(ExposedTable.objects.using(using).filter(is_exposed=True))
    except DatabaseError:  # not migrated yet
        return []
    is_protected = _protection_test()
    if is_protected is None:
        return []
    return [
        error(
            f"ExposedTable {row!s} is marked exposed but may never be exposed.",
            f"{_PROTECTED_HINT} Untick 'is exposed' or delete the row in the admin; the table "
            "stays unqueryable.",
            "E007",
        )
        for row in rows
        if is_protected(row.name)
    ]


__all__ = ["check_exposed_rows", "exposed_protected"]
