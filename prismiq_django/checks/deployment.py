"""``check_deployment``: parts of the operations setup that fail quietly when left out
(W001, W002, W004)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from prismiq_django.checks.messages import analytics_database, is_postgresql
from prismiq_django.conf import DEFAULTS, user_settings

REQUEST_ID_MIDDLEWARE = "prismiq_django.middleware.RequestIdMiddleware"


@register(Tags.compatibility)
def check_deployment(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """W001/W002/W004: parts of the operations setup that fail quietly when left out."""
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
    warnings.extend(_connection_reuse(conf))
    return warnings


def _connection_reuse(conf: dict[str, object]) -> list[CheckMessage]:
    """W004: the analytics alias is PostgreSQL and every request opens a new connection
    (``CONN_MAX_AGE = 0``, Django's default, and no ``OPTIONS["pool"]``)."""
    found = analytics_database(conf)
    if found is None:
        return []
    alias, database = found
    options = database.get("OPTIONS") or {}
    pooled = isinstance(options, dict) and bool(options.get("pool"))
    if not is_postgresql(database) or pooled or database.get("CONN_MAX_AGE", 0) != 0:
        return []
    return [
        Warning(
            f"The analytics database {alias!r} is PostgreSQL with CONN_MAX_AGE = 0 and no "
            "connection pool: every request opens a new connection.",
            hint="Set DATABASES[...]['CONN_MAX_AGE'] (e.g. 600, with CONN_HEALTH_CHECKS) or "
            "OPTIONS = {'pool': True} (Django 5.1+, psycopg[pool]); see docs/deployment.md.",
            id="prismiq_django.W004",
        )
    ]


__all__ = ["REQUEST_ID_MIDDLEWARE", "check_deployment"]
