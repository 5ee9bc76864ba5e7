"""``check_settings``: the types, ranges, aliases and dotted paths of ``settings.PRISMIQ``
(E001-E006, E008, W003)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.exceptions import ImproperlyConfigured

from prismiq_django.catalog.introspect import system_schemas
from prismiq_django.catalog.protected import site_patterns_error
from prismiq_django.checks.exposure import exposed_protected
from prismiq_django.checks.messages import error
from prismiq_django.checks.session import session_settings_messages
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
            yield error(
                f"PRISMIQ[{key!r}] must be a positive integer.",
                f"Default: {DEFAULTS[key]!r}.",
                "E002",
            )
    for key in _NON_NEGATIVE_INTS:
        if key in conf and not (_is_int(conf[key]) and conf[key] >= 0):
            yield error(
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
            yield error(
                f"PRISMIQ[{key!r}] must be a positive number of seconds, at most"
                f" {_MAX_QUERY_TIMEOUT} (about 24 days).",
                f"Default: {DEFAULTS[key]:g}.",
                "E002",
            )
    if not isinstance(conf.get("EXPORT_CSV_ESCAPE_FORMULAS", True), bool):
        yield error(
            "PRISMIQ['EXPORT_CSV_ESCAPE_FORMULAS'] must be True or False.",
            "Default: True (text cells starting with = + - @ get a leading ').",
            "E002",
        )
    for key in ("DATABASE", "CACHE_ALIAS"):
        if key in conf and not isinstance(conf[key], str):
            yield error(
                f"PRISMIQ[{key!r}] must be a string alias.", f"Default: {DEFAULTS[key]!r}.", "E002"
            )
    schema = conf.get("DB_SCHEMA")
    if schema is not None and not (
        isinstance(schema, str)
        or (isinstance(schema, list | tuple) and all(isinstance(s, str) for s in schema))
    ):
        yield error(
            "PRISMIQ['DB_SCHEMA'] must be None, a schema name or a list of names.",
            "Example: 'public' or ['public', 'sales'].",
            "E002",
        )
    elif system := system_schemas(schema):
        yield error(
            f"PRISMIQ['DB_SCHEMA'] names PostgreSQL's own schemas {system!r}, which are never "
            "introspected (they hold role password hashes and other sessions' queries).",
            "Remove them; list the schemas that hold the site's tables.",
            "E002",
        )
    exposed = conf.get("EXPOSED_TABLES")
    if exposed is not None and not (
        isinstance(exposed, list | tuple) and all(isinstance(t, str) for t in exposed)
    ):
        yield error(
            "PRISMIQ['EXPOSED_TABLES'] must be None or a list of table names.",
            "Example: ['shop_order', 'shop_customer'].",
            "E002",
        )
    if "PROTECTED_TABLES" in conf:
        protected_error = site_patterns_error(conf["PROTECTED_TABLES"])
        if protected_error is not None:
            yield error(
                protected_error,
                "Example: ['billing_card', 'vault_*'] (a trailing '*' protects a prefix).",
                "E002",
            )
    yield from _raw_sql_and_assistant_errors(conf)
    for key in ("RATE_LIMIT", "EXPORT_RATE_LIMIT", "ASK_RATE_LIMIT"):
        rate = conf.get(key, DEFAULTS[key])
        if rate is not None and not _valid_rate(rate):
            yield error(
                f"PRISMIQ[{key!r}] must be None or a rate such as {DEFAULTS[key]!r}.",
                "Format: '<count>/<s|m|h|d>', e.g. '120/m' or '10/s'.",
                "E002",
            )
    ancestors = conf.get("EMBED_FRAME_ANCESTORS", DEFAULTS["EMBED_FRAME_ANCESTORS"])
    if not isinstance(ancestors, list | tuple) or not all(map(is_csp_source, ancestors)):
        yield error(
            "PRISMIQ['EMBED_FRAME_ANCESTORS'] must be a list of CSP source expressions.",
            "Example: [\"'self'\", 'https://app.example.com'] ([] for 'none').",
            "E002",
        )
    for key in _CLASS_LISTS:
        if key in conf and not isinstance(conf[key], list | tuple):
            yield error(
                f"PRISMIQ[{key!r}] must be a list of dotted paths or classes.",
                "Example: ['rest_framework.permissions.IsAuthenticated'].",
                "E002",
            )


def _raw_sql_and_assistant_errors(conf: dict[str, Any]) -> Iterable[CheckMessage]:
    forbidden = conf.get("SQL_FORBIDDEN_FUNCTIONS")
    if forbidden is not None and not (
        isinstance(forbidden, list | tuple) and all(isinstance(f, str) and f for f in forbidden)
    ):
        yield error(
            "PRISMIQ['SQL_FORBIDDEN_FUNCTIONS'] must be None or a list of function names.",
            "None keeps the built-in list; names may end in '*' (e.g. ['pg_sleep*']).",
            "E002",
        )
    assistant = conf.get("ASSISTANT", {})
    if not isinstance(assistant, dict):
        yield error(
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
        yield error(
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
            yield error(str(exc), "Check the dotted path and that its module imports.", "E005")


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
                yield error(str(exc), "Check the dotted path and that its module imports.", "E005")


@register(Tags.compatibility)
def check_settings(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """Validate ``settings.PRISMIQ``: known keys, types, aliases and importable dotted paths."""
    try:
        conf = user_settings()
    except ImproperlyConfigured as exc:
        return [error(str(exc), "See the README's settings table.", "E001")]
    errors: list[CheckMessage] = [
        *_type_errors(conf),
        *_import_errors(conf),
        *session_settings_messages(conf),
    ]
    database = conf.get("DATABASE", DEFAULTS["DATABASE"])
    if isinstance(database, str) and database not in settings.DATABASES:
        errors.append(
            error(
                f"PRISMIQ['DATABASE'] = {database!r} is not in settings.DATABASES.",
                f"Configured aliases: {', '.join(settings.DATABASES)}.",
                "E003",
            )
        )
    cache_alias = conf.get("CACHE_ALIAS", DEFAULTS["CACHE_ALIAS"])
    if isinstance(cache_alias, str) and cache_alias not in settings.CACHES:
        errors.append(
            error(
                f"PRISMIQ['CACHE_ALIAS'] = {cache_alias!r} is not in settings.CACHES.",
                f"Configured aliases: {', '.join(settings.CACHES)}.",
                "E004",
            )
        )
    exposed = conf.get("EXPOSED_TABLES")
    if isinstance(exposed, list | tuple):
        errors += exposed_protected(exposed)
    return errors


__all__ = ["check_settings", "is_csp_source"]
