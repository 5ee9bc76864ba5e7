"""The only reader of ``settings.PRISMIQ``.

Settings are read lazily on every access, so ``override_settings(PRISMIQ=...)`` works in tests
without any reload step. Unknown keys are refused with :class:`ImproperlyConfigured` so that a typo
never silently falls back to a default.

Usage::

    from prismiq_django.conf import prismiq_settings

    prismiq_settings.MAX_ROWS            # typed value, default applied
    prismiq_settings.PERMISSION_CLASSES  # list of classes, dotted paths resolved
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

#: Every setting, with its default. The README documents each one; keep them in sync.
DEFAULTS: Final[Mapping[str, Any]] = {
    # Connection alias the analytics queries run on (may be a replica or a read-only role).
    "DATABASE": "default",
    # Database schema(s) introspected on PostgreSQL: a name, a list of names, or None for "public".
    "DB_SCHEMA": None,
    # Code-only exposure: list of table names. When set (not None) it wins over the admin models.
    "EXPOSED_TABLES": None,
    # The site's own never-exposable tables, on top of prismiq_django.catalog.protected's: bare
    # table
    # names (no schema), and prefixes ending in "*" (e.g. ["billing_card", "vault_*"]).
    "PROTECTED_TABLES": (),
    # DRF permission classes for every endpoint except the health probes and metrics.
    "PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF permission classes for the metrics endpoint (IsStaffUser: is_staff must be True, not
    # merely truthy as DRF's IsAdminUser takes a token's claim).
    "METRICS_PERMISSION_CLASSES": ["prismiq_django.api.permissions.IsStaffUser"],
    # Row cap: a missing limit means MAX_ROWS; a larger one is capped.
    "MAX_ROWS": 10_000,
    # Database-side statement timeout, in seconds.
    "QUERY_TIMEOUT": 30.0,
    # Complexity limits of one query definition.
    "MAX_TABLES": 20,
    "MAX_COLUMNS": 100,
    "MAX_FILTERS": 200,
    "MAX_DEPTH": 8,
    # Largest list accepted as the value of in_/not_in/in_or_null.
    "MAX_LIST_VALUES": 1_000,
    # Django cache alias for result and schema caches and rate-limit counters.
    "CACHE_ALIAS": "default",
    # Result cache time to live, in seconds (0 disables the result cache).
    "RESULT_CACHE_TTL": 300,
    # Schema (catalog) cache time to live, in seconds (0 disables the schema cache).
    "SCHEMA_CACHE_TTL": 3600,
    # django-ratelimit rate for the query endpoints, per user (per IP when anonymous); None = off.
    "RATE_LIMIT": "120/m",
    # Pagination (query/execute, saved-queries/{id}/execute): the largest page_size; above it
    # a request is refused (400), not capped.
    "MAX_PAGE_SIZE": 5_000,
    # Exports (query/export, saved-queries/{id}/export): row cap (the definition's own limit
    # if smaller; MAX_ROWS does not apply), database-side timeout in seconds, their own
    # django-ratelimit rate (None = off), and whether CSV text cells starting with = + - @ get
    # a leading ' (spreadsheet formula injection).
    "EXPORT_MAX_ROWS": 1_000_000,
    "EXPORT_TIMEOUT": 300.0,
    "EXPORT_RATE_LIMIT": "10/m",
    "EXPORT_CSV_ESCAPE_FORMULAS": True,
    # Dotted path to ``callable(request) -> value | None``: the tenant value for tables that have
    # a tenant column. A table with a tenant column and no tenant value is refused (fail closed).
    "TENANT_CALLBACK": None,
    # PostgreSQL: custom settings set in the read-only transaction before every statement, for
    # the site's own row-level-security policies: {"app.tenant_id": "tenant"} sets app.tenant_id
    # to the caller's tenant value (TENANT_CALLBACK; a list as "a,b", none as ""), bound with
    # set_config(name, value, true). "tenant" is the only source.
    "PG_SESSION_SETTINGS": {},
    # CSP source expressions that may frame the browser UI's embed page (frame-ancestors);
    # [] means 'none'. Used only by the optional prismiq_django.ui pages.
    "EMBED_FRAME_ANCESTORS": ["'self'"],
    # DRF permission classes of dashboard administrators: they read and edit every dashboard of
    # their tenant, not only their own and the public ones.
    "DASHBOARD_ADMIN_PERMISSION_CLASSES": ["prismiq_django.api.permissions.IsStaffUser"],
    # Most statements one dashboards/{id}/execute request runs at a time (each on its own
    # connection; sequential on SQLite).
    "DASHBOARD_CONCURRENCY": 4,
    # Raw SQL (sql/validate, sql/execute): DRF permission classes checked after
    # PERMISSION_CLASSES (default: staff users), and the function names refused anywhere in a
    # statement (names or prefixes ending in "*"; the default is the checker's built-in list of
    # file, network, sleep, configuration and large-object functions).
    "SQL_PERMISSION_CLASSES": ["prismiq_django.api.permissions.IsStaffUser"],
    "SQL_FORBIDDEN_FUNCTIONS": None,
    # Questions (ask): {"BACKEND": None | "offline" | "openai_compatible" | dotted path of a
    # class, "BASE_URL", "MODEL", "API_KEY" (openai_compatible; each defaults to the
    # environment's PRISMIQ_ASSISTANT_*), "TIMEOUT" (seconds), "JSON_SCHEMA" (constrained
    # output), "SAMPLE_VALUES" (show the backend a few values of exposed text columns)}.
    # No BACKEND: ask answers 404.
    "ASSISTANT": {},
    # django-ratelimit rate of ask, per user (its own counter); None = off.
    "ASK_RATE_LIMIT": "10/m",
    # Longest life of a dashboard embed token, in seconds (the expires_in a token may ask for;
    # a token older than this is refused whatever it names). Default one day.
    "EMBED_TOKEN_MAX_AGE": 86_400,
}

_CLASS_LIST_SETTINGS: Final = frozenset(
    {
        "PERMISSION_CLASSES",
        "METRICS_PERMISSION_CLASSES",
        "DASHBOARD_ADMIN_PERMISSION_CLASSES",
        "SQL_PERMISSION_CLASSES",
    }
)
_CALLBACK_SETTINGS: Final = frozenset({"TENANT_CALLBACK"})


def user_settings() -> dict[str, Any]:
    """Return the site's ``PRISMIQ`` dict (empty when unset).

    Raises :class:`ImproperlyConfigured` if it is not a dict or names an unknown key.
    """
    raw = getattr(settings, "PRISMIQ", None)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured("settings.PRISMIQ must be a dict.")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) in settings.PRISMIQ: {', '.join(map(str, unknown))}. "
            f"Valid keys: {', '.join(sorted(DEFAULTS))}."
        )
    return dict(raw)


def import_from_setting(name: str, dotted: object) -> Any:
    """Import ``dotted`` (a dotted path or an object) for the setting ``name``.

    Raises :class:`ImproperlyConfigured` naming the setting when the import fails.
    """
    if not isinstance(dotted, str):
        return dotted
    try:
        return import_string(dotted)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"Could not import {dotted!r} for setting PRISMIQ[{name!r}]: {exc}"
        ) from exc


# Resolved values, valid while ``settings.PRISMIQ`` is the same object (the hot path reads
# settings ~20 times per request). override_settings replaces the object and sends
# ``setting_changed``; either empties the memo. Errors are never memoised.
_memo: dict[str, Any] = {}
_memo_owner: list[object] = [None]
T = TypeVar("T")


def _current() -> bool:
    """Whether the memo is that of the current ``settings.PRISMIQ`` object (emptied and taken
    over by it when not)."""
    raw = getattr(settings, "PRISMIQ", None)
    if raw is _memo_owner[0]:
        return True
    _memo.clear()
    _memo_owner[0] = raw
    return False


def forget_settings(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver (connected in ``AppConfig.ready()``): drop the memo."""
    if setting == "PRISMIQ":
        _memo.clear()


