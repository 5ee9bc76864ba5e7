"""PostgreSQL: answers do not depend on the session's ``TimeZone``.

Django sets ``TimeZone`` when it opens a connection (UTC under ``USE_TZ``) and never again: a
persistent or pooled connection whose session changed it (``SET TimeZone ...`` by the site's own
code, ``ALTER ROLE ... SET TimeZone`` picked up by a reset) keeps the change. PostgreSQL writes
``timestamptz`` values in the session's zone (to_json for the JSON path, the text of the CSV
export's ``COPY``), psycopg attaches the zone the session reports, and casts between
``timestamptz``, ``timestamp`` and ``date`` follow it. The rails pin ``TimeZone`` to the zone
Django set on the connection with ``set_config('TimeZone', <zone>, true)`` (transaction-local):
the answers below are the same whatever the session's zone, on every path, and the session keeps
its own zone afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from tests.support.glue import api_client, exposed_table
from tests.support.jsonpaths import both_paths, wire_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLE = "pg_time_zone"
CREATE = f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, tz timestamptz, naive timestamp)"
ROWS = """
(1, '2024-05-06 07:08:09.25+00', '2024-05-06 07:08:09.25'),
(2, '2023-12-31 23:30:00+00', '2023-12-31 23:30:00'),
(3, '2024-03-31 00:30:00+00', '2024-03-31 00:30:00'),
(4, NULL, NULL),
(5, now() - interval '2 days', NULL)
"""
#: A zone far from UTC and not on the hour.
ODD_ZONE = "Asia/Kathmandu"

PLAIN = {
    "tables": [{"id": "t", "name": TABLE}],
    "columns": [{"table_id": "t", "column": c} for c in ("id", "tz", "naive")],
    "filters": [
        # Casts of the bound values against timestamptz follow the session's zone.
        {"table_id": "t", "column": "tz", "operator": "gte", "value": "2023-12-31T23:00:00"},
        {"table_id": "t", "column": "naive", "operator": "lt", "value": "2024-06-01"},
    ],
    "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
}
BUCKETS = {
    "tables": [{"id": "t", "name": TABLE}],
    "columns": [
        {"table_id": "t", "column": "tz", "date_trunc": "day", "alias": "day"},
        {"table_id": "t", "column": "id", "aggregation": "count", "alias": "n"},
    ],
    "group_by": [{"table_id": "t", "column": "tz", "date_trunc": "day"}],
    "order_by": [{"table_id": "t", "column": "tz", "date_trunc": "day", "direction": "ASC"}],
}
RELATIVE = {
    "tables": [{"id": "t", "name": TABLE}],
    "columns": [{"table_id": "t", "column": "id"}],
    "filters": [
        {
            "table_id": "t",
            "column": "tz",
            "operator": "date_relative",
            "value": {"preset": "last_30_days"},
        }
    ],
}
DEFINITIONS = {"plain": PLAIN, "buckets": BUCKETS, "relative": RELATIVE}


@pytest.fixture
def table() -> Iterator[None]:
    with exposed_table(TABLE, CREATE, ROWS):
        yield


@pytest.fixture
def session_zone() -> Iterator[Any]:
    """``set(zone)`` changes the session's ``TimeZone`` of the test connection as a site's own
    code would (``SET``, outside any transaction); Django's zone is restored afterwards."""
    expected = connection.timezone_name

    def set_zone(zone: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('TimeZone', %s, false)", [zone])

    try:
        yield set_zone
    finally:
        set_zone(expected)


def _session_zone() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        zone: str = cursor.fetchone()[0]
    return zone


def _answers(client: Any) -> dict[str, Any]:
    """Every answer of the definitions: both result paths, the API and the CSV export."""
    found: dict[str, Any] = {}
    for name, definition in DEFINITIONS.items():
        by_db, by_python = both_paths(definition, expect_json=name != "buckets")
        found[f"{name} json"] = wire_rows(by_db)
        found[f"{name} python"] = wire_rows(by_python)
        response = client.post(
            "/api/analytics/query/execute",
            {"query": definition, "bypass_cache": True},
            format="json",
        )
        assert response.status_code == 200, response.content
        found[f"{name} api"] = response.json()["rows"]
        export = client.post(
            "/api/analytics/query/export", {"query": definition, "format": "csv"}, format="json"
        )
        assert export.status_code == 200
        found[f"{name} csv"] = b"".join(export.streaming_content).decode()
    return found


@pytest.mark.parametrize("site_zone", ["UTC", "Europe/Paris"])
def test_answers_do_not_depend_on_the_sessions_time_zone(
    table: None, session_zone: Any, site_zone: str
) -> None:
    client = api_client("zoned")
    with override_settings(TIME_ZONE=site_zone):
        assert _session_zone() == connection.timezone_name == "UTC"
        expected = _answers(client)
        session_zone(ODD_ZONE)
        assert _answers(client) == expected
        # The session keeps its own zone: the pin was transaction-local. (Leaving
        # override_settings(TIME_ZONE=...) makes Django set its zone again.)
        assert _session_zone() == ODD_ZONE
    first = [1, "2024-05-06T07:08:09.25+00:00", "2024-05-06T07:08:09.25"]
    assert expected["plain api"][0] == first
    assert expected["relative api"] == [[5]]
    assert "1,2024-05-06T07:08:09.25+00:00,2024-05-06T07:08:09.25" in expected["plain csv"]
