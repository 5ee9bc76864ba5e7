"""PostgreSQL: results do not depend on the session's output settings.

A site may give its role or database other defaults (``ALTER ROLE ... SET IntervalStyle =
'iso_8601'``, ``ALTER DATABASE ... SET DateStyle = 'German'``) or pass them in the connection
options (``DATABASES[...]["OPTIONS"]["options"] = "-c DateStyle=SQL,DMY"``). They change how
PostgreSQL writes dates, timestamps, intervals, floats and byteas as text, which is what psycopg
reads, what ``EXPLAIN`` shows and what the catalog's defaults and row estimates are made of.
Every statement runs with the settings prismiq relies on pinned (``set_config(..., true)``, see
``docs/exposure-and-execution.md``), so every answer here is the one a session with PostgreSQL's
defaults gives, on both result paths, in one message and under a savepoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.catalog.introspect import introspect
from prismiq_django.query import Table
from prismiq_django.services import queries as query_services
from tests.support.glue import by_id, exposed_table, extra_alias
from tests.support.jsonpaths import both_paths, comparable, wire_rows

pytestmark = pytest.mark.postgres

TABLE = "pg_session"
CREATE = f"""
CREATE TABLE {TABLE} (
    id integer PRIMARY KEY,
    d date DEFAULT '2024-05-06',
    ts timestamp,
    tz timestamptz,
    f double precision DEFAULT 1234567.891,
    r real,
    n numeric,
    span interval DEFAULT '1 year 2 mons -3 days 04:05:06.5',
    clock time,
    b bytea
)
"""
ROWS = """
(1, '2024-05-06', '2024-05-06 07:08:09.5', '2024-05-06 07:08:09.25+00', 0.1::float8 + 0.2,
 1.1, 10.50, '1 year 2 mons -3 days 04:05:06.5', '10:00:00.5', '\\x00ff41'),
(2, 'infinity', '-infinity', '0044-03-15 12:00:00.25+00 BC', 1234567.891, 3.4028235e38, -0.5,
 '100000000 years', '24:00:00', '\\x5c27'),
(3, '0044-03-15 BC', '10000-01-01 01:02:03', '10000-01-01 00:00:00+00', 1e300 / 3, 0.1,
 1e20, '-1 days', '23:59:59.999999', ''),
