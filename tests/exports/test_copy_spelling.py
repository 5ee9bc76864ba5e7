"""The CSV that PostgreSQL's ``COPY`` writes is the JSON answer, cell by cell, at the edges.

:mod:`prismiq_django.query.csvrows` spells dates and timestamps with PostgreSQL's own text in
years 1..9999 (a ``timestamptz`` as its UTC wall-clock time followed by ``+00:00``), the JSON
path's expanded years outside them, and escapes formulas by the code of the first character of
a text. Each cell of the export must be the string of the JSON answer (section 4), a text cell
with a leading ``'`` when it starts with ``=``, ``+``, ``-`` or ``@`` (section 11): checked on
the limits of the fast spelling (the first and last microseconds of years 1 and 9999, the
values just outside), fractional seconds of every length, instants all over years 1..9999, and
text starting with each of the code points 1..400.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from prismiq_django import services
from prismiq_django.services import exports as export_services
from prismiq_django.services.exports.csvfile import escape_formula
from tests.support.glue import by_id, exposed_table, sql_literal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLE = "csv_copy_edges"
CREATE = f"""
CREATE TABLE {TABLE} (
    id integer PRIMARY KEY,
    d date,
    ts timestamp,
    tz timestamptz,
    tz3 timestamptz(3),
    s text
)
"""
# (id, value of d, ts, tz and tz3 as PostgreSQL reads it in UTC) and the cells of the export.
TEMPORAL: list[tuple[int, str | None, tuple[str, str, str, str] | None]] = [
    (1, "infinity", ("infinity",) * 4),
    (2, "-infinity", ("-infinity",) * 4),
    (3, None, None),
    (
        4,
        "2024-05-06 07:08:09.5",
        (
            "2024-05-06",
            "2024-05-06T07:08:09.5",
            "2024-05-06T07:08:09.5+00:00",
            "2024-05-06T07:08:09.5+00:00",
        ),
    ),
    (
        5,
        "1999-12-31 23:59:59.000001",
        (
            "1999-12-31",
            "1999-12-31T23:59:59.000001",
            "1999-12-31T23:59:59.000001+00:00",
            "1999-12-31T23:59:59+00:00",  # timestamptz(3) rounds to milliseconds
        ),
    ),
    (
        6,
        "0001-01-01 00:00:00",
        (
            "0001-01-01",
            "0001-01-01T00:00:00",
            "0001-01-01T00:00:00+00:00",
            "0001-01-01T00:00:00+00:00",
        ),
    ),
    (
        7,
        "9999-12-31 23:59:59.999999",
        (
            "9999-12-31",
            "9999-12-31T23:59:59.999999",
            "9999-12-31T23:59:59.999999+00:00",
            "+010000-01-01T00:00:00+00:00",  # rounded past 9999: the expanded year
        ),
    ),
    (
        8,
        "0001-12-31 23:59:59.999999 BC",  # 1 BC: astronomical year 0
        (
            "0000-12-31",
            "0000-12-31T23:59:59.999999",
            "0000-12-31T23:59:59.999999+00:00",
            "0001-01-01T00:00:00+00:00",
        ),
    ),
    (
        9,
        "10000-01-01 00:00:00",
        (
            "+010000-01-01",
            "+010000-01-01T00:00:00",
            "+010000-01-01T00:00:00+00:00",
            "+010000-01-01T00:00:00+00:00",
        ),
    ),
    (
        10,
        "0044-03-15 12:00:00.25 BC",
        (
            "-000043-03-15",
            "-000043-03-15T12:00:00.25",
            "-000043-03-15T12:00:00.25+00:00",
            "-000043-03-15T12:00:00.25+00:00",
        ),
    ),
    (
        11,
        "0999-01-01 00:00:00.01",
        (
            "0999-01-01",
            "0999-01-01T00:00:00.01",
            "0999-01-01T00:00:00.01+00:00",
            "0999-01-01T00:00:00.01+00:00",
        ),
    ),
    (
        12,
        "2024-03-31 02:30:00.123456",
        (
            "2024-03-31",
            "2024-03-31T02:30:00.123456",
            "2024-03-31T02:30:00.123456+00:00",
            "2024-03-31T02:30:00.123+00:00",
        ),
    ),
]
#: Rows of generated instants (ids from 1000), of text (ids from 10000).
INSTANTS = 2000
CODE_POINTS = 400


@pytest.fixture
def table() -> Iterator[None]:
    # Each value as a timestamp, its date, and the instant of that wall-clock time in UTC.
    stamps = [(key, f"{sql_literal(value)}::timestamp") for key, value, _ in TEMPORAL]
    rows = ", ".join(
        f"({key}, {v}::date, {v}, {v} AT TIME ZONE 'UTC', {v} AT TIME ZONE 'UTC', NULL)"
        for key, v in stamps
    )
    with exposed_table(TABLE, CREATE, rows):
        with connection.cursor() as cursor:
            # Instants all over years 1..9999 with 0 to 6 digits of fractional seconds (odd
            # steps: months, days, times and the digits vary), then text starting with each
            # code point (followed by a formula trigger, which must not matter).
            cursor.execute(
                f"INSERT INTO {TABLE} (id, d, ts, tz, tz3) SELECT 1000 + n, v::date, v,"
                " v AT TIME ZONE 'UTC', v AT TIME ZONE 'UTC' FROM ("
                " SELECT n, '0001-01-01'::timestamp + n * interval '1826 days 3 hours 7 minutes'"
                " + (n % 7) * interval '1 second' + ((n * 7919) % 1000000)"
                " / (10 ^ (n % 7))::integer * (10 ^ (n % 7))::integer * interval '1 microsecond'"
                f" AS v FROM generate_series(0, {INSTANTS - 1}) AS n) AS g"
            )
            cursor.execute(
                f"INSERT INTO {TABLE} (id, s) SELECT 10000 + n, chr(n) || '=1'"
                f" FROM generate_series(1, {CODE_POINTS}) AS n"
            )
            cursor.execute(
                f"INSERT INTO {TABLE} (id, s) VALUES (20000, ''), (20001, '😀='), (20002, '@'),"
                " (20003, 'A'), (20004, '?-'), (20005, '''=x'), (20006, '\uff1d1')"
            )
        yield


def _copy_export(definition: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The CSV of ``definition`` (header dropped), asserting that ``COPY`` wrote it."""
    copies: list[str] = []
    open_copy = export_services.open_copy

    def spy(sql: str, *args: Any, **kwargs: Any) -> Any:
        copies.append(sql)
        return open_copy(sql, *args, **kwargs)

    monkeypatch.setattr(export_services, "open_copy", spy)
    started = export_services.export(None, definition, file_format="csv")
    body = b"".join(started.chunks)
    assert len(copies) == 1, "expected the COPY path"
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))[1:]


