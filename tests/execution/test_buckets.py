"""``execution.buckets``: the labels of time buckets of instants (issue 15 item 13) — the
bucket's wall-clock start with the site zone's offset at it — and, on PostgreSQL, a
``timestamptz`` next to a naive ``timestamp`` in Europe/Paris across a change of offset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from prismiq_django import services
from prismiq_django.execution.buckets import bucket_labeller, bucket_zones, offset_text
from prismiq_django.query import Compiled
from tests.support.glue import Stmt, exposed_table
from tests.support.jsonpaths import both_paths, wire_rows

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("start", "label"),
    [
        (datetime(2023, 1, 1), "2023-01-01T00:00:00+01:00"),
        (datetime(2023, 7, 1), "2023-07-01T00:00:00+02:00"),
        # 02:00-02:59 happens twice on 27 October 2024: the bucket begins at the first one.
        (datetime(2024, 10, 27, 2), "2024-10-27T02:00:00+02:00"),
        (datetime(2024, 10, 27, 3), "2024-10-27T03:00:00+01:00"),
        (datetime(2024, 3, 31, 1), "2024-03-31T01:00:00+01:00"),
        (datetime(2024, 3, 31, 3), "2024-03-31T03:00:00+02:00"),
        (datetime(1900, 1, 1), "1900-01-01T00:00:00+00:09:21"),  # Paris mean time
        (datetime(2024, 5, 6, 7, 8, 9, 500000), "2024-05-06T07:08:09.500000+02:00"),
        ("2024-03-01 00:00:00", "2024-03-01T00:00:00+01:00"),  # SQLite's text
        # PostgreSQL's values Python cannot hold: LMT before year 1, the 400-year cycle after
        # 9999 (294276 is 9876 in the last cycle: 1 July is summer time).
        ("-004713-11-24T00:00:00", "-004713-11-24T00:00:00+00:09:21"),
        ("0000-06-01T00:00:00", "0000-06-01T00:00:00+00:09:21"),
        ("+294276-07-01T00:00:00", "+294276-07-01T00:00:00+02:00"),
        ("+294276-01-01T00:00:00", "+294276-01-01T00:00:00+01:00"),
        ("+010000-02-29T00:00:00", "+010000-02-29T00:00:00+01:00"),
        ("infinity", "infinity"),
        ("-infinity", "-infinity"),
    ],
)
def test_a_label_is_the_start_with_the_offset_in_force_at_it(start: Any, label: str) -> None:
    assert bucket_labeller("postgresql", PARIS)(start) == label


def test_a_start_that_clocks_skip_keeps_its_wall_clock_with_the_offset_before() -> None:
    # Santiago went from -04:00 to -03:00 at midnight: 11 September 2022 began at 01:00-03:00,
    # the instant 2022-09-11T00:00:00-04:00 names.
    santiago = ZoneInfo("America/Santiago")
    label = bucket_labeller("sqlite", santiago)(datetime(2022, 9, 11))
    assert label == "2022-09-11T00:00:00-04:00"
    assert datetime.fromisoformat(label) == datetime(2022, 9, 11, 1, tzinfo=santiago)


def test_mysql_labels_values_convert_tz_leaves_alone_in_utc() -> None:
    label = bucket_labeller("mysql", PARIS)
    assert label(datetime(1969, 12, 31, 23)) == "1969-12-31T23:00:00+00:00"
    assert label(datetime(1970, 1, 1, 1)) == "1970-01-01T01:00:00+01:00"
    assert label(datetime(2038, 1, 19, 3)) == "2038-01-19T03:00:00+01:00"
    assert label(datetime(2038, 1, 20)) == "2038-01-20T00:00:00+00:00"
    assert label(None) is None
    assert bucket_labeller("postgresql", PARIS)(datetime(1969, 12, 31, 23)).endswith("+01:00")


def test_other_values_are_spelled_as_elsewhere() -> None:
    label = bucket_labeller("sqlite", PARIS)
    assert label(date(2024, 1, 1)) == "2024-01-01"
    assert label("not a time") == "not a time"


def test_offsets_are_spelled_as_isoformat_spells_them() -> None:
    for moment in (datetime(1900, 1, 1), datetime(2024, 1, 1), datetime(2024, 7, 1)):
        for zone in ("Europe/Paris", "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati"):
            aware = moment.replace(tzinfo=ZoneInfo(zone))
            offset = aware.utcoffset()
            assert offset is not None
            assert aware.isoformat().endswith(offset_text(offset))


def _compiled(zoned: frozenset[int], tz_name: str = "Europe/Paris") -> Compiled:
    return Compiled("SELECT 1", (), frozenset(), ("b",), 1, zoned, tz_name)


def test_bucket_zones_need_use_tz_and_a_compiled_statement() -> None:
    assert bucket_zones(_compiled(frozenset({0, 2}))) == {0: PARIS, 2: PARIS}
    assert bucket_zones(_compiled(frozenset())) == {}
    assert bucket_zones(Stmt("SELECT 1")) == {}  # raw SQL names no bucket
    with override_settings(USE_TZ=False):
        # Without USE_TZ plain datetimes come back naive too: so do the labels.
        assert bucket_zones(_compiled(frozenset({0}))) == {}


TABLE = "exec_bucket_offsets"


@pytest.fixture
def zoned_and_naive() -> Iterator[None]:
    rows = ", ".join(
        f"({key}, '{instant}', '{wall}')"
        for key, instant, wall in [
            (1, "2024-10-27 00:30:00+00", "2024-10-27 02:30:00"),  # 02:30 CEST
            (2, "2024-10-27 01:30:00+00", "2024-10-27 02:45:00"),  # 02:30 CET
            (3, "2024-10-27 02:30:00+00", "2024-10-27 03:30:00"),
            (4, "2024-03-31 00:30:00+00", "2024-03-31 01:30:00"),
            # Santiago's 11 September 2022 began at 01:00 (-03): its midnight never happened.
            (5, "2022-09-11 04:30:00+00", "2022-09-11 01:30:00"),
            # Lord Howe goes back half an hour at 02:00 (+11 -> +10:30): 01:45 happens twice.
            (6, "2024-04-06 14:45:00+00", "2024-04-07 01:45:00"),
            (7, "2024-04-06 15:15:00+00", "2024-04-07 01:45:00"),
            (8, "1890-06-01 12:00:00+00", "1890-06-01 12:00:00"),  # local mean times
        ]
    )
    create = f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, tz timestamptz, naive timestamp)"
    with exposed_table(TABLE, create, rows):
        yield


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_timestamptz_buckets_carry_the_offset_and_naive_ones_do_not(
    zoned_and_naive: None,
) -> None:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {"table_id": "t", "column": "id"},
            {"table_id": "t", "column": "tz", "date_trunc": "hour", "alias": "zoned"},
            {"table_id": "t", "column": "naive", "date_trunc": "hour", "alias": "wall"},
            {"table_id": "t", "column": "tz", "date_trunc": "month", "alias": "month"},
            {"table_id": "t", "column": "tz", "alias": "plain"},
        ],
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }
    definition["filters"] = [{"table_id": "t", "column": "id", "operator": "lte", "value": 4}]
    with override_settings(TIME_ZONE="Europe/Paris"):
        result = services.execute(None, definition)
    assert result.column_types == ["integer", "datetime", "datetime", "datetime", "datetime"]
    assert result.rows == [
        [1, "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00", "2024-10-01T00:00:00+02:00",
         "2024-10-27T00:30:00+00:00"],
        [2, "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00", "2024-10-01T00:00:00+02:00",
         "2024-10-27T01:30:00+00:00"],
        [3, "2024-10-27T03:00:00+01:00", "2024-10-27T03:00:00", "2024-10-01T00:00:00+02:00",
         "2024-10-27T02:30:00+00:00"],
        [4, "2024-03-31T01:00:00+01:00", "2024-03-31T01:00:00", "2024-03-01T00:00:00+01:00",
         "2024-03-31T00:30:00+00:00"],
    ]  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "zone",
    ["Europe/Paris", "America/Santiago", "Australia/Lord_Howe", "America/St_Johns", "UTC"],
)
@pytest.mark.parametrize("unit", ["minute", "hour", "day", "week", "month", "year"])
def test_postgresql_spells_the_labels_as_the_python_path_does(
    zoned_and_naive: None, zone: str, unit: str
) -> None:
    """The JSON path (and the CSV ``COPY``) labels buckets in SQL
    (:mod:`prismiq_django.query.bucketlabels`): the same text as Python's, also for a repeated
    start (fold=0), a skipped one and local mean time."""
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {"table_id": "t", "column": "id"},
            {"table_id": "t", "column": "tz", "date_trunc": unit, "alias": "zoned"},
        ],
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }
    with override_settings(TIME_ZONE=zone):
        by_db, by_python = both_paths(definition)
    assert wire_rows(by_db) == wire_rows(by_python)
    labels = {row[0]: row[1] for row in wire_rows(by_db)}
    if (zone, unit) == ("America/Santiago", "day"):
        assert labels[5] == "2022-09-11T00:00:00-04:00"
    if (zone, unit) == ("Australia/Lord_Howe", "hour"):
        assert labels[6] == labels[7] == "2024-04-07T01:00:00+11:00"
    if (zone, unit) == ("Europe/Paris", "hour"):
        assert labels[1] == labels[2] == "2024-10-27T02:00:00+02:00"
        assert labels[8] == "1890-06-01T12:00:00+00:09:21"
