"""E008 / W003: ``PRISMIQ["PG_SESSION_SETTINGS"]`` (part of ``check_settings``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from django.conf import settings
from django.core.checks import CheckMessage, Warning

from prismiq_django.checks.messages import error
from prismiq_django.conf import DEFAULTS

#: A custom setting PG_SESSION_SETTINGS may set: ``prefix.name`` (a dot, so never one of
#: PostgreSQL's own settings such as transaction_read_only or statement_timeout).
_CUSTOM_SETTING = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
#: Where a PG_SESSION_SETTINGS value may come from.
SESSION_SETTING_SOURCES: Final = ("tenant",)


def session_settings_messages(conf: dict[str, Any]) -> Iterable[CheckMessage]:
    """E008: PG_SESSION_SETTINGS is not ``{"<prefix>.<name>": "tenant"}``. W003: it is set
    but nothing would be set (no TENANT_CALLBACK, or the analytics database is not
    PostgreSQL)."""
    value = conf.get("PG_SESSION_SETTINGS")
    if not value:
        return
    hint = 'Example: {"app.tenant_id": "tenant"} (a dotted custom setting: the tenant value).'
    if not isinstance(value, dict):
        yield error("PRISMIQ['PG_SESSION_SETTINGS'] must be a dict.", hint, "E008")
        return
    for name, source in value.items():
        if not isinstance(name, str) or _CUSTOM_SETTING.fullmatch(name) is None:
            yield error(
                f"PRISMIQ['PG_SESSION_SETTINGS'] names {name!r}, which is not a custom setting "
                "('<prefix>.<name>': PostgreSQL's own settings cannot be set this way).",
                hint,
                "E008",
            )
        if source not in SESSION_SETTING_SOURCES:
            yield error(
                f"PRISMIQ['PG_SESSION_SETTINGS'][{name!r}] = {source!r}: the only source is "
                "'tenant'.",
                hint,
                "E008",
            )
    alias = conf.get("DATABASE", DEFAULTS["DATABASE"])
    engine = (
        str(settings.DATABASES.get(alias, {}).get("ENGINE", "")) if isinstance(alias, str) else ""
    )
    if conf.get("TENANT_CALLBACK") is None:
        yield Warning(
            "PRISMIQ['PG_SESSION_SETTINGS'] is set without a TENANT_CALLBACK: every setting "
            "is set to '' (no tenant), so row-level-security policies reading it see no tenant.",
            hint="Set PRISMIQ['TENANT_CALLBACK'].",
            id="prismiq_django.W003",
        )
    elif engine and "postgresql" not in engine:
        yield Warning(
            f"PRISMIQ['PG_SESSION_SETTINGS'] is set but the analytics database {alias!r} is not "
            "PostgreSQL: the settings are not applied there.",
            hint="Remove PG_SESSION_SETTINGS, or point PRISMIQ['DATABASE'] at PostgreSQL.",
            id="prismiq_django.W003",
        )


__all__ = ["SESSION_SETTING_SOURCES", "session_settings_messages"]
