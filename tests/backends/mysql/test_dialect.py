"""The MySQL dialect on the real MariaDB server: time buckets in the site's zone (named zones,
Monday weeks), pattern matching whatever the column's collation, PostgreSQL's NULL order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from prismiq_django.execution import execute_compiled
from prismiq_django.query import build
from prismiq_django.query.catalog import Catalog, Column, Table

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]

ALIAS = "default"
TABLE = "glue_mysql_dialect"


@pytest.fixture
def glue_table() -> Any:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id int PRIMARY KEY, at datetime(6), day date,"
            " ci varchar(40) COLLATE utf8mb4_general_ci, cs varchar(40) COLLATE utf8mb4_bin,"
            " n int) CHARACTER SET utf8mb4"
        )
        cursor.executemany(
            f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s, %s, %s)",
            [
                # 23:30 UTC on Sunday 31 March 2024 is 01:30 on Monday 1 April in Paris (CEST).
                (1, "2024-03-31 23:30:00", "2024-03-31", "Alice", "Alice", 3),
                (2, "2024-04-01 08:00:00", "2024-04-01", "ÉLAN 50%_off", "ÉLAN 50%_off", None),
                (3, "2024-01-01 00:30:00", "2024-01-07", "bob", "bob", 1),
            ],
        )
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _catalog() -> Catalog:
    columns = (
        Column("id", "int", "integer", False, True),
        Column("at", "datetime(6)", "datetime"),
        Column("day", "date", "date"),
        Column("ci", "varchar(40)", "string"),
        Column("cs", "varchar(40)", "string"),
        Column("n", "int", "integer"),
    )
    return Catalog.build([Table(TABLE, columns)], [])


def _run(definition: dict[str, Any], tz: Any = UTC) -> list[list[Any]]:
    """Rows of ``definition``; a time bucket is the first output column when there is one."""
    compiled = build(definition, _catalog(), "mysql", tz=tz)
    bucketed = "date_trunc" in definition["columns"][0]
    return execute_compiled(
        compiled, alias=ALIAS, timeout=5, wall_clock={0} if bucketed else ()
    ).rows


def _buckets(column: str, unit: str, tz: Any) -> list[Any]:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {"table_id": "t", "column": column, "date_trunc": unit, "alias": "b"},
            {"table_id": "t", "column": "id"},
        ],
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }
    return [row[0] for row in _run(definition, tz)]


def test_buckets_are_in_the_site_zone_with_monday_weeks(glue_table: str) -> None:
    """Labelled with the zone's offset at the bucket's start (issue 15 item 13): a DATETIME
    holds Django's UTC, an instant."""
    paris = ZoneInfo("Europe/Paris")
    assert _buckets("at", "day", paris) == [
        "2024-04-01T00:00:00+02:00",
        "2024-04-01T00:00:00+02:00",
        "2024-01-01T00:00:00+01:00",
    ]
    assert _buckets("at", "week", paris) == [
        "2024-04-01T00:00:00+02:00",  # Monday 1 April in Paris (still Sunday in UTC)
        "2024-04-01T00:00:00+02:00",
        "2024-01-01T00:00:00+01:00",
    ]
    assert _buckets("at", "week", UTC) == [
        "2024-03-25T00:00:00+00:00",
        "2024-04-01T00:00:00+00:00",
        "2024-01-01T00:00:00+00:00",
    ]
    assert _buckets("at", "hour", paris) == [
        "2024-04-01T01:00:00+02:00",
        "2024-04-01T10:00:00+02:00",
        "2024-01-01T01:00:00+01:00",
    ]
    kolkata = _buckets("at", "minute", ZoneInfo("Asia/Kolkata"))[0]
    assert kolkata == "2024-04-01T05:00:00+05:30"
    assert _buckets("at", "month", paris)[0] == "2024-04-01T00:00:00+02:00"
    assert _buckets("at", "quarter", paris)[0] == "2024-04-01T00:00:00+02:00"
    assert _buckets("at", "quarter", UTC)[0] == "2024-01-01T00:00:00+00:00"
    new_york = _buckets("at", "year", ZoneInfo("America/New_York"))[2]
    assert new_york == "2023-01-01T00:00:00-05:00"


