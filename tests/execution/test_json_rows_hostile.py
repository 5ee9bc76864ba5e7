"""The JSON path against the Python path on hostile values and on ordering of many rows.

Values PostgreSQL can hold but a double cannot (numeric ``1e1000``), JSON documents with numbers
out of a double's range or duplicate keys, control characters, padded ``char(n)``, ``"char"``,
domains and modified type spellings (``timestamp(3) with time zone``): the wire JSON of both
paths must be the same values, and ``QueryResult.rows`` must be able to read the JSON path's text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test import override_settings

from prismiq_django import services
from prismiq_django.services import queries as query_services
from tests.support.glue import by_id
from tests.support.jsonpaths import both_paths, comparable, wire_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLE = "jr_hostile"
CREATE = f"""
CREATE DOMAIN jr_hostile_int AS integer CHECK (VALUE > -1000);
CREATE TABLE {TABLE} (
    id integer PRIMARY KEY,
    num numeric,
    dbl double precision,
    txt text,
    vc character varying(30),
    ch char(4),
    one "char",
    dom jr_hostile_int,
    ts3 timestamp(3) with time zone,
    doc json,
    docb jsonb
)
"""
ROWS = [
    "(1, 1e1000, -0.0, E'\\x7f \\u0085 \\u2028 \\u2029 \\x1f \\b\\f', 'a', 'ab', 'x', 5,"
    " '2024-01-02 03:04:05.123+00', '{\"k\": 1, \"k\": 2}', '{\"k\": 1e1000}')",
    "(2, -1e1000, 1e308, '</script>', '', '', 'y', -5, '0001-01-01 00:00:00+00',"
    " '[1e1000, -1e1000, 123456789012345678901234567890]', '123456789012345678901234567890')",
    "(3, 1e-1000, -1e308, '\\\\u0000', ' ', ' z', ' ', 0, '2024-01-02 03:04:05.1+05:45',"
    " E'  {\"a\" :\\n [ ]}  ', '{\"a\": -0.0}')",
    "(4, 1.7976931348623157e308, 5e-324, '\"', NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(5, 179769313486231580793728971405303415079934132710037826936173778980444968292764750946"
    "649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383"
    "676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365"
    "510704342711559699508093042880177904174497792, -5e-324, '', 'z', 'zz', 'z', 1,"
    " '9999-12-31 23:59:59.999+00', '{}', '{}')",
]


@pytest.fixture
def table() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}; DROP DOMAIN IF EXISTS jr_hostile_int")
        cursor.execute(CREATE)
        cursor.execute(f"INSERT INTO {TABLE} VALUES {', '.join(ROWS)}")
    services.invalidate_catalog()
    with override_settings(PRISMIQ={"EXPOSED_TABLES": [TABLE]}):
        yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}; DROP DOMAIN IF EXISTS jr_hostile_int")


def _by_id(*names: str, **extra: Any) -> dict[str, Any]:
    return by_id(TABLE, *names, **extra)


def test_numerics_beyond_a_double_are_null_as_on_the_python_path(table: None) -> None:
    by_db, by_python = both_paths(_by_id("num", "dbl"))
    assert wire_rows(by_db) == wire_rows(by_python)
    assert [row[1] for row in by_db.rows] == [None, None, 0.0, 1.7976931348623157e308, None]
    aggregates = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {"table_id": "t", "column": "num", "aggregation": agg, "alias": f"num_{agg}"}
            for agg in ("max", "min", "sum", "avg")
        ],
    }
    by_db, by_python = both_paths(aggregates)
    assert wire_rows(by_db) == wire_rows(by_python)
    assert by_db.rows[0][:2] == [None, None]


def test_text_like_columns_match(table: None) -> None:
    by_db, by_python = both_paths(_by_id("txt", "vc", "ch", "one", "ts3"))
    assert comparable(by_db) == comparable(by_python)
    rows = by_db.rows
    assert rows[0][1] == "\x7f \x85 \u2028 \u2029 \x1f \b\f"
    assert rows[2][3] == " z  "  # char(4) keeps its padding
    assert rows[2][4] == " "
    assert rows[0][5] == "2024-01-02T03:04:05.123+00:00"


def test_domains_keep_the_python_path(table: None) -> None:
    _, query, compiled = query_services.prepare(None, _by_id("dom"))
    assert query_services.json_rows_statement("default", query, compiled) is None
    assert services.execute(None, _by_id("dom")).rows == [
        [1, 5],
        [2, -5],
        [3, 0],
        [4, None],
        [5, 1],
    ]


def test_json_documents_with_numbers_beyond_a_double_can_be_read_back(table: None) -> None:
    """PostgreSQL writes json documents as stored, jsonb numbers with all their digits: valid
    JSON that orjson refuses. ``rows`` must still read it (the column-values endpoint does)."""
    by_db, by_python = both_paths(_by_id("doc", "docb"))
    rows = by_db.rows
    python_rows = wire_rows(by_python)
    assert rows[0][1] == python_rows[0][1] == {"k": 2}  # duplicate keys: the last one wins
    assert rows[0][2] == {"k": 10**1000}
    assert rows[1][1] == [math.inf, -math.inf, 123456789012345678901234567890]
    assert rows[1][2] == 123456789012345678901234567890
    assert rows[2:] == python_rows[2:]
    # The Python path keeps documents orjson cannot read as their text.
    assert isinstance(python_rows[0][2], str)
    assert orjson.loads(python_rows[0][2].replace("1" + "0" * 1000, "1")) == {"k": 1}


MANY = "jr_many"


@pytest.fixture
def many() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MANY}")
        cursor.execute(
            f"CREATE TABLE {MANY} (id integer PRIMARY KEY, grp text, amount numeric(12, 2),"
            " score double precision, at timestamp with time zone, day date)"
        )
        cursor.execute(
            f"INSERT INTO {MANY} SELECT g,"
            " CASE WHEN g % 11 = 0 THEN NULL ELSE (ARRAY['b', 'B', 'a', 'é', 'e', 'Z', ' z'])"
            "[g % 7 + 1] || (g % 13) END,"
            " CASE WHEN g % 17 = 0 THEN NULL ELSE ((g * 7919) % 1000) / 7.0 END,"
            " CASE WHEN g % 19 = 0 THEN 'NaN' WHEN g % 23 = 0 THEN NULL ELSE sin(g) * 100 END,"
            " CASE WHEN g % 29 = 0 THEN NULL"
            " ELSE timestamptz '2023-12-31 22:00:00+00' + ((g * 104729) % 8760) * interval '1 hour'"
            " END,"
            " date '2020-02-28' + (g * 31) % 1500"
            " FROM generate_series(1, 20000) g"
        )
    services.invalidate_catalog()
    with override_settings(PRISMIQ={"EXPOSED_TABLES": [MANY]}):
        yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MANY}")


def _col(column: str, **extra: Any) -> dict[str, Any]:
    return {"table_id": "t", "column": column, **extra}


ORDERINGS: dict[str, dict[str, Any]] = {
    "column_asc_nulls_last": {
        "columns": [_col("id"), _col("amount"), _col("grp")],
        "order_by": [_col("amount", direction="ASC"), _col("id", direction="ASC")],
    },
    "column_desc_nulls_first": {
        "columns": [_col("id"), _col("score"), _col("at")],
        "order_by": [_col("score", direction="DESC"), _col("id", direction="DESC")],
    },
    "text_collation": {
        "columns": [_col("grp"), _col("id")],
        "order_by": [_col("grp", direction="ASC"), _col("id", direction="DESC")],
    },
    "aggregate_alias": {
        "columns": [
            _col("grp"),
            _col("amount", aggregation="sum", alias="total"),
            _col("score", aggregation="avg", alias="mean"),
            _col("*", aggregation="count", alias="n"),
        ],
        "order_by": [{"alias": "total", "direction": "DESC"}, {"alias": "grp", "direction": "ASC"}],
    },
    "date_trunc_buckets_desc": {
        "columns": [
            _col("at", date_trunc="week", alias="week"),
            _col("amount", aggregation="max", alias="top"),
            _col("*", aggregation="count", alias="n"),
        ],
        "order_by": [_col("at", direction="DESC")],
    },
    "date_trunc_of_dates": {
        "columns": [_col("day", date_trunc="month"), _col("*", aggregation="count", alias="n")],
        "order_by": [{"alias": "n", "direction": "DESC"}, _col("day", direction="ASC")],
    },
    "aggregate_order_not_selected": {
        "columns": [_col("grp"), _col("*", aggregation="count", alias="n")],
        "order_by": [_col("score", aggregation="max", direction="ASC"), _col("grp")],
    },
}


@pytest.mark.parametrize("name", list(ORDERINGS))
@pytest.mark.parametrize("limit", [None, 37])
@pytest.mark.parametrize("parallel", [False, True])
def test_row_order_is_the_python_paths(
    many: None, name: str, limit: int | None, parallel: bool
) -> None:
    """Same rows in the same order for every ``order_by`` form; ``parallel`` forces parallel
    plans (Gather Merge under the subquery) on this session."""
    definition: dict[str, Any] = {"tables": [{"id": "t", "name": MANY}], **ORDERINGS[name]}
    if limit is not None:
        definition["limit"] = limit
    if parallel:
        with connection.cursor() as cursor:
            cursor.execute(
                "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"
                " SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2"
            )
    try:
        by_db, by_python = both_paths(definition)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "RESET parallel_setup_cost; RESET parallel_tuple_cost;"
                " RESET min_parallel_table_scan_size; RESET max_parallel_workers_per_gather"
            )
    assert by_db.row_count == by_python.row_count > 1
    assert by_db.truncated is by_python.truncated
    assert comparable(by_db) == comparable(by_python)


@pytest.mark.parametrize("width", [100, 101, 150])
def test_wide_selects_beyond_a_functions_argument_limit(table: None, width: int) -> None:
    """PostgreSQL functions take at most 100 arguments (``json_build_array`` included): wider
    selects (``MAX_COLUMNS`` raised) keep the Python path instead of failing."""
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [{"table_id": "t", "column": "id", "alias": f"c{i}"} for i in range(width)],
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }
    prismiq = {"EXPOSED_TABLES": [TABLE], "MAX_COLUMNS": 200}
    with override_settings(PRISMIQ=prismiq):
        services.invalidate_catalog()
        result = services.execute(None, definition, bypass_cache=True)
        _, query, compiled = query_services.prepare(None, definition)
        assert (query_services.json_rows_statement("default", query, compiled) is None) is (
            width > 100
        )
    assert result.rows == [[i] * width for i in range(1, 6)]


def test_a_time_series_over_the_default_maximum_of_columns(table: None) -> None:
    """``MAX_COLUMNS`` (100 by default) counts ``columns``; the ``time_series`` bucket is one
    more output column: 101 values per row with the default settings."""
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "time_series": {"table_id": "t", "date_column": "ts3", "interval": "year"},
        "columns": [
            {"table_id": "t", "column": "id", "aggregation": "max", "alias": f"c{i}"}
            for i in range(100)
        ],
    }
    result = services.execute(None, definition, bypass_cache=True)
    assert len(result.columns) == 101
    assert result.row_count >= 3
    assert all(len(set(row[1:])) == 1 for row in result.rows)
    assert sorted(row[1] for row in result.rows) == [2, 3, 4, 5]  # 0001, 2024, NULL, 9999


def test_real_columns_and_their_aggregates(transactional_db: None) -> None:
    """``real`` values (and ``sum``/``min``/``max`` of them, which stay ``real``) are written with
    the digits a float4 needs on both paths; ``avg`` is double precision on both."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS jr_real")
        cursor.execute("CREATE TABLE jr_real (id integer PRIMARY KEY, g integer, r real)")
        cursor.execute(
            "INSERT INTO jr_real SELECT i, i % 3, (ARRAY[0.1, 0.2, 3.4e38, -0.0, 1e-45,"
            " 'NaN', 16777217, 0.3])[i % 8 + 1] FROM generate_series(1, 40) i"
        )
    services.invalidate_catalog()
    try:
        with override_settings(PRISMIQ={"EXPOSED_TABLES": ["jr_real"]}):
            table = [{"id": "t", "name": "jr_real"}]
            by_db, by_python = both_paths(
                {
                    "tables": table,
                    "columns": [{"table_id": "t", "column": name} for name in ("id", "r")],
                    "order_by": [{"table_id": "t", "column": "id"}],
                }
            )
            assert wire_rows(by_db) == wire_rows(by_python)
            aggregates = {
                "tables": table,
                "columns": [
                    {"table_id": "t", "column": "g"},
                    *(
                        {"table_id": "t", "column": "r", "aggregation": agg, "alias": agg}
                        for agg in ("sum", "min", "max", "avg")
                    ),
                ],
                "order_by": [{"table_id": "t", "column": "g"}],
            }
            by_db, by_python = both_paths(aggregates)
            assert wire_rows(by_db) == wire_rows(by_python)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS jr_real")
