"""PostgreSQL: time buckets of ``timestamptz`` values near PostgreSQL's limits, in any zone.

A ``timestamptz`` bucket is the ``date_trunc`` of the value's wall-clock time in the site's time
zone (``value AT TIME ZONE <zone>``, a ``timestamp``). ``timestamp`` and ``timestamptz`` share
one range, 4714-11-24 00:00:00 BC to 294276-12-31 23:59:59.999999, so in a zone whose offset is
not zero the wall-clock time of a value within a day of either end can fall outside it
(``Pacific/Kiritimati`` was at -10:29:20 before 1901 and is at +14 today). The rule, the same
as in UTC:

- a bucket is labelled with its start; the month, quarter and year holding the earliest value
  begin before it and are labelled with that value (``-004713-11-24T00:00:00``), whether the
  value's wall-clock time is before it or not;
- a bucket holding no time PostgreSQL can represent (a week, day, hour or minute before the
  earliest value; any bucket after the latest: 294277-01-01 is a Monday) cannot be labelled
  without merging it with another: such a query is refused with HTTP 400 ``invalid_value`` at
  the bucket's path, never a 500.

A label carries the zone's offset at the bucket's start (issue 15 item 13), on both paths: the
zone's first offset (its LMT) before year 1, the offset of the same day of the 400-year cycle
after 9999.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.exceptions import ValueOutOfRange
from prismiq_django.ops.observability import REGISTRY
from prismiq_django.query import QueryValidationError
from tests.support.glue import api_client, exposed_table, sql_literal
from tests.support.jsonpaths import both_paths, wire_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLE = "pg_bucket_limits"
CREATE = (
    f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, tz timestamptz, clock time, day date,"
    " naive timestamp)"
)
EARLIEST = "-004713-11-24T00:00:00"
#: Each zone's first offset (LMT, before it kept a standard time), that of its earliest values.
FIRST_OFFSET = {
    "Pacific/Kiritimati": "-10:29:20",
    "America/New_York": "-04:56:02",
    "Asia/Manila": "-15:56:08",
    "Etc/GMT-14": "+14:00",
    "Pacific/Pago_Pago": "+12:37:12",
    "UTC": "+00:00",
}
#: Each zone's offset in 2024 at the start of May, April (both summer time in New York) and
#: January.
OFFSET_2024 = {
    "Pacific/Kiritimati": ("+14:00", "+14:00", "+14:00"),
    "America/New_York": ("-04:00", "-04:00", "-05:00"),
    "Asia/Manila": ("+08:00", "+08:00", "+08:00"),
    "Etc/GMT-14": ("+14:00", "+14:00", "+14:00"),
    "Pacific/Pago_Pago": ("-11:00", "-11:00", "-11:00"),
    "UTC": ("+00:00", "+00:00", "+00:00"),
}
# (id, value): the earliest instants, an ordinary one, the latest instants.
DATA = [
    (1, "4714-11-24 00:00:00+00 BC"),  # the earliest value
    (2, "4714-11-24 05:00:00+00 BC"),
    (3, "4714-11-24 23:59:59+00 BC"),
    (4, "4714-11-30 20:00:00+00 BC"),  # 1 December 4714 BC at +14
    (5, "2024-05-06 07:08:09+00"),
    (6, "294276-12-31 09:59:59+00"),  # 23:59:59 at +14
    (7, "294276-12-31 10:00:00+00"),  # 294277-01-01 at +14
    (8, "294276-12-31 23:59:59.999999+00"),  # the latest value
    (9, "-infinity"),
    (10, "infinity"),
    (11, None),
]
LOW = (1, 2, 3, 4)
HIGH = (6, 7, 8)


@pytest.fixture
def table() -> Iterator[None]:
    rows = ", ".join(
        f"({key}, {sql_literal(value)}, '10:00', '2024-01-01', '2024-01-01 10:00')"
        for key, value in DATA
    )
    with exposed_table(TABLE, CREATE, rows):
        yield


def _buckets(unit: str, ids: tuple[int, ...], *, python_path: bool = False) -> dict[str, Any]:
    ref = {"table_id": "t", "column": "tz", "date_trunc": unit}
    return {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {"table_id": "t", "column": "id"},
            {**ref, "alias": "bucket"},
            *([{"table_id": "t", "column": "clock"}] if python_path else []),
        ],
        "filters": [{"table_id": "t", "column": "id", "operator": "in", "value": list(ids)}],
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
    }


def _same_on_both_paths(definition: dict[str, Any]) -> dict[int, Any]:
    by_db, by_python = both_paths(definition)
    assert wire_rows(by_db) == wire_rows(by_python)
    return {row[0]: row[1] for row in wire_rows(by_db)}


@pytest.mark.parametrize(
    ("zone", "december"),
    # The wall-clock time of 4714-11-30 20:00 UTC is in December from +04:00 on.
    [
        ("Pacific/Kiritimati", ()),  # -10:29:20 then: the earliest values are before 4714-11-24
        ("America/New_York", ()),  # -04:56:02
        ("Asia/Manila", ()),  # -15:56:08 (Manila kept the Americas' date until 1844)
        ("Etc/GMT-14", (4,)),  # +14
        ("Pacific/Pago_Pago", (4,)),  # +12:37:12 (west of the date line until 1892)
        ("UTC", ()),
    ],
)
@pytest.mark.parametrize("unit", ["month", "quarter", "year"])
def test_the_first_month_quarter_and_year_are_labelled_with_the_earliest_value_in_every_zone(
    table: None, zone: str, december: tuple[int, ...], unit: str
) -> None:
    with override_settings(TIME_ZONE=zone):
        buckets = _same_on_both_paths(_buckets(unit, (*LOW, 5, 9, 10, 11)))
    first = FIRST_OFFSET[zone]
    december_label = ("-004713-12-01T00:00:00" if unit == "month" else EARLIEST) + first
    now = dict(zip(("month", "quarter", "year"), OFFSET_2024[zone], strict=True))[unit]
    assert buckets == {
        **{key: december_label if key in december else EARLIEST + first for key in LOW},
        5: {"month": "2024-05-01", "quarter": "2024-04-01", "year": "2024-01-01"}[unit]
        + "T00:00:00"
        + now,
        9: "-infinity",
        10: "infinity",
        11: None,
    }


@pytest.mark.parametrize("unit", ["minute", "hour", "day", "week"])
def test_finer_buckets_of_wall_clock_times_after_the_earliest_value_are_their_start(
    table: None, unit: str
) -> None:
    # 4714-11-24 23:59:59 UTC is 13:30:39 at -10:29:20: within range.
    with override_settings(TIME_ZONE="Pacific/Kiritimati"):
        buckets = _same_on_both_paths(_buckets(unit, (3, 6)))
    assert (
        buckets[3]
        == {
            "minute": "-004713-11-24T13:30:00",
            "hour": "-004713-11-24T13:00:00",
            "day": "-004713-11-24T00:00:00",
            "week": "-004713-11-24T00:00:00",
        }[unit]
        + "-10:29:20"
    )
    assert (
        buckets[6]
        == {
            "minute": "+294276-12-31T23:59:00",
            "hour": "+294276-12-31T23:00:00",
            "day": "+294276-12-31T00:00:00",
            "week": "+294276-12-25T00:00:00",
        }[unit]
        + "+14:00"
    )


@pytest.fixture
def client(table: None) -> APIClient:
    return api_client("limits")


@pytest.mark.parametrize(
    ("zone", "unit", "ids"),
    [
        # Wall-clock times before the earliest value have no week, day, hour or minute bucket.
        ("Pacific/Kiritimati", "minute", (1,)),
        ("Pacific/Kiritimati", "hour", (2,)),
        ("Pacific/Kiritimati", "day", (1, 5)),
        ("America/New_York", "week", (1,)),
        # Wall-clock times after the latest value have no bucket at all.
        ("Pacific/Kiritimati", "minute", (7,)),
        ("Pacific/Kiritimati", "day", (8,)),
        ("Asia/Tokyo", "week", (8,)),
        ("Pacific/Kiritimati", "month", (7, 5)),
        ("Etc/GMT-14", "year", (8,)),
    ],
)
@pytest.mark.parametrize("python_path", [False, True], ids=["json-path", "python-path"])
def test_a_bucket_with_no_representable_time_is_refused_clearly(
    client: APIClient, zone: str, unit: str, ids: tuple[int, ...], python_path: bool
) -> None:
    definition = _buckets(unit, ids, python_path=python_path)
    with override_settings(TIME_ZONE=zone):
        with pytest.raises(QueryValidationError) as refused:
            services.execute(None, definition)
        response = client.post("/api/analytics/query/execute", {"query": definition}, format="json")
    assert isinstance(refused.value.__cause__, ValueOutOfRange)
    # SPEC: a value that does not fit is a validation error (400), at the bucket's path.
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Query validation failed"
    assert [(e["code"], e["path"]) for e in body["errors"]] == [
        ("invalid_value", "/query/columns/1/date_trunc")
    ]
    assert "time zone" in body["errors"][0]["message"]
    assert "SELECT" not in response.content.decode()
    assert "out of range" not in body["errors"][0]["message"]  # not the database's text


def test_a_refused_time_series_names_its_interval_and_explain_analyze_is_refused_too(
    client: APIClient,
) -> None:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "time_series": {"table_id": "t", "date_column": "tz", "interval": "day", "alias": "d"},
        "columns": [
            {"table_id": "t", "column": "id", "aggregation": "count", "alias": "n"},
            {"table_id": "t", "column": "tz", "date_trunc": "week", "alias": "w"},
        ],
        "filters": [{"table_id": "t", "column": "id", "operator": "eq", "value": 8}],
    }
    with override_settings(TIME_ZONE="Pacific/Kiritimati"):
        executed = client.post("/api/analytics/query/execute", {"query": definition}, format="json")
        explained = client.post(
            "/api/analytics/query/explain", {"query": definition, "analyze": True}, format="json"
        )
        planned = client.post("/api/analytics/query/explain", {"query": definition}, format="json")
    paths = ["/query/time_series/interval", "/query/columns/1/date_trunc"]
    for response in (executed, explained):
        assert response.status_code == 400, response.content
        assert [e["path"] for e in response.json()["errors"]] == paths
    assert planned.status_code == 200  # a plan without ANALYZE computes no bucket


def test_a_refusal_names_only_the_buckets_that_can_meet_it(client: APIClient) -> None:
    """Buckets of a date or a naive timestamp are computed without the site's zone and cannot
    leave PostgreSQL's range: the error points at the timestamptz bucket alone."""
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "time_series": {"table_id": "t", "date_column": "day", "interval": "month"},
        "columns": [
            {"table_id": "t", "column": "naive", "date_trunc": "day", "alias": "n"},
            {"table_id": "t", "column": "id", "aggregation": "count", "alias": "rows"},
            {"table_id": "t", "column": "tz", "date_trunc": "day", "alias": "z"},
        ],
        "filters": [{"table_id": "t", "column": "id", "operator": "eq", "value": 8}],
    }
    with override_settings(TIME_ZONE="Pacific/Kiritimati"):
        response = client.post("/api/analytics/query/execute", {"query": definition}, format="json")
    assert response.status_code == 400, response.content
    assert [e["path"] for e in response.json()["errors"]] == ["/query/columns/2/date_trunc"]


