"""PostgreSQL: the per-cursor fast loaders give exactly what Django's own loaders give."""

from __future__ import annotations

import pytest
from django.db import connection, connections

from prismiq_django.execution import execute_compiled
from prismiq_django.execution.values import json_safe
from tests.support.glue import Stmt

SQL = """
SELECT ts, ts::date AS d, u, ARRAY[ts] AS tss, ARRAY[u] AS us
FROM (VALUES
    (TIMESTAMPTZ '2024-01-02 03:04:05+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid),
    (TIMESTAMPTZ '2024-07-01 23:59:59.5+02', '00000000-0000-0000-0000-000000000000'::uuid),
    (TIMESTAMPTZ '0001-01-02 00:00:00+00', NULL),
    (TIMESTAMPTZ '9999-12-30 23:59:59.999999+00', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'::uuid),
    (TIMESTAMPTZ '1969-12-31 23:59:59.000001-03:30', NULL),
    (NULL, NULL)
) AS v(ts, u)
"""
COLUMNS = ("ts", "d", "u", "tss", "us")
FIRST = {
    "UTC": "2024-01-02T03:04:05+00:00",
    "Asia/Kolkata": "2024-01-02T08:34:05+05:30",
    "America/St_Johns": "2024-01-01T23:34:05-03:30",
}


def _through_django() -> list[list[object]]:
    with connection.cursor() as cursor:  # Django's adapters: its Python timestamptz loader
        cursor.execute(SQL)
        return [[json_safe(value) for value in row] for row in cursor.fetchall()]


def _reconnect(zone: str | None) -> None:
    wrapper = connections["default"]  # not the proxy: its cached properties are reset below
    wrapper.close()
    wrapper.settings_dict["TIME_ZONE"] = zone
    for cached in ("timezone", "timezone_name"):
        wrapper.__dict__.pop(cached, None)
    with wrapper.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        assert cursor.fetchone()[0] == (zone or "UTC")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # reconnects: no wrapping test transaction
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_fast_loaders_match_djangos_loaders_in_every_session_zone(zone: str) -> None:
    # Django sets the session TimeZone from DATABASES["default"]["TIME_ZONE"] on connect.
    _reconnect(None if zone == "UTC" else zone)
    try:
        connection.ensure_connection()
        expected = _through_django()
        result = execute_compiled(Stmt(SQL, columns=COLUMNS), alias="default", timeout=5)
    finally:
        _reconnect(None)
    assert result.rows == expected
    assert result.rows[0][0] == FIRST[zone]
    assert result.rows[0][2] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert result.rows[3][2] == "ffffffff-ffff-ffff-ffff-ffffffffffff"
    assert result.column_types[:3] == ["datetime", "date", "uuid"]
