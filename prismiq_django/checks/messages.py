"""What every check module shares: the one constructor of error messages, and the
analytics alias's database settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error

from prismiq_django.conf import DEFAULTS


def error(msg: str, hint: str, id_: str) -> Error:
    """An :class:`~django.core.checks.Error` with the id ``prismiq_django.<id_>``."""
    return Error(msg, hint=hint, id=f"prismiq_django.{id_}")


def analytics_database(conf: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(alias, settings.DATABASES[alias])`` of ``PRISMIQ["DATABASE"]``; None when the setting
    is not a string or names no configured alias (E002/E003 report those)."""
    alias = conf.get("DATABASE", DEFAULTS["DATABASE"])
    if not isinstance(alias, str) or alias not in settings.DATABASES:
        return None
    return alias, dict(settings.DATABASES[alias])


def is_postgresql(database: dict[str, Any]) -> bool:
    """True when a ``DATABASES`` entry's ``ENGINE`` is Django's PostgreSQL backend (or one built
    on it, such as PostGIS's)."""
    engine = str(database.get("ENGINE", ""))
    return "postgresql" in engine or "postgis" in engine


__all__ = ["analytics_database", "error", "is_postgresql"]