def test_a_time_series_and_column_values_answer_too(client: APIClient) -> None:
    definition = {
        "tables": [{"id": "t", "name": TABLE}],
        "time_series": {"table_id": "t", "date_column": "tz", "interval": "year", "alias": "y"},
        "columns": [{"table_id": "t", "column": "id", "aggregation": "count", "alias": "n"}],
        "filters": [{"table_id": "t", "column": "id", "operator": "lt", "value": 7}],
    }
    with override_settings(TIME_ZONE="Pacific/Kiritimati"):
        rows = wire_rows(services.execute(None, definition))
        response = client.get(f"/api/analytics/tables/{TABLE}/columns/tz/values")
    assert rows == [
        [EARLIEST + "-10:29:20", 4],
        ["2024-01-01T00:00:00+14:00", 1],
        ["+294276-01-01T00:00:00+14:00", 1],
    ]
    assert response.status_code == 200  # no bucket: the values as they are
    assert len(response.json()["values"]) == 10


def test_a_refused_bucket_is_counted_and_logged_as_invalid_not_as_an_error(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    # The refusal is answered as a validation error (400 invalid_value), so prismiq_queries_total
    # and the query log line say "invalid" (definition refused), never "error" (the 500s).
    def count(status: str) -> float:
        return REGISTRY.get_sample_value("prismiq_queries_total", {"status": status}) or 0.0

    before = {status: count(status) for status in ("invalid", "error", "ok")}
    definition = _buckets("minute", (7,))
    with (
        override_settings(TIME_ZONE="Pacific/Kiritimati"),
        caplog.at_level(logging.INFO, logger="prismiq_django.query"),
    ):
        response = client.post("/api/analytics/query/execute", {"query": definition}, format="json")
    assert response.status_code == 400
    assert {status: count(status) - before[status] for status in before} == {
        "invalid": 1.0,
        "error": 0.0,
        "ok": 0.0,
    }
    logged = [r for r in caplog.records if getattr(r, "event", None) == "query"]
    assert [getattr(r, "status", None) for r in logged] == ["invalid"]
    assert logged[0].fingerprint  # the statement ran: it is identified
