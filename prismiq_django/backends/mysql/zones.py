"""System checks of MySQL's and MariaDB's time zone tables (E009, W005).

Time buckets in a named zone use ``CONVERT_TZ(x, 'UTC', <zone>)``, which answers NULL for a zone
the server's ``mysql.time_zone*`` tables do not hold (empty on a fresh server: load them with
``mariadb-tzinfo-to-sql`` / ``mysql_tzinfo_to_sql``). One query, on the analytics database, with
the database checks (``manage.py check --database <alias>``, and ``migrate``):

- E009 (error): the site's ``TIME_ZONE`` is a named zone the server cannot convert: every time
  bucket of a datetime column would be NULL.
- W005 (warning): the site is in UTC (so its buckets need no table) but the server converts no
  named zone: a zone activated per request (``django.utils.timezone.activate``) would get NULL
  buckets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.db import DatabaseError, connections

from prismiq_django.conf import prismiq_settings

#: A zone every tz database has, asked when the site is in UTC (W005).
PROBE_ZONE: Final = "Europe/Paris"
_HINT: Final = (
    "Load the server's time zone tables: mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql "
    "(MySQL: mysql_tzinfo_to_sql); see docs/operations.md."
)


def _converts(alias: str, zone: str) -> bool | None:
    """Whether the server converts UTC to ``zone`` (None when it cannot be asked)."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', %s)", [zone])
            row = cursor.fetchone()
    except DatabaseError:
        return None  # an unreachable database is not this check's finding
    return row is not None and row[0] is not None


def zone_table_messages(alias: str) -> list[CheckMessage]:
    """E009 / W005 for the MySQL/MariaDB database ``alias`` (see the module docstring)."""
    if connections[alias].vendor != "mysql" or not settings.USE_TZ:
        return []
    site = str(settings.TIME_ZONE or "UTC")
    if site != "UTC":
        if _converts(alias, site) is False:
            return [
                Error(
                    f"The analytics database ({alias!r}) cannot convert times to TIME_ZONE "
                    f"{site!r}: every time bucket of a datetime column would be NULL.",
                    hint=_HINT,
                    id="prismiq_django.E009",
                )
            ]
        return []
    if _converts(alias, PROBE_ZONE) is False:
        return [
            Warning(
                f"The analytics database ({alias!r}) has no time zone tables: buckets in a zone "
                "activated per request (timezone.activate) would be NULL.",
                hint=_HINT,
                id="prismiq_django.W005",
            )
        ]
    return []


def check_zone_tables(
    app_configs: object = None, databases: Sequence[str] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """The registered database check (``Tags.database``): E009 / W005 for ``DATABASE``, when
    Django checks that alias."""
    alias = str(prismiq_settings.DATABASE)
    if not databases or alias not in databases or alias not in connections:
        return []
    return zone_table_messages(alias)


__all__ = ["PROBE_ZONE", "check_zone_tables", "zone_table_messages"]