def _answer(definition: dict[str, Any]) -> list[list[str]]:
    """The JSON answer's values as CSV cells: null empty, text escaped."""
    result = services.execute(None, definition)
    return [
        [
            "" if value is None else escape_formula(value) if kind == "string" else str(value)
            for value, kind in zip(row, result.column_types, strict=True)
        ]
        for row in result.rows
    ]


def _temporal(**extra: Any) -> dict[str, Any]:
    return by_id(TABLE, "d", "ts", "tz", "tz3", limit=9000, **extra)


def test_dates_and_timestamps_at_the_edges_are_spelled_exactly(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    filters = [{"table_id": "t", "column": "id", "operator": "lt", "value": 1000}]
    rows = _copy_export(_temporal(filters=filters), monkeypatch)
    expected = [
        [str(key), *(cells if cells is not None else ("",) * 4)] for key, _, cells in TEMPORAL
    ]
    assert rows == expected
    assert rows == _answer(_temporal(filters=filters))


def test_instants_all_over_years_1_to_9999_are_the_json_answer(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    filters = [{"table_id": "t", "column": "id", "operator": "between", "value": [1000, 9999]}]
    rows = _copy_export(_temporal(filters=filters), monkeypatch)
    assert len(rows) == INSTANTS
    assert rows == _answer(_temporal(filters=filters))
    instants = [row[3] for row in rows]
    assert all(cell[10] == "T" and cell.endswith("+00:00") for cell in instants)
    assert {len(cell) for cell in instants} == {25, *range(27, 33)}  # 0 and 1..6 digits
    assert instants[0] == "0001-01-01T00:00:00+00:00"
    assert instants[-1].startswith("999")  # year 9995


def test_text_is_escaped_by_its_first_character_only(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = by_id(
        TABLE,
        "s",
        filters=[{"table_id": "t", "column": "id", "operator": "gte", "value": 10000}],
        limit=9000,
    )
    rows = _copy_export(definition, monkeypatch)
    assert rows == _answer(definition)
    texts = {int(key): text for key, text in rows}
    for code in range(1, CODE_POINTS + 1):
        value = chr(code) + "=1"
        assert texts[10000 + code] == ("'" + value if chr(code) in "=+-@" else value), code
    assert [texts[20000 + n] for n in range(7)] == ["", "😀=", "'@", "A", "?-", "'=x", "\uff1d1"]


def test_date_buckets_and_extremes_are_the_json_answer(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dates are written from ``date_out``'s cstring: buckets and extremes of a date column are
    dates too."""
    day = {"table_id": "t", "column": "d"}
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {**day, "date_trunc": "year", "alias": "year"},
            {**day, "aggregation": "max", "alias": "last"},
            {**day, "aggregation": "min", "alias": "first"},
        ],
        "group_by": [{**day, "date_trunc": "year"}],
        "filters": [{"table_id": "t", "column": "id", "operator": "lt", "value": 1100}],
        "order_by": [{**day, "date_trunc": "year", "direction": "ASC"}],
    }
    rows = _copy_export(definition, monkeypatch)
    assert rows == _answer(definition)
    assert rows[:2] == [["-infinity"] * 3, ["-000043-01-01", "-000043-03-15", "-000043-03-15"]]
    assert ["+010000-01-01", "+010000-01-01", "+010000-01-01"] in rows
    assert rows[-2:] == [["infinity"] * 3, ["", "", ""]]  # then the null dates' group
