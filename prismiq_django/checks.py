"""Django system checks (``prismiq_django.E0xx`` / ``W0xx``), registered from ``AppConfig.ready``.

| id    | what |
|-------|------|
| E001  | ``settings.PRISMIQ`` is not a dict or has unknown keys |
| E002  | a setting has the wrong type or range |
| E003  | ``PRISMIQ["DATABASE"]`` is not a configured database alias |
| E004  | ``PRISMIQ["CACHE_ALIAS"]`` is not a configured cache alias |
| E005  | a dotted path (``*_CLASSES``, ``*_CALLBACK``) cannot be imported |
| E006  | ``PRISMIQ["EXPOSED_TABLES"]`` names a table that may never be exposed |
| E007  | an ``ExposedTable`` row marks a protected table as exposed (database check) |
| E008  | ``PRISMIQ["PG_SESSION_SETTINGS"]`` is not ``{"<prefix>.<name>": "tenant", ...}`` |
| W001  | rate-limit counters (``RATELIMIT_USE_CACHE``) live in another cache than ``CACHE_ALIAS`` |
| W002  | ``RequestIdMiddleware`` is not installed: no request log lines, ids or request metrics |
| W003  | ``PG_SESSION_SETTINGS`` sets nothing (no ``TENANT_CALLBACK``, or not PostgreSQL) |
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from prismiq_django.catalog.introspect import system_schemas
from prismiq_django.catalog.protected import protected_table_test, site_patterns_error
from prismiq_django.conf import DEFAULTS, import_from_setting, user_settings
from prismiq_django.services.ask import ASSISTANT_KEYS

#: PostgreSQL's largest ``statement_timeout`` (2**31 - 1 ms), in seconds.
_MAX_QUERY_TIMEOUT = 2_147_483.647

_POSITIVE_INTS = (
    "DASHBOARD_CONCURRENCY",
    "EMBED_TOKEN_MAX_AGE",
    "MAX_ROWS",
    "MAX_TABLES",
    "MAX_COLUMNS",
    "MAX_FILTERS",
    "MAX_DEPTH",
    "MAX_LIST_VALUES",
    "MAX_PAGE_SIZE",
    "EXPORT_MAX_ROWS",
)
_NON_NEGATIVE_INTS = ("RESULT_CACHE_TTL", "SCHEMA_CACHE_TTL")


_CLASS_LISTS = (
    "PERMISSION_CLASSES",
    "METRICS_PERMISSION_CLASSES",
    "DASHBOARD_ADMIN_PERMISSION_CLASSES",
    "SQL_PERMISSION_CLASSES",
)
_BUILT_IN_BACKENDS = frozenset({"offline", "openai_compatible"})


def _error(msg: str, hint: str, id_: str) -> Error:
    return Error(msg, hint=hint, id=f"prismiq_django.{id_}")


#: One CSP source expression of ``frame-ancestors``: a keyword or a scheme/host source; nothing
#: that could end the directive (``;``, ``,``), add one (whitespace) or quote anything else.
_CSP_SOURCE = re.compile(
    r"'self'|'none'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*://)?(?:\*\.)?[A-Za-z0-9.-]+"
    r"(?::(?:[0-9]{1,5}|\*))?(?:/[A-Za-z0-9._~!$&()*+=:@%/-]*)?|\*"
)


def is_csp_source(value: object) -> bool:
    """True when ``value`` is one source expression ``EMBED_FRAME_ANCESTORS`` may hold."""
    return isinstance(value, str) and _CSP_SOURCE.fullmatch(value) is not None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _type_errors(conf: dict[str, Any]) -> Iterable[CheckMessage]:
    for key in _POSITIVE_INTS:
        if key in conf and not (_is_int(conf[key]) and conf[key] > 0):
            yield _error(
                f"PRISMIQ[{key!r}] must be a positive integer.",
                f"Default: {DEFAULTS[key]!r}.",
                "E002",
            )
    for key in _NON_NEGATIVE_INTS:
        if key in conf and not (_is_int(conf[key]) and conf[key] >= 0):
            yield _error(
                f"PRISMIQ[{key!r}] must be an integer >= 0 (seconds).",
                "Use 0 to disable the cache.",
                "E002",
            )
    for key in ("QUERY_TIMEOUT", "EXPORT_TIMEOUT"):
        timeout = conf.get(key, DEFAULTS[key])
        # Not inf/NaN (no millisecond count) nor beyond PostgreSQL's statement_timeout maximum
        # (2**31 - 1 ms): every statement would fail.
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout <= _MAX_QUERY_TIMEOUT
        ):
            yield _error(
                f"PRISMIQ[{key!r}] must be a positive number of seconds, at most"
                f" {_MAX_QUERY_TIMEOUT} (about 24 days).",
                f"Default: {DEFAULTS[key]:g}.",
                "E002",
            )
    if not isinstance(conf.get("EXPORT_CSV_ESCAPE_FORMULAS", True), bool):
        yield _error(
            "PRISMIQ['EXPORT_CSV_ESCAPE_FORMULAS'] must be True or False.",
            "Default: True (text cells starting with = + - @ get a leading ').",
            "E002",
        )
    for key in ("DATABASE", "CACHE_ALIAS"):
        if key in conf and not isinstance(conf[key], str):
            yield _error(
                f"PRISMIQ[{key!r}] must be a string alias.", f"Default: {DEFAULTS[key]!r}.", "E002"
            )
    schema = conf.get("DB_SCHEMA")
    if schema is not None and not (
        isinstance(schema, str)
        or (isinstance(schema, list | tuple) and all(isinstance(s, str) for s in schema))
    ):
        yield _error(
            "PRISMIQ['DB_SCHEMA'] must be None, a schema name or a list of names.",
            "Example: 'public' or ['public', 'sales'].",
            "E002",
        )
    elif system := system_schemas(schema):
        yield _error(
            f"PRISMIQ['DB_SCHEMA'] names PostgreSQL's own schemas {system!r}, which are never "
            "introspected (they hold role password hashes and other sessions' queries).",
            "Remove them; list the schemas that hold the site's tables.",
            "E002",
        )
    exposed = conf.get("EXPOSED_TABLES")
    if exposed is not None and not (
        isinstance(exposed, list | tuple) and all(isinstance(t, str) for t in exposed)
    ):
        yield _error(
            "PRISMIQ['EXPOSED_TABLES'] must be None or a list of table names.",
            "Example: ['shop_order', 'shop_customer'].",
            "E002",
        )
    if "PROTECTED_TABLES" in conf:
        protected_error = site_patterns_error(conf["PROTECTED_TABLES"])
        if protected_error is not None:
            yield _error(
                protected_error,
                "Example: ['billing_card', 'vault_*'] (a trailing '*' protects a prefix).",
                "E002",
            )
    yield from _raw_sql_and_assistant_errors(conf)
    for key in ("RATE_LIMIT", "EXPORT_RATE_LIMIT", "ASK_RATE_LIMIT"):
        rate = conf.get(key, DEFAULTS[key])
        if rate is not None and not _valid_rate(rate):
            yield _error(
                f"PRISMIQ[{key!r}] must be None or a rate such as {DEFAULTS[key]!r}.",
                "Format: '<count>/<s|m|h|d>', e.g. '120/m' or '10/s'.",
                "E002",
            )
    ancestors = conf.get("EMBED_FRAME_ANCESTORS", DEFAULTS["EMBED_FRAME_ANCESTORS"])
    if not isinstance(ancestors, list | tuple) or not all(map(is_csp_source, ancestors)):
        yield _error(
            "PRISMIQ['EMBED_FRAME_ANCESTORS'] must be a list of CSP source expressions.",
            "Example: [\"'self'\", 'https://app.example.com'] ([] for 'none').",
            "E002",
        )
    for key in _CLASS_LISTS:
        if key in conf and not isinstance(conf[key], list | tuple):
            yield _error(
                f"PRISMIQ[{key!r}] must be a list of dotted paths or classes.",
                "Example: ['rest_framework.permissions.IsAuthenticated'].",
                "E002",
            )


def _raw_sql_and_assistant_errors(conf: dict[str, Any]) -> Iterable[CheckMessage]:
    forbidden = conf.get("SQL_FORBIDDEN_FUNCTIONS")
    if forbidden is not None and not (
        isinstance(forbidden, list | tuple) and all(isinstance(f, str) and f for f in forbidden)
    ):
        yield _error(
            "PRISMIQ['SQL_FORBIDDEN_FUNCTIONS'] must be None or a list of function names.",
            "None keeps the built-in list; names may end in '*' (e.g. ['pg_sleep*']).",
            "E002",
        )
    assistant = conf.get("ASSISTANT", {})
    if not isinstance(assistant, dict):
        yield _error(
            "PRISMIQ['ASSISTANT'] must be a dict.", "Example: {'BACKEND': 'offline'}.", "E002"
        )
        return
    unknown = sorted(set(map(str, assistant)) - ASSISTANT_KEYS)
    backend = assistant.get("BACKEND")
    timeout = assistant.get("TIMEOUT", 30.0)
    if (
        unknown
        or (backend is not None and not isinstance(backend, str | type))
        or isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or timeout <= 0
    ):
        yield _error(
            "PRISMIQ['ASSISTANT'] has unknown keys or values of the wrong type"
            + (f" (unknown: {', '.join(unknown)})." if unknown else "."),
            f"Keys: {', '.join(sorted(ASSISTANT_KEYS))}; BACKEND 'offline', "
            "'openai_compatible' or a dotted path; TIMEOUT a positive number of seconds.",
            "E002",
        )
    elif isinstance(backend, str) and backend and backend not in _BUILT_IN_BACKENDS:
        try:
            import_from_setting("ASSISTANT", backend)
        except ImproperlyConfigured as exc:
            yield _error(str(exc), "Check the dotted path and that its module imports.", "E005")


def _valid_rate(rate: object) -> bool:
    if not isinstance(rate, str) or "/" not in rate:
        return False
    count, _, period = rate.partition("/")
    digits = period.rstrip("smhd")
    return (
        count.isdigit()
        and int(count) > 0
        and period[-1:] in {"s", "m", "h", "d"}
        and (digits == "" or digits.isdigit())
    )


def _import_errors(conf: dict[str, Any]) -> Iterable[CheckMessage]:
    for key in (*_CLASS_LISTS, "TENANT_CALLBACK"):
        value = conf.get(key, DEFAULTS[key])
        items: Sequence[object] = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if item is None:
                continue
            try:
                import_from_setting(key, item)
            except ImproperlyConfigured as exc:
                yield _error(str(exc), "Check the dotted path and that its module imports.", "E005")


#: A custom setting PG_SESSION_SETTINGS may set: ``prefix.name`` (a dot, so never one of
#: PostgreSQL's own settings such as transaction_read_only or statement_timeout).
_CUSTOM_SETTING = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
#: Where a PG_SESSION_SETTINGS value may come from.
SESSION_SETTING_SOURCES: Final = ("tenant",)


def _session_settings_messages(conf: dict[str, Any]) -> Iterable[CheckMessage]:
    """E008: PG_SESSION_SETTINGS is not ``{"<prefix>.<name>": "tenant"}``. W003: it is set
    but nothing would be set (no TENANT_CALLBACK, or the analytics database is not
    PostgreSQL)."""
    value = conf.get("PG_SESSION_SETTINGS")
    if not value:
        return
    hint = 'Example: {"app.tenant_id": "tenant"} (a dotted custom setting: the tenant value).'
    if not isinstance(value, dict):
        yield _error("PRISMIQ['PG_SESSION_SETTINGS'] must be a dict.", hint, "E008")
        return
    for name, source in value.items():
        if not isinstance(name, str) or _CUSTOM_SETTING.fullmatch(name) is None:
            yield _error(
                f"PRISMIQ['PG_SESSION_SETTINGS'] names {name!r}, which is not a custom setting "
                "('<prefix>.<name>': PostgreSQL's own settings cannot be set this way).",
                hint,
                "E008",
            )
        if source not in SESSION_SETTING_SOURCES:
            yield _error(
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


@register(Tags.compatibility)
def check_settings(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """Validate ``settings.PRISMIQ``: known keys, types, aliases and importable dotted paths."""
    try:
        conf = user_settings()
    except ImproperlyConfigured as exc:
        return [_error(str(exc), "See the README's settings table.", "E001")]
    errors: list[CheckMessage] = [
        *_type_errors(conf),
        *_import_errors(conf),
        *_session_settings_messages(conf),
    ]
    database = conf.get("DATABASE", DEFAULTS["DATABASE"])
    if isinstance(database, str) and database not in settings.DATABASES:
        errors.append(
            _error(
                f"PRISMIQ['DATABASE'] = {database!r} is not in settings.DATABASES.",
                f"Configured aliases: {', '.join(settings.DATABASES)}.",
                "E003",
            )
        )
    cache_alias = conf.get("CACHE_ALIAS", DEFAULTS["CACHE_ALIAS"])
    if isinstance(cache_alias, str) and cache_alias not in settings.CACHES:
        errors.append(
            _error(
                f"PRISMIQ['CACHE_ALIAS'] = {cache_alias!r} is not in settings.CACHES.",
                f"Configured aliases: {', '.join(settings.CACHES)}.",
                "E004",
            )
        )
    exposed = conf.get("EXPOSED_TABLES")
    if isinstance(exposed, list | tuple):
        errors += _exposed_protected(exposed)
    return errors


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


def _exposed_protected(exposed: Sequence[object]) -> list[CheckMessage]:
    is_protected = _protection_test()
    if is_protected is None:
        return []
    return [
        _error(
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


REQUEST_ID_MIDDLEWARE = "prismiq_django.middleware.RequestIdMiddleware"


@register(Tags.compatibility)
def check_deployment(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """W001/W002: parts of the operations setup that fail quietly when left out."""
    try:
        conf = user_settings()
    except ImproperlyConfigured:
        return []  # E001 reports it
    warnings: list[CheckMessage] = []
    ratelimit_cache = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    cache_alias = conf.get("CACHE_ALIAS", DEFAULTS["CACHE_ALIAS"])
    limited = conf.get("RATE_LIMIT", DEFAULTS["RATE_LIMIT"]) is not None
    if limited and ratelimit_cache != cache_alias:
        warnings.append(
            Warning(
                f"Rate-limit counters use the cache {ratelimit_cache!r} (RATELIMIT_USE_CACHE) "
                f"but PRISMIQ['CACHE_ALIAS'] is {cache_alias!r}.",
                hint="django-ratelimit takes its cache from RATELIMIT_USE_CACHE: set it to the "
                "same shared cache as CACHE_ALIAS so that every worker counts together.",
                id="prismiq_django.W001",
            )
        )
    if REQUEST_ID_MIDDLEWARE not in getattr(settings, "MIDDLEWARE", []):
        warnings.append(
            Warning(
                f"{REQUEST_ID_MIDDLEWARE} is not in MIDDLEWARE.",
                hint="Without it there are no JSON request log lines, no X-Request-ID and no "
                "prismiq_requests_total; add it near the top of MIDDLEWARE.",
                id="prismiq_django.W002",
            )
        )
    return warnings


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
        _error(
            f"ExposedTable {row!s} is marked exposed but may never be exposed.",
            f"{_PROTECTED_HINT} Untick 'is exposed' or delete the row in the admin; the table "
            "stays unqueryable.",
            "E007",
        )
        for row in rows
        if is_protected(row.name)
    ]


__all__ = ["check_exposed_rows", "check_settings"]