(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(5, '1999-12-31', '1999-12-31 23:59:59.999999', '1999-12-31 23:00:00-05', 5e-324, -3.5e-38,
 0.000001, '-2 mons +3 days -04:05:06', '00:00', '\\xdeadbeef')
"""
JSON_COLUMNS = ("d", "ts", "tz", "f", "r", "n")
PYTHON_COLUMNS = (*JSON_COLUMNS, "span", "clock", "b")
# The rows the Python path answers in a session with PostgreSQL's defaults.
EXPECTED_PYTHON: list[list[Any]] = [
    [
        1,
        "2024-05-06",
        "2024-05-06T07:08:09.500000",
        "2024-05-06T07:08:09.250000+00:00",
        0.30000000000000004,
        1.1,
        10.5,
        36475506.5,
        "10:00:00.500000",
        "AP9B",
    ],
    [
        2,
        "infinity",
        "-infinity",
        "-000043-03-15T12:00:00.25+00:00",
        1234567.891,
        3.4028235e38,
        -0.5,
        3155760000000000.0,
        "24:00:00",
        "XCc=",
    ],
    [
        3,
        "-000043-03-15",
        "+010000-01-01T01:02:03",
        "+010000-01-01T00:00:00+00:00",
        3.3333333333333335e299,
        0.1,
        1e20,
        -86400.0,
        "23:59:59.999999",
        "",
    ],
    [4, None, None, None, None, None, None, None, None, None],
    [
        5,
        "1999-12-31",
        "1999-12-31T23:59:59.999999",
        "2000-01-01T04:00:00+00:00",
        5e-324,
        -3.5e-38,
        1e-06,
        -4939506.0,
        "00:00:00",
        "3q2+7w==",
    ],
]

#: Session settings a site may have, one at a time and all at once.
PROFILES: dict[str, dict[str, str]] = {
    "DateStyle German": {"DateStyle": "German"},
    "DateStyle SQL, DMY": {"DateStyle": "SQL, DMY"},
    "DateStyle Postgres, MDY": {"DateStyle": "Postgres, MDY"},
    "DateStyle ISO, YMD": {"DateStyle": "ISO, YMD"},
    "IntervalStyle iso_8601": {"IntervalStyle": "iso_8601"},
    "IntervalStyle sql_standard": {"IntervalStyle": "sql_standard"},
    "IntervalStyle postgres_verbose": {"IntervalStyle": "postgres_verbose"},
    "extra_float_digits 0": {"extra_float_digits": "0"},
    "extra_float_digits -15": {"extra_float_digits": "-15"},
    "extra_float_digits 3": {"extra_float_digits": "3"},
    "bytea_output escape": {"bytea_output": "escape"},
    "all of them": {
        "DateStyle": "SQL, DMY",
        "IntervalStyle": "sql_standard",
        "extra_float_digits": "-15",
        "bytea_output": "escape",
    },
}


@contextmanager
def session_settings(values: dict[str, str], alias: str = "default") -> Iterator[None]:
    """Set ``values`` for the rest of the session, as ``ALTER ROLE ... SET`` would, then reset."""
    conn = connections[alias]
    with conn.cursor() as cursor:
        for name, value in values.items():
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
    try:
        yield
    finally:
        with conn.cursor() as cursor:
            for name in values:
                cursor.execute(f"RESET {name}")


@pytest.fixture
def table(transactional_db: None) -> Iterator[None]:
    with exposed_table(TABLE, CREATE, ROWS):
        yield


def _filter(column: str, operator: str, value: Any) -> dict[str, Any]:
    return {"table_id": "t", "column": column, "operator": operator, "value": value}


def _bucketed(column: str, unit: str) -> dict[str, Any]:
    ref = {"table_id": "t", "column": column, "date_trunc": unit}
    return {
        "tables": [{"id": "t", "name": TABLE}],
        "columns": [
            {**ref, "alias": "bucket"},
            {"table_id": "t", "column": "f", "aggregation": "sum", "alias": "total"},
        ],
        "group_by": [ref],
        "order_by": [{**ref, "direction": "ASC"}],
    }


#: Definitions on both result paths: PostgreSQL's JSON ("json path", the buckets) and the Python
#: path (time, interval and bytea columns keep a statement there).
DEFINITIONS: dict[str, dict[str, Any]] = {
    "json path": by_id(TABLE, *JSON_COLUMNS),
    "python path": by_id(TABLE, *PYTHON_COLUMNS),
    "filters": by_id(
        TABLE,
        *PYTHON_COLUMNS,
        filters=[
            _filter("d", "gte", "1999-12-31"),
            _filter("tz", "lt", "2024-05-06T07:08:09.25+00:00"),
            _filter("ts", "between", ["1999-01-01T00:00:00", "2024-05-06T07:08:09.5"]),
            _filter("f", "gt", 0.3),
            _filter("span", "is_not_null", None),
        ],
    ),
    "tz by month": _bucketed("tz", "month"),
    "d by week": _bucketed("d", "week"),
    "ts by day": _bucketed("ts", "day"),
}


def _answer(definition: dict[str, Any]) -> tuple[list[list[Any]], list[str]]:
    result = services.execute(None, definition, bypass_cache=True)
    return wire_rows(result), result.column_types


def test_the_python_path_answers_the_expected_values_by_default(table: None) -> None:
    rows, types = _answer(DEFINITIONS["python path"])
    assert rows == EXPECTED_PYTHON
    assert types == [
        "integer",
        "date",
        "datetime",
        "datetime",
        "float",
        "float",
        "decimal",
        "duration",
        "time",
        "binary",
    ]
    for name, definition in DEFINITIONS.items():
        _, query, compiled = query_services.prepare(None, definition)
        by_json = query_services.json_rows_statement("default", query, compiled) is not None
        assert by_json == (name not in ("python path", "filters")), name


def _current(values: dict[str, str], *, reset: bool = False) -> list[str]:
    """The session's current (or, with ``reset``, default) value of each setting named."""
    column = "reset_val" if reset else "setting"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM pg_settings WHERE lower(name) = ANY(%s) ORDER BY name",
            [[name.lower() for name in values]],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("inside_a_transaction", [False, True], ids=["autocommit", "atomic"])
def test_every_answer_is_the_default_sessions(
    table: None, profile: str, inside_a_transaction: bool
) -> None:
    expected = {name: _answer(definition) for name, definition in DEFINITIONS.items()}
    with session_settings(PROFILES[profile]):
        own = _current(PROFILES[profile])
        assert own != _current(PROFILES[profile], reset=True)
        if inside_a_transaction:
            with transaction.atomic():
                got = {name: _answer(definition) for name, definition in DEFINITIONS.items()}
                assert _current(PROFILES[profile]) == own
        else:
            got = {name: _answer(definition) for name, definition in DEFINITIONS.items()}
        assert _current(PROFILES[profile]) == own  # the session keeps its own settings
    assert got == expected


def _sent(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


# Rows 1 and 5 hold no value psycopg refuses: the statement runs once.
ORDINARY = by_id(TABLE, *PYTHON_COLUMNS, filters=[_filter("id", "in", [1, 5])])


def test_the_one_message_path_pins_what_the_session_does_not_report(table: None) -> None:
    # DateStyle and IntervalStyle are reported to the client: in a session that has the pinned
    # ones, the one message pins only extra_float_digits, which the client cannot see.
    services.exposed_catalog()  # built and cached before: only the statement is captured
    with (
        session_settings({"extra_float_digits": "-15", "DateStyle": "ISO, DMY"}),
        CaptureQueriesContext(connection) as captured,
    ):
        rows = wire_rows(services.execute(None, ORDINARY))
    assert rows == [EXPECTED_PYTHON[0], EXPECTED_PYTHON[4]]
    sent = _sent(captured)
    assert len(sent) == 1
    assert sent[0].startswith(
        "BEGIN READ ONLY; SELECT set_config('statement_timeout', '30000', true),"
        " set_config('extra_float_digits', '1', true), set_config('TimeZone', 'UTC', true);"
        " SELECT "
    )
    assert sent[0].endswith("; ROLLBACK")
    assert "DateStyle" not in sent[0]


@pytest.mark.parametrize("profile", ["DateStyle German", "IntervalStyle iso_8601"])
def test_other_styles_take_the_savepoint_path_which_pins_them_all(
    table: None, profile: str
) -> None:
    services.exposed_catalog()
    with session_settings(PROFILES[profile]):
        with CaptureQueriesContext(connection) as captured:
            rows = wire_rows(services.execute(None, ORDINARY))
        assert connection.connection.info.transaction_status == 0  # idle: nothing left open
    assert rows == [EXPECTED_PYTHON[0], EXPECTED_PYTHON[4]]
    sent = _sent(captured)
    assert sent[0] == "BEGIN"  # Django's atomic: four round trips
    assert sent[1] == (
        "SELECT set_config('transaction_read_only', 'on', true),"
        " set_config('statement_timeout', '30000', true), set_config('DateStyle', 'ISO', true),"
        " set_config('IntervalStyle', 'postgres', true),"
        " set_config('extra_float_digits', '1', true), set_config('TimeZone', 'UTC', true)"
    )
    assert sent[2].startswith('SELECT "t0"."id"')
    assert sent[3:] == ["ROLLBACK"]


@pytest.mark.parametrize("profile", PROFILES)
def test_both_paths_agree_in_every_session(table: None, profile: str) -> None:
    # The paths spell fractional seconds and numerics differently (``.5``, ``10.50``), so each
    # is compared with itself in the default session and the two with each other as values.
    default_db, default_python = both_paths(DEFINITIONS["json path"])
    default_json = default_db.rows_json  # PostgreSQL's text, before comparable() parses it
    assert comparable(default_db) == comparable(default_python)
    assert wire_rows(default_python) == [row[:7] for row in EXPECTED_PYTHON]
    with session_settings(PROFILES[profile]):
        by_db, by_python = both_paths(DEFINITIONS["json path"])
    assert by_db.rows_json == default_json
    assert wire_rows(by_python) == wire_rows(default_python)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("column", ["d", "tz", "f", "span", "b"])
def test_column_values_are_the_default_sessions(table: None, profile: str, column: str) -> None:
    expected = services.column_values(None, TABLE, column)
    with session_settings(PROFILES[profile]):
        assert services.column_values(None, TABLE, column) == expected


@pytest.mark.parametrize("profile", ["DateStyle German", "extra_float_digits -15", "all of them"])
def test_plans_show_the_default_sessions_constants(table: None, profile: str) -> None:
    definition = DEFINITIONS["filters"]
    expected = services.explain(None, definition)
    assert "'1999-12-31'::date" in str(expected)
    with session_settings(PROFILES[profile]):
        assert services.explain(None, definition) == expected


def _analyzed_table_schema() -> Table:
    """The catalog's entry of the table, after ANALYZE (the default session's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (id) SELECT n FROM generate_series(10, 1243) AS n;"
            f" ANALYZE {TABLE}"
        )
    expected = introspect("default").table(TABLE)
    assert expected is not None
    assert expected.row_count == 1239
    defaults = {column.name: column.default_value for column in expected.columns}
    assert defaults["d"] == "'2024-05-06'::date"
    assert defaults["f"] == "1234567.891"
    assert defaults["span"] == "'1 year 2 mons -3 days +04:05:06.5'::interval"
    return expected


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("inside_a_transaction", [False, True], ids=["autocommit", "atomic"])
def test_the_catalog_is_the_default_sessions(
    table: None, profile: str, inside_a_transaction: bool
) -> None:
    # Defaults are written by PostgreSQL (pg_get_expr); row estimates are float8 (reltuples).
    expected = _analyzed_table_schema()
    with session_settings(PROFILES[profile]):
        own = _current(PROFILES[profile])
        if inside_a_transaction:
            with transaction.atomic():
                with CaptureQueriesContext(connection) as captured:
                    assert introspect("default").table(TABLE) == expected
                assert _current(PROFILES[profile]) == own  # the site's transaction: its own
        else:
            with CaptureQueriesContext(connection) as captured:
                assert introspect("default").table(TABLE) == expected
            assert connection.connection.info.transaction_status == 0  # idle: nothing left open
        assert _current(PROFILES[profile]) == own
    assert len(captured.captured_queries) == 3


@contextmanager
def _unguarded_table(django_db_blocker: Any) -> Iterator[None]:
    """The table, for a test that adds a database alias at run time (not a ``django_db`` test:
    pytest-django's per-test database guard would refuse the alias); dropped afterwards."""
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(CREATE)
            cursor.execute(f"INSERT INTO {TABLE} VALUES {ROWS}")
        try:
            yield
        finally:
            services.invalidate_catalog()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def test_the_catalog_is_the_default_sessions_with_server_side_binding(
    django_db_setup: None, django_db_blocker: Any
) -> None:
    """Where one message cannot carry several statements, the relations query is pinned in a
    rolled-back ``atomic`` block."""
    options = {
        **connections.settings["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "options": "-c DateStyle=German -c IntervalStyle=iso_8601 -c extra_float_digits=-15",
    }
    with _unguarded_table(django_db_blocker), extra_alias("ssb_styled", {"OPTIONS": options}):
        expected = _analyzed_table_schema()
        assert introspect("ssb_styled").table(TABLE) == expected
        with transaction.atomic(using="ssb_styled"):
            assert introspect("ssb_styled").table(TABLE) == expected
        with connections["ssb_styled"].cursor() as cursor:
            cursor.execute("SELECT current_setting('DateStyle')")
            assert cursor.fetchone()[0] == "German, DMY"


def test_a_site_whose_connection_options_set_other_styles(
    django_db_setup: None, django_db_blocker: Any
) -> None:
    """``OPTIONS: {"options": "-c DateStyle=... -c IntervalStyle=..."}`` on the analytics alias,
    through the HTTP API (not a ``django_db`` test: the alias is added at run time)."""
    styles = "-c DateStyle=German -c IntervalStyle=iso_8601 -c extra_float_digits=0"
    options = {**connections.settings["default"].get("OPTIONS", {}), "options": styles}
    with _unguarded_table(django_db_blocker):
        user = User.objects.create_user("styled")
        try:
            with extra_alias("styled", {"OPTIONS": options}) as alias:
                with connections[alias].cursor() as cursor:
                    cursor.execute("SHOW IntervalStyle")
                    assert cursor.fetchone()[0] == "iso_8601"
                client = APIClient()
                client.force_authenticate(user)
                prismiq = {"DATABASE": alias, "EXPOSED_TABLES": [TABLE], "RATE_LIMIT": None}
                with override_settings(PRISMIQ=prismiq):
                    services.invalidate_catalog()
                    for name in ("json path", "python path", "tz by month"):
                        response = client.post(
                            "/api/analytics/query/execute",
                            {"query": DEFINITIONS[name], "bypass_cache": True},
                            format="json",
                        )
                        assert response.status_code == 200, name
                        if name == "python path":
                            assert response.json()["rows"] == EXPECTED_PYTHON
                    response = client.get(f"/api/analytics/tables/{TABLE}/columns/span/values")
                    assert response.status_code == 200
                    assert response.json()["values"] == [
                        -4939506.0,
                        -86400.0,
                        36475506.5,
                        3155760000000000.0,
                    ]
        finally:
            user.delete()
