"""PostgreSQL's rails: read-only transaction, statement timeout, the pinned session settings
(``TimeZone`` included) and the site's ``PG_SESSION_SETTINGS``
(:mod:`prismiq_django.backends.postgresql.session`) in one statement, all ``SET LOCAL``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.base import Deadline
from prismiq_django.backends.postgresql.session import (
    PIN_SQL,
    current_session_settings,
    session_settings_sql,
    time_zone_sql,
)


@contextmanager
def postgres_rails(
    connection: BaseDatabaseWrapper, cursor: Any, deadline: Deadline
) -> Iterator[None]:
    timeout_ms = max(1, math.ceil(deadline.seconds * 1000))
    zone_sql, zone_params = time_zone_sql(connection)
    site_sql, site_params = session_settings_sql(current_session_settings())
    cursor.execute(
        "SELECT set_config('transaction_read_only', 'on', true), "
        f"set_config('statement_timeout', %s, true), {PIN_SQL}{zone_sql}{site_sql}",
        [str(timeout_ms), *zone_params, *site_params],
    )
    yield


__all__ = ["postgres_rails"]
