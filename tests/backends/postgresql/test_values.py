"""PostgreSQL times and intervals Python cannot represent: answered, never a 500.

``time '24:00:00'`` (and ``timetz '24:00:00+02'``) is valid in PostgreSQL but beyond Python's
``time``; an interval beyond 999,999,999 days is beyond ``timedelta``. psycopg refuses both while
loading. Neither type goes through the JSON path; the Python path runs the statement once more
with the tolerant loaders: times become ``"24:00:00"`` (a ``timetz`` with its offset, as other
``timetz`` values), intervals their seconds as ``extract(epoch from ...)`` counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.backends.postgresql.values import pg_interval_seconds
from prismiq_django.services import queries as query_services
from tests.support.glue import api_client, by_id, exposed_table, slow_refusal, sql_literal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLE = "pg_times"
CREATE = f"""
CREATE TABLE {TABLE} (
    id integer PRIMARY KEY,
    clock time,
    clocktz timetz,
    span interval,
    d date
)
"""
BIG = "178956970 years 7 mons 2147483647 days 2562047788:00:54.775807"  # interval's maximum
# (id, clock, clocktz, span) as PostgreSQL reads them.
DATA: list[tuple[int, str | None, str | None, str | None]] = [
    (1, "24:00:00", "24:00:00+02", "100000000 years"),
    (2, "10:00:00.5", "10:00+02", "1 year 2 mons 3 days 04:05:06.5"),
    (3, "23:59:59.999999", "24:00:00-05:30", "-100000000 years"),
    (4, None, None, None),
    (5, "00:00", "24:00:00+05:30:15", BIG),
    (6, "12:00", "12:00-03", "1000000000 days"),
    (7, "24:00", "00:00+00", "999999999 days"),
    (8, "01:02:03", "01:02:03.25-08", "-2 mons +3 days -04:05:06"),
    (9, "02:00", "02:00+01", "-5883516 years -6 mons -1 days +00:00:00.000001"),
]
EXPECTED: list[list[Any]] = [
    [1, "24:00:00", "24:00:00+02:00", 3155760000000000.0],
    # In timedelta's range psycopg counts a year as 365 days (extract(epoch): 37015506.5).
    [2, "10:00:00.500000", "10:00:00+02:00", 36993906.5],
    [3, "23:59:59.999999", "24:00:00-05:30", -3155760000000000.0],
    [4, None, None, None],
    [5, "00:00:00", "24:00:00+05:30:15", 5842218453753655.0],
    [6, "12:00:00", "12:00:00-03:00", 86400000000000.0],
    [7, "24:00:00", "00:00:00+00:00", 86399999913600.0],
    [8, "01:02:03", "01:02:03.250000-08:00", -4939506.0],
    [9, "02:00:00", "02:00:00+01:00", -185669660160000.0],
]
SPECIAL_SPANS = (1, 3, 5, 6, 9)  # beyond timedelta: extract(epoch from ...) exactly


@pytest.fixture
def table() -> Iterator[None]:
    rows = ", ".join(
        f"({key}, {sql_literal(clock)}, {sql_literal(tz)}, {sql_literal(span)}, "
        f"{sql_literal('infinity' if key == 1 else '2024-05-06')})"
        for key, clock, tz, span in DATA
    )
    with exposed_table(TABLE, CREATE, rows):
        yield


def _filter(column: str, operator: str, value: Any) -> dict[str, Any]:
    return {"table_id": "t", "column": column, "operator": operator, "value": value}


def _by_id(*names: str, **extra: Any) -> dict[str, Any]:
    return by_id(TABLE, *names, **extra)


def _statements(queries: CaptureQueriesContext) -> int:
    return sum(TABLE in q["sql"] for q in queries.captured_queries)


def test_every_value_is_answered(table: None) -> None:
    definition = _by_id("clock", "clocktz", "span")
    _, query, compiled = query_services.prepare(None, definition)
    assert (
        query_services.json_rows_statement("default", query, compiled) is None
    )  # Python path only
    result = services.execute(None, definition)
    assert result.rows == EXPECTED
    assert result.column_types == ["integer", "time", "time", "duration"]


@pytest.mark.parametrize(("name", "index"), [("clock", 1), ("clocktz", 2), ("span", 3)])
def test_each_type_alone(table: None, name: str, index: int) -> None:
    rows = services.execute(None, _by_id(name)).rows
    assert rows == [[row[0], row[index]] for row in EXPECTED]


def test_intervals_beyond_timedelta_are_postgresqls_epoch(table: None) -> None:
    rows = dict(services.execute(None, _by_id("span")).rows)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, extract(epoch FROM span)::text FROM {TABLE}")
        epochs = dict(cursor.fetchall())
    for key in SPECIAL_SPANS:
        assert rows[key] == float(Decimal(epochs[key]))


@pytest.mark.parametrize(
    "span",
    # psycopg's C loader adds the days up in a 32-bit integer: these wrap around into timedelta's
    # range (12,000,000 years would load as 85,032,704 days) instead of being refused.
    ["12000000 years", "-178000000 years -11 mons", "-178000000 years +1000000000 days"],
)
def test_intervals_psycopg_would_wrap_around_are_postgresqls_epoch(table: None, span: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET span = %s WHERE id = 2", [span])
        cursor.execute(f"SELECT extract(epoch FROM span)::text FROM {TABLE} WHERE id = 2")
        (epoch,) = cursor.fetchone()
    rows = dict(services.execute(None, _by_id("span")).rows)
    assert rows[2] == float(Decimal(epoch))
    assert [rows[key] for key in (7, 8)] == [EXPECTED[6][3], EXPECTED[7][3]]  # as before


def test_one_retry_covers_dates_times_and_intervals_together(table: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        result = services.execute(
            None, _by_id("d", "clock", "span", filters=[_filter("id", "eq", 1)])
        )
    assert result.rows == [[1, "infinity", "24:00:00", 3155760000000000.0]]
    assert _statements(queries) == 2  # refused, then tolerant


def test_results_without_such_values_are_loaded_once(table: None) -> None:
    definition = _by_id("clock", "clocktz", "span", filters=[_filter("id", "in", [2, 8])])
    with CaptureQueriesContext(connection) as queries:
        rows = services.execute(None, definition).rows
    assert rows == [EXPECTED[1], EXPECTED[7]]
    assert _statements(queries) == 1


@override_settings(USE_TZ=False)
def test_timetz_keeps_its_offset_without_use_tz(table: None) -> None:
    # Django's USE_TZ concerns timestamptz only: timetz values keep their offsets either way.
    rows = services.execute(None, _by_id("clocktz")).rows
    assert rows == [[row[0], row[2]] for row in EXPECTED]


def test_aggregates_answer_too(table: None) -> None:
    # (The query language has no min/max of durations.)
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {"table_id": "t", "column": "clock", "aggregation": "max", "alias": "latest"},
            {"table_id": "t", "column": "clocktz", "aggregation": "max", "alias": "latest_tz"},
        ],
    }
    result = services.execute(None, definition)
    # timetz compares by UTC time first: 24:00-05:30 is 05:30 the next day.
    assert result.rows == [["24:00:00", "24:00:00-05:30"]]


@pytest.fixture
def client(table: None) -> APIClient:
    return api_client("times")


def test_the_http_answer(client: APIClient) -> None:
    response = client.post(
        "/api/analytics/query/execute",
        {"query": _by_id("clock", "clocktz", "span")},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["rows"] == EXPECTED
    assert body["column_types"] == ["integer", "time", "time", "duration"]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (
            "clock",
            [
                "00:00:00",
                "01:02:03",
                "02:00:00",
                "10:00:00.500000",
                "12:00:00",
                "23:59:59.999999",
                "24:00:00",
            ],
        ),
        (
            "span",
            # PostgreSQL orders intervals by 30-day months and 24-hour days.
            [
                -3155760000000000.0,
                -185669660160000.0,
                -4939506.0,
                36993906.5,
                86399999913600.0,
                86400000000000.0,
                3155760000000000.0,
                5842218453753655.0,
            ],
        ),
    ],
)
def test_column_values(client: APIClient, column: str, expected: list[Any]) -> None:
    response = client.get(f"/api/analytics/tables/{TABLE}/columns/{column}/values")
    assert response.status_code == 200
    assert response.json()["values"] == expected


def test_column_values_of_timetz(client: APIClient) -> None:
    response = client.get(f"/api/analytics/tables/{TABLE}/columns/clocktz/values")
    assert response.status_code == 200
    values = response.json()["values"]
    assert sorted(values) == sorted(row[2] for row in EXPECTED if row[2] is not None)


def test_a_cache_hit_answers_the_same_json(table: None) -> None:
    definition = _by_id("clock", "clocktz", "span")
    with override_settings(PRISMIQ={"EXPOSED_TABLES": [TABLE], "RESULT_CACHE_TTL": 60}):
        services.invalidate_catalog()
        first = services.execute(None, definition)
        second = services.execute(None, definition)
    assert not first.is_from_cache
    assert second.is_from_cache
    assert second.rows_json == first.rows_json
    assert second.rows == EXPECTED


def test_the_savepoint_path_retries_too(table: None) -> None:
    from django.db import transaction

    with transaction.atomic():
        rows = services.execute(None, _by_id("clock", "clocktz", "span"), bypass_cache=True).rows
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    assert rows == EXPECTED


# --- the interval text against PostgreSQL's own extract(epoch) -------------------------------

_INT32 = st.integers(-(2**31), 2**31 - 1)
_MICROS = st.integers(-(2**63) + 1, 2**63 - 1)


def _interval_input(months: int, days: int, micros: int) -> str:
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 10**6)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{months} mons {days} days {sign}{hours}:{minute:02d}:{second:02d}.{fraction:06d}"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            _INT32 | st.integers(-30, 30),
            _INT32 | st.integers(-40, 40),
            _MICROS | st.integers(-(10**11), 10**11) | st.just(0),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_interval_text_is_read_as_postgresqls_epoch(values: list[tuple[int, int, int]]) -> None:
    texts = [_interval_input(*value) for value in values]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i::text, extract(epoch FROM i)::text FROM unnest(%s::text[]::interval[]) AS i",
            [texts],
        )
        answers = cursor.fetchall()
    for text, epoch in answers:
        assert pg_interval_seconds(text) == float(Decimal(epoch)), text


def test_an_unreadable_interval_text_is_null_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from prismiq_django.backends.postgresql.loaders import spelling as _spelling

    spell = _spelling("interval", naive=False)
    with caplog.at_level(logging.WARNING, logger="prismiq_django.execution"):
        assert spell("@ 100000000 years") is None  # IntervalStyle postgres_verbose
        assert spell("P100000000Y") is None  # iso_8601
        assert spell("100000000 years") == 3155760000000000.0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "100000000" not in warnings[0].getMessage()


def test_a_time_filter_of_24_00_is_refused_cleanly(client: APIClient) -> None:
    definition = _by_id("clock", filters=[_filter("clock", "gte", "24:00:00")])
    response = client.post("/api/analytics/query/execute", {"query": definition}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_value"
    late = _by_id("clock", filters=[_filter("clock", "gt", "23:59:59.999999")])
    response = client.post("/api/analytics/query/execute", {"query": late}, format="json")
    assert response.status_code == 200
    assert response.json()["rows"] == [[1, "24:00:00"], [7, "24:00:00"]]


def test_arrays_of_them_answer_too(table: None) -> None:
    # Array loaders load their elements with the cursor's loaders: the tolerant ones too.
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN clocks time[], ADD COLUMN spans interval[]")
        cursor.execute(
            f"UPDATE {TABLE} SET clocks = ARRAY[clock, '10:00'], spans = ARRAY[span, '1 day']"
            " WHERE id IN (1, 2)"
        )
    services.invalidate_catalog()
    result = services.execute(None, _by_id("clocks", "spans", filters=[_filter("id", "lt", 3)]))
    assert result.column_types == ["integer", "array", "array"]
    assert result.rows == [
        [1, ["24:00:00", "10:00:00"], [3155760000000000.0, 86400.0]],
        [2, ["10:00:00.500000", "10:00:00"], [36993906.5, 86400.0]],
    ]


def test_a_rerun_with_no_time_left_is_a_504(
    client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The re-run with tolerant loaders shares the first run's QUERY_TIMEOUT: when loading the
    # first run's rows used it up, the answer is the timeout's, not a second full timeout.
    slow_refusal(monkeypatch, 0.6)
    prismiq = {"EXPOSED_TABLES": [TABLE], "RESULT_CACHE_TTL": 0, "RATE_LIMIT": None}
    with override_settings(PRISMIQ={**prismiq, "QUERY_TIMEOUT": 0.5}):
        response = client.post(
            "/api/analytics/query/execute", {"query": _by_id("clock", "span")}, format="json"
        )
    assert response.status_code == 504
    assert response.json()["code"] == "query_timeout"
