"""Django system checks (``prismiq_django.E0xx`` / ``W0xx``), registered from ``AppConfig.ready``
(importing this package registers every check of its modules).

- ``settings`` (``check_settings``): E001 ``settings.PRISMIQ`` is not a dict or has unknown keys;
  E002 a setting has the wrong type or range; E003 ``PRISMIQ["DATABASE"]`` is not a configured
  database alias; E004 ``PRISMIQ["CACHE_ALIAS"]`` is not a configured cache alias; E005 a
  dotted path (``*_CLASSES``, ``*_CALLBACK``) cannot be imported.
- ``exposure``: E006 ``PRISMIQ["EXPOSED_TABLES"]`` names a table that may never be exposed
  (part of ``check_settings``); E007 an ``ExposedTable`` row marks a protected table as exposed
  (``check_exposed_rows``, a database check).
- ``session`` (part of ``check_settings``): E008 ``PRISMIQ["PG_SESSION_SETTINGS"]`` is not
  ``{"<prefix>.<name>": "tenant", ...}``; W003 ``PG_SESSION_SETTINGS`` sets nothing (no
  ``TENANT_CALLBACK``, or not PostgreSQL).
- ``deployment`` (``check_deployment``): W001 rate-limit counters (``RATELIMIT_USE_CACHE``) live
  in another cache than ``CACHE_ALIAS``; W002 ``RequestIdMiddleware`` is not installed (no
  request log lines, ids or request metrics); W004 the analytics alias is PostgreSQL with
  ``CONN_MAX_AGE = 0`` and no ``OPTIONS["pool"]`` (a new connection per request).
- ``prismiq_django.backends.mysql.zones`` (``check_zone_tables``, a database check registered by
  ``AppConfig.ready``): E009 MySQL/MariaDB cannot convert times to the site's named
  ``TIME_ZONE`` (no zone tables: NULL buckets); W005 the site is in UTC but the server converts
  no named zone.
"""

from __future__ import annotations

from prismiq_django.checks.deployment import REQUEST_ID_MIDDLEWARE, check_deployment
from prismiq_django.checks.exposure import check_exposed_rows
from prismiq_django.checks.session import SESSION_SETTING_SOURCES
from prismiq_django.checks.settings import check_settings, is_csp_source

__all__ = [
    "REQUEST_ID_MIDDLEWARE",
    "SESSION_SETTING_SOURCES",
    "check_deployment",
    "check_exposed_rows",
    "check_settings",
    "is_csp_source",
]