class PrismiqSettings:
    """Attribute access to the ``PRISMIQ`` settings with defaults applied.

    Values are resolved once per ``settings.PRISMIQ`` object (replacing it, or override_settings,
    takes effect at once); mutating that dict in place at run time is not supported.
    """

    def __getattr__(self, name: str) -> Any:
        return self.value(name)

    def derived(self, name: str, make: Callable[[], T]) -> T:
        """``make()``, a value built from ``PRISMIQ`` settings alone, remembered as the settings
        are: once per ``settings.PRISMIQ`` object (``name`` tells the values apart)."""
        key = f"derived:{name}"  # no setting name holds a colon
        if _current() and key in _memo:
            return _memo[key]  # type: ignore[no-any-return]
        value = make()
        _memo[key] = value
        return value

    def value(self, name: str) -> Any:
        """The resolved value of setting ``name`` (untyped: prefer the typed properties below)."""
        if _current() and name in _memo:
            value = _memo[name]
            return list(value) if name in _CLASS_LIST_SETTINGS else value
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid prismiq_django setting: {name!r}")
        value = user_settings().get(name, DEFAULTS[name])
        if name in _CLASS_LIST_SETTINGS:
            value = [import_from_setting(name, item) for item in value]
            _memo[name] = value
            return list(value)
        if name in _CALLBACK_SETTINGS and value is not None:
            value = import_from_setting(name, value)
        _memo[name] = value
        return value

    # --- typed accessors: every reader gets the type it needs, no cast at the call site ---------

    @property
    def DATABASE(self) -> str:
        return str(self.value("DATABASE"))

    @property
    def DB_SCHEMA(self) -> str | Sequence[str] | None:
        value: str | Sequence[str] | None = self.value("DB_SCHEMA")
        return value

    @property
    def EXPOSED_TABLES(self) -> Sequence[str] | None:
        value: Sequence[str] | None = self.value("EXPOSED_TABLES")
        return value

    @property
    def PROTECTED_TABLES(self) -> object:
        """As the site wrote it (checked by :mod:`prismiq_django.catalog.protected`)."""
        value: object = self.value("PROTECTED_TABLES")
        return value

    @property
    def PERMISSION_CLASSES(self) -> list[type]:
        classes: list[type] = self.value("PERMISSION_CLASSES")
        return classes

    @property
    def METRICS_PERMISSION_CLASSES(self) -> list[type]:
        classes: list[type] = self.value("METRICS_PERMISSION_CLASSES")
        return classes

    @property
    def MAX_ROWS(self) -> int:
        return int(self.value("MAX_ROWS"))

    @property
    def MAX_TABLES(self) -> int:
        return int(self.value("MAX_TABLES"))

    @property
    def MAX_COLUMNS(self) -> int:
        return int(self.value("MAX_COLUMNS"))

    @property
    def MAX_FILTERS(self) -> int:
        return int(self.value("MAX_FILTERS"))

    @property
    def MAX_DEPTH(self) -> int:
        return int(self.value("MAX_DEPTH"))

    @property
    def MAX_LIST_VALUES(self) -> int:
        return int(self.value("MAX_LIST_VALUES"))

    @property
    def QUERY_TIMEOUT(self) -> float:
        return float(self.value("QUERY_TIMEOUT"))

    @property
    def CACHE_ALIAS(self) -> str:
        return str(self.value("CACHE_ALIAS"))

    @property
    def RESULT_CACHE_TTL(self) -> int:
        """Seconds; 0 (or None) disables the result cache."""
        return int(self.value("RESULT_CACHE_TTL") or 0)

    @property
    def SCHEMA_CACHE_TTL(self) -> int:
        """Seconds; 0 (or None) disables the schema cache."""
        return int(self.value("SCHEMA_CACHE_TTL") or 0)

    @property
    def RATE_LIMIT(self) -> str | None:
        value = self.value("RATE_LIMIT")
        return None if value is None else str(value)

    @property
    def MAX_PAGE_SIZE(self) -> int:
        return int(self.value("MAX_PAGE_SIZE"))

    @property
    def EXPORT_MAX_ROWS(self) -> int:
        return int(self.value("EXPORT_MAX_ROWS"))

    @property
    def EXPORT_TIMEOUT(self) -> float:
        return float(self.value("EXPORT_TIMEOUT"))

    @property
    def EXPORT_RATE_LIMIT(self) -> str | None:
        value = self.value("EXPORT_RATE_LIMIT")
        return None if value is None else str(value)

    @property
    def EXPORT_CSV_ESCAPE_FORMULAS(self) -> bool:
        return bool(self.value("EXPORT_CSV_ESCAPE_FORMULAS"))

    @property
    def TENANT_CALLBACK(self) -> Callable[[Any], object] | None:
        callback: Callable[[Any], object] | None = self.value("TENANT_CALLBACK")
        return callback

    @property
    def SQL_PERMISSION_CLASSES(self) -> list[type]:
        classes: list[type] = self.value("SQL_PERMISSION_CLASSES")
        return classes

    @property
    def SQL_FORBIDDEN_FUNCTIONS(self) -> Sequence[str] | None:
        """The site's list, or None for the checker's built-in one."""
        value: Sequence[str] | None = self.value("SQL_FORBIDDEN_FUNCTIONS")
        return value

    @property
    def ASSISTANT(self) -> Mapping[str, Any]:
        value: Mapping[str, Any] | None = self.value("ASSISTANT")
        return value or {}

    @property
    def ASK_RATE_LIMIT(self) -> str | None:
        value = self.value("ASK_RATE_LIMIT")
        return None if value is None else str(value)

    @property
    def EMBED_TOKEN_MAX_AGE(self) -> int:
        return int(self.value("EMBED_TOKEN_MAX_AGE"))

    @property
    def PG_SESSION_SETTINGS(self) -> tuple[tuple[str, str], ...]:
        """``(setting name, source)`` pairs, sorted by name (check E008 validates them)."""
        value = self.value("PG_SESSION_SETTINGS") or {}
        if not isinstance(value, Mapping):
            return ()
        return tuple(sorted((str(k), str(v)) for k, v in value.items()))

    @property
    def tenant_callback(self) -> Callable[[Any], object] | None:
        """The resolved ``TENANT_CALLBACK`` or None."""
        return self.TENANT_CALLBACK


prismiq_settings = PrismiqSettings()

__all__ = [
    "DEFAULTS",
    "PrismiqSettings",
    "import_from_setting",
    "prismiq_settings",
    "user_settings",
]