def test_buckets_outside_convert_tz_range_are_labelled_utc(glue_table: str) -> None:
    """CONVERT_TZ leaves values outside the TIMESTAMP range (1970 to 2038) as they are: they
    are bucketed by their UTC wall-clock time, and labelled +00:00, the instant that is."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (id, at) VALUES (4, '1969-12-31 23:30:00'),"
            " (5, '2040-06-01 12:00:00'), (6, '1970-01-01 00:30:00')"
        )
    paris = ZoneInfo("Europe/Paris")
    assert _buckets("at", "hour", paris)[3:] == [
        "1969-12-31T23:00:00+00:00",
        "2040-06-01T12:00:00+00:00",
        "1970-01-01T01:00:00+01:00",
    ]


def test_date_buckets_stay_dates(glue_table: str) -> None:
    assert _buckets("day", "week", UTC) == ["2024-03-25", "2024-04-01", "2024-01-01"]
    assert _buckets("day", "month", UTC) == ["2024-03-01", "2024-04-01", "2024-01-01"]
    assert _buckets("day", "quarter", UTC) == ["2024-01-01", "2024-04-01", "2024-01-01"]
    assert _buckets("day", "year", UTC) == ["2024-01-01", "2024-01-01", "2024-01-01"]
    assert _buckets("day", "day", ZoneInfo("Europe/Paris"))[0] == "2024-03-31"


def _ids(column: str, operator: str, value: object) -> list[int]:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [{"table_id": "t", "column": "id"}],
        "filters": [{"table_id": "t", "column": column, "operator": operator, "value": value}],
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }
    return [row[0] for row in _run(definition)]


@pytest.mark.parametrize("column", ["ci", "cs"])
def test_matching_does_not_depend_on_the_collation(glue_table: str, column: str) -> None:
    assert _ids(column, "contains", "LIC") == [1]  # case-insensitive on a binary collation
    assert _ids(column, "ilike", "al%") == [1]
    assert _ids(column, "like", "al%") == []  # case-sensitive on a case-insensitive one
    assert _ids(column, "like", "Al%") == [1]
    assert _ids(column, "not_like", "Al%") == [2, 3]
    assert _ids(column, "contains", "50%_") == [2]  # % and _ literal
    assert _ids(column, "contains", "%") == [2]
    assert _ids(column, "ends_with", "_OFF") == [2]
    assert _ids(column, "like", "_LAN%") == [2]  # _ is one character (É is two bytes)
    assert _ids(column, "contains", "élan") == [2]
    assert _ids(column, "contains", "elan") == []  # accents count, as with ILIKE


@pytest.mark.parametrize("column", ["ci", "cs"])
def test_comparisons_are_by_code_point_whatever_the_collation(glue_table: str, column: str) -> None:
    assert _ids(column, "eq", "alice") == []  # not the *_ci collation's case folding
    assert _ids(column, "eq", "Alice") == [1]
    assert _ids(column, "eq", "Alice ") == []  # nor its PAD SPACE rule
    assert _ids(column, "eq", "élan 50%_off") == []
    assert _ids(column, "neq", "ALICE") == [1, 2, 3]
    assert _ids(column, "in", ["ALICE", "bob"]) == [3]
    assert _ids(column, "not_in", ["alice", "BOB"]) == [1, 2, 3]
    assert _ids(column, "in_or_null", ["Bob"]) == []
    assert _ids(column, "lt", "a") == [1]  # code points: 'A' < 'a' (not 'alice' > 'a')
    assert _ids(column, "between", ["B", "c"]) == [3]  # 'Alice' < 'B' < 'bob' < 'c' < 'É'


def test_nulls_sort_as_on_postgresql(glue_table: str) -> None:
    def order(direction: str) -> list[Any]:
        definition = {
            "tables": [{"id": "t", "name": TABLE}],
            "columns": [{"table_id": "t", "column": "n"}],
            "order_by": [{"table_id": "t", "column": "n", "direction": direction}],
        }
        return [row[0] for row in _run(definition)]

    assert order("ASC") == [1, 3, None]
    assert order("DESC") == [None, 3, 1]


def test_a_full_join_is_refused_with_its_path() -> None:
    from prismiq_django.query.errors import QueryValidationError

    definition = {
        "tables": [{"id": "a", "name": TABLE}, {"id": "b", "name": TABLE}],
        "joins": [
            {
                "from_table_id": "a",
                "from_column": "id",
                "to_table_id": "b",
                "to_column": "id",
                "join_type": "FULL",
            }
        ],
        "columns": [{"table_id": "a", "column": "id"}],
    }
    with pytest.raises(QueryValidationError) as info:
        build(definition, _catalog(), "mysql")
    assert [e.code for e in info.value.errors] == ["invalid_definition"]


def test_datetimes_come_back_in_utc(glue_table: str) -> None:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [{"table_id": "t", "column": "at"}, {"table_id": "t", "column": "day"}],
        "filters": [
            {
                "table_id": "t",
                "column": "at",
                "operator": "gte",
                "value": datetime(2024, 4, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")).isoformat(),
            }
        ],
    }
    compiled = build(definition, _catalog(), "mysql")
    result = execute_compiled(compiled, alias=ALIAS, timeout=5, column_types=["datetime", "date"])
    assert result.rows == [["2024-04-01T08:00:00+00:00", date(2024, 4, 1).isoformat()]]
