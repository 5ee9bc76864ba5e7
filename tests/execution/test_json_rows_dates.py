"""PostgreSQL dates and timestamps Python cannot represent, on both result paths.

``infinity``, ``-infinity``, BC values and years after 9999 fit PostgreSQL's ``date``,
``timestamp`` and ``timestamptz`` but not Python's ``date``/``datetime``: psycopg refuses to load
them. Both paths must answer (never a 500) with the same documented JSON: ``"infinity"`` /
``"-infinity"``, and ISO 8601 with an expanded astronomical year otherwise (44 BC is
``-000043``, 1 BC ``0000``, year 10000 ``+010000``), ``column_types`` unchanged. Filters,
``date_trunc`` buckets, column values and the result cache see the same values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.services import queries as query_services
from tests.support.glue import api_client, by_id, exposed_table, sql_literal
from tests.support.jsonpaths import both_paths, wire_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLE = "jr_dates"
CREATE = f"""
CREATE TABLE {TABLE} (
    id integer PRIMARY KEY,
    d date,
    ts timestamp,
    tz timestamptz,
    clock time
)
"""
# (id, d, ts, tz) as PostgreSQL reads them, and the JSON both paths must answer.
DATA: list[tuple[int, str | None, str | None, str | None]] = [
    (1, "infinity", "infinity", "infinity"),
    (2, "-infinity", "-infinity", "-infinity"),
    (3, "0044-03-15 BC", "0044-03-15 12:00:00.5 BC", "0044-03-15 12:00:00.25+00 BC"),
    (4, "0001-12-31 BC", "0001-12-31 23:59:59 BC", "0001-12-31 23:00:00+00 BC"),
    (5, "10000-01-01", "10000-01-01 01:02:03", "10000-01-01 00:00:00+00"),
    (6, "2024-05-06", "2024-05-06 07:08:09", "2024-05-06 07:08:09+00"),
    (7, None, None, None),
    (8, "5874897-12-31", "294276-12-31 23:59:59.999999", "4713-01-01 00:00:00+00 BC"),
    # Ordinary values in a row that has special ones (PostgreSQL's second row builder).
    (9, "2024-05-06", "-infinity", "9999-12-31 23:59:59+00"),
    (10, "0001-01-01", "9999-12-31 23:59:59.999999", "0001-01-01 00:00:00+00"),
]
EXPECTED: list[list[Any]] = [
    [1, "infinity", "infinity", "infinity"],
    [2, "-infinity", "-infinity", "-infinity"],
    [3, "-000043-03-15", "-000043-03-15T12:00:00.5", "-000043-03-15T12:00:00.25+00:00"],
    [4, "0000-12-31", "0000-12-31T23:59:59", "0000-12-31T23:00:00+00:00"],
    [5, "+010000-01-01", "+010000-01-01T01:02:03", "+010000-01-01T00:00:00+00:00"],
    [6, "2024-05-06", "2024-05-06T07:08:09", "2024-05-06T07:08:09+00:00"],
    [7, None, None, None],
    [8, "+5874897-12-31", "+294276-12-31T23:59:59.999999", "-004712-01-01T00:00:00+00:00"],
    [9, "2024-05-06", "-infinity", "9999-12-31T23:59:59+00:00"],
    [10, "0001-01-01", "9999-12-31T23:59:59.999999", "0001-01-01T00:00:00+00:00"],
]


@pytest.fixture
def table() -> Iterator[None]:
    rows = ", ".join(
        f"({key}, {sql_literal(d)}, {sql_literal(ts)}, {sql_literal(tz)}, '10:00')"
        for key, d, ts, tz in DATA
    )
    with exposed_table(TABLE, CREATE, rows):
        yield


def _by_id(*names: str, **extra: Any) -> dict[str, Any]:
    return by_id(TABLE, *names, **extra)


def _same_on_both_paths(definition: dict[str, Any]) -> list[list[Any]]:
    by_db, by_python = both_paths(definition)
    assert not by_db.rows_parsed  # built by PostgreSQL
    assert wire_rows(by_db) == wire_rows(by_python)
    assert by_db.column_types == by_python.column_types
    return wire_rows(by_db)


def test_every_special_value_is_the_same_json_on_both_paths(table: None) -> None:
    rows = _same_on_both_paths(_by_id("d", "ts", "tz"))
    assert rows == EXPECTED
    by_db, _ = both_paths(_by_id("d", "ts", "tz"))
    assert by_db.column_types == ["integer", "date", "datetime", "datetime"]


@pytest.mark.parametrize("name", ["d", "ts", "tz"])
def test_each_type_alone(table: None, name: str) -> None:
    index = ["d", "ts", "tz"].index(name) + 1
    assert _same_on_both_paths(_by_id(name)) == [[row[0], row[index]] for row in EXPECTED]


def test_the_python_path_of_the_services_answers_the_same(table: None) -> None:
    # A time column keeps the whole statement on the Python path.
    definition = _by_id("d", "ts", "tz", "clock")
    _, query, compiled = query_services.prepare(None, definition)
    assert query_services.json_rows_statement("default", query, compiled) is None
    result = services.execute(None, definition)
    assert result.column_types == ["integer", "date", "datetime", "datetime", "time"]
    assert [row[:4] for row in result.rows] == EXPECTED
    assert {row[4] for row in result.rows} == {"10:00:00"}


def test_results_without_special_values_are_loaded_once(table: None) -> None:
    definition = _by_id("d", "ts", "tz", "clock", filters=[_filter("id", "eq", 6)])
    with CaptureQueriesContext(connection) as queries:
        result = services.execute(None, definition)
    assert result.rows == [
        [6, "2024-05-06", "2024-05-06T07:08:09", "2024-05-06T07:08:09+00:00", "10:00:00"]
    ]
    assert sum(TABLE in q["sql"] for q in queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        services.execute(None, _by_id("d", "clock", filters=[_filter("id", "eq", 1)]))
    assert sum(TABLE in q["sql"] for q in queries.captured_queries) == 2  # refused, then tolerant


@override_settings(USE_TZ=False)
def test_without_use_tz_timestamptz_values_are_naive_as_djangos(table: None) -> None:
    definition = _by_id("d", "ts", "tz")
    _, query, compiled = query_services.prepare(None, definition)
    assert query_services.json_rows_statement("default", query, compiled) is None
    rows = services.execute(None, definition).rows
    assert [row[:3] for row in rows] == [row[:3] for row in EXPECTED]
    assert [row[3] for row in rows] == [
        None if value is None else value.removesuffix("+00:00")
        for value in (row[3] for row in EXPECTED)
    ]


def test_a_session_zone_other_than_utc_keeps_its_offsets(table: None) -> None:
    from tests.backends.postgresql.test_loaders import _reconnect

    definition = _by_id("tz", filters=[_filter("id", "in", [3, 5, 6])])
    _reconnect("Asia/Kolkata")
    try:
        rows = services.execute(None, definition, bypass_cache=True).rows
    finally:
        _reconnect(None)
    # Before 1854 Kolkata kept local mean time: PostgreSQL's offset has seconds (+05:53:28).
    assert rows == [
        [3, "-000043-03-15T17:53:28.25+05:53:28"],
        [5, "+010000-01-01T05:30:00+05:30"],
        [6, "2024-05-06T12:38:09+05:30"],
    ]


def _filter(column: str, operator: str, value: Any) -> dict[str, Any]:
    return {"table_id": "t", "column": column, "operator": operator, "value": value}


def test_filters_compare_ordinary_bounds_with_special_values(table: None) -> None:
    after = _same_on_both_paths(
        _by_id("d", "ts", "tz", filters=[_filter("d", "gte", "9999-01-01")])
    )
    assert [row[0] for row in after] == [1, 5, 8]
    before = _same_on_both_paths(
        _by_id("tz", filters=[_filter("tz", "lt", "0001-01-01T00:00:00+00:00")])
    )
    assert before == [
        [2, "-infinity"],
        [3, EXPECTED[2][3]],
        [4, EXPECTED[3][3]],
        [8, EXPECTED[7][3]],
    ]


@pytest.fixture
def client(table: None) -> APIClient:
    return api_client("dates")


@pytest.mark.parametrize(
    "value", ["infinity", "-infinity", "-000043-03-15", "+010000-01-01", "0000-01-01", "44 BC"]
)
@pytest.mark.parametrize("column", ["d", "ts", "tz"])
def test_filter_values_python_cannot_hold_are_refused_cleanly(
    client: APIClient, column: str, value: str
) -> None:
    definition = _by_id(column, filters=[_filter(column, "gte", value)])
    response = client.post("/api/analytics/query/execute", {"query": definition}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["code"] == "invalid_value"
    assert "SELECT" not in response.content.decode()


@pytest.mark.parametrize(
    ("column", "unit", "expected"),
    [
        (
            "d",
            "month",
            [
                "-infinity",
                "-000043-03-01",
                "0000-12-01",
                "0001-01-01",
                "2024-05-01",
                "+010000-01-01",
                "+5874897-12-01",
                "infinity",
                None,
            ],
        ),
        (
            "ts",
            "year",
            [
                "-infinity",
                "-000043-01-01T00:00:00",
                "0000-01-01T00:00:00",
                "2024-01-01T00:00:00",
                "9999-01-01T00:00:00",
                "+010000-01-01T00:00:00",
                "+294276-01-01T00:00:00",
                "infinity",
                None,
            ],
        ),
        (
            "tz",
            "day",
            [  # a timestamptz's buckets carry the (UTC) site zone's offset: issue 15 item 13
                "-infinity",
                "-004712-01-01T00:00:00+00:00",
                "-000043-03-15T00:00:00+00:00",
                "0000-12-31T00:00:00+00:00",
                "0001-01-01T00:00:00+00:00",
                "2024-05-06T00:00:00+00:00",
                "9999-12-31T00:00:00+00:00",
                "+010000-01-01T00:00:00+00:00",
                "infinity",
                None,
            ],
        ),
    ],
)
def test_date_trunc_buckets_match(table: None, column: str, unit: str, expected: list[Any]) -> None:
    ref = {"table_id": "t", "column": column, "date_trunc": unit}
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {**ref, "alias": "bucket"},
            {"table_id": "t", "column": "id", "aggregation": "count", "alias": "n"},
        ],
        "group_by": [ref],
        "order_by": [{**ref, "direction": "ASC"}],
    }
    rows = _same_on_both_paths(definition)
    assert [row[0] for row in rows] == expected


@pytest.mark.parametrize(("column", "index"), [("d", 1), ("ts", 2), ("tz", 3)])
def test_column_values_list_special_values_in_order(
    client: APIClient, column: str, index: int
) -> None:
    response = client.get(f"/api/analytics/tables/{TABLE}/columns/{column}/values")
    assert response.status_code == 200
    values = response.json()["values"]
    assert set(values) == {row[index] for row in EXPECTED if row[index] is not None}
    assert values[0] == "-infinity"
    assert values[-1] == "infinity"
    assert len(values) == len(set(values))


@pytest.mark.parametrize("extra", [(), ("clock",)], ids=["json-path", "python-path"])
def test_a_cache_hit_answers_the_same_json(table: None, extra: tuple[str, ...]) -> None:
    definition = _by_id("d", "ts", "tz", *extra)
    with override_settings(PRISMIQ={"EXPOSED_TABLES": [TABLE], "RESULT_CACHE_TTL": 60}):
        services.invalidate_catalog()
        first = services.execute(None, definition)
        second = services.execute(None, definition)
    assert not first.is_from_cache
    assert second.is_from_cache
    assert second.rows_json == first.rows_json
    assert [row[:4] for row in second.rows] == EXPECTED


def test_the_http_answer_carries_the_same_strings(client: APIClient) -> None:
    for extra in ((), ("clock",)):
        response = client.post(
            "/api/analytics/query/execute",
            {"query": _by_id("d", "ts", "tz", *extra)},
            format="json",
        )
        assert response.status_code == 200
        body = response.json()
        assert [row[:4] for row in body["rows"]] == EXPECTED
        assert body["column_types"][:4] == ["integer", "date", "datetime", "datetime"]


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("day", "+5874897-12-31"),
        ("week", "+5874897-12-30"),  # a Monday
        ("month", "+5874897-12-01"),
        ("quarter", "+5874897-10-01"),
        ("year", "+5874897-01-01"),
    ],
)
def test_dates_beyond_timestamps_are_truncated_too(table: None, unit: str, expected: str) -> None:
    # PostgreSQL truncates dates through timestamp, which ends in 294276 AD.
    ref = {"table_id": "t", "column": "d", "date_trunc": unit}
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [{**ref, "alias": "bucket"}],
        "filters": [_filter("id", "in", [1, 8])],
        "order_by": [{**ref, "direction": "ASC"}],
    }
    assert _same_on_both_paths(definition) == [[expected], ["infinity"]]


def test_both_paths_agree_across_the_whole_range(table: None) -> None:
    # About 300 instants from 4713 BC to 293000 AD (the series may not step past timestamp's
    # end), odd steps so that months, days and times vary.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(
            f"INSERT INTO {TABLE} (id, d, ts, tz) SELECT row_number() OVER (), v::date, v,"
            " v AT TIME ZONE 'UTC' FROM generate_series('4713-01-01 00:00:00 BC'::timestamp,"
            " '293000-01-01', interval '997 years 41 days 7 hours 3 minutes 5 seconds') AS v"
        )
    rows = _same_on_both_paths(_by_id("d", "ts", "tz"))
    assert len(rows) > 290
    years = [row[1][: row[1].index("-", 1)] for row in rows]
    assert years[0] == "-004712"
    assert any(y.startswith("+") for y in years)
    assert any(len(y) == 4 for y in years)


def test_time_series_buckets_match(table: None) -> None:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "time_series": {"table_id": "t", "date_column": "tz", "interval": "year", "alias": "y"},
        "columns": [{"table_id": "t", "column": "id", "aggregation": "count", "alias": "n"}],
    }
    rows = _same_on_both_paths(definition)
    assert [row[0] for row in rows] == [
        "-infinity",
        "-004712-01-01T00:00:00+00:00",
        "-000043-01-01T00:00:00+00:00",
        "0000-01-01T00:00:00+00:00",
        "0001-01-01T00:00:00+00:00",
        "2024-01-01T00:00:00+00:00",
        "9999-01-01T00:00:00+00:00",
        "+010000-01-01T00:00:00+00:00",
        "infinity",
        None,
    ]


def test_the_savepoint_path_retries_too_and_leaves_the_transaction_usable(table: None) -> None:
    # Inside a transaction the statement runs under a savepoint (not as one message).
    from django.db import transaction

    with transaction.atomic():
        rows = services.execute(None, _by_id("d", "ts", "tz", "clock"), bypass_cache=True).rows
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    assert [row[:4] for row in rows] == EXPECTED


# The earliest value of date, timestamp and timestamptz: 4714-11-24 BC (Julian day 0, a Monday).
EARLIEST = ("4714-11-24 BC", "4714-11-24 00:00:00 BC", "4714-11-24 00:00:00+00 BC")
LATE_4714_BC = ("4714-12-02 BC", "4714-12-02 05:00:00 BC", "4714-12-02 05:00:00+00 BC")


@pytest.mark.parametrize("column", ["d", "ts", "tz"])
@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        # The month, quarter and year of 4714 BC begin before PostgreSQL's earliest value: such a
        # bucket is labelled with that earliest value (still one bucket per unit, in order).
        ("month", ["-004713-11-24", "-004713-12-01"]),
        ("quarter", ["-004713-11-24", "-004713-11-24"]),
        ("year", ["-004713-11-24", "-004713-11-24"]),
        ("week", ["-004713-11-24", "-004713-12-01"]),
        ("day", ["-004713-11-24", "-004713-12-02"]),
    ],
)
def test_buckets_of_the_earliest_values_are_not_an_error(
    table: None, column: str, unit: str, expected: list[str]
) -> None:
    # date_trunc of 4714-11-24 BC to its month would be 4714-11-01 BC, which no timestamp holds.
    index = ["d", "ts", "tz"].index(column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {column} = %s WHERE id = 6", [EARLIEST[index]])
        cursor.execute(f"UPDATE {TABLE} SET {column} = %s WHERE id = 9", [LATE_4714_BC[index]])
    ref = {"table_id": "t", "column": column, "date_trunc": unit}
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [{**ref, "alias": "bucket"}],
        "filters": [_filter("id", "in", [2, 6, 9])],
        "order_by": [{**ref, "direction": "ASC"}, {"table_id": "t", "column": "id"}],
    }
    rows = _same_on_both_paths(definition)
    suffix = {"d": "", "ts": "T00:00:00", "tz": "T00:00:00+00:00"}[column]  # tz: the site's offset
    assert [row[0] for row in rows] == ["-infinity", *(value + suffix for value in expected)]
