"""PostgreSQL's JSON path gives the values the Python path gives, type by type.

Both paths run the same compiled statement on the same rows: the JSON path wraps it so that
PostgreSQL encodes every row (``query.jsonrows``), the Python path loads and converts values in
Python (``values``). Values are compared after parsing the wire JSON; datetimes as instants (the
JSON path writes fractional seconds with the digits they need, ``.5``, the Python path always six).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test import override_settings

from prismiq_django import services
from prismiq_django.execution import QueryResult
from prismiq_django.services import queries as query_services
from tests.support.glue import exposed_table
from tests.support.jsonpaths import both_paths, instant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLE = "jr_values"
COLUMNS = [
    "id",
    "small",
    "big",
    "num",
    "num_scaled",
    "dbl",
    "rl",
    "txt",
    "vc",
    "ch",
    "flag",
    "uid",
    "day",
    "ts_tz",
    "ts",
    "doc",
    "docb",
]
CREATE = f"""
CREATE TABLE {TABLE} (
    id integer PRIMARY KEY,
    small smallint,
    big bigint,
    num numeric,
    num_scaled numeric(12, 2),
    dbl double precision,
    rl real,
    txt text,
    vc varchar(40),
    ch char(5),
    flag boolean,
    uid uuid,
    day date,
    ts_tz timestamp with time zone,
    ts timestamp,
    doc json,
    docb jsonb
)
"""
ROWS = [
    "(1, 32767, 9223372036854775807, 1.50, 10.50, 0.1, 0.1, 'plain', 'v', 'a', true,"
    " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', '2024-01-02 03:04:05.5+00',"
    " '2024-01-02 03:04:05', '{\"a\" : [1, 2.50]}', '{\"b\": {\"c\": null}}')",
    "(2, -32768, -9223372036854775808, 'NaN', -0.01, 'NaN', 'Infinity',"
    " E'quote\" back\\\\ tab\\t nl\\n ctl\\x01 \u2028 é 😀', '', 'ab', false,"
    " '00000000-0000-0000-0000-000000000000', '0001-01-01', '1969-12-31 23:59:59.000001-03:30',"
    " '9999-12-31 23:59:59.999999', '[]', '\"just text\"')",
    "(3, 0, 0, 'Infinity', 0, '-Infinity', -0.0, 'x', 'y', '', NULL, NULL, NULL,"
    " '2024-07-01 23:59:59.123+02', '2024-07-01 00:00:00.1', 'null', '1e3')",
    "(4, NULL, NULL, '-Infinity', NULL, 1e300, 3.4e38, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL)",
    "(5, 1, 2, 12345678901234567890123.456, 1234567890.12, 1e-300, 1e-38, 'z', 'z', 'z', true,"
    " 'ffffffff-ffff-ffff-ffff-ffffffffffff', '2000-01-01', '2000-01-01 00:00:00+00',"
    " '2000-01-01 00:00:00', '{}', '[1, \"two\", 3.0]')",
]


@pytest.fixture
def table() -> Iterator[None]:
    with exposed_table(TABLE, CREATE, ", ".join(ROWS), cached=True):
        yield


def _both(definition: dict[str, Any]) -> tuple[QueryResult, QueryResult]:
    by_db, by_python = both_paths(definition)
    assert not by_db.rows_parsed  # built by PostgreSQL, never parsed so far
    return by_db, by_python


def _comparable(result: QueryResult) -> list[list[Any]]:
    return [[instant(v) for v in row] for row in orjson.loads(result.rows_json)]


def _refs(*names: str) -> list[dict[str, str]]:
    return [{"table_id": "t", "column": name} for name in names]


def test_every_eligible_type_matches_the_python_path(table: None) -> None:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": _refs(*COLUMNS),
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }
    by_db, by_python = _both(definition)
    assert _comparable(by_db) == _comparable(by_python)
    assert by_db.columns == by_python.columns == COLUMNS
    assert by_db.column_types == by_python.column_types
    assert by_db.row_count == by_python.row_count == 5
    rows = by_db.rows
    # NaN and ±Infinity, numeric and float
    assert [rows[1][3], rows[2][3], rows[3][3], rows[1][5], rows[2][5], rows[1][6]] == [None] * 6
    assert rows[1][7] == 'quote" back\\ tab\t nl\n ctl\x01 \u2028 é 😀'
    assert rows[0][9] == "a    "  # char(n) keeps its padding, as psycopg returns it
    assert rows[0][15] == {"a": [1, 2.5]}
    assert rows[1][16] == "just text"
    assert rows[0][13] == "2024-01-02T03:04:05.5+00:00"


def test_aggregates_buckets_and_counts_match(table: None) -> None:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {"table_id": "t", "column": "ts_tz", "date_trunc": "month", "alias": "month"},
            {"table_id": "t", "column": "day", "date_trunc": "year", "alias": "year"},
            {"table_id": "t", "column": "*", "aggregation": "count", "alias": "n"},
            {"table_id": "t", "column": "big", "aggregation": "sum", "alias": "big_sum"},
            {"table_id": "t", "column": "small", "aggregation": "avg", "alias": "small_avg"},
            {"table_id": "t", "column": "num", "aggregation": "max", "alias": "num_max"},
            {"table_id": "t", "column": "dbl", "aggregation": "min", "alias": "dbl_min"},
            {"table_id": "t", "column": "txt", "aggregation": "count_distinct", "alias": "k"},
        ],
        "order_by": [{"table_id": "t", "column": "ts_tz", "direction": "DESC"}],
    }
    by_db, by_python = _both(definition)
    assert _comparable(by_db) == _comparable(by_python)
    assert by_db.row_count == by_python.row_count


def test_order_limit_and_truncation_are_kept(table: None) -> None:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": _refs("id", "txt"),
        "order_by": [{"table_id": "t", "column": "id", "direction": "DESC"}],
        "limit": 3,
    }
    by_db, by_python = _both(definition)
    assert by_db.rows == by_python.rows == [[5, "z"], [4, None], [3, "x"]]
    assert by_db.truncated is by_python.truncated is True

    empty = {
        **definition,
        "filters": [{"table_id": "t", "column": "id", "operator": "gt", "value": 99}],
    }
    by_db, by_python = _both(empty)
    assert by_db.rows == by_python.rows == []
    assert by_db.rows_json == b"[]"
    assert by_db.truncated is False


def test_the_services_answer_through_the_json_path(table: None) -> None:
    definition = {"tables": [{"id": "t", "name": TABLE}], "columns": _refs("id", "num")}
    result = services.execute(None, definition)
    assert not result.rows_parsed
    assert sorted(map(tuple, result.rows))[0] == (1, 1.5)


def test_ineligible_types_keep_the_python_path(table: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN span interval DEFAULT '1 day'")
    services.invalidate_catalog()
    definition = {"tables": [{"id": "t", "name": TABLE}], "columns": _refs("id", "span")}
    _, query, compiled = query_services.prepare(None, definition)
    assert query_services.json_rows_statement("default", query, compiled) is None
    result = services.execute(None, definition)
    assert result.rows[0][1] == 86400.0


@override_settings(USE_TZ=False)
def test_no_json_path_without_utc_sessions(table: None) -> None:
    definition = {"tables": [{"id": "t", "name": TABLE}], "columns": _refs("id")}
    _, query, compiled = query_services.prepare(None, definition)
    assert query_services.json_rows_statement("default", query, compiled) is None


def test_no_json_path_when_the_session_zone_is_not_utc(table: None) -> None:
    from tests.backends.postgresql.test_loaders import _reconnect

    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": _refs("id", "ts_tz"),
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }
    _reconnect("Asia/Kolkata")
    try:
        _, query, compiled = query_services.prepare(None, definition)
        assert query_services.json_rows_statement("default", query, compiled) is None
        result = services.execute(None, definition, bypass_cache=True)
    finally:
        _reconnect(None)
    assert result.rows[0] == [1, "2024-01-02T08:34:05.500000+05:30"]
